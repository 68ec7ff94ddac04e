/* Unit tests for the Prometheus text builder (src/watch/metrics.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "watch/metrics.h"

static void test_family_and_samples(void **state)
{
    (void)state;
    struct oomkit__metrics m = { 0 };
    oomkit__metrics_reset(&m);
    assert_int_equal(oomkit__metrics_family(&m, "oomkit_x_bytes", "gauge", "Line one.\nback\\slash"), 0);
    struct oomkit__label l[] = { { "cgroup", "/a\"b\\c\nd" }, { "pid", "42" }, { "command", "" } };
    assert_int_equal(oomkit__metrics_sample(&m, l, 3, 268435456), 0);
    assert_int_equal(oomkit__metrics_sample(&m, NULL, 0, INFINITY), 0);
    assert_string_equal(m.text,
                        "# HELP oomkit_x_bytes Line one.\\nback\\\\slash\n"
                        "# TYPE oomkit_x_bytes gauge\n"
                        "oomkit_x_bytes{cgroup=\"/a\\\"b\\\\c\\nd\",pid=\"42\"} 268435456\n"
                        "oomkit_x_bytes +Inf\n");
    oomkit__metrics_free(&m);
}

static void test_duplicates_refused(void **state)
{
    (void)state;
    struct oomkit__metrics m = { 0 };
    oomkit__metrics_reset(&m);
    oomkit__metrics_family(&m, "oomkit_y_total", "counter", "Y.");
    struct oomkit__label a[] = { { "cgroup", "/a" }, { "pid", "1" } };
    struct oomkit__label b[] = { { "cgroup", "/a" }, { "pid", "" } };
    struct oomkit__label c[] = { { "cgroup", "/a" } };
    assert_int_equal(oomkit__metrics_sample(&m, a, 2, 1), 0);
    size_t len = m.len;
    assert_int_equal(oomkit__metrics_sample(&m, a, 2, 2), -EEXIST);
    assert_int_equal(m.len, len);
    assert_int_equal(oomkit__metrics_sample(&m, b, 2, 3), 0);
    /* An empty label is the same series as a missing one. */
    assert_int_equal(oomkit__metrics_sample(&m, c, 1, 4), -EEXIST);
    /* The same labels under another family are another series. */
    oomkit__metrics_family(&m, "oomkit_z_total", "counter", "Z.");
    assert_int_equal(oomkit__metrics_sample(&m, a, 2, 1), 0);
    /* Many series force the seen-set to grow and keep working. */
    char v[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(v, sizeof v, "%d", i);
        struct oomkit__label l[] = { { "pid", v } };
        assert_int_equal(oomkit__metrics_sample(&m, l, 1, i), 0);
    }
    struct oomkit__label l[] = { { "pid", "4999" } };
    assert_int_equal(oomkit__metrics_sample(&m, l, 1, 0), -EEXIST);
    oomkit__metrics_reset(&m);
    assert_int_equal(m.len, 0);
    assert_int_equal(oomkit__metrics_sample(&m, l, 1, 0), -EINVAL); /* no family */
    oomkit__metrics_free(&m);
}

static void test_names_validated(void **state)
{
    (void)state;
    assert_true(oomkit__metrics_valid_name("oomkit_a:b_1", 0));
    assert_false(oomkit__metrics_valid_name("1abc", 0));
    assert_false(oomkit__metrics_valid_name("a-b", 0));
    assert_false(oomkit__metrics_valid_name("", 0));
    assert_true(oomkit__metrics_valid_name("cgroup", 1));
    assert_false(oomkit__metrics_valid_name("a:b", 1));
    assert_false(oomkit__metrics_valid_name("__name__", 1));
    struct oomkit__metrics m = { 0 };
    oomkit__metrics_reset(&m);
    assert_int_equal(oomkit__metrics_family(&m, "bad name", "gauge", "x"), -EINVAL);
    assert_int_equal(m.len, 0);
    oomkit__metrics_family(&m, "ok", "gauge", "x");
    struct oomkit__label l[] = { { "bad-label", "v" } };
    assert_int_equal(oomkit__metrics_sample(&m, l, 1, 1), -EINVAL);
    assert_int_equal(oomkit__metrics_sample(&m, NULL, 0, NAN), 0);
    assert_non_null(strstr(m.text, "ok NaN\n"));
    oomkit__metrics_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_family_and_samples),
        cmocka_unit_test(test_duplicates_refused),
        cmocka_unit_test(test_names_validated),
    };
    return cmocka_run_group_tests_name("watch_metrics", tests, NULL, NULL);
}
