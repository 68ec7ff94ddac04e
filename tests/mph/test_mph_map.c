/* Tests of static maps (src/mph/map.c): values come back, keys outside the
 * set are rejected at the fingerprint's rate (checked statistically), kept
 * keys make answers exact, and the TSV builder parses, names bad lines and
 * duplicates by line number. */
#include "mph_test_util.h"

#include <math.h>

#include "oomkit/store.h"

static void add_members(struct keyset *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ks_addf(s, "prod-%zu/payments-api-%06zx-x2x8k/spec.containers.app.resources.limits."
                   "memory", i % 31, i);
}

static void add_strangers(struct keyset *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ks_addf(s, "staging-%zu/payments-api-%06zx-x2x8k/spec.containers.app.resources.limits."
                   "memory", i % 31, i);
}

static oomkit_static_map *build_map(const struct keyset *s, const int64_t *vals,
                                    uint32_t fp_bits, int keep)
{
    oomkit_static_map_options o;
    memset(&o, 0, sizeof(o));
    o.fingerprint_bits = fp_bits;
    o.keep_keys = keep;
    oomkit_static_map *m = NULL;
    int rc = oomkit_static_map_build(s->k, vals, s->n, &o, &m);
    if (rc != 0)
        fail_msg("map build: %s", oomkit_strerror(rc));
    return m;
}

static size_t count_found(const oomkit_static_map *m, const struct keyset *q)
{
    size_t hits = 0;
    for (size_t i = 0; i < q->n; i++)
        hits += oomkit_static_map_get(m, q->k[i], NULL) == 0;
    return hits;
}

static void test_values_come_back(void **state)
{
    (void)state;
    struct keyset s = { 0 };
    add_members(&s, 100000);
    int64_t *vals = malloc(s.n * sizeof(*vals));
    uint64_t st = 77;
    for (size_t i = 0; i < s.n; i++)
        vals[i] = (int64_t)test_rand(&st);
    vals[0] = INT64_MIN;
    vals[1] = INT64_MAX;
    oomkit_static_map *m = build_map(&s, vals, 16, 0);
    int64_t *got = malloc(s.n * sizeof(*got));
    uint8_t *found = malloc(s.n);
    assert_int_equal(oomkit_static_map_get_many(m, s.k, s.n, got, found), s.n);
    for (size_t i = 0; i < s.n; i++) {
        int64_t v = 0;
        assert_int_equal(oomkit_static_map_get(m, s.k[i], &v), 0);
        assert_int_equal(v, vals[i]);
        assert_int_equal(got[i], vals[i]);
        assert_int_equal(found[i], 1);
    }
    assert_bijection(oomkit_static_map_mph(m), &s);
    oomkit_static_map_close(m);
    free(got);
    free(found);
    free(vals);
    ks_free(&s);
}

/* Checks that `hits` of `trials` agrees with rate p within 6 standard
 * deviations (plus one for tiny expectations). */
static void assert_rate(size_t hits, size_t trials, double p, const char *what)
{
    double mean = (double)trials * p;
    double sd = sqrt((double)trials * p * (1 - p));
    double lo = mean - 6 * sd - 1, hi = mean + 6 * sd + 1;
    if ((double)hits < lo || (double)hits > hi)
        fail_msg("%s: %zu of %zu non-members found, expected %.1f (%.1f..%.1f)", what, hits,
                 trials, mean, lo, hi);
}

static void test_false_positive_rates(void **state)
{
    (void)state;
    struct keyset s = { 0 }, q = { 0 };
    add_members(&s, 50000);
    add_strangers(&q, 100000);
    int64_t *vals = calloc(s.n, sizeof(*vals));
    static const uint32_t widths[] = { 1, 7, 16 };
    for (size_t w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
        oomkit_static_map *m = build_map(&s, vals, widths[w], 0);
        size_t hits = count_found(m, &q);
        char what[32];
        snprintf(what, sizeof(what), "%u-bit fingerprints", widths[w]);
        assert_rate(hits, q.n, ldexp(1.0, -(int)widths[w]), what);
        /* Members are always found. */
        assert_int_equal(count_found(m, &s), s.n);
        /* The batched path gives the same answers. */
        int64_t *got = malloc(q.n * sizeof(*got));
        uint8_t *found = malloc(q.n);
        assert_int_equal(oomkit_static_map_get_many(m, q.k, q.n, got, found), hits);
        for (size_t i = 0; i < q.n; i++)
            assert_int_equal(found[i], oomkit_static_map_get(m, q.k[i], NULL) == 0);
        free(got);
        free(found);
        oomkit_static_map_close(m);
    }
    /* No fingerprint, no keys: every lookup finds something. */
    oomkit_static_map *m = build_map(&s, vals, 0, 0);
    assert_int_equal(count_found(m, &q), q.n);
    oomkit_static_map_close(m);
    /* Kept keys: exact, with or without a fingerprint in front. */
    m = build_map(&s, vals, 0, 1);
    assert_int_equal(count_found(m, &q), 0);
    assert_int_equal(count_found(m, &s), s.n);
    oomkit_static_map_close(m);
    m = build_map(&s, vals, 8, 1);
    assert_int_equal(count_found(m, &q), 0);
    assert_int_equal(count_found(m, &s), s.n);
    oomkit_static_map_close(m);
    free(vals);
    ks_free(&s);
    ks_free(&q);
}

static void test_exact_binary_keys(void **state)
{
    (void)state;
    struct keyset s = { 0 };
    ks_add(&s, "", 0);
    ks_add(&s, "\0", 1);
    ks_add(&s, "\0\0", 2);
    ks_add(&s, "a\0b", 3);
    ks_add(&s, "a\0c", 3);
    int64_t vals[5] = { 10, 11, 12, 13, 14 };
    oomkit_static_map *m = build_map(&s, vals, 0, 1);
    for (size_t i = 0; i < s.n; i++) {
        int64_t v = -1;
        assert_int_equal(oomkit_static_map_get(m, s.k[i], &v), 0);
        assert_int_equal(v, vals[i]);
    }
    int64_t v = 99;
    assert_int_equal(oomkit_static_map_get(m, (oomkit_str){ "a\0d", 3 }, &v), -ENOENT);
    assert_int_equal(oomkit_static_map_get(m, (oomkit_str){ "\0\0\0", 3 }, &v), -ENOENT);
    assert_int_equal(v, 99);
    oomkit_static_map_close(m);
    ks_free(&s);
}

static void test_map_errors(void **state)
{
    (void)state;
    struct keyset s = { 0 };
    ks_add(&s, "a", 1);
    ks_add(&s, "b", 1);
    ks_add(&s, "a", 1);
    int64_t vals[3] = { 1, 2, 3 };
    oomkit_static_map_options o;
    memset(&o, 0, sizeof(o));
    size_t at = 0;
    o.mph.error_index = &at;
    oomkit_static_map *m = NULL;
    assert_int_equal(oomkit_static_map_build(s.k, vals, s.n, &o, &m), -EEXIST);
    assert_int_equal(at, 2);
    o.fingerprint_bits = 33;
    assert_int_equal(oomkit_static_map_build(s.k, vals, 2, &o, &m), -EINVAL);
    assert_int_equal(oomkit_static_map_build(s.k, NULL, 2, NULL, &m), -EINVAL);
    assert_null(m);
    /* The empty map finds nothing. */
    assert_int_equal(oomkit_static_map_build(NULL, NULL, 0, NULL, &m), 0);
    assert_int_equal(oomkit_static_map_get(m, OOMKIT_STR("a"), NULL), -ENOENT);
    oomkit_static_map_close(m);
    ks_free(&s);
}

static oomkit_static_map *tsv_map(const char *text, int rc_want, size_t line_want)
{
    oomkit_static_map_options o;
    memset(&o, 0, sizeof(o));
    o.fingerprint_bits = 16;
    o.keep_keys = 1;
    size_t at = 0;
    o.mph.error_index = &at;
    oomkit_static_map *m = NULL;
    int rc = oomkit_static_map_build_tsv(oomkit_cstr(text), &o, &m);
    if (rc != rc_want)
        fail_msg("tsv build: %d, wanted %d", rc, rc_want);
    if (rc != 0)
        assert_int_equal(at, line_want);
    return m;
}

static void test_tsv(void **state)
{
    (void)state;
    oomkit_static_map *m =
        tsv_map("# workload\n"
                "prod\tcheckout-7c5d\tstatus.restartCount\t3\n"
                "prod\tcheckout-7c5d\tspec.replicas\t-12\r\n"
                "\n"
                "plain-key\t9223372036854775807\n"
                "neg\t-9223372036854775808\n"
                "plus\t+5\n"
                "no-newline-at-end\t42",
                0, 0);
    int64_t v = 0;
    assert_int_equal(oomkit_static_map_get(m, OOMKIT_STR("prod/checkout-7c5d/status.restartCount"), &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(oomkit_static_map_get(m, OOMKIT_STR("prod/checkout-7c5d/spec.replicas"), &v), 0);
    assert_int_equal(v, -12);
    assert_int_equal(oomkit_static_map_get(m, OOMKIT_STR("plain-key"), &v), 0);
    assert_int_equal(v, INT64_MAX);
    assert_int_equal(oomkit_static_map_get(m, OOMKIT_STR("neg"), &v), 0);
    assert_int_equal(v, INT64_MIN);
    assert_int_equal(oomkit_static_map_get(m, OOMKIT_STR("plus"), &v), 0);
    assert_int_equal(v, 5);
    assert_int_equal(oomkit_static_map_get(m, OOMKIT_STR("no-newline-at-end"), &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(oomkit_static_map_get(m, OOMKIT_STR("# workload"), &v), -ENOENT);
    assert_int_equal(oomkit_mph_size(oomkit_static_map_mph(m)), 6);
    oomkit_static_map_close(m);

    assert_null(tsv_map("a\t1\nb\t2\nno tab here\n", -EINVAL, 3));
    assert_null(tsv_map("a\t1\nb\t9223372036854775808\n", -EINVAL, 2));
    assert_null(tsv_map("a\t1\nb\t12x\n", -EINVAL, 2));
    assert_null(tsv_map("a\t\n", -EINVAL, 1));
    assert_null(tsv_map("a\t1\nb\t2\n\n# c\na\t3\n", -EEXIST, 5));
    assert_null(tsv_map("x\ty\t1\nx/y\t2\n", -EEXIST, 2));
    m = tsv_map("", 0, 0);
    assert_int_equal(oomkit_mph_size(oomkit_static_map_mph(m)), 0);
    oomkit_static_map_close(m);
}

static void test_from_store(void **state)
{
    (void)state;
    oomkit_store *st = NULL;
    assert_int_equal(oomkit_store_open(NULL, &st), 0);
    char name[64], key[64];
    size_t puts = 0;
    for (int ns = 0; ns < 3; ns++)
        for (int o = 0; o < 200; o++)
            for (int k = 0; k < 1 + (o % 5); k++) {
                snprintf(name, sizeof(name), "app-%d-%04d", ns, o);
                snprintf(key, sizeof(key), "status.field%d", k);
                char nsb[16];
                snprintf(nsb, sizeof(nsb), "ns%d", ns);
                assert_int_equal(oomkit_store_put(st, oomkit_cstr(nsb), oomkit_cstr(name),
                                                  oomkit_cstr(key), ns * 100000 + o * 10 + k),
                                 0);
                puts++;
            }
    oomkit_static_map_options o;
    memset(&o, 0, sizeof(o));
    o.keep_keys = 1;
    oomkit_static_map *all = NULL, *one = NULL, *none = NULL;
    assert_int_equal(oomkit_static_map_build_store(st, (oomkit_str){ NULL, 0 }, &o, &all), 0);
    assert_int_equal(oomkit_mph_size(oomkit_static_map_mph(all)), puts);
    assert_int_equal(oomkit_static_map_build_store(st, OOMKIT_STR("ns1"), &o, &one), 0);
    assert_int_equal(oomkit_mph_size(oomkit_static_map_mph(one)), puts / 3);
    assert_int_equal(oomkit_static_map_build_store(st, OOMKIT_STR("nope"), &o, &none), 0);
    assert_int_equal(oomkit_mph_size(oomkit_static_map_mph(none)), 0);
    int64_t v = 0;
    assert_int_equal(oomkit_static_map_get(all, OOMKIT_STR("ns2/app-2-0007/status.field1"), &v), 0);
    assert_int_equal(v, 200071);
    assert_int_equal(oomkit_static_map_get(one, OOMKIT_STR("ns1/app-1-0199/status.field4"), &v), 0);
    assert_int_equal(v, 101994);
    assert_int_equal(oomkit_static_map_get(one, OOMKIT_STR("ns2/app-2-0007/status.field1"), &v),
                     -ENOENT);
    /* The map is a snapshot: later writes do not show. */
    assert_int_equal(oomkit_store_put(st, OOMKIT_STR("ns1"), OOMKIT_STR("app-1-0199"),
                                      OOMKIT_STR("status.field4"), -1), 0);
    assert_int_equal(oomkit_static_map_get(one, OOMKIT_STR("ns1/app-1-0199/status.field4"), &v), 0);
    assert_int_equal(v, 101994);
    oomkit_static_map_close(all);
    oomkit_static_map_close(one);
    oomkit_static_map_close(none);
    oomkit_store_close(st);
}

/* What a careless caller may pass: NULL handles and arrays, a key with a
 * NULL ptr, lengths that run off the address space, a huge namespace and a
 * part size far above the key count. Each is refused or answered as the
 * header says, never a crash or a huge allocation. */
static void test_hostile_arguments(void **state)
{
    (void)state;
    struct keyset s = { 0 };
    char buf[16];
    for (int i = 0; i < 40; i++)
        ks_add(&s, buf, (size_t)snprintf(buf, sizeof(buf), "key-%d", i));
    int64_t vals[40] = { 0 };
    oomkit_static_map_options o;
    memset(&o, 0, sizeof(o));
    o.mph.keys_per_part = UINT32_MAX; /* sized 64 GiB of scratch before */
    o.keep_keys = 1;                  /* exact answers */
    oomkit_static_map *m = NULL;
    assert_int_equal(oomkit_static_map_build(s.k, vals, s.n, &o, &m), 0);
    const oomkit_mph *fn = oomkit_static_map_mph(m);
    oomkit_str null_key = { NULL, 5 };
    int64_t v = 7;
    assert_int_equal(oomkit_static_map_get(m, null_key, &v), -EINVAL);
    assert_int_equal(oomkit_static_map_get(NULL, OOMKIT_STR("key-1"), &v), -EINVAL);
    assert_int_equal(v, 7);
    assert_true(oomkit_mph_index(fn, null_key) < 40);
    assert_int_equal(oomkit_mph_index(NULL, OOMKIT_STR("key-1")), 0);
    assert_int_equal(oomkit_mph_size(NULL), 0);
    size_t len = 9;
    assert_null(oomkit_mph_blob(NULL, &len));
    assert_int_equal(len, 0);
    assert_null(oomkit_static_map_mph(NULL));
    oomkit_str keys[3] = { OOMKIT_STR("key-1"), null_key, OOMKIT_STR("key-2") };
    uint64_t out[3] = { 9, 9, 9 };
    oomkit_mph_index_many(fn, keys, 3, NULL);
    oomkit_mph_index_many(NULL, keys, 3, out);
    assert_true(out[0] == 0 && out[1] == 0 && out[2] == 0);
    oomkit_mph_index_many(fn, keys, 3, out);
    assert_int_equal(out[0], oomkit_mph_index(fn, keys[0]));
    assert_int_equal(out[1], oomkit_mph_index(fn, OOMKIT_STR("")));
    int64_t got[3];
    uint8_t found[3] = { 1, 1, 1 };
    assert_int_equal(oomkit_static_map_get_many(NULL, keys, 3, got, found), 0);
    assert_true(found[0] == 0 && found[1] == 0 && found[2] == 0);
    assert_int_equal(oomkit_static_map_get_many(m, keys, 3, got, NULL), 0);
    assert_int_equal(oomkit_static_map_get_many(m, keys, 3, got, found), 2);
    assert_int_equal(found[1], 0);
    oomkit_static_map_close(m);

    oomkit_static_map *t = NULL;
    assert_int_equal(oomkit_static_map_build_tsv((oomkit_str){ "a\t1\n", SIZE_MAX }, NULL, &t),
                     -EINVAL);
    oomkit_store *st = NULL;
    assert_int_equal(oomkit_store_open(NULL, &st), 0);
    assert_int_equal(oomkit_static_map_build_store(st, (oomkit_str){ "x", SIZE_MAX }, NULL, &t),
                     -EINVAL);
    assert_int_equal(oomkit_static_map_build_store(st, (oomkit_str){ "x", SIZE_MAX - 1 }, NULL, &t),
                     -EINVAL);
    assert_null(t);
    oomkit_store_close(st);
    ks_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_come_back),
        cmocka_unit_test(test_false_positive_rates),
        cmocka_unit_test(test_exact_binary_keys),
        cmocka_unit_test(test_map_errors),
        cmocka_unit_test(test_tsv),
        cmocka_unit_test(test_from_store),
        cmocka_unit_test(test_hostile_arguments),
    };
    return cmocka_run_group_tests_name("mph_map", tests, NULL, NULL);
}
