/* Tests of `oomkit mph` (src/cli/mph.c) and `oomkit bench mph`
 * (bench/mph/bench_mph.c) through the real binaries: build a function and a
 * static map from files, query them, describe them, and get the documented
 * exit codes and messages for bad options, bad input and bad usage. */
#include "mph_test_util.h"

#include <errno.h>
#include <sys/stat.h>
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
    /* Bad input is the usage class (2), as in the other commands; 3 is
     * for internal failure. */
    write_file("dup.tsv", "a\t1\nb\t2\na\t3\n");
    assert_int_equal(run(out, sizeof(out), "mph build dup.tsv -o dup.mph"), 2);
    read_stderr(err, sizeof(err));
    assert_non_null(strstr(err, "dup.tsv:3: duplicate key"));
    write_file("dup.txt", "a\nb\n\nb\n");
    assert_int_equal(run(out, sizeof(out), "mph build dup.txt -o dup.mph"), 2);
    read_stderr(err, sizeof(err));
    assert_non_null(strstr(err, "dup.txt:4: duplicate key"));
    write_file("bad.tsv", "a\t1\nb\tlots\n");
    assert_int_equal(run(out, sizeof(out), "mph build bad.tsv -o bad.mph"), 2);
    read_stderr(err, sizeof(err));
    assert_non_null(strstr(err, "bad.tsv:2:"));
    write_file("junk.mph", "not a blob at all, not even close, but long enough to have a header "
                           "that could be parsed if one were careless about it at all.\n");
    assert_int_equal(run(out, sizeof(out), "mph stats junk.mph"), 2);
    read_stderr(err, sizeof(err));
    assert_non_null(strstr(err, "corrupt"));
    assert_int_equal(run(out, sizeof(out), "mph query junk.mph a"), 2);
    assert_int_equal(run(out, sizeof(out), "mph query missing.mph a"), 2);
    assert_int_equal(run(out, sizeof(out), "mph build missing.tsv -o x.mph"), 2);
    assert_int_equal(run(out, sizeof(out), "mph build dup.tsv"), 2);
    assert_int_equal(run(out, sizeof(out), "mph frobnicate"), 2);
    assert_int_equal(run(out, sizeof(out), "mph build --fingerprint-bits 40 dup.tsv -o x"), 2);
    assert_int_equal(run(out, sizeof(out), "mph --help"), 0);
    assert_non_null(strstr(out, "usage: oomkit mph build"));
    assert_non_null(strstr(out, "exit status: 0 done; 1 (query) a key was not found; 2 bad"));
    assert_int_equal(run(out, sizeof(out), "mph query --help"), 0);
}

/* --keys-per-bucket and --load-factor outside the library's ranges are
 * refused when parsed, naming the option, the value and the range, instead
 * of failing the build as if no function existed; the ranges' ends build. */
static void test_parameter_ranges(void **state)
{
    (void)state;
    static const char *const bad_lambda[] = { "0.1", "-1", "nan", "inf", "0", "33" };
    static const char *const bad_alpha[] = { "1", "1.5", "-1", "0", "0.5", "nan" };
    char out[4096], err[4096], want[160];
    write_file("small.txt", "a\nb\nc\nd\ne\n");
    for (size_t i = 0; i < sizeof(bad_lambda) / sizeof(bad_lambda[0]); i++) {
        assert_int_equal(run(out, sizeof(out), "mph build small.txt -o r.mph --keys-per-bucket %s",
                             bad_lambda[i]),
                         2);
        read_stderr(err, sizeof(err));
        snprintf(want, sizeof(want),
                 "--keys-per-bucket wants a number from 1 to 32 (default 3.5), not '%s'\n",
                 bad_lambda[i]);
        assert_non_null(strstr(err, want));
    }
    for (size_t i = 0; i < sizeof(bad_alpha) / sizeof(bad_alpha[0]); i++) {
        assert_int_equal(
            run(out, sizeof(out), "mph build small.txt -o r.mph --load-factor %s", bad_alpha[i]),
            2);
        read_stderr(err, sizeof(err));
        snprintf(want, sizeof(want),
                 "--load-factor wants a number above 0.5 and below 1 (default 0.995), not '%s'\n",
                 bad_alpha[i]);
        assert_non_null(strstr(err, want));
    }
    assert_int_equal(run(out, sizeof(out),
                         "mph build small.txt -o r.mph --keys-per-bucket 1 --load-factor 0.51"),
                     0);
    assert_int_equal(run(out, sizeof(out),
                         "mph build small.txt -o r.mph --keys-per-bucket 32 --load-factor 0.999"),
                     0);
    assert_int_equal(run(out, sizeof(out), "mph build --help"), 0);
    assert_non_null(strstr(out, "lambda, 1 to 32, default 3.5"));
    assert_non_null(strstr(out, "alpha, above 0.5 and below 1, default 0.995"));
}

/* Zero keys build an empty function (or map), which holds no key: a query
 * says so rather than print slot 0 of a function that has no slots. */
static void test_empty_input(void **state)
{
    (void)state;
    char out[4096];
    write_file("empty.txt", "");
    assert_int_equal(run(out, sizeof(out), "mph build empty.txt -o empty.mph"), 0);
    assert_non_null(strstr(out, "0 keys, function"));
    assert_int_equal(run(out, sizeof(out), "mph query empty.mph foo bar"), 1);
    assert_string_equal(out, "foo\t(not found)\nbar\t(not found)\n");
    assert_int_equal(run(out, sizeof(out), "mph stats empty.mph"), 0);
    assert_non_null(strstr(out, "keys          0"));
    /* Only a comment, but with a TAB: an empty static map. */
    write_file("empty.tsv", "# namespace\tname\tkey\tvalue\n");
    assert_int_equal(run(out, sizeof(out), "mph build empty.tsv -o emap.mph"), 0);
    assert_non_null(strstr(out, "0 keys, static map"));
    assert_int_equal(run(out, sizeof(out), "mph query emap.mph foo"), 1);
    assert_string_equal(out, "foo\t(not found)\n");
}

/* --exact and --fingerprint-bits shape a static map; where the build gives
 * a function they would be ignored, so they are refused. */
static void test_map_options_need_a_map(void **state)
{
    (void)state;
    char out[4096], err[4096], path[1024];
    write_file("fn.txt", "a\nb\n");
    write_file("kv.tsv", "a\t1\nb\t2\n");
    assert_int_equal(run(out, sizeof(out), "mph build fn.txt -o opt.mph --exact"), 2);
    read_stderr(err, sizeof(err));
    assert_non_null(strstr(err, "--exact is for static maps, and keys-only input"));
    assert_int_equal(run(out, sizeof(out), "mph build fn.txt -o opt.mph --fingerprint-bits 8"), 2);
    read_stderr(err, sizeof(err));
    assert_non_null(strstr(err, "--fingerprint-bits is for static maps, and keys-only input"));
    assert_int_equal(run(out, sizeof(out), "mph build kv.tsv -o opt.mph --mph --exact"), 2);
    read_stderr(err, sizeof(err));
    assert_non_null(strstr(err, "--exact is for static maps, and --mph builds a function"));
    snprintf(path, sizeof(path), "%s/opt.mph", dir);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(
        run(out, sizeof(out), "mph build kv.tsv -o opt.mph --exact --fingerprint-bits 8"), 0);
    assert_non_null(strstr(out, "2 keys, static map"));
}

#ifdef OOMKIT_TEST_BENCH_MPH
/* A --peers name that names nothing is refused with the choices, as
 * `bench store --structures` does, instead of measuring nothing. */
static void test_bench_peers(void **state)
{
    (void)state;
    static const char *const bad[] = { "nosuch", "", "oomkit,nosuch", "oomkit," };
    char out[8192], err[4096], want[160];
    char text[32 * 20 + 1] = "";
    size_t at = 0;
    for (int i = 1; i <= 20; i++)
        at += (size_t)snprintf(text + at, sizeof(text) - at, "key-%d\n", i);
    write_file("bench.txt", text);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(run(out, sizeof(out), "bench mph --keys bench.txt --peers '%s'", bad[i]),
                         2);
        assert_string_equal(out, "");
        read_stderr(err, sizeof(err));
        const char *name = strrchr(bad[i], ',') ? strrchr(bad[i], ',') + 1 : bad[i];
        snprintf(want, sizeof(want),
                 "--peers: unknown peer '%s' (choose from floor, oomkit, map, chd, chd-compact, "
                 "bdz, bmz, glib)\n",
                 name);
        assert_non_null(strstr(err, want));
    }
    assert_int_equal(run(out, sizeof(out), "bench mph --keys bench.txt --peers oomkit,map"), 0);
    assert_non_null(strstr(out, "oomkit-mph"));
    assert_non_null(strstr(out, "oomkit-static-map"));
    assert_null(strstr(out, "cmph"));
}

/* Bad keys are named: a duplicate by its line (empty lines counted), an
 * unreadable file with the reason. */
static void test_bench_bad_keys(void **state)
{
    (void)state;
    char out[8192], err[4096], want[160], path[1024];
    write_file("bench-dup.txt", "a\nb\n\nc\nb\n");
    assert_int_equal(run(out, sizeof(out), "bench mph --keys bench-dup.txt"), 2);
    read_stderr(err, sizeof(err));
    assert_non_null(strstr(err, "bench-dup.txt:5: duplicate key 'b'\n"));
    snprintf(path, sizeof(path), "%s/bench-dir", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(run(out, sizeof(out), "bench mph --keys bench-dir"), 2);
    read_stderr(err, sizeof(err));
    snprintf(want, sizeof(want), "cannot read bench-dir: %s\n", strerror(EISDIR));
    assert_non_null(strstr(err, want));
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_build_query_stats),
        cmocka_unit_test(test_function_from_keys),
        cmocka_unit_test(test_errors_and_exit_codes),
        cmocka_unit_test(test_parameter_ranges),
        cmocka_unit_test(test_empty_input),
        cmocka_unit_test(test_map_options_need_a_map),
#ifdef OOMKIT_TEST_BENCH_MPH
        cmocka_unit_test(test_bench_peers),
        cmocka_unit_test(test_bench_bad_keys),
#endif
    };
    return cmocka_run_group_tests_name("mph_cli", tests, setup, teardown);
}
