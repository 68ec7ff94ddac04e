/* Secondary indexes of the store: for one field key, value -> the objects
 * whose field holds that value (store.h, "secondary indexes"). It sits
 * beside the namespace lists (nslist.h) and borrows their design.
 *
 *   value table (open addressing, u64 slots)     posting list per value
 *   [ 0 | plist* | 1 | plist* ... ]  ------->    { value next cap len live | u32 ids[cap] }
 *                                                  ids[i] = object id or IX_DEAD
 *   position pages (writer only): object id -> its slot in its posting list
 *
 * - A slot holds a posting list pointer (0 empty, 1 tombstone); the value
 *   lives in the list header, which never changes once published, so a
 *   reader never pairs a slot with the wrong value even when a tombstone is
 *   reused.
 * - Appending writes ids[len] and release-stores len; removing stores
 *   IX_DEAD in the object's slot (found through the position pages, O(1)).
 *   A list whose last object leaves is unpublished and retired, so a value
 *   without objects holds no memory.
 * - A list is replaced by a copy of its live ids, sized f(n) = n + n/32 + 2
 *   (rounded up to the allocator's chunk), and the old one retired: when an
 *   append finds it full, and when a removal leaves cap > f(live) + live/32
 *   + 2 (dead slots plus unused ones). The copy on removal is best-effort: it
 *   is skipped if the ledger has no slot, the budget no room or the
 *   allocation fails, so a delete never fails; the next removal retries.
 * - Readers snapshot len once and check each visited object's current field
 *   value: an object that left and came back is appended past the snapshot,
 *   so it is seen at most once, and a stale copy never yields an object that
 *   no longer has the value. A copy holds each live id once, in order.
 *
 * Bounds. Wasted slots (dead or unused) per list stay at most about
 * 2 * (live/32 + 2) + 3, so at 100 objects per value the index costs about
 * 3 (position) + 4.2 (ids) + 0.45 (28-byte header and chunk overhead per
 * list) + 0.16 (value table) bytes per object: 7.7 to 7.95 after any writes,
 * 7.6 after compact (the 8-byte target; smaller lists cost more per object,
 * since a list costs 36 bytes before its ids). Positions are paid per id
 * below the highest id, indexed or not. Work: a copy of a list costs O(cap);
 * a fresh copy has at least n/32 + 2 free slots, so it follows at least that
 * many appends, and about live/33 removals (for lists under about 64
 * objects, where the chunk rounding moves f by 4 at a time, one copy per 4
 * removals), so each write pays O(1) amortised: about 33 id copies (at most
 * 16 for a small list) and one allocation per max(4, live/33) removals.
 * Writer: one at a time, under the store mutex. Readers: in a read section. */
#ifndef OOMKIT_STORE_SINDEX_H
#define OOMKIT_STORE_SINDEX_H

#include "core/hash.h"
#include "store/smem.h"
#include "store/sync.h"

#include <stddef.h>
#include <stdint.h>

#define IX_MAX 8
#define IX_DEAD UINT32_MAX
#define IX_EMPTY 0u
#define IX_TOMB 1u
/* Object ids per position page (12 KiB of 3-byte positions). */
#define IX_POS_SHIFT 12
/* Most ids one posting list holds (positions are 24 bits). */
#define IX_LIST_MAX ((1u << 24) - 1)

/* 28 bytes before the ids. The size is list_bytes(cap) and the dead slots
 * number len - live, so neither is stored. */
typedef struct oomkit__plist {
    int64_t value;              /* immutable once published */
    struct oomkit__plist *next; /* writer only (clear chains lists here) */
    uint32_t cap;               /* writer only */
    uint32_t len;               /* acquire / release */
    uint32_t live;              /* relaxed */
    uint32_t ids[];             /* relaxed */
} oomkit__plist;

typedef struct oomkit__vtab {
    size_t bytes;
    uint64_t mask;
    uint64_t slots[]; /* plist pointer, IX_EMPTY or IX_TOMB; acquire / release */
} oomkit__vtab;

typedef struct oomkit__sindex {
    uint32_t key_id;
    oomkit__vtab *vt;      /* acquire / release */
    uint64_t nvalues;      /* lists published; relaxed */
    uint64_t tomb;         /* writer only */
    uint64_t objects;      /* indexed objects; relaxed */
    uint64_t bytes;        /* footprint of everything above; relaxed */
    uint8_t **pos;         /* writer only: pages of 3-byte positions */
    size_t npos;           /* pages addressable in pos */
    oomkit__plist *spare;  /* writer only: a prepared, unpublished list */
    uint64_t budget_bytes; /* writer only: the store's budget (0 = none) */
    int private_build;     /* 1 while unpublished: free instead of retire */
} oomkit__sindex;

static inline uint64_t oomkit__ix_hash(int64_t value)
{
    return oomkit__hash(&value, sizeof(value), 0x696e646578ull);
}

/* The posting list of value, or NULL. Reader or writer. */
static inline const oomkit__plist *oomkit__ix_find(const oomkit__sindex *x, int64_t value)
{
    const oomkit__vtab *t = LOAD_ACQ(&((oomkit__sindex *)x)->vt);
    if (t == NULL)
        return NULL;
    for (uint64_t i = oomkit__ix_hash(value) & t->mask;; i = (i + 1) & t->mask) {
        uint64_t v = LOAD_ACQ(&((oomkit__vtab *)t)->slots[i]);
        if (v == IX_EMPTY)
            return NULL;
        if (v == IX_TOMB)
            continue;
        const oomkit__plist *l = (const oomkit__plist *)(uintptr_t)v;
        if (l->value == value)
            return l;
    }
}

void oomkit__ix_init(oomkit__sindex *x, uint32_t key_id);
/* Frees everything at once (close, or a failed build). */
void oomkit__ix_destroy(oomkit__sindex *x, oomkit__smem *m);

/* 1 if value's list cannot take one more object (IX_LIST_MAX): the write
 * must fail with -E2BIG. */
int oomkit__ix_full(const oomkit__sindex *x, int64_t value);
/* Bytes oomkit__ix_prepare(x, value, id_bound) would allocate. */
size_t oomkit__ix_need(const oomkit__sindex *x, int64_t value, uint32_t id_bound);
/* Makes room to add one object with an id below id_bound + 1 to value's
 * list. Needs up to 2 retire slots. 0 or -ENOMEM (content unchanged). */
int oomkit__ix_prepare(oomkit__sindex *x, oomkit__smem *m, int64_t value, uint32_t id_bound);
/* Adds object id under value, after a successful prepare. Never fails. */
void oomkit__ix_add(oomkit__sindex *x, oomkit__smem *m, int64_t value, uint32_t id);
/* Removes object id from value's list (it is there). Never fails: a list
 * left too loose is copied to its size only if the ledger has a slot, the
 * budget has room and the allocation succeeds. Needs 1 retire slot (the
 * emptied list and the loose one are never both retired). */
void oomkit__ix_remove(oomkit__sindex *x, oomkit__smem *m, int64_t value, uint32_t id);
/* Compact: copies every list holding dead or unused slots to its exact
 * size and rebuilds the value table without tombstones, within
 * budget_bytes (0 = none). Needs a retire slot per list: returns 1 when the
 * ledger is full (call again after a flush with the same *next_slot,
 * starting from 0), 0 when done, -ENOMEM. */
int oomkit__ix_shrink(oomkit__sindex *x, oomkit__smem *m, uint64_t budget_bytes,
                      uint64_t *next_slot);
/* Clear, step 1: unpublishes every list and chains them into *chain. */
void oomkit__ix_unpublish_all(oomkit__sindex *x, oomkit__plist **chain);
/* Clear, step 2 (after a grace period): frees a chain. */
void oomkit__ix_free_chain(oomkit__sindex *x, oomkit__smem *m, oomkit__plist *chain);

#endif
