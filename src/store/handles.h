/* The handle directory: object id -> block, behind oomkit_store_obj handles
 * (id | generation << 32). Built on a paged directory, so entries never move
 * and readers resolve a handle with two dependent loads.
 *
 *   live:          gen << 48 | block pointer           (low 3 bits 0)
 *   dead:          gen << 48 | block pointer | 1       (deleted; block and id
 *                                                        wait for a grace period)
 *   free:          gen << 48 | (next free id + 1) << 3 | 2
 *
 * A deleted id goes back on the free list only after a grace period, so a
 * reader walking a namespace list inside one read section never sees an id
 * reused by another object. The 16-bit generation changes on every reuse, so
 * a stale handle gives -ENOENT (it could alias after 65535 reuses of one id).
 * Writer: one at a time. Readers: inside a read section. */
#ifndef OOMKIT_STORE_HANDLES_H
#define OOMKIT_STORE_HANDLES_H

#include "store/block.h"
#include "store/pdir.h"

#include <stdint.h>

#define H_PTR_MASK 0x0000fffffffffff8ull
/* Object ids stay below 2^31: namespace lists flag free slots with the top
 * bit (nslist.h). */
#define HANDLES_MAX_IDS 0x7fffffffu

typedef struct oomkit__handles {
    oomkit__pdir dir;
    uint32_t next_fresh; /* ids below were handed out once; acquire/release */
    uint32_t free_head;  /* id + 1 of the first free id, 0 = none */
} oomkit__handles;

void oomkit__handles_init(oomkit__handles *h);
void oomkit__handles_destroy(oomkit__handles *h, oomkit__smem *m);

/* Bytes oomkit__handles_grow would allocate. */
size_t oomkit__handles_need(const oomkit__handles *h);
/* Makes sure an id is available. Needs 1 retire slot. 0 or -ENOMEM. */
int oomkit__handles_grow(oomkit__handles *h, oomkit__smem *m);
/* Takes an id (after a successful grow) and returns its handle; the entry is
 * published by oomkit__handles_set. Writer. */
uint64_t oomkit__handles_alloc(oomkit__handles *h);
/* Points the object's entry at block b. Writer. */
void oomkit__handles_set(oomkit__handles *h, uint32_t id, const oomkit__blk *b);
/* Marks the object dead, keeping its block pointer. Writer. */
void oomkit__handles_kill(oomkit__handles *h, uint32_t id);
/* Puts a dead id on the free list; returns its block pointer if the entry
 * still held one (the caller frees it). Only after a grace period. */
oomkit__blk *oomkit__handles_release(oomkit__handles *h, uint32_t id);
/* Ids handed out so far (iteration bound). Reader or writer. */
static inline uint32_t oomkit__handles_bound(const oomkit__handles *h)
{
    return LOAD_ACQ(&((oomkit__handles *)h)->next_fresh);
}
/* The live block of id, or NULL. Reader or writer. */
static inline oomkit__blk *oomkit__handles_block(const oomkit__handles *h, uint32_t id)
{
    uint64_t e = oomkit__pdir_load(&h->dir, id);
    return (e & 7) ? NULL : (oomkit__blk *)(uintptr_t)(e & H_PTR_MASK);
}
/* The raw entry of id (writer: clear and compact walk the directory). */
static inline uint64_t oomkit__handles_entry(const oomkit__handles *h, uint32_t id)
{
    return oomkit__pdir_load(&h->dir, id);
}
/* The handle of a live id. */
static inline uint64_t oomkit__handles_of(const oomkit__handles *h, uint32_t id)
{
    return (oomkit__pdir_load(&h->dir, id) >> 48) << 32 | id;
}
/* The live block a handle names, or NULL if it is stale or invalid. */
static inline oomkit__blk *oomkit__handles_resolve(const oomkit__handles *h, uint64_t handle)
{
    uint32_t id = (uint32_t)handle;
    uint64_t gen = handle >> 32;
    if (gen == 0 || gen > 0xffff || id >= oomkit__handles_bound(h))
        return NULL;
    uint64_t e = oomkit__pdir_load(&h->dir, id);
    if ((e >> 48) != gen || (e & 7) != 0)
        return NULL;
    return (oomkit__blk *)(uintptr_t)(e & H_PTR_MASK);
}

#endif
