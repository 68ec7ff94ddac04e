/* Per-namespace object lists: an array of object ids per namespace, for
 * each_object and each_namespace. The list hangs off the namespace atom's
 * auxiliary directory entry.
 *
 *   { bytes | cap | len | live | dead | free | births | slots[cap] }
 *   slot = birth << 32 | object id, or NS_FREE | next free slot (NS_FREE_END)
 *
 * - Removing stores NS_FREE | the old free head in the object's slot (the
 *   block remembers its slot in ns_pos) and makes that slot the free head:
 *   nothing moves, so an iterator never misses an object that existed
 *   throughout. An id is reused only after a grace period, so one read
 *   section never meets the same id in two slots.
 * - Appending takes the free head if there is one (release store of the
 *   slot: a reader that sees it sees the object's handle entry), else writes
 *   slots[len] then release-stores len. Either way the slot records the
 *   list's append count as the object's birth, and an iterator skips
 *   objects born after it began: an object deleted and created again under
 *   the same name during one iteration is seen once, not twice.
 * - A full list (no free slot) is copied into one twice its size: every
 *   slot is live then, so the copy is a memcpy and no position changes. No
 *   write touches the blocks of other objects, and the worst append costs a
 *   copy of this one list (1.4 MB for the 170k-object namespace of the
 *   1M-object workload: well under a millisecond).
 *   A delete never allocates and so never fails for want of memory.
 * - A namespace's list is retired when its last object goes (except on
 *   clear, which keeps capacity); compact copies lists to their live size.
 * Births are 32-bit and compared modulo 2^32: an iteration must not outlast
 * 2^31 appends to its namespace.
 * Writer: one at a time. Readers: inside a read section. */
#ifndef OOMKIT_STORE_NSLIST_H
#define OOMKIT_STORE_NSLIST_H

#include "store/atoms.h"
#include "store/handles.h"
#include "store/smem.h"

#include <stdint.h>

/* Object ids stay below HANDLES_MAX_IDS (handles.h), so the top bit marks
 * a free slot. */
#define NS_FREE 0x80000000u
#define NS_FREE_END 0x7fffffffu

typedef struct oomkit__nslist {
    size_t bytes;
    uint32_t cap;
    uint32_t len;   /* acquire / release */
    uint32_t live;  /* relaxed */
    uint32_t dead;  /* writer only: free slots below len */
    uint32_t free;  /* writer only: first free slot, or NS_FREE_END */
    uint32_t births; /* appends so far; acquire / release */
    uint64_t slots[]; /* acquire / release */
} oomkit__nslist;

#define NS_SLOT_ID(v) ((uint32_t)(v))
#define NS_SLOT_FREE(v) ((NS_SLOT_ID(v) & NS_FREE) != 0)

/* 1 if slot value v holds an object born before an iteration that began
 * when the list's births counter read `start`. */
static inline int oomkit__nslist_born_before(uint64_t v, uint32_t start)
{
    return !NS_SLOT_FREE(v) && (int32_t)((uint32_t)(v >> 32) - start) < 0;
}

/* The list of namespace ns_id, or NULL. Reader or writer. */
static inline oomkit__nslist *oomkit__nslist_get(const oomkit__atoms *ns, uint32_t ns_id)
{
    return (oomkit__nslist *)(uintptr_t)oomkit__pdir_load(&ns->aux, ns_id);
}

/* Bytes oomkit__nslist_grow would allocate for one more object in ns_id
 * (which may be the next, not yet interned, namespace id). */
size_t oomkit__nslist_need(const oomkit__atoms *ns, uint32_t ns_id);
/* Makes room for one more object (its aux page exists). Needs 1 retire
 * slot. 0 or -ENOMEM. */
int oomkit__nslist_grow(oomkit__atoms *ns, uint32_t ns_id, oomkit__smem *m);
/* Appends object id; returns its position. After a successful grow. */
uint32_t oomkit__nslist_append(oomkit__atoms *ns, uint32_t ns_id, uint32_t id);
/* Marks position pos dead; retires the list if it became empty and
 * drop_empty is set. Needs 1 retire slot. */
void oomkit__nslist_remove(oomkit__atoms *ns, uint32_t ns_id, uint32_t pos, int drop_empty,
                           oomkit__smem *m);
/* Clear: marks every slot of every list dead; after the grace period
 * oomkit__nslist_reset_all empties them for reuse. */
void oomkit__nslist_kill_all(oomkit__atoms *ns);
void oomkit__nslist_reset_all(oomkit__atoms *ns);
/* Compact: drops empty lists, copies the others to their exact size when
 * that saves memory and the copy fits budget_bytes (0 = none). Needs room
 * to retire one list per namespace: it stops early (returns 1) when the
 * ledger is full, 0 when done, -ENOMEM. */
int oomkit__nslist_shrink(oomkit__atoms *ns, oomkit__handles *h, oomkit__smem *m,
                          uint64_t budget_bytes, uint32_t *next_ns);

#endif
