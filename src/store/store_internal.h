/* The store handle and the helpers shared by store.c (writers, accounting),
 * store_compact.c and store_iter.c (readers). See store.c for the design essay. */
#ifndef OOMKIT_STORE_INTERNAL_H
#define OOMKIT_STORE_INTERNAL_H

#include "oomkit/store.h"
#include "store/atoms.h"
#include "store/block.h"
#include "store/handles.h"
#include "store/nslist.h"
#include "store/objtab.h"
#include "store/reclaim.h"
#include "store/sindex.h"
#include "store/slab.h"
#include "store/smem.h"
#include "store/sync.h"

#include <pthread.h>

/* Strings longer than this are refused with -EINVAL: lengths are u32 inside
 * and the slack keeps size arithmetic far from overflow. */
#define STORE_MAX_STR ((size_t)BLK_MAX_NAME)

/* Retire slots one write may need (atom growth x2, a table segment and its
 * directory, list, ids, and per index a value table and two posting lists). */
#define WRITE_RETIRE_SLOTS (13 + 3 * IX_MAX)

struct oomkit_store {
    pthread_mutex_t lock;  /* serialises writers; readers never take it */
    oomkit__smem m;        /* writer (counters readable relaxed) */
    oomkit__atoms ns;      /* namespace atoms; aux = object lists */
    oomkit__atoms keys;    /* key atoms */
    oomkit__objtab ot;
    oomkit__handles h;
    oomkit__slab slab;     /* writer only */
    uint64_t objects;      /* relaxed */
    uint64_t fields;       /* relaxed */
    uint64_t budget_bytes; /* immutable after open */
    oomkit__atoms vals;    /* value atoms (oomkit_store_atom) */
    oomkit__sindex ix[IX_MAX]; /* secondary indexes; ix[i] published by nix */
    uint32_t nix;          /* acquire / release */
    /* The address TSan uses as the grace-period synchronisation point
     * (sync.h). It must not be the mutex's address: TSan's mutex unlock
     * overwrites the release clock of its address, which would drop the
     * readers' releases and report false races. Never read or written. */
    char rcu_sync;
};

#define STORE_SYNC(s) ((const void *)&(s)->rcu_sync)

static inline int oomkit__str_ok(oomkit_str s)
{
    return (s.ptr != NULL || s.len == 0) && s.len <= STORE_MAX_STR;
}

/* The object (ns, name) or NULL. Inside a read section or under the lock. */
static inline oomkit__blk *oomkit__store_find_obj(const oomkit_store *s, oomkit_str ns,
                                                  oomkit_str name)
{
    uint32_t ns_id = oomkit__atoms_find(&s->ns, ns.ptr, ns.len, oomkit__atom_hash(ns.ptr, ns.len));
    if (ns_id == ATOM_NONE)
        return NULL;
    uint64_t h = oomkit__obj_hash(ns_id, name.ptr, name.len);
    return oomkit__objtab_find(&s->ot, ns_id, name.ptr, name.len, h, NULL);
}

/* 1 if `need` more bytes fit the budget. */
static inline int oomkit__store_fits(const oomkit_store *s, size_t need)
{
    return s->budget_bytes == 0 || oomkit__smem_total(&s->m) + need <= s->budget_bytes;
}

/* A block from the slab, refused if its address does not fit the 48 bits the
 * object table and handle directory keep (never on x86-64 Linux with 4-level
 * paging; possible with 5-level paging and a high mmap hint). Writer. */
static inline oomkit__blk *oomkit__store_block_alloc(oomkit_store *s, size_t size)
{
    void *p = oomkit__slab_alloc(&s->slab, &s->m, size);
    if (p != NULL && ((uintptr_t)p >> 48) != 0) {
        oomkit__slab_free(&s->slab, &s->m, p, size);
        return NULL;
    }
    return p;
}

/* Writer helpers of store.c for store_index.c and store_compact.c: enter/leave as every writer
 * does (-EDEADLK inside a read section); fits_or_flush says whether need
 * more bytes fit the budget, waiting for readers once to free retired
 * memory if not; ensure_room makes room in the ledger for one write. */
int oomkit__store_writer_enter(oomkit_store *s);
void oomkit__store_writer_leave(oomkit_store *s);
int oomkit__store_fits_or_flush(oomkit_store *s, size_t need);
void oomkit__store_ensure_room(oomkit_store *s);

/* The id the next oomkit__handles_alloc will return. Writer. */
static inline uint32_t oomkit__store_next_id(const oomkit_store *s)
{
    return s->h.free_head ? s->h.free_head - 1 : s->h.next_fresh;
}

/* The secondary index on key_id, or NULL. Writer. */
static inline oomkit__sindex *oomkit__store_index_of(oomkit_store *s, uint32_t key_id)
{
    for (uint32_t i = 0; i < s->nix; i++)
        if (s->ix[i].key_id == key_id)
            return &s->ix[i];
    return NULL;
}

#endif
