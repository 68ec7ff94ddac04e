/* Capture bundle writer (see capture.h). Reads go through the mem readers
 * and the watch_sys seam; this file decides what to keep and in which
 * order: the heap-profile signal goes out first so the profiler dumps while
 * the other files are copied, and the manifest and the rename come last. */
#include "watch/capture.h"

#include "core/alloc.h"
#include "watch/alert.h"
#include "watch/watch_sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 24

struct bundle {
    const struct oomkit__capture_request *req;
    int dirfd;
    struct { char name[48]; uint64_t bytes; } files[MAX_FILES];
    unsigned n_files;
    char problems[8][200];
    unsigned n_problems;
    uint64_t bytes;
    uint64_t budget; /* bytes this bundle may still use */
};

static double now_unix_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void problem(struct bundle *b, const char *what, int err)
{
    if (b->n_problems < 8)
        snprintf(b->problems[b->n_problems], sizeof b->problems[0], "%s: %s", what,
                 strerror(err < 0 ? -err : err));
    b->n_problems++;
}

static void add_file(struct bundle *b, const char *name, uint64_t bytes)
{
    if (b->n_files < MAX_FILES) {
        snprintf(b->files[b->n_files].name, sizeof b->files[0].name, "%s", name);
        b->files[b->n_files].bytes = bytes;
        b->n_files++;
    }
    b->bytes += bytes;
    b->budget = b->budget > bytes ? b->budget - bytes : 0;
}

static uint64_t cap_for(const struct bundle *b)
{
    uint64_t m = b->req->max_file_bytes ? b->req->max_file_bytes : (16u << 20);
    return m < b->budget ? m : b->budget;
}

static void copy_sys(struct bundle *b, const char *sys_path, const char *name)
{
    uint64_t w = 0;
    int rc = oomkit__wsys_copy(sys_path, b->dirfd, name, cap_for(b), b->req->buf,
                               b->req->buf_len, &w);
    if (rc < 0) {
        problem(b, sys_path, rc);
        if (w == 0) {
            unlinkat(b->dirfd, name, 0);
            return;
        }
    }
    add_file(b, name, w);
}

static void write_text(struct bundle *b, const char *name, const char *text, size_t len)
{
    if (len > b->budget) {
        problem(b, name, -EFBIG);
        return;
    }
    int rc = oomkit__wsys_write(b->dirfd, name, text, len);
    if (rc < 0) {
        problem(b, name, rc);
        unlinkat(b->dirfd, name, 0);
        return;
    }
    add_file(b, name, len);
}

/* A growable text buffer through the oomkit allocator. */
struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
};

static void sb_printf(struct sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *s, const char *fmt, ...)
{
    if (s->oom)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(s->p ? s->p + s->len : NULL, s->p ? s->cap - s->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (s->p && s->len + (size_t)n < s->cap) {
            s->len += (size_t)n;
            return;
        }
        size_t cap = s->cap ? s->cap * 2 : 4096;
        while (cap < s->len + (size_t)n + 1)
            cap *= 2;
        char *q = oomkit__realloc(s->p, cap);
        if (q == NULL) {
            s->oom = 1;
            return;
        }
        s->p = q;
        s->cap = cap;
    }
}

/* ---- heap profile (liboomkit_prof.so) ---- */

struct prof_target {
    int present;
    int sig;
    char dir[1024];    /* real path of the dump directory */
    char base[256];    /* file name prefix */
};

static void detect_prof(struct bundle *b, struct prof_target *pt)
{
    const struct oomkit__capture_request *r = b->req;
    char sp[128];
    size_t len;
    memset(pt, 0, sizeof *pt);
    pt->sig = SIGUSR2;
    snprintf(pt->base, sizeof pt->base, "oomkit-prof");
    snprintf(sp, sizeof sp, "/proc/%d/environ", (int)r->pid);
    const char *conf = NULL;
    if (oomkit__wsys_read(sp, r->buf, r->buf_len, &len) == 0) {
        for (size_t i = 0; i < len; i += strlen(r->buf + i) + 1) {
            if (strncmp(r->buf + i, "OOMKIT_PROF=", 12) == 0) {
                pt->present = 1;
                conf = r->buf + i + 12;
            } else if (strncmp(r->buf + i, "LD_PRELOAD=", 11) == 0 &&
                       strstr(r->buf + i, "liboomkit_prof.so") != NULL) {
                pt->present = 1;
            }
        }
    }
    char out[512] = "oomkit-prof";
    if (conf != NULL) {
        /* The same comma-separated settings the profiler reads: only out=
         * and signal= matter here. */
        const char *o = strstr(conf, "out=");
        if (o != NULL) {
            size_t n = strcspn(o + 4, ",");
            if (n > 0 && n < sizeof out) {
                memcpy(out, o + 4, n);
                out[n] = '\0';
            }
        }
        const char *s = strstr(conf, "signal=");
        if (s != NULL) {
            s += 7;
            if (strncmp(s, "SIG", 3) == 0)
                s += 3;
            if (strncmp(s, "USR1", 4) == 0)
                pt->sig = SIGUSR1;
            else if (strncmp(s, "PROF", 4) == 0)
                pt->sig = SIGPROF;
            else if (strncmp(s, "HUP", 3) == 0)
                pt->sig = SIGHUP;
            else if (strncmp(s, "WINCH", 5) == 0)
                pt->sig = SIGWINCH;
            else if (atoi(s) > 0)
                pt->sig = atoi(s);
        }
    }
    if (!pt->present) {
        snprintf(sp, sizeof sp, "/proc/%d/maps", (int)r->pid);
        if (oomkit__wsys_read(sp, r->buf, r->buf_len, &len) == 0 &&
            strstr(r->buf, "liboomkit_prof.so") != NULL)
            pt->present = 1;
    }
    if (!pt->present)
        return;
    const char *slash = strrchr(out, '/');
    snprintf(pt->base, sizeof pt->base, "%.255s", slash ? slash + 1 : out);
    char dir_sys[1024];
    if (out[0] == '/')
        snprintf(dir_sys, sizeof dir_sys, "%.*s", slash ? (int)(slash - out) : 0, out);
    else
        snprintf(dir_sys, sizeof dir_sys, "/proc/%d/cwd%s%.*s", (int)r->pid, slash ? "/" : "",
                 slash ? (int)(slash - out) : 0, out);
    if (dir_sys[0] == '\0')
        snprintf(dir_sys, sizeof dir_sys, "/");
    oomkit__wsys_path(dir_sys, pt->dir, sizeof pt->dir);
}

/* Newest `<base>.<pid>.*.pb.gz` in pt->dir modified at or after since_s. */
static int find_profile(const struct prof_target *pt, pid_t pid, double since_s, char *out, size_t cap)
{
    DIR *d = opendir(pt->dir);
    if (d == NULL)
        return 0;
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s.%d.", pt->base, (int)pid);
    double best = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || n < 6 ||
            strcmp(e->d_name + n - 6, ".pb.gz") != 0)
            continue;
        struct stat sb;
        if (fstatat(dirfd(d), e->d_name, &sb, 0) != 0)
            continue;
        double m = (double)sb.st_mtim.tv_sec + (double)sb.st_mtim.tv_nsec / 1e9;
        if (m + 0.01 >= since_s && m > best) {
            best = m;
            snprintf(out, cap, "%s/%s", pt->dir, e->d_name);
        }
    }
    closedir(d);
    return best >= 0;
}

/* ---- categorised smaps ---- */

static void write_categorised(struct bundle *b)
{
    const struct oomkit__capture_request *r = b->req;
    if (r->ctx == NULL || r->pid <= 0)
        return;
    oomkit_mem_breakdown bd;
    oomkit_mem_maps *maps = NULL;
    int rc = oomkit_mem_breakdown_read(r->ctx, r->pid, &bd, &maps, NULL);
    if (rc < 0) {
        problem(b, "categorised smaps", rc);
        return;
    }
    struct sbuf s = { 0 };
    sb_printf(&s, "# category\trss_bytes\tpss_bytes\tswap_bytes\tsize_bytes\tmappings\n");
    for (int c = 0; c < OOMKIT_MEM_CAT_COUNT; c++)
        sb_printf(&s, "# %s\t%llu\t%llu\t%llu\t%llu\t%llu\n",
                  oomkit_mem_category_name((oomkit_mem_category)c),
                  (unsigned long long)bd.cat[c].rss_bytes, (unsigned long long)bd.cat[c].pss_bytes,
                  (unsigned long long)bd.cat[c].swap_bytes, (unsigned long long)bd.cat[c].size_bytes,
                  (unsigned long long)bd.cat[c].mappings);
    sb_printf(&s, "category\tstart\tend\tperms\trss_bytes\tpss_bytes\tswap_bytes\tpath\n");
    for (size_t i = 0; i < oomkit_mem_maps_count(maps); i++) {
        const oomkit_mem_mapping *m = oomkit_mem_maps_get(maps, i);
        uint64_t rss = oomkit_mem_has(m->f.rss_bytes) ? m->f.rss_bytes : 0;
        uint64_t pss = oomkit_mem_has(m->f.pss_bytes) ? m->f.pss_bytes : 0;
        uint64_t swp = oomkit_mem_has(m->f.swap_bytes) ? m->f.swap_bytes : 0;
        sb_printf(&s, "%s\t%llx\t%llx\t%s\t%llu\t%llu\t%llu\t%.*s\n",
                  oomkit_mem_category_name((oomkit_mem_category)m->category),
                  (unsigned long long)m->start, (unsigned long long)m->end, m->perms,
                  (unsigned long long)rss, (unsigned long long)pss, (unsigned long long)swp,
                  (int)m->path.len, m->path.ptr ? m->path.ptr : "");
    }
    oomkit_mem_maps_free(maps);
    if (s.oom)
        problem(b, "smaps_categorised.tsv", -ENOMEM);
    else
        write_text(b, "smaps_categorised.tsv", s.p, s.len);
    oomkit__free(s.p);
}

static void write_kernel_stacks(struct bundle *b)
{
    const struct oomkit__capture_request *r = b->req;
    char sp[128], real[1200];
    snprintf(sp, sizeof sp, "/proc/%d/task", (int)r->pid);
    if (oomkit__wsys_path(sp, real, sizeof real) < 0)
        return;
    DIR *d = opendir(real);
    if (d == NULL) {
        problem(b, sp, -errno);
        return;
    }
    struct sbuf s = { 0 };
    struct dirent *e;
    unsigned threads = 0, unreadable = 0;
    while ((e = readdir(d)) != NULL && threads < 4096) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        threads++;
        char fp[400], comm[64] = "?";
        size_t len;
        snprintf(fp, sizeof fp, "/proc/%d/task/%.255s/comm", (int)r->pid, e->d_name);
        if (oomkit__wsys_read(fp, comm, sizeof comm, &len) == 0 && len > 0 && comm[len - 1] == '\n')
            comm[len - 1] = '\0';
        snprintf(fp, sizeof fp, "/proc/%d/task/%.255s/stack", (int)r->pid, e->d_name);
        sb_printf(&s, "== tid %s (%s)\n", e->d_name, comm);
        if (oomkit__wsys_read(fp, r->buf, r->buf_len, &len) == 0)
            sb_printf(&s, "%s\n", r->buf);
        else {
            unreadable++;
            sb_printf(&s, "(not readable: kernel stacks need root)\n\n");
        }
    }
    closedir(d);
    if (threads > 0 && unreadable == threads)
        problem(b, "kernel stacks", -EACCES);
    if (!s.oom && s.len > 0)
        write_text(b, "kernel_stacks.txt", s.p, s.len);
    oomkit__free(s.p);
}

static void write_samples(struct bundle *b)
{
    const struct oomkit__capture_request *r = b->req;
    struct sbuf s = { 0 };
    char ts[40];
    sb_printf(&s, "time,t_unix_s,working_set_bytes,usage_bytes,limit_bytes,predicted_oom_s\n");
    for (size_t i = 0; i < r->n_samples; i++) {
        const struct oomkit__capture_sample *x = &r->samples[i];
        oomkit__alert_rfc3339(x->t_unix_s, ts, sizeof ts);
        sb_printf(&s, "%s,%.6f,%.0f,%.0f,%.0f,%g\n", ts, x->t_unix_s, x->working_set_bytes,
                  x->usage_bytes, x->limit_bytes, x->tto_s);
    }
    if (!s.oom)
        write_text(b, "samples.csv", s.p, s.len);
    oomkit__free(s.p);
}

static void write_report(struct bundle *b, const char *captured_at)
{
    const struct oomkit__capture_request *r = b->req;
    const double mib = 1024.0 * 1024.0;
    struct sbuf s = { 0 };
    sb_printf(&s, "# oomkit capture: %s\n\n", r->target);
    sb_printf(&s, "- captured at: %s\n- trigger: %s\n", captured_at, r->trigger);
    sb_printf(&s, "- working set: %.1f MiB of a %.1f MiB limit (%.0f%%)\n",
              r->working_set_bytes / mib, r->limit_bytes / mib,
              r->limit_bytes > 0 ? 100.0 * r->working_set_bytes / r->limit_bytes : 0.0);
    if (isfinite(r->predicted_oom_s))
        sb_printf(&s, "- predicted OOM in: %.1f s\n", r->predicted_oom_s);
    else
        sb_printf(&s, "- predicted OOM in: never (no growth)\n");
    if (r->pid > 0)
        sb_printf(&s, "- process: %d\n", (int)r->pid);
    if (r->cgroup_dir)
        sb_printf(&s, "- cgroup: %s\n", r->cgroup_dir);
    if (r->verdict) {
        sb_printf(&s, "\n## Verdict: %s (confidence %.2f)\n\n%s\n",
                  oomkit__verdict_kind_name(r->verdict->kind), r->verdict->confidence,
                  r->verdict->evidence);
    }
    sb_printf(&s, "\n## Files\n\n");
    for (unsigned i = 0; i < b->n_files && i < MAX_FILES; i++)
        sb_printf(&s, "- `%s` (%llu bytes)\n", b->files[i].name,
                  (unsigned long long)b->files[i].bytes);
    if (b->n_problems) {
        sb_printf(&s, "\n## Not captured\n\n");
        for (unsigned i = 0; i < b->n_problems && i < 8; i++)
            sb_printf(&s, "- %s\n", b->problems[i]);
    }
    sb_printf(&s, "\n![timeline](timeline.svg)\n");
    if (!s.oom)
        write_text(b, "report.md", s.p, s.len);
    oomkit__free(s.p);
}

static json_object *jnum(double v)
{
    return isfinite(v) ? json_object_new_double(v) : NULL; /* null for +Inf */
}

static int write_manifest(struct bundle *b, const char *captured_at)
{
    const struct oomkit__capture_request *r = b->req;
    json_object *m = json_object_new_object();
    if (m == NULL)
        return -ENOMEM;
    json_object_object_add(m, "target", json_object_new_string(r->target));
    if (r->pid > 0)
        json_object_object_add(m, "pid", json_object_new_int(r->pid));
    if (r->cgroup_dir)
        json_object_object_add(m, "cgroup", json_object_new_string(r->cgroup_dir));
    json_object_object_add(m, "trigger", json_object_new_string(r->trigger));
    json_object_object_add(m, "captured_at", json_object_new_string(captured_at));
    json_object_object_add(m, "limit_bytes", json_object_new_int64((int64_t)r->limit_bytes));
    json_object_object_add(m, "working_set_bytes",
                           json_object_new_int64((int64_t)r->working_set_bytes));
    json_object_object_add(m, "predicted_oom_s", jnum(r->predicted_oom_s));
    json_object *files = json_object_new_array();
    for (unsigned i = 0; i < b->n_files && i < MAX_FILES; i++) {
        json_object *f = json_object_new_object();
        json_object_object_add(f, "name", json_object_new_string(b->files[i].name));
        json_object_object_add(f, "bytes", json_object_new_int64((int64_t)b->files[i].bytes));
        json_object_array_add(files, f);
    }
    json_object_object_add(m, "files", files);
    json_object *v = json_object_new_object();
    if (r->verdict) {
        json_object_object_add(v, "kind",
                               json_object_new_string(oomkit__verdict_kind_name(r->verdict->kind)));
        json_object_object_add(v, "confidence", json_object_new_double(r->verdict->confidence));
        json_object_object_add(v, "evidence", json_object_new_string(r->verdict->evidence));
    } else {
        json_object_object_add(v, "kind", json_object_new_string("unknown"));
        json_object_object_add(v, "confidence", json_object_new_double(0));
        json_object_object_add(v, "evidence", json_object_new_string("no baseline"));
    }
    json_object_object_add(m, "verdict", v);
    json_object *pr = json_object_new_array();
    for (unsigned i = 0; i < b->n_problems && i < 8; i++)
        json_object_array_add(pr, json_object_new_string(b->problems[i]));
    json_object_object_add(m, "problems", pr);
    size_t len = 0;
    const char *s = json_object_to_json_string_length(m, JSON_C_TO_STRING_PRETTY, &len);
    int rc = s ? oomkit__wsys_write(b->dirfd, "manifest.json", s, len) : -ENOMEM;
    json_object_put(m);
    return rc;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(p);
    return 0;
}

struct old_bundle {
    char name[256];
    uint64_t bytes; /* oomkit__wsys_du of the bundle */
};

/* 1 if name is one this file gives a bundle, finished or not:
 * [.partial-]YYYYMMDDTHHMMSS.uuuuuuZ-TARGET. Retention removes nothing
 * else, so a capture directory shared with other files (a user's home
 * given as --capture-dir) loses none of them. */
static int is_bundle_name(const char *name)
{
    if (strncmp(name, ".partial-", 9) == 0)
        name += 9;
    static const char shape[] = "dddddddd" "T" "dddddd" "." "dddddd" "Z-";
    for (size_t i = 0; i < sizeof shape - 1; i++) {
        int ok = shape[i] == 'd' ? name[i] >= '0' && name[i] <= '9' : name[i] == shape[i];
        if (!ok)
            return 0;
    }
    return 1;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(((const struct old_bundle *)a)->name, ((const struct old_bundle *)b)->name);
}

/* mkdir -p: creates path and its missing parents (0755 less the umask;
 * path itself gets mode). An existing directory is not an error. On
 * failure, failed (if not NULL) gets the prefix that could not be created. */
static int mkdir_p(const char *path, mode_t mode, char *failed, size_t cap)
{
    char p[4096];
    size_t n = strlen(path);
    if (n == 0)
        return -ENOENT;
    if (n >= sizeof p)
        return -ENAMETOOLONG;
    memcpy(p, path, n + 1);
    while (n > 1 && p[n - 1] == '/')
        p[--n] = '\0';
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        int last = *s == '\0';
        *s = '\0';
        if (mkdir(p, last ? mode : 0755) != 0 && errno != EEXIST) {
            int e = errno;
            if (failed != NULL)
                snprintf(failed, cap, "%s", p);
            return -e;
        }
        if (last)
            return 0;
        *s = '/';
    }
}

int oomkit__capture_root_check(const char *root_dir, int create, char *why, size_t why_len)
{
    if (create) {
        char failed[4096];
        int rc = mkdir_p(root_dir, 0700, failed, sizeof failed);
        if (rc < 0) {
            snprintf(why, why_len, "cannot create %.1000s: %s", failed, strerror(-rc));
            return rc;
        }
    }
    struct stat sb;
    if (stat(root_dir, &sb) != 0) {
        int e = errno;
        if (!create && e == ENOENT)
            return 0; /* a dry run would have created it */
        snprintf(why, why_len, "%s", strerror(e));
        return -e;
    }
    if (!S_ISDIR(sb.st_mode)) {
        snprintf(why, why_len, "exists and is not a directory");
        return -ENOTDIR;
    }
    /* access() honours a read-only mount even for root. */
    if (create && access(root_dir, W_OK | X_OK) != 0) {
        int e = errno;
        snprintf(why, why_len, "not writable: %s", strerror(e));
        return -e;
    }
    return 0;
}

int oomkit__capture_retention(const char *root_dir, uint64_t max_total_bytes, uint64_t reserve_bytes)
{
    uint64_t total = oomkit__wsys_du(root_dir);
    if (total + reserve_bytes <= max_total_bytes)
        return 0;
    DIR *d = opendir(root_dir);
    if (d == NULL)
        return 0;
    /* Bundle names start with their UTC time, so name order is age order;
     * partial directories left by a crash go first. */
    struct old_bundle list[512];
    size_t n = 0;
    uint64_t bundles = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 512) {
        if (!is_bundle_name(e->d_name))
            continue;
        if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
            continue;
        struct old_bundle *b = &list[n++];
        snprintf(b->name, sizeof b->name, "%s", e->d_name);
        char p[4400];
        snprintf(p, sizeof p, "%.4000s/%.255s", root_dir, b->name);
        b->bytes = oomkit__wsys_du(p);
        bundles += b->bytes;
    }
    closedir(d);
    /* Other files alone past the target: removing every bundle would not
     * reach it, so the evidence stays. */
    if (total - (bundles < total ? bundles : total) + reserve_bytes > max_total_bytes)
        return 0;
    qsort(list, n, sizeof list[0], cmp_names);
    int removed = 0;
    for (size_t i = 0; i < n && total + reserve_bytes > max_total_bytes; i++) {
        char p[4400];
        snprintf(p, sizeof p, "%.4000s/%.255s", root_dir, list[i].name);
        nftw(p, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
        removed++;
        total -= list[i].bytes < total ? list[i].bytes : total;
    }
    return removed;
}

int oomkit__capture_write(const struct oomkit__capture_request *req,
                          struct oomkit__capture_result *res)
{
    memset(res, 0, sizeof *res);
    if (req->root_dir == NULL || req->target == NULL || req->buf == NULL || req->buf_len < 4096)
        return -EINVAL;
    struct bundle b = { 0 };
    b.req = req;
    uint64_t max_total = req->max_total_bytes ? req->max_total_bytes : (256u << 20);
    /* Checked at start-up; made again here in case it was removed since. */
    int mrc = mkdir_p(req->root_dir, 0700, NULL, 0);
    if (mrc < 0)
        return mrc;
    /* Room for a typical bundle (a few MiB with raw smaps and stacks). */
    uint64_t reserve = max_total / 4 < (4u << 20) ? max_total / 4 : (4u << 20);
    int removed = oomkit__capture_retention(req->root_dir, max_total, reserve);
    res->removed_old = removed > 0 ? (unsigned)removed : 0;
    uint64_t used = oomkit__wsys_du(req->root_dir);
    b.budget = used < max_total ? max_total - used : 0;
    if (b.budget < 8192)
        return -ENOSPC;

    double t = now_unix_s();
    char captured_at[40], name[200], partial[220];
    oomkit__alert_rfc3339(t, captured_at, sizeof captured_at);
    /* Directory name: compact UTC time, then the target with path
     * separators made safe. */
    time_t secs = (time_t)t;
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t k = strftime(name, sizeof name, "%Y%m%dT%H%M%S", &tm);
    k += (size_t)snprintf(name + k, sizeof name - k, ".%06ldZ-", (long)((t - (double)secs) * 1e6));
    for (const char *p = req->target; *p && k < 120; p++)
        name[k++] = (*p == '/' || *p == ' ' || *p == ':') ? '_' : *p;
    name[k] = '\0';
    snprintf(partial, sizeof partial, ".partial-%s", name);
    int rootfd = open(req->root_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return -errno;
    if (mkdirat(rootfd, partial, 0700) != 0) {
        int e = -errno;
        close(rootfd);
        return e;
    }
    b.dirfd = openat(rootfd, partial, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (b.dirfd < 0) {
        int e = -errno;
        close(rootfd);
        return e;
    }

    struct prof_target pt = { 0 };
    double prof_sent = 0;
    if (req->pid > 0 && req->prof_wait_s > 0) {
        detect_prof(&b, &pt);
        if (pt.present) {
            prof_sent = now_unix_s();
            int rc = oomkit__wsys_kill(req->pid, pt.sig);
            if (rc < 0) {
                problem(&b, "heap profile signal", rc);
                pt.present = 0;
            }
        }
    }
    char sp[200];
    if (req->pid > 0) {
        snprintf(sp, sizeof sp, "/proc/%d/smaps_rollup", (int)req->pid);
        copy_sys(&b, sp, "smaps_rollup");
        snprintf(sp, sizeof sp, "/proc/%d/status", (int)req->pid);
        copy_sys(&b, sp, "status");
    }
    if (req->cgroup_dir) {
        snprintf(sp, sizeof sp, "%s/memory.stat", req->cgroup_dir);
        copy_sys(&b, sp, "memory.stat");
    }
    if (req->pid > 0) {
        write_categorised(&b);
        snprintf(sp, sizeof sp, "/proc/%d/smaps", (int)req->pid);
        copy_sys(&b, sp, "smaps");
        write_kernel_stacks(&b);
        if (req->user_stacks) {
            char pidarg[24];
            snprintf(pidarg, sizeof pidarg, "%d", (int)req->pid);
            char *argv[] = { "eu-stack", "-p", pidarg, NULL };
            uint64_t w = 0;
            int rc = oomkit__wsys_run_to_file(argv, b.dirfd, "user_stacks.txt", 3000, &w);
            if (rc == 0 || (rc == -ETIMEDOUT && w > 0))
                add_file(&b, "user_stacks.txt", w);
            else if (rc != -ENOENT)
                problem(&b, "eu-stack", rc);
        }
    }
    write_samples(&b);
    char *svg = oomkit__capture_svg(req->samples, req->n_samples, req->marks, req->n_marks,
                                    req->predicted_oom_s);
    if (svg) {
        write_text(&b, "timeline.svg", svg, strlen(svg));
        oomkit__free(svg);
    }
    if (pt.present) {
        char found[1400];
        int got = 0;
        while (!(got = find_profile(&pt, req->pid, prof_sent, found, sizeof found)) &&
               now_unix_s() - prof_sent < req->prof_wait_s) {
            struct timespec ts = { 0, 20 * 1000000L };
            nanosleep(&ts, NULL);
        }
        if (got) {
            /* The profiler renames its dump into place, so a file that is
             * visible is complete. found is a real path: copy it directly. */
            int in = open(found, O_RDONLY | O_CLOEXEC);
            uint64_t w = 0;
            if (in >= 0) {
                int out = openat(b.dirfd, "heap.pb.gz", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                ssize_t n;
                while (out >= 0 && (n = read(in, req->buf, req->buf_len)) > 0 &&
                       write(out, req->buf, (size_t)n) == n)
                    w += (uint64_t)n;
                if (out >= 0) {
                    fsync(out);
                    close(out);
                }
                close(in);
                add_file(&b, "heap.pb.gz", w);
            }
        } else {
            problem(&b, "heap profile (no dump within the wait)", -ETIMEDOUT);
        }
    }
    write_report(&b, captured_at);
    int rc = write_manifest(&b, captured_at);
    if (rc == 0)
        add_file(&b, "manifest.json", 0);
    fsync(b.dirfd);
    close(b.dirfd);
    if (rc == 0 && renameat(rootfd, partial, rootfd, name) != 0)
        rc = -errno;
    if (rc < 0) {
        char p[1400];
        snprintf(p, sizeof p, "%s/%s", req->root_dir, partial);
        nftw(p, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
        close(rootfd);
        return rc;
    }
    fsync(rootfd);
    close(rootfd);
    snprintf(res->path, sizeof res->path, "%s/%s", req->root_dir, name);
    res->bytes = b.bytes;
    res->files = b.n_files;
    res->problems = b.n_problems;
    if (b.n_problems)
        snprintf(res->first_problem, sizeof res->first_problem, "%s", b.problems[0]);
    return 0;
}
