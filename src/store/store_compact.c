/* Compact and reclaim (store.h): give back what mass deletes left behind.
 * The tables shrink first, then slab pages under half full are emptied,
 * emptiest first, into the others and freed, in rounds within the budget
 * (docs/architecture.md, "store"). Both leave without the reclaim step of
 * other writes: they have just freed everything waiting. */
#include "store/store_internal.h"

#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
    return x < y ? -1 : x > y;
}

/* The page of pages[0..n) (sorted) that holds p, or NULL. */
static oomkit__slab_page *page_of(oomkit__slab_page **pages, size_t n, const void *p)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if ((uintptr_t)pages[mid] <= (uintptr_t)p)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    oomkit__slab_page *pg = pages[lo - 1];
    return (uintptr_t)p < (uintptr_t)pg + SLAB_PAGE_BYTES ? pg : NULL;
}

#define SPARSE_FLAG (1ull << 63)

static int cmp_live(const void *a, const void *b)
{
    uint64_t x = (*(oomkit__slab_page *const *)a)->live_bytes;
    uint64_t y = (*(oomkit__slab_page *const *)b)->live_bytes;
    return x < y ? -1 : x > y;
}

/* One round of slab compaction: moves the blocks of pages less than half
 * full into other pages and retires the emptied pages. Under a budget it
 * moves only what the budget leaves room for, emptiest pages first, so a
 * store at its budget still makes progress round by round. *freed_pages
 * gets the number of pages retired. 0 or -ENOMEM (content unchanged). */
static int compact_slab_round(oomkit_store *s, size_t *freed_pages)
{
    oomkit__slab *sl = &s->slab;
    size_t n = sl->npages;
    *freed_pages = 0;
    if (n == 0)
        return 0;
    size_t arr_bytes = 2 * n * sizeof(void *);
    size_t arr_fp = oomkit__alloc_footprint(arr_bytes);
    if (!oomkit__store_fits(s, arr_fp))
        return 0;
    oomkit__slab_page **pages = oomkit__smem_alloc(&s->m, SM_TABLES, arr_bytes);
    if (pages == NULL)
        return -ENOMEM;
    oomkit__slab_page **cand = pages + n;
    size_t i = 0;
    for (oomkit__slab_page *p = sl->pages; p != NULL; p = p->next) {
        p->live_bytes = 0;
        pages[i++] = p;
    }
    qsort(pages, n, sizeof(*pages), cmp_ptr);
    uint32_t bound = s->h.next_fresh;
    for (uint32_t id = 0; id < bound; id++) {
        oomkit__blk *b = oomkit__handles_block(&s->h, id);
        oomkit__slab_page *pg = b ? page_of(pages, n, b) : NULL;
        if (pg != NULL)
            pg->live_bytes += oomkit__blk_size(b);
    }
    size_t ncand = 0;
    uint64_t free_total = 0;
    for (i = 0; i < n; i++) {
        pages[i]->free_bytes = 0;
        if (pages[i]->live_bytes * 2 < SLAB_PAGE_BYTES)
            cand[ncand++] = pages[i];
    }
    for (size_t c = 0; c <= SLAB_CLASSES; c++) {
        for (void *b = sl->free[c]; b != NULL; b = *(void **)b) {
            oomkit__slab_page *pg = page_of(pages, n, b);
            if (pg != NULL) {
                pg->free_bytes += c * 8;
                free_total += c * 8;
            }
        }
    }
    qsort(cand, ncand, sizeof(*cand), cmp_live);
    /* Room the budget leaves for fresh pages, in bytes of blocks. When it
     * leaves less than a page, blocks can still move into the free space of
     * the pages that stay (exact size classes permitting): choose only as
     * many pages as that space could take. */
    uint64_t room = UINT64_MAX;
    int free_space_only = 0;
    if (s->budget_bytes != 0) {
        uint64_t total = oomkit__smem_total(&s->m);
        uint64_t spare = s->budget_bytes > total ? s->budget_bytes - total : 0;
        room = spare / oomkit__alloc_footprint(SLAB_PAGE_BYTES) * (SLAB_PAGE_BYTES - 4096);
        free_space_only = room == 0;
    }
    /* With no room for a fresh page, the bump page's unused tail takes
     * moved blocks too (any size): it stays, and counts as free space. */
    oomkit__slab_page *bump_page = sl->pos ? page_of(pages, n, sl->pos - 1) : NULL;
    if (free_space_only && bump_page != NULL)
        free_total += (uint64_t)(sl->end - sl->pos);
    uint64_t move = 0, chosen_free = 0;
    size_t nsparse = 0;
    for (i = 0; i < ncand; i++) {
        uint64_t live = cand[i]->live_bytes;
        if (free_space_only && cand[i] == bump_page)
            continue;
        if (free_space_only ? move + live > free_total - chosen_free - cand[i]->free_bytes
                            : move + live > room)
            break;
        move += live;
        chosen_free += cand[i]->free_bytes;
        cand[i]->live_bytes |= SPARSE_FLAG;
        nsparse++;
    }
    int r = 0;
    if (nsparse == 0)
        goto out;
    /* Forget free space inside the pages being emptied; keep the rest. */
    {
        void *keep[SLAB_CLASSES + 1];
        memcpy(keep, sl->free, sizeof(keep));
        oomkit__slab_page *bump_pg = sl->pos ? page_of(pages, n, sl->pos - 1) : NULL;
        int keep_bump = bump_pg != NULL && !(bump_pg->live_bytes & SPARSE_FLAG);
        char *bpos = sl->pos, *bend = sl->end;
        oomkit__slab_forget_free(sl);
        if (keep_bump) {
            sl->pos = bpos;
            sl->end = bend;
        }
        for (size_t c = 0; c <= SLAB_CLASSES; c++) {
            for (void *b = keep[c]; b != NULL;) {
                void *next = *(void **)b;
                oomkit__slab_page *pg = page_of(pages, n, b);
                if (pg == NULL || !(pg->live_bytes & SPARSE_FLAG))
                    oomkit__slab_free(sl, &s->m, b, c * 8);
                b = next;
            }
        }
    }
    for (uint32_t id = 0; id < bound; id++) {
        oomkit__blk *b = oomkit__handles_block(&s->h, id);
        oomkit__slab_page *pg = b ? page_of(pages, n, b) : NULL;
        if (pg == NULL || !(pg->live_bytes & SPARSE_FLAG))
            continue;
        size_t sz = oomkit__blk_size(b);
        if (!oomkit__store_fits(s, oomkit__slab_need(sl, sz)))
            continue; /* no room for this size: its page stays */
        oomkit__blk *nb = oomkit__store_block_alloc(s, sz);
        if (nb == NULL) {
            r = -ENOMEM;
            break;
        }
        memcpy(nb, b, sz);
        oomkit__handles_set(&s->h, id, nb);
        oomkit__objtab_replace(oomkit__objtab_slot_of(&s->ot, b), nb);
        pg->live_bytes -= sz;
    }
    /* Retire the chosen pages no live block uses any more (all of them
     * unless an allocation failed or the budget ran out midway; the free
     * space of the others is found again by the next compact). */
    oomkit__slab_page **link = &sl->pages;
    while (*link != NULL) {
        oomkit__slab_page *p = *link;
        if ((p->live_bytes & SPARSE_FLAG) && (p->live_bytes & ~SPARSE_FLAG) == 0) {
            *link = p->next;
            sl->npages--;
            oomkit__reclaim_room(s, 1);
            oomkit__smem_retire_page(&s->m, p, SLAB_PAGE_BYTES);
            (*freed_pages)++;
        } else {
            link = &p->next;
        }
    }
    oomkit__smem_add(&s->m.resizes, 1);
out:
    for (oomkit__slab_page *p = sl->pages; p != NULL; p = p->next)
        p->live_bytes = 0;
    oomkit__smem_free(&s->m, SM_TABLES, pages, arr_bytes);
    return r;
}

int oomkit_store_compact(oomkit_store *s)
{
    if (s == NULL)
        return -EINVAL;
    int r = oomkit__store_writer_enter(s);
    if (r != 0)
        return r;
    oomkit__reclaim_now(s);
    oomkit__reclaim_room(s, 1);
    while (r == 0) {
        r = oomkit__objtab_shrink(&s->ot, &s->m, s->budget_bytes);
        if (r != 1)
            break;
        oomkit__reclaim_now(s);
        r = 0;
    }
    uint32_t next_ns = 0;
    while (r == 0) {
        r = oomkit__nslist_shrink(&s->ns, &s->h, &s->m, s->budget_bytes, &next_ns);
        if (r != 1)
            break;
        oomkit__reclaim_now(s);
        r = 0;
    }
    for (uint32_t i = 0; r == 0 && i < s->nix; i++) {
        uint64_t next_slot = 0;
        while (r == 0) {
            r = oomkit__ix_shrink(&s->ix[i], &s->m, s->budget_bytes, &next_slot);
            if (r != 1)
                break;
            oomkit__reclaim_now(s);
            r = 0;
        }
    }
    /* Each round frees the pages it emptied before the next one starts, so
     * a store near its budget still shrinks. */
    for (int round = 0; r == 0 && round < 16; round++) {
        size_t freed = 0;
        r = compact_slab_round(s, &freed);
        oomkit__reclaim_now(s);
        if (freed == 0)
            break;
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

int oomkit_store_reclaim(oomkit_store *s)
{
    if (s == NULL)
        return -EINVAL;
    int r = oomkit__store_writer_enter(s);
    if (r != 0)
        return r;
    oomkit__reclaim_now(s);
    pthread_mutex_unlock(&s->lock);
    return 0;
}
