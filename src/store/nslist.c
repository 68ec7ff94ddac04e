/* Per-namespace object lists (see nslist.h). */
#include "store/nslist.h"

#include "core/alloc.h"

#include <errno.h>
#include <string.h>

#define MIN_CAP 4u

static size_t header_bytes(uint32_t dir_cap)
{
    return sizeof(oomkit__nslist) + (size_t)dir_cap * sizeof(uint64_t *);
}

static size_t chunk_bytes(uint32_t slots)
{
    return (size_t)slots * sizeof(uint64_t);
}

/* Slots per chunk of a list of capacity cap: all of them while it has one
 * chunk, else NS_CHUNK. */
static uint32_t slots_per_chunk(uint32_t cap)
{
    return cap < NS_CHUNK ? cap : NS_CHUNK;
}

static uint32_t chunk_slots(const oomkit__nslist *l)
{
    return slots_per_chunk(l->cap);
}

/* Capacity of the only chunk of l after it doubles (l->cap < NS_CHUNK). */
static uint32_t first_chunk_next_cap(const oomkit__nslist *l)
{
    return slots_per_chunk(l->cap * 2);
}

/* Capacity that holds n slots: n itself below a chunk, else whole chunks. */
static uint32_t cap_for(uint32_t n)
{
    if (n < MIN_CAP)
        return MIN_CAP;
    return n < NS_CHUNK ? n : (n + NS_CHUNK - 1) / NS_CHUNK * NS_CHUNK;
}

static int has_room(const oomkit__nslist *l)
{
    return l != NULL && (l->dead != 0 || l->len < l->cap);
}

/* The allocation footprint of a header of dir_cap entries and nchunks
 * chunks of `per` slots. */
static uint64_t footprint(uint32_t dir_cap, uint32_t nchunks, uint32_t per)
{
    return oomkit__alloc_footprint(header_bytes(dir_cap)) +
           (uint64_t)nchunks * oomkit__alloc_footprint(chunk_bytes(per));
}

static uint64_t list_footprint(const oomkit__nslist *l)
{
    return footprint(l->dir_cap, l->nchunks, chunk_slots(l));
}

/* The footprint new_list(cap) allocates (cap from cap_for: whole chunks). */
static uint64_t new_list_footprint(uint32_t cap)
{
    uint32_t per = slots_per_chunk(cap);
    return footprint(cap / per, cap / per, per);
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
    if (l == NULL)
        return new_list_footprint(MIN_CAP);
    if (l->cap < NS_CHUNK)
        return oomkit__alloc_footprint(chunk_bytes(first_chunk_next_cap(l)));
    return oomkit__alloc_footprint(chunk_bytes(NS_CHUNK)) +
           (l->nchunks == l->dir_cap ? oomkit__alloc_footprint(header_bytes(l->dir_cap * 2)) : 0);
}

/* An empty list of capacity cap (chunks allocated), or NULL. */
static oomkit__nslist *new_list(uint32_t cap, oomkit__smem *m)
{
    uint32_t per = slots_per_chunk(cap);
    uint32_t n = cap / per;
    oomkit__nslist *l = oomkit__smem_alloc(m, SM_TABLES, header_bytes(n));
    if (l == NULL)
        return NULL;
    memset(l, 0, sizeof(*l));
    l->cap = cap;
    l->dir_cap = n;
    l->free = NS_FREE_END;
    for (; l->nchunks < n; l->nchunks++) {
        l->chunk[l->nchunks] = oomkit__smem_alloc(m, SM_TABLES, chunk_bytes(per));
        if (l->chunk[l->nchunks] == NULL) {
            oomkit__nslist_free(l, m, SM_TABLES);
            return NULL;
        }
    }
    return l;
}

void oomkit__nslist_free(oomkit__nslist *l, oomkit__smem *m, int part)
{
    for (uint32_t c = 0; c < l->nchunks; c++)
        oomkit__smem_free(m, part, l->chunk[c], chunk_bytes(chunk_slots(l)));
    oomkit__smem_free(m, part, l, header_bytes(l->dir_cap));
}

/* A copy of old holding only its live slots, packed, with capacity cap;
 * rewrites their blocks' ns_pos (compact only: it touches every block of
 * the namespace). */
static oomkit__nslist *packed_copy(const oomkit__nslist *old, uint32_t cap, oomkit__handles *h,
                                   oomkit__smem *m)
{
    oomkit__nslist *l = new_list(cap, m);
    if (l == NULL)
        return NULL;
    for (uint32_t i = 0; i < old->len; i++) {
        uint64_t v = *oomkit__nslist_slot(old, i);
        if (NS_SLOT_FREE(v))
            continue;
        oomkit__blk *b = oomkit__handles_block(h, NS_SLOT_ID(v));
        STORE_RLX(&b->ns_pos, l->len);
        *oomkit__nslist_slot(l, l->len++) = v;
    }
    l->live = l->len;
    l->births = old->births;
    return l;
}

/* Makes l the list of ns_id; old (if any) is retired with its chunks. */
static void publish(oomkit__atoms *ns, uint32_t ns_id, oomkit__nslist *l, oomkit__nslist *old,
                    oomkit__smem *m)
{
    oomkit__pdir_store(&ns->aux, ns_id, (uint64_t)(uintptr_t)l);
    if (old != NULL)
        oomkit__smem_retire_nslist(m, old, list_footprint(old));
}

/* Doubles the only chunk of a list below NS_CHUNK slots. */
static int grow_first_chunk(oomkit__nslist *l, oomkit__smem *m)
{
    uint32_t cap = first_chunk_next_cap(l);
    uint64_t *c = oomkit__smem_alloc(m, SM_TABLES, chunk_bytes(cap));
    if (c == NULL)
        return -ENOMEM;
    memcpy(c, l->chunk[0], chunk_bytes(l->len));
    uint64_t *old = l->chunk[0];
    STORE_REL(&l->chunk[0], c);
    oomkit__smem_retire_buf(m, SM_TABLES, old, chunk_bytes(l->cap));
    l->cap = cap;
    return 0;
}

/* Adds a chunk of NS_CHUNK slots to l, first replacing a full header by
 * one with twice the directory. */
static int add_chunk(oomkit__atoms *ns, uint32_t ns_id, oomkit__nslist *l, oomkit__smem *m)
{
    uint64_t *c = oomkit__smem_alloc(m, SM_TABLES, chunk_bytes(NS_CHUNK));
    if (c == NULL)
        return -ENOMEM;
    if (l->nchunks == l->dir_cap) {
        oomkit__nslist *n = oomkit__smem_alloc(m, SM_TABLES, header_bytes(l->dir_cap * 2));
        if (n == NULL) {
            oomkit__smem_free(m, SM_TABLES, c, chunk_bytes(NS_CHUNK));
            return -ENOMEM;
        }
        memcpy(n, l, header_bytes(l->nchunks));
        n->dir_cap = l->dir_cap * 2;
        /* The chunks now belong to n: retire the old header alone. */
        oomkit__pdir_store(&ns->aux, ns_id, (uint64_t)(uintptr_t)n);
        oomkit__smem_retire_buf(m, SM_TABLES, l, header_bytes(l->dir_cap));
        l = n;
    }
    STORE_REL(&l->chunk[l->nchunks], c);
    l->nchunks++;
    l->cap += NS_CHUNK;
    return 0;
}

int oomkit__nslist_grow(oomkit__atoms *ns, uint32_t ns_id, oomkit__smem *m)
{
    oomkit__nslist *old = (oomkit__nslist *)(uintptr_t)*oomkit__pdir_slot(&ns->aux, ns_id);
    if (has_room(old))
        return 0;
    if (old == NULL) {
        oomkit__nslist *l = new_list(MIN_CAP, m);
        if (l == NULL)
            return -ENOMEM;
        publish(ns, ns_id, l, NULL, m);
        return 0;
    }
    /* Full and without free slots: every id is live and keeps its
     * position. */
    int r = old->cap < NS_CHUNK ? grow_first_chunk(old, m) : add_chunk(ns, ns_id, old, m);
    if (r == 0)
        oomkit__smem_add(&m->resizes, 1);
    return r;
}

uint32_t oomkit__nslist_append(oomkit__atoms *ns, uint32_t ns_id, uint32_t id)
{
    oomkit__nslist *l = oomkit__nslist_get(ns, ns_id);
    uint32_t pos;
    if (l->dead != 0) {
        pos = l->free;
        uint64_t *slot = oomkit__nslist_slot(l, pos);
        l->free = NS_SLOT_ID(*slot) & ~NS_FREE;
        l->dead--;
        STORE_REL(slot, (uint64_t)l->births << 32 | id);
    } else {
        pos = l->len;
        STORE_RLX(oomkit__nslist_slot(l, pos), (uint64_t)l->births << 32 | id);
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
    STORE_RLX(oomkit__nslist_slot(l, pos), (uint64_t)(NS_FREE | l->free));
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
        for (uint32_t i = 0; i < l->len; i++) {
            uint64_t *slot = oomkit__nslist_slot(l, i);
            if (!NS_SLOT_FREE(*slot))
                STORE_RLX(slot, (uint64_t)(NS_FREE | NS_FREE_END));
        }
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
        uint32_t want = cap_for(l->live);
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
        if (budget_bytes != 0 && oomkit__smem_total(m) + new_list_footprint(want) > budget_bytes)
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

