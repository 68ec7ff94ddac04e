/* Deferred frees of the store (see reclaim.h): the ledger's drain, batches
 * handed to the grace-period thread, and the synchronous fallback. */
#include "store/reclaim.h"

#include "store/store_internal.h"

#include "store/gpthread.h"

#include "core/alloc.h"

#include <stdint.h>
#include <string.h>
#include <time.h>

#define FLUSH_MIN_BYTES (8u * 1024u)
/* Retired entries one write frees at most (tens of microseconds). */
#define REAP_PER_WRITE 512

/* Ledger arrays come from a per-store pool and go back to it, so a writer
 * whose bursts once needed several (or larger) ledgers gets them again
 * without allocating: after a warm-up, clear + refill allocates nothing.
 * Arrays beyond the largest class are freed; compact and a write short of
 * budget empty the pool. */
static int pool_class(size_t cap)
{
    for (int c = 0; c < SMEM_POOL_CLASSES; c++)
        if (cap == ((size_t)SMEM_RETIRE_SLOTS << c))
            return c;
    return -1;
}

/* An empty array of cap entries, or NULL (no memory or over budget). */
static oomkit__retired *array_get(oomkit_store *s, size_t cap)
{
    oomkit__smem *m = &s->m;
    int c = pool_class(cap);
    if (c >= 0 && m->pool[c] != NULL) {
        oomkit__retired *r = m->pool[c];
        m->pool[c] = (oomkit__retired *)r[0].tagged;
        return r;
    }
    size_t bytes = cap * sizeof(oomkit__retired);
    if (s->budget_bytes != 0 &&
        oomkit__smem_total(m) + oomkit__alloc_footprint(bytes) > s->budget_bytes)
        return NULL;
    return oomkit__smem_alloc(m, SM_TABLES, bytes);
}

static void array_put(oomkit_store *s, oomkit__retired *r, size_t cap)
{
    oomkit__smem *m = &s->m;
    int c = pool_class(cap);
    if (c < 0) {
        oomkit__smem_free(m, SM_TABLES, r, cap * sizeof(oomkit__retired));
        return;
    }
    r[0].tagged = (uintptr_t)m->pool[c];
    m->pool[c] = r;
}

static void pool_empty(oomkit_store *s)
{
    for (int c = 0; c < SMEM_POOL_CLASSES; c++) {
        while (s->m.pool[c] != NULL) {
            oomkit__retired *r = s->m.pool[c];
            s->m.pool[c] = (oomkit__retired *)r[0].tagged;
            oomkit__smem_free(&s->m, SM_TABLES, r,
                              ((size_t)SMEM_RETIRE_SLOTS << c) * sizeof(oomkit__retired));
        }
    }
}

/* Frees n retired entries; their grace period is over (or the store is
 * exclusively ours). */
static void drain_entries(oomkit_store *s, const oomkit__retired *e, size_t n)
{
    oomkit__smem *m = &s->m;
    for (size_t i = 0; i < n; i++) {
        uintptr_t t = e[i].tagged;
        size_t bytes = e[i].bytes;
        void *p = (void *)(t & ~(uintptr_t)7);
        switch (t & 7) {
        case RT_BLOCK:
            oomkit__slab_free(&s->slab, m, p, bytes);
            oomkit__smem_add(&m->retired_blocks, -(uint64_t)bytes);
            break;
        case RT_BUF_ATOMS:
        case RT_BUF_TABLES:
            oomkit__smem_free(m, SM_RETIRED, p, bytes);
            break;
        case RT_PAGE:
            oomkit__smem_free(m, SM_SLAB, p, bytes);
            break;
        case RT_NSLIST:
            oomkit__nslist_free(p, m, SM_RETIRED);
            break;
        case RT_ID: {
            oomkit__blk *b = oomkit__handles_release(&s->h, (uint32_t)(t >> 3));
            if (b != NULL) {
                size_t sz = oomkit__blk_size(b);
                oomkit__smem_add(&m->retired_blocks, -(uint64_t)sz);
                oomkit__slab_free(&s->slab, m, b, sz);
            }
            break;
        }
        }
    }
}

static void drain_ledger(oomkit_store *s)
{
    drain_entries(s, s->m.retire, s->m.nretire);
    s->m.nretire = 0;
    s->m.retire_bytes = 0;
}

/* Frees up to `limit` more of a batch's entries (from b->done on); once
 * all are freed, its array goes back to the pool.
 * Returns the entries freed. The batch stays in flight until its callback
 * has run. */
static size_t drain_batch(oomkit_store *s, oomkit__gp_batch *b, size_t limit)
{
    if (b->entries == NULL)
        return 0;
    size_t n = b->n - b->done < limit ? b->n - b->done : limit;
    drain_entries(s, b->entries + b->done, n);
    b->done += n;
    if (b->done == b->n) {
        array_put(s, b->entries, b->cap);
        b->entries = NULL;
    }
    return n;
}

/* Frees entries of the batches whose grace period is over, at most
 * REAP_PER_WRITE of them per call so that no single write pays for a
 * large batch (a write retires one or two entries, so reaping keeps up). */
static void reap(oomkit_store *s, size_t limit)
{
    for (int i = 0; i < SMEM_GP_BATCHES && limit != 0; i++) {
        oomkit__gp_batch *b = &s->m.gp[i];
        if (LOAD_ACQ(&b->state) != GP_OVER)
            continue;
        limit -= drain_batch(s, b, limit);
        if (b->entries == NULL)
            STORE_RLX(&b->state, GP_FREE);
    }
}

/* Bytes in one batch before it is sealed. */
static uint64_t batch_bound(const oomkit_store *s)
{
    uint64_t bound = oomkit__smem_total(&s->m) / 128;
    return bound < FLUSH_MIN_BYTES ? FLUSH_MIN_BYTES : bound;
}

/* Hands the ledger to the grace-period thread: the batch takes the
 * ledger's array, the ledger takes a fresh one from the pool. 0, or -1 when
 * every batch is in flight or no array can be had within the budget. */
static int seal(oomkit_store *s)
{
    oomkit__smem *m = &s->m;
    oomkit__gp_batch *b = NULL;
    for (int i = 0; i < SMEM_GP_BATCHES && b == NULL; i++)
        if (LOAD_ACQ(&m->gp[i].state) == GP_FREE)
            b = &m->gp[i];
    if (b == NULL)
        return -1;
    oomkit__retired *fresh = array_get(s, SMEM_RETIRE_SLOTS);
    if (fresh == NULL)
        return -1;
    b->entries = m->retire;
    b->n = m->nretire;
    b->done = 0;
    b->cap = m->retire_cap;
    /* At the floor the store is under 1 MiB (gpthread.c). */
    b->small = batch_bound(s) == FLUSH_MIN_BYTES;
    m->retire = fresh;
    m->retire_cap = SMEM_RETIRE_SLOTS;
    b->token = STORE_SYNC(s);
    STORE_RLX(&b->state, GP_WAITING);
    m->nretire = 0;
    m->retire_bytes = 0;
    if (oomkit__gp_submit(b) != 0) {
        /* No thread: wait here, once, and the batch is over. */
        oomkit__reclaim_wait(s);
        STORE_RLX(&b->state, GP_OVER);
    }
    return 0;
}

void oomkit__reclaim_wait(oomkit_store *s)
{
    oomkit__smem_add(&s->m.writer_waits, 1);
    oomkit__rcu_wait(STORE_SYNC(s));
}

void oomkit__reclaim_waited(oomkit_store *s)
{
    /* Every batch in flight was sealed before the caller's grace period. */
    drain_ledger(s);
    for (int i = 0; i < SMEM_GP_BATCHES; i++)
        drain_batch(s, &s->m.gp[i], SIZE_MAX);
    reap(s, SIZE_MAX);
}

/* Waits for a grace period if anything waits for one, and frees it all. */
static void wait_and_drain(oomkit_store *s)
{
    int waiting = 0;
    for (int i = 0; i < SMEM_GP_BATCHES; i++)
        waiting |= s->m.gp[i].entries != NULL;
    if (s->m.nretire != 0 || waiting) {
        oomkit__reclaim_wait(s);
        oomkit__reclaim_waited(s);
    }
    reap(s, SIZE_MAX);
}

void oomkit__reclaim_now(oomkit_store *s)
{
    wait_and_drain(s);
    /* The caller wants memory back: the pooled arrays too. */
    pool_empty(s);
}

/* Bytes waiting past which the writer waits for readers itself, however
 * small the store (reclaim.h says why). The largest ledger array holds
 * this much at 64 bytes an entry (building the 1M-object workload retires
 * 86). */
#define WAIT_MIN_BYTES ((uint64_t)1 << 20)

/* The hard bound: the writer waits for readers once this much waits. */
static uint64_t wait_bound(const oomkit_store *s)
{
    uint64_t bound = (SMEM_GP_BATCHES + 1) * batch_bound(s);
    return bound < WAIT_MIN_BYTES ? WAIT_MIN_BYTES : bound;
}

/* Retired bytes not yet freed, in the ledger and in flight. */
static uint64_t waiting_bytes(const oomkit_store *s)
{
    return oomkit__smem_get(&s->m.part[SM_RETIRED]) + oomkit__smem_get(&s->m.retired_blocks);
}

/* Largest ledger array: the pool's largest class (256 KiB). The cap
 * bounds the ledgers themselves: object ids retire with no bytes, so the
 * byte bound alone would not. */
#define LEDGER_MAX_SLOTS ((size_t)SMEM_RETIRE_SLOTS << (SMEM_POOL_CLASSES - 1))

/* Doubles the ledger's array. 0, or -1 (at LEDGER_MAX_SLOTS already, no
 * memory, or not within budget). */
static int grow_ledger(oomkit_store *s)
{
    oomkit__smem *m = &s->m;
    if (m->retire_cap >= LEDGER_MAX_SLOTS)
        return -1;
    size_t cap = m->retire_cap * 2;
    oomkit__retired *r = array_get(s, cap);
    if (r == NULL)
        return -1;
    memcpy(r, m->retire, m->nretire * sizeof(oomkit__retired));
    array_put(s, m->retire, m->retire_cap);
    m->retire = r;
    m->retire_cap = cap;
    return 0;
}

/* The ledger is over its bound or short of entries: seal it; with every
 * batch in flight, keep filling it (growing it, up to LEDGER_MAX_SLOTS, if
 * entries are short) while the bytes waiting stay under the hard bound,
 * else wait for readers. */
static void make_room(oomkit_store *s, size_t entries)
{
    if (seal(s) == 0)
        return;
    if (waiting_bytes(s) > wait_bound(s) ||
        (oomkit__smem_retire_room(&s->m) < entries && grow_ledger(s) != 0))
        wait_and_drain(s);
}

void oomkit__reclaim_after_write(oomkit_store *s)
{
    oomkit__smem *m = &s->m;
    reap(s, REAP_PER_WRITE);
    if (m->retire_bytes > batch_bound(s)) {
        make_room(s, WRITE_RETIRE_SLOTS);
        return;
    }
    /* Under the byte bound and short of entries: a longer ledger, not
     * another grace period (reclaim.h). */
    if (oomkit__smem_retire_room(m) < WRITE_RETIRE_SLOTS && grow_ledger(s) != 0)
        make_room(s, WRITE_RETIRE_SLOTS);
}

void oomkit__reclaim_room(oomkit_store *s, size_t n)
{
    if (oomkit__smem_retire_room(&s->m) >= n)
        return;
    reap(s, REAP_PER_WRITE);
    make_room(s, n);
}

/* 1 if the grace-period thread still holds one of the store's batches. */
static int any_queued(const oomkit_store *s)
{
    for (int i = 0; i < SMEM_GP_BATCHES; i++)
        if (LOAD_ACQ(&((oomkit_store *)s)->m.gp[i].state) == GP_WAITING)
            return 1;
    return 0;
}

void oomkit__reclaim_close(oomkit_store *s)
{
    drain_ledger(s);
    for (int i = 0; i < SMEM_GP_BATCHES; i++)
        drain_batch(s, &s->m.gp[i], SIZE_MAX);
    /* A batch still queued would be written to after the store is freed:
     * the grace-period thread's last touch of a batch is the release store
     * of its state. */
    while (any_queued(s)) {
        struct timespec pause = { 0, 100000 };
        nanosleep(&pause, NULL);
    }
    pool_empty(s);
}
