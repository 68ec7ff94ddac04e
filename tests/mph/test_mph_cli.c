/* Tests of `oomkit mph` (src/cli/mph.c) through the real binary: build a
 * function and a static map from files, query them, describe them, and get
 * the documented exit codes for duplicates, corrupt files and bad usage. */
#include "mph_test_util.h"

#include <sys/wait.h>
#include <unistd.h>

static char oomkit_bin[1024], dir[512];

static int setup(void **state)
{
    (void)state;
    const char *bin = getenv("OOMKIT_BINARY_DIR");
    if (bin == NULL)
        return -1;
    snprintf(oomkit_bin, sizeof(oomkit_bin), "%s/oomkit", bin);
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/oomkit-test-mph-cli-%ld", tmp && *tmp ? tmp : "/tmp",
             (long)getpid());
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs `oomkit ARGS` (a shell fragment), capturing stdout into out.
 * Returns the exit code. */
static int run(char *out, size_t cap, const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' %s 2>stderr.txt", dir, oomkit_bin, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

static void write_file(const char *name, const char *text)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void read_stderr(char *buf, size_t cap)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/stderr.txt", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

static void test_map_build_query_stats(void **state)
{
    (void)state;
    write_file("state.tsv", "prod\tcheckout-7c5d\tstatus.restartCount\t3\n"
                            "prod\tcheckout-7c5d\tspec.replicas\t-12\n"
                            "dev\tcart-1\tstatus.phase\t1\n");
    char out[8192];
    assert_int_equal(run(out, sizeof(out), "mph build state.tsv -o state.mph --exact"), 0);
    assert_non_null(strstr(out, "3 keys"));
    assert_int_equal(run(out, sizeof(out),
                         "mph query state.mph prod/checkout-7c5d/spec.replicas dev/cart-1/status.phase"),
                     0);
    assert_string_equal(out, "prod/checkout-7c5d/spec.replicas\t-12\n"
                             "dev/cart-1/status.phase\t1\n");
    assert_int_equal(run(out, sizeof(out), "mph query state.mph nope/x/y"), 1);
    assert_string_equal(out, "nope/x/y\t(not found)\n");
    assert_int_equal(run(out, sizeof(out), "mph stats state.mph"), 0);
    assert_non_null(strstr(out, "static map"));
    assert_non_null(strstr(out, "keys          3"));
    assert_non_null(strstr(out, "(exact)"));
    assert_non_null(strstr(out, "build time"));
    assert_int_equal(run(out, sizeof(out), "mph stats state.mph --json"), 0);
    assert_non_null(strstr(out, "\"keys\": 3"));
    assert_non_null(strstr(out, "\"exact\": true"));
}

static void test_function_from_keys(void **state)
{
    (void)state;
    char text[64 * 1000 + 1] = "";
    size_t at = 0;
    for (int i = 1; i <= 1000; i++)
        at += (size_t)snprintf(text + at, sizeof(text) - at, "pod-%05d\n", i);
    write_file("keys.txt", text);
    char out[65536];
    assert_int_equal(run(out, sizeof(out), "mph build keys.txt -o keys.mph --reproducible"), 0);
    assert_non_null(strstr(out, "1000 keys, function"));
    assert_int_equal(run(out, sizeof(out), "mph query keys.mph pod-00001 pod-01000"), 0);
    unsigned long a, b;
    assert_int_equal(sscanf(out, "pod-00001\t%lu\npod-01000\t%lu\n", &a, &b), 2);
    assert_true(a < 1000 && b < 1000 && a != b);
    /* Reproducible builds are byte-identical. */
    assert_int_equal(run(out, sizeof(out), "mph build keys.txt -o again.mph --reproducible"),
                     0);
    assert_int_equal(run(out, sizeof(out), "mph stats keys.mph >/dev/null && cmp keys.mph again.mph"), 0);
    assert_int_equal(run(out, sizeof(out), "mph stats keys.mph"), 0);
    assert_non_null(strstr(out, "not recorded"));
}

static void test_errors_and_exit_codes(void **state)
{
    (void)state;
    char out[4096], err[4096];
    write_file("dup.tsv", "a\t1\nb\t2\na\t3\n");
    assert_int_equal(run(out, sizeof(out), "mph build dup.tsv -o dup.mph"), 3);
    read_stderr(err, sizeof(err));
    assert_non_null(strstr(err, "dup.tsv:3: duplicate key"));
    write_file("bad.tsv", "a\t1\nb\tlots\n");
    assert_int_equal(run(out, sizeof(out), "mph build bad.tsv -o bad.mph"), 3);
    read_stderr(err, sizeof(err));
    assert_non_null(strstr(err, "bad.tsv:2:"));
    write_file("junk.mph", "not a blob at all, not even close, but long enough to have a header "
                           "that could be parsed if one were careless about it at all.\n");
    assert_int_equal(run(out, sizeof(out), "mph stats junk.mph"), 3);
    read_stderr(err, sizeof(err));
    assert_non_null(strstr(err, "corrupt"));
    assert_int_equal(run(out, sizeof(out), "mph build missing.tsv -o x.mph"), 2);
    assert_int_equal(run(out, sizeof(out), "mph build dup.tsv"), 2);
    assert_int_equal(run(out, sizeof(out), "mph frobnicate"), 2);
    assert_int_equal(run(out, sizeof(out), "mph build --fingerprint-bits 40 dup.tsv -o x"), 2);
    assert_int_equal(run(out, sizeof(out), "mph --help"), 0);
    assert_non_null(strstr(out, "usage: oomkit mph build"));
    assert_int_equal(run(out, sizeof(out), "mph query --help"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_build_query_stats),
        cmocka_unit_test(test_function_from_keys),
        cmocka_unit_test(test_errors_and_exit_codes),
    };
    return cmocka_run_group_tests_name("mph_cli", tests, setup, teardown);
}
