/* A paged directory: index -> u64 entry, readable lock-free. It backs the
 * atom id -> string directory and the object id -> block directory.
 *
 *   top (replaced RCU-style on growth)     pages (never move, zero-filled)
 *   +-------+------------------+           +------------------------+
 *   | bytes | cap | page[0..cap) | ----->  | PDIR_PAGE_ENTRIES x u64 |
 *   +-------+------------------+           +------------------------+
 *
 * Pages never move, so a reader holding an entry's address may keep using
 * it; only the small top array is copied when it fills (the old one is
 * retired through the ledger). Writers: one at a time, under the store
 * mutex. Readers: inside a read section. */
#ifndef OOMKIT_STORE_PDIR_H
#define OOMKIT_STORE_PDIR_H

#include "store/smem.h"
#include "store/sync.h"

#include <stddef.h>
#include <stdint.h>

/* 512 entries of 8 bytes: one 4 KiB page, so a store with few atoms or
 * objects holds little, and a million entries take under 2000 pages. */
#define PDIR_PAGE_SHIFT 9
#define PDIR_PAGE_ENTRIES (1u << PDIR_PAGE_SHIFT)

typedef struct oomkit__pdir_top {
    size_t bytes;        /* requested size of this top array */
    size_t cap;          /* page slots */
    uint64_t *pages[];   /* read with acquire; NULL = not allocated */
} oomkit__pdir_top;

typedef struct oomkit__pdir {
    oomkit__pdir_top *top; /* read with acquire, replaced by the writer */
    size_t npages;         /* pages allocated (a prefix of top->pages) */
    int part;              /* ledger part its bytes belong to */
} oomkit__pdir;

void oomkit__pdir_init(oomkit__pdir *d, int part);
/* Frees everything at once (store close). */
void oomkit__pdir_destroy(oomkit__pdir *d, oomkit__smem *m);
/* Bytes oomkit__pdir_grow(d, idx) would allocate. */
size_t oomkit__pdir_need(const oomkit__pdir *d, size_t idx);
/* Makes index idx addressable. Needs 1 retire slot. 0 or -ENOMEM (the
 * directory is unchanged or merely larger). Writer. */
int oomkit__pdir_grow(oomkit__pdir *d, oomkit__smem *m, size_t idx);

/* Address of entry idx, or NULL if its page does not exist. Reader. */
static inline uint64_t *oomkit__pdir_slot(const oomkit__pdir *d, size_t idx)
{
    oomkit__pdir_top *t = LOAD_ACQ(&((oomkit__pdir *)d)->top);
    size_t pg = idx >> PDIR_PAGE_SHIFT;
    if (t == NULL || pg >= t->cap)
        return NULL;
    uint64_t *page = LOAD_ACQ(&t->pages[pg]);
    return page ? &page[idx & (PDIR_PAGE_ENTRIES - 1)] : NULL;
}

static inline uint64_t oomkit__pdir_load(const oomkit__pdir *d, size_t idx)
{
    uint64_t *e = oomkit__pdir_slot(d, idx);
    return e ? LOAD_ACQ(e) : 0;
}

/* Publishes entry idx (its page exists). Writer. */
static inline void oomkit__pdir_store(oomkit__pdir *d, size_t idx, uint64_t v)
{
    STORE_REL(oomkit__pdir_slot(d, idx), v);
}

#endif
