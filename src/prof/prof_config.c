/* OOMKIT_PROF parsing: "sample=512k,dump=exit+signal,interval=30s,
 * out=/path/prefix,inuse=1g,signal=USR2,unwind=fp|dwarf,exec=follow,
 * lines=program|all".
 *
 * Sizes take k/m/g (binary) suffixes, durations ms/s/m; sample=all is exact
 * mode. A bad setting leaves that setting at its default and is reported
 * once by the caller; parsing never allocates (it runs inside malloc's
 * first call) and never stops at the first error. */
#include "prof/prof_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

void oomkit__prof_config_defaults(struct prof_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->sample_bytes = 512 * 1024;
    cfg->dump = PROF_DUMP_EXIT | PROF_DUMP_SIGNAL;
    cfg->signal = SIGUSR2;
    cfg->unwind = PROF_UNWIND_LIBUNWIND;
    strcpy(cfg->out, "oomkit-prof");
}

static bool eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static bool parse_u64(const char *s, size_t n, uint64_t *out, const char *const *units,
                      const uint64_t *mult)
{
    if (n == 0 || n > 30)
        return false;
    char buf[32];
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (end == buf || errno != 0 || buf[0] == '-')
        return false;
    uint64_t m = mult[0]; /* first entry: no suffix */
    if (*end != '\0') {
        bool found = false;
        for (size_t i = 1; units[i] != NULL; i++) {
            if (strcasecmp(end, units[i]) == 0) {
                m = mult[i];
                found = true;
                break;
            }
        }
        if (!found)
            return false;
    }
    if (v != 0 && m > UINT64_MAX / v)
        return false;
    *out = v * m;
    return true;
}

static const char *const size_units[] = { "", "k", "m", "g", "kb", "mb", "gb", "kib", "mib", "gib", NULL };
static const uint64_t size_mult[] = { 1, 1ull << 10, 1ull << 20, 1ull << 30,
                                      1ull << 10, 1ull << 20, 1ull << 30,
                                      1ull << 10, 1ull << 20, 1ull << 30 };
static const char *const time_units[] = { "", "ms", "s", "m", NULL };
static const uint64_t time_mult[] = { 1000, 1, 1000, 60000 };

static int parse_signal(const char *s, size_t n)
{
    static const struct { const char *name; int sig; } sigs[] = {
        { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "SIGUSR1", SIGUSR1 },
        { "SIGUSR2", SIGUSR2 }, { "PROF", SIGPROF }, { "SIGPROF", SIGPROF },
        { "HUP", SIGHUP }, { "SIGHUP", SIGHUP }, { "WINCH", SIGWINCH }, { "SIGWINCH", SIGWINCH },
    };
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (eq(s, n, sigs[i].name))
            return sigs[i].sig;
    uint64_t v;
    static const char *const none[] = { "", NULL };
    static const uint64_t one[] = { 1 };
    if (parse_u64(s, n, &v, none, one) && v > 0 && v < 65 && v != SIGKILL && v != SIGSTOP)
        return (int)v;
    return 0;
}

static bool parse_dump(const char *s, size_t n, unsigned *out)
{
    unsigned d = 0;
    while (n > 0) {
        const char *plus = memchr(s, '+', n);
        size_t k = plus ? (size_t)(plus - s) : n;
        if (eq(s, k, "exit"))
            d |= PROF_DUMP_EXIT;
        else if (eq(s, k, "signal"))
            d |= PROF_DUMP_SIGNAL;
        else if (eq(s, k, "interval"))
            d |= PROF_DUMP_INTERVAL;
        else if (eq(s, k, "inuse"))
            d |= PROF_DUMP_INUSE;
        else if (eq(s, k, "none"))
            d |= 0;
        else
            return false;
        s += k + (plus ? 1 : 0);
        n -= k + (plus ? 1 : 0);
    }
    *out = d;
    return true;
}

int oomkit__prof_config_parse(const char *s, struct prof_config *cfg, const char **bad)
{
    oomkit__prof_config_defaults(cfg);
    *bad = NULL;
    if (s == NULL)
        return 0;
    while (*s != '\0') {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        const char *eqs = memchr(s, '=', len);
        bool ok = eqs != NULL;
        if (ok) {
            size_t kl = (size_t)(eqs - s);
            const char *v = eqs + 1;
            size_t vl = len - kl - 1;
            uint64_t x;
            if (eq(s, kl, "sample")) {
                if (eq(v, vl, "all"))
                    cfg->sample_bytes = 1;
                else if ((ok = parse_u64(v, vl, &x, size_units, size_mult) && x > 0))
                    cfg->sample_bytes = x;
            } else if (eq(s, kl, "dump")) {
                ok = parse_dump(v, vl, &cfg->dump);
            } else if (eq(s, kl, "interval")) {
                if ((ok = parse_u64(v, vl, &x, time_units, time_mult) && x > 0))
                    cfg->interval_ms = x;
            } else if (eq(s, kl, "inuse")) {
                if ((ok = parse_u64(v, vl, &x, size_units, size_mult) && x > 0))
                    cfg->inuse_bytes = x;
            } else if (eq(s, kl, "signal")) {
                int sig = parse_signal(v, vl);
                if ((ok = sig != 0))
                    cfg->signal = sig;
            } else if (eq(s, kl, "out")) {
                if ((ok = vl > 0 && vl < sizeof(cfg->out))) {
                    memcpy(cfg->out, v, vl);
                    cfg->out[vl] = '\0';
                }
            } else if (eq(s, kl, "unwind")) {
                if (eq(v, vl, "fp"))
                    cfg->unwind = PROF_UNWIND_FP;
                else if (eq(v, vl, "dwarf") || eq(v, vl, "libunwind"))
                    cfg->unwind = PROF_UNWIND_LIBUNWIND;
                else
                    ok = false;
            } else if (eq(s, kl, "lines")) {
                if (eq(v, vl, "all"))
                    cfg->lines_all = true;
                else if (eq(v, vl, "program"))
                    cfg->lines_all = false;
                else
                    ok = false;
            } else if (eq(s, kl, "exec")) {
                if (eq(v, vl, "follow"))
                    cfg->follow_exec = true;
                else if (eq(v, vl, "stop"))
                    cfg->follow_exec = false;
                else
                    ok = false;
            } else {
                ok = false;
            }
        }
        if (!ok && *bad == NULL)
            *bad = s;
        s += len + (comma ? 1 : 0);
    }
    /* Giving interval= or inuse= implies that kind of dump. */
    if (cfg->interval_ms != 0)
        cfg->dump |= PROF_DUMP_INTERVAL;
    if (cfg->inuse_bytes != 0)
        cfg->dump |= PROF_DUMP_INUSE;
    if ((cfg->dump & PROF_DUMP_INTERVAL) && cfg->interval_ms == 0)
        cfg->interval_ms = 30000;
    if ((cfg->dump & PROF_DUMP_INUSE) && cfg->inuse_bytes == 0)
        cfg->inuse_bytes = 1ull << 30;
    return *bad ? -EINVAL : 0;
}
