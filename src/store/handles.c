/* The handle directory (see handles.h): id allocation with generations and
 * a free list threaded through the free entries themselves. */
#include "store/handles.h"

#include <errno.h>

void oomkit__handles_init(oomkit__handles *h)
{
    oomkit__pdir_init(&h->dir, SM_TABLES);
    h->next_fresh = 0;
    h->free_head = 0;
}

void oomkit__handles_destroy(oomkit__handles *h, oomkit__smem *m)
{
    oomkit__pdir_destroy(&h->dir, m);
}

size_t oomkit__handles_need(const oomkit__handles *h)
{
    return h->free_head ? 0 : oomkit__pdir_need(&h->dir, h->next_fresh);
}

int oomkit__handles_grow(oomkit__handles *h, oomkit__smem *m)
{
    if (h->free_head != 0)
        return 0;
    if (h->next_fresh >= HANDLES_MAX_IDS)
        return -ENOMEM;
    return oomkit__pdir_grow(&h->dir, m, h->next_fresh);
}

uint64_t oomkit__handles_alloc(oomkit__handles *h)
{
    uint32_t id;
    uint64_t gen;
    if (h->free_head != 0) {
        id = h->free_head - 1;
        uint64_t e = oomkit__pdir_load(&h->dir, id);
        h->free_head = (uint32_t)((e & H_PTR_MASK) >> 3);
        gen = (e >> 48) + 1;
        if (gen > 0xffff)
            gen = 1;
    } else {
        id = h->next_fresh;
        gen = 1;
        /* The entry stays 0 (not live) until set; publishing the bound
         * first is harmless. */
        STORE_REL(&h->next_fresh, id + 1);
    }
    /* Park the generation in a dead entry until the block is set. */
    oomkit__pdir_store(&h->dir, id, gen << 48 | 1);
    return gen << 32 | id;
}

void oomkit__handles_set(oomkit__handles *h, uint32_t id, const oomkit__blk *b)
{
    uint64_t e = oomkit__pdir_load(&h->dir, id);
    oomkit__pdir_store(&h->dir, id, (e >> 48) << 48 | (uint64_t)(uintptr_t)b);
}

void oomkit__handles_kill(oomkit__handles *h, uint32_t id)
{
    uint64_t e = oomkit__pdir_load(&h->dir, id);
    oomkit__pdir_store(&h->dir, id, e | 1);
}

oomkit__blk *oomkit__handles_release(oomkit__handles *h, uint32_t id)
{
    uint64_t e = oomkit__pdir_load(&h->dir, id);
    oomkit__blk *b = (oomkit__blk *)(uintptr_t)(e & H_PTR_MASK);
    oomkit__pdir_store(&h->dir, id, (e >> 48) << 48 | (uint64_t)h->free_head << 3 | 2);
    h->free_head = id + 1;
    return b;
}
