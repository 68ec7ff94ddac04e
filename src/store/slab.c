/* Size-class slab for object blocks (see slab.h). Hand-written because the
 * point is exact per-block accounting and zero allocator calls in steady
 * state, which a general-purpose allocator does not promise. */
#include "store/slab.h"

#include "core/alloc.h"

#include <string.h>

/* The smallest block (a header and an empty name) is 24 bytes; a bump tail
 * shorter than that is useless. */
#define MIN_BLOCK 24u

void oomkit__slab_init(oomkit__slab *sl)
{
    memset(sl, 0, sizeof(*sl));
}

void oomkit__slab_destroy(oomkit__slab *sl, oomkit__smem *m)
{
    oomkit__slab_page *p = sl->pages;
    while (p != NULL) {
        oomkit__slab_page *n = p->next;
        oomkit__smem_free(m, SM_SLAB, p, SLAB_PAGE_BYTES);
        p = n;
    }
    oomkit__slab_init(sl);
}

size_t oomkit__slab_need(const oomkit__slab *sl, size_t size)
{
    if (size > SLAB_MAX_BLOCK)
        return oomkit__alloc_footprint(size);
    if (sl->free[size / 8] != NULL || (size_t)(sl->end - sl->pos) >= size)
        return 0;
    return oomkit__alloc_footprint(SLAB_PAGE_BYTES);
}

static void push_free(oomkit__slab *sl, void *blk, size_t size)
{
    *(void **)blk = sl->free[size / 8];
    sl->free[size / 8] = blk;
    sl->free_bytes += size;
}

void *oomkit__slab_alloc(oomkit__slab *sl, oomkit__smem *m, size_t size)
{
    if (size > SLAB_MAX_BLOCK)
        return oomkit__smem_alloc(m, SM_SLAB, size);
    void *b = sl->free[size / 8];
    if (b != NULL) {
        sl->free[size / 8] = *(void **)b;
        sl->free_bytes -= size;
        return b;
    }
    if ((size_t)(sl->end - sl->pos) < size) {
        oomkit__slab_page *p = oomkit__smem_alloc(m, SM_SLAB, SLAB_PAGE_BYTES);
        if (p == NULL)
            return NULL;
        p->next = sl->pages;
        p->live_bytes = 0;
        sl->pages = p;
        sl->npages++;
        size_t tail = (size_t)(sl->end - sl->pos);
        if (tail >= MIN_BLOCK)
            push_free(sl, sl->pos, tail);
        sl->pos = (char *)(p + 1);
        sl->end = (char *)p + SLAB_PAGE_BYTES;
    }
    b = sl->pos;
    sl->pos += size;
    return b;
}

void oomkit__slab_free(oomkit__slab *sl, oomkit__smem *m, void *blk, size_t size)
{
    if (size > SLAB_MAX_BLOCK) {
        oomkit__smem_free(m, SM_SLAB, blk, size);
        return;
    }
    push_free(sl, blk, size);
}

void oomkit__slab_forget_free(oomkit__slab *sl)
{
    memset(sl->free, 0, sizeof(sl->free));
    sl->free_bytes = 0;
    sl->pos = sl->end = NULL;
}
