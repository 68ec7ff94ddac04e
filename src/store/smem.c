/* The store's memory ledger (see smem.h): footprint accounting for every
 * allocation and the bounded retire list. */
#include "store/smem.h"

#include "core/alloc.h"

#include <string.h>

uint64_t oomkit__smem_total(const oomkit__smem *m)
{
    return oomkit__smem_get(&m->part[SM_ATOMS]) + oomkit__smem_get(&m->part[SM_TABLES]) +
           oomkit__smem_get(&m->part[SM_SLAB]) + oomkit__smem_get(&m->part[SM_RETIRED]);
}

void *oomkit__smem_alloc(oomkit__smem *m, int part, size_t size)
{
    oomkit__smem_add(&m->allocations, 1);
    void *p = oomkit__malloc(size);
    if (p != NULL)
        oomkit__smem_add(&m->part[part], oomkit__alloc_footprint(size));
    return p;
}

void *oomkit__smem_zalloc(oomkit__smem *m, int part, size_t size)
{
    void *p = oomkit__smem_alloc(m, part, size);
    if (p != NULL)
        memset(p, 0, size);
    return p;
}

void oomkit__smem_free(oomkit__smem *m, int part, void *p, size_t size)
{
    if (p == NULL)
        return;
    oomkit__free(p);
    oomkit__smem_add(&m->part[part], -(uint64_t)oomkit__alloc_footprint(size));
}

static void push(oomkit__smem *m, uintptr_t tagged, size_t bytes)
{
    m->retire[m->nretire].tagged = tagged;
    m->retire[m->nretire].bytes = bytes;
    m->nretire++;
}

void oomkit__smem_retire_buf(oomkit__smem *m, int part, void *p, size_t size)
{
    size_t fp = oomkit__alloc_footprint(size);
    oomkit__smem_add(&m->part[part], -(uint64_t)fp);
    oomkit__smem_add(&m->part[SM_RETIRED], fp);
    m->retire_bytes += fp;
    push(m, (uintptr_t)p | (part == SM_ATOMS ? RT_BUF_ATOMS : RT_BUF_TABLES), size);
}

void oomkit__smem_retire_block(oomkit__smem *m, void *blk, size_t bytes)
{
    oomkit__smem_add(&m->retired_blocks, bytes);
    m->retire_bytes += bytes;
    push(m, (uintptr_t)blk | RT_BLOCK, bytes);
}

void oomkit__smem_retire_page(oomkit__smem *m, void *page, size_t bytes)
{
    push(m, (uintptr_t)page | RT_PAGE, bytes);
}

void oomkit__smem_retire_nslist(oomkit__smem *m, void *list, uint64_t footprint)
{
    oomkit__smem_add(&m->part[SM_TABLES], -footprint);
    oomkit__smem_add(&m->part[SM_RETIRED], footprint);
    m->retire_bytes += footprint;
    push(m, (uintptr_t)list | RT_NSLIST, 0);
}

void oomkit__smem_retire_id(oomkit__smem *m, uint32_t id)
{
    push(m, ((uintptr_t)id << 3) | RT_ID, 0);
}
