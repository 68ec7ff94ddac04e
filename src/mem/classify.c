/* Classification of a process's mappings into memory categories, and the
 * per-category sums behind `oomkit inspect`.
 *
 * The rules (in order, first match wins) are listed on
 * oomkit_mem_classify() in include/oomkit/mem.h; the reasoning:
 * - glibc's main arena is the brk area, shown as [heap]. Secondary arenas
 *   are mmap'd at a HEAP_MAX_SIZE (64 MiB on 64-bit) boundary: a rw part
 *   that holds the heap_info header and grows, and a PROT_NONE remainder up
 *   to the boundary, so "aligned, and rw + remainder == 64 MiB" identifies
 *   them without reading the process's memory.
 * - Since Linux 4.5 thread stacks carry no name; the mapping that holds a
 *   thread's stack pointer (from /proc/PID/task/TID/syscall) is its stack,
 *   and glibc puts a PROT_NONE guard directly below it.
 * - Allocations above M_MMAP_THRESHOLD are standalone anonymous mappings:
 *   they are "anon_mmap" (off-heap) here, as are Go and JVM heaps, which
 *   only runtime hints could tell apart.
 * Two passes: categories first (a stack also claims the guard below it,
 * which the loop has already passed), then the sums. */
#include "mem/mem_internal.h"

#include "core/alloc.h"

#include <stdlib.h>

#define ARENA_BYTES (UINT64_C(64) << 20)
/* Largest PROT_NONE mapping taken as a thread-stack guard by the shape
 * heuristic; glibc's default guard is one page. */
#define GUARD_MAX_BYTES (UINT64_C(1) << 20)

static const char *const cat_names[OOMKIT_MEM_CAT_COUNT] = {
    "heap", "stacks", "anon_mmap", "file", "shmem", "other",
};

const char *oomkit_mem_category_name(oomkit_mem_category cat)
{
    return ((unsigned)cat < OOMKIT_MEM_CAT_COUNT) ? cat_names[cat] : "?";
}

static int has_prefix(oomkit_str s, const char *p)
{
    size_t n = strlen(p);
    return s.len >= n && memcmp(s.ptr, p, n) == 0;
}

static int is_eq(oomkit_str s, const char *p)
{
    size_t n = strlen(p);
    return s.len == n && memcmp(s.ptr, p, n) == 0;
}

static int is_anon(const oomkit_mem_mapping *m)
{
    return m->path.len == 0;
}

static int is_guard(const oomkit_mem_mapping *m)
{
    return is_anon(m) && memcmp(m->perms, "---p", 4) == 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Category of a named mapping, or -1 when the name decides nothing (the
 * mapping is anonymous). */
static int named_category(const oomkit_mem_mapping *m)
{
    oomkit_str p = m->path;
    if (p.len == 0)
        return -1;
    if (is_eq(p, "[heap]"))
        return OOMKIT_MEM_CAT_HEAP;
    if (is_eq(p, "[stack]"))
        return OOMKIT_MEM_CAT_STACKS;
    if (p.ptr[0] == '[') {
        /* glibc >= 2.39 names its mappings with glibc.mem.decorate_maps. */
        if (has_prefix(p, "[anon: glibc: malloc"))
            return OOMKIT_MEM_CAT_HEAP;
        if (has_prefix(p, "[anon: glibc: pthread stack"))
            return OOMKIT_MEM_CAT_STACKS;
        if (has_prefix(p, "[anon_shmem:"))
            return OOMKIT_MEM_CAT_SHMEM;
        if (has_prefix(p, "[anon:"))
            return m->perms[3] == 's' ? OOMKIT_MEM_CAT_SHMEM : OOMKIT_MEM_CAT_ANON_MMAP;
        return OOMKIT_MEM_CAT_OTHER;
    }
    if (has_prefix(p, "/dev/shm/") || has_prefix(p, "/memfd:") || has_prefix(p, "/SYSV") ||
        has_prefix(p, "/dev/zero"))
        return OOMKIT_MEM_CAT_SHMEM;
    return OOMKIT_MEM_CAT_FILE;
}

int oomkit_mem_classify(oomkit_mem_maps *maps, const uint64_t *sps, size_t n_sps,
                        int guess_stacks, oomkit_mem_breakdown *out)
{
    if (!maps || !out || (n_sps && !sps))
        return -EINVAL;
    memset(out, 0, sizeof *out);
    size_t n = oomkit_mem_maps_count(maps);

    uint64_t *sorted = NULL;
    if (n_sps) {
        sorted = oomkit__malloc(n_sps * sizeof *sorted);
        if (!sorted)
            return -ENOMEM;
        memcpy(sorted, sps, n_sps * sizeof *sorted);
        qsort(sorted, n_sps, sizeof *sorted, cmp_u64);
    }
    size_t k = 0; /* next stack pointer not below the current mapping */

    for (size_t i = 0; i < n; i++) {
        oomkit_mem_mapping *m = oomkit__maps_at(maps, i);
        oomkit_mem_mapping *prev = i > 0 ? oomkit__maps_at(maps, i - 1) : NULL;
        oomkit_mem_mapping *next = i + 1 < n ? oomkit__maps_at(maps, i + 1) : NULL;
        while (k < n_sps && sorted[k] < m->start)
            k++;
        int holds_sp = k < n_sps && sorted[k] < m->end;
        int cat = named_category(m);
        if (cat < 0) {
            if (m->perms[3] == 's')
                cat = OOMKIT_MEM_CAT_SHMEM;
            else if (holds_sp) {
                cat = OOMKIT_MEM_CAT_STACKS;
                out->stacks_by_sp++;
            } else if (m->start % ARENA_BYTES == 0 && m->perms[0] == 'r' &&
                       m->perms[1] == 'w' &&
                       (m->end - m->start == ARENA_BYTES ||
                        (next && is_guard(next) && next->start == m->end &&
                         next->end == m->start + ARENA_BYTES))) {
                cat = OOMKIT_MEM_CAT_HEAP;
                out->arenas++;
                if (m->end - m->start != ARENA_BYTES) {
                    next->category = OOMKIT_MEM_CAT_HEAP;
                    m->category = (uint8_t)cat;
                    i++; /* the remainder is classified */
                    continue;
                }
            } else if (guess_stacks && memcmp(m->perms, "rw-p", 4) == 0 && prev &&
                       is_guard(prev) && prev->end == m->start &&
                       prev->end - prev->start <= GUARD_MAX_BYTES &&
                       prev->category != OOMKIT_MEM_CAT_HEAP) {
                cat = OOMKIT_MEM_CAT_STACKS;
                out->stacks_by_guard++;
            } else {
                cat = OOMKIT_MEM_CAT_ANON_MMAP;
            }
        } else if (cat == OOMKIT_MEM_CAT_STACKS && holds_sp) {
            out->stacks_by_sp++;
        }
        m->category = (uint8_t)cat;
        /* A thread stack claims the PROT_NONE guard directly below it. */
        if (cat == OOMKIT_MEM_CAT_STACKS && prev && is_guard(prev) && prev->end == m->start &&
            prev->category == OOMKIT_MEM_CAT_ANON_MMAP &&
            prev->end - prev->start <= GUARD_MAX_BYTES)
            prev->category = OOMKIT_MEM_CAT_STACKS;
    }
    oomkit__free(sorted);

    for (size_t i = 0; i < n; i++) {
        const oomkit_mem_mapping *m = oomkit__maps_at(maps, i);
        oomkit_mem_cat_totals *t = &out->cat[m->category];
        uint64_t size = m->end - m->start;
        uint64_t rss = oomkit_mem_has(m->f.rss_bytes) ? m->f.rss_bytes : 0;
        uint64_t pss = oomkit_mem_has(m->f.pss_bytes) ? m->f.pss_bytes : 0;
        uint64_t swap = oomkit_mem_has(m->f.swap_bytes) ? m->f.swap_bytes : 0;
        t->size_bytes += size;
        t->rss_bytes += rss;
        t->pss_bytes += pss;
        t->swap_bytes += swap;
        t->mappings++;
        out->total.size_bytes += size;
        out->total.rss_bytes += rss;
        out->total.pss_bytes += pss;
        out->total.swap_bytes += swap;
        out->total.mappings++;
    }
    return 0;
}

int oomkit_mem_breakdown_read(oomkit_mem_ctx *ctx, pid_t pid, oomkit_mem_breakdown *out,
                              oomkit_mem_maps **maps_out, uint64_t *threads_out)
{
    if (!ctx || !out || pid <= 0)
        return -EINVAL;
    /* Threads first: a thread that starts between the two reads has a stack
     * the smaps read may show but we have no pointer for; the guard-shape
     * rule covers it. */
    pid_t small[256];
    pid_t *tids = small;
    size_t cap = sizeof small / sizeof small[0], count = 0;
    int rc = oomkit_mem_threads_list(ctx, pid, tids, cap, &count);
    while (rc == 0 && count > cap) {
        if (tids != small)
            oomkit__free(tids);
        cap = count + 64;
        tids = oomkit__malloc(cap * sizeof *tids);
        if (!tids)
            return -ENOMEM;
        rc = oomkit_mem_threads_list(ctx, pid, tids, cap, &count);
    }
    uint64_t *sps = NULL;
    size_t n_sps = 0;
    if (rc == 0 && count) {
        sps = oomkit__malloc(count * sizeof *sps);
        if (!sps)
            rc = -ENOMEM;
        for (size_t i = 0; rc == 0 && i < count; i++) {
            uint64_t sp;
            int r = oomkit_mem_thread_sp(ctx, pid, tids[i], &sp);
            if (r == 0)
                sps[n_sps++] = sp;
            /* A thread that exited meanwhile, or one that is running or
             * cannot be traced, just contributes no pointer. */
        }
    }
    if (tids != small)
        oomkit__free(tids);
    oomkit_mem_maps *maps = NULL;
    if (rc == 0)
        rc = oomkit_mem_maps_read(ctx, pid, OOMKIT_MEM_MAPS_SMAPS, &maps);
    if (rc == 0)
        rc = oomkit_mem_classify(maps, sps, n_sps, 1, out);
    oomkit__free(sps);
    if (rc < 0) {
        oomkit_mem_maps_free(maps);
        return rc;
    }
    if (threads_out)
        *threads_out = count;
    if (maps_out)
        *maps_out = maps;
    else
        oomkit_mem_maps_free(maps);
    return 0;
}
