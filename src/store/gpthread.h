/* The grace-period thread of the store: one per process, started on first
 * use. Writers hand it sealed ledgers (reclaim.c); it waits for a grace
 * period (synchronize_rcu) for each lot it takes and marks every batch of
 * the lot as over, which is all it does: the writer frees the memory
 * itself, so the store's accounting stays on the writer's side.
 *
 * Why not liburcu's call_rcu: its worker (liburcu 0.13) pauses 10 ms after
 * every round, so at a million writes a second ledgers waited 10 ms or more
 * and piled up (docs/architecture.md, "store"). This thread goes back to
 * its semaphore as soon as a lot is marked; only batches of stores under
 * 1 MiB wait, up to 1 ms after the last grace period, so that those sealed
 * meanwhile share the next (gpthread.c says why). */
#ifndef OOMKIT_STORE_GPTHREAD_H
#define OOMKIT_STORE_GPTHREAD_H

#include "store/smem.h"

/* Queues batch b (state waiting). 0, or -1 when the thread cannot be
 * started: the caller must wait for a grace period itself. Any thread. */
int oomkit__gp_submit(oomkit__gp_batch *b);

#endif
