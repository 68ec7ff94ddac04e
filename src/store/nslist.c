/* Per-namespace object lists (see nslist.h). */
#include "store/nslist.h"

#include "core/alloc.h"

#include <errno.h>
#include <string.h>

#define MIN_CAP 4u

static size_t list_bytes(uint32_t cap)
{
    return sizeof(oomkit__nslist) + (size_t)cap * sizeof(uint64_t);
}

/* Capacity of the list that replaces a full one (or none). */
static uint32_t next_cap(const oomkit__nslist *l)
{
    if (l == NULL)
        return MIN_CAP;
    return l->cap > UINT32_MAX / 2 ? UINT32_MAX : l->cap * 2;
}

static int has_room(const oomkit__nslist *l)
{
    return l != NULL && (l->dead != 0 || l->len < l->cap);
}

size_t oomkit__nslist_need(const oomkit__atoms *ns, uint32_t ns_id)
{
    const oomkit__nslist *l = ns_id < ns->count ? oomkit__nslist_get(ns, ns_id) : NULL;
    if (ns_id >= ns->count) {
        /* A namespace not yet interned may still own a list published by a
         * put that failed later on: reuse it. */
        uint64_t *e = oomkit__pdir_slot(&ns->aux, ns_id);
        l = e ? (const oomkit__nslist *)(uintptr_t)*e : NULL;
    }
    if (has_room(l))
        return 0;
    return oomkit__alloc_footprint(list_bytes(next_cap(l)));
}

static oomkit__nslist *new_list(uint32_t cap, oomkit__smem *m)
{
    oomkit__nslist *l = oomkit__smem_alloc(m, SM_TABLES, list_bytes(cap));
    if (l == NULL)
        return NULL;
    l->bytes = list_bytes(cap);
    l->cap = cap;
    l->len = l->live = l->dead = 0;
    l->free = NS_FREE_END;
    l->births = 0;
    return l;
}

/* A copy of old holding only its live slots, packed; rewrites their blocks'
 * ns_pos (compact only: it touches every block of the namespace). */
static oomkit__nslist *packed_copy(const oomkit__nslist *old, uint32_t cap, oomkit__handles *h,
                                   oomkit__smem *m)
{
    oomkit__nslist *l = new_list(cap, m);
    if (l == NULL)
        return NULL;
    for (uint32_t i = 0; i < old->len; i++) {
        uint64_t v = old->slots[i];
        if (NS_SLOT_FREE(v))
            continue;
        oomkit__blk *b = oomkit__handles_block(h, NS_SLOT_ID(v));
        STORE_RLX(&b->ns_pos, l->len);
        l->slots[l->len++] = v;
    }
    l->live = l->len;
    l->births = old->births;
    return l;
}

static void publish(oomkit__atoms *ns, uint32_t ns_id, oomkit__nslist *l, oomkit__nslist *old,
                    oomkit__smem *m)
{
    oomkit__pdir_store(&ns->aux, ns_id, (uint64_t)(uintptr_t)l);
    if (old != NULL)
        oomkit__smem_retire_buf(m, SM_TABLES, old, old->bytes);
}

int oomkit__nslist_grow(oomkit__atoms *ns, uint32_t ns_id, oomkit__smem *m)
{
    oomkit__nslist *old = (oomkit__nslist *)(uintptr_t)*oomkit__pdir_slot(&ns->aux, ns_id);
    if (has_room(old))
        return 0;
    oomkit__nslist *l = new_list(next_cap(old), m);
    if (l == NULL)
        return -ENOMEM;
    if (old != NULL) {
        /* Full and without free slots: every id is live and keeps its
         * position. */
        memcpy(l->slots, old->slots, (size_t)old->len * sizeof(uint64_t));
        l->births = old->births;
        l->len = l->live = old->len;
        oomkit__smem_add(&m->resizes, 1);
    }
    publish(ns, ns_id, l, old, m);
    return 0;
}

uint32_t oomkit__nslist_append(oomkit__atoms *ns, uint32_t ns_id, uint32_t id)
{
    oomkit__nslist *l = oomkit__nslist_get(ns, ns_id);
    uint32_t pos;
    if (l->dead != 0) {
        pos = l->free;
        l->free = NS_SLOT_ID(l->slots[pos]) & ~NS_FREE;
        l->dead--;
        STORE_REL(&l->slots[pos], (uint64_t)l->births << 32 | id);
    } else {
        pos = l->len;
        STORE_RLX(&l->slots[pos], (uint64_t)l->births << 32 | id);
        STORE_REL(&l->len, pos + 1);
    }
    STORE_REL(&l->births, l->births + 1);
    STORE_RLX(&l->live, l->live + 1);
    return pos;
}

void oomkit__nslist_remove(oomkit__atoms *ns, uint32_t ns_id, uint32_t pos, int drop_empty,
                           oomkit__smem *m)
{
    oomkit__nslist *l = oomkit__nslist_get(ns, ns_id);
    STORE_RLX(&l->slots[pos], (uint64_t)(NS_FREE | l->free));
    l->free = pos;
    l->dead++;
    STORE_RLX(&l->live, l->live - 1);
    if (l->live == 0 && drop_empty)
        publish(ns, ns_id, NULL, l, m);
}

void oomkit__nslist_kill_all(oomkit__atoms *ns)
{
    for (uint32_t n = 0; n < ns->count; n++) {
        oomkit__nslist *l = oomkit__nslist_get(ns, n);
        if (l == NULL)
            continue;
        for (uint32_t i = 0; i < l->len; i++)
            if (!NS_SLOT_FREE(l->slots[i]))
                STORE_RLX(&l->slots[i], (uint64_t)(NS_FREE | NS_FREE_END));
        STORE_RLX(&l->live, 0);
    }
}

void oomkit__nslist_reset_all(oomkit__atoms *ns)
{
    for (uint32_t n = 0; n < ns->count; n++) {
        oomkit__nslist *l = oomkit__nslist_get(ns, n);
        if (l == NULL)
            continue;
        STORE_REL(&l->len, 0);
        l->dead = 0;
        l->free = NS_FREE_END;
    }
}

int oomkit__nslist_shrink(oomkit__atoms *ns, oomkit__handles *h, oomkit__smem *m,
                          uint64_t budget_bytes, uint32_t *next_ns)
{
    for (uint32_t n = *next_ns; n < ns->count; n++) {
        oomkit__nslist *l = oomkit__nslist_get(ns, n);
        if (l == NULL)
            continue;
        uint32_t want = l->live < MIN_CAP ? MIN_CAP : l->live;
        if (l->live != 0 && l->dead == 0 && want >= l->cap)
            continue;
        if (oomkit__smem_retire_room(m) == 0) {
            *next_ns = n;
            return 1;
        }
        if (l->live == 0) {
            publish(ns, n, NULL, l, m);
            continue;
        }
        if (budget_bytes != 0 &&
            oomkit__smem_total(m) + oomkit__alloc_footprint(list_bytes(want)) > budget_bytes)
            continue;
        oomkit__nslist *c = packed_copy(l, want, h, m);
        if (c == NULL)
            return -ENOMEM;
        publish(ns, n, c, l, m);
        oomkit__smem_add(&m->resizes, 1);
    }
    *next_ns = ns->count;
    return 0;
}

