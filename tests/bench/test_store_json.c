/* `oomkit bench store`: on a small generated workload, --json prints one
 * object with the entry count and all four structures, every figure present
 * and sane (the store smaller than the nested GLib twin); merged peers'
 * figures get target rows judged from them; a malformed TSV stops with
 * exit code 2 and names the line. */
#include "bench_test_util.h"

#include <json-c/json.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *const names[] = { "oomkit-store", "glib-nested", "glib-flat", "uthash" };
static const char *const fields[] = {
    "bytes_per_entry",  "allocs_per_entry",  "build_ns_per_entry",
    "hit_ns",           "miss_ns",           "delete_object_ns",
    "list_namespace_ns", "reconcile_allocs_per_cycle", "reconcile_ns_per_cycle",
    "worst_write_us",   "p999_write_us",     "build_worst_write_us",
    "churn_worst_write_us", "writes_over_1ms", "writes_over_1ms_faulted",
    "writes_over_1ms_preempted", "worst_uninterrupted_write_us", "writes_over_1ms_waited",
    "writes_over_1ms_reader_waits",
    "writes_replayed", "writes_not_replayed", "writes_over_1ms_twice", "writes_replay_interrupted",
    "worst_replayed_write_us", "retired_bytes",
    "reconcile_entry_allocs_per_cycle", "reconcile_entry_ns_per_cycle",
};

static char *path_in_tmp(const char *file)
{
    static char path[1024];
    snprintf(path, sizeof(path), "%s/%s", bt_tmpdir(), file);
    return path;
}

static size_t count_lines(const char *path)
{
    size_t len, n = 0;
    char *text = bt_read_file(path, &len);
    assert_non_null(text);
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    free(text);
    return n;
}

static double field(json_object *s, const char *name)
{
    json_object *v;
    assert_true(json_object_object_get_ex(s, name, &v));
    assert_true(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int));
    return json_object_get_double(v);
}

/* What cmd printed; it must exit 0 (its stderr is shown when it does not). */
static char *stdout_of(const char *cmd)
{
    char *out = NULL, *err = NULL;
    int rc = bt_run(cmd, &out, &err);
    if (rc != 0)
        printf("stderr: %s\n", err ? err : "(none)");
    free(err);
    assert_int_equal(rc, 0);
    return out;
}

static void test_json_shape_and_values(void **state)
{
    (void)state;
    char cmd[4096];
    char tsv[1024];
    snprintf(tsv, sizeof(tsv), "%s", path_in_tmp("w.tsv"));
    /* Big enough that the store's bound on memory waiting for readers
     * (1 MiB however small the store; it can all be taken when the
     * grace-period thread gets no CPU) is a small part of its size: at
     * 1,500 objects that alone came to 60 B/entry on a loaded machine. */
    snprintf(cmd, sizeof(cmd), "'%s' gen-state --objects 6000 --seed 11 -o '%s'", bt_oomkit(),
             tsv);
    assert_int_equal(bt_run(cmd, NULL, NULL), 0);
    size_t lines = count_lines(tsv);

    snprintf(cmd, sizeof(cmd),
             "'%s' bench store --tsv '%s' --json --reconcile-cycles 2 --lookups 5000",
             bt_oomkit(), tsv);
    char *out = stdout_of(cmd);
    json_object *root = json_tokener_parse(out);
    assert_non_null(root);
    assert_true(json_object_is_type(root, json_type_object));
    /* entries, structures and (under the wall clock) the two floors, the
     * stall floor as its worst gap, its length and its gaps over 1 ms. */
    assert_int_equal(json_object_object_length(root), 6);
    json_object *floor_s;
    assert_true(json_object_object_get_ex(root, "stall_floor_s", &floor_s));
    assert_true(json_object_get_double(floor_s) >= 2);
    json_object *fault_us;
    assert_true(json_object_object_get_ex(root, "fault_floor_us", &fault_us));
    assert_true(json_object_get_double(fault_us) > 0);
    json_object *floor_us;
    assert_true(json_object_object_get_ex(root, "stall_floor_us", &floor_us));
    assert_true(json_object_get_double(floor_us) > 0);
    json_object *entries, *structures;
    assert_true(json_object_object_get_ex(root, "entries", &entries));
    assert_int_equal(json_object_get_int64(entries), (int64_t)lines);
    assert_true(json_object_object_get_ex(root, "structures", &structures));
    assert_int_equal(json_object_array_length(structures), 4);

    double bytes[4] = { 0 };
    for (size_t i = 0; i < 4; i++) {
        json_object *s = json_object_array_get_idx(structures, i), *name;
        assert_true(json_object_object_get_ex(s, "name", &name));
        assert_string_equal(json_object_get_string(name), names[i]);
        /* Exactly the name, the figures and the batched hit time, a number
         * for the store (the only one with a batched lookup), null for the
         * others. */
        assert_int_equal(json_object_object_length(s), 2 + sizeof(fields) / sizeof(fields[0]));
        json_object *batch;
        assert_true(json_object_object_get_ex(s, "batch_hit_ns", &batch));
        if (i == 0)
            assert_true(field(s, "batch_hit_ns") > 0);
        else
            assert_null(batch);
        for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
            double v = field(s, fields[f]);
            assert_true(v >= 0);
        }
        bytes[i] = field(s, "bytes_per_entry");
        assert_true(bytes[i] > 0);
        assert_true(field(s, "build_ns_per_entry") > 0);
        assert_true(field(s, "hit_ns") > 0);
        assert_true(field(s, "miss_ns") > 0);
        assert_true(field(s, "delete_object_ns") > 0);
        assert_true(field(s, "list_namespace_ns") > 0);
        assert_true(field(s, "reconcile_ns_per_cycle") > 0);
        /* The worst write is the worse of its two phases and bounds the
         * 99.9th percentile. */
        double build_worst = field(s, "build_worst_write_us");
        double churn_worst = field(s, "churn_worst_write_us");
        assert_true(field(s, "worst_write_us") > 0);
        assert_true(field(s, "p999_write_us") <= field(s, "worst_write_us"));
        assert_true(field(s, "worst_write_us") ==
                    (build_worst > churn_worst ? build_worst : churn_worst));
        /* A write over 1 ms makes the worst at least that. */
        double over = field(s, "writes_over_1ms");
        assert_true(over >= 0);
        if (over > 0)
            assert_true(field(s, "worst_write_us") >= 1000);
        /* Writes inside a page fault and writes that lost the CPU are
         * some of those, each counted once; a write with neither is still
         * a write. */
        assert_true(field(s, "writes_over_1ms_faulted") + field(s, "writes_over_1ms_preempted") <=
                    over);
        assert_true(field(s, "worst_uninterrupted_write_us") <= field(s, "worst_write_us"));
        /* Each write over 1 ms with neither is timed again in a replay
         * or counted as not replayed; those slow again are some of them. */
        double own = over - field(s, "writes_over_1ms_faulted") -
                     field(s, "writes_over_1ms_preempted");
        assert_true(field(s, "writes_replayed") + field(s, "writes_not_replayed") == own);
        assert_true(field(s, "writes_over_1ms_twice") + field(s, "writes_replay_interrupted") <=
                    field(s, "writes_replayed"));
        assert_true(field(s, "writes_over_1ms_waited") <= own);
        assert_true(field(s, "writes_over_1ms_reader_waits") <=
                    field(s, "writes_over_1ms_waited"));
        /* The store refills object by object and then entry by entry; an
         * object-by-object refill finds every block it needs on the free
         * lists. A peer's two figures are one. */
        assert_true(field(s, "reconcile_entry_ns_per_cycle") > 0);
        if (i == 0) {
            assert_true(field(s, "reconcile_allocs_per_cycle") == 0);
        } else {
            assert_true(field(s, "reconcile_entry_allocs_per_cycle") ==
                        field(s, "reconcile_allocs_per_cycle"));
        }
        /* Every peer copies its strings: at least one allocation per object;
         * and frees at once, so nothing waits to be freed. */
        if (i > 0) {
            assert_true(field(s, "allocs_per_entry") > 0.1);
            assert_true(field(s, "retired_bytes") == 0);
        }
        printf("%-13s %.1f B/entry, %.4f allocs/entry\n", names[i], bytes[i],
               field(s, "allocs_per_entry"));
    }
    assert_true(bytes[0] < bytes[1]);
    json_object_put(root);
    free(out);
}

static void test_table_output(void **state)
{
    (void)state;
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "'%s' bench store --objects 300 --reconcile-cycles 1 --structures oomkit-store,uthash "
             "--quiet",
             bt_oomkit());
    char *out = NULL;
    assert_int_equal(bt_run(cmd, &out, NULL), 0);
    assert_non_null(strstr(out, "oomkit-store"));
    assert_non_null(strstr(out, "uthash"));
    assert_null(strstr(out, "glib-flat"));
    assert_non_null(strstr(out, "ratio peer / oomkit-store"));
    free(out);
}

/* The line of text that contains needle, as its own string. */
static char *line_with(const char *text, const char *needle)
{
    const char *at = strstr(text, needle);
    if (at == NULL)
        return NULL;
    const char *start = at, *end = strchr(at, '\n');
    while (start > text && start[-1] != '\n')
        start--;
    size_t len = end != NULL ? (size_t)(end - start) : strlen(start);
    char *line = malloc(len + 1);
    assert_non_null(line);
    memcpy(line, start, len);
    line[len] = '\0';
    return line;
}

/* Asserts that the target row starting with row ends in verdict. */
static void assert_target(const char *md, const char *row, const char *verdict)
{
    char *line = line_with(md, row);
    if (line == NULL)
        fail_msg("no target row '%s'", row);
    char want[64];
    snprintf(want, sizeof(want), "| %s |", verdict);
    if (strlen(line) < strlen(want) || strcmp(line + strlen(line) - strlen(want), want) != 0)
        fail_msg("row '%s' is not '%s'", line, verdict);
    free(line);
}

/* The Markdown of a 300-object store run given --merge with these JSON
 * lines. */
static char *markdown_with_merged(const char *lines)
{
    const char *file = path_in_tmp("merged.jsonl");
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs(lines, f);
    fclose(f);
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "'%s' bench store --objects 300 --reconcile-cycles 1 --structures oomkit-store "
             "--merge '%s' --markdown --quiet",
             bt_oomkit(), file);
    return stdout_of(cmd);
}

/* Peers measured by bench/peers/ and merged in get target rows of their
 * own, judged from their figures: here made-up ones on both sides of each
 * line, and the ideal structure's ceiling on both sides of 5x sync.Map.
 * The store's memory is what this run measures (under 60 B/entry on this
 * workload), so the memory rows are set by the peers' figures. */
static void test_markdown_targets_from_merged_peers(void **state)
{
    (void)state;
    char *md = markdown_with_merged(
        "{\"name\":\"go-nested\",\"bytes_per_entry\":1000,\"hit_ns\":900}\n"
        "{\"name\":\"go-flat\",\"bytes_per_entry\":100,\"hit_ns\":1}\n"
        "{\"name\":\"oomkit-store-concurrent\",\"readers\":1,\"reads_per_s\":1000000,"
        "\"rounds\":3,\"reads_per_s_min\":900000,\"reads_per_s_max\":1100000}\n"
        "{\"name\":\"oomkit-store-concurrent\",\"readers\":2,\"reads_per_s\":1700000}\n"
        "{\"name\":\"oomkit-store-batched-concurrent\",\"readers\":1,"
        "\"reads_per_s\":6000000}\n"
        "{\"name\":\"oomkit-store-batched-concurrent\",\"readers\":2,"
        "\"reads_per_s\":11000000}\n"
        "{\"name\":\"go-syncmap-concurrent\",\"readers\":1,\"reads_per_s\":1000000}\n"
        "{\"name\":\"go-syncmap-concurrent\",\"readers\":2,\"reads_per_s\":1000000}\n"
        "{\"name\":\"ideal-concurrent\",\"readers\":1,\"reads_per_s\":3000000}\n"
        "{\"name\":\"ideal-concurrent\",\"readers\":2,\"reads_per_s\":12000000}\n"
        "{\"name\":\"ideal-batched-concurrent\",\"readers\":1,"
        "\"reads_per_s\":9000000}\n");
    assert_target(md, "| ≥ 4x less memory than go-nested |", "yes");
    assert_target(md, "| ≥ 5x less memory than go-flat |", "**no**");
    assert_null(strstr(md, "than go-syncmap |")); /* not merged: no row */
    assert_target(md, "| random hit faster than go-flat |", "**no**");
    assert_target(md, "| 2 readers ≥ 1.8x one reader, with a writer (single gets) |", "**no**");
    assert_target(md, "| 2 readers ≥ 1.8x one reader, with a writer (get_many) |", "yes");
    /* An ideal structure reaches only 3x sync.Map here: out of reach. */
    assert_target(md, "(single gets, 1 reader) | 1.00x", "**no**, out of reach on this machine");
    assert_non_null(strstr(md, "an ideal structure: 3.00x) |"));
    /* They reach 12x per reader with two: short of it, plainly. */
    assert_target(md, "(single gets, 2 readers) | 1.70x", "**no**");
    assert_target(md, "(get_many, 1 reader) | 6.00x", "yes");
    /* The concurrent table shows the range of the rounds where it is known. */
    assert_non_null(strstr(md, "| oomkit-store-concurrent | 1 | 1000000 | 900000–1100000 (3) |"));
    assert_non_null(strstr(md, "| oomkit-store-concurrent | 2 | 1700000 | — |"));
    /* Per reader thread: 5.5M against 0.5M (no ideal line to compare). */
    assert_target(md, "(get_many, 2 readers) | 11.00x", "yes");
    free(md);
}

/* A merged line of alternating hit rounds (bench/store/run.sh) decides the
 * go-flat hit target instead of the two programs' own times: here go-flat's
 * 1 ns would beat any store, and the rounds' median says otherwise. */
static void test_hit_rounds_decide_go_flat_target(void **state)
{
    (void)state;
    char *md = markdown_with_merged(
        "{\"name\":\"go-flat\",\"bytes_per_entry\":100,\"hit_ns\":1}\n"
        "{\"name\":\"go-flat-hit-rounds\",\"go_flat_over_store_median\":1.2,\"rounds\":5}\n");
    assert_non_null(strstr(md, "go-flat 1 ns in the run above; median go-flat / store 1.20 over "
                               "the alternating rounds below"));
    assert_target(md, "| random hit faster than go-flat |", "yes");
    assert_null(strstr(md, "go-flat-hit-rounds")); /* not a note of its own */
    free(md);
}

static void test_malformed_tsv(void **state)
{
    (void)state;
    char *bad = path_in_tmp("bad.tsv");
    FILE *f = fopen(bad, "w");
    assert_non_null(f);
    fputs("default\tweb-1\tstatus.ready\t1\n"
          "default\tweb-1\tspec.replicas\t3\n"
          "default\tweb-2\tstatus.ready\n",
          f);
    fclose(f);
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "'%s' bench store --tsv '%s'", bt_oomkit(), bad);
    char *err = NULL;
    assert_int_equal(bt_run(cmd, NULL, &err), 2);
    assert_non_null(err);
    printf("error: %s", err);
    assert_non_null(strstr(err, ":3:"));
    free(err);

    f = fopen(bad, "w");
    assert_non_null(f);
    fputs("default\tweb-1\tstatus.ready\t1\n"
          "default\tweb-1\tspec.replicas\t99999999999999999999\n",
          f);
    fclose(f);
    assert_int_equal(bt_run(cmd, NULL, &err), 2);
    assert_non_null(strstr(err, ":2:"));
    free(err);

    snprintf(cmd, sizeof(cmd), "'%s' bench store --tsv '%s'", bt_oomkit(),
             path_in_tmp("does-not-exist.tsv"));
    assert_int_equal(bt_run(cmd, NULL, &err), 2);
    assert_non_null(strstr(err, "does-not-exist.tsv"));
    free(err);
}

static void test_usage(void **state)
{
    (void)state;
    char cmd[4096];
    char *out = NULL;
    snprintf(cmd, sizeof(cmd), "'%s' bench store --help", bt_oomkit());
    assert_int_equal(bt_run(cmd, &out, NULL), 0);
    assert_non_null(strstr(out, "--tsv"));
    free(out);
    snprintf(cmd, sizeof(cmd), "'%s' bench --help", bt_oomkit());
    assert_int_equal(bt_run(cmd, &out, NULL), 0);
    assert_non_null(strstr(out, "store"));
    free(out);
    snprintf(cmd, sizeof(cmd), "'%s' bench no-such-benchmark", bt_oomkit());
    assert_int_equal(bt_run(cmd, NULL, NULL), 2);
    snprintf(cmd, sizeof(cmd), "'%s' bench store", bt_oomkit());
    assert_int_equal(bt_run(cmd, NULL, NULL), 2);
    snprintf(cmd, sizeof(cmd), "'%s' bench store --objects 10 --structures nope", bt_oomkit());
    assert_int_equal(bt_run(cmd, NULL, NULL), 2);
    /* A CPU that is not there is a usage error, named. */
    char *err = NULL;
    snprintf(cmd, sizeof(cmd), "OOMKIT_BENCH_CPU=100000 '%s' bench store --objects 10",
             bt_oomkit());
    assert_int_equal(bt_run(cmd, NULL, &err), 2);
    assert_non_null(strstr(err, "OOMKIT_BENCH_CPU"));
    free(err);
}

/* The lowest and the highest CPU this test may run on. */
static void allowed_cpu_range(cpu_set_t *set, int *first, int *last)
{
    assert_int_equal(sched_getaffinity(0, sizeof(*set), set), 0);
    *first = *last = -1;
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (!CPU_ISSET(c, set))
            continue;
        if (*first < 0)
            *first = c;
        *last = c;
    }
    assert_true(*first >= 0);
}

/* OOMKIT_BENCH_CPU=N pins the run to CPU N and the JSON says so; unset,
 * nothing is pinned and the field is absent (test_json_shape_and_values).
 * Run on a set of CPUs without the first (a container's cpuset), the first
 * is refused by name and the set's last is taken. */
static void test_pinned_cpu(void **state)
{
    (void)state;
    cpu_set_t all;
    int first, last;
    allowed_cpu_range(&all, &first, &last);
    cpu_set_t some = all;
    if (first != last) {
        CPU_CLR(first, &some);
        assert_int_equal(sched_setaffinity(0, sizeof(some), &some), 0);
        char cmd[4096], *err = NULL;
        snprintf(cmd, sizeof(cmd), "OOMKIT_BENCH_CPU=%d '%s' bench store --objects 10", first,
                 bt_oomkit());
        int rc = bt_run(cmd, NULL, &err);
        assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
        assert_int_equal(rc, 2);
        assert_non_null(strstr(err, "is not a CPU this process may run on"));
        free(err);
        assert_int_equal(sched_setaffinity(0, sizeof(some), &some), 0);
    } else {
        printf("NOTE: one CPU only: the case of a CPU outside the set is not exercised\n");
    }
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "OOMKIT_BENCH_CPU=%d '%s' bench store --objects 200 --reconcile-cycles 1 "
             "--structures oomkit-store --json --quiet",
             last, bt_oomkit());
    char *out = NULL;
    int rc = bt_run(cmd, &out, NULL);
    assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
    assert_int_equal(rc, 0);
    json_object *root = json_tokener_parse(out), *cpu;
    assert_non_null(root);
    assert_true(json_object_object_get_ex(root, "cpu", &cpu));
    assert_int_equal(json_object_get_int(cpu), last);
    json_object_put(root);
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
        cmocka_unit_test(test_json_shape_and_values),
        cmocka_unit_test(test_table_output),
        cmocka_unit_test(test_markdown_targets_from_merged_peers),
        cmocka_unit_test(test_hit_rounds_decide_go_flat_target),
        cmocka_unit_test(test_malformed_tsv),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_pinned_cpu),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
