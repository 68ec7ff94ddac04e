/* Tests of the blob format (src/mph/blob.c): save and open round-trip
 * through a real file and mmap, every corruption and truncation is
 * -EBADMSG, and a function file and a map file are told apart. */
#include "mph_test_util.h"

#include <unistd.h>

static void temp_path(char *buf, size_t cap, const char *tag)
{
    const char *dir = getenv("TMPDIR");
    snprintf(buf, cap, "%s/oomkit-test-mph-%s-%ld", dir && *dir ? dir : "/tmp", tag,
             (long)getpid());
}

static void add_keys(struct keyset *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ks_addf(s, "team-%zu/checkout-api-%08zx/status.restartCount", i % 13, i * 2654435761u);
}

static void *aligned_copy(const void *p, size_t len)
{
    void *q = NULL;
    assert_int_equal(posix_memalign(&q, 64, len ? len : 1), 0);
    memcpy(q, p, len);
    return q;
}

static void test_save_open_round_trip(void **state)
{
    (void)state;
    struct keyset s = { 0 };
    add_keys(&s, 50000);
    oomkit_mph *m = NULL;
    assert_int_equal(oomkit_mph_build(s.k, s.n, NULL, &m), 0);
    char path[512];
    temp_path(path, sizeof(path), "rt");
    assert_int_equal(oomkit_mph_save(m, path), 0);
    oomkit_mph *o = NULL;
    assert_int_equal(oomkit_mph_open(path, &o), 0);
    assert_bijection(o, &s);
    for (size_t i = 0; i < s.n; i++)
        assert_int_equal(oomkit_mph_index(o, s.k[i]), oomkit_mph_index(m, s.k[i]));
    size_t la, lb;
    const void *a = oomkit_mph_blob(m, &la), *b = oomkit_mph_blob(o, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    oomkit_mph_stats sa, sb;
    assert_int_equal(oomkit_mph_stats_get(m, &sa), 0);
    assert_int_equal(oomkit_mph_stats_get(o, &sb), 0);
    assert_memory_equal(&sa, &sb, sizeof(sa));
    /* Saving again over a mapped file keeps the old mapping valid. */
    assert_int_equal(oomkit_mph_save(m, path), 0);
    assert_bijection(o, &s);
    oomkit_mph_close(o);
    unlink(path);

    /* The empty function round-trips too. */
    oomkit_mph *e = NULL;
    assert_int_equal(oomkit_mph_build(NULL, 0, NULL, &e), 0);
    assert_int_equal(oomkit_mph_save(e, path), 0);
    assert_int_equal(oomkit_mph_open(path, &o), 0);
    assert_int_equal(oomkit_mph_size(o), 0);
    oomkit_mph_close(o);
    oomkit_mph_close(e);
    unlink(path);
    oomkit_mph_close(m);
    ks_free(&s);
}

static void test_missing_and_empty_files(void **state)
{
    (void)state;
    char path[512];
    temp_path(path, sizeof(path), "none");
    unlink(path);
    oomkit_mph *o = NULL;
    assert_int_equal(oomkit_mph_open(path, &o), -ENOENT);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(oomkit_mph_open(path, &o), -EBADMSG);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("this is not a minimal perfect hash, but it is long enough to hold a header "
          "of one hundred and twenty-eight bytes, or so one would hope, yes.",
          f);
    fclose(f);
    assert_int_equal(oomkit_mph_open(path, &o), -EBADMSG);
    assert_null(o);
    unlink(path);
    /* A directory says so; any other file that is not regular is -EINVAL. */
    assert_int_equal(oomkit_mph_open("/", &o), -EISDIR);
    assert_int_equal(oomkit_mph_open("/dev/null", &o), -EINVAL);
}

static void test_every_corruption_is_rejected(void **state)
{
    (void)state;
    struct keyset s = { 0 };
    add_keys(&s, 300);
    oomkit_mph *m = NULL;
    assert_int_equal(oomkit_mph_build(s.k, s.n, NULL, &m), 0);
    size_t len;
    const uint8_t *blob = oomkit_mph_blob(m, &len);
    uint8_t *copy = aligned_copy(blob, len);
    oomkit_mph *o = NULL;
    assert_int_equal(oomkit_mph_from_buffer(copy, len, &o), 0);
    oomkit_mph_close(o);
    /* Flip each bit of each byte in turn: the checksums catch it. */
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            copy[i] ^= (uint8_t)(1u << bit);
            o = NULL;
            int rc = oomkit_mph_from_buffer(copy, len, &o);
            if (rc != -EBADMSG)
                fail_msg("flipping bit %d of byte %zu: %d", bit, i, rc);
            copy[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* Every truncation, and one byte too many. */
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(oomkit_mph_from_buffer(copy, cut, &o), -EBADMSG);
    uint8_t *longer = calloc(1, len + 8);
    memcpy(longer, blob, len);
    assert_int_equal(oomkit_mph_from_buffer(longer, len + 1, &o), -EBADMSG);
    free(longer);
    /* A misaligned buffer is the caller's error, not corruption. */
    uint8_t *mis = malloc(len + 1);
    memcpy(mis + 1, blob, len);
    assert_int_equal(oomkit_mph_from_buffer(mis + 1, len, &o), -EINVAL);
    free(mis);
    free(copy);
    oomkit_mph_close(m);
    ks_free(&s);
}

static void test_truncated_file_is_rejected(void **state)
{
    (void)state;
    struct keyset s = { 0 };
    add_keys(&s, 1000);
    oomkit_mph *m = NULL;
    assert_int_equal(oomkit_mph_build(s.k, s.n, NULL, &m), 0);
    char path[512];
    temp_path(path, sizeof(path), "trunc");
    assert_int_equal(oomkit_mph_save(m, path), 0);
    size_t len;
    oomkit_mph_blob(m, &len);
    assert_int_equal(truncate(path, (off_t)(len - 1)), 0);
    oomkit_mph *o = NULL;
    assert_int_equal(oomkit_mph_open(path, &o), -EBADMSG);
    assert_int_equal(truncate(path, 100), 0);
    assert_int_equal(oomkit_mph_open(path, &o), -EBADMSG);
    unlink(path);
    oomkit_mph_close(m);
    ks_free(&s);
}

static void test_function_and_map_files(void **state)
{
    (void)state;
    struct keyset s = { 0 };
    add_keys(&s, 2000);
    int64_t *vals = malloc(s.n * sizeof(*vals));
    for (size_t i = 0; i < s.n; i++)
        vals[i] = (int64_t)i * 3 - 1000;
    oomkit_static_map *map = NULL;
    assert_int_equal(oomkit_static_map_build(s.k, vals, s.n, NULL, &map), 0);
    oomkit_mph *fn = NULL;
    assert_int_equal(oomkit_mph_build(s.k, s.n, NULL, &fn), 0);
    char pm[512], pf[512];
    temp_path(pm, sizeof(pm), "map");
    temp_path(pf, sizeof(pf), "fn");
    assert_int_equal(oomkit_static_map_save(map, pm), 0);
    assert_int_equal(oomkit_mph_save(fn, pf), 0);

    /* A map file opens as a map, and as its function. */
    oomkit_static_map *m2 = NULL;
    assert_int_equal(oomkit_static_map_open(pm, &m2), 0);
    for (size_t i = 0; i < s.n; i++) {
        int64_t v = 0;
        assert_int_equal(oomkit_static_map_get(m2, s.k[i], &v), 0);
        assert_int_equal(v, vals[i]);
    }
    oomkit_mph *f2 = NULL;
    assert_int_equal(oomkit_mph_open(pm, &f2), 0);
    assert_bijection(f2, &s);
    assert_bijection(oomkit_static_map_mph(m2), &s);
    oomkit_mph_stats st;
    assert_int_equal(oomkit_mph_stats_get(f2, &st), 0);
    assert_int_equal(st.kind, 2);
    assert_int_equal(st.fingerprint_bits, 16);
    assert_int_equal(st.bytes_values, s.n * 8);
    oomkit_mph_close(f2);
    oomkit_static_map_close(m2);

    /* A function file is not a map. */
    oomkit_static_map *m3 = NULL;
    assert_int_equal(oomkit_static_map_open(pf, &m3), -EINVAL);
    assert_null(m3);
    unlink(pm);
    unlink(pf);
    oomkit_static_map_close(map);
    oomkit_mph_close(fn);
    free(vals);
    ks_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_open_round_trip),
        cmocka_unit_test(test_missing_and_empty_files),
        cmocka_unit_test(test_every_corruption_is_rejected),
        cmocka_unit_test(test_truncated_file_is_rejected),
        cmocka_unit_test(test_function_and_map_files),
    };
    return cmocka_run_group_tests_name("mph_blob", tests, NULL, NULL);
}
