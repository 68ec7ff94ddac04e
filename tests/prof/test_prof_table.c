/* Concurrency tests of the profiler's tables (src/prof/prof_table.c),
 * compiled into this test rather than preloaded, so they run under TSan:
 * threads intern the same stacks at once (lock-free CAS publication must
 * give every thread the same id) and insert/remove their own sampled
 * pointers through the striped set and the counting filter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "prof/prof_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

/* The table only needs these from the rest of the preload library. */
struct prof_real oomkit__prof_real;
bool oomkit__prof_exact;

enum { THREADS = 4, STACKS = 2000, PTRS = 20000 };

static uint32_t ids[THREADS][STACKS];

static void make_stack(uintptr_t *f, uint32_t *n, int i)
{
    *n = 3 + (uint32_t)(i % 10);
    for (uint32_t k = 0; k < *n; k++)
        f[k] = 0x400000u + (uintptr_t)i * 64 + k;
}

static void *intern_worker(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int j = 0; j < STACKS; j++) {
        int i = (j * 7 + t * 13) % STACKS; /* different orders per thread */
        uintptr_t f[PROF_MAX_FRAMES];
        uint32_t n;
        make_stack(f, &n, i);
        ids[t][i] = oomkit__prof_stack_intern(f, n);
    }
    return NULL;
}

static void test_concurrent_intern(void **state)
{
    (void)state;
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, intern_worker, (void *)(intptr_t)t);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    for (int i = 0; i < STACKS; i++) {
        assert_true(ids[0][i] != 0);
        for (int t = 1; t < THREADS; t++)
            assert_int_equal(ids[t][i], ids[0][i]);
        /* The record holds exactly the frames that were interned. */
        uintptr_t f[PROF_MAX_FRAMES];
        uint32_t n;
        make_stack(f, &n, i);
        struct prof_stack *s = oomkit__prof_stack_get(ids[0][i]);
        assert_int_equal(s->nframes, n);
        assert_memory_equal(oomkit__prof_stack_frames(s), f, n * sizeof(uintptr_t));
    }
    /* Lost CAS races may waste a record each, never more than one per
     * thread per stack. */
    assert_true(oomkit__prof_stack_count() >= STACKS + 1);
    assert_true(oomkit__prof_stack_count() <= STACKS * THREADS + 1);
}

static void *ptr_worker(void *arg)
{
    int t = (int)(intptr_t)arg;
    uintptr_t base = ((uintptr_t)t + 1) << 32;
    for (int i = 0; i < PTRS; i++)
        oomkit__prof_ptr_insert((void *)(base + (uintptr_t)i * 16), (uint64_t)i + 1, (uint32_t)t + 1);
    for (int i = 0; i < PTRS; i += 2) {
        uint64_t size;
        uint32_t id;
        void *p = (void *)(base + (uintptr_t)i * 16);
        if (!oomkit__prof_ptr_maybe(p) || !oomkit__prof_ptr_remove(p, &size, &id) ||
            size != (uint64_t)i + 1 || id != (uint32_t)t + 1)
            return (void *)1;
    }
    return NULL;
}

static void test_concurrent_pointer_set(void **state)
{
    (void)state;
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, ptr_worker, (void *)(intptr_t)t);
    for (int t = 0; t < THREADS; t++) {
        void *rc;
        pthread_join(th[t], &rc);
        assert_null(rc);
    }
    /* Odd pointers are still there, even ones are gone; never-inserted
     * pointers are not found. */
    for (int t = 0; t < THREADS; t++) {
        uintptr_t base = ((uintptr_t)t + 1) << 32;
        for (int i = 0; i < PTRS; i++) {
            uint64_t size;
            uint32_t id;
            bool found = oomkit__prof_ptr_remove((void *)(base + (uintptr_t)i * 16), &size, &id);
            assert_int_equal(found, i % 2 == 1);
        }
    }
    uint64_t size;
    uint32_t id;
    assert_false(oomkit__prof_ptr_remove((void *)(uintptr_t)0x1234560, &size, &id));
    /* With every pointer removed the filter is empty again (no counter
     * reached its sticky maximum at this load). */
    int nonzero = 0;
    for (size_t i = 0; i < (1u << PROF_FILTER_BITS); i++)
        nonzero += atomic_load(&oomkit__prof_filter[i]) != 0;
    assert_int_equal(nonzero, 0);
}

static void *mmap_fn(void *a, size_t l, int p, int f, int fd, off_t o) { return mmap(a, l, p, f, fd, o); }

int main(void)
{
    oomkit__prof_real.mmap = mmap_fn;
    oomkit__prof_real.calloc = calloc;
    oomkit__prof_real.free = free;
    if (oomkit__prof_table_init() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_intern),
        cmocka_unit_test(test_concurrent_pointer_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
