/* The object table (see objtab.h): segment rebuilds and splits, directory
 * doubling, and slot updates. */
#include "store/objtab.h"

#include "core/alloc.h"

#include <errno.h>
#include <string.h>

#define MIN_SLOTS 16u

_Static_assert(SEG_SLOTS <= (1u << 16), "slot bits end where the directory bits begin");

static size_t seg_bytes(uint64_t slots)
{
    return sizeof(oomkit__objseg) + slots * sizeof(uint64_t);
}

static size_t dir_bytes(uint32_t depth)
{
    return sizeof(oomkit__objdir) + ((size_t)1 << depth) * sizeof(oomkit__objseg *);
}

/* The segment size for n live objects: at most 70% full after a rebuild, so
 * the next one is many inserts away. May exceed SEG_SLOTS (then: split). */
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

static uint64_t dir_index(const oomkit__objdir *d, uint64_t h)
{
    return (h >> 16) & (((uint64_t)1 << d->depth) - 1);
}

static oomkit__objseg *seg_new(oomkit__smem *m, uint64_t slots, uint32_t depth)
{
    oomkit__objseg *g = oomkit__smem_zalloc(m, SM_TABLES, seg_bytes(slots));
    if (g == NULL)
        return NULL;
    g->bytes = seg_bytes(slots);
    g->mask = slots - 1;
    g->depth = depth;
    return g;
}

/* Places slot value v of hash h into g, which is not yet published. */
static void seg_place(oomkit__objseg *g, uint64_t v, uint64_t h)
{
    uint64_t i = h & g->mask;
    while (g->slots[i] != OT_EMPTY)
        i = (i + 1) & g->mask;
    g->slots[i] = v;
    g->live++;
}

/* Copies every live entry of old into a (or, when b is not NULL, into a or
 * b by directory bit `bit`). Neither a nor b is published yet. */
static void seg_copy(const oomkit__objseg *old, oomkit__objseg *a, oomkit__objseg *b,
                     uint32_t bit)
{
    /* Rehashing reads every block (a cache miss each, scattered over the
     * heap): prefetch PREFETCH_AHEAD slots ahead so the misses overlap. At
     * 1M objects this took a split from about 1 ms to a fraction of it. */
    enum { PREFETCH_AHEAD = 16 };
    for (uint64_t i = 0; i < PREFETCH_AHEAD && i <= old->mask; i++)
        if (old->slots[i] > OT_TOMB)
            __builtin_prefetch((const void *)(uintptr_t)(old->slots[i] & OT_PTR_MASK));
    for (uint64_t i = 0; i <= old->mask; i++) {
        if (i + PREFETCH_AHEAD <= old->mask && old->slots[i + PREFETCH_AHEAD] > OT_TOMB)
            __builtin_prefetch(
                (const void *)(uintptr_t)(old->slots[i + PREFETCH_AHEAD] & OT_PTR_MASK));
        uint64_t v = old->slots[i];
        if (v == OT_EMPTY || v == OT_TOMB)
            continue;
        uint64_t h = blk_hash((const oomkit__blk *)(uintptr_t)(v & OT_PTR_MASK));
        seg_place(b != NULL && ((h >> 16) >> bit & 1) ? b : a, v, h);
    }
}

/* What making room in segment g takes. */
typedef struct plan {
    uint64_t slots; /* 0: nothing to do; else the new segment's (or halves') size */
    int split;      /* two halves of depth + 1 */
    int grow_dir;   /* the directory doubles first */
} plan;

static plan plan_for(const oomkit__objtab *t, const oomkit__objseg *g)
{
    plan p = { 0, 0, 0 };
    uint64_t slots = g->mask + 1;
    if (((uint64_t)g->live + g->tomb + 1) * 100 <= slots * 85)
        return p;
    p.slots = slots_for((uint64_t)g->live + 1);
    if (p.slots > SEG_SLOTS && g->depth < OT_MAX_DEPTH) {
        p.slots = SEG_SLOTS;
        p.split = 1;
        p.grow_dir = g->depth == t->dir->depth;
    }
    return p;
}

static size_t plan_bytes(const oomkit__objtab *t, plan p)
{
    if (p.slots == 0)
        return 0;
    size_t n = oomkit__alloc_footprint(seg_bytes(p.slots)) * (p.split ? 2 : 1);
    if (p.grow_dir)
        n += oomkit__alloc_footprint(dir_bytes(t->dir->depth + 1));
    return n;
}

/* Points every directory entry of segment old (pattern of hash h) at a, or
 * at a / b by the new bit when b is not NULL; retires old. */
static void seg_publish(oomkit__objtab *t, oomkit__smem *m, oomkit__objseg *old, uint64_t h,
                        oomkit__objseg *a, oomkit__objseg *b)
{
    oomkit__objdir *d = t->dir;
    uint32_t dd = old->depth;
    uint64_t pattern = dir_index(d, h) & (((uint64_t)1 << dd) - 1);
    for (uint64_t j = 0; j < ((uint64_t)1 << (d->depth - dd)); j++) {
        uint64_t i = pattern | j << dd;
        STORE_REL(&d->seg[i], b != NULL && (i >> dd & 1) ? b : a);
    }
    uint64_t before = old->mask + 1;
    uint64_t after = (a->mask + 1) + (b != NULL ? b->mask + 1 : 0);
    STORE_RLX(&t->slots, t->slots - before + after);
    t->tomb -= old->tomb;
    oomkit__smem_retire_buf(m, SM_TABLES, old, old->bytes);
    oomkit__smem_add(&m->resizes, 1);
}

static int dir_double(oomkit__objtab *t, oomkit__smem *m)
{
    oomkit__objdir *old = t->dir;
    uint32_t depth = old->depth + 1;
    oomkit__objdir *d = oomkit__smem_alloc(m, SM_TABLES, dir_bytes(depth));
    if (d == NULL)
        return -ENOMEM;
    d->bytes = dir_bytes(depth);
    d->depth = depth;
    size_t half = (size_t)1 << old->depth;
    memcpy(d->seg, old->seg, half * sizeof(d->seg[0]));
    memcpy(d->seg + half, old->seg, half * sizeof(d->seg[0]));
    STORE_REL(&t->dir, d);
    oomkit__smem_retire_buf(m, SM_TABLES, old, old->bytes);
    return 0;
}

/* Presizing stops here (about 48 MiB of slots); a larger table grows one
 * segment at a time as it fills, as any table does. Without a cap a hint
 * of SIZE_MAX overflowed slots_for and UINT32_MAX allocated 64 GiB. */
#define PRESIZE_MAX_OBJECTS ((size_t)1 << 22)

int oomkit__objtab_init(oomkit__objtab *t, oomkit__smem *m, size_t expected)
{
    memset(t, 0, sizeof(*t));
    if (expected > PRESIZE_MAX_OBJECTS)
        expected = PRESIZE_MAX_OBJECTS;
    uint64_t slots = slots_for(expected);
    uint32_t depth = 0;
    if (slots > SEG_SLOTS) {
        while (((uint64_t)SEG_SLOTS << depth) < slots && depth < OT_MAX_DEPTH)
            depth++;
        slots = SEG_SLOTS;
    }
    oomkit__objdir *d = oomkit__smem_zalloc(m, SM_TABLES, dir_bytes(depth));
    if (d == NULL)
        return -ENOMEM;
    d->bytes = dir_bytes(depth);
    d->depth = depth;
    t->dir = d;
    for (size_t i = 0; i < ((size_t)1 << depth); i++) {
        d->seg[i] = seg_new(m, slots, depth);
        if (d->seg[i] == NULL) {
            oomkit__objtab_destroy(t, m);
            return -ENOMEM;
        }
        t->slots += slots;
    }
    return 0;
}

void oomkit__objtab_destroy(oomkit__objtab *t, oomkit__smem *m)
{
    oomkit__objdir *d = t->dir;
    if (d == NULL)
        return;
    /* A segment of depth dd appears first at its pattern, an index below
     * 1 << dd, and again every 1 << dd entries: walking down, its last
     * appearance is where it is freed. */
    for (uint64_t i = (uint64_t)1 << d->depth; i-- > 0;) {
        oomkit__objseg *g = d->seg[i];
        if (g != NULL && i < ((uint64_t)1 << g->depth))
            oomkit__smem_free(m, SM_TABLES, g, g->bytes);
    }
    oomkit__smem_free(m, SM_TABLES, d, d->bytes);
    t->dir = NULL;
}

oomkit__otslot oomkit__objtab_slot_of(const oomkit__objtab *t, const oomkit__blk *b)
{
    uint64_t h = blk_hash(b);
    oomkit__objseg *g = oomkit__objtab_seg(t, h);
    uint64_t i = h & g->mask;
    while ((g->slots[i] & OT_PTR_MASK) != (uint64_t)(uintptr_t)b)
        i = (i + 1) & g->mask;
    return (oomkit__otslot){ g, i };
}

size_t oomkit__objtab_need(const oomkit__objtab *t, uint64_t h)
{
    return plan_bytes(t, plan_for(t, oomkit__objtab_seg(t, h)));
}

int oomkit__objtab_grow(oomkit__objtab *t, oomkit__smem *m, uint64_t h)
{
    oomkit__objseg *old = oomkit__objtab_seg(t, h);
    plan p = plan_for(t, old);
    if (p.slots == 0)
        return 0;
    uint32_t depth = old->depth + (p.split ? 1 : 0);
    oomkit__objseg *a = seg_new(m, p.slots, depth);
    oomkit__objseg *b = p.split ? seg_new(m, p.slots, depth) : NULL;
    if (a == NULL || (p.split && b == NULL) || (p.grow_dir && dir_double(t, m) != 0)) {
        if (a != NULL)
            oomkit__smem_free(m, SM_TABLES, a, a->bytes);
        if (b != NULL)
            oomkit__smem_free(m, SM_TABLES, b, b->bytes);
        return -ENOMEM;
    }
    seg_copy(old, a, b, old->depth);
    seg_publish(t, m, old, h, a, b);
    return 0;
}

void oomkit__objtab_insert(oomkit__objtab *t, oomkit__blk *b, uint64_t h)
{
    oomkit__objseg *g = oomkit__objtab_seg(t, h);
    uint64_t i = h & g->mask;
    while (g->slots[i] != OT_EMPTY && g->slots[i] != OT_TOMB)
        i = (i + 1) & g->mask;
    if (g->slots[i] == OT_TOMB) {
        g->tomb--;
        t->tomb--;
    }
    STORE_REL(&g->slots[i], (h >> 48) << 48 | (uint64_t)(uintptr_t)b);
    g->live++;
    STORE_RLX(&t->live, t->live + 1);
}

void oomkit__objtab_replace(oomkit__otslot slot, oomkit__blk *b)
{
    uint64_t v = slot.seg->slots[slot.i];
    STORE_REL(&slot.seg->slots[slot.i], (v & ~OT_PTR_MASK) | (uint64_t)(uintptr_t)b);
}

void oomkit__objtab_remove(oomkit__objtab *t, oomkit__otslot slot)
{
    oomkit__objseg *g = slot.seg;
    uint64_t mask = g->mask;
    if (g->slots[(slot.i + 1) & mask] == OT_EMPTY) {
        STORE_REL(&g->slots[slot.i], OT_EMPTY);
        /* Tombstones just before an empty slot end no chain either. */
        for (uint64_t i = (slot.i - 1) & mask; g->slots[i] == OT_TOMB; i = (i - 1) & mask) {
            STORE_REL(&g->slots[i], OT_EMPTY);
            g->tomb--;
            t->tomb--;
        }
    } else {
        STORE_REL(&g->slots[slot.i], OT_TOMB);
        g->tomb++;
        t->tomb++;
    }
    g->live--;
    STORE_RLX(&t->live, t->live - 1);
}

void oomkit__objtab_clear(oomkit__objtab *t)
{
    oomkit__objdir *d = t->dir;
    for (uint64_t i = 0; i < ((uint64_t)1 << d->depth); i++) {
        oomkit__objseg *g = d->seg[i];
        if (i >= ((uint64_t)1 << g->depth))
            continue;
        for (uint64_t j = 0; j <= g->mask; j++)
            if (g->slots[j] != OT_EMPTY)
                STORE_RLX(&g->slots[j], OT_EMPTY);
        g->live = g->tomb = 0;
    }
    STORE_RLX(&t->live, 0);
    t->tomb = 0;
}

int oomkit__objtab_shrink(oomkit__objtab *t, oomkit__smem *m, uint64_t budget_bytes)
{
    oomkit__objdir *d = t->dir;
    for (uint64_t i = 0; i < ((uint64_t)1 << d->depth); i++) {
        oomkit__objseg *g = d->seg[i];
        if (i >= ((uint64_t)1 << g->depth))
            continue;
        uint64_t want = slots_for(g->live);
        if (want > g->mask + 1)
            want = g->mask + 1;
        if (want == g->mask + 1 && g->tomb == 0)
            continue;
        if (budget_bytes != 0 &&
            oomkit__smem_total(m) + oomkit__alloc_footprint(seg_bytes(want)) > budget_bytes)
            continue; /* no room to rebuild this one: it stays as it is */
        if (oomkit__smem_retire_room(m) < 1)
            return 1;
        oomkit__objseg *n = seg_new(m, want, g->depth);
        if (n == NULL)
            return -ENOMEM;
        seg_copy(g, n, NULL, 0);
        /* Any hash of the segment's pattern: its index i is one. */
        seg_publish(t, m, g, i << 16, n, NULL);
    }
    return 0;
}

uint64_t oomkit__objtab_slots(const oomkit__objtab *t)
{
    return LOAD_RLX(&((oomkit__objtab *)t)->slots);
}
