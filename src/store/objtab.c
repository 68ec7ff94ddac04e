/* The object table (see objtab.h): growth, rebuild and slot updates. */
#include "store/objtab.h"

#include "core/alloc.h"

#include <errno.h>
#include <string.h>

#define MIN_SLOTS 16u

static size_t arr_bytes(uint64_t slots)
{
    return sizeof(oomkit__objtab_arr) + slots * sizeof(uint64_t);
}

/* The array size for n live objects: at most 70% full after a rebuild, so
 * the next growth is a doubling's worth of inserts away. */
static uint64_t slots_for(uint64_t n)
{
    uint64_t s = MIN_SLOTS;
    while (n * 10 > s * 7)
        s *= 2;
    return s;
}

static uint64_t blk_hash(const oomkit__blk *b)
{
    return oomkit__obj_hash(b->ns_id, oomkit__blk_name(b), b->name_len);
}

static oomkit__objtab_arr *build(oomkit__objtab *t, oomkit__smem *m, uint64_t slots)
{
    oomkit__objtab_arr *a = oomkit__smem_zalloc(m, SM_TABLES, arr_bytes(slots));
    if (a == NULL)
        return NULL;
    a->bytes = arr_bytes(slots);
    a->mask = slots - 1;
    const oomkit__objtab_arr *old = t->arr;
    if (old != NULL) {
        for (uint64_t i = 0; i <= old->mask; i++) {
            uint64_t v = old->slots[i];
            if (v == OT_EMPTY || v == OT_TOMB)
                continue;
            uint64_t h = blk_hash((const oomkit__blk *)(uintptr_t)(v & OT_PTR_MASK));
            uint64_t j = h & a->mask;
            while (a->slots[j] != OT_EMPTY)
                j = (j + 1) & a->mask;
            a->slots[j] = v;
        }
    }
    return a;
}

static void publish(oomkit__objtab *t, oomkit__smem *m, oomkit__objtab_arr *a)
{
    oomkit__objtab_arr *old = t->arr;
    STORE_REL(&t->arr, a);
    t->tomb = 0;
    if (old != NULL) {
        oomkit__smem_retire_buf(m, SM_TABLES, old, old->bytes);
        oomkit__smem_add(&m->resizes, 1);
    }
}

int oomkit__objtab_init(oomkit__objtab *t, oomkit__smem *m, size_t expected)
{
    t->arr = NULL;
    t->live = t->tomb = 0;
    oomkit__objtab_arr *a = build(t, m, slots_for(expected));
    if (a == NULL)
        return -ENOMEM;
    t->arr = a;
    return 0;
}

void oomkit__objtab_destroy(oomkit__objtab *t, oomkit__smem *m)
{
    if (t->arr != NULL)
        oomkit__smem_free(m, SM_TABLES, t->arr, t->arr->bytes);
    t->arr = NULL;
}

size_t oomkit__objtab_slot_of(const oomkit__objtab *t, const oomkit__blk *b)
{
    const oomkit__objtab_arr *a = t->arr;
    uint64_t h = blk_hash(b);
    for (uint64_t i = h & a->mask;; i = (i + 1) & a->mask)
        if ((a->slots[i] & OT_PTR_MASK) == (uint64_t)(uintptr_t)b)
            return (size_t)i;
}

/* The array size the next insert needs, or 0 if the current one will do. */
static uint64_t grow_target(const oomkit__objtab *t)
{
    uint64_t slots = t->arr->mask + 1;
    if ((t->live + t->tomb + 1) * 100 <= slots * 85)
        return 0;
    uint64_t s = slots_for(t->live + 1);
    return s < slots ? slots : s;
}

size_t oomkit__objtab_need(const oomkit__objtab *t)
{
    uint64_t s = grow_target(t);
    return s ? oomkit__alloc_footprint(arr_bytes(s)) : 0;
}

int oomkit__objtab_grow(oomkit__objtab *t, oomkit__smem *m)
{
    uint64_t s = grow_target(t);
    if (s == 0)
        return 0;
    oomkit__objtab_arr *a = build(t, m, s);
    if (a == NULL)
        return -ENOMEM;
    publish(t, m, a);
    return 0;
}

void oomkit__objtab_insert(oomkit__objtab *t, oomkit__blk *b, uint64_t h)
{
    oomkit__objtab_arr *a = t->arr;
    uint64_t i = h & a->mask;
    while (a->slots[i] != OT_EMPTY && a->slots[i] != OT_TOMB)
        i = (i + 1) & a->mask;
    if (a->slots[i] == OT_TOMB)
        t->tomb--;
    STORE_REL(&a->slots[i], (h >> 48) << 48 | (uint64_t)(uintptr_t)b);
    STORE_RLX(&t->live, t->live + 1);
}

void oomkit__objtab_replace(oomkit__objtab *t, size_t slot, oomkit__blk *b)
{
    oomkit__objtab_arr *a = t->arr;
    uint64_t v = a->slots[slot];
    STORE_REL(&a->slots[slot], (v & ~OT_PTR_MASK) | (uint64_t)(uintptr_t)b);
}

void oomkit__objtab_remove(oomkit__objtab *t, size_t slot)
{
    oomkit__objtab_arr *a = t->arr;
    if (a->slots[(slot + 1) & a->mask] == OT_EMPTY) {
        STORE_REL(&a->slots[slot], OT_EMPTY);
        /* Tombstones just before an empty slot end no chain either. */
        for (size_t i = (slot - 1) & a->mask; a->slots[i] == OT_TOMB; i = (i - 1) & a->mask) {
            STORE_REL(&a->slots[i], OT_EMPTY);
            t->tomb--;
        }
    } else {
        STORE_REL(&a->slots[slot], OT_TOMB);
        t->tomb++;
    }
    STORE_RLX(&t->live, t->live - 1);
}

void oomkit__objtab_clear(oomkit__objtab *t)
{
    oomkit__objtab_arr *a = t->arr;
    for (uint64_t i = 0; i <= a->mask; i++)
        if (a->slots[i] != OT_EMPTY)
            STORE_RLX(&a->slots[i], OT_EMPTY);
    STORE_RLX(&t->live, 0);
    t->tomb = 0;
}

int oomkit__objtab_shrink(oomkit__objtab *t, oomkit__smem *m)
{
    uint64_t s = slots_for(t->live);
    if (s >= t->arr->mask + 1 && t->tomb == 0)
        return 0;
    if (s > t->arr->mask + 1)
        s = t->arr->mask + 1;
    oomkit__objtab_arr *a = build(t, m, s);
    if (a == NULL)
        return -ENOMEM;
    publish(t, m, a);
    return 0;
}

uint64_t oomkit__objtab_slots(const oomkit__objtab *t)
{
    const oomkit__objtab_arr *a = LOAD_ACQ(&((oomkit__objtab *)t)->arr);
    return a->mask + 1;
}

