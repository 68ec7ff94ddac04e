/* Cgroup readers: mount detection (v1, v2, hybrid), a process's memory
 * cgroup, one cgroup's memory files, the derived figures, and a tree walk.
 *
 * A cgroup can be removed between any two reads. Its usage file
 * (memory.usage_in_bytes / memory.current) is mandatory, and its absence
 * is the clean -ENOENT "this cgroup is gone"; every other file is optional
 * and only leaves its fields absent, so one reader serves every kernel. */
#include "mem/mem_internal.h"

#include "core/alloc.h"

#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

int oomkit_mem_cgroup_detect(oomkit_mem_ctx *ctx, oomkit_mem_cgroup_layout *out)
{
    if (!ctx || !out)
        return -EINVAL;
    size_t len;
    int rc = oomkit__mem_read(ctx, "/proc/self/mountinfo", &len);
    if (rc < 0)
        return rc;
    rc = oomkit__mem_parsed(ctx, oomkit__parse_mountinfo(ctx->buf, len, out));
    if (rc < 0)
        return rc;
    if (out->v2_mount[0]) {
        char path[OOMKIT_MEM_PATH_MAX];
        if (snprintf(path, sizeof path, "%s/cgroup.controllers", out->v2_mount) <
                (int)sizeof path &&
            oomkit__mem_read(ctx, path, &len) == 0)
            out->v2_has_memory = oomkit__parse_controllers_has(ctx->buf, len, "memory");
    }
    if (out->v1_memory_mount[0])
        out->memory_version = 1;
    else if (out->v2_mount[0] && out->v2_has_memory)
        out->memory_version = 2;
    else
        out->memory_version = 0;
    return 0;
}

/* dir = mount + (path relative to the mount's root). */
static int join_mount(const char *mount, const char *mroot, const char *path, char *dir)
{
    const char *rel = path;
    size_t rl = strlen(mroot);
    if (rl > 1 && strncmp(path, mroot, rl) == 0 && (path[rl] == '/' || path[rl] == '\0'))
        rel = path + rl;
    if (strcmp(rel, "/") == 0)
        rel = "";
    int n = snprintf(dir, OOMKIT_MEM_PATH_MAX, "%s%s", mount, rel);
    return (n < 0 || n >= OOMKIT_MEM_PATH_MAX) ? -ENAMETOOLONG : 0;
}

int oomkit_mem_cgroup_of_pid(oomkit_mem_ctx *ctx, pid_t pid,
                             const oomkit_mem_cgroup_layout *layout,
                             oomkit_mem_cgroup_ref *out)
{
    if (!ctx || !out || pid <= 0)
        return -EINVAL;
    oomkit_mem_cgroup_layout local;
    int rc;
    if (!layout) {
        rc = oomkit_mem_cgroup_detect(ctx, &local);
        if (rc < 0)
            return rc;
        layout = &local;
    }
    char path[64];
    size_t len;
    snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
    rc = oomkit__mem_read(ctx, path, &len);
    if (rc < 0)
        return oomkit__mem_proc_err(ctx, pid, rc);
    /* Both paths live in out while parsing; the winner ends up in path. */
    char v1[OOMKIT_MEM_PATH_MAX];
    rc = oomkit__mem_parsed(ctx, oomkit__parse_proc_cgroup(ctx->buf, len, v1, out->dir));
    if (rc < 0)
        return rc;
    if (layout->memory_version == 1 && v1[0]) {
        out->version = 1;
        memcpy(out->path, v1, sizeof out->path);
        return join_mount(layout->v1_memory_mount, layout->v1_memory_root, out->path,
                          out->dir);
    }
    if (layout->memory_version == 2 && out->dir[0]) {
        out->version = 2;
        memcpy(out->path, out->dir, sizeof out->path);
        return join_mount(layout->v2_mount, layout->v2_root, out->path, out->dir);
    }
    return -ENOENT;
}

static int file_exists(oomkit_mem_ctx *ctx, const char *dir, const char *name)
{
    char p[OOMKIT_MEM_PATH_MAX], full[OOMKIT_MEM_PATH_MAX];
    if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p)
        return 0;
    if (oomkit__mem_path(ctx, p, full) < 0)
        return 0;
    struct stat st;
    return stat(full, &st) == 0;
}

int oomkit_mem_cgroup_ref_from_dir(oomkit_mem_ctx *ctx, const char *dir,
                                   oomkit_mem_cgroup_ref *out)
{
    if (!ctx || !dir || !out)
        return -EINVAL;
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (n >= OOMKIT_MEM_PATH_MAX)
        return -ENAMETOOLONG;
    memcpy(out->dir, dir, n);
    out->dir[n] = '\0';
    memcpy(out->path, out->dir, n + 1);
    if (file_exists(ctx, out->dir, "memory.current"))
        out->version = 2;
    else if (file_exists(ctx, out->dir, "memory.usage_in_bytes"))
        out->version = 1;
    else
        return -ENOENT;
    return 0;
}

int oomkit_mem_cgroup_ref_resolve(oomkit_mem_ctx *ctx, const oomkit_mem_cgroup_layout *layout,
                                  const char *path, oomkit_mem_cgroup_ref *out)
{
    if (!layout || !path)
        return -EINVAL;
    int rc = oomkit_mem_cgroup_ref_from_dir(ctx, path, out);
    if (rc != -ENOENT || path[0] != '/')
        return rc;
    const char *mnt = layout->memory_version == 1 ? layout->v1_memory_mount : layout->v2_mount;
    /* Bounded by the field: a layout the caller filled need not end. */
    int mlen = (int)strnlen(mnt, sizeof layout->v2_mount);
    char full[OOMKIT_MEM_PATH_MAX];
    if (mlen == 0 || (size_t)snprintf(full, sizeof full, "%.*s%s", mlen, mnt, path) >= sizeof full)
        return -ENOENT;
    return oomkit_mem_cgroup_ref_from_dir(ctx, full, out);
}

/* Reads dir/name into ctx->buf. */
static int read_cg(oomkit_mem_ctx *ctx, const char *dir, const char *name, size_t *len)
{
    char p[OOMKIT_MEM_PATH_MAX];
    if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p)
        return -ENAMETOOLONG;
    return oomkit__mem_read(ctx, p, len);
}

/* Optional files: missing or unsupported leaves the fields absent. */
static int optional_err(int rc)
{
    return (rc == -ENOENT || rc == -ENODEV || rc == -EOPNOTSUPP || rc == -EINVAL) ? 0 : rc;
}

/* After a read with missing optional files: if the usage file is gone too,
 * the cgroup was removed while we read it and the figures are partial. */
static int still_there(oomkit_mem_ctx *ctx, const oomkit_mem_cgroup_ref *ref)
{
    return file_exists(ctx, ref->dir,
                       ref->version == 1 ? "memory.usage_in_bytes" : "memory.current");
}

static int read_u64_file(oomkit_mem_ctx *ctx, const char *dir, const char *name,
                         int limit, uint64_t *out)
{
    size_t len;
    int rc = read_cg(ctx, dir, name, &len);
    if (rc < 0)
        return rc;
    uint64_t v;
    rc = oomkit__mem_parsed(ctx, limit ? oomkit__parse_limit(ctx->buf, len, &v)
                                       : oomkit__parse_single_u64(ctx->buf, len, &v));
    if (rc == 0)
        *out = v;
    return rc;
}

static void parse_stat_v1(const char *s, size_t len, oomkit_mem_cgroup_stats *out)
{
    oomkit__parse_cgroup_stat(s, len, 1, out);
}
static void parse_stat_v2(const char *s, size_t len, oomkit_mem_cgroup_stats *out)
{
    oomkit__parse_cgroup_stat(s, len, 2, out);
}
static void parse_pressure(const char *s, size_t len, oomkit_mem_cgroup_stats *out)
{
    out->psi_present = oomkit__parse_psi(s, len, &out->psi) == 0;
}

/* The files of one cgroup version: the usage file, which must be there;
 * single-value files (limit = 1 when "max" may stand for no limit); and
 * key/value files with their parsers. All but usage are optional. */
struct cgroup_layout {
    const char *usage;
    struct {
        const char *name;
        int limit;
        size_t field; /* offsetof a uint64_t in oomkit_mem_cgroup_stats */
    } values[4];
    struct {
        const char *name;
        void (*parse)(const char *s, size_t len, oomkit_mem_cgroup_stats *out);
    } tables[3];
};

#define STAT_FIELD(f) offsetof(oomkit_mem_cgroup_stats, f)
static const struct cgroup_layout layouts[2] = {
    { "memory.usage_in_bytes",
      { { "memory.limit_in_bytes", 1, STAT_FIELD(limit_bytes) },
        { "memory.max_usage_in_bytes", 0, STAT_FIELD(max_usage_bytes) },
        { "memory.failcnt", 0, STAT_FIELD(failcnt) } },
      { { "memory.stat", parse_stat_v1 }, { "memory.oom_control", oomkit__parse_oom_control } } },
    { "memory.current",
      { { "memory.max", 1, STAT_FIELD(limit_bytes) },
        { "memory.high", 1, STAT_FIELD(high_bytes) },
        { "memory.peak", 0, STAT_FIELD(max_usage_bytes) },
        { "memory.swap.current", 0, STAT_FIELD(swap_bytes) } },
      { { "memory.stat", parse_stat_v2 },
        { "memory.events", oomkit__parse_cgroup_events },
        { "memory.pressure", parse_pressure } } },
};

int oomkit_mem_cgroup_read(oomkit_mem_ctx *ctx, const oomkit_mem_cgroup_ref *ref,
                           oomkit_mem_cgroup_stats *out)
{
    if (!ctx || !ref || !out || (ref->version != 1 && ref->version != 2))
        return -EINVAL;
    const char *dir = ref->dir;
    const struct cgroup_layout *l = &layouts[ref->version - 1];
    oomkit__cgroup_stats_clear(out, ref->version);
    int rc = read_u64_file(ctx, dir, l->usage, 0, &out->usage_bytes);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < sizeof l->values / sizeof l->values[0] && l->values[i].name; i++) {
        uint64_t *dst = (uint64_t *)((char *)out + l->values[i].field);
        rc = optional_err(read_u64_file(ctx, dir, l->values[i].name, l->values[i].limit, dst));
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < sizeof l->tables / sizeof l->tables[0] && l->tables[i].name; i++) {
        size_t len;
        rc = read_cg(ctx, dir, l->tables[i].name, &len);
        if (rc == 0)
            l->tables[i].parse(ctx->buf, len, out);
        else if ((rc = optional_err(rc)) < 0)
            return rc;
    }
    /* Optional files may be missing for good (older kernel) or because
     * the cgroup is being removed; only the second is an error. */
    if (!still_there(ctx, ref))
        return -ENOENT;
    oomkit_mem_cgroup_derive(out);
    return 0;
}

void oomkit_mem_cgroup_derive(oomkit_mem_cgroup_stats *s)
{
    if (!s)
        return;
    if (!oomkit_mem_has(s->usage_bytes)) {
        s->working_set_bytes = OOMKIT_MEM_ABSENT;
    } else if (!oomkit_mem_has(s->inactive_file_bytes)) {
        s->working_set_bytes = s->usage_bytes;
    } else {
        s->working_set_bytes = s->usage_bytes > s->inactive_file_bytes
                                   ? s->usage_bytes - s->inactive_file_bytes
                                   : 0;
    }
    s->rss_bytes = s->anon_bytes;
    s->cache_bytes = s->file_bytes;
    /* The effective limit: v1 reports the tightest ancestor limit as
     * hierarchical_memory_limit, which is what the kernel enforces. */
    uint64_t limit = s->limit_bytes;
    if (oomkit_mem_has(s->hierarchical_limit_bytes) &&
        (!oomkit_mem_has(limit) || s->hierarchical_limit_bytes < limit))
        limit = s->hierarchical_limit_bytes;
    if (!oomkit_mem_has(s->working_set_bytes) || limit == OOMKIT_MEM_ABSENT)
        s->headroom_bytes = OOMKIT_MEM_ABSENT;
    else if (limit == OOMKIT_MEM_NO_LIMIT)
        s->headroom_bytes = OOMKIT_MEM_NO_LIMIT;
    else
        s->headroom_bytes = limit > s->working_set_bytes ? limit - s->working_set_bytes : 0;
}

struct walk {
    oomkit_mem_ctx *ctx;
    char path[OOMKIT_MEM_PATH_MAX];
    int (*fn)(const char *dir, void *arg);
    void *arg;
};

static int walk_rec(struct walk *w, size_t len, int top)
{
    int rc = w->fn(w->path, w->arg);
    if (rc)
        return rc;
    int err;
    DIR *d = oomkit__mem_opendir(w->ctx, w->path, &err);
    if (!d)
        return (top || (err != -ENOENT && err != -ENOTDIR)) ? err : 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        int is_dir = e->d_type == DT_DIR;
        size_t nl = strlen(e->d_name);
        if (len + 1 + nl + 1 > sizeof w->path)
            continue;
        w->path[len] = '/';
        memcpy(w->path + len + 1, e->d_name, nl + 1);
        if (e->d_type == DT_UNKNOWN) {
            char full[OOMKIT_MEM_PATH_MAX];
            struct stat st;
            is_dir = oomkit__mem_path(w->ctx, w->path, full) == 0 && stat(full, &st) == 0 &&
                     S_ISDIR(st.st_mode);
        }
        if (is_dir) {
            rc = walk_rec(w, len + 1 + nl, 0);
            if (rc) {
                closedir(d);
                return rc;
            }
        }
        w->path[len] = '\0';
    }
    closedir(d);
    return 0;
}

int oomkit_mem_cgroup_walk(oomkit_mem_ctx *ctx, const char *dir,
                           int (*fn)(const char *dir, void *arg), void *arg)
{
    if (!ctx || !dir || !fn)
        return -EINVAL;
    struct walk *w = oomkit__malloc(sizeof *w);
    if (!w)
        return -ENOMEM;
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    if (n >= sizeof w->path) {
        oomkit__free(w);
        return -ENAMETOOLONG;
    }
    memcpy(w->path, dir, n);
    w->path[n] = '\0';
    w->ctx = ctx;
    w->fn = fn;
    w->arg = arg;
    int rc = walk_rec(w, n, 1);
    oomkit__free(w);
    return rc;
}
