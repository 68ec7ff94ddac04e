/* The leak verdict of `oomkit watch`: which kind of memory grew.
 *
 * Input is two snapshots of a target's memory split into six kinds (see
 * oomkit__verdict_kind), taken at the start of the trend (a baseline) and at
 * the capture. The daemon fills them from the cgroup's memory.stat (page
 * cache = file - shmem, since both v1 `cache` and v2 `file` include
 * shmem/tmpfs pages; kernel = v2 `kernel`, or slab + kernel stacks) and from
 * the categorised smaps of the target's processes (heap, anon_mmap,
 * stacks). The verdict is the kind with the largest growth; its confidence
 * is its share of all growth, scaled down when the total growth is too small
 * to tell a leak from noise. The evidence string names the figures. */
#ifndef OOMKIT_WATCH_VERDICT_H
#define OOMKIT_WATCH_VERDICT_H

#include <stddef.h>
#include <stdint.h>

enum oomkit__verdict_kind {
    OOMKIT__VERDICT_HEAP = 0,   /* malloc heap: [heap] and glibc arenas */
    OOMKIT__VERDICT_ANON_MMAP,  /* anonymous mmap / off-heap, large mallocs */
    OOMKIT__VERDICT_PAGE_CACHE, /* file pages, shmem excluded */
    OOMKIT__VERDICT_SHMEM,      /* tmpfs, /dev/shm, memfd, SysV */
    OOMKIT__VERDICT_STACKS,     /* thread stacks */
    OOMKIT__VERDICT_KERNEL,     /* slab, kernel stacks, page tables, sockets */
    OOMKIT__VERDICT_KIND_COUNT,
    OOMKIT__VERDICT_UNKNOWN = OOMKIT__VERDICT_KIND_COUNT, /* no clear growth */
};

struct oomkit__verdict_input {
    uint64_t bytes[OOMKIT__VERDICT_KIND_COUNT];
};

/* Below this total growth the verdict's confidence is scaled down
 * linearly, and below a tenth of it the kind is unknown. */
#define OOMKIT__VERDICT_SIGNIFICANT_BYTES (16u << 20)

struct oomkit__verdict {
    enum oomkit__verdict_kind kind;
    double confidence;  /* 0..1 */
    int64_t delta_bytes[OOMKIT__VERDICT_KIND_COUNT];
    char evidence[384]; /* NUL-terminated, human readable */
};

/* Classifies the growth from `before` to `after` over elapsed_s seconds
 * (both borrowed). Always fills *out. Thread safety: pure. */
void oomkit__verdict_classify(const struct oomkit__verdict_input *before,
                              const struct oomkit__verdict_input *after,
                              double elapsed_s, struct oomkit__verdict *out);

/* "heap", "anon_mmap", "page_cache", "shmem", "stacks", "kernel" or
 * "unknown". Static storage. Thread safety: pure. */
const char *oomkit__verdict_kind_name(enum oomkit__verdict_kind kind);

#endif
