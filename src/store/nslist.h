/* Per-namespace object lists: the object ids of each namespace, for
 * each_object and each_namespace. The list hangs off the namespace atom's
 * auxiliary directory entry.
 *
 *   header { cap | len | live | dead | free | births | nchunks | dir_cap | chunk[] }
 *   chunk[c] -> u64 slots[NS_CHUNK]      (chunk 0 alone may be smaller)
 *   slot i = chunk[i / NS_CHUNK][i % NS_CHUNK]
 *          = birth << 32 | object id, or NS_FREE | next free slot (NS_FREE_END)
 *
 * - Removing stores NS_FREE | the old free head in the object's slot (the
 *   block remembers its slot in ns_pos) and makes that slot the free head:
 *   nothing moves, so an iterator never misses an object that existed
 *   throughout. An id is reused only after a grace period, so one read
 *   section never meets the same id in two slots.
 * - Appending takes the free head if there is one (release store of the
 *   slot: a reader that sees it sees the object's handle entry), else writes
 *   slot len then release-stores len. Either way the slot records the
 *   list's append count as the object's birth, and an iterator skips
 *   objects born after it began: an object deleted and created again under
 *   the same name during one iteration is seen once, not twice.
 * - Growth never copies more than one chunk. A small list's only chunk is
 *   copied into one twice its size (at most NS_CHUNK slots, 4 KiB); past
 *   that the list gains a chunk of NS_CHUNK slots, and when the directory
 *   is full a header with twice the entries (pointers only: 8 bytes per
 *   512 objects). No position changes and no write touches another
 *   object's block. (Before, a full list was copied whole: 2 MiB and some
 *   500 fresh pages in one write for the 170k-object namespace of the
 *   1M-object workload, docs/architecture.md.)
 *   A delete never allocates and so never fails for want of memory.
 * - Readers load len (acquire) before any chunk pointer (acquire): a chunk
 *   is published before the len that covers it, so every slot below len
 *   is reachable. A replaced chunk or header is retired, and a reader still
 *   holding it sees an earlier state.
 * - A namespace's list is retired, chunks and all, when its last object
 *   goes (except on clear, which keeps capacity); compact copies lists to
 *   their live size.
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

/* Slots per chunk (4 KiB): the most one growth step copies or allocates. */
#define NS_CHUNK 512u

typedef struct oomkit__nslist {
    uint32_t cap;     /* slots in all chunks */
    uint32_t len;     /* acquire / release */
    uint32_t live;    /* relaxed */
    uint32_t dead;    /* writer only: free slots below len */
    uint32_t free;    /* writer only: first free slot, or NS_FREE_END */
    uint32_t births;  /* appends so far; acquire / release */
    uint32_t nchunks; /* writer only: chunks in use */
    uint32_t dir_cap; /* directory entries */
    uint64_t *chunk[]; /* acquire / release; slots: acquire / release */
} oomkit__nslist;

#define NS_SLOT_ID(v) ((uint32_t)(v))
#define NS_SLOT_FREE(v) ((NS_SLOT_ID(v) & NS_FREE) != 0)

/* 1 if slot value v holds an object born before an iteration that began
 * when the list's births counter read `start`. */
static inline int oomkit__nslist_born_before(uint64_t v, uint32_t start)
{
    return !NS_SLOT_FREE(v) && (int32_t)((uint32_t)(v >> 32) - start) < 0;
}

/* Slot i (< len, loaded after len) of l. Reader or writer. */
static inline uint64_t *oomkit__nslist_slot(const oomkit__nslist *l, uint32_t i)
{
    uint64_t *c = LOAD_ACQ(&((oomkit__nslist *)l)->chunk[i / NS_CHUNK]);
    return &c[i % NS_CHUNK];
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
/* Frees a list and its chunks from `part` (SM_TABLES, or SM_RETIRED for
 * one retired whole). */
void oomkit__nslist_free(oomkit__nslist *l, oomkit__smem *m, int part);
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
