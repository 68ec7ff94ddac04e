/* The object table: (namespace id, name) -> object block. Extendible
 * hashing: a directory of segments, each a small open-addressing table with
 * linear probing over 8-byte slots.
 *
 *   h = XXH3(name, seed = ns id)
 *   bits 63..48: tag     bits 47..16: directory index     bits 15..0: slot
 *
 *   directory (1 << depth entries)        segment (local depth d <= depth)
 *   [ seg* | seg* | seg* | ... ]  ---->  { depth live tomb mask | u64 slots[] }
 *                                          slot = tag16 << 48 | block pointer
 *                                          0 = empty, 1 = tombstone
 *
 * A segment of local depth d owns every directory entry whose low d bits
 * equal its own pattern. x86-64 user pointers fit in 48 bits (checked on
 * every block, see store.c), so one load yields both the filter and the
 * block: a hit costs the (small, cache-resident) directory, the slot's
 * cache line and the block's.
 *
 * Growth is one segment at a time, so no write ever rehashes the table: when
 * an insert would take its segment past 85% (live + tombstones), the writer
 * rebuilds that segment alone: at double size while it is below SEG_SLOTS,
 * at the same size when tombstones make up a quarter of it, else split in
 * two of depth d + 1 (doubling the directory first when d == depth; that
 * copies only pointers). A step touches at most SEG_SLOTS slots (16 KiB);
 * tests/store and `oomkit bench store` measure the worst write it leaves.
 * After a split each half has the old slot count and at most the old
 * number of entries, so one step always makes room for the insert.
 *
 * Readers: inside a read section, acquire loads of the directory, of its
 * entries and of slots. A rebuilt segment is a new copy published by
 * release stores into the directory entries; the old one is retired, so a
 * reader still inside it sees a consistent earlier state. A removal writes
 * a tombstone, or an empty slot when the next slot is empty (no probe chain
 * runs through it then). Writer: one at a time. */
#ifndef OOMKIT_STORE_OBJTAB_H
#define OOMKIT_STORE_OBJTAB_H

#include "core/hash.h"
#include "store/block.h"
#include "store/smem.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define OT_EMPTY 0u
#define OT_TOMB 1u
#define OT_PTR_MASK 0x0000ffffffffffffull
/* Largest segment: a split or rebuild rehashes at most this many slots. */
#define SEG_SLOTS 2048u
/* Deepest directory: the index bits between the slot bits and the tag. */
#define OT_MAX_DEPTH 32u

typedef struct oomkit__objseg {
    size_t bytes;
    uint64_t mask;  /* slots - 1; never changes */
    uint32_t depth; /* local depth; never changes */
    uint32_t live;  /* writer only */
    uint32_t tomb;  /* writer only */
    uint64_t slots[]; /* acquire loads, release stores */
} oomkit__objseg;

typedef struct oomkit__objdir {
    size_t bytes;
    uint32_t depth;          /* never changes */
    oomkit__objseg *seg[];   /* 1 << depth entries; acquire / release */
} oomkit__objdir;

typedef struct oomkit__objtab {
    oomkit__objdir *dir; /* acquire / release */
    uint64_t live;       /* relaxed (stats) */
    uint64_t tomb;       /* writer only */
    uint64_t slots;      /* all segments; relaxed (stats) */
} oomkit__objtab;

/* A slot found by the writer: valid until the table next grows. */
typedef struct oomkit__otslot {
    oomkit__objseg *seg;
    uint64_t i;
} oomkit__otslot;

static inline uint64_t oomkit__obj_hash(uint32_t ns_id, const void *name, size_t len)
{
    return oomkit__hash(name, len, (uint64_t)ns_id * 0x9e3779b97f4a7c15ull + 1);
}

/* 1 if slot value v holds a block whose hash has h's tag. */
static inline int oomkit__ot_tag_hit(uint64_t v, uint64_t h)
{
    return v > OT_TOMB && (v >> 48) == (h >> 48);
}

/* The segment that holds hash h. Reader or writer. */
static inline oomkit__objseg *oomkit__objtab_seg(const oomkit__objtab *t, uint64_t h)
{
    const oomkit__objdir *d = LOAD_ACQ(&((oomkit__objtab *)t)->dir);
    uint64_t i = (h >> 16) & (((uint64_t)1 << d->depth) - 1);
    return LOAD_ACQ(&((oomkit__objdir *)d)->seg[i]);
}

/* The home slot of h in its segment g, to prefetch. Reader or writer. */
static inline const uint64_t *oomkit__objtab_home(const oomkit__objseg *g, uint64_t h)
{
    return &g->slots[h & g->mask];
}

/* The block a lookup of h in segment g will most likely compare first, to
 * prefetch: the first slot with h's tag among the first few of its probe
 * chain, or NULL. A guess only (it reads no block): at the tables' usual
 * load one object in five or so sits past its home slot (18% at 100k
 * objects, 22% at 1M). Reader or writer. */
static inline const void *oomkit__objtab_guess(const oomkit__objseg *g, uint64_t h)
{
    uint64_t i = h & g->mask;
    for (int k = 0; k < 4; k++, i = (i + 1) & g->mask) {
        uint64_t v = LOAD_ACQ(&((oomkit__objseg *)g)->slots[i]);
        if (v == OT_EMPTY)
            return NULL;
        if (oomkit__ot_tag_hit(v, h))
            return (const void *)(uintptr_t)(v & OT_PTR_MASK);
    }
    return NULL;
}

/* Creates the table, sized for `expected` objects. 0 or -ENOMEM. */
int oomkit__objtab_init(oomkit__objtab *t, oomkit__smem *m, size_t expected);
void oomkit__objtab_destroy(oomkit__objtab *t, oomkit__smem *m);

/* The block of (ns_id, name), or NULL; *slot_out (if not NULL) gets its
 * slot. Reader or writer. */
static inline oomkit__blk *oomkit__objtab_find(const oomkit__objtab *t, uint32_t ns_id,
                                               const char *name, size_t len, uint64_t h,
                                               oomkit__otslot *slot_out)
{
    oomkit__objseg *g = oomkit__objtab_seg(t, h);
    for (uint64_t i = h & g->mask;; i = (i + 1) & g->mask) {
        uint64_t v = LOAD_ACQ(&g->slots[i]);
        if (v == OT_EMPTY)
            return NULL;
        if (!oomkit__ot_tag_hit(v, h))
            continue;
        const oomkit__blk *b = (const oomkit__blk *)(uintptr_t)(v & OT_PTR_MASK);
        if (b->ns_id == ns_id && b->name_len == len &&
            (len == 0 || memcmp(oomkit__blk_name(b), name, len) == 0)) {
            if (slot_out != NULL)
                *slot_out = (oomkit__otslot){ g, i };
            return (oomkit__blk *)b;
        }
    }
}

/* The slot holding block b (present). Writer. */
oomkit__otslot oomkit__objtab_slot_of(const oomkit__objtab *t, const oomkit__blk *b);

/* Bytes that making room for one more object of hash h would allocate (0
 * if its segment has room). */
size_t oomkit__objtab_need(const oomkit__objtab *t, uint64_t h);
/* Makes room in the segment of h for one more object. Needs 2 retire
 * slots. 0 or -ENOMEM (content unchanged). Writer. */
int oomkit__objtab_grow(oomkit__objtab *t, oomkit__smem *m, uint64_t h);
/* Inserts a block known to be absent, after a successful grow. Writer. */
void oomkit__objtab_insert(oomkit__objtab *t, oomkit__blk *b, uint64_t h);
/* Points slot at a new copy of its block. Writer. */
void oomkit__objtab_replace(oomkit__otslot slot, oomkit__blk *b);
/* Removes the object in slot. Writer. */
void oomkit__objtab_remove(oomkit__objtab *t, oomkit__otslot slot);
/* Empties every slot, keeping the segments (clear). Writer. */
void oomkit__objtab_clear(oomkit__objtab *t);
/* Rebuilds each segment holding tombstones, or much larger than its live
 * objects need, into the smallest size that holds them. Needs a retire slot
 * per segment: returns 1 when the ledger is full (call again after a flush),
 * 0 when done, -ENOMEM (the table stays valid). A segment whose rebuild
 * would pass budget_bytes (0 = none) stays as it is. */
int oomkit__objtab_shrink(oomkit__objtab *t, oomkit__smem *m, uint64_t budget_bytes);
/* Slots in all segments (stats; any thread). */
uint64_t oomkit__objtab_slots(const oomkit__objtab *t);

#endif
