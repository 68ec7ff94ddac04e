/* Paged directory (see pdir.h): growth of the top array and the pages. */
#include "store/pdir.h"

#include "core/alloc.h"

#include <errno.h>
#include <string.h>

#define PAGE_BYTES (PDIR_PAGE_ENTRIES * sizeof(uint64_t))

static size_t top_bytes(size_t cap)
{
    return sizeof(oomkit__pdir_top) + cap * sizeof(uint64_t *);
}

void oomkit__pdir_init(oomkit__pdir *d, int part)
{
    d->top = NULL;
    d->npages = 0;
    d->part = part;
}

void oomkit__pdir_destroy(oomkit__pdir *d, oomkit__smem *m)
{
    if (d->top == NULL)
        return;
    for (size_t i = 0; i < d->npages; i++)
        oomkit__smem_free(m, d->part, d->top->pages[i], PAGE_BYTES);
    oomkit__smem_free(m, d->part, d->top, d->top->bytes);
    d->top = NULL;
    d->npages = 0;
}

static size_t new_cap(const oomkit__pdir *d, size_t pg)
{
    size_t cap = d->top ? d->top->cap : 4;
    while (cap <= pg)
        cap *= 2;
    return cap;
}

size_t oomkit__pdir_need(const oomkit__pdir *d, size_t idx)
{
    size_t pg = idx >> PDIR_PAGE_SHIFT;
    size_t need = 0;
    if (d->top == NULL || pg >= d->top->cap)
        need += oomkit__alloc_footprint(top_bytes(new_cap(d, pg)));
    /* Pages are allocated in order, so every missing page up to pg. */
    if (pg >= d->npages)
        need += (pg + 1 - d->npages) * oomkit__alloc_footprint(PAGE_BYTES);
    return need;
}

int oomkit__pdir_grow(oomkit__pdir *d, oomkit__smem *m, size_t idx)
{
    size_t pg = idx >> PDIR_PAGE_SHIFT;
    if (d->top == NULL || pg >= d->top->cap) {
        size_t cap = new_cap(d, pg);
        oomkit__pdir_top *t = oomkit__smem_zalloc(m, d->part, top_bytes(cap));
        if (t == NULL)
            return -ENOMEM;
        t->bytes = top_bytes(cap);
        t->cap = cap;
        oomkit__pdir_top *old = d->top;
        if (old != NULL)
            memcpy(t->pages, old->pages, old->cap * sizeof(uint64_t *));
        STORE_REL(&d->top, t);
        if (old != NULL) {
            oomkit__smem_retire_buf(m, d->part, old, old->bytes);
            oomkit__smem_add(&m->resizes, 1);
        }
    }
    while (d->npages <= pg) {
        uint64_t *page = oomkit__smem_zalloc(m, d->part, PAGE_BYTES);
        if (page == NULL)
            return -ENOMEM;
        STORE_REL(&d->top->pages[d->npages], page);
        d->npages++;
    }
    return 0;
}
