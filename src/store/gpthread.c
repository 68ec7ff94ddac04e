/* The grace-period thread (see gpthread.h). */
#include "store/gpthread.h"

#include "store/sync.h"

#include "core/deadline.h"

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

/* Writers never take a lock here: with a mutex shared with this thread, a
 * writer could sleep whenever the thread held it and its vCPU was not
 * running (docs/architecture.md, "The hand-over takes no lock"). Batches
 * go on a lock-free stack (every writer pushes, the thread takes the whole
 * stack at once, so no ABA), and one semaphore post per batch wakes the
 * thread: sem_post never blocks. */
static oomkit__gp_batch *queue; /* a stack: order does not matter */
static sem_t wake;              /* one post per batch pushed */
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static int started; /* 1 running, -1 could not start, 0 not yet; acquire / release */

/* A grace period costs the process about 100 us of CPU however little it
 * frees (membarrier interrupts every CPU the process runs on), and a store
 * under 1 MiB seals a batch every 8 KiB retired: freeing each at once, a
 * writer refilling a small store paid for a grace period every few dozen
 * writes. So batches of small stores wait for the next grace period until
 * GP_MIN_GAP_NS after the last one ended: the reconcile loop of `oomkit
 * bench seed` (6,000 puts after a clear) took 1.9 ms of CPU, now 0.6.
 * A larger store seals every 1/128 of its size and its batches go at once:
 * making them wait as well kept 1 MB more waiting at the end of the
 * 100k-object build, 19.0 -> 20.3 bytes an entry (docs/architecture.md).
 * liburcu's call_rcu pauses 10 ms after every round, which let ledgers
 * pile up. */
#define GP_MIN_GAP_NS 1000000L

/* 1 if every queued batch is a small store's. Only this thread takes from
 * the stack, so the batches below the top stay put while it walks them. */
static int all_small(void)
{
    for (const oomkit__gp_batch *b = __atomic_load_n(&queue, __ATOMIC_ACQUIRE); b != NULL;
         b = b->next)
        if (!b->small)
            return 0;
    return 1;
}

/* Lets small stores' batches gather until GP_MIN_GAP_NS after last_end. */
static void gather(const struct timespec *last_end)
{
    struct timespec until = oomkit__deadline_after(*last_end, GP_MIN_GAP_NS);
    while (all_small()) {
        /* Past the deadline (ETIMEDOUT), or any error but a signal. */
        if (sem_clockwait(&wake, CLOCK_MONOTONIC, &until) != 0 && errno != EINTR)
            return;
    }
}

static void *gp_main(void *arg)
{
    (void)arg;
    struct timespec last_end = { 0, 0 };
    for (;;) {
        while (sem_wait(&wake) != 0 && errno == EINTR) {
        }
        gather(&last_end);
        /* A post whose batch an earlier lot took finds the stack empty. */
        oomkit__gp_batch *lot = __atomic_exchange_n(&queue, NULL, __ATOMIC_ACQUIRE);
        if (lot == NULL)
            continue;
        /* Every batch of the lot was unpublished before it was queued. */
        urcu_bp_synchronize_rcu();
        clock_gettime(CLOCK_MONOTONIC, &last_end);
        while (lot != NULL) {
            oomkit__gp_batch *next = lot->next;
            OOMKIT_TSAN_ACQUIRE(lot->token);
            /* The last touch of the batch: the writer may reuse it after. */
            STORE_REL(&lot->state, GP_OVER);
            lot = next;
        }
    }
    return NULL;
}

/* After fork the child has no grace-period thread and no other thread that
 * could read: every queued batch is over already, and the next submit
 * starts a thread of its own. */
static void after_fork_child(void)
{
    pthread_mutex_init(&start_lock, NULL);
    for (oomkit__gp_batch *b = queue; b != NULL; b = b->next)
        STORE_REL(&b->state, GP_OVER);
    queue = NULL;
    started = 0;
}

/* Starts the thread once: 1, or -1 when it cannot run. */
static int start(void)
{
    int s = LOAD_ACQ(&started);
    if (s != 0)
        return s;
    pthread_mutex_lock(&start_lock);
    s = started;
    if (s == 0) {
        static int atfork_done;
        if (!atfork_done) {
            pthread_atfork(NULL, NULL, after_fork_child);
            atfork_done = 1;
        }
        pthread_attr_t attr;
        pthread_t tid;
        s = -1;
        if (sem_init(&wake, 0, 0) == 0 && pthread_attr_init(&attr) == 0) {
            pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
            s = pthread_create(&tid, &attr, gp_main, NULL) == 0 ? 1 : -1;
            pthread_attr_destroy(&attr);
        }
        STORE_REL(&started, s);
    }
    pthread_mutex_unlock(&start_lock);
    return s;
}

int oomkit__gp_submit(oomkit__gp_batch *b)
{
    if (start() < 0)
        return -1;
    b->next = __atomic_load_n(&queue, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(&queue, &b->next, b, 1, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED)) {
    }
    sem_post(&wake);
    return 0;
}
