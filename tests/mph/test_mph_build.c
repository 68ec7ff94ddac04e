/* Tests of the MPHF builder and lookups (src/mph/build.c, mph.c): every key
 * of many key sets gets its own slot below n, duplicates are named, builds
 * are byte-identical, bad options and hopeless parameters end with an error
 * (never a hang), and allocation failures leave nothing behind. */
#include "mph_test_util.h"

static oomkit_mph *build_ok(const struct keyset *s, const oomkit_mph_options *o)
{
    oomkit_mph *m = NULL;
    int rc = oomkit_mph_build(s->k, s->n, o, &m);
    if (rc != 0)
        fail_msg("build of %zu keys: %s", s->n, oomkit_strerror(rc));
    assert_non_null(m);
    assert_bijection(m, s);
    return m;
}

static void test_empty_set(void **state)
{
    (void)state;
    oomkit_mph *m = NULL;
    assert_int_equal(oomkit_mph_build(NULL, 0, NULL, &m), 0);
    assert_int_equal(oomkit_mph_size(m), 0);
    assert_int_equal(oomkit_mph_index(m, OOMKIT_STR("anything")), 0);
    uint64_t out[2] = { 7, 7 };
    oomkit_str q[2] = { OOMKIT_STR("a"), OOMKIT_STR("") };
    oomkit_mph_index_many(m, q, 2, out);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 0);
    oomkit_mph_stats st;
    assert_int_equal(oomkit_mph_stats_get(m, &st), 0);
    assert_int_equal(st.keys, 0);
    assert_int_equal(st.parts, 0);
    oomkit_mph_close(m);
}

static void test_one_and_two_keys(void **state)
{
    (void)state;
    struct keyset s = { 0 };
    ks_add(&s, "only", 4);
    oomkit_mph *m = build_ok(&s, NULL);
    assert_int_equal(oomkit_mph_index(m, OOMKIT_STR("only")), 0);
    /* A non-member still lands below n. */
    assert_int_equal(oomkit_mph_index(m, OOMKIT_STR("other")), 0);
    oomkit_mph_close(m);
    ks_add(&s, "second", 6);
    m = build_ok(&s, NULL);
    uint64_t a = oomkit_mph_index(m, OOMKIT_STR("only"));
    uint64_t b = oomkit_mph_index(m, OOMKIT_STR("second"));
    assert_true(a < 2 && b < 2 && a != b);
    oomkit_mph_close(m);
    ks_free(&s);
}

static void test_pod_names(void **state)
{
    (void)state;
    struct keyset s = { 0 };
    for (int i = 1; i <= 99999; i++)
        ks_addf(&s, "pod-%05d", i);
    oomkit_mph *m = build_ok(&s, NULL);
    oomkit_mph_stats st;
    assert_int_equal(oomkit_mph_stats_get(m, &st), 0);
    assert_int_equal(st.keys, 99999);
    assert_true(st.bits_per_key < 3.0);
    oomkit_mph_close(m);
    ks_free(&s);
}

static void test_long_shared_prefixes(void **state)
{
    (void)state;
    char buf[1100];
    memset(buf, 'p', 1024);
    struct keyset s = { 0 };
    for (int i = 0; i < 20000; i++) {
        int len = snprintf(buf + 1024, 64, "%d", i);
        ks_add(&s, buf, 1024 + (size_t)len);
    }
    oomkit_mph_close(build_ok(&s, NULL));
    ks_free(&s);
}

static void test_one_byte_differences(void **state)
{
    (void)state;
    unsigned char base[32], k[32];
    for (int i = 0; i < 32; i++)
        base[i] = (unsigned char)('a' + i % 26);
    struct keyset s = { 0 };
    ks_add(&s, base, 32);
    for (int pos = 0; pos < 32; pos++)
        for (int v = 0; v < 256; v++) {
            if (v == base[pos])
                continue;
            memcpy(k, base, 32);
            k[pos] = (unsigned char)v;
            ks_add(&s, k, 32);
        }
    assert_int_equal(s.n, 1 + 32 * 255);
    oomkit_mph_close(build_ok(&s, NULL));
    ks_free(&s);
}

static void test_binary_keys_with_nul(void **state)
{
    (void)state;
    struct keyset s = { 0 };
    /* The empty key, every 1-byte and every 2-byte string: NUL bytes
     * everywhere, and keys that are prefixes of others. */
    ks_add(&s, "", 0);
    for (int a = 0; a < 256; a++) {
        unsigned char k1 = (unsigned char)a;
        ks_add(&s, &k1, 1);
    }
    for (int a = 0; a < 256; a++)
        for (int b = 0; b < 256; b++) {
            unsigned char k2[2] = { (unsigned char)a, (unsigned char)b };
            ks_add(&s, k2, 2);
        }
    ks_add(&s, "\0\0\0", 3);
    oomkit_mph_close(build_ok(&s, NULL));
    ks_free(&s);
}

/* Keys shaped like the workload's flattened namespace/name/key. */
static void add_state_keys(struct keyset *s, size_t n, uint64_t seed)
{
    static const char *fields[] = { "status.phase", "status.restartCount",
                                    "spec.containers.app.resources.limits.memory",
                                    "metadata.labels.app", "status.qosClass",
                                    "spec.replicas", "metadata.annotations.owner",
                                    "status.conditions.Ready" };
    uint64_t st = seed;
    for (size_t i = 0; s->n < n; i++) {
        uint64_t r = test_rand(&st);
        for (size_t f = 0; f < 8 && s->n < n; f++)
            ks_addf(s, "ns-%02u/app-%u-%010llx-%05zu/%s", (unsigned)(r % 97),
                    (unsigned)(r >> 60), (unsigned long long)(r >> 20), i, fields[f]);
    }
}

static void test_million_keys(void **state)
{
    (void)state;
    struct keyset s = { 0 };
    /* A million keys in the normal build; the sanitizer build, ten times
     * slower, checks a quarter of them so the suite stays short. */
#ifdef OOMKIT_ASAN
    add_state_keys(&s, 250000, 1);
#else
    add_state_keys(&s, 1000000, 1);
#endif
    oomkit_mph *m = build_ok(&s, NULL);
    oomkit_mph_stats st;
    assert_int_equal(oomkit_mph_stats_get(m, &st), 0);
    assert_true(st.parts > 1);
    assert_true(st.bits_per_key <= 2.7);
    /* The sections fill the blob but for 64-byte alignment padding. */
    uint64_t sum = st.bytes_header + st.bytes_parts + st.bytes_pilots + st.bytes_remap;
    assert_true(st.bytes_total >= sum && st.bytes_total - sum < 4 * 64);
    assert_int_equal(st.remap_entries, st.slots - st.keys);
    oomkit_mph_close(m);
    ks_free(&s);
}

static void test_duplicates_are_named(void **state)
{
    (void)state;
    struct keyset s = { 0 };
    for (int i = 0; i < 10; i++)
        ks_addf(&s, "key-%d", i);
    ks_addf(&s, "key-3"); /* index 10 repeats index 3 */
    ks_addf(&s, "key-7"); /* index 11 repeats index 7 */
    size_t at = 999;
    oomkit_mph_options o = { 0 };
    o.error_index = &at;
    oomkit_mph *m = (oomkit_mph *)&s; /* must stay untouched */
    assert_int_equal(oomkit_mph_build(s.k, s.n, &o, &m), -EEXIST);
    assert_int_equal(at, 10);
    assert_ptr_equal(m, (oomkit_mph *)&s);
    ks_free(&s);

    /* Many keys, one duplicate deep inside, the empty key twice. */
    add_state_keys(&s, 50000, 3);
    ks_add(&s, s.k[12345].ptr, s.k[12345].len);
    assert_int_equal(oomkit_mph_build(s.k, s.n, &o, &m), -EEXIST);
    assert_int_equal(at, 50000);
    ks_free(&s);
    ks_add(&s, "", 0);
    ks_add(&s, "x", 1);
    ks_add(&s, "", 0);
    assert_int_equal(oomkit_mph_build(s.k, s.n, &o, &m), -EEXIST);
    assert_int_equal(at, 2);
    ks_free(&s);
}

static void test_builds_are_byte_identical(void **state)
{
    (void)state;
    struct keyset s = { 0 };
    add_state_keys(&s, 60000, 5);
    oomkit_mph *a = build_ok(&s, NULL), *b = build_ok(&s, NULL);
    size_t la, lb;
    const void *ba = oomkit_mph_blob(a, &la), *bb = oomkit_mph_blob(b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(ba, bb, la);

    /* The same keys in another order give the same function. */
    struct keyset r = { 0 };
    for (size_t i = s.n; i-- > 0;)
        ks_add(&r, s.k[(i * 7919) % s.n].ptr, s.k[(i * 7919) % s.n].len);
    oomkit_mph *c = build_ok(&r, NULL);
    size_t lc;
    const void *bc = oomkit_mph_blob(c, &lc);
    assert_int_equal(la, lc);
    assert_memory_equal(ba, bc, la);

    /* Another seed gives another, equally valid function. */
    oomkit_mph_options o = { 0 };
    o.seed = 42;
    oomkit_mph *d = build_ok(&s, &o);
    size_t ld;
    const void *bd = oomkit_mph_blob(d, &ld);
    assert_true(ld != la || memcmp(ba, bd, la) != 0);
    oomkit_mph_stats st;
    assert_int_equal(oomkit_mph_stats_get(d, &st), 0);
    assert_int_equal(st.seed, 42);
    assert_int_equal(st.build_ns, 0);

    o.record_build_time = 1;
    oomkit_mph *e = build_ok(&s, &o);
    assert_int_equal(oomkit_mph_stats_get(e, &st), 0);
    assert_true(st.build_ns > 0);
    oomkit_mph_close(a);
    oomkit_mph_close(b);
    oomkit_mph_close(c);
    oomkit_mph_close(d);
    oomkit_mph_close(e);
    ks_free(&s);
    ks_free(&r);
}

static void test_bad_options(void **state)
{
    (void)state;
    struct keyset s = { 0 };
    ks_add(&s, "a", 1);
    oomkit_mph *m = NULL;
    oomkit_mph_options o = { 0 };
    o.keys_per_bucket = 0.5;
    assert_int_equal(oomkit_mph_build(s.k, s.n, &o, &m), -EINVAL);
    o.keys_per_bucket = 0;
    o.load_factor = 1.0;
    assert_int_equal(oomkit_mph_build(s.k, s.n, &o, &m), -EINVAL);
    o.load_factor = 0.3;
    assert_int_equal(oomkit_mph_build(s.k, s.n, &o, &m), -EINVAL);
    o.load_factor = 0;
    o.keys_per_part = 3;
    assert_int_equal(oomkit_mph_build(s.k, s.n, &o, &m), -EINVAL);
    assert_int_equal(oomkit_mph_build(s.k, s.n, NULL, NULL), -EINVAL);
    oomkit_str bad = { NULL, 5 };
    assert_int_equal(oomkit_mph_build(&bad, 1, NULL, &m), -EINVAL);
    assert_int_equal(oomkit_mph_build(NULL, 3, NULL, &m), -EINVAL);
    assert_null(m);
    ks_free(&s);
}

static void test_hopeless_parameters_end_with_einval(void **state)
{
    (void)state;
    /* 32 keys per bucket on average puts hundreds in the first buckets,
     * which one byte of pilot cannot place: every seed fails, and the build
     * stops after max_attempts with -EINVAL instead of searching forever. */
    struct keyset s = { 0 };
    add_state_keys(&s, 20000, 9);
    oomkit_mph_options o = { 0 };
    o.keys_per_bucket = 32;
    o.load_factor = 0.999;
    o.max_attempts = 3;
    oomkit_mph *m = NULL;
    assert_int_equal(oomkit_mph_build(s.k, s.n, &o, &m), -EINVAL);
    assert_null(m);
    ks_free(&s);
}

static void test_small_parts(void **state)
{
    (void)state;
    struct keyset s = { 0 };
    add_state_keys(&s, 30000, 11);
    oomkit_mph_options o = { 0 };
    o.keys_per_part = 100;
    oomkit_mph *m = build_ok(&s, &o);
    oomkit_mph_stats st;
    assert_int_equal(oomkit_mph_stats_get(m, &st), 0);
    assert_int_equal(st.parts, 300);
    oomkit_mph_close(m);
    ks_free(&s);
}

struct failing {
    long calls, fail_at;
};
static void *f_malloc(size_t n, void *ctx)
{
    struct failing *f = ctx;
    return ++f->calls == f->fail_at ? NULL : malloc(n);
}
static void *f_realloc(void *p, size_t n, void *ctx)
{
    struct failing *f = ctx;
    return ++f->calls == f->fail_at ? NULL : realloc(p, n);
}
static void f_free(void *p, void *ctx)
{
    (void)ctx;
    free(p);
}

static void test_allocation_failures(void **state)
{
    (void)state;
    struct keyset s = { 0 };
    add_state_keys(&s, 5000, 13);
    struct failing f = { 0, 0 };
    oomkit_allocator a = { f_malloc, f_realloc, f_free, &f };
    int saw_enomem = 0, saw_ok = 0;
    for (long at = 1; at < 40 && !saw_ok; at++) {
        f = (struct failing){ 0, at };
        oomkit_set_allocator(&a);
        oomkit_mph *m = NULL;
        int rc = oomkit_mph_build(s.k, s.n, NULL, &m);
        oomkit_set_allocator(NULL);
        if (rc == 0) {
            saw_ok = 1;
            assert_bijection(m, &s);
            oomkit_mph_close(m);
        } else {
            assert_int_equal(rc, -ENOMEM);
            assert_null(m);
            saw_enomem = 1;
        }
    }
    assert_true(saw_enomem);
    assert_true(saw_ok);
    ks_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_set),
        cmocka_unit_test(test_one_and_two_keys),
        cmocka_unit_test(test_pod_names),
        cmocka_unit_test(test_long_shared_prefixes),
        cmocka_unit_test(test_one_byte_differences),
        cmocka_unit_test(test_binary_keys_with_nul),
        cmocka_unit_test(test_million_keys),
        cmocka_unit_test(test_duplicates_are_named),
        cmocka_unit_test(test_builds_are_byte_identical),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_hopeless_parameters_end_with_einval),
        cmocka_unit_test(test_small_parts),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests_name("mph_build", tests, NULL, NULL);
}
