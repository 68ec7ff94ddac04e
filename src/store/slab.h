/* A size-class slab for object blocks. Blocks are multiples of 8 bytes; each
 * 8-byte size is its own class with a free list, so a freed block is reused
 * exactly by the next object of that size (exact-capacity blocks waste
 * nothing inside themselves).
 *
 * All classes carve from one shared bump page at a time (64 KiB pages from
 * the C allocator), not one page per class: with hundreds of classes in use
 * (names vary in length) per-class pages would strand up to a page each.
 * Blocks above SLAB_MAX_BLOCK are "huge" and allocated alone.
 *
 * Free lists are intrusive (next pointer in the block's first 8 bytes): a
 * block reaches them only after its grace period, when no reader can see it.
 * Writer only. */
#ifndef OOMKIT_STORE_SLAB_H
#define OOMKIT_STORE_SLAB_H

#include "store/smem.h"

#include <stddef.h>
#include <stdint.h>

#define SLAB_PAGE_BYTES 65536u
#define SLAB_MAX_BLOCK 4096u
#define SLAB_CLASSES (SLAB_MAX_BLOCK / 8)

typedef struct oomkit__slab_page {
    struct oomkit__slab_page *next;
    uint64_t live_bytes; /* compact's scratch */
    uint64_t free_bytes; /* compact's scratch */
} oomkit__slab_page;

typedef struct oomkit__slab {
    void *free[SLAB_CLASSES + 1]; /* free[size / 8] */
    uint64_t free_bytes;          /* bytes on the free lists */
    char *pos, *end;              /* bump space in the newest page */
    oomkit__slab_page *pages;
    size_t npages;
} oomkit__slab;

void oomkit__slab_init(oomkit__slab *sl);
void oomkit__slab_destroy(oomkit__slab *sl, oomkit__smem *m);

/* Bytes oomkit__slab_alloc(size) would take from the C allocator. */
size_t oomkit__slab_need(const oomkit__slab *sl, size_t size);
/* A block of size bytes (a multiple of 8), or NULL (-ENOMEM). */
void *oomkit__slab_alloc(oomkit__slab *sl, oomkit__smem *m, size_t size);
/* Returns a block no reader can see (grace period over, or never
 * published). */
void oomkit__slab_free(oomkit__slab *sl, oomkit__smem *m, void *blk, size_t size);
/* Drops every free-list block and the bump space (clear keeps them; compact
 * rebuilds them). */
void oomkit__slab_forget_free(oomkit__slab *sl);

#endif
