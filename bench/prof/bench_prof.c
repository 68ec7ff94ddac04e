/* Heap-profiler benchmark workload: malloc-heavy, two threads, mixed sizes,
 * deep stacks, and two known leaks, so each profiler's overhead and its
 * ability to name the leak sites can be compared on the same run.
 *
 *   churn: N malloc/free pairs split over 2 threads (ring of 256 slots per
 *          thread, so objects live a while); sizes 70 % 16-256 B, 25 %
 *          257 B-4 KiB, 5 % 4-64 KiB; six call sites site_a..site_f, each
 *          under a chain of 5..20 distinct frames;
 *   long-lived: 100 000 x 512 B from cache_fill, freed before exit;
 *   leaks: leak_big 1 000 x 40 000 B = 40 000 000 B and leak_small
 *          200 000 x 32 B = 6 400 000 B, never freed.
 * usage: bench_prof N   (default 20 000 000) */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))

static void *volatile sink;

NOINLINE void leak_big(void)
{
    for (int i = 0; i < 1000; i++)
        sink = malloc(40000); /* LEAK:leak_big */
}

NOINLINE void leak_small(void)
{
    for (int i = 0; i < 200000; i++)
        sink = malloc(32); /* LEAK:leak_small */
}

struct ring {
    void *slot[256];
    unsigned pos;
    uint64_t rng;
};

static size_t pick_size(struct ring *r)
{
    r->rng = r->rng * 6364136223846793005ULL + 1442695040888963407ULL;
    unsigned x = (unsigned)(r->rng >> 33);
    unsigned pct = x % 100, v = x / 100;
    if (pct < 70)
        return 16 + v % 241;
    if (pct < 95)
        return 257 + v % (4096 - 257);
    return 4096 + v % (65536 - 4096);
}

static void churn_one(struct ring *r)
{
    unsigned i = r->pos++ & 255;
    free(r->slot[i]);
    r->slot[i] = malloc(pick_size(r));
}

/* A chain of distinct frames so stacks are deep and differ per site. */
#define LEVEL(k, next)                                                        \
    NOINLINE static void lvl##k(struct ring *r, int depth, void (*leaf)(struct ring *)) \
    {                                                                         \
        if (depth <= 0)                                                       \
            leaf(r);                                                          \
        else                                                                  \
            next(r, depth - 1, leaf);                                         \
        __asm__ volatile("" ::: "memory");                                    \
    }
NOINLINE static void lvl_end(struct ring *r, int depth, void (*leaf)(struct ring *))
{
    (void)depth;
    leaf(r);
    __asm__ volatile("" ::: "memory");
}
LEVEL(20, lvl_end) LEVEL(19, lvl20) LEVEL(18, lvl19) LEVEL(17, lvl18) LEVEL(16, lvl17)
LEVEL(15, lvl16) LEVEL(14, lvl15) LEVEL(13, lvl14) LEVEL(12, lvl13) LEVEL(11, lvl12)
LEVEL(10, lvl11) LEVEL(9, lvl10) LEVEL(8, lvl9) LEVEL(7, lvl8) LEVEL(6, lvl7)
LEVEL(5, lvl6) LEVEL(4, lvl5) LEVEL(3, lvl4) LEVEL(2, lvl3) LEVEL(1, lvl2)

NOINLINE static void site_a(struct ring *r) { churn_one(r); }
NOINLINE static void site_b(struct ring *r) { churn_one(r); }
NOINLINE static void site_c(struct ring *r) { churn_one(r); }
NOINLINE static void site_d(struct ring *r) { churn_one(r); }
NOINLINE static void site_e(struct ring *r) { churn_one(r); }
NOINLINE static void site_f(struct ring *r) { churn_one(r); }

static void (*const sites[6])(struct ring *) = { site_a, site_b, site_c, site_d, site_e, site_f };

struct job {
    long pairs;
    uint64_t seed;
};

static void *worker(void *arg)
{
    struct job *j = arg;
    struct ring r = { { 0 }, 0, j->seed };
    for (long i = 0; i < j->pairs; i++) {
        int s = (int)(i % 6);
        lvl1(&r, 4 + 3 * s, sites[s]);
    }
    for (int i = 0; i < 256; i++)
        free(r.slot[i]);
    return NULL;
}

NOINLINE static void **cache_fill(void)
{
    void **cache = malloc(100000 * sizeof(void *));
    for (int i = 0; i < 100000; i++)
        cache[i] = malloc(512);
    return cache;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000000;
    void **cache = cache_fill();
    struct job jobs[2] = { { n / 2, 1 }, { n - n / 2, 2 } };
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, worker, &jobs[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < 100000; i++)
        free(cache[i]);
    free(cache);
    leak_big();
    leak_small();
    return 0;
}
