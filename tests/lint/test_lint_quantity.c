/* Unit tests of the linter's size grammars: every Kubernetes quantity form,
 * Go's GOMEMLIMIT, HotSpot sizes, OOMKIT_PROF sizes, decimals, and the
 * exact comparisons the rules rely on. Expected byte counts are worked out
 * by hand in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lint/quantity.h"

struct qcase {
    const char *text;
    int rc;
    uint64_t bytes;
    bool whole;
};

static void run_cases(const struct qcase *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t b = 12345;
        bool whole = false;
        int rc = oomkit__lint_quantity_parse(cases[i].text, strlen(cases[i].text), &b, &whole);
        if (rc != cases[i].rc || (rc == 0 && (b != cases[i].bytes || whole != cases[i].whole)))
            fprintf(stderr, "quantity \"%s\": rc %d bytes %llu whole %d; want rc %d bytes %llu "
                            "whole %d\n",
                    cases[i].text, rc, (unsigned long long)b, whole, cases[i].rc,
                    (unsigned long long)cases[i].bytes, cases[i].whole);
        assert_int_equal(rc, cases[i].rc);
        if (rc == 0) {
            assert_int_equal(b, cases[i].bytes);
            assert_int_equal(whole, cases[i].whole);
        }
    }
}

static void test_quantity_binary_si(void **state)
{
    (void)state;
    static const struct qcase c[] = {
        { "1Ki", 0, 1024, true },
        { "512Mi", 0, 512ull << 20, true },
        { "1Gi", 0, 1ull << 30, true },
        { "1.5Gi", 0, 1610612736ull, true }, /* 3 * 2^29 */
        { "0.75Gi", 0, 768ull << 20, true },
        { ".5Gi", 0, 512ull << 20, true },
        { "512.Mi", 0, 512ull << 20, true },
        { "2Ti", 0, 2ull << 40, true },
        { "0.5Pi", 0, 1ull << 49, true },
        { "7Ei", 0, 7ull << 60, true },
        { "8Ei", -ERANGE, 0, true }, /* 2^63 > INT64_MAX */
        { "1.1Ki", 0, 1127, false }, /* 1126.4 rounds up */
        { "0.001Pi", 0, 1125899906843ull, false }, /* 2^50 / 1000 = 1125899906842.624 */
    };
    run_cases(c, sizeof(c) / sizeof(c[0]));
}

static void test_quantity_decimal_si(void **state)
{
    (void)state;
    static const struct qcase c[] = {
        { "0", 0, 0, true },
        { "1000", 0, 1000, true },
        { "100k", 0, 100000, true },
        { "1M", 0, 1000000, true },
        { "1.2G", 0, 1200000000, true },
        { "1T", 0, 1000000000000ull, true },
        { "0.001P", 0, 1000000000000ull, true },
        { "1E", 0, 1000000000000000000ull, true },
        { "9.3E", -ERANGE, 0, true },
        { "400m", 0, 1, false },               /* 0.4 bytes */
        { "1000m", 0, 1, true },
        { "1500m", 0, 2, false },
        { "1000000000000m", 0, 1000000000, true },
        { "1000000000000000u", 0, 1000000000, true },
        { "1000000000000000000n", 0, 1000000000, true },
        { "1n", 0, 1, false },
        { "+256Mi", 0, 256ull << 20, true },
        { "-0", 0, 0, true },
        { "00012", 0, 12, true },
        { "1.000000000000000000000000000000000000000000000000", 0, 1, true }, /* zeros free */
        { "100000000000000000000000000000000000000000e-30", 0, 100000000000ull, true },
    };
    run_cases(c, sizeof(c) / sizeof(c[0]));
}

static void test_quantity_exponents(void **state)
{
    (void)state;
    static const struct qcase c[] = {
        { "1e9", 0, 1000000000, true },
        { "1E9", 0, 1000000000, true },
        { "5e+8", 0, 500000000, true },
        { "1.5e3", 0, 1500, true },
        { "6000000000e-1", 0, 600000000, true },
        { "1e-3", 0, 1, false },
        { "12e0", 0, 12, true },
        { "1e18", 0, 1000000000000000000ull, true },
        { "1e19", -ERANGE, 0, true },
        { "1e-400", 0, 1, false },      /* beyond 10^-38: the long double path */
        { "1e999999999", -ERANGE, 0, true },
        { "0e999999", 0, 0, true },
    };
    run_cases(c, sizeof(c) / sizeof(c[0]));
}

static void test_quantity_invalid(void **state)
{
    (void)state;
    static const struct qcase c[] = {
        { "", -EINVAL, 0, true },       { "Mi", -EINVAL, 0, true },
        { "512MB", -EINVAL, 0, true },  { "1gi", -EINVAL, 0, true },
        { "2GiB", -EINVAL, 0, true },   { "1MI", -EINVAL, 0, true },
        { "2 Gi", -EINVAL, 0, true },   { " 1Gi", -EINVAL, 0, true },
        { "1Gi ", -EINVAL, 0, true },   { "1e", -EINVAL, 0, true },
        { "1e+", -EINVAL, 0, true },    { "1E-", -EINVAL, 0, true },
        { "1.2.3", -EINVAL, 0, true },  { ".", -EINVAL, 0, true },
        { "+", -EINVAL, 0, true },      { "1K", -EINVAL, 0, true },
        { "1ki", -EINVAL, 0, true },    { "1e1.5", -EINVAL, 0, true },
        { "0x10", -EINVAL, 0, true },   { "1_000", -EINVAL, 0, true },
        { "-1Gi", -EDOM, 0, true },     { "-0.5", -EDOM, 0, true },
        { "100Ei", -ERANGE, 0, true },
        { "123456789012345678901234567890123456789", -ERANGE, 0, true }, /* 39 digits */
    };
    run_cases(c, sizeof(c) / sizeof(c[0]));
}

static void test_go_bytes(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(oomkit__lint_go_bytes_parse("900MiB", 6, &v), 0);
    assert_int_equal(v, 900ull << 20);
    assert_int_equal(oomkit__lint_go_bytes_parse("123", 3, &v), 0);
    assert_int_equal(v, 123);
    assert_int_equal(oomkit__lint_go_bytes_parse("123B", 4, &v), 0);
    assert_int_equal(v, 123);
    assert_int_equal(oomkit__lint_go_bytes_parse("2KiB", 4, &v), 0);
    assert_int_equal(v, 2048);
    assert_int_equal(oomkit__lint_go_bytes_parse("3GiB", 4, &v), 0);
    assert_int_equal(v, 3ull << 30);
    assert_int_equal(oomkit__lint_go_bytes_parse("1TiB", 4, &v), 0);
    assert_int_equal(v, 1ull << 40);
    static const char *bad[] = { "", "B", "iB", "KiB", "1PiB", "1.5GiB", "900M", "1G", "1Gi",
                                 "-1", "+1", "1 GiB", "off", "1kiB", "1KB" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_not_equal(oomkit__lint_go_bytes_parse(bad[i], strlen(bad[i]), &v), 0);
    assert_int_equal(oomkit__lint_go_bytes_parse("9223372036854775808", 19, &v), -ERANGE);
    assert_int_equal(oomkit__lint_go_bytes_parse("8388608TiB", 10, &v), -ERANGE);
}

static void test_jvm_bytes(void **state)
{
    (void)state;
    uint64_t v = 0;
    struct {
        const char *s;
        uint64_t want;
    } ok[] = { { "1024", 1024 },      { "512k", 512ull << 10 }, { "512K", 512ull << 10 },
               { "768m", 768ull << 20 }, { "2g", 2ull << 30 },  { "2G", 2ull << 30 },
               { "1t", 1ull << 40 } };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(oomkit__lint_jvm_bytes_parse(ok[i].s, strlen(ok[i].s), &v), 0);
        assert_int_equal(v, ok[i].want);
    }
    static const char *bad[] = { "", "1gb", "1.5g", "g", "1 g", "1Mi", "-1m" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_not_equal(oomkit__lint_jvm_bytes_parse(bad[i], strlen(bad[i]), &v), 0);
}

static void test_prof_bytes(void **state)
{
    (void)state;
    uint64_t v = 0;
    struct {
        const char *s;
        uint64_t want;
    } ok[] = { { "1GiB", 1ull << 30 }, { "1Gi", 1ull << 30 }, { "1g", 1ull << 30 },
               { "1GB", 1ull << 30 },  { "800MiB", 800ull << 20 }, { "512k", 512ull << 10 },
               { "100", 100 },         { "100B", 100 },        { "1.5G", 3ull << 29 } };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(oomkit__lint_prof_bytes_parse(ok[i].s, strlen(ok[i].s), &v), 0);
        assert_int_equal(v, ok[i].want);
    }
    static const char *bad[] = { "", "lots", "1X", "1GiBB", "G", "1i", "1Gx", "-1G" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_not_equal(oomkit__lint_prof_bytes_parse(bad[i], strlen(bad[i]), &v), 0);
}

static void test_decimal_and_compare(void **state)
{
    (void)state;
    struct oomkit__lint_ratio r;
    assert_int_equal(oomkit__lint_decimal_parse("1.3", 3, &r), 0);
    assert_int_equal(r.num, 13);
    assert_int_equal(r.den, 10);
    assert_int_equal(oomkit__lint_decimal_parse("92.5", 4, &r), 0);
    assert_int_equal(r.num, 925);
    assert_int_equal(r.den, 10);
    assert_int_not_equal(oomkit__lint_decimal_parse("", 0, &r), 0);
    assert_int_not_equal(oomkit__lint_decimal_parse("1,3", 3, &r), 0);
    assert_int_not_equal(oomkit__lint_decimal_parse("-1", 2, &r), 0);
    assert_int_not_equal(oomkit__lint_decimal_parse("0.0000000001", 12, &r), 0);

    /* 1300000000 is exactly 1.3 x 10^9; one byte more exceeds it. */
    struct oomkit__lint_ratio ratio = { 13, 10 };
    assert_false(oomkit__lint_exceeds(1300000000, 1000000000, ratio, 1));
    assert_true(oomkit__lint_exceeds(1300000001, 1000000000, ratio, 1));
    /* Largest values do not overflow: 128-bit products. */
    assert_false(oomkit__lint_exceeds(INT64_MAX, INT64_MAX, ratio, 1));
    struct oomkit__lint_ratio ninety = { 90, 1 };
    /* 90 % of 1Gi = 966367641.6 -> floor 966367641. */
    assert_int_equal(oomkit__lint_scale_floor(1ull << 30, ninety, 100), 966367641);
    /* 1Gi / 1.3 = 825955249.2 -> ceil 825955250. */
    assert_int_equal(oomkit__lint_unscale_ceil(1ull << 30, ratio, 1), 825955250);
}

static void test_format(void **state)
{
    (void)state;
    char b[32];
    assert_string_equal(oomkit__lint_format_bytes(2ull << 30, b, sizeof(b)), "2Gi");
    assert_string_equal(oomkit__lint_format_bytes(1536ull << 20, b, sizeof(b)), "1536Mi");
    assert_string_equal(oomkit__lint_format_bytes(2000000000, b, sizeof(b)), "2G");
    assert_string_equal(oomkit__lint_format_bytes(3072, b, sizeof(b)), "3Ki");
    assert_string_equal(oomkit__lint_format_bytes(5000, b, sizeof(b)), "5k");
    assert_string_equal(oomkit__lint_format_bytes(1001, b, sizeof(b)), "1001");
    assert_string_equal(oomkit__lint_format_bytes(0, b, sizeof(b)), "0");
    assert_string_equal(oomkit__lint_format_bytes_mib((1ull << 30) + 1, true, b, sizeof(b)),
                        "1025Mi");
    assert_string_equal(oomkit__lint_format_bytes_mib((1ull << 30) + 1, false, b, sizeof(b)),
                        "1Gi");
    assert_string_equal(oomkit__lint_format_ratio((struct oomkit__lint_ratio){ 13, 10 }, b,
                                                  sizeof(b)),
                        "1.3");
    assert_string_equal(oomkit__lint_format_ratio((struct oomkit__lint_ratio){ 4, 3 }, b,
                                                  sizeof(b)),
                        "1.33");
    assert_string_equal(oomkit__lint_format_ratio((struct oomkit__lint_ratio){ 2, 1 }, b,
                                                  sizeof(b)),
                        "2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quantity_binary_si), cmocka_unit_test(test_quantity_decimal_si),
        cmocka_unit_test(test_quantity_exponents), cmocka_unit_test(test_quantity_invalid),
        cmocka_unit_test(test_go_bytes),           cmocka_unit_test(test_jvm_bytes),
        cmocka_unit_test(test_prof_bytes),         cmocka_unit_test(test_decimal_and_compare),
        cmocka_unit_test(test_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
