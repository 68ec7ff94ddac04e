/* Failure paths of the store: an allocator that fails the Nth allocation,
 * for every N over a small workload (each failing call returns -ENOMEM, the
 * content equals the model, the store keeps working), and the memory budget
 * (-E2BIG leaves the store unchanged and usable; bytes_total never passes
 * the budget). */
#include "store_gen.h"
#include "store_model.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static long alloc_count, fail_at;
static int failed;

static void *f_malloc(size_t n, void *c)
{
    (void)c;
    if (++alloc_count == fail_at) {
        failed = 1;
        return NULL;
    }
    return malloc(n);
}
static void *f_realloc(void *p, size_t n, void *c)
{
    (void)c;
    if (++alloc_count == fail_at) {
        failed = 1;
        return NULL;
    }
    return realloc(p, n);
}
static void f_free(void *p, void *c)
{
    (void)c;
    free(p);
}

/* Checks one call's result against the model's expectation: either what
 * the model says or -ENOMEM when this call hit the failing allocation. */
static int outcome(int got, int want)
{
    if (got == -ENOMEM) {
        assert_true(failed);
        failed = 0;
        return 0;
    }
    assert_int_equal(got, want);
    return 1;
}

/* The workload keeps a secondary index on key 3 (values 0..3). */
#define IX_KEY 3
static uint32_t ix_id;
static oomkit_str ix_key;

typedef struct ix_ctx {
    model *m;
    int64_t value;
    uint64_t visited;
} ix_ctx;

static int ix_obj(void *ctx, oomkit_str ns, oomkit_str name, oomkit_store_obj obj)
{
    (void)obj;
    ix_ctx *c = ctx;
    int64_t want;
    assert_int_equal(m_get(c->m, ns, name, ix_key, &want), 0);
    assert_true(want == c->value);
    c->visited++;
    return 0;
}

static void check(const oomkit_store *s, model *m, long n)
{
    const char *why = model_compare(s, m);
    if (why != NULL)
        fail_msg("fail_at %ld: %s", n, why);
    /* The index holds exactly the model's objects with the key. */
    ix_ctx c = { m, 0, 0 };
    for (c.value = 0; c.value < 4; c.value++)
        assert_int_equal(oomkit_store_index_each(s, ix_id, c.value, ix_obj, &c), 0);
    uint64_t want = 0;
    for (size_t b = 0; b < MODEL_BUCKETS; b++)
        for (mobj *o = m->b[b]; o != NULL; o = o->next)
            want += m_field(o, ix_key) >= 0;
    if (c.visited != want)
        fail_msg("fail_at %ld: index holds %llu objects, model %llu", n,
                 (unsigned long long)c.visited, (unsigned long long)want);
}

/* One run of the workload; returns 1 if the failing allocation happened. */
static int run_workload(long n)
{
    static gen_pool g;
    static model m;
    gen_init(&g);
    memset(&m, 0, sizeof(m));
    alloc_count = 0;
    fail_at = n;
    failed = 0;
    oomkit_store *s = NULL;
    int r = oomkit_store_open(NULL, &s);
    if (r != 0) {
        assert_int_equal(r, -ENOMEM);
        assert_true(failed);
        failed = 0;
        fail_at = 0;
        assert_int_equal(oomkit_store_open(NULL, &s), 0);
    }
    ix_key = gen_key(&g, IX_KEY);
    while ((r = oomkit_store_index_add(s, ix_key, &ix_id)) != 0)
        outcome(r, 0);
    rng rg = { 77 };
    /* Every allocation of the run is failed once, so the run's length
     * multiplies: shorter under ASan. */
    const int nops = STORE_TEST_ASAN ? 500 : 900;
    for (int i = 0; i < nops; i++) {
        uint32_t op = rng_below(&rg, 100);
        oomkit_str ns = gen_ns(&g, rng_below(&rg, GEN_NS));
        oomkit_str name = gen_name(&g, rng_below(&rg, i < nops * 2 / 3 ? 60 : 12));
        oomkit_str key = gen_key(&g, rng_below(&rg, 12));
        int64_t v = (int64_t)rng_next(&rg), got, want;
        if (key.ptr == ix_key.ptr)
            v = (int64_t)((uint64_t)v % 4);
        if (op < 10) {
            /* A write of several fields: all of them, or none. */
            oomkit_store_field f[4];
            size_t nf = 1 + rng_below(&rg, 4);
            for (size_t j = 0; j < nf; j++) {
                f[j].key = j == 0 ? key : gen_key(&g, rng_below(&rg, 12));
                f[j].value = f[j].key.ptr == ix_key.ptr ? (int64_t)rng_below(&rg, 4)
                                                        : (int64_t)rng_next(&rg);
            }
            if (outcome(oomkit_store_put_fields(s, ns, name, f, nf), 0)) {
                for (size_t j = 0; j < nf; j++)
                    m_put(&m, ns, name, f[j].key, f[j].value);
            } else {
                check(s, &m, n);
            }
        } else if (op < 60) {
            if (outcome(oomkit_store_put(s, ns, name, key, v), 0))
                m_put(&m, ns, name, key, v);
            else
                check(s, &m, n);
        } else if (op < 70) {
            int rm = m_get(&m, ns, name, key, &want);
            assert_int_equal(oomkit_store_get(s, ns, name, key, &got), rm);
        } else if (op < 82) {
            mobj *o = m_obj(&m, ns, name, 0);
            int want_rc = (o && m_field(o, key) >= 0) ? 0 : -ENOENT;
            if (outcome(oomkit_store_del(s, ns, name, key), want_rc))
                m_del(&m, ns, name, key);
            else
                check(s, &m, n);
        } else if (op < 88) {
            int want_rc = m_obj(&m, ns, name, 0) ? 0 : -ENOENT;
            assert_int_equal(oomkit_store_del_object(s, ns, name), want_rc);
            m_del_object(&m, ns, name);
        } else if (op < 96) {
            oomkit_store_obj h;
            uint32_t kid;
            if (!outcome(oomkit_store_object(s, ns, name, 1, &h), 0)) {
                check(s, &m, n);
                continue;
            }
            m_obj(&m, ns, name, 1);
            if (!outcome(oomkit_store_key(s, key, 1, &kid), 0)) {
                check(s, &m, n);
                continue;
            }
            if (outcome(oomkit_store_obj_put(s, h, kid, v), 0))
                m_put(&m, ns, name, key, v);
            else
                check(s, &m, n);
        } else if (op < 98) {
            outcome(oomkit_store_compact(s), 0);
            check(s, &m, n);
        } else {
            assert_int_equal(oomkit_store_clear(s), 0);
            m_clear(&m);
        }
        /* A failed allocation must surface as -ENOMEM from the call that
         * made it (outcome() consumes the flag), never be swallowed. */
        if (failed)
            fail_msg("fail_at %ld: op %d hit the failing allocation but reported success", n, i);
    }
    check(s, &m, n);
    int hit = alloc_count >= n;
    /* The store keeps working after the failure. */
    fail_at = 0;
    assert_int_equal(oomkit_store_put(s, OOMKIT_STR("after"), OOMKIT_STR("x"), OOMKIT_STR("k"), 1),
                     0);
    m_put(&m, OOMKIT_STR("after"), OOMKIT_STR("x"), OOMKIT_STR("k"), 1);
    assert_int_equal(oomkit_store_compact(s), 0);
    check(s, &m, n);
    oomkit_store_close(s);
    m_clear(&m);
    return hit;
}

static void test_fail_every_allocation(void **st)
{
    (void)st;
    oomkit_allocator a = { f_malloc, f_realloc, f_free, NULL };
    oomkit_set_allocator(&a);
    long n = 1;
    while (run_workload(n))
        n++;
    oomkit_set_allocator(NULL);
    print_message("failed each of %ld allocations in turn\n", n - 1);
    assert_true(n > 50);
}

static void test_budget(void **st)
{
    (void)st;
    oomkit_store *s;
    oomkit_store_options tiny = { 1024, 0 };
    assert_int_equal(oomkit_store_open(&tiny, &s), -E2BIG);
    oomkit_store_options o = { 300 * 1024, 0 };
    assert_int_equal(oomkit_store_open(&o, &s), 0);
    static model m;
    memset(&m, 0, sizeof(m));
    char nb[48], kb[16];
    int refused = 0, i;
    oomkit_store_stats stt;
    for (i = 0; i < 100000 && refused < 20; i++) {
        oomkit_str name = { nb, (size_t)snprintf(nb, sizeof(nb), "deployment-%d-7c5ddbdf54", i / 5) };
        oomkit_str key = { kb, (size_t)snprintf(kb, sizeof(kb), "key%d", i % 7) };
        oomkit_str ns = i % 3 ? OOMKIT_STR("prod") : OOMKIT_STR("dev");
        int r = oomkit_store_put(s, ns, name, key, i);
        if (r == 0) {
            m_put(&m, ns, name, key, i);
        } else {
            assert_int_equal(r, -E2BIG);
            refused++;
            const char *why = model_compare(s, &m);
            if (why != NULL)
                fail_msg("after -E2BIG: %s", why);
        }
        assert_int_equal(oomkit_store_stats_get(s, &stt), 0);
        assert_true(stt.bytes_total <= o.budget_bytes);
        assert_int_equal(stt.budget_bytes, o.budget_bytes);
    }
    assert_int_equal(refused, 20);
    assert_true(stt.objects > 500);
    /* Updates of existing fields never need memory. */
    assert_int_equal(oomkit_store_put(s, OOMKIT_STR("prod"), OOMKIT_STR("deployment-1-7c5ddbdf54"),
                                      OOMKIT_STR("key1"), -1), 0);
    m_put(&m, OOMKIT_STR("prod"), OOMKIT_STR("deployment-1-7c5ddbdf54"), OOMKIT_STR("key1"), -1);
    /* Make room (seven objects in eight go, so compact can empty pages
     * whatever the fill level the budget stopped at: it depends on when
     * grace periods ended), and
     * the store takes writes again. */
    for (int j = 0; j < i / 5; j++) {
        if (j % 8 == 0)
            continue;
        oomkit_str name = { nb, (size_t)snprintf(nb, sizeof(nb), "deployment-%d-7c5ddbdf54", j) };
        oomkit_store_del_object(s, OOMKIT_STR("prod"), name);
        oomkit_store_del_object(s, OOMKIT_STR("dev"), name);
        m_del_object(&m, OOMKIT_STR("prod"), name);
        m_del_object(&m, OOMKIT_STR("dev"), name);
    }
    assert_int_equal(oomkit_store_compact(s), 0);
    assert_int_equal(oomkit_store_stats_get(s, &stt), 0);
    print_message("after compact: %llu objects, %llu of %llu bytes (tables %llu fields %llu "
                  "atoms %llu)\n",
                  (unsigned long long)stt.objects, (unsigned long long)stt.bytes_total,
                  (unsigned long long)o.budget_bytes, (unsigned long long)stt.bytes_tables,
                  (unsigned long long)stt.bytes_fields, (unsigned long long)stt.bytes_atoms);
    assert_int_equal(oomkit_store_put(s, OOMKIT_STR("new"), OOMKIT_STR("o"), OOMKIT_STR("k"), 1), 0);
    m_put(&m, OOMKIT_STR("new"), OOMKIT_STR("o"), OOMKIT_STR("k"), 1);
    const char *why = model_compare(s, &m);
    if (why != NULL)
        fail_msg("after making room: %s", why);
    assert_int_equal(oomkit_store_stats_get(s, &stt), 0);
    assert_true(stt.bytes_total <= o.budget_bytes);
    oomkit_store_close(s);
    m_clear(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fail_every_allocation),
        cmocka_unit_test(test_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
