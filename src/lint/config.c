/* The linter's rule table, its defaults, and the YAML config file that
 * disables or re-tunes rules:
 *
 *   rules:
 *     memory-request-missing: off          # or: false, disabled
 *     memory-limit-request-ratio:
 *       severity: error                    # info | warning | error
 *       max-ratio: 1.5
 *     go-memlimit: { max-percent: 85 }
 *
 * Unknown rules and options are errors with their line, so a typo never
 * silently leaves a rule at its default. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "lint/lint.h"
#include "lint/quantity.h"
#include "lint/ynode.h"

const struct oomkit__lint_rule_info oomkit__lint_rules[OOMKIT__RULE_COUNT] = {
    [OOMKIT__RULE_REQUEST_MISSING] = {
        "memory-request-missing",
        "Every container and init container sets resources.requests.memory.",
        "Set resources.requests.memory to the container's steady working set.", NULL },
    [OOMKIT__RULE_LIMIT_MISSING] = {
        "memory-limit-missing",
        "Every container and init container sets resources.limits.memory.",
        "Set resources.limits.memory so the container fails inside its own budget.", NULL },
    [OOMKIT__RULE_RATIO] = {
        "memory-limit-request-ratio",
        "The memory limit is at most max-ratio (default 1.3) times the request, and not below it.",
        "Raise the request or lower the limit until limit/request is within max-ratio.",
        "max-ratio" },
    [OOMKIT__RULE_QUANTITY] = {
        "memory-quantity-invalid",
        "Memory requests and limits are valid Kubernetes quantities of whole bytes.",
        "Write quantities such as 512Mi, 1Gi, 1500M or 2e9 (units Ki Mi Gi Ti Pi Ei, k M G T P E).",
        NULL },
    [OOMKIT__RULE_GO_MEMLIMIT] = {
        "go-memlimit",
        "A Go container sets GOMEMLIMIT at or below max-percent (default 90) of its memory limit.",
        "Set env GOMEMLIMIT (B, KiB, MiB, GiB, TiB) to at most max-percent of the limit.",
        "max-percent" },
    [OOMKIT__RULE_JVM_CAPS] = {
        "jvm-memory-caps",
        "A JVM caps heap and direct memory, and their sum stays under max-percent (default 100) "
        "of the memory limit.",
        "Set -Xmx or -XX:MaxRAMPercentage and -XX:MaxDirectMemorySize so heap + direct fits.",
        "max-percent" },
    [OOMKIT__RULE_PROF_THRESHOLD] = {
        "oomkit-prof-threshold",
        "An OOMKIT_PROF in-use dump threshold sits below max-percent (default 100) of the limit.",
        "Lower the OOMKIT_PROF inuse>= threshold so the profile is written before the OOM kill.",
        "max-percent" },
};

int oomkit__lint_rule_by_id(const char *id, size_t len)
{
    for (int r = 0; r < OOMKIT__RULE_COUNT; r++) {
        if (strlen(oomkit__lint_rules[r].id) == len && memcmp(oomkit__lint_rules[r].id, id, len) == 0)
            return r;
    }
    return -1;
}

const char *oomkit__lint_severity_name(enum oomkit__lint_severity s)
{
    switch (s) {
    case OOMKIT__LINT_INFO: return "info";
    case OOMKIT__LINT_WARNING: return "warning";
    case OOMKIT__LINT_ERROR: return "error";
    }
    return "error";
}

int oomkit__lint_severity_parse(const char *s, size_t len, enum oomkit__lint_severity *out)
{
    static const enum oomkit__lint_severity all[] = { OOMKIT__LINT_INFO, OOMKIT__LINT_WARNING,
                                                      OOMKIT__LINT_ERROR };
    for (size_t i = 0; i < 3; i++) {
        const char *n = oomkit__lint_severity_name(all[i]);
        if (strlen(n) == len && memcmp(n, s, len) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return -EINVAL;
}

void oomkit__lint_config_default(struct oomkit__lint_config *cfg)
{
    static const enum oomkit__lint_severity sev[OOMKIT__RULE_COUNT] = {
        [OOMKIT__RULE_REQUEST_MISSING] = OOMKIT__LINT_WARNING,
        [OOMKIT__RULE_LIMIT_MISSING] = OOMKIT__LINT_ERROR,
        [OOMKIT__RULE_RATIO] = OOMKIT__LINT_WARNING,
        [OOMKIT__RULE_QUANTITY] = OOMKIT__LINT_ERROR,
        [OOMKIT__RULE_GO_MEMLIMIT] = OOMKIT__LINT_WARNING,
        [OOMKIT__RULE_JVM_CAPS] = OOMKIT__LINT_WARNING,
        [OOMKIT__RULE_PROF_THRESHOLD] = OOMKIT__LINT_WARNING,
    };
    for (int r = 0; r < OOMKIT__RULE_COUNT; r++) {
        cfg->rule[r].enabled = true;
        cfg->rule[r].severity = sev[r];
        cfg->rule[r].param = (struct oomkit__lint_ratio){ 100, 1 };
    }
    cfg->rule[OOMKIT__RULE_RATIO].param = (struct oomkit__lint_ratio){ 13, 10 };
    cfg->rule[OOMKIT__RULE_GO_MEMLIMIT].param = (struct oomkit__lint_ratio){ 90, 1 };
}

static int fail(char *err, size_t size, const yaml_node_t *at, const char *fmt, const char *what,
                size_t what_len)
{
    char msg[256];
    snprintf(msg, sizeof(msg), fmt, (int)(what_len > 80 ? 80 : what_len), what ? what : "");
    snprintf(err, size, "%u:%u: %s", oomkit__ynode_line(at), oomkit__ynode_column(at), msg);
    return -EINVAL;
}

static bool word_in(oomkit_str s, const char *const *words)
{
    for (; *words != NULL; words++) {
        if (s.len == strlen(*words) && memcmp(s.ptr, *words, s.len) == 0)
            return true;
    }
    return false;
}

static const char *const on_words[] = { "on", "true", "yes", "enabled", "On", "True", "Yes", NULL };
static const char *const off_words[] = { "off", "false", "no", "disabled", "Off", "False", "No",
                                         NULL };

static int apply_rule(yaml_document_t *doc, struct oomkit__lint_rule_config *rc,
                      const struct oomkit__lint_rule_info *info, yaml_node_t *v, char *err,
                      size_t size)
{
    if (v != NULL && v->type == YAML_SCALAR_NODE) {
        oomkit_str s = oomkit__ynode_str(v);
        if (word_in(s, on_words))
            rc->enabled = true;
        else if (word_in(s, off_words))
            rc->enabled = false;
        else if (oomkit__lint_severity_parse(s.ptr, s.len, &rc->severity) == 0)
            rc->enabled = true;
        else
            return fail(err, size, v,
                        "rule setting \"%.*s\" is not on, off or a severity (info, warning, error)",
                        s.ptr, s.len);
        return 0;
    }
    if (v == NULL || v->type != YAML_MAPPING_NODE)
        return fail(err, size, v, "a rule takes on, off, a severity or a mapping of options%.*s",
                    "", 0);
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *k = oomkit__ynode_at(doc, p->key), *val = oomkit__ynode_at(doc, p->value);
        oomkit_str ks = oomkit__ynode_str(k), vs = oomkit__ynode_str(val);
        if (ks.ptr == NULL)
            return fail(err, size, k, "option names must be plain strings%.*s", "", 0);
        if (vs.ptr == NULL)
            return fail(err, size, val, "option \"%.*s\" needs a single value", ks.ptr, ks.len);
        if (oomkit__ynode_eq(k, "enabled")) {
            if (word_in(vs, on_words))
                rc->enabled = true;
            else if (word_in(vs, off_words))
                rc->enabled = false;
            else
                return fail(err, size, val, "enabled must be true or false, not \"%.*s\"", vs.ptr,
                            vs.len);
        } else if (oomkit__ynode_eq(k, "severity")) {
            if (oomkit__lint_severity_parse(vs.ptr, vs.len, &rc->severity) != 0)
                return fail(err, size, val, "severity must be info, warning or error, not \"%.*s\"",
                            vs.ptr, vs.len);
        } else if (info->param_name != NULL && oomkit__ynode_eq(k, info->param_name)) {
            struct oomkit__lint_ratio r;
            if (oomkit__lint_decimal_parse(vs.ptr, vs.len, &r) != 0)
                return fail(err, size, val, "\"%.*s\" is not a decimal number", vs.ptr, vs.len);
            bool is_ratio = strcmp(info->param_name, "max-ratio") == 0;
            if (is_ratio && r.num < r.den)
                return fail(err, size, val, "max-ratio must be at least 1, not %.*s", vs.ptr,
                            vs.len);
            if (!is_ratio && (r.num == 0 || r.num > 100 * r.den))
                return fail(err, size, val, "max-percent must be above 0 and at most 100, not %.*s",
                            vs.ptr, vs.len);
            rc->param = r;
        } else {
            char fmt[200];
            snprintf(fmt, sizeof(fmt), "unknown option \"%%.*s\" for %s (options: enabled, "
                                       "severity%s%s)",
                     info->id, info->param_name ? ", " : "",
                     info->param_name ? info->param_name : "");
            return fail(err, size, k, fmt, ks.ptr, ks.len);
        }
    }
    return 0;
}

static int apply(yaml_document_t *doc, struct oomkit__lint_config *cfg, char *err, size_t size)
{
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (oomkit__ynode_is_null(root))
        return 0;
    if (root->type != YAML_MAPPING_NODE)
        return fail(err, size, root, "the config must be a mapping with a rules: key%.*s", "", 0);
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = oomkit__ynode_at(doc, p->key);
        if (!oomkit__ynode_eq(k, "rules")) {
            oomkit_str ks = oomkit__ynode_str(k);
            return fail(err, size, k, "unknown top-level key \"%.*s\" (expected rules)", ks.ptr,
                        ks.len);
        }
    }
    yaml_node_t *rules = oomkit__ynode_get(doc, root, "rules", NULL);
    if (oomkit__ynode_is_null(rules))
        return 0;
    if (rules->type != YAML_MAPPING_NODE)
        return fail(err, size, rules, "rules must be a mapping of rule ids%.*s", "", 0);
    for (yaml_node_pair_t *p = rules->data.mapping.pairs.start; p < rules->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = oomkit__ynode_at(doc, p->key);
        oomkit_str ks = oomkit__ynode_str(k);
        int r = ks.ptr ? oomkit__lint_rule_by_id(ks.ptr, ks.len) : -1;
        if (r < 0)
            return fail(err, size, k, "unknown rule \"%.*s\" (see oomkit lint --help)", ks.ptr,
                        ks.len);
        int rc = apply_rule(doc, &cfg->rule[r], &oomkit__lint_rules[r],
                            oomkit__ynode_at(doc, p->value), err, size);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int oomkit__lint_config_load(struct oomkit__lint_config *cfg, const char *buf, size_t len,
                             char *err, size_t err_size)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&parser)) {
        snprintf(err, err_size, "0:0: out of memory");
        return -ENOMEM;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    int rc = oomkit__ynode_load(&parser, &doc);
    if (rc < 0) {
        snprintf(err, err_size, "%u:%u: %s%s", (unsigned)parser.problem_mark.line + 1,
                 (unsigned)parser.problem_mark.column + 1, rc == -E2BIG ? "" : "invalid YAML: ",
                 parser.problem ? parser.problem : "unknown error");
        rc = rc == -ENOMEM ? -ENOMEM : -EINVAL;
    } else if (rc == 1) {
        rc = apply(&doc, cfg, err, err_size);
        yaml_document_delete(&doc);
    }
    yaml_parser_delete(&parser);
    return rc;
}
