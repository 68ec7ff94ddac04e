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

    /* A missing file is exit 2 even beside a clean one, and the summary
     * counts only the file that was read. */
    const char *clean = tmp_file("clean.yaml", clean_pod);
    assert_int_equal(run(&out, &err, NULL, "lint", clean, "/nonexistent/x.yaml", NULL), 2);
    assert_non_null(strstr(err, "/nonexistent/x.yaml"));
    assert_non_null(strstr(out, " in 1 file, 1 document, 1 container; 1 input error\n"));
    free(out);
    free(err);
    assert_int_equal(run(&out, &err, NULL, "lint", "/nonexistent/x.yaml", NULL), 2);
    assert_non_null(strstr(out, " in 0 files, 0 documents, 0 containers; 1 input error\n"));
    free(out);
    free(err);

    /* An alias bomb is refused with its line; the findings of other files
     * are all reported. */
    const char *bomb = tmp_file(
        "bomb.yaml",
        "kind: List\nitems:\n"
        "- &a {kind: Pod, spec: {containers: [&c {name: c}, *c, *c, *c, *c, *c, *c, *c, *c, *c]}}\n"
        "- &b {kind: List, items: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]}\n"
        "- &d {kind: List, items: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]}\n"
        "- {kind: List, items: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]}\n");
    const char *ratio = tmp_file("ratio.yaml", ratio_pod);
    assert_int_equal(run(&out, &err, NULL, "lint", bomb, ratio, NULL), 2);
    snprintf(want, sizeof(want), "%s:6:", bomb);
    if (strstr(err, want) == NULL)
        fprintf(stderr, "stderr was: %s\n", err);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "too many alias expansions (a YAML alias bomb?)"));
    assert_non_null(strstr(out, "ratio.yaml:6:"));
    assert_non_null(strstr(out, "1 finding (0 error, 1 warning, 0 info) in 2 files"));
    free(out);
    free(err);
}

/* Runs lint --format json on path: the exit code, the number of findings
 * and summary.files. */
static int lint_json(const char *path, int *findings, int *files)
{
    char *out, *err;
    int rc = run(&out, &err, NULL, "lint", "--format", "json", path, NULL);
    json_object *root = json_tokener_parse(out), *f, *summary, *n;
    assert_non_null(root);
    assert_true(json_object_object_get_ex(root, "findings", &f));
    *findings = (int)json_object_array_length(f);
    assert_true(json_object_object_get_ex(root, "summary", &summary));
    assert_true(json_object_object_get_ex(summary, "files", &n));
    *files = json_object_get_int(n);
    json_object_put(root);
    free(out);
    free(err);
    return rc;
}

static void test_symlinks(void **state)
{
    (void)state;
    /* loop/self -> ../loop, and a second name for the manifest: each
     * directory and file is read once. */
    char dir[600], link[700];
    snprintf(dir, sizeof(dir), "%s/loop", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    tmp_file("loop/a.yaml", ratio_pod);
    snprintf(link, sizeof(link), "%s/self", dir);
    assert_int_equal(symlink("../loop", link), 0);
    snprintf(link, sizeof(link), "%s/same.yaml", dir);
    assert_int_equal(symlink("a.yaml", link), 0);
    int findings, files;
    assert_int_equal(lint_json(dir, &findings, &files), 1);
    assert_int_equal(findings, 1);
    assert_int_equal(files, 1);

    /* Two links to the directory itself: 2^depth paths without the check. */
    snprintf(link, sizeof(link), "%s/x", dir);
    assert_int_equal(symlink(".", link), 0);
    snprintf(link, sizeof(link), "%s/y", dir);
    assert_int_equal(symlink(".", link), 0);
    assert_int_equal(lint_json(dir, &findings, &files), 1);
    assert_int_equal(findings, 1);
    assert_int_equal(files, 1);

    /* A dangling link named as a manifest is an input error, not a pass. */
    snprintf(link, sizeof(link), "%s/gone.yaml", dir);
    assert_int_equal(symlink("no-such-file.yaml", link), 0);
    char *out, *err;
    assert_int_equal(run(&out, &err, NULL, "lint", dir, NULL), 2);
    assert_non_null(strstr(err, "gone.yaml"));
    assert_non_null(strstr(err, "No such file or directory"));
    free(out);
    free(err);
}

static void test_no_yaml_files(void **state)
{
    (void)state;
    char *out, *err;
    /* An empty directory, or one with no YAML in it, fails: a typo must
     * not pass CI. */
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/empty", tmpdir);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(run(&out, &err, NULL, "lint", dir, NULL), 2);
    assert_non_null(strstr(err, "no *.yaml or *.yml files in this directory or below"));
    assert_non_null(strstr(err, dir));
    assert_non_null(strstr(out, " in 0 files"));
    free(out);
    free(err);
    tmp_file("empty/README.md", "# manifests go here\n");
    const char *clean = tmp_file("clean.yaml", clean_pod);
    assert_int_equal(run(&out, &err, NULL, "lint", clean, dir, NULL), 2);
    assert_non_null(strstr(err, "no *.yaml or *.yml files"));
    free(out);
    free(err);

    /* A file named explicitly may hold no workloads, or nothing at all. */
    const char *nothing = tmp_file("nothing.yaml", "");
    assert_int_equal(run(&out, &err, NULL, "lint", nothing, NULL), 0);
    assert_non_null(strstr(out, "0 findings (0 error, 0 warning, 0 info) in 1 file, 0 documents"));
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
        cmocka_unit_test(test_symlinks),
        cmocka_unit_test(test_no_yaml_files),
        cmocka_unit_test(test_sarif_output),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
