/* Settings of `oomkit watch`: defaults, one-setting parser shared by the
 * command line and the config file, and the file reader. */
#include "watch/daemon.h"

#include "watch/capture.h"
#include "watch/exporter.h"
#include "watch/predict.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

void oomkit__watch_config_default(struct oomkit__watch_config *c)
{
    memset(c, 0, sizeof *c);
    c->interval_s = 1;
    snprintf(c->listen, sizeof c->listen, "%s", OOMKIT__EXPORTER_DEFAULT_ADDR);
    snprintf(c->capture_dir, sizeof c->capture_dir, "/var/lib/oomkit/captures");
    c->warn_ratio = 0.80;
    c->critical_ratio = 0.90;
    c->predict_s = 60;
    c->cooldown_s = 300;
    c->capture_max_bytes = 256u << 20;
    c->window = 60;
    c->max_targets = 256;
    c->user_stacks = 1;
    c->prof_wait_s = 2;
    c->discover_s = 5;
}

/* "1s", "250ms", "5m", "2h" or plain seconds. */
static int parse_duration(const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || errno || !(x >= 0) || !isfinite(x))
        return -EINVAL;
    if (strcmp(end, "ms") == 0)
        x /= 1000;
    else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
        x *= 60;
    else if (strcmp(end, "h") == 0)
        x *= 3600;
    else if (*end != '\0' && strcmp(end, "s") != 0)
        return -EINVAL;
    *out = x;
    return 0;
}

/* "80%" or "0.8". */
/* Parses a duration into *dst when it lies in [lo, hi]: 0, or -EINVAL
 * (and *dst unchanged). */
static int duration_in(const char *value, double lo, double hi, double *dst)
{
    double d;
    int rc = parse_duration(value, &d);
    if (rc == 0 && (d < lo || d > hi))
        rc = -EINVAL;
    if (rc == 0)
        *dst = d;
    return rc;
}

static int parse_ratio(const char *v, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || errno || !isfinite(x))
        return -EINVAL;
    if (strcmp(end, "%") == 0)
        x /= 100;
    else if (*end != '\0')
        return -EINVAL;
    if (!(x > 0 && x <= 1))
        return -EINVAL;
    *out = x;
    return 0;
}

/* "256M", "1G", "4096", "64k". */
static int parse_size(const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || errno || !(x >= 0) || !isfinite(x))
        return -EINVAL;
    double m = 1;
    switch (*end) {
    case 'k': case 'K': m = 1024; end++; break;
    case 'm': case 'M': m = 1024.0 * 1024; end++; break;
    case 'g': case 'G': m = 1024.0 * 1024 * 1024; end++; break;
    default: break;
    }
    if (*end == 'i' || *end == 'B')
        end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
    if (*end != '\0')
        return -EINVAL;
    *out = (uint64_t)(x * m);
    return 0;
}

static const struct {
    const char *key;
    int value;
} keys[] = {
    { "pid", 1 }, { "cgroup", 1 }, { "cgroups-under", 1 }, { "interval", 1 },
    { "listen", 1 }, { "alertmanager", 1 }, { "capture-dir", 1 }, { "warn", 1 },
    { "critical", 1 }, { "predict", 1 }, { "cooldown", 1 }, { "buy-time", 0 },
    { "dry-run", 0 }, { "once", 0 }, { "duration", 1 }, { "capture-max", 1 },
    { "window", 1 }, { "max-targets", 1 }, { "root", 1 }, { "no-user-stacks", 0 },
    { "prof-wait", 1 }, { "print-metrics", 0 }, { "config", 1 }, { "discover-every", 1 },
};

int oomkit__watch_config_takes_value(const char *key)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i].key, key) == 0)
            return keys[i].value;
    return -1;
}

static int copy_str(char *dst, size_t cap, const char *v)
{
    if (strlen(v) >= cap)
        return -ENAMETOOLONG;
    snprintf(dst, cap, "%s", v);
    return 0;
}

/* A bare "80" is refused rather than read as 80%: "1" would then mean 1%
 * or 100% depending on the reader. */
static const char ratio_want[] =
    "a percentage like 80% or a fraction like 0.8, above 0 and at most 100%";
static const char duration_want[] = "a duration such as 30s, 250ms, 5m or 2h (0 allowed)";

/* "pid 42" or "cgroup /app": the target already set, for a conflict message. */
static void describe_target(const struct oomkit__watch_config *c, char *out, size_t cap)
{
    if (c->mode == OOMKIT__WATCH_PID)
        snprintf(out, cap, "pid %d", (int)c->pid);
    else
        snprintf(out, cap, "%s %.200s",
                 c->mode == OOMKIT__WATCH_CGROUP ? "cgroup" : "cgroups-under", c->path);
}

/* True if the URL names a host after "scheme://": "http://" or
 * "http://:9093" would otherwise only fail when the first alert is posted. */
static int url_has_host(const char *url)
{
    const char *p = strstr(url, "://") + 3;
    size_t auth = strcspn(p, "/?#");
    for (size_t i = auth; i > 0; i--) {
        if (p[i - 1] == '@') { /* skip user:password@ */
            p += i;
            auth -= i;
            break;
        }
    }
    if (auth > 0 && p[0] == '[')
        return auth > 2 && memchr(p, ']', auth) != NULL && p[1] != ']';
    return auth > 0 && p[0] != ':';
}

int oomkit__watch_config_is_target(const char *key)
{
    return strcmp(key, "pid") == 0 || strcmp(key, "cgroup") == 0 ||
           strcmp(key, "cgroups-under") == 0;
}

int oomkit__watch_config_set(struct oomkit__watch_config *c, const char *key,
                             const char *value, char *err, size_t err_len)
{
    int takes = oomkit__watch_config_takes_value(key);
    if (takes < 0) {
        snprintf(err, err_len, "unknown setting '%s'", key);
        return -EINVAL;
    }
    if (takes && (value == NULL || value[0] == '\0')) {
        snprintf(err, err_len, "'%s' needs a value", key);
        return -EINVAL;
    }
    int rc = 0;
    uint64_t u = 0;
    /* What a valid value looks like, for the error message. */
    const char *want = "a shorter value";
    if (oomkit__watch_config_is_target(key)) {
        /* One target per daemon: a second one would silently replace the
         * first. The command line replaces a config file's target by
         * clearing mode first (src/cli/watch.c). */
        if (c->mode != OOMKIT__WATCH_NONE) {
            char prev[256];
            describe_target(c, prev, sizeof prev);
            snprintf(err, err_len,
                     "conflicting targets '%s' and '%s %s': give only one of --pid, --cgroup, "
                     "--cgroups-under", prev, key, value);
            return -EINVAL;
        }
    }
    if (strcmp(key, "pid") == 0) {
        char *end;
        long p = strtol(value, &end, 10);
        want = "a process id (a positive number)";
        if (*end != '\0' || p <= 0 || p > 0x3fffffff)
            rc = -EINVAL;
        else {
            c->mode = OOMKIT__WATCH_PID;
            c->pid = (pid_t)p;
        }
    } else if (strcmp(key, "cgroup") == 0 || strcmp(key, "cgroups-under") == 0) {
        rc = copy_str(c->path, sizeof c->path, value);
        if (rc == 0)
            c->mode = key[6] == '\0' ? OOMKIT__WATCH_CGROUP : OOMKIT__WATCH_UNDER;
    } else if (strcmp(key, "interval") == 0) {
        want = "a duration from 10ms to 1h, e.g. 1s, 250ms or 2m";
        rc = duration_in(value, 0.01, 3600, &c->interval_s);
    } else if (strcmp(key, "listen") == 0) {
        want = "HOST:PORT (e.g. 127.0.0.1:9464) or 'off'";
        if (strcmp(value, "off") == 0 || strcmp(value, "none") == 0)
            c->listen[0] = '\0';
        else {
            struct sockaddr_storage ss;
            unsigned len;
            rc = oomkit__exporter_parse_addr(value, &ss, &len);
            if (rc == 0)
                rc = copy_str(c->listen, sizeof c->listen, value);
        }
    } else if (strcmp(key, "alertmanager") == 0) {
        want = "an http:// or https:// URL with a host, e.g. http://localhost:9093";
        if ((strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0) ||
            !url_has_host(value))
            rc = -EINVAL;
        else
            rc = copy_str(c->alertmanager, sizeof c->alertmanager, value);
    } else if (strcmp(key, "capture-dir") == 0) {
        rc = copy_str(c->capture_dir, sizeof c->capture_dir, value);
    } else if (strcmp(key, "warn") == 0) {
        want = ratio_want;
        rc = parse_ratio(value, &c->warn_ratio);
    } else if (strcmp(key, "critical") == 0) {
        want = ratio_want;
        rc = parse_ratio(value, &c->critical_ratio);
    } else if (strcmp(key, "predict") == 0) {
        want = duration_want;
        rc = parse_duration(value, &c->predict_s);
    } else if (strcmp(key, "cooldown") == 0) {
        want = duration_want;
        rc = parse_duration(value, &c->cooldown_s);
    } else if (strcmp(key, "duration") == 0) {
        want = duration_want;
        rc = parse_duration(value, &c->duration_s);
    } else if (strcmp(key, "discover-every") == 0) {
        want = "a duration of at least 50ms, e.g. 5s";
        rc = duration_in(value, 0.05, HUGE_VAL, &c->discover_s);
    } else if (strcmp(key, "prof-wait") == 0) {
        /* The capture, and with it sampling, waits this long for the heap
         * dump; past a minute the OOM kill has usually come first. */
        want = "a duration from 0 to 60s, e.g. 2s";
        rc = duration_in(value, 0, 60, &c->prof_wait_s);
    } else if (strcmp(key, "capture-max") == 0) {
        rc = parse_size(value, &u);
        want = "a size of at least 64k, e.g. 256M or 1G";
        if (rc == 0 && u < 65536)
            rc = -EINVAL;
        c->capture_max_bytes = rc == 0 ? u : c->capture_max_bytes;
    } else if (strcmp(key, "window") == 0 || strcmp(key, "max-targets") == 0) {
        /* The window is bounded by the predictor's shared scratch, which
         * grows with its square (predict.h). */
        int window = key[0] == 'w';
        long min = window ? 2 : 1, max = window ? OOMKIT__PREDICT_MAX_WINDOW : 100000;
        char *end;
        long n = strtol(value, &end, 10);
        _Static_assert(OOMKIT__PREDICT_MAX_WINDOW == 120, "the message below names the bound");
        want = window ? "a whole number from 2 to 120" : "a whole number from 1 to 100000";
        if (*end != '\0' || n < min || n > max)
            rc = -EINVAL;
        else if (window)
            c->window = (unsigned)n;
        else
            c->max_targets = (unsigned)n;
    } else if (strcmp(key, "root") == 0) {
        rc = copy_str(c->sys_root, sizeof c->sys_root, value);
    } else if (strcmp(key, "buy-time") == 0) {
        c->buy_time = 1;
    } else if (strcmp(key, "dry-run") == 0) {
        c->dry_run = 1;
    } else if (strcmp(key, "once") == 0) {
        c->once = 1;
    } else if (strcmp(key, "no-user-stacks") == 0) {
        c->user_stacks = 0;
    } else if (strcmp(key, "print-metrics") == 0) {
        c->print_metrics = 1;
    } else if (strcmp(key, "config") == 0) {
        rc = 0; /* handled by the caller before the other settings */
    }
    if (rc != 0) {
        snprintf(err, err_len, "bad value '%s' for '%s': expected %s", value ? value : "", key,
                 want);
        return -EINVAL;
    }
    return 0;
}

int oomkit__watch_config_check(const struct oomkit__watch_config *c, char *err, size_t err_len)
{
    if (!(c->warn_ratio < c->critical_ratio)) {
        snprintf(err, err_len, "warn (%g%%) must be below critical (%g%%)", c->warn_ratio * 100,
                 c->critical_ratio * 100);
        return -EINVAL;
    }
    /* Last, because it may create directories: the capture directory is
     * needed exactly when memory runs out, too late to find it unusable. */
    char why[300];
    int rc = oomkit__capture_root_check(c->capture_dir, !c->dry_run, why, sizeof why);
    if (rc < 0) {
        snprintf(err, err_len, "capture dir %s: %s", c->capture_dir, why);
        return rc;
    }
    return 0;
}

int oomkit__watch_config_parse(struct oomkit__watch_config *c, const char *text, size_t len,
                               const char *name, char *err, size_t err_len)
{
    char line[2048], why[256];
    unsigned lineno = 0;
    size_t pos = 0;
    while (pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        size_t n = end - pos;
        lineno++;
        if (n >= sizeof line) {
            snprintf(err, err_len, "%s:%u: line too long", name, lineno);
            return -EINVAL;
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos = end + 1;
        if (memchr(line, '\0', n) != NULL) {
            snprintf(err, err_len, "%s:%u: NUL byte in the line", name, lineno);
            return -EINVAL;
        }
        char *p = line;
        char *hash = strchr(p, '#');
        if (hash)
            *hash = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        n = strlen(p);
        while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
            p[--n] = '\0';
        if (n == 0)
            continue;
        char *key = p, *val = p + strcspn(p, " \t=");
        if (*val) {
            *val++ = '\0';
            while (*val == ' ' || *val == '\t' || *val == '=')
                val++;
        }
        if (strcmp(key, "config") == 0) {
            snprintf(err, err_len, "%s:%u: config files do not nest", name, lineno);
            return -EINVAL;
        }
        if (oomkit__watch_config_set(c, key, *val ? val : NULL, why, sizeof why) != 0) {
            snprintf(err, err_len, "%s:%u: %s", name, lineno, why);
            return -EINVAL;
        }
    }
    return 0;
}

int oomkit__watch_config_load(struct oomkit__watch_config *c, const char *path,
                              char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        int e = errno;
        snprintf(err, err_len, "%s: %s", path, strerror(e));
        return -e;
    }
    /* glibc opens a directory for reading and fread then returns 0, which
     * would read as an empty file: say so instead. */
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        fclose(f);
        snprintf(err, err_len, "%s: %s (--config needs a file)", path, strerror(EISDIR));
        return -EISDIR;
    }
    /* Config files are small; a bounded read keeps a wrong path (a device,
     * a huge log) from costing memory. */
    static char text[256 * 1024];
    size_t len = fread(text, 1, sizeof text, f);
    int big = len == sizeof text, bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(err, err_len, "%s: read error", path);
        return -EIO;
    }
    if (big) {
        snprintf(err, err_len, "%s: larger than %zu bytes", path, sizeof text);
        return -EINVAL;
    }
    return oomkit__watch_config_parse(c, text, len, path, err, err_len);
}
