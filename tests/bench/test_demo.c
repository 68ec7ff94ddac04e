/* `oomkit demo --quick`: runs to the end, shows both structures side by side
 * and states its verdict; bad options are refused with exit code 2. */
#include "bench_test_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void test_quick_demo(void **state)
{
    (void)state;
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "'%s' demo --quick", bt_oomkit());
    char *out = NULL, *err = NULL;
    int rc = bt_run(cmd, &out, &err);
    printf("%s", out ? out : "");
    if (rc != 0)
        printf("stderr: %s\n", err ? err : "");
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "20000 objects"));
    assert_non_null(strstr(out, "nested GLib tables"));
    assert_non_null(strstr(out, "oomkit store"));
    assert_non_null(strstr(out, "bytes per entry"));
    assert_non_null(strstr(out, "\nVerdict: the store "));
    free(out);
    free(err);
}

static void test_bad_options(void **state)
{
    (void)state;
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "'%s' demo --objects 0", bt_oomkit());
    assert_int_equal(bt_run(cmd, NULL, NULL), 2);
    snprintf(cmd, sizeof(cmd), "'%s' demo --frobnicate", bt_oomkit());
    assert_int_equal(bt_run(cmd, NULL, NULL), 2);
    /* An --out that cannot hold the evidence is refused before any stage
     * runs (nothing on stdout), with the reason. */
    char *out = NULL, *err = NULL;
    snprintf(cmd, sizeof(cmd), "'%s' demo --quick --out /proc/no/such/dir", bt_oomkit());
    assert_int_equal(bt_run(cmd, &out, &err), 2);
    assert_string_equal(out, "");
    assert_non_null(strstr(err, "No such file or directory"));
    free(out);
    free(err);
    snprintf(cmd, sizeof(cmd), "'%s' demo --help", bt_oomkit());
    assert_int_equal(bt_run(cmd, &out, NULL), 0);
    assert_non_null(strstr(out, "usage: oomkit demo"));
    free(out);
}

static int teardown(void **state)
{
    (void)state;
    bt_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quick_demo),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
