/* The grace-period thread (see gpthread.h). */
#include "store/gpthread.h"

#include "store/sync.h"

#include <pthread.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static oomkit__gp_batch *queue; /* under lock; a stack: order does not matter */
static int started;             /* under lock: 1 running, -1 could not start */

static void *gp_main(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (queue == NULL)
            pthread_cond_wait(&wake, &lock);
        oomkit__gp_batch *lot = queue;
        queue = NULL;
        pthread_mutex_unlock(&lock);
        /* Every batch of the lot was unpublished before it was queued. */
        urcu_bp_synchronize_rcu();
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
    pthread_mutex_init(&lock, NULL);
    pthread_cond_init(&wake, NULL);
    for (oomkit__gp_batch *b = queue; b != NULL; b = b->next)
        STORE_REL(&b->state, GP_OVER);
    queue = NULL;
    started = 0;
}

static int start_locked(void)
{
    static int atfork_done;
    if (!atfork_done) {
        pthread_atfork(NULL, NULL, after_fork_child);
        atfork_done = 1;
    }
    pthread_attr_t attr;
    pthread_t tid;
    if (pthread_attr_init(&attr) != 0)
        return -1;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int r = pthread_create(&tid, &attr, gp_main, NULL);
    pthread_attr_destroy(&attr);
    return r == 0 ? 1 : -1;
}

int oomkit__gp_submit(oomkit__gp_batch *b)
{
    pthread_mutex_lock(&lock);
    if (started == 0)
        started = start_locked();
    if (started < 0) {
        pthread_mutex_unlock(&lock);
        return -1;
    }
    b->next = queue;
    queue = b;
    pthread_cond_signal(&wake);
    pthread_mutex_unlock(&lock);
    return 0;
}
