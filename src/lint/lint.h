/* The Kubernetes manifest linter behind `oomkit lint`: its configuration,
 * its findings, and the entry points the CLI and the tests call.
 *
 * The linter is CLI-only code (it links libyaml and json-c, which liboomkit
 * must not depend on), so its names are internal: oomkit__lint_*. A run
 * looks like this:
 *
 *   struct oomkit__lint_config cfg;    oomkit__lint_config_default(&cfg);
 *   oomkit__lint_config_load(&cfg, ...)            optional YAML config file
 *   struct oomkit__lint_report *rep = oomkit__lint_report_new();
 *   oomkit__lint_buffer(&cfg, rep, "deploy.yaml", bytes, len);   per input
 *   oomkit__lint_report_sort(rep);
 *   oomkit__lint_write_text / _json / _sarif(out, &cfg, rep);
 *   oomkit__lint_report_free(rep);
 *
 * Parsing lives in walk.c (documents, objects, pod templates, containers),
 * the checks in rules.c, quantity grammars in quantity.c, the config file in
 * config.c and the three output formats in report.c. */
#ifndef OOMKIT_LINT_LINT_H
#define OOMKIT_LINT_LINT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum oomkit__lint_severity {
    OOMKIT__LINT_INFO = 0,
    OOMKIT__LINT_WARNING = 1,
    OOMKIT__LINT_ERROR = 2,
};

enum oomkit__lint_rule {
    OOMKIT__RULE_REQUEST_MISSING = 0,
    OOMKIT__RULE_LIMIT_MISSING,
    OOMKIT__RULE_RATIO,
    OOMKIT__RULE_QUANTITY,
    OOMKIT__RULE_GO_MEMLIMIT,
    OOMKIT__RULE_JVM_CAPS,
    OOMKIT__RULE_PROF_THRESHOLD,
    OOMKIT__RULE_COUNT
};

/* A non-negative rational number, kept exact so that "1.3" compares exactly
 * against integer byte counts. den is never 0. */
struct oomkit__lint_ratio {
    uint64_t num;
    uint64_t den;
};

struct oomkit__lint_rule_config {
    bool enabled;
    enum oomkit__lint_severity severity;
    /* memory-limit-request-ratio: the largest allowed limit/request.
     * go-memlimit, jvm-memory-caps, oomkit-prof-threshold: the share of the
     * limit, in percent, the runtime cap may reach. Unused elsewhere. */
    struct oomkit__lint_ratio param;
};

struct oomkit__lint_config {
    struct oomkit__lint_rule_config rule[OOMKIT__RULE_COUNT];
};

/* Static facts about each rule, indexed by enum oomkit__lint_rule. */
struct oomkit__lint_rule_info {
    const char *id;          /* "memory-limit-missing" */
    const char *summary;     /* one sentence: what it checks */
    const char *help;        /* one sentence: how to satisfy it */
    const char *param_name;  /* "max-ratio", "max-percent" or NULL */
};
extern const struct oomkit__lint_rule_info oomkit__lint_rules[OOMKIT__RULE_COUNT];

/* The rule whose id is the len bytes at id (borrowed), or -1.
 * Thread safety: reentrant. */
int oomkit__lint_rule_by_id(const char *id, size_t len);
/* "info", "warning", "error": a static string. Thread safety: reentrant. */
const char *oomkit__lint_severity_name(enum oomkit__lint_severity s);
/* Parses "info" | "warning" | "error" (len bytes at s, borrowed) into *out;
 * 0, or -EINVAL with *out unchanged. Thread safety: reentrant. */
int oomkit__lint_severity_parse(const char *s, size_t len, enum oomkit__lint_severity *out);

/* Fills cfg with the documented defaults (every rule on, ratio 1.3,
 * GOMEMLIMIT 90 %, JVM and profiler 100 %). Thread safety: reentrant. */
void oomkit__lint_config_default(struct oomkit__lint_config *cfg);

/* Applies a YAML config file (see docs/lint.md) on top of cfg. buf is
 * borrowed for the call. On failure returns -EINVAL, leaves cfg partly
 * updated, and writes "LINE:COL: reason" (1-based; 0:0 when no position
 * applies) into err. Thread safety: reentrant. */
int oomkit__lint_config_load(struct oomkit__lint_config *cfg, const char *buf, size_t len,
                             char *err, size_t err_size);

/* One finding. All strings are owned by the report that holds it. */
struct oomkit__lint_finding {
    const char *file;
    uint32_t line;    /* 1-based */
    uint32_t column;  /* 1-based */
    enum oomkit__lint_rule rule;
    enum oomkit__lint_severity severity;
    const char *message;   /* what is wrong, one line */
    const char *fix;       /* how to fix it, one line */
    const char *object;    /* "Deployment/web" or "" */
    const char *container; /* container name or "" */
    size_t file_no;        /* index of file in the report's inputs */
    size_t seq;            /* insertion order, keeps sorting stable */
};

/* One input that could not be read or parsed. line/column are 0 when the
 * problem has no position (a missing file). */
struct oomkit__lint_error {
    const char *file;
    uint32_t line;
    uint32_t column;
    const char *message;
};

struct oomkit__lint_report {
    struct oomkit__lint_finding *findings;
    size_t n_findings, cap_findings;
    struct oomkit__lint_error *errors;
    size_t n_errors, cap_errors;
    char **files; /* every input name seen, owned, also those not read */
    size_t n_files, cap_files;
    size_t n_inputs; /* inputs read and parsed (up to a YAML error) */
    size_t n_documents;
    size_t n_objects;    /* Pods and workloads */
    size_t n_containers; /* containers and init containers checked */
};

/* A new empty report, or NULL when out of memory. The caller owns it and
 * frees it, with every string its findings point to, through
 * oomkit__lint_report_free (NULL is accepted). Thread safety: reentrant;
 * one report is used by one thread at a time. */
struct oomkit__lint_report *oomkit__lint_report_new(void);
void oomkit__lint_report_free(struct oomkit__lint_report *rep);

/* Lints one input: a YAML stream of any number of documents. name labels
 * findings (copied into rep); buf is borrowed for the call and need not be
 * NUL-terminated. Findings of the documents read before a YAML error are
 * kept. Returns 0; -EINVAL when the stream is not valid YAML or is refused
 * (nested deeper than 512, an alias bomb, a recursive alias): an error
 * entry with the line of the problem was added to rep; -ENOMEM.
 * Thread safety: reentrant; rep must not be shared between threads. */
int oomkit__lint_buffer(const struct oomkit__lint_config *cfg, struct oomkit__lint_report *rep,
                        const char *name, const char *buf, size_t len);

/* Records an input that could not be read (a missing file, an I/O error).
 * name and message are copied. Returns 0, or -ENOMEM with rep unchanged
 * apart from possibly a new input name. Thread safety: as
 * oomkit__lint_buffer. */
int oomkit__lint_report_error(struct oomkit__lint_report *rep, const char *name, uint32_t line,
                              uint32_t column, const char *message);

/* Orders findings by input, line, column, rule (then insertion order), so
 * output is stable. Thread safety: as oomkit__lint_buffer. */
void oomkit__lint_report_sort(struct oomkit__lint_report *rep);

/* The highest severity among the findings, or -1 when there are none.
 * Thread safety: reentrant for a report no thread is changing. */
int oomkit__lint_report_max_severity(const struct oomkit__lint_report *rep);

/* The three output formats: write cfg's rule settings (SARIF only) and
 * rep's findings and input errors to out (borrowed; not closed). Return 0,
 * -ENOMEM, or -EIO when out reports an error; output may then be partial.
 * Thread safety: reentrant for a report no thread is changing. */
int oomkit__lint_write_text(FILE *out, const struct oomkit__lint_config *cfg,
                            const struct oomkit__lint_report *rep);
int oomkit__lint_write_json(FILE *out, const struct oomkit__lint_config *cfg,
                            const struct oomkit__lint_report *rep);
int oomkit__lint_write_sarif(FILE *out, const struct oomkit__lint_config *cfg,
                             const struct oomkit__lint_report *rep);

#endif
