/* Tests of oomkit_store_get_many: every lookup of a batch answers exactly as
 * a single oomkit_store_get would (hits, each kind of miss, bad strings),
 * batches of every length around the internal group size, and the count of
 * hits. */
#include "oomkit/store.h"
#include "store_gen.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

static void test_matches_single_gets(void **state)
{
    (void)state;
    static gen_pool g;
    gen_init(&g);
    oomkit_store *s = NULL;
    assert_int_equal(oomkit_store_open(NULL, &s), 0);
    rng r = { 42 };
    for (int i = 0; i < 6000; i++)
        assert_int_equal(oomkit_store_put(s, gen_ns(&g, rng_below(&r, GEN_NS - 1)),
                                          gen_name(&g, rng_below(&r, GEN_NAMES)),
                                          gen_key(&g, rng_below(&r, GEN_KEYS - 2)),
                                          (int64_t)rng_next(&r)),
                         0);
    enum { MAXN = 70 };
    oomkit_store_lookup q[MAXN];
    size_t total_hits = 0, total_misses = 0;
    for (int round = 0; round < 400; round++) {
        size_t n = (size_t)round % MAXN;
        for (size_t i = 0; i < n; i++) {
            /* The last namespace and the last two keys were never written:
             * misses at every stage. */
            q[i].ns = gen_ns(&g, rng_below(&r, GEN_NS));
            q[i].name = gen_name(&g, rng_below(&r, GEN_NAMES));
            q[i].key = gen_key(&g, rng_below(&r, GEN_KEYS));
            if (rng_below(&r, 50) == 0)
                q[i].name = (oomkit_str){ NULL, 3 }; /* invalid */
            q[i].value = -777;
            q[i].rc = 1;
        }
        size_t found = 12345;
        assert_int_equal(oomkit_store_get_many(s, q, n, &found), 0);
        size_t hits = 0;
        for (size_t i = 0; i < n; i++) {
            int64_t v = -777;
            int rc = oomkit_store_get(s, q[i].ns, q[i].name, q[i].key, &v);
            assert_int_equal(q[i].rc, rc);
            assert_true(q[i].value == v);
            if (rc == 0)
                hits++;
            else
                total_misses++;
        }
        assert_int_equal(found, hits);
        total_hits += hits;
    }
    /* Both paths were exercised. */
    assert_true(total_hits > 1000);
    assert_true(total_misses > 1000);
    assert_int_equal(oomkit_store_get_many(NULL, q, 1, NULL), -EINVAL);
    assert_int_equal(oomkit_store_get_many(s, NULL, 1, NULL), -EINVAL);
    assert_int_equal(oomkit_store_get_many(s, NULL, 0, NULL), 0);
    oomkit_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_single_gets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
