/* The store's memory ledger: every byte the store owns goes through here,
 * counted as the C allocator really holds it (oomkit__alloc_footprint), by
 * part, plus the list of retired memory waiting for a grace period. It sits
 * under every other file of src/store; store.c drains the retire list.
 *
 * Counters are written only by the writer (under the store mutex) and read by
 * any thread with relaxed atomic loads (stats), so a plain load-add-store with
 * atomic accesses suffices: there is never a second concurrent writer. */
#ifndef OOMKIT_STORE_SMEM_H
#define OOMKIT_STORE_SMEM_H

#include <stddef.h>
#include <stdint.h>

enum oomkit__smem_part {
    SM_ATOMS,   /* atom arenas, directories and indexes */
    SM_TABLES,  /* object table, handle directory, namespace lists, ledger */
    SM_SLAB,    /* slab pages and huge blocks (names and fields) */
    SM_RETIRED, /* retired buffers (tables replaced by a growth) */
    SM_NPARTS
};

/* What a retire entry holds; the kind rides in the low 3 bits of the
 * pointer (blocks are 8-aligned, buffers and pages 16-aligned). */
enum oomkit__retire_kind {
    RT_BLOCK = 0,       /* an object block (slab or huge) */
    RT_BUF_ATOMS = 1,   /* a buffer accounted to SM_ATOMS */
    RT_BUF_TABLES = 2,  /* a buffer accounted to SM_TABLES */
    RT_PAGE = 3,        /* a whole slab page (compact) */
    RT_ID = 4,          /* an object id to put back on the free list */
    RT_NSLIST = 5       /* a namespace list with its chunks (nslist.h) */
};

typedef struct oomkit__retired {
    uintptr_t tagged; /* pointer | kind, or id << 3 | RT_ID */
    size_t bytes;     /* requested size (buffers, blocks, pages) */
} oomkit__retired;

/* Entries of a fresh ledger (4 KiB). A ledger that fills while every
 * batch is in flight doubles instead (reclaim.c), and goes back to this
 * size once sealed and freed. */
#define SMEM_RETIRE_SLOTS 256
/* Size classes of ledger arrays kept for reuse: 256 to 256 << 6 entries. */
#define SMEM_POOL_CLASSES 7

/* Ledgers waiting for a grace period at once (reclaim.h). */
/* A batch's states: reclaim.c seals it (waiting) and frees it (free);
 * gpthread.c marks it over. */
enum { GP_FREE, GP_WAITING, GP_OVER };
#define SMEM_GP_BATCHES 8

/* A sealed ledger waiting for its grace period (reclaim.c). */
typedef struct oomkit__gp_batch {
    struct oomkit__gp_batch *next; /* the grace-period thread's queue */
    oomkit__retired *entries;  /* writer only: the sealed ledger, NULL once drained */
    size_t n;
    size_t done;               /* entries freed so far */
    size_t cap;                /* entries' capacity */
    int small;                 /* from a store under 1 MiB: may wait to share a grace period */
    const void *token;         /* TSan's grace-period address (sync.h) */
    int state;                 /* free / waiting / over; acquire / release (gpthread.c) */
} oomkit__gp_batch;

typedef struct oomkit__smem {
    uint64_t part[SM_NPARTS];  /* footprint bytes by part */
    uint64_t names;            /* name bytes of live objects (inside SM_SLAB) */
    uint64_t retired_blocks;   /* bytes of retired blocks (inside SM_SLAB) */
    uint64_t allocations;      /* allocator calls since open */
    uint64_t resizes;          /* table growths and shrinks since open */
    uint64_t writer_waits;     /* grace periods the writer waited for itself */
    oomkit__retired *retire;   /* retire_cap entries, writer only */
    size_t nretire;
    size_t retire_cap;
    uint64_t retire_bytes;     /* pending retired bytes, blocks and buffers */
    oomkit__gp_batch gp[SMEM_GP_BATCHES]; /* writer; state also gpthread.c's */
    /* Empty ledger arrays by size class (256 << class entries), chained
     * through their first entry: reused instead of freed (reclaim.c). */
    oomkit__retired *pool[SMEM_POOL_CLASSES];
} oomkit__smem;

/* Relaxed read of a ledger counter (any thread). */
static inline uint64_t oomkit__smem_get(const uint64_t *c)
{
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}
/* Adds delta (may wrap to subtract) to a counter. Writer only. */
static inline void oomkit__smem_add(uint64_t *c, uint64_t delta)
{
    __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + delta, __ATOMIC_RELAXED);
}

/* Total bytes owned: what the budget limits. Any thread. */
uint64_t oomkit__smem_total(const oomkit__smem *m);

/* Allocates size bytes into part; NULL on failure. Counts the call. */
void *oomkit__smem_alloc(oomkit__smem *m, int part, size_t size);
/* Same, zero-filled. */
void *oomkit__smem_zalloc(oomkit__smem *m, int part, size_t size);
/* Frees p (size as requested) from part. */
void oomkit__smem_free(oomkit__smem *m, int part, void *p, size_t size);

/* Free retire entries left. */
static inline size_t oomkit__smem_retire_room(const oomkit__smem *m)
{
    return m->retire_cap - m->nretire;
}
/* Retires a buffer of part SM_ATOMS or SM_TABLES: its bytes move to
 * SM_RETIRED until it is freed. The caller made sure there is room. */
void oomkit__smem_retire_buf(oomkit__smem *m, int part, void *p, size_t size);
/* Retires an object block of `bytes` (slab or huge). */
void oomkit__smem_retire_block(oomkit__smem *m, void *blk, size_t bytes);
/* Retires a whole slab page. */
void oomkit__smem_retire_page(oomkit__smem *m, void *page, size_t bytes);
/* Retires a namespace list whose header and chunks together take
 * `footprint` bytes of SM_TABLES: they move to SM_RETIRED. */
void oomkit__smem_retire_nslist(oomkit__smem *m, void *list, uint64_t footprint);
/* Retires an object id. */
void oomkit__smem_retire_id(oomkit__smem *m, uint32_t id);

#endif
