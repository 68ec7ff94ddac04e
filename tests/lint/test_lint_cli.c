/* End-to-end tests of the `oomkit lint` command: exit codes (0 clean, 1
 * findings at or above --fail-on, 2 unreadable input or bad usage), the
 * file and line of a YAML error on stderr, stdin, directories, the config
 * file, and the JSON and SARIF documents it prints. Runs the built binary
 * from $OOMKIT_BINARY_DIR. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lint_test_util.h"

static char tmpdir[] = "/tmp/oomkit-lint-cli-XXXXXX";

static const char *tmp_file(const char *name, const char *text)
{
    static char path[4][512];
    static int slot;
    char *p = path[slot++ % 4];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

/* Runs oomkit with the arguments, returns the exit code; out/err freed by
 * the caller. */
static int run(char **out, char **err, const char *stdin_path, ...)
{
    const char *argv[32] = { "oomkit" };
    size_t n = 1;
    va_list ap;
    va_start(ap, stdin_path);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < 31)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    int rc = run_oomkit(argv, stdin_path, out, err);
    if (rc < 0)
        fprintf(stderr, "could not run %s/oomkit\n", getenv("OOMKIT_BINARY_DIR"));
    assert_true(rc >= 0);
    assert_non_null(*out);
    assert_non_null(*err);
    return rc;
}

static const char *clean_pod = "kind: Pod\nmetadata: {name: ok}\nspec:\n  containers:\n"
                               "  - name: a\n    resources: {requests: {memory: 1Gi}, limits: {memory: 1Gi}}\n";
static const char *ratio_pod = "kind: Pod\nmetadata: {name: r}\nspec:\n  containers:\n"
                               "  - name: a\n    resources: {requests: {memory: 1Gi}, limits: {memory: 2Gi}}\n";

static void test_exit_codes(void **state)
{
    (void)state;
    char *out, *err;
    const char *clean = tmp_file("clean.yaml", clean_pod);
    assert_int_equal(run(&out, &err, NULL, "lint", clean, NULL), 0);
    assert_non_null(strstr(out, "0 findings"));
    free(out);
    free(err);

    const char *ratio = tmp_file("ratio.yaml", ratio_pod);
    assert_int_equal(run(&out, &err, NULL, "lint", ratio, NULL), 1);
    assert_non_null(strstr(out, "ratio.yaml:6:"));
    assert_non_null(strstr(out, "[memory-limit-request-ratio]"));
    assert_non_null(strstr(out, "fix: "));
    free(out);
    free(err);

    /* The ratio finding is a warning: --fail-on error lets it pass, and
     * --fail-on warning does not. */
    assert_int_equal(run(&out, &err, NULL, "lint", "--fail-on", "error", ratio, NULL), 0);
    free(out);
    free(err);
    assert_int_equal(run(&out, &err, NULL, "lint", "--fail-on=warning", ratio, NULL), 1);
    free(out);
    free(err);

    /* A config that disables the rule makes the file clean. */
    const char *cfg = tmp_file("cfg.yaml", "rules:\n  memory-limit-request-ratio: off\n");
    assert_int_equal(run(&out, &err, NULL, "lint", "--config", cfg, ratio, NULL), 0);
    free(out);
    free(err);
    /* A broken config is a usage error naming its line. */
    const char *badcfg = tmp_file("badcfg.yaml", "rules:\n  no-such-rule: off\n");
    assert_int_equal(run(&out, &err, NULL, "lint", "--config", badcfg, ratio, NULL), 2);
    assert_non_null(strstr(err, "badcfg.yaml:2:3:"));
    free(out);
    free(err);

    /* Usage errors. */
    assert_int_equal(run(&out, &err, NULL, "lint", NULL), 2);
    free(out);
    free(err);
    assert_int_equal(run(&out, &err, NULL, "lint", "--format", "xml", clean, NULL), 2);
    free(out);
    free(err);
    assert_int_equal(run(&out, &err, NULL, "lint", "--bogus", clean, NULL), 2);
    free(out);
    free(err);
    assert_int_equal(run(&out, &err, NULL, "lint", "--help", NULL), 0);
    assert_non_null(strstr(out, "jvm-memory-caps"));
    free(out);
    free(err);
}

static void test_unreadable_input(void **state)
{
    (void)state;
    char *out, *err;
    /* Bad indentation on line 7, after a valid first document. */
    const char *bad = tmp_file("bad.yaml", "kind: Pod\nspec: {containers: [{name: a}]}\n---\n"
                                           "kind: Pod\nspec:\n  containers:\n   - name: b\n"
                                           "  - name: c\n");
    int rc = run(&out, &err, NULL, "lint", bad, NULL);
    assert_int_equal(rc, 2);
    char want[600];
    snprintf(want, sizeof(want), "%s:8:", bad);
    if (strstr(err, want) == NULL)
        fprintf(stderr, "stderr was: %s\n", err);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "invalid YAML"));
    /* Findings of the first document are still printed. */
    assert_non_null(strstr(out, "[memory-limit-missing]"));
    free(out);
    free(err);

    /* A missing file is exit 2 even beside a clean one. */
    const char *clean = tmp_file("clean.yaml", clean_pod);
    assert_int_equal(run(&out, &err, NULL, "lint", clean, "/nonexistent/x.yaml", NULL), 2);
    assert_non_null(strstr(err, "/nonexistent/x.yaml"));
    free(out);
    free(err);
}

static void test_stdin_and_directories(void **state)
{
    (void)state;
    char *out, *err;
    const char *ratio = tmp_file("ratio.yaml", ratio_pod);
    assert_int_equal(run(&out, &err, ratio, "lint", "-", NULL), 1);
    assert_non_null(strstr(out, "<stdin>:6:"));
    free(out);
    free(err);

    /* A directory: only *.yaml / *.yml, recursively, hidden entries skipped. */
    char sub[600], path[700];
    snprintf(sub, sizeof(sub), "%s/tree", tmpdir);
    assert_int_equal(mkdir(sub, 0700), 0);
    snprintf(path, sizeof(path), "%s/tree/nested", tmpdir);
    assert_int_equal(mkdir(path, 0700), 0);
    tmp_file("tree/nested/a.yml", ratio_pod);
    tmp_file("tree/b.yaml", clean_pod);
    tmp_file("tree/notes.txt", "not: [yaml\n");
    tmp_file("tree/.hidden.yaml", "not: [yaml\n");
    assert_int_equal(run(&out, &err, NULL, "lint", "--format", "json", sub, NULL), 1);
    json_object *root = json_tokener_parse(out);
    assert_non_null(root);
    json_object *summary, *files, *findings;
    assert_true(json_object_object_get_ex(root, "summary", &summary));
    assert_true(json_object_object_get_ex(summary, "files", &files));
    assert_int_equal(json_object_get_int(files), 2);
    assert_true(json_object_object_get_ex(root, "findings", &findings));
    assert_int_equal(json_object_array_length(findings), 1);
    json_object *file;
    assert_true(json_object_object_get_ex(json_object_array_get_idx(findings, 0), "file", &file));
    assert_non_null(strstr(json_object_get_string(file), "tree/nested/a.yml"));
    json_object_put(root);
    free(out);
    free(err);
}

static void test_sarif_output(void **state)
{
    (void)state;
    char *out, *err;
    int rc = run(&out, &err, NULL, "lint", "--format", "sarif",
                 source_path("tests/lint/manifests/jvm-no-direct-cap.yaml"), NULL);
    assert_int_equal(rc, 1);
    json_object *root = json_tokener_parse(out);
    assert_non_null(root);
    json_object *v, *runs, *run0, *tool, *driver, *results;
    assert_true(json_object_object_get_ex(root, "version", &v));
    assert_string_equal(json_object_get_string(v), "2.1.0");
    assert_true(json_object_object_get_ex(root, "$schema", &v));
    assert_true(json_object_object_get_ex(root, "runs", &runs));
    run0 = json_object_array_get_idx(runs, 0);
    assert_non_null(run0);
    assert_true(json_object_object_get_ex(run0, "tool", &tool));
    assert_true(json_object_object_get_ex(tool, "driver", &driver));
    assert_true(json_object_object_get_ex(driver, "name", &v));
    assert_true(json_object_object_get_ex(driver, "rules", &v));
    assert_int_equal(json_object_array_length(v), OOMKIT__RULE_COUNT);
    assert_true(json_object_object_get_ex(run0, "results", &results));
    assert_int_equal(json_object_array_length(results), 1);
    json_object *r = json_object_array_get_idx(results, 0), *loc, *phys, *art, *region, *x;
    assert_true(json_object_object_get_ex(r, "ruleId", &x));
    assert_string_equal(json_object_get_string(x), "jvm-memory-caps");
    assert_true(json_object_object_get_ex(r, "level", &x));
    assert_string_equal(json_object_get_string(x), "warning");
    assert_true(json_object_object_get_ex(r, "message", &x));
    assert_true(json_object_object_get_ex(x, "text", &x));
    assert_true(json_object_object_get_ex(r, "locations", &loc));
    assert_true(json_object_object_get_ex(json_object_array_get_idx(loc, 0), "physicalLocation",
                                          &phys));
    assert_true(json_object_object_get_ex(phys, "artifactLocation", &art));
    assert_true(json_object_object_get_ex(art, "uri", &x));
    assert_non_null(strstr(json_object_get_string(x), "jvm-no-direct-cap.yaml"));
    assert_true(json_object_object_get_ex(phys, "region", &region));
    assert_true(json_object_object_get_ex(region, "startLine", &x));
    assert_int_equal(json_object_get_int(x), 21);
    assert_true(json_object_object_get_ex(region, "startColumn", &x));
    assert_int_equal(json_object_get_int(x), 22);
    json_object_put(root);
    free(out);
    free(err);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_codes),
        cmocka_unit_test(test_unreadable_input),
        cmocka_unit_test(test_stdin_and_directories),
        cmocka_unit_test(test_sarif_output),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
