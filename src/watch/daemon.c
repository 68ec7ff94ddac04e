/* The `oomkit watch` sampling loop and its targets (see daemon.h).
 *
 * Bounds: at most max_targets targets, each a fixed-size struct (sample
 * ring, prediction window, marks) allocated when the target appears; one
 * shared prediction scratch and one capture buffer allocated at start-up,
 * so a capture under memory pressure does not need to allocate much; the
 * metrics text and the alert queue are bounded by the target count. */
#include "watch/daemon.h"

#include "core/alloc.h"
#include "watch/alert.h"
#include "watch/capture.h"
#include "watch/exporter.h"
#include "watch/metrics.h"
#include "watch/predict.h"
#include "watch/verdict.h"
#include "watch/watch_sys.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define HIST 300          /* samples kept per target for the bundle */
#define MARKS 16
#define MAX_NOTIFY 4
#define GAPS 4096         /* inter-sample gaps kept for jitter percentiles */
#define CAPTURE_BUF (256u * 1024u)
#define BASELINE_REFRESH_S 30.0
#define ALERT_REPEAT_S 60.0

static const char *const rule_alert[OOMKIT__RULE_COUNT] = {
    "OomkitMemoryWarning", "OomkitOomPredicted", "OomkitMemoryCritical",
};
static const char *const rule_severity[OOMKIT__RULE_COUNT] = { "warning", "critical", "critical" };

struct target {
    char label[256];       /* cgroup path in its hierarchy, or "pid:N" */
    int has_cg;
    oomkit_mem_cgroup_ref ref;
    pid_t pid;             /* followed process, or the cgroup's largest */
    char comm[64];
    char cmdline[256];     /* for following a process across restarts */
    int pid_mode;
    uint64_t restarts;
    int gone;              /* the cgroup vanished: drop at the next sweep */
    int seen;              /* discovery mark */
    int pid_missing_logged, read_err_logged;

    struct oomkit__predict pred;
    struct oomkit__rule_state rs;
    oomkit_mem_cgroup_stats st;
    int have_st;
    double ws, usage, limit;
    struct oomkit__prediction pr;
    int have_pr;

    struct oomkit__verdict_input base;
    double base_t;
    int have_base;
    struct oomkit__verdict verdict;
    int have_verdict;
    uint64_t verdicts[OOMKIT__VERDICT_UNKNOWN + 1];

    double last_capture_t;
    uint64_t captures, capture_failures;
    char capture_path[OOMKIT_MEM_PATH_MAX];

    struct oomkit__capture_sample hist[HIST];
    size_t hist_n, hist_head;
    struct oomkit__capture_mark marks[MARKS];
    size_t marks_n, marks_head;

    int notify[MAX_NOTIFY];
    int n_notify;
    int inotify_wd;
    double alert_sent_t[OOMKIT__RULE_COUNT];
    double rule_since_unix[OOMKIT__RULE_COUNT];
    int high_set;          /* buy-time wrote memory.high */
    uint64_t oom_kills_seen;
    int have_oom_kills;
};

struct daemon {
    const struct oomkit__watch_config *c;
    void (*log)(void *, const char *);
    void *log_ctx;
    oomkit_mem_ctx *ctx;
    oomkit_mem_cgroup_layout layout;
    struct target **t;
    size_t n;
    struct oomkit__rules rules;
    double *scratch;
    char *capbuf;
    /* poll's array: the inotify fd and every target's notifications, sized
     * for max_targets at start-up like t */
    struct pollfd *pfd;
    struct oomkit__metrics m;
    struct oomkit__exporter *exp;
    struct oomkit__alert_client *am;
    int inotify_fd;
    uint64_t samples, wakeups, captures_dropped;
    double gaps[GAPS];
    size_t gaps_n;
    double last_sample_mono;
    uint64_t mem_total_bytes;
};

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double unix_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void logf_(struct daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct daemon *d, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (d->log)
        d->log(d->log_ctx, line);
}

static void alert_log(void *ctx, const char *line)
{
    struct daemon *d = ctx;
    if (d->log)
        d->log(d->log_ctx, line);
}

/* ---- targets ---- */

static void register_notify(struct daemon *d, struct target *t)
{
    if (!t->has_cg)
        return;
    const char *dir = t->ref.dir;
    if (t->ref.version == 1) {
        /* Usage thresholds below the rules' levels wake the loop while a
         * fast leak climbs between two samples. */
        if (t->have_st && oomkit_mem_is_limited(t->st.limit_bytes)) {
            double lim = (double)t->st.limit_bytes;
            double lv[] = { 0.5, d->c->warn_ratio, d->c->critical_ratio };
            for (size_t i = 0; i < 3 && t->n_notify < MAX_NOTIFY - 1; i++) {
                int fd = oomkit__wsys_v1_threshold(dir, (uint64_t)(lim * lv[i]));
                if (fd >= 0)
                    t->notify[t->n_notify++] = fd;
            }
        }
        int fd = oomkit__wsys_v1_pressure(dir, "medium");
        if (fd >= 0 && t->n_notify < MAX_NOTIFY)
            t->notify[t->n_notify++] = fd;
    } else {
        int fd = oomkit__wsys_v2_psi_trigger(dir, 100000, 1000000);
        if (fd >= 0 && t->n_notify < MAX_NOTIFY)
            t->notify[t->n_notify++] = fd;
        if (d->inotify_fd >= 0)
            t->inotify_wd = oomkit__wsys_v2_events_watch(d->inotify_fd, dir);
    }
}

static void free_target(struct daemon *d, struct target *t)
{
    for (int i = 0; i < t->n_notify; i++)
        close(t->notify[i]);
    if (t->inotify_wd >= 0 && d->inotify_fd >= 0)
        inotify_rm_watch(d->inotify_fd, t->inotify_wd);
    oomkit__free(t);
}

static struct target *new_target(struct daemon *d)
{
    if (d->n >= d->c->max_targets)
        return NULL;
    struct target *t = oomkit__calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    oomkit__predict_init(&t->pred, d->c->window);
    t->inotify_wd = -1;
    t->last_capture_t = -1e18;
    for (int i = 0; i < OOMKIT__RULE_COUNT; i++)
        t->alert_sent_t[i] = -1e18;
    d->t[d->n++] = t;
    return t;
}

static void read_cmdline(pid_t pid, char *out, size_t cap)
{
    char sp[64];
    size_t len = 0;
    snprintf(sp, sizeof sp, "/proc/%d/cmdline", (int)pid);
    out[0] = '\0';
    if (oomkit__wsys_read(sp, out, cap, &len) < 0)
        return;
    for (size_t i = 0; i + 1 < len; i++)
        if (out[i] == '\0')
            out[i] = ' ';
}

static void read_comm(struct daemon *d, pid_t pid, char *out, size_t cap)
{
    oomkit_mem_status s;
    if (oomkit_mem_status_read(d->ctx, pid, &s) == 0)
        snprintf(out, cap, "%s", s.name);
}

static int add_cgroup_target(struct daemon *d, const char *dir)
{
    for (size_t i = 0; i < d->n; i++) {
        if (d->t[i]->has_cg && strcmp(d->t[i]->ref.dir, dir) == 0) {
            d->t[i]->seen = 1;
            return 0;
        }
    }
    struct target *t = new_target(d);
    if (t == NULL)
        return -ENOSPC;
    int rc = oomkit_mem_cgroup_ref_from_dir(d->ctx, dir, &t->ref);
    if (rc < 0) {
        d->n--;
        free_target(d, t);
        return rc;
    }
    /* Label with the path inside the hierarchy when the directory is under
     * a known mount, so the label reads like cAdvisor's id. */
    const char *mnt = t->ref.version == 1 ? d->layout.v1_memory_mount : d->layout.v2_mount;
    size_t ml = strlen(mnt);
    const char *rel = (ml > 0 && strncmp(dir, mnt, ml) == 0) ? dir + ml : dir;
    snprintf(t->label, sizeof t->label, "%s", rel[0] ? rel : "/");
    snprintf(t->ref.path, sizeof t->ref.path, "%s", t->label);
    t->has_cg = 1;
    t->seen = 1;
    if (oomkit_mem_cgroup_read(d->ctx, &t->ref, &t->st) == 0)
        t->have_st = 1;
    register_notify(d, t);
    return 0;
}

static int discover_cb(const char *dir, void *arg)
{
    struct daemon *d = arg;
    int rc = add_cgroup_target(d, dir);
    if (rc == -ENOSPC)
        return 1; /* stop the walk: the target budget is used up */
    return 0;
}

static void discover(struct daemon *d)
{
    for (size_t i = 0; i < d->n; i++)
        d->t[i]->seen = 0;
    size_t before = d->n;
    oomkit_mem_cgroup_walk(d->ctx, d->c->path, discover_cb, d);
    if (d->n > before)
        logf_(d, "watching %zu cgroups under %s (%zu new)", d->n, d->c->path, d->n - before);
    if (d->n >= d->c->max_targets)
        logf_(d, "target limit %u reached; raise --max-targets to watch more", d->c->max_targets);
    for (size_t i = 0; i < d->n; i++)
        if (!d->t[i]->seen)
            d->t[i]->gone = 1;
}

static void sweep(struct daemon *d)
{
    size_t w = 0;
    for (size_t i = 0; i < d->n; i++) {
        struct target *t = d->t[i];
        if (t->gone && !t->pid_mode) {
            logf_(d, "cgroup %s vanished; no longer watched", t->label);
            free_target(d, t);
            continue;
        }
        d->t[w++] = t;
    }
    d->n = w;
}

/* The process to look at inside a cgroup: the one with the largest RSS. */
static pid_t largest_pid(struct daemon *d, const char *dir)
{
    pid_t pids[64];
    size_t n = 0;
    if (oomkit__wsys_cgroup_pids(dir, pids, 64, &n) < 0)
        return 0;
    pid_t best = 0;
    uint64_t best_rss = 0;
    for (size_t i = 0; i < n && i < 64; i++) {
        oomkit_mem_statm sm;
        if (oomkit_mem_statm_read(d->ctx, pids[i], &sm) == 0 &&
            (best == 0 || sm.resident_bytes > best_rss)) {
            best = pids[i];
            best_rss = sm.resident_bytes;
        }
    }
    return best;
}

/* A followed process exited: the same target is a process in the same
 * cgroup with the same command line, else anywhere with that command line. */
static pid_t find_restart(struct daemon *d, struct target *t)
{
    char cmd[256];
    if (t->has_cg) {
        pid_t pids[64];
        size_t n = 0;
        if (oomkit__wsys_cgroup_pids(t->ref.dir, pids, 64, &n) == 0) {
            for (size_t i = 0; i < n && i < 64; i++) {
                read_cmdline(pids[i], cmd, sizeof cmd);
                if (strcmp(cmd, t->cmdline) == 0)
                    return pids[i];
            }
        }
    }
    if (t->cmdline[0] == '\0')
        return 0;
    size_t n = 0;
    pid_t pids[4096];
    if (oomkit_mem_pids_list(d->ctx, pids, 4096, &n) < 0)
        return 0;
    for (size_t i = 0; i < n && i < 4096; i++) {
        if (pids[i] == getpid())
            continue;
        read_cmdline(pids[i], cmd, sizeof cmd);
        if (strcmp(cmd, t->cmdline) == 0)
            return pids[i];
    }
    return 0;
}

static int add_pid_target(struct daemon *d, pid_t pid)
{
    struct target *t = new_target(d);
    if (t == NULL)
        return -ENOMEM;
    t->pid_mode = 1;
    t->pid = pid;
    snprintf(t->label, sizeof t->label, "pid:%d", (int)pid);
    read_comm(d, pid, t->comm, sizeof t->comm);
    read_cmdline(pid, t->cmdline, sizeof t->cmdline);
    if (oomkit_mem_cgroup_of_pid(d->ctx, pid, &d->layout, &t->ref) == 0) {
        t->has_cg = 1;
        if (oomkit_mem_cgroup_read(d->ctx, &t->ref, &t->st) == 0)
            t->have_st = 1;
        register_notify(d, t);
    }
    return 0;
}

/* ---- verdict inputs ---- */

static void verdict_input(struct daemon *d, struct target *t, struct oomkit__verdict_input *in)
{
    memset(in, 0, sizeof *in);
    if (t->have_st) {
        uint64_t file = oomkit_mem_has(t->st.file_bytes) ? t->st.file_bytes : 0;
        uint64_t shmem = oomkit_mem_has(t->st.shmem_bytes) ? t->st.shmem_bytes : 0;
        in->bytes[OOMKIT__VERDICT_PAGE_CACHE] = file > shmem ? file - shmem : 0;
        in->bytes[OOMKIT__VERDICT_SHMEM] = shmem;
        if (oomkit_mem_has(t->st.kernel_bytes)) {
            in->bytes[OOMKIT__VERDICT_KERNEL] = t->st.kernel_bytes;
        } else if (t->has_cg && t->ref.version == 1) {
            char sp[OOMKIT_MEM_PATH_MAX + 32], buf[64];
            size_t len;
            snprintf(sp, sizeof sp, "%s/memory.kmem.usage_in_bytes", t->ref.dir);
            if (oomkit__wsys_read(sp, buf, sizeof buf, &len) == 0)
                in->bytes[OOMKIT__VERDICT_KERNEL] = strtoull(buf, NULL, 10);
        }
    }
    oomkit_mem_breakdown bd;
    if (t->pid > 0 && oomkit_mem_breakdown_read(d->ctx, t->pid, &bd, NULL, NULL) == 0) {
        in->bytes[OOMKIT__VERDICT_HEAP] = bd.cat[OOMKIT_MEM_CAT_HEAP].rss_bytes;
        in->bytes[OOMKIT__VERDICT_ANON_MMAP] = bd.cat[OOMKIT_MEM_CAT_ANON_MMAP].rss_bytes;
        in->bytes[OOMKIT__VERDICT_STACKS] = bd.cat[OOMKIT_MEM_CAT_STACKS].rss_bytes;
    } else if (t->have_st && oomkit_mem_has(t->st.anon_bytes)) {
        /* No process to split anonymous memory by: count it as heap, the
         * most common case; the evidence then shows no anon_mmap figure. */
        in->bytes[OOMKIT__VERDICT_HEAP] = t->st.anon_bytes;
    }
}

/* ---- alerts ---- */

static void post_alert(struct daemon *d, struct target *t, int rule, int resolved)
{
    if (d->am == NULL)
        return;
    char pid[16] = "", ann_sum[640], ann_v[640];
    if (t->pid > 0)
        snprintf(pid, sizeof pid, "%d", (int)t->pid);
    /* An alert's identity is its label set, so labels hold only what
     * stays fixed for the target; the process (which an OOM kill or a
     * restart replaces) goes into the annotations. */
    struct oomkit__label labels[] = {
        { "severity", rule_severity[rule] },
        { "cgroup", t->has_cg ? t->ref.path : "" },
        { "target", t->label },
    };
    const double mib = 1024.0 * 1024.0;
    snprintf(ann_sum, sizeof ann_sum, "%.256s: working set %.1f MiB of %.1f MiB, predicted OOM in %s%.0f s",
             t->label, t->ws / mib, t->limit / mib,
             t->have_pr && isfinite(t->pr.tto_s) ? "" : "never ",
             t->have_pr && isfinite(t->pr.tto_s) ? t->pr.tto_s : 0.0);
    if (t->have_verdict)
        snprintf(ann_v, sizeof ann_v, "%s (confidence %.2f): %s",
                 oomkit__verdict_kind_name(t->verdict.kind), t->verdict.confidence,
                 t->verdict.evidence);
    else
        ann_v[0] = '\0';
    struct oomkit__label ann[] = {
        { "summary", ann_sum },
        { "verdict", ann_v },
        { "capture_path", t->capture_path },
        { "pid", pid },
        { "command", t->comm },
    };
    struct oomkit__alert a = { rule_alert[rule], labels, 3, ann, 5,
                               t->rule_since_unix[rule], resolved ? unix_s() : 0, NULL };
    if (d->c->dry_run) {
        logf_(d, "dry-run: would post %s %s for %s", rule_alert[rule],
              resolved ? "resolved" : "firing", t->label);
        return;
    }
    oomkit__alert_post(d->am, &a);
    t->alert_sent_t[rule] = mono_s();
}

/* ---- capture ---- */

static void do_capture(struct daemon *d, struct target *t, const char *trigger)
{
    double now = mono_s();
    t->last_capture_t = now;
    struct oomkit__verdict_input cur;
    verdict_input(d, t, &cur);
    if (t->have_base) {
        oomkit__verdict_classify(&t->base, &cur, now - t->base_t, &t->verdict);
        t->have_verdict = 1;
        t->verdicts[t->verdict.kind]++;
    }
    if (d->c->dry_run) {
        logf_(d, "dry-run: would capture %s (trigger %s, verdict %s)%s", t->label, trigger,
              t->have_verdict ? oomkit__verdict_kind_name(t->verdict.kind) : "unknown",
              d->c->buy_time ? "; would buy time first" : "");
        return;
    }
    /* Buying time, opt-in: v2 throttles through memory.high a little below
     * the limit (left in place until the target is ok again); v1 stops the
     * process for the length of the capture. */
    int stopped = 0;
    if (d->c->buy_time && t->has_cg && t->ref.version == 2 && !t->high_set && t->limit > 0) {
        char sp[OOMKIT_MEM_PATH_MAX + 32], v[32];
        snprintf(sp, sizeof sp, "%s/memory.high", t->ref.dir);
        snprintf(v, sizeof v, "%llu", (unsigned long long)(t->limit * 0.97));
        if (oomkit__wsys_write_control(sp, v) == 0) {
            t->high_set = 1;
            logf_(d, "buy-time: set %s to %s bytes", sp, v);
        }
    } else if (d->c->buy_time && t->pid > 0) {
        stopped = oomkit__wsys_kill(t->pid, SIGSTOP) == 0;
    }
    struct oomkit__capture_sample samples[HIST];
    size_t n = 0;
    for (size_t i = 0; i < t->hist_n; i++)
        samples[n++] = t->hist[(t->hist_head + HIST - t->hist_n + i) % HIST];
    struct oomkit__capture_mark marks[MARKS];
    size_t nm = 0;
    for (size_t i = 0; i < t->marks_n; i++)
        marks[nm++] = t->marks[(t->marks_head + MARKS - t->marks_n + i) % MARKS];
    struct oomkit__capture_request req = {
        .root_dir = d->c->capture_dir,
        .ctx = d->ctx,
        .target = t->label,
        .pid = t->pid,
        .cgroup_dir = t->has_cg ? t->ref.dir : NULL,
        .trigger = trigger,
        .limit_bytes = t->limit,
        .working_set_bytes = t->ws,
        .predicted_oom_s = t->have_pr ? t->pr.tto_s : INFINITY,
        .verdict = t->have_verdict ? &t->verdict : NULL,
        .samples = samples,
        .n_samples = n,
        .marks = marks,
        .n_marks = nm,
        .max_total_bytes = d->c->capture_max_bytes,
        .user_stacks = d->c->user_stacks,
        .prof_wait_s = d->c->prof_wait_s,
        .buf = d->capbuf,
        .buf_len = CAPTURE_BUF,
    };
    struct oomkit__capture_result res;
    double t0 = mono_s();
    int rc = oomkit__capture_write(&req, &res);
    if (stopped)
        oomkit__wsys_kill(t->pid, SIGCONT);
    if (rc < 0) {
        t->capture_failures++;
        logf_(d, "capture of %s failed: %s (capture dir %s); sampling continues", t->label,
              strerror(-rc), d->c->capture_dir);
        return;
    }
    t->captures++;
    snprintf(t->capture_path, sizeof t->capture_path, "%s", res.path);
    logf_(d, "captured %s in %.0f ms: %s (%u files, %llu bytes, verdict %s %.2f)%s%s", t->label,
          (mono_s() - t0) * 1000, res.path, res.files, (unsigned long long)res.bytes,
          t->have_verdict ? oomkit__verdict_kind_name(t->verdict.kind) : "unknown",
          t->have_verdict ? t->verdict.confidence : 0.0,
          res.problems ? "; missing: " : "", res.problems ? res.first_problem : "");
    /* Active alerts now carry the bundle path. */
    for (int r = 0; r < OOMKIT__RULE_COUNT; r++)
        if (t->rs.active[r])
            post_alert(d, t, r, 0);
}

/* ---- sampling ---- */

static void add_mark(struct target *t, const char *what)
{
    t->marks[t->marks_head] = (struct oomkit__capture_mark){ unix_s(), what };
    t->marks_head = (t->marks_head + 1) % MARKS;
    if (t->marks_n < MARKS)
        t->marks_n++;
}

static void sample_target(struct daemon *d, struct target *t, double now)
{
    /* Process: follow it across restarts. */
    if (t->pid_mode) {
        if (t->pid > 0 && oomkit__wsys_kill(t->pid, 0) == -ESRCH) {
            pid_t np = find_restart(d, t);
            if (np > 0) {
                t->restarts++;
                logf_(d, "%s restarted as pid %d (restart %llu)", t->label, (int)np,
                      (unsigned long long)t->restarts);
                t->pid = np;
                t->pid_missing_logged = 0;
                t->have_base = 0;
                oomkit__predict_init(&t->pred, d->c->window);
            } else if (!t->pid_missing_logged) {
                logf_(d, "%s exited; waiting for it to come back", t->label);
                t->pid_missing_logged = 1;
            }
        }
    } else if (t->has_cg) {
        t->pid = largest_pid(d, t->ref.dir);
        if (t->pid > 0)
            read_comm(d, t->pid, t->comm, sizeof t->comm);
        else
            t->comm[0] = '\0';
    }
    int have = 0;
    if (t->has_cg) {
        int rc = oomkit_mem_cgroup_read(d->ctx, &t->ref, &t->st);
        if (rc == -ENOENT && !t->pid_mode) {
            t->gone = 1;
            return;
        }
        if (rc < 0) {
            if (!t->read_err_logged)
                logf_(d, "%s: cannot read cgroup %s: %s (a missing, bad or truncated kernel "
                      "file); still sampling", t->label, t->ref.dir, oomkit_strerror(rc));
            t->read_err_logged = 1;
            t->have_st = 0;
        } else {
            if (t->read_err_logged)
                logf_(d, "%s: cgroup readable again", t->label);
            t->read_err_logged = 0;
            t->have_st = 1;
            have = oomkit_mem_has(t->st.working_set_bytes);
        }
    }
    if (have) {
        t->ws = (double)t->st.working_set_bytes;
        t->usage = oomkit_mem_has(t->st.usage_bytes) ? (double)t->st.usage_bytes : t->ws;
        if (oomkit_mem_is_limited(t->st.limit_bytes))
            t->limit = (double)t->st.limit_bytes;
        else if (oomkit_mem_is_limited(t->st.hierarchical_limit_bytes))
            t->limit = (double)t->st.hierarchical_limit_bytes;
        else
            t->limit = (double)d->mem_total_bytes;
    } else if (t->pid > 0) {
        /* No cgroup figures: the process's resident set against RAM. */
        oomkit_mem_statm sm;
        if (oomkit_mem_statm_read(d->ctx, t->pid, &sm) != 0)
            return;
        t->ws = t->usage = (double)sm.resident_bytes;
        t->limit = (double)d->mem_total_bytes;
        have = 1;
    }
    if (!have)
        return;
    /* An OOM kill (or a restart) starts a new incarnation: the trend of the
     * one that died says nothing about the next, so the window restarts. */
    if (t->have_st && oomkit_mem_has(t->st.oom_kill)) {
        if (t->have_oom_kills && t->st.oom_kill > t->oom_kills_seen) {
            logf_(d, "%s: kernel OOM kill observed (%llu in total); %s", t->label,
                  (unsigned long long)t->st.oom_kill,
                  t->captures ? "the last capture is in the log above" : "no capture was written");
            oomkit__predict_init(&t->pred, d->c->window);
            add_mark(t, "oom_kill");
        }
        t->oom_kills_seen = t->st.oom_kill;
        t->have_oom_kills = 1;
    }
    oomkit__predict_add(&t->pred, now, t->ws);
    t->have_pr = t->limit > 0 && oomkit__predict_tto(&t->pred, t->limit, d->scratch, &t->pr) == 0;
    double tto = t->have_pr ? t->pr.tto_s : INFINITY;
    double ratio = t->limit > 0 ? t->ws / t->limit : 0;
    t->hist[t->hist_head] = (struct oomkit__capture_sample){ unix_s(), t->ws, t->usage, t->limit, tto };
    t->hist_head = (t->hist_head + 1) % HIST;
    if (t->hist_n < HIST)
        t->hist_n++;

    /* The baseline for the verdict: taken once, then refreshed while the
     * target is calm so it reflects the memory before a leak began. */
    if (!t->have_base || (t->rs.level == OOMKIT__RULE_OK && now - t->base_t >= BASELINE_REFRESH_S)) {
        verdict_input(d, t, &t->base);
        t->base_t = now;
        t->have_base = 1;
    }

    unsigned in = 0, out = 0;
    enum oomkit__rule_level prev = t->rs.level;
    enum oomkit__rule_level lvl = oomkit__rules_update(&d->rules, &t->rs, ratio, tto, &in, &out);
    for (int r = 0; r < OOMKIT__RULE_COUNT; r++) {
        const char *name = oomkit__rule_level_name((enum oomkit__rule_level)(r + 1));
        if (in & (1u << r)) {
            t->rule_since_unix[r] = unix_s();
            add_mark(t, name);
            post_alert(d, t, r, 0);
        } else if (out & (1u << r)) {
            post_alert(d, t, r, 1);
        } else if (t->rs.active[r] && mono_s() - t->alert_sent_t[r] >= ALERT_REPEAT_S) {
            post_alert(d, t, r, 0);
        }
    }
    if (lvl != prev) {
        logf_(d, "%s: %s -> %s (working set %.1f MiB of %.1f MiB, predicted OOM in %.1f s)",
              t->label, oomkit__rule_level_name(prev), oomkit__rule_level_name(lvl),
              t->ws / 1048576.0, t->limit / 1048576.0, tto);
        if (lvl == OOMKIT__RULE_OK && t->high_set) {
            char sp[OOMKIT_MEM_PATH_MAX + 32];
            snprintf(sp, sizeof sp, "%s/memory.high", t->ref.dir);
            oomkit__wsys_write_control(sp, "max");
            t->high_set = 0;
        }
    }
    if (lvl >= OOMKIT__RULE_PREDICTED && now - t->last_capture_t >= d->c->cooldown_s)
        do_capture(d, t, oomkit__rule_level_name(lvl));
}

static void sample_all(struct daemon *d)
{
    double now = mono_s();
    if (d->last_sample_mono > 0) {
        d->gaps[d->gaps_n % GAPS] = now - d->last_sample_mono;
        d->gaps_n++;
    }
    d->last_sample_mono = now;
    for (size_t i = 0; i < d->n; i++)
        sample_target(d, d->t[i], now);
    d->samples++;
    sweep(d);
}

/* ---- metrics ---- */

typedef double (*getter)(const struct target *t, int *ok);
#define G(name, expr)                                                        \
    static double name(const struct target *t, int *ok)                     \
    {                                                                       \
        expr;                                                               \
    }
static double u64v(uint64_t v, int *ok)
{
    *ok = oomkit_mem_has(v);
    return (double)v;
}
G(g_ws, *ok = t->hist_n > 0; return t->ws)
G(g_usage, *ok = t->hist_n > 0; return t->usage)
G(g_rss, if (!t->have_st) { *ok = 0; return 0; } return u64v(t->st.rss_bytes, ok))
G(g_cache, if (!t->have_st) { *ok = 0; return 0; } return u64v(t->st.cache_bytes, ok))
G(g_swap, if (!t->have_st) { *ok = 0; return 0; } return u64v(t->st.swap_bytes, ok))
G(g_limit, *ok = t->limit > 0; return t->limit)
G(g_headroom, *ok = t->limit > 0 && t->hist_n > 0; return t->limit > t->ws ? t->limit - t->ws : 0)
G(g_failcnt, if (!t->have_st) { *ok = 0; return 0; } return u64v(t->st.failcnt, ok))
G(g_ooms, if (!t->have_st) { *ok = 0; return 0; } return u64v(t->st.oom_kill, ok))
G(g_psi, *ok = t->have_st && t->st.psi_present && t->st.psi.some.present;
  return (double)t->st.psi.some.total_us / 1e6)
G(g_slope, *ok = t->have_pr; return t->pr.slope_bytes_per_s)
G(g_tto, *ok = t->have_pr; return t->pr.tto_s)
G(g_level, *ok = 1; return (double)t->rs.level)
G(g_captures, *ok = 1; return (double)t->captures)
G(g_capfail, *ok = 1; return (double)t->capture_failures)
G(g_restarts, *ok = t->pid_mode; return (double)t->restarts)

static const struct {
    const char *name, *type, *help;
    getter get;
} families[] = {
    { "oomkit_memory_working_set_bytes", "gauge", "Working set: usage minus inactive_file, clamped at 0 (cAdvisor's definition).", g_ws },
    { "oomkit_memory_usage_bytes", "gauge", "Memory charged to the cgroup (memory.usage_in_bytes or memory.current).", g_usage },
    { "oomkit_memory_rss_bytes", "gauge", "Anonymous memory (v1 total_rss, v2 anon).", g_rss },
    { "oomkit_memory_cache_bytes", "gauge", "Page cache including shmem (v1 total_cache, v2 file).", g_cache },
    { "oomkit_memory_swap_bytes", "gauge", "Swap used by the cgroup.", g_swap },
    { "oomkit_memory_limit_bytes", "gauge", "Memory limit the prediction aims at (the cgroup limit, else RAM).", g_limit },
    { "oomkit_memory_headroom_bytes", "gauge", "Limit minus working set, clamped at 0.", g_headroom },
    { "oomkit_memory_failcnt_total", "counter", "Times usage hit the limit (v1 memory.failcnt).", g_failcnt },
    { "oomkit_memory_oom_kills_total", "counter", "Kernel OOM kills in the cgroup (oom_kill).", g_ooms },
    { "oomkit_memory_pressure_stall_seconds_total", "counter", "PSI memory some total: time some task stalled on memory.", g_psi },
    { "oomkit_memory_growth_bytes_per_second", "gauge", "Theil-Sen trend of the working set over the prediction window.", g_slope },
    { "oomkit_predicted_oom_seconds", "gauge", "Predicted seconds until the working set reaches the limit (+Inf: not growing).", g_tto },
    { "oomkit_rule_level", "gauge", "Rule level: 0 ok, 1 warn, 2 predicted, 3 critical.", g_level },
    { "oomkit_captures_total", "counter", "Capture bundles written for the target.", g_captures },
    { "oomkit_capture_failures_total", "counter", "Captures that could not be written.", g_capfail },
    { "oomkit_target_restarts_total", "counter", "Restarts of a followed process.", g_restarts },
};

static void self_usage(double *cpu_s, double *rss_bytes)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
             (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    char buf[128];
    size_t len;
    long pages = 0, res = 0;
    int fd_ok = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        fd_ok = fscanf(f, "%ld %ld", &pages, &res) == 2;
        fclose(f);
    }
    (void)buf;
    (void)len;
    *rss_bytes = fd_ok ? (double)res * (double)sysconf(_SC_PAGESIZE) : 0;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void gap_percentiles(const struct daemon *d, double *p50, double *p99, double *max)
{
    size_t n = d->gaps_n < GAPS ? d->gaps_n : GAPS;
    *p50 = *p99 = *max = 0;
    if (n == 0)
        return;
    static double tmp[GAPS];
    memcpy(tmp, d->gaps, n * sizeof tmp[0]);
    qsort(tmp, n, sizeof tmp[0], cmp_d);
    *p50 = tmp[n / 2];
    *p99 = tmp[(size_t)((double)(n - 1) * 0.99)];
    *max = tmp[n - 1];
}

static void render(struct daemon *d)
{
    struct oomkit__metrics *m = &d->m;
    oomkit__metrics_reset(m);
    char pids[256][16];
    for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
        int any = 0;
        for (size_t i = 0; i < d->n; i++) {
            struct target *t = d->t[i];
            int ok = 0;
            double v = families[f].get(t, &ok);
            if (!ok)
                continue;
            if (!any) {
                oomkit__metrics_family(m, families[f].name, families[f].type, families[f].help);
                any = 1;
            }
            char *pid = pids[i % 256];
            snprintf(pid, 16, "%d", t->pid > 0 ? (int)t->pid : 0);
            struct oomkit__label l[] = {
                { "cgroup", t->has_cg ? t->ref.path : "" },
                { "pid", t->pid > 0 ? pid : "" },
                { "command", t->comm },
                { "target", t->label },
            };
            oomkit__metrics_sample(m, l, 4, v);
        }
    }
    /* Verdicts: one series per kind that was ever given. */
    int any = 0;
    for (size_t i = 0; i < d->n; i++) {
        struct target *t = d->t[i];
        for (int k = 0; k <= OOMKIT__VERDICT_UNKNOWN; k++) {
            if (t->verdicts[k] == 0)
                continue;
            if (!any)
                oomkit__metrics_family(m, "oomkit_verdicts_total", "counter",
                                       "Verdicts given at captures, by kind of growth.");
            any = 1;
            struct oomkit__label l[] = {
                { "cgroup", t->has_cg ? t->ref.path : "" }, { "target", t->label },
                { "kind", oomkit__verdict_kind_name((enum oomkit__verdict_kind)k) },
            };
            oomkit__metrics_sample(m, l, 3, (double)t->verdicts[k]);
        }
    }
    any = 0;
    for (size_t i = 0; i < d->n; i++) {
        struct target *t = d->t[i];
        if (!t->have_verdict)
            continue;
        if (!any)
            oomkit__metrics_family(m, "oomkit_verdict_confidence_ratio", "gauge",
                                   "Confidence of the latest verdict, labelled with its kind.");
        any = 1;
        struct oomkit__label l[] = {
            { "cgroup", t->has_cg ? t->ref.path : "" }, { "target", t->label },
            { "kind", oomkit__verdict_kind_name(t->verdict.kind) },
        };
        oomkit__metrics_sample(m, l, 3, t->verdict.confidence);
    }
    double cpu, rss, p50, p99, mx;
    self_usage(&cpu, &rss);
    gap_percentiles(d, &p50, &p99, &mx);
    oomkit__metrics_family(m, "oomkit_watch_targets", "gauge", "Targets being watched.");
    oomkit__metrics_sample(m, NULL, 0, (double)d->n);
    oomkit__metrics_family(m, "oomkit_watch_samples_total", "counter", "Sampling rounds.");
    oomkit__metrics_sample(m, NULL, 0, (double)d->samples);
    oomkit__metrics_family(m, "oomkit_watch_wakeups_total", "counter", "Extra samples woken by kernel notifications.");
    oomkit__metrics_sample(m, NULL, 0, (double)d->wakeups);
    oomkit__metrics_family(m, "oomkit_watch_cpu_seconds_total", "counter", "CPU time of the daemon.");
    oomkit__metrics_sample(m, NULL, 0, cpu);
    oomkit__metrics_family(m, "oomkit_watch_resident_memory_bytes", "gauge", "Resident memory of the daemon.");
    oomkit__metrics_sample(m, NULL, 0, rss);
    oomkit__metrics_family(m, "oomkit_watch_sample_gap_p50_seconds", "gauge", "Median gap between sampling rounds.");
    oomkit__metrics_sample(m, NULL, 0, p50);
    oomkit__metrics_family(m, "oomkit_watch_sample_gap_p99_seconds", "gauge", "99th percentile gap between sampling rounds.");
    oomkit__metrics_sample(m, NULL, 0, p99);
    oomkit__metrics_family(m, "oomkit_watch_sample_gap_max_seconds", "gauge", "Largest gap between sampling rounds.");
    oomkit__metrics_sample(m, NULL, 0, mx);
    if (d->am) {
        struct oomkit__alert_stats as;
        oomkit__alert_get_stats(d->am, &as);
        oomkit__metrics_family(m, "oomkit_watch_alerts_sent_total", "counter", "Alerts delivered to Alertmanager.");
        oomkit__metrics_sample(m, NULL, 0, (double)as.sent);
        oomkit__metrics_family(m, "oomkit_watch_alerts_dropped_total", "counter", "Alerts dropped (queue full or too many retries).");
        oomkit__metrics_sample(m, NULL, 0, (double)as.dropped);
    }
    if (d->exp && !m->error)
        oomkit__exporter_publish(d->exp, m->text, m->len);
}

/* ---- main loop ---- */

/* A directory, or a path inside the memory hierarchy ("/kubepods"). */
static int resolve_cgroup_dir(struct daemon *d, const char *path, char *out, size_t cap)
{
    oomkit_mem_cgroup_ref ref;
    int rc = oomkit_mem_cgroup_ref_resolve(d->ctx, &d->layout, path, &ref);
    if (rc == 0)
        snprintf(out, cap, "%s", ref.dir);
    return rc;
}

int oomkit__watch_run(const struct oomkit__watch_config *c,
                      void (*log)(void *ctx, const char *line), void *log_ctx,
                      char *err, size_t err_len)
{
    struct daemon D = { 0 }, *d = &D;
    d->c = c;
    d->log = log;
    d->log_ctx = log_ctx;
    d->inotify_fd = -1;
    int rc = 0;
    if (c->mode == OOMKIT__WATCH_NONE) {
        snprintf(err, err_len, "no target: give --pid, --cgroup or --cgroups-under");
        return -EINVAL;
    }
    oomkit__rules_default(&d->rules);
    d->rules.warn_ratio = c->warn_ratio;
    d->rules.critical_ratio = c->critical_ratio;
    d->rules.predict_s = c->predict_s;

    oomkit__wsys_set_root(c->sys_root);
    oomkit_mem_options mo = { c->sys_root[0] ? c->sys_root : NULL, 0 };
    rc = oomkit_mem_ctx_open(&mo, &d->ctx);
    if (rc < 0) {
        snprintf(err, err_len, "cannot open the memory readers: %s", oomkit_strerror(rc));
        return rc;
    }
    oomkit_mem_cgroup_detect(d->ctx, &d->layout);
    oomkit_mem_meminfo mi;
    d->mem_total_bytes = oomkit_mem_meminfo_read(d->ctx, &mi) == 0 &&
                                 oomkit_mem_has(mi.mem_total_bytes)
                             ? mi.mem_total_bytes
                             : 0;
    d->t = oomkit__calloc(c->max_targets, sizeof d->t[0]);
    d->scratch = oomkit__malloc(OOMKIT__PREDICT_SCRATCH_LEN * sizeof(double));
    d->capbuf = oomkit__malloc(CAPTURE_BUF);
    d->pfd = oomkit__calloc(1 + (size_t)c->max_targets * MAX_NOTIFY, sizeof d->pfd[0]);
    if (d->t == NULL || d->scratch == NULL || d->capbuf == NULL || d->pfd == NULL) {
        snprintf(err, err_len, "out of memory at start-up");
        rc = -ENOMEM;
        goto out;
    }
    /* Touch the capture buffer now, so a capture under memory pressure
     * does not fault its pages in. */
    memset(d->capbuf, 0, CAPTURE_BUF);
    d->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

    char dir[OOMKIT_MEM_PATH_MAX];
    if (c->mode == OOMKIT__WATCH_PID) {
        if (oomkit__wsys_kill(c->pid, 0) == -ESRCH) {
            snprintf(err, err_len, "no process %d", (int)c->pid);
            rc = -ESRCH;
            goto out;
        }
        rc = add_pid_target(d, c->pid);
    } else if (resolve_cgroup_dir(d, c->path, dir, sizeof dir) != 0) {
        snprintf(err, err_len, "%s is not a memory cgroup (no memory.usage_in_bytes or memory.current)",
                 c->path);
        rc = -ENOENT;
        goto out;
    } else if (c->mode == OOMKIT__WATCH_CGROUP) {
        rc = add_cgroup_target(d, dir);
    } else {
        snprintf(((struct oomkit__watch_config *)c)->path, sizeof c->path, "%s", dir);
        discover(d);
    }
    if (rc < 0) {
        snprintf(err, err_len, "cannot watch the target: %s", oomkit_strerror(rc));
        goto out;
    }
    if (c->listen[0] && !c->once) {
        rc = oomkit__exporter_start(c->listen, &d->exp);
        if (rc < 0) {
            snprintf(err, err_len, "cannot listen on %s: %s", c->listen, oomkit_strerror(rc));
            goto out;
        }
        logf_(d, "metrics at http://%s/metrics", c->listen);
    }
    if (c->alertmanager[0]) {
        struct oomkit__alert_options ao = { .url = c->alertmanager, .log = alert_log, .log_ctx = d };
        rc = oomkit__alert_start(&ao, &d->am);
        if (rc < 0) {
            snprintf(err, err_len, "cannot start the Alertmanager client: %s", oomkit_strerror(rc));
            goto out;
        }
    }
    /* Only now that the target and the endpoints are known good: a daemon
     * that refuses to start leaves its process as it found it. */
    int got = 0;
    if (c->sys_root[0] == '\0') {
        int prc = oomkit__wsys_protect_self(-900, &got);
        if (prc == 0 && got == -900)
            logf_(d, "oom_score_adj set to -900");
        else if (prc == 0)
            logf_(d, "oom_score_adj -900 not allowed here; lowest accepted is %d", got);
        else
            logf_(d, "could not lower oom_score_adj; the OOM killer may pick this daemon");
    }
    size_t notifies = 0;
    for (size_t i = 0; i < d->n; i++)
        notifies += (size_t)d->t[i]->n_notify + (d->t[i]->inotify_wd >= 0);
    logf_(d, "watching %zu target%s every %.3g s, %zu kernel notification%s, captures in %s%s",
          d->n, d->n == 1 ? "" : "s", c->interval_s, notifies, notifies == 1 ? "" : "s",
          c->capture_dir, c->dry_run ? " (dry run)" : "");

    struct sigaction sa = { 0 };
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    stop_flag = 0;
    double start = mono_s(), next = start, next_discover = start + c->discover_s;
    struct pollfd *pfd = d->pfd;
    for (;;) {
        double now = mono_s();
        if (now >= next) {
            sample_all(d);
            render(d);
            next += c->interval_s;
            if (next < now)
                next = now + c->interval_s; /* fell behind: do not burst */
            if (c->once)
                break;
        }
        if (c->mode == OOMKIT__WATCH_UNDER && now >= next_discover) {
            discover(d);
            sweep(d);
            next_discover = now + c->discover_s;
        }
        if (stop_flag || (c->duration_s > 0 && now - start >= c->duration_s))
            break;
        /* Wait for the next tick or a kernel notification. */
        size_t np = 0;
        if (d->inotify_fd >= 0)
            pfd[np++] = (struct pollfd){ d->inotify_fd, POLLIN, 0 };
        for (size_t i = 0; i < d->n; i++)
            for (int k = 0; k < d->t[i]->n_notify; k++)
                pfd[np++] = (struct pollfd){ d->t[i]->notify[k], POLLIN | POLLPRI, 0 };
        double wait = next - mono_s();
        int ms = wait > 0 ? (int)(wait * 1000) + 1 : 0;
        int pr = poll(pfd, np, ms);
        if (pr > 0) {
            char drain[4096];
            for (size_t i = 0; i < np; i++) {
                if (pfd[i].revents & POLLIN)
                    while (read(pfd[i].fd, drain, sizeof drain) > 0) {
                    }
            }
            /* A notification samples now, at most every 50 ms, so a burst
             * of events cannot spin the loop. */
            if (mono_s() - d->last_sample_mono >= 0.05) {
                d->wakeups++;
                sample_all(d);
                render(d);
            } else {
                struct timespec ts = { 0, 20 * 1000000L };
                nanosleep(&ts, NULL);
            }
        }
    }
    double cpu, rss, p50, p99, mx;
    self_usage(&cpu, &rss);
    gap_percentiles(d, &p50, &p99, &mx);
    logf_(d, "stopping: %llu samples, %llu wakeups, gap p50 %.1f ms p99 %.1f ms max %.1f ms, "
          "cpu %.3f s over %.1f s, rss %.1f MiB",
          (unsigned long long)d->samples, (unsigned long long)d->wakeups, p50 * 1000, p99 * 1000,
          mx * 1000, cpu, mono_s() - start, rss / 1048576.0);
    if (c->print_metrics && d->m.text)
        fwrite(d->m.text, 1, d->m.len, stdout);
    rc = 0;
out:
    oomkit__exporter_stop(d->exp);
    oomkit__alert_stop(d->am, 2);
    for (size_t i = 0; i < d->n; i++)
        free_target(d, d->t[i]);
    oomkit__free(d->t);
    oomkit__free(d->scratch);
    oomkit__free(d->capbuf);
    oomkit__free(d->pfd);
    oomkit__metrics_free(&d->m);
    if (d->inotify_fd >= 0)
        close(d->inotify_fd);
    oomkit_mem_ctx_close(d->ctx);
    return rc;
}
