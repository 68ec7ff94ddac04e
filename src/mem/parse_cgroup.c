/* Parsers for cgroup memory files (v1 and v2), /proc/PID/cgroup and
 * /proc/self/mountinfo.
 *
 * Formats: Documentation/admin-guide/cgroup-v1/memory.rst,
 * Documentation/admin-guide/cgroup-v2.rst, proc(5) for mountinfo. v1's
 * memory.stat has flat keys for the cgroup itself and total_* keys that
 * include descendants; like cAdvisor we prefer total_* (the hierarchical
 * figures match v2, where every value is hierarchical) and fall back to
 * the flat key on kernels or configurations that lack it. */
#include "mem/mem_internal.h"

#include <stddef.h>

void oomkit__cgroup_stats_clear(oomkit_mem_cgroup_stats *s, int version)
{
    memset(s, 0xff, sizeof *s);
    s->version = version;
    s->oom_kill_disable = -1;
    s->under_oom = -1;
    s->psi_present = 0;
    memset(&s->psi, 0, sizeof s->psi);
}

/* v1: flat and total_ values side by side; picked per field afterwards. */
enum {
    V1_CACHE, V1_RSS, V1_SHMEM, V1_MAPPED, V1_DIRTY, V1_WB, V1_SWAP, V1_IA, V1_AA,
    V1_IF, V1_AF, V1_UNEV, V1_PGF, V1_PGMAJ, V1_N
};
struct v1raw {
    uint64_t flat[V1_N], total[V1_N];
    uint64_t hier_limit;
};
#define F(s, i) OOMKIT__KV(s, OOMKIT__KV_BYTES, struct v1raw, flat[i])
#define T(s, i) OOMKIT__KV("total_" s, OOMKIT__KV_BYTES, struct v1raw, total[i])
#define BOTH(s, i) F(s, i), T(s, i)
static const struct oomkit__kv_key v1_keys[] = {
    BOTH("cache", V1_CACHE), BOTH("rss", V1_RSS), BOTH("shmem", V1_SHMEM),
    BOTH("mapped_file", V1_MAPPED), BOTH("dirty", V1_DIRTY), BOTH("writeback", V1_WB),
    BOTH("swap", V1_SWAP), BOTH("inactive_anon", V1_IA), BOTH("active_anon", V1_AA),
    BOTH("inactive_file", V1_IF), BOTH("active_file", V1_AF),
    BOTH("unevictable", V1_UNEV), BOTH("pgfault", V1_PGF), BOTH("pgmajfault", V1_PGMAJ),
    OOMKIT__KV("hierarchical_memory_limit", OOMKIT__KV_BYTES, struct v1raw, hier_limit),
};
#undef F
#undef T
#undef BOTH

#define V2(s, field) OOMKIT__KV(s, OOMKIT__KV_BYTES, oomkit_mem_cgroup_stats, field)
static const struct oomkit__kv_key v2_keys[] = {
    V2("anon", anon_bytes), V2("file", file_bytes), V2("kernel", kernel_bytes),
    V2("shmem", shmem_bytes), V2("file_mapped", file_mapped_bytes),
    V2("file_dirty", file_dirty_bytes), V2("file_writeback", file_writeback_bytes),
    V2("inactive_anon", inactive_anon_bytes), V2("active_anon", active_anon_bytes),
    V2("inactive_file", inactive_file_bytes), V2("active_file", active_file_bytes),
    V2("unevictable", unevictable_bytes), V2("slab_reclaimable", slab_reclaimable_bytes),
    V2("slab_unreclaimable", slab_unreclaimable_bytes), V2("pgfault", pgfault),
    V2("pgmajfault", pgmajfault),
};
static const struct oomkit__kv_key events_keys[] = {
    V2("low", events_low), V2("high", events_high), V2("max", events_max),
    V2("oom", events_oom), V2("oom_kill", oom_kill), V2("oom_group_kill", oom_group_kill),
};
#undef V2

void oomkit__parse_cgroup_stat(const char *s, size_t len, int version,
                               oomkit_mem_cgroup_stats *out)
{
    if (version == 2) {
        oomkit__parse_kv(s, len, ' ', v2_keys, sizeof v2_keys / sizeof v2_keys[0], out);
        return;
    }
    struct v1raw r;
    memset(&r, 0xff, sizeof r);
    oomkit__parse_kv(s, len, ' ', v1_keys, sizeof v1_keys / sizeof v1_keys[0], &r);
    uint64_t pick[V1_N];
    for (int i = 0; i < V1_N; i++)
        pick[i] = r.total[i] != OOMKIT_MEM_ABSENT ? r.total[i] : r.flat[i];
    out->file_bytes = pick[V1_CACHE];
    out->anon_bytes = pick[V1_RSS];
    out->shmem_bytes = pick[V1_SHMEM];
    out->file_mapped_bytes = pick[V1_MAPPED];
    out->file_dirty_bytes = pick[V1_DIRTY];
    out->file_writeback_bytes = pick[V1_WB];
    if (pick[V1_SWAP] != OOMKIT_MEM_ABSENT)
        out->swap_bytes = pick[V1_SWAP];
    out->inactive_anon_bytes = pick[V1_IA];
    out->active_anon_bytes = pick[V1_AA];
    out->inactive_file_bytes = pick[V1_IF];
    out->active_file_bytes = pick[V1_AF];
    out->unevictable_bytes = pick[V1_UNEV];
    out->pgfault = pick[V1_PGF];
    out->pgmajfault = pick[V1_PGMAJ];
    if (r.hier_limit != OOMKIT_MEM_ABSENT)
        out->hierarchical_limit_bytes =
            r.hier_limit >= OOMKIT_MEM_HUGE_LIMIT_BYTES ? OOMKIT_MEM_NO_LIMIT : r.hier_limit;
}

void oomkit__parse_cgroup_events(const char *s, size_t len, oomkit_mem_cgroup_stats *out)
{
    oomkit__parse_kv(s, len, ' ', events_keys, sizeof events_keys / sizeof events_keys[0],
                     out);
}

void oomkit__parse_oom_control(const char *s, size_t len, oomkit_mem_cgroup_stats *out)
{
    struct {
        uint64_t disable, under, kill;
    } r;
    static const struct oomkit__kv_key keys[] = {
        { "oom_kill_disable", 16, OOMKIT__KV_COUNT, 0 },
        { "under_oom", 9, OOMKIT__KV_COUNT, sizeof(uint64_t) },
        { "oom_kill", 8, OOMKIT__KV_COUNT, 2 * sizeof(uint64_t) },
    };
    memset(&r, 0xff, sizeof r);
    oomkit__parse_kv(s, len, ' ', keys, 3, &r);
    if (r.disable != OOMKIT_MEM_ABSENT)
        out->oom_kill_disable = r.disable != 0;
    if (r.under != OOMKIT_MEM_ABSENT)
        out->under_oom = r.under != 0;
    if (r.kill != OOMKIT_MEM_ABSENT)
        out->oom_kill = r.kill;
}

static void copy_path(char *dst, const char *s, size_t n)
{
    if (n >= OOMKIT_MEM_PATH_MAX)
        n = OOMKIT_MEM_PATH_MAX - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

/* True if the comma-separated list s[0..n) contains word. */
static int list_has(const char *s, size_t n, const char *word)
{
    size_t wl = strlen(word), i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        if (j - i == wl && memcmp(s + i, word, wl) == 0)
            return 1;
        i = j + 1;
    }
    return 0;
}

int oomkit__parse_proc_cgroup(const char *s, size_t len, char *v1_path, char *v2_path)
{
    v1_path[0] = v2_path[0] = '\0';
    int found = 0;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t eol = nl ? (size_t)(nl - s) : len;
        /* "ID:controllers:path"; the path may itself contain ':'. */
        const char *c1 = memchr(s + i, ':', eol - i);
        const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(s + eol - c1 - 1)) : NULL;
        if (c2) {
            const char *ctl = c1 + 1;
            size_t ctl_len = (size_t)(c2 - ctl);
            const char *path = c2 + 1;
            size_t path_len = (size_t)(s + eol - path);
            if (c1 - (s + i) == 1 && s[i] == '0' && ctl_len == 0) {
                copy_path(v2_path, path, path_len);
                found = 1;
            } else if (list_has(ctl, ctl_len, "memory")) {
                copy_path(v1_path, path, path_len);
                found = 1;
            }
        }
        i = eol + 1;
    }
    return found ? 0 : -ENOENT;
}

/* Copies a mountinfo field, decoding the kernel's octal escapes (\040). */
static void copy_unescaped(char *dst, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < OOMKIT_MEM_PATH_MAX; i++) {
        if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3' &&
            s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
            dst[o++] = (char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
            continue;
        }
        dst[o++] = s[i];
    }
    dst[o] = '\0';
}

int oomkit__parse_mountinfo(const char *s, size_t len, oomkit_mem_cgroup_layout *out)
{
    memset(out, 0, sizeof *out);
    int any_v1 = 0;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t eol = nl ? (size_t)(nl - s) : len;
        /* Fields: id parent maj:min root mountpoint opts [optional...] - fstype
         * source superopts. Split on spaces, at most 32 fields. */
        const char *f[32];
        size_t fl[32], nf = 0, j = i;
        while (j < eol && nf < 32) {
            while (j < eol && s[j] == ' ')
                j++;
            if (j >= eol)
                break;
            size_t k = j;
            while (k < eol && s[k] != ' ')
                k++;
            f[nf] = s + j;
            fl[nf] = k - j;
            nf++;
            j = k;
        }
        size_t dash = 6;
        while (dash < nf && !(fl[dash] == 1 && f[dash][0] == '-'))
            dash++;
        if (nf >= 6 && dash + 1 < nf) {
            const char *fstype = f[dash + 1];
            size_t ftl = fl[dash + 1];
            const char *sopts = dash + 3 < nf ? f[dash + 3] : "";
            size_t sol = dash + 3 < nf ? fl[dash + 3] : 0;
            if (ftl == 6 && memcmp(fstype, "cgroup", 6) == 0) {
                any_v1 = 1;
                if (list_has(sopts, sol, "memory") && !out->v1_memory_mount[0]) {
                    copy_unescaped(out->v1_memory_mount, f[4], fl[4]);
                    copy_unescaped(out->v1_memory_root, f[3], fl[3]);
                }
            } else if (ftl == 7 && memcmp(fstype, "cgroup2", 7) == 0 && !out->v2_mount[0]) {
                copy_unescaped(out->v2_mount, f[4], fl[4]);
                copy_unescaped(out->v2_root, f[3], fl[3]);
            }
        }
        i = eol + 1;
    }
    if (any_v1 && out->v2_mount[0])
        out->mode = OOMKIT_MEM_CGROUP_MODE_HYBRID;
    else if (any_v1)
        out->mode = OOMKIT_MEM_CGROUP_MODE_LEGACY;
    else if (out->v2_mount[0])
        out->mode = OOMKIT_MEM_CGROUP_MODE_UNIFIED;
    else
        out->mode = OOMKIT_MEM_CGROUP_MODE_NONE;
    out->memory_version = out->v1_memory_mount[0] ? 1 : 0;
    return 0;
}

int oomkit__parse_controllers_has(const char *s, size_t len, const char *name)
{
    /* cgroup.controllers: space-separated names on one line. */
    size_t nl = strlen(name), i = 0;
    while (i < len) {
        while (i < len && (s[i] == ' ' || s[i] == '\n'))
            i++;
        size_t j = i;
        while (j < len && s[j] != ' ' && s[j] != '\n')
            j++;
        if (j - i == nl && memcmp(s + i, name, nl) == 0)
            return 1;
        i = j;
    }
    return 0;
}
