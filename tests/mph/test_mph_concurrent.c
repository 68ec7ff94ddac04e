/* Concurrent lookups (label concurrent, run under TSan): lookups are pure
 * functions of the immutable blob and the key, so threads sharing one
 * handle, built in memory or mapped from a file, need no locking and all
 * agree with a single-threaded reference. */
#include "mph_test_util.h"

#include <pthread.h>
#include <unistd.h>

#define THREADS 4

struct job {
    const oomkit_mph *m;
    const oomkit_static_map *map;
    const struct keyset *s;
    const uint64_t *want;
    size_t bad;
};

static void *worker(void *arg)
{
    struct job *j = arg;
    uint64_t out[64];
    for (int round = 0; round < 3; round++)
        for (size_t i = 0; i < j->s->n; i += 64) {
            size_t w = j->s->n - i < 64 ? j->s->n - i : 64;
            oomkit_mph_index_many(j->m, j->s->k + i, w, out);
            for (size_t q = 0; q < w; q++) {
                j->bad += out[q] != j->want[i + q];
                j->bad += oomkit_mph_index(j->m, j->s->k[i + q]) != j->want[i + q];
                int64_t v = -1;
                j->bad += oomkit_static_map_get(j->map, j->s->k[i + q], &v) != 0 ||
                          v != (int64_t)(i + q);
            }
        }
    return NULL;
}

static void run_threads(const oomkit_mph *m, const oomkit_static_map *map,
                        const struct keyset *s, const uint64_t *want)
{
    pthread_t t[THREADS];
    struct job j[THREADS];
    for (int i = 0; i < THREADS; i++) {
        j[i] = (struct job){ m, map, s, want, 0 };
        assert_int_equal(pthread_create(&t[i], NULL, worker, &j[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(j[i].bad, 0);
    }
}

static void test_shared_handles(void **state)
{
    (void)state;
    struct keyset s = { 0 };
    for (size_t i = 0; i < 20000; i++)
        ks_addf(&s, "ns-%zu/worker-%06zu/status.ready", i % 17, i);
    int64_t *vals = malloc(s.n * sizeof(*vals));
    for (size_t i = 0; i < s.n; i++)
        vals[i] = (int64_t)i;
    oomkit_mph *m = NULL;
    oomkit_static_map *map = NULL;
    assert_int_equal(oomkit_mph_build(s.k, s.n, NULL, &m), 0);
    assert_int_equal(oomkit_static_map_build(s.k, vals, s.n, NULL, &map), 0);
    uint64_t *want = malloc(s.n * sizeof(*want));
    for (size_t i = 0; i < s.n; i++)
        want[i] = oomkit_mph_index(m, s.k[i]);
    run_threads(m, map, &s, want);

    /* The same through mapped files. */
    char pf[512], pm[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(pf, sizeof(pf), "%s/oomkit-test-mph-conc-fn-%ld", tmp && *tmp ? tmp : "/tmp",
             (long)getpid());
    snprintf(pm, sizeof(pm), "%s/oomkit-test-mph-conc-map-%ld", tmp && *tmp ? tmp : "/tmp",
             (long)getpid());
    assert_int_equal(oomkit_mph_save(m, pf), 0);
    assert_int_equal(oomkit_static_map_save(map, pm), 0);
    oomkit_mph *fm = NULL;
    oomkit_static_map *fmap = NULL;
    assert_int_equal(oomkit_mph_open(pf, &fm), 0);
    assert_int_equal(oomkit_static_map_open(pm, &fmap), 0);
    run_threads(fm, fmap, &s, want);
    oomkit_mph_close(fm);
    oomkit_static_map_close(fmap);
    unlink(pf);
    unlink(pm);
    oomkit_mph_close(m);
    oomkit_static_map_close(map);
    free(want);
    free(vals);
    ks_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_handles),
    };
    return cmocka_run_group_tests_name("mph_concurrent", tests, NULL, NULL);
}
