/* Per-namespace object lists: an array of object ids per namespace, for
 * each_object and each_namespace. The list hangs off the namespace atom's
 * auxiliary directory entry.
 *
 *   { bytes | cap | len | live | dead | ids[cap] }     ids[i] = object id or NS_DEAD
 *
 * - Appending writes ids[len] then release-stores len.
 * - Removing stores NS_DEAD in the object's slot (the block remembers it in
 *   ns_pos): nothing moves, so an iterator sees each object at most once and
 *   never misses one that existed throughout.
 * - Dead slots are squeezed out when an append finds the list full: a
 *   compacted copy (twice the live count when the list is at least half
 *   live) is published and the old list retired, and the blocks' ns_pos are
 *   updated. Doing it at append time, not at removal, means a delete never
 *   allocates and so can never fail for want of memory.
 * - A namespace's list is retired when its last object goes (except on
 *   clear, which keeps capacity).
 * Writer: one at a time. Readers: inside a read section. */
#ifndef OOMKIT_STORE_NSLIST_H
#define OOMKIT_STORE_NSLIST_H

#include "store/atoms.h"
#include "store/handles.h"
#include "store/smem.h"

#include <stdint.h>

#define NS_DEAD UINT32_MAX

typedef struct oomkit__nslist {
    size_t bytes;
    uint32_t cap;
    uint32_t len;   /* acquire / release */
    uint32_t live;  /* relaxed */
    uint32_t dead;  /* writer only */
    uint32_t ids[]; /* relaxed (ordered by len and by the handle entries) */
} oomkit__nslist;

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
int oomkit__nslist_grow(oomkit__atoms *ns, uint32_t ns_id, oomkit__handles *h,
                        oomkit__smem *m);
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
