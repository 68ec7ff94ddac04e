/* Concurrency tests of the store's secondary indexes and of the iteration
 * contract (store.h, "iteration contract"):
 * - readers iterate every value of an index while a writer moves objects
 *   between values, deletes and re-creates them, deletes the indexed
 *   field and compacts: no object is visited twice in one iteration, every visited
 *   object's name is one the test wrote, and the pinned objects (value 0
 *   throughout) are always all visited;
 * - a slow reader (long read sections) under a writer that churns objects:
 *   memory retired and waiting for readers stays within the bound store.h
 *   states, and the store does not grow.
 * Failures inside threads are counted and asserted by the main thread. */
#include "oomkit/store.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#define NOBJ 1200
#define NPIN 100
#define NVALS 6

#if defined(OOMKIT_TSAN)
#define RUN_MS 1200
#elif defined(OOMKIT_ASAN)
#define RUN_MS 1000
#else
#define RUN_MS 1500
#endif

static oomkit_store *S;
static uint32_t IX;
static atomic_int stop;
static atomic_int failures;
static atomic_long reads;

static oomkit_str str(const char *p)
{
    return (oomkit_str){ p, strlen(p) };
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

typedef struct seen_ctx {
    unsigned char seen[NOBJ];
    int pinned;
    int slow;
} seen_ctx;

static int seen_cb(void *ctx, oomkit_str ns, oomkit_str name, oomkit_store_obj obj)
{
    seen_ctx *c = ctx;
    char b[16] = { 0 };
    if (ns.len != 1 || name.len < 2 || name.len > 8 || obj == 0) {
        atomic_fetch_add(&failures, 1);
        return 0;
    }
    memcpy(b, name.ptr, name.len);
    int o = atoi(b + 1);
    if (o < 0 || o >= NOBJ) {
        atomic_fetch_add(&failures, 1);
        return 0;
    }
    if (c->seen[o]++)
        atomic_fetch_add(&failures, 1); /* visited twice */
    if (o < NPIN)
        c->pinned++;
    if (c->slow) {
        struct timespec ts = { 0, 200000 };
        nanosleep(&ts, NULL);
    }
    return 0;
}

static void *reader(void *arg)
{
    (void)arg;
    static _Thread_local seen_ctx c;
    while (!atomic_load(&stop)) {
        for (int64_t v = 0; v < NVALS; v++) {
            memset(&c, 0, sizeof(c));
            if (oomkit_store_index_each(S, IX, v, seen_cb, &c) != 0)
                atomic_fetch_add(&failures, 1);
            if (v == 0 && c.pinned != NPIN)
                atomic_fetch_add(&failures, 1); /* a pinned object missed */
            atomic_fetch_add(&reads, 1);
        }
    }
    return NULL;
}

static void name_of(char *b, size_t n, int o)
{
    snprintf(b, n, "o%d", o);
}

static void populate(void)
{
    char nm[16];
    for (int o = 0; o < NOBJ; o++) {
        name_of(nm, sizeof(nm), o);
        assert_int_equal(oomkit_store_put(S, str("n"), str(nm), str("node"),
                                          o < NPIN ? 0 : o % NVALS),
                         0);
        assert_int_equal(oomkit_store_put(S, str("n"), str(nm), str("cpu"), o), 0);
    }
}

static void churn_one(uint64_t *x)
{
    char nm[16];
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    int o = NPIN + (int)(*x % (NOBJ - NPIN));
    name_of(nm, sizeof(nm), o);
    int op = (int)((*x >> 20) % 10);
    int r = 0;
    if (op < 6) {
        r = oomkit_store_put(S, str("n"), str(nm), str("node"), (int64_t)((*x >> 32) % NVALS));
    } else if (op < 8) {
        r = oomkit_store_del_object(S, str("n"), str(nm));
        if (r == -ENOENT)
            r = 0;
        if (r == 0)
            r = oomkit_store_put(S, str("n"), str(nm), str("cpu"), o);
    } else {
        r = oomkit_store_del(S, str("n"), str(nm), str("node"));
        if (r == -ENOENT)
            r = 0;
    }
    if (r != 0)
        atomic_fetch_add(&failures, 1);
}

static void test_readers_while_objects_move(void **state)
{
    (void)state;
    assert_int_equal(oomkit_store_open(NULL, &S), 0);
    populate();
    assert_int_equal(oomkit_store_index_add(S, str("node"), &IX), 0);
    atomic_store(&stop, 0);
    atomic_store(&failures, 0);
    atomic_store(&reads, 0);
    pthread_t rd[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&rd[i], NULL, reader, NULL);
    uint64_t x = 88172645463325252ull, writes = 0, end = now_ms() + RUN_MS;
    while (now_ms() < end) {
        for (int i = 0; i < 64; i++)
            churn_one(&x);
        writes += 64;
        /* Compact now and then: it replaces posting lists and the value
         * table under the readers' feet. */
        if (writes % 4096 == 0 && oomkit_store_compact(S) != 0)
            atomic_fetch_add(&failures, 1);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(rd[i], NULL);
    printf("writes %llu index iterations %ld\n", (unsigned long long)writes,
           atomic_load(&reads));
    assert_int_equal(atomic_load(&failures), 0);
    assert_true(atomic_load(&reads) > 0);
    assert_true(writes > 1000);
    oomkit_store_close(S);
}

static void *slow_reader(void *arg)
{
    (void)arg;
    static _Thread_local seen_ctx c;
    while (!atomic_load(&stop)) {
        memset(&c, 0, sizeof(c));
        c.slow = 1;
        if (oomkit_store_index_each(S, IX, 0, seen_cb, &c) != 0 || c.pinned != NPIN)
            atomic_fetch_add(&failures, 1);
        atomic_fetch_add(&reads, 1);
    }
    return NULL;
}

static void test_slow_reader_bounded_memory(void **state)
{
    (void)state;
    assert_int_equal(oomkit_store_open(NULL, &S), 0);
    populate();
    assert_int_equal(oomkit_store_index_add(S, str("node"), &IX), 0);
    /* Warm up: one round of churn reaches the steady-state size. */
    uint64_t x = 0x2545f4914f6cdd1dull;
    for (int i = 0; i < 20000; i++)
        churn_one(&x);
    oomkit_store_stats st;
    assert_int_equal(oomkit_store_stats_get(S, &st), 0);
    uint64_t start_total = st.bytes_total, max_total = 0, max_retired = 0, max_bound = 0;
    uint64_t start_tables = st.bytes_tables, max_tables = 0;
    atomic_store(&stop, 0);
    atomic_store(&failures, 0);
    atomic_store(&reads, 0);
    pthread_t rd;
    pthread_create(&rd, NULL, slow_reader, NULL);
    uint64_t writes = 0, end = now_ms() + RUN_MS;
    while (now_ms() < end) {
        churn_one(&x);
        writes++;
        assert_int_equal(oomkit_store_stats_get(S, &st), 0);
        /* The documented bound: 9 ledgers (8 in flight, 1 filling) of
         * max(8 KiB, bytes_total / 128), or 1 MiB if more, plus what one
         * write retires into each (here a block or a posting list or two,
         * well under 16 KiB: the store does not grow). */
        uint64_t bound = st.bytes_total / 128 > 8192 ? st.bytes_total / 128 : 8192;
        bound = 9 * bound > (1u << 20) ? 9 * bound : (1u << 20);
        bound += 9 * 16384;
        if (st.bytes_retired > max_retired)
            max_retired = st.bytes_retired;
        if (bound > max_bound)
            max_bound = bound;
        if (st.bytes_retired > bound)
            atomic_fetch_add(&failures, 1);
        if (st.bytes_total > max_total) {
            max_total = st.bytes_total;
            max_tables = st.bytes_tables;
        }
    }
    atomic_store(&stop, 1);
    pthread_join(rd, NULL);
    printf("writes %llu slow iterations %ld retired max %llu (bound %llu) total %llu -> max %llu\n",
           (unsigned long long)writes, atomic_load(&reads), (unsigned long long)max_retired,
           (unsigned long long)max_bound, (unsigned long long)start_total,
           (unsigned long long)max_total);
    printf("tables %llu -> %llu at the largest total (the ledgers' arrays are tables)\n",
           (unsigned long long)start_tables, (unsigned long long)max_tables);
    assert_int_equal(atomic_load(&failures), 0);
    assert_true(atomic_load(&reads) > 0);
    assert_true(writes > 100);
    /* Churn at constant size: the store grows by no more than what may wait
     * for the slow reader (checked above) and the ledgers' own arrays: one
     * filling and 8 in flight, each at most the pool's largest, 16,384
     * entries of 16 bytes. */
    assert_true(max_total <= start_total + max_bound + 9 * 16384 * 16);
    oomkit_store_close(S);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_readers_while_objects_move),
        cmocka_unit_test(test_slow_reader_bounded_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
