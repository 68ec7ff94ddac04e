/* Deferred frees of the store: memory a writer unpublished waits in the
 * ledger (smem.h) until every reader that might still hold it has left its
 * read section, then goes back to the slab or the allocator.
 *
 * The writer never waits for readers on its normal path. When the ledger
 * holds more than max(8 KiB, bytes_total / 128) bytes after a write (one
 * that runs short of entries first doubles, up to the pool's largest
 * array), it is sealed into a batch and handed to the grace-period
 * thread (gpthread.h), which only marks the batch over once readers have
 * moved on; the writer frees marked batches at its next writes, at most
 * REAP_PER_WRITE entries a write (so all accounting stays on the writer's
 * side of the mutex and no write pays for a whole batch). At most
 * SMEM_GP_BATCHES batches are in flight. With all of them waiting (readers
 * that hold long sections, or a grace-period thread that has not run yet),
 * the ledger keeps filling, doubling its array if it runs short of
 * entries, until the bytes waiting pass the hard bound,
 * max((SMEM_GP_BATCHES + 1) x that bound, 1 MiB), or the array would pass
 * the pool's largest (16,384 entries): only then, or when no array can be
 * had, does the writer wait for a grace period itself. Memory waiting for
 * readers is thus at most that hard bound plus what one write retires.
 *
 * Why the 1 MiB floor: building a store retires about 86 bytes a write
 * (every new field copies its block), and a grace period took up to 18 ms
 * here when the other vCPU was slow to run the grace-period thread or to
 * answer membarrier's interrupt. Under a bound of 9 x 8 KiB the 1M-object
 * build of `oomkit bench store` then waited 1-18 ms for readers (there
 * were none) at writes 876, 1,754 and 126,821, while the store was small.
 * 1 MiB rides out 24 ms at that bench's write rate (9.4 million writes in
 * 19 s: 43 MB/s retired) and 6 ms at a bare writer's (up to 170 MB/s).
 * The price is memory behind a slow reader: the 0.26 MB store of
 * tests/store/test_store_index_concurrent.c peaks at 2.1 MB (1 MiB
 * waiting, the rest the ledgers' arrays) instead of 0.33 MB; a 4 MiB
 * floor made it 7 MB.
 *
 * Why: synchronize_rcu of liburcu-bp sleeps in 10 ms steps while a reader
 * is inside a section; with readers on every core a write that waited
 * stalled for 10-18 ms (measured beside 1 and 2 readers on 2 vCPUs).
 * Why by bytes and not also at 256 entries: a grace period costs about
 * 120 us even with no reader (membarrier interrupts every CPU the process
 * runs on, the writer's too), and with batches of 256 entries building the
 * 100k-object workload and churning it took 7,500 of them; the odd one
 * slower than 2 ms then filled the 8 batches of a small store and made a
 * write wait 3-8 ms for a grace period. Sealed by bytes: 2,750 grace
 * periods and no write waiting in six runs (docs/architecture.md).
 * Writer only, under the store mutex. */
#ifndef OOMKIT_STORE_RECLAIM_H
#define OOMKIT_STORE_RECLAIM_H

#include <stddef.h>

struct oomkit_store;

/* After a write: frees batches whose grace period is over, and seals the
 * ledger when it passed its bound. */
void oomkit__reclaim_after_write(struct oomkit_store *s);
/* Makes sure the ledger has n free entries (sealing or waiting). */
void oomkit__reclaim_room(struct oomkit_store *s, size_t n);
/* Waits for a grace period and frees everything retired so far, and the
 * spare ledger arrays (for a write that needs the memory back now: budget,
 * compact). */
void oomkit__reclaim_now(struct oomkit_store *s);
/* Waits until every read section in progress has ended: the writer
 * waiting for readers itself (counted in stats.writer_waits). */
void oomkit__reclaim_wait(struct oomkit_store *s);
/* Frees everything retired so far; the caller has just waited for a grace
 * period itself (clear). */
void oomkit__reclaim_waited(struct oomkit_store *s);
/* Close: frees everything and waits until no callback refers to the store
 * any more. */
void oomkit__reclaim_close(struct oomkit_store *s);

#endif
