/* Profiler target: allocates known bytes at known sites, then exits with
 * some of them still live (the leaks). Each site's allocating line carries
 * a `SITE:<name>` marker that the tests look up to learn the line number.
 * Sites are noinline so each is its own frame.
 *
 * usage: prof_sites            (every site once)
 *        prof_sites churn N    (N malloc/free pairs over 4 threads; no leaks)
 *        prof_sites sampled    (large, known volumes for the sampling test)
 *        prof_sites idle MS [quiet]  (leak_big, send itself the dump signal
 *                              unless quiet, then idle MS ms) */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>

#define NOINLINE __attribute__((noinline))

static void *volatile sink; /* keeps the compiler from eliding allocations */
static void **leaks;
static size_t n_leaks;

static void keep(void *p)
{
    leaks[n_leaks++] = p;
}

NOINLINE static void leak_big(void)
{
    for (int i = 0; i < 1000; i++)
        keep(malloc(40000)); /* SITE:leak_big */
}

NOINLINE static void leak_small(void)
{
    for (int i = 0; i < 20000; i++)
        keep(malloc(32)); /* SITE:leak_small */
}

NOINLINE static void churn_site(void)
{
    for (int i = 0; i < 5000; i++) {
        void *p = malloc(100 + (size_t)(i % 7)); /* SITE:churn_site */
        sink = p;
        free(p);
    }
}

NOINLINE static void calloc_site(void)
{
    for (int i = 0; i < 10; i++)
        keep(calloc(100, 12)); /* SITE:calloc_site */
}

NOINLINE static void realloc_chain(void)
{
    /* 16, 32, ... 8192 bytes: ten reallocs of one block, the last one kept. */
    void *p = NULL;
    for (size_t n = 16; n <= 8192; n *= 2) {
        p = realloc(p, n); /* SITE:realloc_chain */
        memset(p, 1, n);
    }
    keep(p);
}

NOINLINE static void memalign_site(void)
{
    for (int i = 0; i < 10; i++) {
        void *p = NULL;
        if (posix_memalign(&p, 4096, 4096) == 0) /* SITE:memalign_site */
            keep(p);
    }
}

NOINLINE static void aligned_site(void)
{
    keep(aligned_alloc(64, 640)); /* SITE:aligned_site */
}

/* Inlined into inline_caller: the profile must still name it (DWARF
 * inlined-subroutine frames), with its own line. */
static inline __attribute__((always_inline)) void inline_site(void)
{
    for (int i = 0; i < 3; i++)
        keep(malloc(777)); /* SITE:inline_site */
}

NOINLINE static void inline_caller(void)
{
    inline_site();
    sink = leaks;
}

NOINLINE static void mmap_site(void)
{
    const int pr = PROT_READ | PROT_WRITE, fl = MAP_PRIVATE | MAP_ANONYMOUS;
    void *keep_map = mmap(NULL, 4 << 20, pr, fl, -1, 0); /* SITE:mmap_leak */
    sink = keep_map;
    void *gone = mmap(NULL, 1 << 20, pr, fl, -1, 0); /* SITE:mmap_gone */
    munmap(gone, 1 << 20);
}

NOINLINE static void *thread_site(void *arg)
{
    void **out = arg;
    for (int i = 0; i < 100; i++)
        out[i] = malloc(1000); /* SITE:thread_site */
    return NULL;
}

static void threads(void)
{
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, thread_site, leaks + n_leaks + (size_t)i * 100);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    n_leaks += 400;
}

static _Atomic long churn_left;

NOINLINE static void *churn_thread(void *arg)
{
    (void)arg;
    void *ring[64] = { 0 };
    unsigned x = 12345;
    for (long i = 0; atomic_fetch_sub(&churn_left, 1) > 0; i++) {
        x = x * 1103515245u + 12345u;
        size_t slot = (size_t)i & 63;
        free(ring[slot]);
        ring[slot] = malloc(16 + (x >> 16) % 2000); /* SITE:churn_thread */
    }
    for (int i = 0; i < 64; i++)
        free(ring[i]);
    return NULL;
}

NOINLINE static void sampled_churn(void)
{
    /* 100 000 x 4096 B allocated and freed: 409.6 MB of alloc_space. */
    for (int i = 0; i < 100000; i++) {
        void *p = malloc(4096); /* SITE:sampled_churn */
        sink = p;
        free(p);
    }
}

NOINLINE static void sampled_leak(void)
{
    for (int i = 0; i < 1000; i++)
        keep(malloc(40000)); /* SITE:sampled_leak */
}

int main(int argc, char **argv)
{
    leaks = calloc(100000, sizeof(void *)); /* SITE:leak_array */
    if (argc >= 3 && strcmp(argv[1], "churn") == 0) {
        atomic_store(&churn_left, atol(argv[2]));
        pthread_t t[4];
        for (int i = 0; i < 4; i++)
            pthread_create(&t[i], NULL, churn_thread, NULL);
        for (int i = 0; i < 4; i++)
            pthread_join(t[i], NULL);
        free(leaks);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "sampled") == 0) {
        sampled_churn();
        sampled_leak();
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "idle") == 0) {
        leak_big();
        if (argc < 4) /* "idle MS quiet" sends no signal */
            raise(SIGUSR2);
        long ms = atol(argv[2]);
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) != 0)
            ;
        return 0;
    }
    leak_big();
    leak_small();
    churn_site();
    calloc_site();
    realloc_chain();
    memalign_site();
    aligned_site();
    inline_caller();
    mmap_site();
    threads();
    printf("prof_sites: %zu blocks kept\n", n_leaks);
    return 0;
}
