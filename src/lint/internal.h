/* What the linter's walker (walk.c) hands to its rules (rules.c): one
 * container's memory facts, read out of the YAML tree once, plus the
 * context that findings are recorded into. */
#ifndef OOMKIT_LINT_INTERNAL_H
#define OOMKIT_LINT_INTERNAL_H

#include <stdarg.h>
#include <yaml.h>

#include "lint/lint.h"
#include "oomkit/common.h"

/* One lint pass over one YAML document. */
struct oomkit__lint_ctx {
    const struct oomkit__lint_config *cfg;
    struct oomkit__lint_report *rep;
    const char *file;      /* owned by rep */
    yaml_document_t *doc;
    char object[192];      /* "Deployment/web" of the object being checked */
    yaml_node_t *annotations[2]; /* the object's and its pod template's */
    unsigned ignored;      /* bit r set: rule r silenced by annotation */
    int status;            /* 0, or the first -ENOMEM */
};

enum oomkit__lint_mem_state { OOMKIT__MEM_ABSENT = 0, OOMKIT__MEM_OK, OOMKIT__MEM_INVALID };

/* resources.requests.memory or resources.limits.memory. */
struct oomkit__lint_mem {
    yaml_node_t *node;  /* the value node, NULL when absent */
    enum oomkit__lint_mem_state state;
    uint64_t bytes;     /* valid when state is OK */
    int err;            /* why INVALID: a quantity_parse code, or 1 for
                         * a fractional byte count, 2 for a non-scalar */
};

/* The last definition of one environment variable (Kubernetes lets a
 * later entry of the same name override an earlier one). */
struct oomkit__lint_env {
    yaml_node_t *item;       /* the env entry, NULL when not defined */
    yaml_node_t *value;      /* its value scalar, or NULL */
    yaml_node_t *value_from; /* its valueFrom mapping, or NULL */
};

struct oomkit__lint_container {
    yaml_node_t *node;      /* the container mapping */
    oomkit_str name;
    bool init;
    yaml_node_t *resources; /* the resources mapping, or NULL */
    yaml_node_t *resources_key, *requests_key, *limits_key; /* key nodes, or NULL */
    struct oomkit__lint_mem request, limit;
    struct oomkit__lint_env gomemlimit, gogc, java_tool_options, jdk_java_options, java_opts,
        oomkit_prof;
    yaml_node_t *command, *args; /* sequences, or NULL */
    oomkit_str runtime;          /* "go", "jvm", ... from annotations */
};

/* Records a finding of rule at node `at` (the container when NULL) unless
 * the rule is disabled or silenced. message is printf-style; fix is one
 * line. Failure to allocate is remembered in ctx->status. */
void oomkit__lint_emit(struct oomkit__lint_ctx *ctx, const struct oomkit__lint_container *c,
                       enum oomkit__lint_rule rule, const yaml_node_t *at, const char *fix,
                       const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Runs every rule on one container. */
void oomkit__lint_check_container(struct oomkit__lint_ctx *ctx,
                                  const struct oomkit__lint_container *c);

/* Walks one loaded document: Lists, Pods, workload templates, containers. */
void oomkit__lint_walk_document(struct oomkit__lint_ctx *ctx);

/* Appends a finding with copies of the strings. 0 or -ENOMEM. */
int oomkit__lint_report_add(struct oomkit__lint_report *rep, const char *file, uint32_t line,
                            uint32_t column, enum oomkit__lint_rule rule,
                            enum oomkit__lint_severity sev, const char *message,
                            const char *fix, const char *object, const char *container);

/* The report's own copy of an input name (added on first use), or NULL. */
const char *oomkit__lint_report_file(struct oomkit__lint_report *rep, const char *name);

#endif
