/* The thread harness of the concurrent peers: k reader threads do random
 * hit lookups until told to stop while the calling thread acts as the one
 * writer. The writer wakes every millisecond and performs the writes that
 * are due at writes_per_s since the start (a late wake-up catches up, so
 * the rate holds over the run even when readers keep every core busy). Of
 * every ten writes, eight update a random existing value, one inserts a key
 * of a new object and one deletes the key inserted 100 inserts earlier.
 * Every single put and del is timed around the call alone (making the
 * churn key is left out), the same way for every backend; the worst one is
 * reported. A reader of a backend with get_batch draws the same random
 * keys and looks them up PEER_BATCH per call; reads count keys either way. */
#include "peer.h"

#include "../../bench_cpu.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHURN_RING 100

struct reader {
    pthread_t tid;
    int cpu;          /* OOMKIT_BENCH_CPU, or -1 */
    unsigned index;   /* reader i runs on CPU cpu + i */
    const struct peer_backend *b;
    void *h;
    const struct peer_input *in;
    atomic_bool *stop;
    uint64_t seed;
    uint64_t ops;
    uint64_t missed;
    /* Keep readers' counters on separate cache lines. */
    char pad[64];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Keys a reader looks up between two looks at the stop flag. */
#define READER_ROUND 256
_Static_assert(READER_ROUND % PEER_BATCH == 0, "a round is whole batches");

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    uint64_t x = r->seed, ops = 0, missed = 0;
    int64_t v;
    const struct peer_key *batch[PEER_BATCH];
    /* A reader that cannot be pinned runs anywhere: the run is still valid. */
    (void)bench_pin_thread(r->cpu, r->index);
    while (!atomic_load_explicit(r->stop, memory_order_relaxed)) {
        if (r->b->get_batch) {
            for (int i = 0; i < READER_ROUND / PEER_BATCH; i++) {
                for (int j = 0; j < PEER_BATCH; j++)
                    batch[j] = &r->in->keys[xorshift(&x) % r->in->n];
                missed += PEER_BATCH - r->b->get_batch(r->h, batch, PEER_BATCH);
            }
        } else {
            for (int i = 0; i < READER_ROUND; i++) {
                const struct peer_key *k = &r->in->keys[xorshift(&x) % r->in->n];
                if (r->b->get(r->h, k, &v) != 0)
                    missed++;
            }
        }
        ops += READER_ROUND;
    }
    r->ops = ops;
    r->missed = missed;
    return NULL;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One write of the writer, put or (with del) delete, timed around the call
 * alone: the one place every backend's worst write is measured. Returns
 * the write's result and raises *worst_ns when it was the slowest. */
static int timed_write(const struct peer_backend *b, void *h, const struct peer_key *k,
                       int64_t value, int del, uint64_t *worst_ns)
{
    uint64_t t0 = now_ns();
    int err = del ? b->del(h, k) : b->put(h, k, value);
    uint64_t took = now_ns() - t0;
    if (took > *worst_ns)
        *worst_ns = took;
    return err;
}

/* A churn key: namespace "churn", object "obj-<n>", and the first entry's
 * key name, so the flat key is "churn/obj-<n>/<key>". */
struct churn_key {
    struct peer_key k;
    char name[32];
    char flat[512];
    int live;
};

static void churn_make(struct churn_key *c, const struct peer_input *in, unsigned n)
{
    const struct peer_key *k0 = &in->keys[0];
    int nl = snprintf(c->name, sizeof c->name, "obj-%u", n);
    int fl = snprintf(c->flat, sizeof c->flat, "churn/%s/%.*s", c->name, (int)k0->key_len,
                      k0->key);
    c->k.ns = "churn";
    c->k.ns_len = 5;
    c->k.name = c->name;
    c->k.name_len = (uint32_t)nl;
    c->k.key = k0->key;
    c->k.key_len = k0->key_len;
    c->k.flat = c->flat;
    c->k.flat_len = (uint32_t)fl;
    c->k.value = (int64_t)n;
}

int peer_run(const struct peer_backend *b, void *h, const struct peer_input *in,
             unsigned readers, double seconds, unsigned writes_per_s, int cpu,
             struct peer_result *out)
{
    memset(out, 0, sizeof *out);
    struct reader *rs = calloc(readers, sizeof *rs);
    struct churn_key *ring = calloc(CHURN_RING, sizeof *ring);
    if (!rs || !ring) {
        free(rs);
        free(ring);
        return -ENOMEM;
    }
    atomic_bool stop;
    atomic_init(&stop, false);
    unsigned started = 0;
    int rc = 0;
    for (; started < readers; started++) {
        struct reader *r = &rs[started];
        r->b = b;
        r->h = h;
        r->in = in;
        r->stop = &stop;
        r->seed = (uint64_t)(started + 1) * 0x9E3779B97F4A7C15ull;
        r->cpu = cpu;
        r->index = started;
        rc = -pthread_create(&r->tid, NULL, reader_main, r);
        if (rc)
            break;
    }

    uint64_t x = 0x2545F4914F6CDD1Dull, writes = 0, worst_ns = 0;
    unsigned inserted = 0;
    double start = now_s(), t = start;
    while (rc == 0 && t - start < seconds) {
        uint64_t due = (uint64_t)((t - start) * writes_per_s);
        for (; writes < due; writes++) {
            int err = 0;
            if (writes % 10 == 8) {
                struct churn_key *c = &ring[inserted % CHURN_RING];
                churn_make(c, in, inserted);
                err = timed_write(b, h, &c->k, c->k.value, 0, &worst_ns);
                c->live = err == 0;
                inserted++;
            } else if (writes % 10 == 9) {
                if (inserted >= CHURN_RING) {
                    struct churn_key *c = &ring[inserted % CHURN_RING];
                    err = timed_write(b, h, &c->k, 0, 1, &worst_ns);
                    c->live = 0;
                }
            } else {
                const struct peer_key *k = &in->keys[xorshift(&x) % in->n];
                err = timed_write(b, h, k, (int64_t)(x >> 1), 0, &worst_ns);
            }
            if (err)
                out->write_errors++;
        }
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
        t = now_s();
    }
    double elapsed = now_s() - start;
    atomic_store(&stop, true);
    uint64_t reads = 0;
    for (unsigned i = 0; i < started; i++) {
        pthread_join(rs[i].tid, NULL);
        reads += rs[i].ops;
        out->missed_reads += rs[i].missed;
    }
    /* Leave the structure as it was for the next run: delete the churn keys
     * still present. */
    for (unsigned i = 0; i < CHURN_RING; i++) {
        if (ring[i].live && b->del(h, &ring[i].k) != 0)
            out->write_errors++;
    }
    free(ring);
    free(rs);
    if (rc)
        return rc;
    out->readers = readers;
    out->seconds = elapsed;
    out->reads_per_s = (double)reads / elapsed;
    out->writes_per_s = (double)writes / elapsed;
    out->worst_write_us = (double)worst_ns / 1e3;
    return 0;
}
