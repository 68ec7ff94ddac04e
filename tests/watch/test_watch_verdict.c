/* Unit tests for the growth classifier (src/watch/verdict.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "watch/verdict.h"

#define MIB ((uint64_t)1 << 20)

static struct oomkit__verdict_input base(void)
{
    struct oomkit__verdict_input in = { { 0 } };
    in.bytes[OOMKIT__VERDICT_HEAP] = 30 * MIB;
    in.bytes[OOMKIT__VERDICT_ANON_MMAP] = 10 * MIB;
    in.bytes[OOMKIT__VERDICT_PAGE_CACHE] = 50 * MIB;
    in.bytes[OOMKIT__VERDICT_SHMEM] = 1 * MIB;
    in.bytes[OOMKIT__VERDICT_STACKS] = 2 * MIB;
    in.bytes[OOMKIT__VERDICT_KERNEL] = 5 * MIB;
    return in;
}

static void test_each_kind_wins_its_growth(void **state)
{
    (void)state;
    for (int k = 0; k < OOMKIT__VERDICT_KIND_COUNT; k++) {
        struct oomkit__verdict_input a = base(), b = base();
        b.bytes[k] += 200 * MIB;
        /* Background noise in the other kinds: some up, some down. */
        b.bytes[(k + 1) % OOMKIT__VERDICT_KIND_COUNT] += 3 * MIB;
        b.bytes[(k + 2) % OOMKIT__VERDICT_KIND_COUNT] -= 1 * MIB;
        struct oomkit__verdict v;
        oomkit__verdict_classify(&a, &b, 10, &v);
        assert_int_equal(v.kind, k);
        assert_true(v.confidence > 0.95 && v.confidence <= 1.0);
        assert_int_equal(v.delta_bytes[k], (int64_t)(200 * MIB));
        assert_non_null(strstr(v.evidence, oomkit__verdict_kind_name((enum oomkit__verdict_kind)k)));
        assert_non_null(strstr(v.evidence, "+200.0 MiB"));
        assert_non_null(strstr(v.evidence, "20.0 MiB/s"));
    }
}

static void test_mixed_growth_lowers_confidence(void **state)
{
    (void)state;
    struct oomkit__verdict_input a = base(), b = base();
    b.bytes[OOMKIT__VERDICT_HEAP] += 60 * MIB;
    b.bytes[OOMKIT__VERDICT_ANON_MMAP] += 40 * MIB;
    struct oomkit__verdict v;
    oomkit__verdict_classify(&a, &b, 5, &v);
    assert_int_equal(v.kind, OOMKIT__VERDICT_HEAP);
    assert_true(v.confidence > 0.59 && v.confidence < 0.61);
    /* The runner-up is named as evidence too. */
    assert_non_null(strstr(v.evidence, "anon_mmap +40.0 MiB"));
}

static void test_no_growth_is_unknown(void **state)
{
    (void)state;
    struct oomkit__verdict_input a = base(), b = base();
    struct oomkit__verdict v;
    oomkit__verdict_classify(&a, &b, 5, &v);
    assert_int_equal(v.kind, OOMKIT__VERDICT_UNKNOWN);
    assert_true(v.confidence == 0);
    assert_string_equal(oomkit__verdict_kind_name(v.kind), "unknown");
    /* Shrinking everywhere is not growth either. */
    b.bytes[OOMKIT__VERDICT_PAGE_CACHE] -= 40 * MIB;
    oomkit__verdict_classify(&a, &b, 5, &v);
    assert_int_equal(v.kind, OOMKIT__VERDICT_UNKNOWN);
    assert_non_null(strstr(v.evidence, "page_cache -40.0 MiB"));
}

static void test_small_growth_scales_confidence(void **state)
{
    (void)state;
    struct oomkit__verdict_input a = base(), b = base();
    b.bytes[OOMKIT__VERDICT_SHMEM] += 4 * MIB;
    struct oomkit__verdict v;
    oomkit__verdict_classify(&a, &b, 0, &v);
    assert_int_equal(v.kind, OOMKIT__VERDICT_SHMEM);
    assert_true(v.confidence > 0.24 && v.confidence < 0.26);
    assert_null(strstr(v.evidence, "MiB/s"));
}

static void test_kind_names(void **state)
{
    (void)state;
    const char *want[] = { "heap", "anon_mmap", "page_cache", "shmem", "stacks", "kernel", "unknown" };
    for (int k = 0; k <= OOMKIT__VERDICT_UNKNOWN; k++)
        assert_string_equal(oomkit__verdict_kind_name((enum oomkit__verdict_kind)k), want[k]);
    assert_string_equal(oomkit__verdict_kind_name((enum oomkit__verdict_kind)99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_each_kind_wins_its_growth),
        cmocka_unit_test(test_mixed_growth_lowers_confidence),
        cmocka_unit_test(test_no_growth_is_unknown),
        cmocka_unit_test(test_small_growth_scales_confidence),
        cmocka_unit_test(test_kind_names),
    };
    return cmocka_run_group_tests_name("watch_verdict", tests, NULL, NULL);
}
