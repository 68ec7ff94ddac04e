/* Differential test of the store: millions of random operations (fixed
 * seeds) applied to the store and to a trivially correct model
 * (store_model.h); every result must agree, and the full content, iteration
 * included, is compared after each batch. Fewer operations under ASan. */
#include "store_gen.h"
#include "store_model.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static void run_seed(uint64_t seed, size_t ops, size_t batch, uint32_t nnames)
{
    static gen_pool g;
    gen_init(&g);
    static model m;
    memset(&m, 0, sizeof(m));
    oomkit_store *s;
    assert_int_equal(oomkit_store_open(NULL, &s), 0);
    rng r = { seed };
    for (size_t i = 0; i < ops; i++) {
        uint32_t op = rng_below(&r, 1000);
        oomkit_str ns = gen_ns(&g, rng_below(&r, GEN_NS));
        oomkit_str name = gen_name(&g, rng_below(&r, nnames));
        oomkit_str key = gen_key(&g, rng_below(&r, GEN_KEYS));
        int64_t v = (int64_t)rng_next(&r);
        int64_t got = 0, want = 0;
        if (op < 60) {
            /* Several fields of one object in one write, a key sometimes
             * given twice (the last value wins). */
            oomkit_store_field f[6];
            size_t n = 1 + rng_below(&r, 6);
            for (size_t j = 0; j < n; j++) {
                f[j].key = j == 0 ? key : gen_key(&g, rng_below(&r, GEN_KEYS));
                f[j].value = rng_below(&r, 4) == 0 ? v : (int64_t)rng_next(&r);
            }
            assert_int_equal(oomkit_store_put_fields(s, ns, name, f, n), 0);
            for (size_t j = 0; j < n; j++)
                m_put(&m, ns, name, f[j].key, f[j].value);
        } else if (op < 450) {
            assert_int_equal(oomkit_store_put(s, ns, name, key, v), 0);
            m_put(&m, ns, name, key, v);
        } else if (op < 700) {
            int rs = oomkit_store_get(s, ns, name, key, &got);
            int rm = m_get(&m, ns, name, key, &want);
            assert_int_equal(rs, rm);
            if (rs == 0)
                assert_true(got == want);
        } else if (op < 850) {
            assert_int_equal(oomkit_store_del(s, ns, name, key), m_del(&m, ns, name, key));
        } else if (op < 900) {
            assert_int_equal(oomkit_store_del_object(s, ns, name), m_del_object(&m, ns, name));
        } else if (op < 990) {
            /* The fast path: resolve, then write and read by id. */
            oomkit_store_obj h;
            uint32_t kid;
            int exists = m_obj(&m, ns, name, 0) != NULL;
            int rr = oomkit_store_object(s, ns, name, 0, &h);
            assert_int_equal(rr, exists ? 0 : -ENOENT);
            if (!exists && op % 2 == 0)
                continue;
            assert_int_equal(oomkit_store_object(s, ns, name, 1, &h), 0);
            m_obj(&m, ns, name, 1);
            assert_int_equal(oomkit_store_key(s, key, 1, &kid), 0);
            if (op % 3 == 0) {
                mobj *o = m_obj(&m, ns, name, 0);
                int fi = m_field(o, key);
                int last = fi >= 0 && o->nf == 1;
                int rd = oomkit_store_obj_del(s, h, kid);
                assert_int_equal(rd, fi >= 0 ? 0 : -ENOENT);
                if (fi >= 0)
                    m_del(&m, ns, name, key); /* frees o if it was the last field */
                assert_int_equal(oomkit_store_obj_get(s, h, kid, &got), -ENOENT);
                if (last) {
                    oomkit_store_obj h2;
                    assert_int_equal(oomkit_store_object(s, ns, name, 0, &h2), -ENOENT);
                }
            } else {
                assert_int_equal(oomkit_store_obj_put(s, h, kid, v), 0);
                m_put(&m, ns, name, key, v);
                assert_int_equal(oomkit_store_obj_get(s, h, kid, &got), 0);
                assert_true(got == v);
            }
        } else if (op < 996) {
            assert_int_equal(oomkit_store_compact(s), 0);
        } else {
            assert_int_equal(oomkit_store_clear(s), 0);
            m_clear(&m);
        }
        if ((i + 1) % batch == 0) {
            const char *why = model_compare(s, &m);
            if (why != NULL)
                fail_msg("seed %llu op %zu: %s", (unsigned long long)seed, i, why);
        }
    }
    const char *why = model_compare(s, &m);
    if (why != NULL)
        fail_msg("seed %llu end: %s", (unsigned long long)seed, why);
    oomkit_store_close(s);
    m_clear(&m);
}

static size_t scale(size_t n)
{
    return STORE_TEST_ASAN ? n / 16 : n;
}

static void test_diff_small_names(void **st)
{
    (void)st;
    run_seed(1, scale(1000000), 20000, 40);
}

static void test_diff_many_names(void **st)
{
    (void)st;
    run_seed(2, scale(1000000), 50000, GEN_NAMES);
}

static void test_diff_more_seeds(void **st)
{
    (void)st;
    for (uint64_t seed = 3; seed < 7; seed++)
        run_seed(seed, scale(250000), 5000, 120);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_diff_small_names),
        cmocka_unit_test(test_diff_many_names),
        cmocka_unit_test(test_diff_more_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
