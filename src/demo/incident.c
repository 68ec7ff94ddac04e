/* The incident replay of `oomkit demo` (see incident.h).
 *
 * Sequence: make one memory cgroup per variant with the limit; start the
 * operator of each variant in its cgroup with liboomkit_prof.so preloaded
 * (the environment `oomkit profile` sets); start one `oomkit watch
 * --cgroup` per variant, outside the cgroups, with a short interval and a
 * prediction rule, capturing into the variant's directory; then poll every
 * 200 ms: the operators' progress lines from their pipes, the cgroups'
 * working set, limit and OOM-kill counter (src/mem readers), and whether a
 * capture bundle has appeared. The run ends when the nested variant is
 * gone (OOM-killed, or failed) or at the time budget; the store variant is
 * then stopped with SIGTERM, so it exits and writes its exit profile.
 *
 * "Captured before the kill" is decided conservatively: the bundle must
 * have been seen on disk at a poll before the one that first saw the
 * kill counter move, or its manifest's captured_at must be no later than
 * the last poll that still read zero kills.
 *
 * Without a writable memory cgroup the demo says so and runs both
 * variants against a soft budget instead: at 85% of it the demo signals
 * the profiler for a heap dump (the capture), at 100% it kills the
 * operator with SIGKILL, as the kernel would. */
#include "demo/incident.h"

#include "cli/cli.h"
#include "cli/report.h"
#include "cli/sibling.h"
#include "demo/incident_profile.h"
#include "demo/incident_sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024.0 * 1024.0)
#define POLL_MS 200
#define TREND_N 16 /* samples of the displayed trend: about 3 s */

struct progress_point {
    double t_s;
    unsigned long long reconciles;
};

struct variant {
    const char *name;  /* operator variant */
    const char *title; /* for people */
    char dir[PATH_MAX];
    char capture_dir[PATH_MAX + 16];
    char prof_prefix[PATH_MAX + 16];
    struct demo_cgroup cg;
    pid_t op_pid, watch_pid;
    int op_fd;
    char line[512];
    size_t line_len;
    /* Progress from the operator. */
    unsigned long long reconciles;
    double op_ms, busy_ms; /* since start; spent reconciling */
    long long allocs_sum;
    unsigned long long allocs_n;
    struct progress_point *points;
    size_t n_points, cap_points;
    /* Polled figures. */
    double ws_bytes, limit_bytes, peak_bytes, tto_s;
    double trend_t[TREND_N], trend_ws[TREND_N];
    size_t trend_n;
    uint64_t oom_kills;
    double bundle_seen_t, kill_seen_t, last_zero_kill_t;
    int exited, status;
    int budget_killed, prof_signalled, watch_started;
    int watch_died, watch_status; /* the watchdog ended before the demo stopped it */
    double prof_signal_t, prof_signal_ws_bytes;
    /* Results. */
    char bundle[PATH_MAX + 300];
    char heap[PATH_MAX + 400];
    char verdict[32];
    double captured_at_s, predicted_oom_s;
    int have_sites;
    struct demo_profile_sites sites;
    char flame[PATH_MAX + 32];
};

/* Ctrl-C: the operators and watchdogs (same process group) stop on their
 * own; the demo stops its loop and still removes its cgroups. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void on_line(struct variant *v, const char *line)
{
    unsigned long long r, idx;
    double t_ms, dur_ms;
    long long allocs;
    size_t pods;
    if (sscanf(line, "reconcile=%llu pods=%zu t_ms=%lf dur_ms=%lf allocs=%lld index=%llu", &r,
               &pods, &t_ms, &dur_ms, &allocs, &idx) != 6)
        return;
    v->reconciles = r;
    v->op_ms = t_ms;
    v->busy_ms += dur_ms;
    if (allocs >= 0 && r > 1) {
        /* The first reconcile sizes the store; the steady state is the
         * question. */
        v->allocs_sum += allocs;
        v->allocs_n++;
    }
    if (v->n_points == v->cap_points) {
        size_t cap = v->cap_points ? v->cap_points * 2 : 256;
        struct progress_point *p = realloc(v->points, cap * sizeof(*p));
        if (p == NULL)
            return;
        v->points = p;
        v->cap_points = cap;
    }
    v->points[v->n_points++] = (struct progress_point){ demo_now_s(), r };
}

static void drain(struct variant *v)
{
    if (v->op_fd < 0)
        return;
    for (;;) {
        ssize_t n = read(v->op_fd, v->line + v->line_len, sizeof(v->line) - 1 - v->line_len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                close(v->op_fd);
                v->op_fd = -1;
            }
            return;
        }
        v->line_len += (size_t)n;
        v->line[v->line_len] = '\0';
        char *start = v->line, *nl;
        while ((nl = strchr(start, '\n')) != NULL) {
            *nl = '\0';
            on_line(v, start);
            start = nl + 1;
        }
        v->line_len = strlen(start);
        memmove(v->line, start, v->line_len + 1);
        if (v->line_len >= sizeof(v->line) - 1)
            v->line_len = 0; /* a line too long to be ours */
    }
}

/* Seconds to the limit from a least-squares line over the recent samples;
 * +Inf when flat or falling. The watchdog has its own (Theil-Sen); this
 * one only feeds the live line. */
static double trend_tto(const struct variant *v)
{
    size_t n = v->trend_n < TREND_N ? v->trend_n : TREND_N;
    if (n < 4 || v->limit_bytes <= 0)
        return INFINITY;
    double mt = 0, mw = 0;
    for (size_t i = 0; i < n; i++)
        mt += v->trend_t[i], mw += v->trend_ws[i];
    mt /= (double)n, mw /= (double)n;
    double sxy = 0, sxx = 0;
    for (size_t i = 0; i < n; i++) {
        sxy += (v->trend_t[i] - mt) * (v->trend_ws[i] - mw);
        sxx += (v->trend_t[i] - mt) * (v->trend_t[i] - mt);
    }
    double slope = sxx > 0 ? sxy / sxx : 0;
    if (slope <= 1024.0)
        return INFINITY;
    double left = v->limit_bytes - v->ws_bytes;
    return left > 0 ? left / slope : 0;
}

static int bundle_present(const char *dir, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    struct dirent *e;
    int found = 0;
    char best[256] = "";
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        /* The oldest bundle is the one taken before the kill. */
        if (!found || strcmp(e->d_name, best) < 0)
            snprintf(best, sizeof(best), "%s", e->d_name);
        found = 1;
    }
    closedir(d);
    if (found && out != NULL)
        snprintf(out, cap, "%s/%s", dir, best);
    return found;
}

static void sample(oomkit_mem_ctx *ctx, struct variant *v, uint64_t budget_bytes, double now)
{
    if (v->cg.version != 0) {
        oomkit_mem_cgroup_stats st;
        if (oomkit_mem_cgroup_read(ctx, &v->cg.ref, &st) != 0)
            return;
        v->ws_bytes = oomkit_mem_has(st.working_set_bytes) ? (double)st.working_set_bytes : 0;
        v->limit_bytes = oomkit_mem_has(st.limit_bytes) ? (double)st.limit_bytes : 0;
        uint64_t kills = oomkit_mem_has(st.oom_kill) ? st.oom_kill : 0;
        if (kills == 0)
            v->last_zero_kill_t = now;
        else if (v->kill_seen_t == 0)
            v->kill_seen_t = now;
        v->oom_kills = kills;
        if (v->bundle_seen_t == 0 && bundle_present(v->capture_dir, NULL, 0))
            v->bundle_seen_t = now;
    } else if (!v->exited) {
        oomkit_mem_status st;
        if (oomkit_mem_status_read(ctx, v->op_pid, &st) != 0)
            return;
        v->ws_bytes = oomkit_mem_has(st.vm_rss_bytes) ? (double)st.vm_rss_bytes : 0;
        v->limit_bytes = (double)budget_bytes;
        if (!v->prof_signalled && v->ws_bytes >= 0.85 * (double)budget_bytes) {
            kill(v->op_pid, SIGUSR2); /* the profiler's dump signal */
            v->prof_signalled = 1;
            v->prof_signal_t = now;
            v->prof_signal_ws_bytes = v->ws_bytes;
        }
        if (v->ws_bytes >= (double)budget_bytes) {
            kill(v->op_pid, SIGKILL);
            v->budget_killed = 1;
            v->oom_kills = 1;
            v->kill_seen_t = now;
        } else {
            v->last_zero_kill_t = now;
        }
    }
    if (v->ws_bytes > v->peak_bytes)
        v->peak_bytes = v->ws_bytes;
    memmove(v->trend_t, v->trend_t + 1, (TREND_N - 1) * sizeof(double));
    memmove(v->trend_ws, v->trend_ws + 1, (TREND_N - 1) * sizeof(double));
    v->trend_t[TREND_N - 1] = now;
    v->trend_ws[TREND_N - 1] = v->ws_bytes;
    if (v->trend_n < TREND_N) {
        /* Keep the filled part at the front while the window fills. */
        v->trend_t[v->trend_n] = now;
        v->trend_ws[v->trend_n] = v->ws_bytes;
        v->trend_n++;
    }
    v->tto_s = trend_tto(v);
}

static void progress_line(const struct variant *v, char *buf, size_t cap)
{
    char tto[48];
    if (v->exited && v->oom_kills > 0)
        snprintf(tto, sizeof(tto), "%s", v->budget_killed ? "KILLED (budget)" : "OOM-KILLED");
    else if (v->exited && WIFSIGNALED(v->status))
        snprintf(tto, sizeof(tto), "killed (signal %d)", WTERMSIG(v->status));
    else if (v->exited)
        snprintf(tto, sizeof(tto), "exited");
    else if (isfinite(v->tto_s) && v->tto_s < 600)
        snprintf(tto, sizeof(tto), "OOM in ~%.0f s", v->tto_s);
    else
        snprintf(tto, sizeof(tto), "flat, no OOM ahead");
    snprintf(buf, cap, "  %-7s working set %7.1f MiB / %5.0f MiB   %-20s reconciles %llu", v->name,
             v->ws_bytes / MIB, v->limit_bytes / MIB, tto, v->reconciles);
}

/* "2026-11-24T02:03:42.123456Z" to unix seconds; 0 when unreadable. */
static double rfc3339_s(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest == NULL)
        return 0;
    double frac = 0;
    if (*rest == '.')
        frac = strtod(rest, NULL);
    return (double)timegm(&tm) + frac;
}

static void read_manifest(struct variant *v)
{
    char p[PATH_MAX + 400];
    snprintf(p, sizeof(p), "%s/manifest.json", v->bundle);
    json_object *m = json_object_from_file(p), *x, *y;
    if (m == NULL)
        return;
    if (json_object_object_get_ex(m, "verdict", &x) && json_object_object_get_ex(x, "kind", &y))
        snprintf(v->verdict, sizeof(v->verdict), "%s", json_object_get_string(y));
    if (json_object_object_get_ex(m, "captured_at", &x))
        v->captured_at_s = rfc3339_s(json_object_get_string(x));
    v->predicted_oom_s = INFINITY;
    if (json_object_object_get_ex(m, "predicted_oom_s", &x) && json_object_is_type(x, json_type_double))
        v->predicted_oom_s = json_object_get_double(x);
    else if (x != NULL && json_object_is_type(x, json_type_int))
        v->predicted_oom_s = (double)json_object_get_int64(x);
    json_object_put(m);
}

/* The newest profile the operator wrote under its prefix. */
static int newest_profile(const struct variant *v, char *out, size_t cap)
{
    const char *slash = strrchr(v->prof_prefix, '/');
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof(dir), "%.*s", (int)(slash - v->prof_prefix), v->prof_prefix);
    DIR *d = opendir(dir);
    if (d == NULL)
        return -errno;
    struct dirent *e;
    long best = -1;
    char base[64];
    snprintf(base, sizeof(base), "%s.%ld.", slash + 1, (long)v->op_pid);
    while ((e = readdir(d)) != NULL) {
        size_t bl = strlen(base);
        if (strncmp(e->d_name, base, bl) != 0 || strstr(e->d_name, ".tmp") != NULL)
            continue;
        char *end;
        long seq = strtol(e->d_name + bl, &end, 10);
        if (strcmp(end, ".pb.gz") == 0 && seq > best) {
            best = seq;
            snprintf(out, cap, "%s/%s", dir, e->d_name);
        }
    }
    closedir(d);
    return best >= 0 ? 0 : -ENOENT;
}

static int captured_before_kill(const struct variant *v)
{
    if (v->bundle[0] == '\0' && !v->prof_signalled)
        return 0;
    if (v->oom_kills == 0)
        return 1;
    if (v->cg.version == 0) {
        /* Soft budget: the signal dump must be on disk before the kill. */
        struct stat st;
        return v->heap[0] != '\0' && stat(v->heap, &st) == 0 &&
               (double)st.st_mtim.tv_sec + (double)st.st_mtim.tv_nsec / 1e9 <= v->last_zero_kill_t;
    }
    if (v->bundle_seen_t > 0 && v->bundle_seen_t < v->kill_seen_t)
        return 1;
    return v->captured_at_s > 0 && v->captured_at_s <= v->last_zero_kill_t;
}

/* Mean allocations per steady-state reconcile as the operator counted
 * them (the store's allocator calls; the nested code's own allocating
 * calls, a lower bound). */
static double allocs_per_reconcile(const struct variant *v, const char **how)
{
    *how = strcmp(v->name, "store") == 0 ? "store counter" : "own calls, at least";
    return v->allocs_n > 0 ? (double)v->allocs_sum / (double)v->allocs_n : -1;
}

static void fmt_count(char *buf, size_t cap, double v)
{
    if (v < 0)
        snprintf(buf, cap, "n/a");
    else if (v >= 1e6)
        snprintf(buf, cap, "%.2fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, cap, "%.0fk", v / 1e3);
    else
        snprintf(buf, cap, "%.1f", v);
}

static void summary(struct variant *vs, int soft, double wall_s)
{
    struct variant *n = &vs[0], *s = &vs[1];
    char a[64], b[64];
    printf("\n  %-34s %26s %22s\n", "", "nested GLib tables", "oomkit store");
    snprintf(a, sizeof(a), "%.1f MiB", n->peak_bytes / MIB);
    snprintf(b, sizeof(b), "%.1f MiB", s->peak_bytes / MIB);
    printf("  %-34s %26s %22s\n", soft ? "peak RSS" : "peak working set", a, b);
    snprintf(a, sizeof(a), "%.0f MiB", n->limit_bytes / MIB);
    snprintf(b, sizeof(b), "%.0f MiB", s->limit_bytes / MIB);
    printf("  %-34s %26s %22s\n", soft ? "soft budget" : "cgroup limit", a, b);
    snprintf(a, sizeof(a), "%llu", n->reconciles);
    snprintf(b, sizeof(b), "%llu", s->reconciles);
    printf("  %-34s %26s %22s\n", "reconciles done", a, b);
    snprintf(a, sizeof(a), "%.2f", n->busy_ms > 0 ? (double)n->reconciles / (n->busy_ms / 1e3) : 0);
    snprintf(b, sizeof(b), "%.2f", s->busy_ms > 0 ? (double)s->reconciles / (s->busy_ms / 1e3) : 0);
    printf("  %-34s %26s %22s\n", "reconciles per busy second", a, b);
    const char *ha, *hb;
    double pa = allocs_per_reconcile(n, &ha), pb = allocs_per_reconcile(s, &hb);
    char ca[32], cb[32];
    fmt_count(ca, sizeof(ca), pa);
    fmt_count(cb, sizeof(cb), pb);
    snprintf(a, sizeof(a), "%s (%s)", ca, ha);
    snprintf(b, sizeof(b), "%s (%s)", cb, hb);
    printf("  %-34s %26s %22s\n", "allocations per reconcile", a, b);
    snprintf(a, sizeof(a), "%" PRIu64, n->oom_kills);
    snprintf(b, sizeof(b), "%" PRIu64, s->oom_kills);
    printf("  %-34s %26s %22s\n", soft ? "kills by the budget" : "OOM kills (kernel counter)", a, b);
    int cn = captured_before_kill(n), cs = captured_before_kill(s);
    printf("  %-34s %26s %22s\n", "evidence captured before the kill",
           n->oom_kills ? (cn ? "yes" : "NO") : (cn ? "yes (no kill)" : "no kill"),
           s->oom_kills ? (cs ? "yes" : "NO") : (cs ? "yes (no kill)" : "no kill"));
    for (int i = 0; i < 2; i++) {
        struct variant *v = &vs[i];
        double cap_t = v->captured_at_s > 0 ? v->captured_at_s : (soft ? v->prof_signal_t : 0);
        if (v->oom_kills > 0 && cap_t > 0 && v->kill_seen_t > cap_t) {
            if (isfinite(v->predicted_oom_s) && v->predicted_oom_s > 0)
                snprintf(i ? b : a, 64, "~%.1f s (predicted %.1f)", v->kill_seen_t - cap_t,
                         v->predicted_oom_s);
            else
                snprintf(i ? b : a, 64, "~%.1f s", v->kill_seen_t - cap_t);
        } else {
            snprintf(i ? b : a, 64, "-");
        }
    }
    printf("  %-34s %26s %22s\n", "capture ahead of the kill", a, b);
    printf("  %-34s %26s %22s\n", "verdict", n->verdict[0] ? n->verdict : "-",
           s->verdict[0] ? s->verdict : "-");
    if (n->have_sites && n->sites.n_sites > 0 && n->sites.inuse_total_bytes > 0) {
        printf("\n  top allocation sites of the nested variant (in-use heap at the capture):\n");
        for (size_t i = 0; i < n->sites.n_sites && i < 3; i++)
            printf("    %5.1f%%  %-32s %s:%" PRId64 "\n",
                   100.0 * (double)n->sites.sites[i].bytes / (double)n->sites.inuse_total_bytes,
                   n->sites.sites[i].function, n->sites.sites[i].file, n->sites.sites[i].line);
    }

    printf("\nVerdict: ");
    if (n->oom_kills > 0 && cn && s->oom_kills == 0) {
        printf("the nested tables climbed to the %.0f MiB limit and were %s after %llu "
               "reconciles, but %s first (verdict %s, top site %s); the store ran the same "
               "loop flat at %.1f MiB.\n",
               n->limit_bytes / MIB, soft ? "killed by the budget" : "OOM-killed", n->reconciles,
               soft ? "the demo took a heap profile" : "the watchdog predicted it and captured the evidence",
               n->verdict[0] ? n->verdict : "heap (profile)",
               n->have_sites && n->sites.n_sites ? n->sites.sites[0].function : "unknown",
               s->peak_bytes / MIB);
    } else if (n->oom_kills > 0) {
        printf("the nested tables were killed at the limit after %llu reconciles, and the evidence "
               "was NOT captured before the kill; the store %s.\n",
               n->reconciles, s->oom_kills ? "was killed too" : "stayed under its limit");
    } else {
        printf("the nested tables did not reach the %.0f MiB limit within %.0f s (peak %.1f MiB); "
               "the store peaked at %.1f MiB.\n",
               n->limit_bytes / MIB, wall_s, n->peak_bytes / MIB, s->peak_bytes / MIB);
    }
    /* One machine-readable line per variant, for tests and scripts. */
    for (int i = 0; i < 2; i++) {
        struct variant *v = &vs[i];
        printf("outcome %s oom_kills=%" PRIu64 " captured_before_kill=%s verdict=%s top_site=%s "
               "peak_mib=%.1f reconciles=%llu\n",
               v->name, v->oom_kills, captured_before_kill(v) ? "yes" : "no",
               v->verdict[0] ? v->verdict : "-",
               v->have_sites && v->sites.n_sites ? v->sites.sites[0].function : "-",
               v->peak_bytes / MIB, v->reconciles);
    }
}

static void stop_child(pid_t pid, int sig, double wait_s, int *status)
{
    if (pid <= 0)
        return;
    kill(pid, sig);
    double end = demo_now_s() + wait_s;
    int st = 0;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            break;
        if (demo_now_s() > end) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        struct timespec ts = { 0, 20 * 1000000L };
        nanosleep(&ts, NULL);
    }
    if (status != NULL)
        *status = st;
}

/* Starts `oomkit watch` on the variant's cgroup, outside it. Called once
 * the operator has finished its first reconcile: the start-up ramp
 * (generating the cluster, the first fill) is not the climb the watchdog
 * is there to predict, and a store that fills in half a second would
 * otherwise look like it heads for the limit. */
static void start_watch(struct variant *v, const char *self, double max_s, const char *predict)
{
    char dur[32], log[PATH_MAX + 32];
    snprintf(dur, sizeof(dur), "%.0fs", max_s + 15);
    char *wargv[] = { (char *)self,       "watch",         "--cgroup",   v->cg.dir,
                      "--capture-dir",    v->capture_dir,  "--interval", "200ms",
                      "--predict",        (char *)predict,           "--listen",   "off",
                      "--cooldown",       "600s",          "--prof-wait", "3s",
                      "--no-user-stacks", "--duration",    dur,          NULL };
    snprintf(log, sizeof(log), "%s/watch.log", v->dir);
    v->watch_pid = demo_spawn(wargv, -1, log, NULL, NULL);
    if (v->watch_pid < 0) {
        printf("  missing part: `oomkit watch` could not be started (%s); no capture for %s.\n",
               strerror((int)-v->watch_pid), v->name);
        v->watch_pid = 0;
    }
    v->watch_started = 1;
}

static int make_dirs(const char *base, struct variant *v)
{
    int w = snprintf(v->dir, sizeof(v->dir), "%.*s/%s", PATH_MAX - 64, base, v->name);
    if (w < 0 || (size_t)w >= sizeof(v->dir))
        return -ENAMETOOLONG;
    snprintf(v->capture_dir, sizeof(v->capture_dir), "%s/captures", v->dir);
    snprintf(v->prof_prefix, sizeof(v->prof_prefix), "%s/prof/%s", v->dir, v->name);
    char prof_dir[PATH_MAX + 16];
    snprintf(prof_dir, sizeof(prof_dir), "%s/prof", v->dir);
    if ((mkdir(v->dir, 0700) != 0 && errno != EEXIST) ||
        (mkdir(v->capture_dir, 0700) != 0 && errno != EEXIST) ||
        (mkdir(prof_dir, 0700) != 0 && errno != EEXIST))
        return -errno;
    return 0;
}

int oomkit__demo_incident_run(const struct oomkit__demo_incident_opts *o)
{
#if defined(OOMKIT_ASAN) || defined(OOMKIT_TSAN)
    /* The operators run with liboomkit_prof.so preloaded, which a
     * sanitizer's own allocator does not allow; say so rather than
     * pretend. */
    (void)o;
    printf("  skipped: this is a sanitizer build, and the operators need the heap profiler "
           "preloaded; run the normal build (make demo).\n");
    return OOMKIT_EXIT_OK;
#endif
    uint64_t pods = o->pods ? o->pods : (o->quick ? 10000 : 50000);
    uint64_t limit = o->limit_bytes ? o->limit_bytes : (uint64_t)(o->quick ? 128 : 256) << 20;
    /* The churn sets the leak rate: each replaced pod leaves one label set
     * (about 1.3 KiB) behind in the nested variant, and a reconcile of the
     * nested tables takes about 1 s for 50000 pods on a busy 2-core
     * machine. These shares reach the limit in 20-40 s (about 10 s with
     * --quick, which also lowers the limit to 128 MiB). */
    uint64_t churn = o->churn ? o->churn : (o->quick ? pods / 2 : pods / 8);
    double max_s = o->quick ? 22.0 : 60.0;
    /* The prediction horizon of the watchdog's rule: long enough to
     * capture well ahead of the kill, short enough that the trend it acts
     * on is the steady climb and not the first seconds of it. */
    const char *predict = o->quick ? "6s" : "15s";

    char op_path[PATH_MAX], prof_lib[PATH_MAX], self[PATH_MAX];
    if (oomkit_cli_sibling_path("oomkit-demo-operator", op_path, sizeof(op_path)) != 0) {
        printf("  missing part: oomkit-demo-operator is not next to the oomkit binary; "
               "this stage cannot run.\n");
        return OOMKIT_EXIT_FAIL;
    }
    int have_prof = oomkit_cli_sibling_path("liboomkit_prof.so", prof_lib, sizeof(prof_lib)) == 0;
    ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (sl <= 0) {
        fprintf(stderr, "oomkit demo: cannot find the oomkit binary itself\n");
        return OOMKIT_EXIT_FAIL;
    }
    self[sl] = '\0';
    if (!have_prof)
        printf("  missing part: liboomkit_prof.so not found; the operators run without the heap "
               "profiler (no top sites, no flame graph).\n");

    char base[PATH_MAX];
    if (o->out_dir != NULL) {
        snprintf(base, sizeof(base), "%s", o->out_dir);
        if (mkdir(base, 0700) != 0 && errno != EEXIST) {
            fprintf(stderr, "oomkit demo: cannot create %s: %s\n", base, strerror(errno));
            return OOMKIT_EXIT_FAIL;
        }
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(base, sizeof(base), "%s/oomkit-demo-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (mkdtemp(base) == NULL) {
            fprintf(stderr, "oomkit demo: cannot create a work directory: %s\n", strerror(errno));
            return OOMKIT_EXIT_FAIL;
        }
    }

    oomkit_mem_ctx *ctx = NULL;
    if (oomkit_mem_ctx_open(NULL, &ctx) != 0) {
        fprintf(stderr, "oomkit demo: cannot open the memory readers\n");
        return OOMKIT_EXIT_FAIL;
    }
    struct variant vs[2];
    memset(vs, 0, sizeof(vs));
    vs[0].name = "nested";
    vs[0].title = "nested GLib tables (the incident)";
    vs[1].name = "store";
    vs[1].title = "oomkit store";
    int soft = o->force_soft;
    char why[512] = "";
    for (int i = 0; i < 2; i++) {
        vs[i].op_fd = -1;
        int mrc = make_dirs(base, &vs[i]);
        if (mrc != 0) {
            fprintf(stderr, "oomkit demo: cannot create directories under %s: %s\n", base,
                    strerror(-mrc));
            oomkit_mem_ctx_close(ctx);
            return OOMKIT_EXIT_FAIL;
        }
        if (soft)
            continue;
        char name[96];
        snprintf(name, sizeof(name), "oomkit-demo-%d-%s", (int)getpid(), vs[i].name);
        if (demo_cgroup_create(ctx, name, limit, &vs[i].cg, why, sizeof(why)) != 0) {
            soft = 1;
            if (i == 1)
                demo_cgroup_destroy(&vs[0].cg);
        }
    }
    if (soft && !o->force_soft)
        printf("  no memory cgroup here (%s): running both against a %.0f MiB soft budget "
               "that the demo enforces by signal.\n", why, (double)limit / MIB);
    else if (soft)
        printf("  soft budget of %.0f MiB, enforced by signal (no cgroups used).\n",
               (double)limit / MIB);
    else
        printf("  two operators, %" PRIu64 " pods each, %" PRIu64 " replaced per reconcile, "
               "each in its own memory cgroup (v%d, limit %.0f MiB),\n  under liboomkit_prof.so "
               "and watched by `oomkit watch` (200 ms interval, --predict %s):\n\n",
               pods, churn, vs[0].cg.version, (double)limit / MIB, predict);

    /* Start the operators, then their watchdogs. */
    char pods_s[32], churn_s[32];
    snprintf(pods_s, sizeof(pods_s), "%" PRIu64, pods);
    snprintf(churn_s, sizeof(churn_s), "%" PRIu64, churn);
    /* Reconciles are paced like an operator's resync period, so the climb
     * takes about as long on an idle machine as on a busy one (where a
     * reconcile outlasts the period and the next starts at once). */
    char period_s[16];
    snprintf(period_s, sizeof(period_s), "%d", o->quick ? 250 : 1000);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_interrupt;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    interrupted = 0;
    int rc = OOMKIT_EXIT_OK;
    double start = demo_now_s();
    for (int i = 0; i < 2 && rc == OOMKIT_EXIT_OK; i++) {
        struct variant *v = &vs[i];
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) {
            rc = OOMKIT_EXIT_FAIL;
            break;
        }
        char *argv[] = { op_path,  "--operator", (char *)v->name, "--pods",
                         pods_s,   "--churn",    churn_s,         "--period-ms",
                         period_s, "--unique-label", NULL };
        static char env_preload[2][PATH_MAX + 32], env_prof[2][PATH_MAX + 128];
        snprintf(env_preload[i], sizeof(env_preload[i]), "LD_PRELOAD=%s", prof_lib);
        snprintf(env_prof[i], sizeof(env_prof[i]), "OOMKIT_PROF=sample=256k,dump=exit+signal,out=%s",
                 v->prof_prefix);
        char *env[] = { env_preload[i], env_prof[i], NULL };
        char log[PATH_MAX + 32];
        snprintf(log, sizeof(log), "%s/operator.log", v->dir);
        v->op_pid = demo_spawn(argv, fds[1], log, soft ? NULL : &v->cg, have_prof ? env : NULL);
        close(fds[1]);
        v->op_fd = fds[0];
        fcntl(v->op_fd, F_SETFL, fcntl(v->op_fd, F_GETFL) | O_NONBLOCK);
        if (v->op_pid < 0) {
            fprintf(stderr, "oomkit demo: cannot start %s: %s\n", op_path, strerror((int)-v->op_pid));
            rc = OOMKIT_EXIT_FAIL;
            break;
        }
    }

    /* The loop: live lines until the nested variant is gone or time is up. */
    int tty = isatty(STDOUT_FILENO);
    double last_print = 0, nested_gone_t = 0;
    int drawn = 0;
    while (rc == OOMKIT_EXIT_OK) {
        struct pollfd pf[2];
        nfds_t np = 0;
        for (int i = 0; i < 2; i++)
            if (vs[i].op_fd >= 0)
                pf[np++] = (struct pollfd){ vs[i].op_fd, POLLIN, 0 };
        if (np > 0)
            poll(pf, np, POLL_MS);
        else {
            struct timespec ts = { 0, POLL_MS * 1000000L };
            nanosleep(&ts, NULL);
        }
        double now = demo_now_s();
        for (int i = 0; i < 2; i++) {
            struct variant *v = &vs[i];
            drain(v);
            sample(ctx, v, limit, now);
            if (!v->exited && waitpid(v->op_pid, &v->status, WNOHANG) == v->op_pid)
                v->exited = 1;
            if (!soft && !v->watch_started && v->reconciles >= 2)
                start_watch(v, self, max_s, predict);
            if (v->watch_pid > 0 && !v->watch_died &&
                waitpid(v->watch_pid, &v->watch_status, WNOHANG) == v->watch_pid) {
                v->watch_died = 1;
                v->watch_pid = 0;
            }
        }
        if (vs[0].exited && nested_gone_t == 0)
            nested_gone_t = now;
        if (tty || now - last_print >= 3.0 || (nested_gone_t == now)) {
            char l0[200], l1[200];
            progress_line(&vs[0], l0, sizeof(l0));
            progress_line(&vs[1], l1, sizeof(l1));
            if (tty)
                printf("%s\r\033[K%s\n\r\033[K%s\n", drawn ? "\033[2A" : "", l0, l1);
            else
                printf("%s\n%s\n", l0, l1);
            fflush(stdout);
            drawn = 1;
            last_print = now;
        }
        /* A second after the nested operator is gone, the kill counter and
         * the bundle have settled; the store has made its point. */
        if (nested_gone_t > 0 && now - nested_gone_t >= 1.0)
            break;
        if (vs[1].exited || now - start >= max_s || interrupted)
            break;
    }
    double wall_s = demo_now_s() - start;

    /* Stop the store (it exits and writes its exit profile), then let any
     * capture in flight finish before stopping the watchdogs. */
    for (int i = 0; i < 2; i++)
        if (!vs[i].exited) {
            stop_child(vs[i].op_pid, SIGTERM, 5.0, &vs[i].status);
            vs[i].exited = 1;
            drain(&vs[i]);
        }
    for (int i = 0; i < 2; i++) {
        for (int k = 0; k < 40; k++) {
            DIR *d = opendir(vs[i].capture_dir);
            int busy = 0;
            struct dirent *e;
            while (d != NULL && (e = readdir(d)) != NULL)
                busy |= strncmp(e->d_name, ".partial", 8) == 0;
            if (d != NULL)
                closedir(d);
            if (!busy)
                break;
            struct timespec ts = { 0, 100 * 1000000L };
            nanosleep(&ts, NULL);
        }
        stop_child(vs[i].watch_pid, SIGTERM, 5.0, NULL);
        if (vs[i].op_fd >= 0)
            close(vs[i].op_fd);
    }

    /* Evidence. */
    for (int i = 0; i < 2; i++) {
        struct variant *v = &vs[i];
        if (!soft && bundle_present(v->capture_dir, v->bundle, sizeof(v->bundle))) {
            read_manifest(v);
            snprintf(v->heap, sizeof(v->heap), "%s/heap.pb.gz", v->bundle);
            if (access(v->heap, R_OK) != 0)
                v->heap[0] = '\0';
        }
        if (v->heap[0] == '\0' && have_prof && (soft ? v->prof_signalled || i == 1 : i == 1))
            if (newest_profile(v, v->heap, sizeof(v->heap)) != 0)
                v->heap[0] = '\0';
        if (v->heap[0] != '\0' && demo_profile_sites_read(v->heap, &v->sites) == 0)
            v->have_sites = 1;
        /* Without the watchdog the verdict is the profile's own: "heap"
         * when the sampled in-use malloc heap explains most of the RSS the
         * demo saw when it asked for the dump. */
        if (soft && v->have_sites && v->prof_signalled)
            snprintf(v->verdict, sizeof(v->verdict), "%s",
                     (double)v->sites.inuse_total_bytes >= 0.5 * v->prof_signal_ws_bytes
                         ? "heap"
                         : "not heap");
    }
    summary(vs, soft, wall_s);

    printf("\nEvidence (under %s):\n", base);
    struct variant *n = &vs[0];
    if (n->bundle[0] != '\0') {
        printf("  capture bundle   %s\n", n->bundle);
        printf("  report           %s/report.md\n", n->bundle);
        printf("  timeline         %s/timeline.svg\n", n->bundle);
    } else if (!soft) {
        printf("  capture bundle   none (see %s/watch.log)\n", n->dir);
    }
    for (int i = 0; i < 2; i++)
        if (vs[i].watch_died)
            printf("  missing part: `oomkit watch` for %s ended early (%s %d; see %s/watch.log)\n",
                   vs[i].name, WIFEXITED(vs[i].watch_status) ? "exit" : "signal",
                   WIFEXITED(vs[i].watch_status) ? WEXITSTATUS(vs[i].watch_status)
                                                 : WTERMSIG(vs[i].watch_status),
                   vs[i].dir);
    if (have_prof && n->heap[0] == '\0')
        printf("  heap profile     none was captured for the nested variant\n");
    if (n->heap[0] != '\0') {
        struct oomkit__pprof_profile p;
        snprintf(n->flame, sizeof(n->flame), "%s/flame.svg", n->dir);
        if (oomkit__pprof_read_file(n->heap, &p) == 0) {
            int t = report_pick_type(&p, "inuse_space");
            if (t < 0 || report_svg_write(n->flame, &p, t) != 0)
                n->flame[0] = '\0';
            oomkit__pprof_free(&p);
        } else {
            n->flame[0] = '\0';
        }
        printf("  heap profile     %s\n", n->heap);
        if (n->flame[0] != '\0')
            printf("  flame graph      %s\n", n->flame);
    }
    if (vs[1].heap[0] != '\0')
        printf("  store profile    %s\n", vs[1].heap);

    for (int i = 0; i < 2; i++) {
        demo_cgroup_destroy(&vs[i].cg);
        free(vs[i].points);
    }
    oomkit_mem_ctx_close(ctx);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (interrupted && rc == OOMKIT_EXIT_OK)
        rc = OOMKIT_EXIT_FAIL;
    return rc;
}
