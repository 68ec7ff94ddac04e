/* The linter's rules: each takes one container's memory facts (read by
 * walk.c) and records findings with a one-line fix.
 *
 * Comparisons run on exact integers: quantities are whole bytes, ratios
 * and percentages are rationals from the config, and products are taken in
 * 128 bits, so "limit at most 1.3x the request" is decided without
 * rounding. Runtime rules (Go, JVM, profiler) need a valid, non-zero memory
 * limit to compare against; without one, memory-limit-missing (or the
 * quantity or ratio rule) has already spoken. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lint/internal.h"
#include "lint/quantity.h"
#include "lint/ynode.h"

typedef unsigned __int128 u128;

#define MIB ((uint64_t)1 << 20)

void oomkit__lint_emit(struct oomkit__lint_ctx *ctx, const struct oomkit__lint_container *c,
                       enum oomkit__lint_rule rule, const yaml_node_t *at, const char *fix,
                       const char *fmt, ...)
{
    const struct oomkit__lint_rule_config *rc = &ctx->cfg->rule[rule];
    if (!rc->enabled || (ctx->ignored & (1u << rule)) != 0 || ctx->status != 0)
        return;
    char what[512], msg[900], name[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(name, sizeof(name), "%.*s", (int)(c->name.len > 120 ? 120 : c->name.len),
             c->name.ptr ? c->name.ptr : "");
    snprintf(msg, sizeof(msg), "%scontainer \"%s\" in %s: %s", c->init ? "init " : "", name,
             ctx->object, what);
    const yaml_node_t *node = at != NULL ? at : c->node;
    int err = oomkit__lint_report_add(ctx->rep, ctx->file, oomkit__ynode_line(node),
                                      oomkit__ynode_column(node), rule, rc->severity, msg, fix,
                                      ctx->object, name);
    if (err != 0)
        ctx->status = err;
}

/* "a/b" as a percentage with one decimal: "92.5". */
static char *percent(uint64_t a, uint64_t b, char *buf, size_t size)
{
    u128 tenths = b ? ((u128)a * 1000 + b / 2) / b : 0;
    uint64_t t = tenths > UINT64_MAX ? UINT64_MAX : (uint64_t)tenths;
    if (t % 10 == 0)
        snprintf(buf, size, "%" PRIu64, t / 10);
    else
        snprintf(buf, size, "%" PRIu64 ".%" PRIu64, t / 10, t % 10);
    return buf;
}

/* floor(limit * share%), the largest a runtime cap may be. */
static uint64_t budget_of(uint64_t limit, struct oomkit__lint_ratio share)
{
    return oomkit__lint_scale_floor(limit, share, 100);
}

/* A Go value ("921MiB") at or below bytes, in whole MiB when possible. */
static char *go_bytes(uint64_t bytes, char *buf, size_t size)
{
    if (bytes >= MIB)
        snprintf(buf, size, "%" PRIu64 "MiB", bytes / MIB);
    else
        snprintf(buf, size, "%" PRIu64 "B", bytes);
    return buf;
}

/* A JVM size ("768m") at or below bytes. */
static char *jvm_bytes(uint64_t bytes, char *buf, size_t size)
{
    if (bytes >= MIB)
        snprintf(buf, size, "%" PRIu64 "m", bytes / MIB);
    else
        snprintf(buf, size, "%" PRIu64, bytes);
    return buf;
}

static char *q(uint64_t bytes, char *buf, size_t size)
{
    return oomkit__lint_format_bytes(bytes, buf, size);
}

/* ---- memory-quantity-invalid ------------------------------------------ */

/* Suggests a corrected spelling for common mistakes: "512MB" -> "512M",
 * "1gi" -> "1Gi", "2GiB" -> "2Gi". Empty when nothing obvious fits. */
static void suggest_quantity(oomkit_str s, char *buf, size_t size)
{
    buf[0] = '\0';
    if (s.len == 0 || s.len > 40)
        return;
    char t[48];
    size_t n = s.len;
    memcpy(t, s.ptr, n);
    if (n > 1 && (t[n - 1] == 'B' || t[n - 1] == 'b'))
        n--;
    t[n] = '\0';
    size_t i = 0;
    while (i < n && (isdigit((unsigned char)t[i]) || t[i] == '.'))
        i++;
    if (i < n && i > 0)
        t[i] = (char)toupper((unsigned char)t[i]);
    if (i + 1 < n && t[i + 1] == 'I')
        t[i + 1] = 'i';
    if (i < n && t[i] == 'K' && i + 1 == n)
        t[i] = 'k'; /* decimal kilo is the only lower-case decimal suffix */
    uint64_t bytes;
    bool whole;
    if (oomkit__lint_quantity_parse(t, n, &bytes, &whole) == 0 && whole)
        snprintf(buf, size, "%s", t);
}

static void check_quantity(struct oomkit__lint_ctx *ctx, const struct oomkit__lint_container *c,
                           const struct oomkit__lint_mem *m, const char *which)
{
    if (m->state != OOMKIT__MEM_INVALID)
        return;
    oomkit_str s = oomkit__ynode_str(m->node);
    int n = (int)(s.len > 60 ? 60 : s.len);
    const char *p = s.ptr ? s.ptr : "";
    char fix[256], sug[48], b[32];
    switch (m->err) {
    case 2:
        oomkit__lint_emit(ctx, c, OOMKIT__RULE_QUANTITY, m->node,
                          "write a quantity such as 512Mi or 1Gi",
                          "memory %s is a %s, not a quantity", which,
                          m->node->type == YAML_MAPPING_NODE ? "mapping" : "sequence");
        return;
    case 1: {
        bool milli = s.len > 0 && p[s.len - 1] == 'm';
        if (milli)
            snprintf(fix, sizeof(fix),
                     "the m suffix means thousandths of a byte: write %.*sMi for mebibytes",
                     (int)(s.len - 1 > 40 ? 40 : s.len - 1), p);
        else
            snprintf(fix, sizeof(fix), "write a whole number of bytes, such as %s",
                     q(m->bytes, b, sizeof(b)));
        oomkit__lint_emit(ctx, c, OOMKIT__RULE_QUANTITY, m->node, fix,
                          "memory %s \"%.*s\" is not a whole number of bytes "
                          "(Kubernetes rounds it up to %" PRIu64 ")",
                          which, n, p, m->bytes);
        return;
    }
    case -EDOM:
        oomkit__lint_emit(ctx, c, OOMKIT__RULE_QUANTITY, m->node,
                          "memory quantities must not be negative; write a positive size",
                          "memory %s \"%.*s\" is negative", which, n, p);
        return;
    case -ERANGE:
        oomkit__lint_emit(ctx, c, OOMKIT__RULE_QUANTITY, m->node,
                          "write a size below 8Ei with at most 38 significant digits",
                          "memory %s \"%.*s\" is out of range", which, n, p);
        return;
    default:
        suggest_quantity(s, sug, sizeof(sug));
        if (sug[0] != '\0')
            snprintf(fix, sizeof(fix), "write \"%s\" (units: Ki Mi Gi Ti Pi Ei, or k M G T P E)",
                     sug);
        else
            snprintf(fix, sizeof(fix),
                     "write a number with a unit such as 512Mi or 1Gi "
                     "(Ki Mi Gi Ti Pi Ei binary, k M G T P E decimal)");
        oomkit__lint_emit(ctx, c, OOMKIT__RULE_QUANTITY, m->node, fix,
                          "memory %s \"%.*s\" is not a Kubernetes quantity", which, n, p);
        return;
    }
}

/* ---- presence and ratio -------------------------------------------------- */

/* Kubernetes reads a zero memory limit as no limit at all. */
static bool has_limit(const struct oomkit__lint_container *c)
{
    return c->limit.state == OOMKIT__MEM_OK && c->limit.bytes > 0;
}

static void check_presence(struct oomkit__lint_ctx *ctx, const struct oomkit__lint_container *c)
{
    const struct oomkit__lint_ratio ratio = ctx->cfg->rule[OOMKIT__RULE_RATIO].param;
    char fix[256], b[32], rs[32];
    oomkit__lint_format_ratio(ratio, rs, sizeof(rs));
    if (c->request.state == OOMKIT__MEM_ABSENT) {
        const yaml_node_t *at = c->requests_key ? c->requests_key : c->resources_key;
        if (has_limit(c) && ratio.num != 0)
            snprintf(fix, sizeof(fix),
                     "add resources.requests.memory of at least %s (limit / %s)",
                     oomkit__lint_format_bytes_mib(
                         oomkit__lint_unscale_ceil(c->limit.bytes, ratio, 1), true, b, sizeof(b)),
                     rs);
        else
            snprintf(fix, sizeof(fix),
                     "add resources.requests.memory sized to the container's working set");
        oomkit__lint_emit(ctx, c, OOMKIT__RULE_REQUEST_MISSING, at, fix,
                          "no memory request (resources.requests.memory)");
    }
    if (c->limit.state == OOMKIT__MEM_ABSENT) {
        const yaml_node_t *at = c->limits_key ? c->limits_key : c->resources_key;
        if (c->request.state == OOMKIT__MEM_OK && c->request.bytes > 0)
            snprintf(fix, sizeof(fix), "add resources.limits.memory of at most %s (request x %s)",
                     oomkit__lint_format_bytes_mib(
                         oomkit__lint_scale_floor(c->request.bytes, ratio, 1), false, b, sizeof(b)),
                     rs);
        else
            snprintf(fix, sizeof(fix), "add resources.limits.memory so the container cannot "
                                       "grow into the node's memory");
        oomkit__lint_emit(ctx, c, OOMKIT__RULE_LIMIT_MISSING, at, fix,
                          "no memory limit (resources.limits.memory)");
    }
    /* With a request above it, the ratio rule reports the rejected pair. */
    bool request_above = c->request.state == OOMKIT__MEM_OK && c->request.bytes > 0;
    if (c->limit.state == OOMKIT__MEM_OK && c->limit.bytes == 0 && !request_above)
        oomkit__lint_emit(ctx, c, OOMKIT__RULE_LIMIT_MISSING, c->limit.node,
                          "set resources.limits.memory to the most the container may use, "
                          "such as 512Mi",
                          "memory limit 0 means no limit: the container can grow into the "
                          "node's memory");
}

static void check_ratio(struct oomkit__lint_ctx *ctx, const struct oomkit__lint_container *c)
{
    if (c->request.state != OOMKIT__MEM_OK || c->limit.state != OOMKIT__MEM_OK)
        return;
    const struct oomkit__lint_ratio ratio = ctx->cfg->rule[OOMKIT__RULE_RATIO].param;
    uint64_t req = c->request.bytes, lim = c->limit.bytes;
    char bl[32], br[32], bx[32], by[32], fix[256];
    (void)bl;
    if (lim < req) {
        snprintf(fix, sizeof(fix), "raise resources.limits.memory to at least %s",
                 q(req, br, sizeof(br)));
        oomkit__lint_emit(ctx, c, OOMKIT__RULE_RATIO, c->limit.node, fix,
                          "memory limit %s is below the request %s; the API server rejects this",
                          q(lim, bl, sizeof(bl)), q(req, br, sizeof(br)));
        return;
    }
    if (!oomkit__lint_exceeds(lim, req, ratio, 1))
        return;
    char rs[32], want[32];
    oomkit__lint_format_ratio(ratio, want, sizeof(want));
    snprintf(fix, sizeof(fix),
             "raise resources.requests.memory to at least %s or lower resources.limits.memory "
             "to at most %s",
             oomkit__lint_format_bytes_mib(ratio.num ? oomkit__lint_unscale_ceil(lim, ratio, 1)
                                                     : lim,
                                           true, bx, sizeof(bx)),
             oomkit__lint_format_bytes_mib(oomkit__lint_scale_floor(req, ratio, 1), false, by,
                                           sizeof(by)));
    oomkit_str ls = oomkit__ynode_str(c->limit.node), qs = oomkit__ynode_str(c->request.node);
    int ln = (int)(ls.len > 40 ? 40 : ls.len), qn = (int)(qs.len > 40 ? 40 : qs.len);
    if (req == 0) {
        oomkit__lint_emit(ctx, c, OOMKIT__RULE_RATIO, c->limit.node, fix,
                          "memory request is 0 while the limit is %.*s (allowed: limit at most "
                          "%sx the request)",
                          ln, ls.ptr, want);
        return;
    }
    /* Two decimals can round 1.300000001 down to the bound itself. */
    oomkit__lint_format_ratio((struct oomkit__lint_ratio){ lim, req }, rs, sizeof(rs));
    oomkit__lint_emit(ctx, c, OOMKIT__RULE_RATIO, c->limit.node, fix,
                      "memory limit %.*s is %s%sx the request %.*s (allowed: at most %sx)", ln,
                      ls.ptr, strcmp(rs, want) == 0 ? "just over " : "", rs, qn, qs.ptr, want);
}

/* ---- go-memlimit ------------------------------------------------------- */

static bool runtime_is(oomkit_str rt, const char *a, const char *b)
{
    return rt.ptr != NULL &&
           ((rt.len == strlen(a) && strncasecmp(rt.ptr, a, rt.len) == 0) ||
            (rt.len == strlen(b) && strncasecmp(rt.ptr, b, rt.len) == 0));
}

static void check_go(struct oomkit__lint_ctx *ctx, const struct oomkit__lint_container *c)
{
    bool is_go = runtime_is(c->runtime, "go", "golang") || c->gomemlimit.item != NULL ||
                 c->gogc.item != NULL;
    if (!is_go || !has_limit(c))
        return;
    const struct oomkit__lint_ratio share = ctx->cfg->rule[OOMKIT__RULE_GO_MEMLIMIT].param;
    uint64_t lim = c->limit.bytes, budget = budget_of(lim, share);
    char fix[256], bg[32], bl[32], bv[32], pct[32], want[32];
    oomkit__lint_format_ratio(share, want, sizeof(want));
    snprintf(fix, sizeof(fix), "set env GOMEMLIMIT=%s (%s%% of the %s limit)",
             go_bytes(budget, bg, sizeof(bg)), want, q(lim, bl, sizeof(bl)));
    const struct oomkit__lint_env *e = &c->gomemlimit;
    if (e->item == NULL) {
        oomkit__lint_emit(ctx, c, OOMKIT__RULE_GO_MEMLIMIT, c->gogc.item, fix,
                          "Go container without GOMEMLIMIT: the Go GC ignores the %s limit",
                          q(lim, bl, sizeof(bl)));
        return;
    }
    uint64_t v;
    if (e->value != NULL) {
        oomkit_str s = oomkit__ynode_str(e->value);
        int n = (int)(s.len > 60 ? 60 : s.len);
        if (memchr(s.ptr, '$', s.len) != NULL)
            return; /* a $(VAR) reference Kubernetes expands: not visible here */
        if (s.len == 0) {
            /* Go reads an empty GOMEMLIMIT as unset. */
            oomkit__lint_emit(ctx, c, OOMKIT__RULE_GO_MEMLIMIT, e->value, fix,
                              "GOMEMLIMIT is empty, which Go treats as unset: the Go GC ignores "
                              "the %s limit",
                              q(lim, bl, sizeof(bl)));
            return;
        }
        if (s.len == 3 && memcmp(s.ptr, "off", 3) == 0) {
            oomkit__lint_emit(ctx, c, OOMKIT__RULE_GO_MEMLIMIT, e->value, fix,
                              "GOMEMLIMIT=off: the Go GC ignores the %s limit",
                              q(lim, bl, sizeof(bl)));
            return;
        }
        if (oomkit__lint_go_bytes_parse(s.ptr, s.len, &v) != 0) {
            oomkit__lint_emit(ctx, c, OOMKIT__RULE_GO_MEMLIMIT, e->value, fix,
                              "GOMEMLIMIT \"%.*s\" is not a Go byte count (digits then B, KiB, "
                              "MiB, GiB or TiB); the Go runtime refuses to start",
                              n, s.ptr ? s.ptr : "");
            return;
        }
        /* A bare number is bytes to Go; under 1 % of the limit it is
         * almost surely meant in MiB (GOMEMLIMIT=900 for 900MiB), and the
         * GC would run continuously. */
        if (s.ptr[s.len - 1] >= '0' && s.ptr[s.len - 1] <= '9' && (u128)v * 100 < lim) {
            snprintf(fix, sizeof(fix), "write the unit: GOMEMLIMIT=%.*sMiB, or %s",
                     n, s.ptr, go_bytes(budget, bg, sizeof(bg)));
            oomkit__lint_emit(ctx, c, OOMKIT__RULE_GO_MEMLIMIT, e->value, fix,
                              "GOMEMLIMIT %.*s has no unit, so Go reads %" PRIu64 " bytes: under "
                              "1%% of the %s limit, the GC would run continuously",
                              n, s.ptr, v, q(lim, bl, sizeof(bl)));
            return;
        }
    } else if (e->value_from != NULL) {
        /* resourceFieldRef hands the container ceil(resource / divisor) as
         * a bare number, which Go reads as bytes. */
        yaml_node_t *rf = oomkit__ynode_get(ctx->doc, e->value_from, "resourceFieldRef", NULL);
        if (rf == NULL)
            return; /* a ConfigMap or Secret: not visible here */
        yaml_node_t *res = oomkit__ynode_get(ctx->doc, rf, "resource", NULL);
        yaml_node_t *div = oomkit__ynode_get(ctx->doc, rf, "divisor", NULL);
        uint64_t base, divisor = 1;
        if (oomkit__ynode_eq(res, "limits.memory"))
            base = lim;
        else if (oomkit__ynode_eq(res, "requests.memory") && c->request.state == OOMKIT__MEM_OK)
            base = c->request.bytes;
        else
            return;
        if (!oomkit__ynode_is_null(div)) {
            oomkit_str ds = oomkit__ynode_str(div);
            bool whole;
            if (oomkit__lint_quantity_parse(ds.ptr, ds.len, &divisor, &whole) != 0 ||
                divisor == 0)
                return;
        }
        v = (base + divisor - 1) / divisor;
        if (divisor != 1) {
            oomkit__lint_emit(ctx, c, OOMKIT__RULE_GO_MEMLIMIT, e->value_from, fix,
                              "GOMEMLIMIT from resourceFieldRef with divisor %s is %" PRIu64
                              ", which Go reads as %" PRIu64 " bytes",
                              q(divisor, bv, sizeof(bv)), v, v);
            return;
        }
    } else {
        return;
    }
    if (v > budget) {
        snprintf(fix, sizeof(fix), "lower GOMEMLIMIT to at most %s",
                 go_bytes(budget, bg, sizeof(bg)));
        oomkit__lint_emit(ctx, c, OOMKIT__RULE_GO_MEMLIMIT,
                          e->value != NULL ? e->value : e->value_from, fix,
                          "GOMEMLIMIT %s is %s%% of the %s memory limit (allowed: at most %s%%)",
                          q(v, bv, sizeof(bv)), percent(v, lim, pct, sizeof(pct)),
                          q(lim, bl, sizeof(bl)), want);
    }
}

/* ---- jvm-memory-caps --------------------------------------------------- */

struct jvm_opts {
    bool detected;
    bool opaque;            /* options come from a ConfigMap/Secret we cannot see */
    bool heap_set, pct_set, direct_set;
    uint64_t heap_bytes, direct_bytes;
    struct oomkit__lint_ratio pct; /* MaxRAMPercentage */
    const yaml_node_t *heap_at, *pct_at, *direct_at, *first_at;
};

static bool prefix(const char *s, size_t n, const char *p, size_t *plen)
{
    size_t k = strlen(p);
    if (n < k || memcmp(s, p, k) != 0)
        return false;
    *plen = k;
    return true;
}

static void jvm_bad_size(struct oomkit__lint_ctx *ctx, const struct oomkit__lint_container *c,
                         const yaml_node_t *at, const char *tok, size_t n)
{
    oomkit__lint_emit(ctx, c, OOMKIT__RULE_JVM_CAPS, at,
                      "write sizes as digits with an optional k, m, g or t, e.g. -Xmx768m",
                      "JVM option \"%.*s\" has an invalid size; the JVM refuses to start",
                      (int)(n > 80 ? 80 : n), tok);
}

/* Reads one whitespace-separated word of JVM options. Later settings win,
 * as on the java command line; an explicit -Xmx / MaxHeapSize beats
 * MaxRAMPercentage whatever their order, as HotSpot does. */
static void jvm_token(struct oomkit__lint_ctx *ctx, const struct oomkit__lint_container *c,
                      struct jvm_opts *o, const yaml_node_t *at, const char *t, size_t n)
{
    /* Words from shell strings may keep their quotes. */
    while (n > 0 && (*t == '"' || *t == '\'')) {
        t++;
        n--;
    }
    while (n > 0 && (t[n - 1] == '"' || t[n - 1] == '\'' || t[n - 1] == ';'))
        n--;
    size_t k;
    uint64_t v;
    bool sized = prefix(t, n, "-Xmx", &k) || prefix(t, n, "-XX:MaxHeapSize=", &k) ||
                 prefix(t, n, "-XX:MaxDirectMemorySize=", &k) ||
                 prefix(t, n, "-XX:MaxRAMPercentage=", &k) || prefix(t, n, "-XX:MaxRAMFraction=", &k);
    if (sized && memchr(t, '$', n) != NULL) {
        /* -Xmx$(HEAP) or -Xmx${HEAP}: expanded by Kubernetes or a shell, so
         * the value is not visible here. */
        o->detected = true;
        o->opaque = true;
        return;
    }
    if (prefix(t, n, "-Xmx", &k) || prefix(t, n, "-XX:MaxHeapSize=", &k)) {
        o->detected = true;
        if (oomkit__lint_jvm_bytes_parse(t + k, n - k, &v) != 0) {
            jvm_bad_size(ctx, c, at, t, n);
            return;
        }
        o->heap_set = true;
        o->heap_bytes = v;
        o->heap_at = at;
    } else if (prefix(t, n, "-XX:MaxDirectMemorySize=", &k)) {
        o->detected = true;
        if (oomkit__lint_jvm_bytes_parse(t + k, n - k, &v) != 0) {
            jvm_bad_size(ctx, c, at, t, n);
            return;
        }
        o->direct_set = true;
        o->direct_bytes = v;
        o->direct_at = at;
    } else if (prefix(t, n, "-XX:MaxRAMPercentage=", &k)) {
        o->detected = true;
        struct oomkit__lint_ratio r;
        if (oomkit__lint_decimal_parse(t + k, n - k, &r) != 0) {
            jvm_bad_size(ctx, c, at, t, n);
            return;
        }
        o->pct_set = true;
        o->pct = r;
        o->pct_at = at;
    } else if (prefix(t, n, "-XX:MaxRAMFraction=", &k)) {
        o->detected = true;
        if (oomkit__lint_jvm_bytes_parse(t + k, n - k, &v) != 0 || v == 0) {
            jvm_bad_size(ctx, c, at, t, n);
            return;
        }
        o->pct_set = true;
        o->pct = (struct oomkit__lint_ratio){ 100, v };
        o->pct_at = at;
    } else {
        /* The launcher itself: "java" or ".../bin/java". */
        size_t base = n;
        while (base > 0 && t[base - 1] != '/')
            base--;
        if (n - base == 4 && memcmp(t + base, "java", 4) == 0)
            o->detected = true;
    }
}

static void jvm_string(struct oomkit__lint_ctx *ctx, const struct oomkit__lint_container *c,
                       struct jvm_opts *o, const yaml_node_t *node)
{
    oomkit_str s = oomkit__ynode_str(node);
    size_t i = 0;
    while (i < s.len) {
        while (i < s.len && isspace((unsigned char)s.ptr[i]))
            i++;
        size_t start = i;
        while (i < s.len && !isspace((unsigned char)s.ptr[i]))
            i++;
        if (i > start)
            jvm_token(ctx, c, o, node, s.ptr + start, i - start);
    }
}

static void jvm_env(struct oomkit__lint_ctx *ctx, const struct oomkit__lint_container *c,
                    struct jvm_opts *o, const struct oomkit__lint_env *e)
{
    if (e->item == NULL)
        return;
    o->detected = true;
    if (o->first_at == NULL)
        o->first_at = e->item;
    if (e->value != NULL)
        jvm_string(ctx, c, o, e->value);
    else if (e->value_from != NULL)
        o->opaque = true;
}

static void jvm_seq(struct oomkit__lint_ctx *ctx, const struct oomkit__lint_container *c,
                    struct jvm_opts *o, yaml_node_t *seq)
{
    if (seq == NULL)
        return;
    for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top;
         it++) {
        yaml_node_t *n = oomkit__ynode_at(ctx->doc, *it);
        bool was = o->detected;
        jvm_string(ctx, c, o, n);
        if (!was && o->detected && o->first_at == NULL)
            o->first_at = n;
    }
}

static void check_jvm(struct oomkit__lint_ctx *ctx, const struct oomkit__lint_container *c)
{
    struct jvm_opts o;
    memset(&o, 0, sizeof(o));
    o.detected = runtime_is(c->runtime, "jvm", "java");
    /* Order of application: the JVM reads JAVA_TOOL_OPTIONS first, the
     * launcher prepends JDK_JAVA_OPTIONS, scripts expand JAVA_OPTS into the
     * command line, and the command line comes last. */
    jvm_env(ctx, c, &o, &c->java_tool_options);
    jvm_env(ctx, c, &o, &c->jdk_java_options);
    jvm_env(ctx, c, &o, &c->java_opts);
    jvm_seq(ctx, c, &o, c->command);
    jvm_seq(ctx, c, &o, c->args);
    /* Options in a ConfigMap, a Secret or an unexpanded reference may hold
     * any cap: only invalid sizes (reported above) are certain. */
    if (!o.detected || o.opaque || !has_limit(c))
        return;

    const struct oomkit__lint_ratio share = ctx->cfg->rule[OOMKIT__RULE_JVM_CAPS].param;
    uint64_t lim = c->limit.bytes, budget = budget_of(lim, share);
    bool has_heap = o.heap_set || o.pct_set;
    uint64_t heap = o.heap_set ? o.heap_bytes
                   : o.pct_set ? oomkit__lint_scale_floor(lim, o.pct, 100)
                               : 0;
    const yaml_node_t *heap_at = o.heap_set ? o.heap_at : o.pct_at;
    char fix[256], b1[32], b2[32], b3[32], bl[32];

    if (!has_heap || !o.direct_set) {
        const yaml_node_t *at = heap_at ? heap_at : o.direct_at ? o.direct_at : o.first_at;
        if (!has_heap && !o.direct_set) {
            /* Heap at 60 % and direct memory at 25 % of the allowed share
             * leave 15 % for metaspace, threads and code cache. */
            uint64_t pct60 = share.num * 60 / (share.den * 100);
            snprintf(fix, sizeof(fix), "add -XX:MaxRAMPercentage=%" PRIu64
                                       " -XX:MaxDirectMemorySize=%s",
                     pct60 > 0 ? pct60 : 1, jvm_bytes(budget / 4, b1, sizeof(b1)));
            oomkit__lint_emit(ctx, c, OOMKIT__RULE_JVM_CAPS, at, fix,
                              "JVM caps neither heap (-Xmx or -XX:MaxRAMPercentage) nor direct "
                              "memory (-XX:MaxDirectMemorySize) under the %s limit",
                              q(lim, bl, sizeof(bl)));
        } else if (!has_heap) {
            if (o.direct_bytes < budget)
                snprintf(fix, sizeof(fix), "add -Xmx%s so heap + direct memory stays under %s",
                         jvm_bytes(budget - o.direct_bytes - 1, b1, sizeof(b1)),
                         q(budget, b2, sizeof(b2)));
            else
                snprintf(fix, sizeof(fix), "lower -XX:MaxDirectMemorySize, then add -Xmx");
            oomkit__lint_emit(ctx, c, OOMKIT__RULE_JVM_CAPS, at, fix,
                              "JVM heap is not capped (-Xmx or -XX:MaxRAMPercentage)");
        } else {
            if (heap < budget)
                snprintf(fix, sizeof(fix),
                         "add -XX:MaxDirectMemorySize=%s so heap + direct memory stays under %s",
                         jvm_bytes(budget - heap - 1, b1, sizeof(b1)), q(budget, b2, sizeof(b2)));
            else
                snprintf(fix, sizeof(fix), "lower the heap below %s, then add "
                                           "-XX:MaxDirectMemorySize",
                         q(budget, b2, sizeof(b2)));
            u128 twice = (u128)heap * 2;
            oomkit__lint_emit(ctx, c, OOMKIT__RULE_JVM_CAPS, at, fix,
                              "JVM direct memory is not capped: -XX:MaxDirectMemorySize defaults "
                              "to the heap size, so heap + direct can reach %s against a %s limit",
                              q(twice > INT64_MAX ? INT64_MAX : (uint64_t)twice, b3, sizeof(b3)),
                              q(lim, bl, sizeof(bl)));
        }
        return;
    }
    u128 sum = (u128)heap + o.direct_bytes;
    /* "Under" the budget: sum * 100 * den < limit * num, strictly. */
    if (sum * 100 * share.den < (u128)lim * share.num)
        return;
    uint64_t s64 = sum > INT64_MAX ? INT64_MAX : (uint64_t)sum;
    /* Either cap alone can make room, when the other leaves any: the fix
     * names the largest value of each that fits. (A direct cap of 0 would
     * mean "default" to HotSpot, so it is never suggested.) */
    bool heap_can = o.direct_bytes + MIB < budget, direct_can = heap + MIB < budget;
    if (heap_can && direct_can)
        snprintf(fix, sizeof(fix), "lower the heap to -Xmx%s or direct memory to "
                                   "-XX:MaxDirectMemorySize=%s",
                 jvm_bytes(budget - o.direct_bytes - 1, b1, sizeof(b1)),
                 jvm_bytes(budget - heap - 1, b2, sizeof(b2)));
    else if (heap_can)
        snprintf(fix, sizeof(fix), "lower the heap to -Xmx%s",
                 jvm_bytes(budget - o.direct_bytes - 1, b1, sizeof(b1)));
    else if (direct_can)
        snprintf(fix, sizeof(fix), "lower direct memory to -XX:MaxDirectMemorySize=%s",
                 jvm_bytes(budget - heap - 1, b2, sizeof(b2)));
    else
        snprintf(fix, sizeof(fix), "lower both heap and direct memory so their sum is under %s",
                 q(budget, b2, sizeof(b2)));
    char want[32];
    oomkit__lint_format_ratio(share, want, sizeof(want));
    /* A heap from MaxRAMPercentage is rarely a round number: show MiB. */
    oomkit__lint_emit(ctx, c, OOMKIT__RULE_JVM_CAPS, heap_at, fix,
                      "JVM heap %s%s + direct memory %s = %s%s is not under %s%% of the %s limit",
                      o.heap_set ? "" : "about ",
                      oomkit__lint_format_bytes_mib(heap, false, b1, sizeof(b1)),
                      q(o.direct_bytes, b2, sizeof(b2)),
                      o.heap_set ? "" : "about ",
                      oomkit__lint_format_bytes_mib(s64, false, b3, sizeof(b3)), want,
                      q(lim, bl, sizeof(bl)));
}

/* ---- oomkit-prof-threshold -------------------------------------------- */

/* Finds the in-use dump threshold in OOMKIT_PROF ("sample=512k,
 * dump=exit+inuse>=1GiB" or "inuse>=1GiB" as its own setting). */
static bool prof_threshold(oomkit_str s, oomkit_str *out)
{
    bool found = false;
    size_t i = 0;
    while (i < s.len) {
        size_t start = i;
        while (i < s.len && s.ptr[i] != ',' && s.ptr[i] != '+')
            i++;
        const char *w = s.ptr + start;
        size_t n = i - start, k;
        while (n > 0 && *w == ' ') {
            w++;
            n--;
        }
        while (n > 0 && w[n - 1] == ' ')
            n--;
        if (prefix(w, n, "dump=", &k)) {
            w += k;
            n -= k;
        }
        if (prefix(w, n, "inuse>=", &k) || prefix(w, n, "inuse=", &k) ||
            prefix(w, n, "threshold=", &k)) {
            *out = (oomkit_str){ w + k, n - k };
            found = true;
        }
        i++;
    }
    return found;
}

static void check_prof(struct oomkit__lint_ctx *ctx, const struct oomkit__lint_container *c)
{
    const struct oomkit__lint_env *e = &c->oomkit_prof;
    if (e->value == NULL || !has_limit(c))
        return;
    oomkit_str thr = { NULL, 0 };
    if (!prof_threshold(oomkit__ynode_str(e->value), &thr))
        return;
    const struct oomkit__lint_ratio share = ctx->cfg->rule[OOMKIT__RULE_PROF_THRESHOLD].param;
    uint64_t lim = c->limit.bytes, budget = budget_of(lim, share);
    char fix[256], b1[32], bl[32], want[32];
    oomkit__lint_format_ratio(share, want, sizeof(want));
    /* Suggest 80 % of the limit, or less when the share is smaller. */
    uint64_t sug = lim / 5 * 4;
    if (sug >= budget)
        sug = budget > 0 ? budget - 1 : 0;
    snprintf(fix, sizeof(fix), "set the threshold to inuse>=%s so the profile is written "
                               "before the OOM kill",
             go_bytes(sug, b1, sizeof(b1)));
    if (thr.ptr == NULL || memchr(thr.ptr, '$', thr.len) != NULL)
        return; /* a $(VAR) reference: not visible here */
    int n = (int)(thr.len > 40 ? 40 : thr.len);
    if (thr.len > 0 && thr.ptr[thr.len - 1] == '%') {
        struct oomkit__lint_ratio pct;
        if (oomkit__lint_decimal_parse(thr.ptr, thr.len - 1, &pct) != 0) {
            oomkit__lint_emit(ctx, c, OOMKIT__RULE_PROF_THRESHOLD, e->value, fix,
                              "OOMKIT_PROF threshold \"%.*s\" is not a size", n, thr.ptr);
            return;
        }
        /* pct >= share, exactly. */
        if ((u128)pct.num * share.den >= (u128)share.num * pct.den)
            oomkit__lint_emit(ctx, c, OOMKIT__RULE_PROF_THRESHOLD, e->value, fix,
                              "OOMKIT_PROF dumps at inuse>=%.*s, not below %s%% of the %s limit",
                              n, thr.ptr, want, q(lim, bl, sizeof(bl)));
        return;
    }
    uint64_t v;
    if (oomkit__lint_prof_bytes_parse(thr.ptr, thr.len, &v) != 0) {
        oomkit__lint_emit(ctx, c, OOMKIT__RULE_PROF_THRESHOLD, e->value, fix,
                          "OOMKIT_PROF threshold \"%.*s\" is not a size", n, thr.ptr);
        return;
    }
    if ((u128)v * 100 * share.den >= (u128)lim * share.num)
        oomkit__lint_emit(ctx, c, OOMKIT__RULE_PROF_THRESHOLD, e->value, fix,
                          "OOMKIT_PROF dumps at inuse>=%.*s, not below %s%% of the %s limit: the "
                          "OOM kill comes first",
                          n, thr.ptr, want, q(lim, bl, sizeof(bl)));
}

void oomkit__lint_check_container(struct oomkit__lint_ctx *ctx,
                                  const struct oomkit__lint_container *c)
{
    check_quantity(ctx, c, &c->request, "request");
    check_quantity(ctx, c, &c->limit, "limit");
    check_presence(ctx, c);
    check_ratio(ctx, c);
    check_go(ctx, c);
    check_jvm(ctx, c);
    check_prof(ctx, c);
}
