/* `oomkit bench seed --quick --json`: every table of the postmortem is
 * present and ran, every figure that measures a cost is positive, and the
 * directions that hold by construction (allocation counts, insert calls,
 * bytes of tables presized for 128 keys holding 6) come out that way. The
 * only timing comparison is pointer chasing through 8 dependent misses
 * against 2, a factor of several on any machine; no other time is
 * compared. --svg writes a chart with one bar per row, and a bad option
 * exits with code 2. */
#include "bench_test_util.h"

#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static json_object *root;

static int setup(void **state)
{
    (void)state;
    char cmd[2048], *out = NULL, *err = NULL;
    snprintf(cmd, sizeof cmd, "'%s' bench seed --quick --json", bt_oomkit());
    int rc = bt_run(cmd, &out, &err);
    if (rc != 0 || out == NULL) {
        fprintf(stderr, "%s exited %d: %s\n", cmd, rc, err != NULL ? err : "");
        free(out);
        free(err);
        return -1;
    }
    root = json_tokener_parse(out);
    free(out);
    free(err);
    return root == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    json_object_put(root);
    bt_cleanup();
    return 0;
}

static json_object *table(const char *name)
{
    json_object *tables, *name_v;
    assert_true(json_object_object_get_ex(root, "tables", &tables));
    for (size_t i = 0; i < json_object_array_length(tables); i++) {
        json_object *t = json_object_array_get_idx(tables, i);
        assert_true(json_object_object_get_ex(t, "name", &name_v));
        if (strcmp(json_object_get_string(name_v), name) == 0)
            return t;
    }
    fail_msg("table %s missing", name);
    return NULL;
}

/* Figure col of row i of table name. */
static double fig(const char *name, size_t i, const char *col)
{
    json_object *rows, *v;
    assert_true(json_object_object_get_ex(table(name), "rows", &rows));
    assert_true(i < json_object_array_length(rows));
    assert_true(json_object_object_get_ex(json_object_array_get_idx(rows, i), col, &v));
    assert_non_null(v);
    return json_object_get_double(v);
}

static void test_every_table_ran(void **state)
{
    (void)state;
    static const char *const names[] = { "chase", "reconcile", "sparse", "concurrent",
                                         "keys",  "mph",       "depth" };
    json_object *tables, *v;
    assert_true(json_object_object_get_ex(root, "tables", &tables));
    assert_int_equal(json_object_array_length(tables), 7);
    for (size_t i = 0; i < 7; i++) {
        json_object *t = table(names[i]);
        assert_true(json_object_object_get_ex(t, "number", &v));
        assert_int_equal(json_object_get_int(v), (int)i + 1);
        assert_true(json_object_object_get_ex(t, "ran", &v));
        assert_true(json_object_get_boolean(v));
        assert_true(json_object_object_get_ex(t, "verdict", &v));
        assert_true(strlen(json_object_get_string(v)) > 20);
        assert_true(json_object_object_get_ex(t, "rows", &v));
        assert_true(json_object_array_length(v) >= 3);
    }
}

static void test_costs_positive(void **state)
{
    (void)state;
    for (size_t i = 0; i < 3; i++) {
        assert_true(fig("reconcile", i, "us_per_reconcile") > 0);
        assert_true(fig("depth", i, "insert_calls") > 0);
        assert_true(fig("depth", i, "peak_bytes") > 0);
        assert_true(fig("sparse", i, "bytes_owned") > 0);
        assert_true(fig("keys", i, "ns_per_op") > 0);
        assert_true(fig("mph", i, "ns_per_lookup") > 0);
        assert_true(fig("chase", i, "ns_per_access") > 0);
    }
    for (size_t i = 0; i < 4; i++)
        assert_true(fig("concurrent", i, "reads_per_s") > 0);
}

static void test_directions_by_construction(void **state)
{
    (void)state;
    /* Reconcile: the rebuild copies every string and makes every table
     * again, the reuse still copies every key, the store allocates nothing
     * once its capacity is there. */
    double rebuild = fig("reconcile", 0, "allocs_per_reconcile");
    double reuse = fig("reconcile", 1, "allocs_per_reconcile");
    double store = fig("reconcile", 2, "allocs_per_reconcile");
    assert_true(rebuild > reuse);
    assert_true(reuse >= 100);
    assert_true(store < 1);
    /* Written a pod at a time, every block the refill needs is on the free
     * lists: not one allocation. */
    assert_true(fig("reconcile", 3, "allocs_per_reconcile") == 0);
    assert_true(fig("reconcile", 3, "us_per_reconcile") > 0);
    /* Depth: each level adds one insert per table it creates. */
    assert_true(fig("depth", 1, "insert_calls") > fig("depth", 0, "insert_calls"));
    assert_true(fig("depth", 2, "insert_calls") > fig("depth", 0, "insert_calls"));
    /* Sparse: 128 slots allocated per pod for 6 entries. */
    assert_true(fig("sparse", 0, "bytes_owned") > 4 * fig("sparse", 2, "bytes_owned"));
    /* Keys: one malloc per lookup against none. */
    assert_true(fig("keys", 0, "allocs_per_op") >= 0.99);
    assert_true(fig("keys", 2, "allocs_per_op") < 0.01);
    /* Pointer chasing: 8 dependent loads per access against 2. */
    assert_true(fig("chase", 2, "ns_per_access") > fig("chase", 0, "ns_per_access"));
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_svg_chart(void **state)
{
    (void)state;
    char cmd[2048], path[1024], *out = NULL;
    snprintf(cmd, sizeof cmd, "'%s' bench seed --quick --only 3 --svg '%s'", bt_oomkit(),
             bt_tmpdir());
    assert_int_equal(bt_run(cmd, &out, NULL), 0);
    assert_non_null(out);
    assert_non_null(strstr(out, "/sparse.svg)"));
    free(out);
    snprintf(path, sizeof path, "%s/sparse.svg", bt_tmpdir());
    char *svg = bt_read_file(path, NULL);
    assert_non_null(svg);
    assert_non_null(strstr(svg, "<svg"));
    assert_non_null(strstr(svg, "</svg>"));
    /* A white background and one bar per variant. */
    assert_int_equal(count(svg, "<rect"), 4);
    free(svg);
}

static void test_bad_option(void **state)
{
    (void)state;
    char cmd[2048], *err = NULL;
    snprintf(cmd, sizeof cmd, "'%s' bench seed --only 9", bt_oomkit());
    assert_int_equal(bt_run(cmd, NULL, &err), 2);
    assert_non_null(err);
    assert_non_null(strstr(err, "--only"));
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_table_ran),
        cmocka_unit_test(test_costs_positive),
        cmocka_unit_test(test_directions_by_construction),
        cmocka_unit_test(test_svg_chart),
        cmocka_unit_test(test_bad_option),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
