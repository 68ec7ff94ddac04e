/* The object table: (namespace id, name) -> object block, open addressing
 * with linear probing over 8-byte slots.
 *
 *   slot = tag16 << 48 | block pointer      0 = empty, 1 = tombstone
 *
 * The tag is the top 16 bits of XXH3(name, seed = ns id); the slot index
 * comes from the low bits. x86-64 user pointers fit in 48 bits (checked on
 * every block, see store.c), so one load yields both the filter and the
 * block: a hit costs the slot's cache line and the block's, no third miss
 * for a key array or an id indirection.
 *
 * Growth: when live + tombstones would pass 85% of the slots, a new array
 * (doubled when live alone passes 70%, same size otherwise) is built,
 * published with a release store and the old one retired; readers still in
 * the old array see a consistent earlier state. A removal writes a tombstone,
 * or an empty slot when the next slot is empty (no probe chain runs through
 * it then). Writer: one at a time. Readers: inside a read section. */
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

typedef struct oomkit__objtab_arr {
    size_t bytes;
    uint64_t mask;
    uint64_t slots[]; /* acquire loads, release stores */
} oomkit__objtab_arr;

typedef struct oomkit__objtab {
    oomkit__objtab_arr *arr; /* acquire */
    uint64_t live;           /* relaxed (stats) */
    uint64_t tomb;
} oomkit__objtab;

static inline uint64_t oomkit__obj_hash(uint32_t ns_id, const void *name, size_t len)
{
    return oomkit__hash(name, len, (uint64_t)ns_id * 0x9e3779b97f4a7c15ull + 1);
}

/* Creates the first array, sized for `expected` objects. 0 or -ENOMEM. */
int oomkit__objtab_init(oomkit__objtab *t, oomkit__smem *m, size_t expected);
void oomkit__objtab_destroy(oomkit__objtab *t, oomkit__smem *m);

/* The block of (ns_id, name), or NULL; *slot_out (if not NULL) gets its
 * slot index in the current array. Reader or writer. */
static inline oomkit__blk *oomkit__objtab_find(const oomkit__objtab *t, uint32_t ns_id,
                                               const char *name, size_t len, uint64_t h,
                                               size_t *slot_out)
{
    const oomkit__objtab_arr *a = LOAD_ACQ(&((oomkit__objtab *)t)->arr);
    uint64_t tag = h >> 48;
    for (uint64_t i = h & a->mask;; i = (i + 1) & a->mask) {
        uint64_t v = LOAD_ACQ(&((oomkit__objtab_arr *)a)->slots[i]);
        if (v == OT_EMPTY)
            return NULL;
        if ((v >> 48) != tag || v == OT_TOMB)
            continue;
        const oomkit__blk *b = (const oomkit__blk *)(uintptr_t)(v & OT_PTR_MASK);
        if (b->ns_id == ns_id && b->name_len == len &&
            (len == 0 || memcmp(oomkit__blk_name(b), name, len) == 0)) {
            if (slot_out != NULL)
                *slot_out = (size_t)i;
            return (oomkit__blk *)b;
        }
    }
}

/* Slot index holding block b (present). Writer. */
size_t oomkit__objtab_slot_of(const oomkit__objtab *t, const oomkit__blk *b);

/* Bytes a growth for one more object would allocate (0 if none needed). */
size_t oomkit__objtab_need(const oomkit__objtab *t);
/* Grows if one more object would pass the load limit. Needs 1 retire slot.
 * 0 or -ENOMEM (table unchanged). Writer. */
int oomkit__objtab_grow(oomkit__objtab *t, oomkit__smem *m);
/* Inserts a block known to be absent, after a successful grow. Writer. */
void oomkit__objtab_insert(oomkit__objtab *t, oomkit__blk *b, uint64_t h);
/* Points slot at a new copy of its block. Writer. */
void oomkit__objtab_replace(oomkit__objtab *t, size_t slot, oomkit__blk *b);
/* Removes the object in slot. Writer. */
void oomkit__objtab_remove(oomkit__objtab *t, size_t slot);
/* Empties every slot, keeping the array (clear). Writer. */
void oomkit__objtab_clear(oomkit__objtab *t);
/* Rebuilds into the smallest array that holds the live objects, dropping
 * tombstones, if that is smaller or tombstones exist. 0 or -ENOMEM. */
int oomkit__objtab_shrink(oomkit__objtab *t, oomkit__smem *m);
/* Slots in the current array (stats; any thread). */
uint64_t oomkit__objtab_slots(const oomkit__objtab *t);

#endif
