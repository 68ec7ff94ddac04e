/* Secondary index structures of the store (see sindex.h). Written by hand
 * because the product is exactly this layout: 4-byte object ids in
 * per-value arrays that readers walk without locks, which no Debian hash
 * table library offers. */
#include "store/sindex.h"

#include "core/alloc.h"

#include <errno.h>
#include <string.h>

#define VT_MIN_SLOTS 8u
/* Positions are 3 bytes (lists hold at most IX_LIST_MAX ids): 3 bytes per
 * object id instead of 4 is what keeps an index under 8 bytes per object. */
#define POS_PAGE_BYTES ((size_t)3 << IX_POS_SHIFT)

/* The ids start right after the 28-byte header (no padding before them). */
static size_t list_bytes(uint32_t cap)
{
    return offsetof(oomkit__plist, ids) + (size_t)cap * sizeof(uint32_t);
}

static size_t vtab_bytes(uint64_t slots)
{
    return sizeof(oomkit__vtab) + (size_t)slots * sizeof(uint64_t);
}

/* Capacity of a fresh copy that holds n objects: a slack of n / 32 + 2 lets
 * the next copy wait for at least that many appends, so appends cost O(1)
 * amortised while the ids stay near 4.1 bytes per object. The slots up to
 * the end of the allocator's chunk cost nothing, so they are taken too. */
static uint32_t list_cap_for(uint32_t n)
{
    uint64_t c = (uint64_t)n + n / 32 + 2;
    if (c >= IX_LIST_MAX)
        return IX_LIST_MAX;
    size_t fp = oomkit__alloc_footprint(list_bytes((uint32_t)c));
    size_t over = list_bytes((uint32_t)c) >= 128 * 1024 ? 16 : 8;
    uint64_t fill = (fp - over - offsetof(oomkit__plist, ids)) / sizeof(uint32_t);
    if (fill > c && fill <= IX_LIST_MAX &&
        oomkit__alloc_footprint(list_bytes((uint32_t)fill)) == fp)
        c = fill;
    return (uint32_t)c;
}

/* 1 if list l holds more slots than a fresh copy of its live ids would,
 * plus that copy's slack again (live / 32 + 2): the dead and unused slots it
 * may keep stay under twice a fresh copy's slack, and a copy on removal
 * follows about live / 33 removals since the last copy (sindex.h, bounds). */
static int list_too_loose(const oomkit__plist *l)
{
    return l->cap > list_cap_for(l->live) + l->live / 32 + 2;
}

int oomkit__ix_full(const oomkit__sindex *x, int64_t value)
{
    const oomkit__plist *l = oomkit__ix_find(x, value);
    return l != NULL && l->len == l->cap && l->live >= IX_LIST_MAX - 1;
}

static void *ix_alloc(oomkit__sindex *x, oomkit__smem *m, size_t size)
{
    void *p = oomkit__smem_alloc(m, SM_TABLES, size);
    if (p != NULL)
        oomkit__smem_add(&x->bytes, oomkit__alloc_footprint(size));
    return p;
}

static void ix_free(oomkit__sindex *x, oomkit__smem *m, void *p, size_t size)
{
    oomkit__smem_add(&x->bytes, -(uint64_t)oomkit__alloc_footprint(size));
    oomkit__smem_free(m, SM_TABLES, p, size);
}

/* Retires a published buffer (or frees it while the index is private). */
static void ix_retire(oomkit__sindex *x, oomkit__smem *m, void *p, size_t size)
{
    if (x->private_build) {
        ix_free(x, m, p, size);
        return;
    }
    oomkit__smem_add(&x->bytes, -(uint64_t)oomkit__alloc_footprint(size));
    oomkit__smem_retire_buf(m, SM_TABLES, p, size);
}

void oomkit__ix_init(oomkit__sindex *x, uint32_t key_id)
{
    memset(x, 0, sizeof(*x));
    x->key_id = key_id;
}

void oomkit__ix_destroy(oomkit__sindex *x, oomkit__smem *m)
{
    oomkit__vtab *t = x->vt;
    if (t != NULL) {
        for (uint64_t i = 0; i <= t->mask; i++) {
            uint64_t v = t->slots[i];
            if (v > IX_TOMB) {
                oomkit__plist *l = (oomkit__plist *)(uintptr_t)v;
                ix_free(x, m, l, list_bytes(l->cap));
            }
        }
        ix_free(x, m, t, t->bytes);
    }
    if (x->spare != NULL)
        ix_free(x, m, x->spare, list_bytes(x->spare->cap));
    for (size_t p = 0; p < x->npos; p++)
        if (x->pos[p] != NULL)
            ix_free(x, m, x->pos[p], POS_PAGE_BYTES);
    if (x->pos != NULL)
        ix_free(x, m, x->pos, x->npos * sizeof(uint8_t *));
    x->vt = NULL;
    x->spare = NULL;
    x->pos = NULL;
    x->npos = 0;
}

/* ---- sizing --------------------------------------------------------------- */

static uint64_t vtab_want(const oomkit__sindex *x)
{
    uint64_t want = VT_MIN_SLOTS;
    while ((x->nvalues + 1) * 2 > want)
        want *= 2;
    return want;
}

/* Slots of the table to build before adding a new value, or 0 if the
 * current table takes it (load, tombstones included, at most 3/4). */
static uint64_t vtab_grow_to(const oomkit__sindex *x)
{
    const oomkit__vtab *t = x->vt;
    if (t != NULL && (x->nvalues + x->tomb + 1) * 4 <= (t->mask + 1) * 3)
        return 0;
    return vtab_want(x);
}

/* Capacity the spare list needs for value's next append, or 0. */
static uint32_t spare_cap_needed(const oomkit__plist *l)
{
    if (l != NULL && l->len < l->cap)
        return 0;
    return list_cap_for(l ? l->live + 1 : 1);
}

static size_t pos_need(const oomkit__sindex *x, uint32_t id_bound)
{
    size_t pg = id_bound >> IX_POS_SHIFT;
    size_t need = 0;
    if (pg >= x->npos)
        need += oomkit__alloc_footprint((pg + 1) * 2 * sizeof(uint8_t *));
    if (pg >= x->npos || x->pos[pg] == NULL)
        need += oomkit__alloc_footprint(POS_PAGE_BYTES);
    return need;
}

size_t oomkit__ix_need(const oomkit__sindex *x, int64_t value, uint32_t id_bound)
{
    const oomkit__plist *l = oomkit__ix_find(x, value);
    size_t need = pos_need(x, id_bound);
    if (l == NULL) {
        uint64_t slots = vtab_grow_to(x);
        if (slots)
            need += oomkit__alloc_footprint(vtab_bytes(slots));
    }
    uint32_t cap = spare_cap_needed(l);
    if (cap != 0 && (x->spare == NULL || x->spare->cap < cap))
        need += oomkit__alloc_footprint(list_bytes(cap));
    return need;
}

/* ---- prepare -------------------------------------------------------------- */

/* Inserts list l into table t (writer; l is not in t). */
static void vtab_put(oomkit__vtab *t, oomkit__plist *l, uint64_t *tomb)
{
    for (uint64_t i = oomkit__ix_hash(l->value) & t->mask;; i = (i + 1) & t->mask) {
        uint64_t v = t->slots[i];
        if (v == IX_EMPTY || v == IX_TOMB) {
            if (v == IX_TOMB && tomb != NULL)
                (*tomb)--;
            STORE_REL(&t->slots[i], (uint64_t)(uintptr_t)l);
            return;
        }
    }
}

static int vtab_rebuild(oomkit__sindex *x, oomkit__smem *m, uint64_t slots)
{
    oomkit__vtab *t = ix_alloc(x, m, vtab_bytes(slots));
    if (t == NULL)
        return -ENOMEM;
    memset(t, 0, vtab_bytes(slots));
    t->bytes = vtab_bytes(slots);
    t->mask = slots - 1;
    oomkit__vtab *old = x->vt;
    if (old != NULL)
        for (uint64_t i = 0; i <= old->mask; i++)
            if (old->slots[i] > IX_TOMB)
                vtab_put(t, (oomkit__plist *)(uintptr_t)old->slots[i], NULL);
    STORE_REL(&x->vt, t);
    x->tomb = 0;
    if (old != NULL)
        ix_retire(x, m, old, old->bytes);
    return 0;
}

static int pos_prepare(oomkit__sindex *x, oomkit__smem *m, uint32_t id_bound)
{
    size_t pg = id_bound >> IX_POS_SHIFT;
    if (pg >= x->npos) {
        size_t n = (pg + 1) * 2;
        uint8_t **top = ix_alloc(x, m, n * sizeof(uint8_t *));
        if (top == NULL)
            return -ENOMEM;
        memset(top, 0, n * sizeof(uint8_t *));
        if (x->pos != NULL) {
            memcpy(top, x->pos, x->npos * sizeof(uint8_t *));
            ix_free(x, m, x->pos, x->npos * sizeof(uint8_t *));
        }
        x->pos = top;
        x->npos = n;
    }
    if (x->pos[pg] == NULL) {
        x->pos[pg] = ix_alloc(x, m, POS_PAGE_BYTES);
        if (x->pos[pg] == NULL)
            return -ENOMEM;
    }
    return 0;
}

int oomkit__ix_prepare(oomkit__sindex *x, oomkit__smem *m, int64_t value, uint32_t id_bound)
{
    if (pos_prepare(x, m, id_bound) != 0)
        return -ENOMEM;
    const oomkit__plist *l = oomkit__ix_find(x, value);
    if (l == NULL) {
        uint64_t slots = vtab_grow_to(x);
        if (slots && vtab_rebuild(x, m, slots) != 0)
            return -ENOMEM;
    }
    uint32_t cap = spare_cap_needed(l);
    if (cap != 0 && (x->spare == NULL || x->spare->cap < cap)) {
        /* The new list is kept aside, unpublished, until the add commits:
         * a write that fails later leaves no empty list behind. */
        oomkit__plist *n = ix_alloc(x, m, list_bytes(cap));
        if (n == NULL)
            return -ENOMEM;
        n->cap = cap;
        if (x->spare != NULL)
            ix_free(x, m, x->spare, list_bytes(x->spare->cap));
        x->spare = n;
    }
    return 0;
}

/* ---- commit --------------------------------------------------------------- */

static void pos_set(oomkit__sindex *x, uint32_t id, uint32_t p)
{
    uint8_t *e = &x->pos[id >> IX_POS_SHIFT][3 * (id & ((1u << IX_POS_SHIFT) - 1))];
    e[0] = (uint8_t)p;
    e[1] = (uint8_t)(p >> 8);
    e[2] = (uint8_t)(p >> 16);
}

static uint32_t pos_get(const oomkit__sindex *x, uint32_t id)
{
    const uint8_t *e = &x->pos[id >> IX_POS_SHIFT][3 * (id & ((1u << IX_POS_SHIFT) - 1))];
    return (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16;
}

/* The table slot holding list l. */
static uint64_t *slot_of(oomkit__sindex *x, const oomkit__plist *l)
{
    oomkit__vtab *t = x->vt;
    for (uint64_t i = oomkit__ix_hash(l->value) & t->mask;; i = (i + 1) & t->mask)
        if (t->slots[i] == (uint64_t)(uintptr_t)l)
            return &t->slots[i];
}

/* Fills the unpublished list n (capacity set) with l's live ids in order,
 * moving their positions; l == NULL makes it empty. */
static void list_fill(oomkit__sindex *x, oomkit__plist *n, const oomkit__plist *l, int64_t value)
{
    n->value = value;
    n->next = NULL;
    n->len = 0;
    for (uint32_t i = 0; l != NULL && i < l->len; i++) {
        uint32_t oid = l->ids[i];
        if (oid == IX_DEAD)
            continue;
        pos_set(x, oid, n->len);
        n->ids[n->len++] = oid;
    }
    n->live = n->len;
}

/* Publishes the filled copy n in place of l (in slot) and retires l. A
 * reader still in l keeps its snapshot; one that finds n sees every live
 * id once, since n holds no id twice. */
static void list_swap(oomkit__sindex *x, oomkit__smem *m, uint64_t *slot, oomkit__plist *l,
                      oomkit__plist *n)
{
    STORE_REL(slot, (uint64_t)(uintptr_t)n);
    ix_retire(x, m, l, list_bytes(l->cap));
}

void oomkit__ix_add(oomkit__sindex *x, oomkit__smem *m, int64_t value, uint32_t id)
{
    oomkit__plist *l = (oomkit__plist *)oomkit__ix_find(x, value);
    if (l == NULL || l->len == l->cap) {
        /* Take the spare: copy the live ids (squeezing out dead slots),
         * publish it in place of the old list, retire the old one. */
        oomkit__plist *n = x->spare;
        x->spare = NULL;
        list_fill(x, n, l, value);
        if (l != NULL) {
            list_swap(x, m, slot_of(x, l), l, n);
        } else {
            vtab_put(x->vt, n, &x->tomb);
            STORE_RLX(&x->nvalues, x->nvalues + 1);
        }
        l = n;
    }
    uint32_t p = l->len;
    STORE_RLX(&l->ids[p], id);
    STORE_REL(&l->len, p + 1);
    STORE_RLX(&l->live, l->live + 1);
    pos_set(x, id, p);
    STORE_RLX(&x->objects, x->objects + 1);
}

/* Copies l to its size if it became too loose, best-effort: skipped when
 * the ledger has no free slot, the budget has no room or the allocation
 * fails, since a removal must not fail. The list stays correct either way;
 * the next removal (or the next full append) tries again. */
static void maybe_tighten(oomkit__sindex *x, oomkit__smem *m, oomkit__plist *l)
{
    if (!list_too_loose(l) || oomkit__smem_retire_room(m) == 0)
        return;
    uint32_t cap = list_cap_for(l->live);
    size_t bytes = list_bytes(cap);
    if (x->budget_bytes != 0 &&
        oomkit__smem_total(m) + oomkit__alloc_footprint(bytes) > x->budget_bytes)
        return;
    oomkit__plist *n = ix_alloc(x, m, bytes);
    if (n == NULL)
        return;
    n->cap = cap;
    list_fill(x, n, l, l->value);
    list_swap(x, m, slot_of(x, l), l, n);
}

void oomkit__ix_remove(oomkit__sindex *x, oomkit__smem *m, int64_t value, uint32_t id)
{
    oomkit__plist *l = (oomkit__plist *)oomkit__ix_find(x, value);
    uint32_t p = pos_get(x, id);
    STORE_RLX(&l->ids[p], IX_DEAD);
    STORE_RLX(&l->live, l->live - 1);
    STORE_RLX(&x->objects, x->objects - 1);
    if (l->live == 0) {
        STORE_REL(slot_of(x, l), (uint64_t)IX_TOMB);
        x->tomb++;
        STORE_RLX(&x->nvalues, x->nvalues - 1);
        ix_retire(x, m, l, list_bytes(l->cap));
        return;
    }
    maybe_tighten(x, m, l);
}

void oomkit__ix_unpublish_all(oomkit__sindex *x, oomkit__plist **chain)
{
    oomkit__vtab *t = x->vt;
    if (t == NULL)
        return;
    for (uint64_t i = 0; i <= t->mask; i++) {
        uint64_t v = t->slots[i];
        if (v > IX_TOMB) {
            oomkit__plist *l = (oomkit__plist *)(uintptr_t)v;
            l->next = *chain;
            *chain = l;
        }
        if (v != IX_EMPTY)
            STORE_REL(&t->slots[i], (uint64_t)IX_EMPTY);
    }
    x->tomb = 0;
    STORE_RLX(&x->nvalues, 0);
    STORE_RLX(&x->objects, 0);
}

void oomkit__ix_free_chain(oomkit__sindex *x, oomkit__smem *m, oomkit__plist *chain)
{
    while (chain != NULL) {
        oomkit__plist *next = chain->next;
        ix_free(x, m, chain, list_bytes(chain->cap));
        chain = next;
    }
}

int oomkit__ix_shrink(oomkit__sindex *x, oomkit__smem *m, uint64_t budget_bytes,
                      uint64_t *next_slot)
{
    oomkit__vtab *t = x->vt;
    if (t == NULL)
        return 0;
    for (uint64_t i = *next_slot; i <= t->mask; i++) {
        uint64_t v = t->slots[i];
        if (v <= IX_TOMB)
            continue;
        oomkit__plist *l = (oomkit__plist *)(uintptr_t)v;
        if (l->len == l->live && l->cap == l->live)
            continue; /* already exact */
        if (oomkit__smem_retire_room(m) == 0) {
            *next_slot = i;
            return 1;
        }
        uint32_t cap = l->live;
        size_t bytes = list_bytes(cap);
        if (budget_bytes != 0 &&
            oomkit__smem_total(m) + oomkit__alloc_footprint(bytes) > budget_bytes)
            continue;
        oomkit__plist *n = ix_alloc(x, m, bytes);
        if (n == NULL)
            return -ENOMEM;
        n->cap = cap;
        list_fill(x, n, l, l->value);
        list_swap(x, m, &t->slots[i], l, n);
    }
    *next_slot = UINT64_MAX;
    if (x->spare != NULL) {
        ix_free(x, m, x->spare, list_bytes(x->spare->cap));
        x->spare = NULL;
    }
    /* The value table: rebuilt for the live values at a load of at most 1/2
     * when it holds tombstones or is larger than that; dropped if empty. */
    uint64_t slots = VT_MIN_SLOTS;
    while (x->nvalues * 2 > slots)
        slots *= 2;
    if ((x->tomb != 0 || slots < t->mask + 1) && oomkit__smem_retire_room(m) != 0 &&
        (budget_bytes == 0 ||
         oomkit__smem_total(m) + oomkit__alloc_footprint(vtab_bytes(slots)) <= budget_bytes)) {
        if (x->nvalues == 0) {
            STORE_REL(&x->vt, (oomkit__vtab *)NULL);
            x->tomb = 0;
            ix_retire(x, m, t, t->bytes);
        } else if (vtab_rebuild(x, m, slots) != 0) {
            return -ENOMEM;
        }
    }
    return 0;
}
