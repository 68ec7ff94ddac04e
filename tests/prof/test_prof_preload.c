/* End-to-end tests of liboomkit_prof.so on real target programs
 * (tests/targets/prof_*): each target allocates known bytes at sites
 * marked `SITE:<name>`; the tests run it under LD_PRELOAD, decode the
 * profile it wrote and compare with the truth. Label noasan: ASan's own
 * malloc interposer cannot share a process with the profiler.
 *
 * Sampled-mode bound: a site doing N allocations of s bytes is sampled
 * n ~ Binomial(N, q) times, q = 1 - exp(-s/R); the estimate n*s/q has
 * relative standard deviation sqrt((1-q)/(N q)). The test allows 5 standard
 * deviations, so an honest profiler fails it with probability < 1e-6. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "prof_test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SITES 256

static struct oomkit__pprof_profile load_one(const char *dir, const char *prefix)
{
    char files[8][512];
    size_t n = pt_list(dir, prefix, files, 8);
    assert_int_equal(n, 1);
    struct oomkit__pprof_profile p;
    assert_int_equal(oomkit__pprof_read_file(files[0], &p), 0);
    return p;
}

static void expect_site(const struct pt_site *s, size_t n, const char *fn, const char *file,
                        int64_t bytes)
{
    int64_t line = -1;
    int64_t v = pt_site_value(s, n, fn, &line);
    if (v != bytes)
        print_error("site %s: expected %lld, got %lld\n", fn, (long long)bytes, (long long)v);
    assert_int_equal(v, bytes);
    if (file != NULL) {
        int want = pt_site_line(file, fn);
        assert_true(want > 0);
        if (line != want)
            print_error("site %s: expected line %d, got %lld\n", fn, want, (long long)line);
        assert_int_equal(line, want);
    }
}

static void test_exact_sites(void **state)
{
    (void)state;
    const char *dir = pt_tmpdir("exact");
    char env[700];
    snprintf(env, sizeof(env), "sample=all,out=%s/p", dir);
    char *argv[] = { (char *)pt_target("prof_sites"), NULL };
    assert_int_equal(pt_run(argv, env, NULL, 0), 0);
    struct oomkit__pprof_profile p = load_one(dir, "p.");
    assert_int_equal(p.period, 1);
    /* Mapping 1 is the program, with its build ID (hex of the ELF note). */
    assert_true(p.n_mappings > 1);
    assert_non_null(strstr(oomkit__pprof_str(&p, p.mappings[0].filename), "prof_sites"));
    assert_int_equal(strlen(oomkit__pprof_str(&p, p.mappings[0].build_id)), 40);
    assert_true(p.mappings[0].has_functions && p.mappings[0].has_line_numbers);
    struct pt_site inuse[MAX_SITES], alloc[MAX_SITES], mmap_in[MAX_SITES], mmap_al[MAX_SITES];
    size_t ni = pt_sum_by_leaf(&p, "inuse_space", inuse, MAX_SITES);
    size_t na = pt_sum_by_leaf(&p, "alloc_space", alloc, MAX_SITES);
    size_t nmi = pt_sum_by_leaf(&p, "mmap_inuse_space", mmap_in, MAX_SITES);
    size_t nma = pt_sum_by_leaf(&p, "mmap_alloc_space", mmap_al, MAX_SITES);

    /* Leaks: exact bytes, right function and line. */
    expect_site(inuse, ni, "leak_big", "prof_sites.c", 1000 * 40000);
    expect_site(inuse, ni, "leak_small", "prof_sites.c", 20000 * 32);
    expect_site(inuse, ni, "thread_site", "prof_sites.c", 4 * 100 * 1000);
    expect_site(inuse, ni, "calloc_site", "prof_sites.c", 10 * 100 * 12);
    expect_site(inuse, ni, "realloc_chain", "prof_sites.c", 8192);
    expect_site(inuse, ni, "memalign_site", "prof_sites.c", 10 * 4096);
    expect_site(inuse, ni, "aligned_site", "prof_sites.c", 640);
    expect_site(inuse, ni, "churn_site", NULL, 0);
    expect_site(inuse, ni, "inline_site", "prof_sites.c", 3 * 777); /* an inlined frame */
    assert_int_equal(pt_site_value(inuse, ni, "inline_caller", NULL), 0);
    /* Allocation totals count what was freed too. */
    int64_t churn = 0;
    for (int i = 0; i < 5000; i++)
        churn += 100 + i % 7;
    expect_site(alloc, na, "churn_site", "prof_sites.c", churn);
    expect_site(alloc, na, "realloc_chain", "prof_sites.c", 16 * 1023);
    /* Anonymous mappings are their own sample types. */
    expect_site(mmap_in, nmi, "mmap_site", NULL, 4 << 20);
    expect_site(mmap_al, nma, "mmap_site", NULL, (4 << 20) + (1 << 20));
    int64_t line = 0;
    pt_site_value(mmap_in, nmi, "mmap_site", &line);
    assert_int_equal(line, pt_site_line("prof_sites.c", "mmap_leak"));

    /* Nothing else in the program is reported as leaked: every in-use site
     * in prof_sites.c is a known leak (libc's own buffers are outside). */
    static const char *const known[] = { "leak_big", "leak_small", "thread_site", "calloc_site",
                                         "realloc_chain", "memalign_site", "aligned_site", "main",
                                         "inline_site" };
    for (size_t i = 0; i < ni; i++) {
        if (inuse[i].value == 0 || strstr(inuse[i].file, "prof_sites.c") == NULL)
            continue;
        bool ok = false;
        for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
            ok |= strcmp(inuse[i].function, known[k]) == 0;
        if (!ok)
            print_error("unexpected leak at %s:%lld\n", inuse[i].function, (long long)inuse[i].line);
        assert_true(ok);
    }
    expect_site(inuse, ni, "main", NULL, 100000 * 8); /* the leaks array */
    pt_site_value(inuse, ni, "main", &line);
    assert_int_equal(line, pt_site_line("prof_sites.c", "leak_array"));
    oomkit__pprof_free(&p);
}

static void test_cxx_new(void **state)
{
    (void)state;
    const char *dir = pt_tmpdir("cxx");
    char env[700];
    snprintf(env, sizeof(env), "sample=all,out=%s/p", dir);
    char *argv[] = { (char *)pt_target("prof_cxx"), NULL };
    assert_int_equal(pt_run(argv, env, NULL, 0), 0);
    struct oomkit__pprof_profile p = load_one(dir, "p.");
    struct pt_site s[MAX_SITES];
    size_t n = pt_sum_by_leaf(&p, "inuse_space", s, MAX_SITES);
    /* operator new frames are pruned by drop_frames: the leaf is the code
     * that wrote `new`. */
    expect_site(s, n, "new_site()", NULL, 100 * 256);
    expect_site(s, n, "new_object_site()", NULL, 50 * 48);
    int64_t line = 0;
    pt_site_value(s, n, "new_site()", &line);
    assert_int_equal(line, pt_site_line("prof_cxx.cpp", "new_site"));
    oomkit__pprof_free(&p);
}

static void test_fork_child_own_file(void **state)
{
    (void)state;
    const char *dir = pt_tmpdir("fork");
    char env[700];
    snprintf(env, sizeof(env), "sample=all,out=%s/p", dir);
    char *argv[] = { (char *)pt_target("prof_fork"), NULL };
    assert_int_equal(pt_run(argv, env, NULL, 0), 0);
    char files[8][512];
    assert_int_equal(pt_list(dir, "p.", files, 8), 2);
    /* One file per pid; the child's holds its own site on top of what it
     * inherited, the parent's does not. */
    int with_child = 0;
    for (int i = 0; i < 2; i++) {
        struct oomkit__pprof_profile p;
        assert_int_equal(oomkit__pprof_read_file(files[i], &p), 0);
        struct pt_site s[MAX_SITES];
        size_t n = pt_sum_by_leaf(&p, "alloc_space", s, MAX_SITES);
        expect_site(s, n, "parent_site", "prof_fork.c", 10 * 5000);
        int64_t c = pt_site_value(s, n, "child_site", NULL);
        if (c != 0) {
            assert_int_equal(c, 7 * 3000);
            with_child++;
        }
        oomkit__pprof_free(&p);
    }
    assert_int_equal(with_child, 1);
}

static void test_dlopen_library(void **state)
{
    (void)state;
    const char *dir = pt_tmpdir("dl");
    char env[700];
    snprintf(env, sizeof(env), "sample=all,out=%s/p", dir);
    char *argv[] = { (char *)pt_target("prof_dl"), (char *)pt_target("libprof_dl_lib.so"), NULL };
    assert_int_equal(pt_run(argv, env, NULL, 0), 0);
    struct oomkit__pprof_profile p = load_one(dir, "p.");
    struct pt_site s[MAX_SITES];
    size_t n = pt_sum_by_leaf(&p, "inuse_space", s, MAX_SITES);
    expect_site(s, n, "dl_site", "prof_dl_lib.c", 10 * 12345);
    oomkit__pprof_free(&p);
}

static void check_estimate(const struct pt_site *s, size_t n, const char *fn, double count,
                           double size, double period)
{
    double truth = count * size;
    double q = -expm1(-size / period);
    double rel_sd = sqrt((1 - q) / (count * q));
    double got = (double)pt_site_value(s, n, fn, NULL);
    double err = fabs(got - truth) / truth;
    print_message("sampled %s: estimate %.0f, truth %.0f, error %.2f%%, bound %.2f%% (5 sd)\n",
                  fn, got, truth, 100 * err, 500 * rel_sd);
    assert_true(err <= 5 * rel_sd);
}

static void test_sampled_estimates(void **state)
{
    (void)state;
    const char *dir = pt_tmpdir("sampled");
    char env[700];
    snprintf(env, sizeof(env), "sample=64k,out=%s/p", dir);
    char *argv[] = { (char *)pt_target("prof_sites"), (char *)"sampled", NULL };
    assert_int_equal(pt_run(argv, env, NULL, 0), 0);
    struct oomkit__pprof_profile p = load_one(dir, "p.");
    assert_int_equal(p.period, 65536);
    struct pt_site alloc[MAX_SITES], inuse[MAX_SITES];
    size_t na = pt_sum_by_leaf(&p, "alloc_space", alloc, MAX_SITES);
    size_t ni = pt_sum_by_leaf(&p, "inuse_space", inuse, MAX_SITES);
    check_estimate(alloc, na, "sampled_churn", 100000, 4096, 65536);
    check_estimate(inuse, ni, "sampled_leak", 1000, 40000, 65536);
    /* Freed memory is not in use, whatever the sampling. */
    assert_int_equal(pt_site_value(inuse, ni, "sampled_churn", NULL), 0);
    oomkit__pprof_free(&p);
}

static void test_signal_and_bad_setting(void **state)
{
    (void)state;
    const char *dir = pt_tmpdir("signal");
    char env[700], err[4096];
    /* "sample=banana" is bad: one line on stderr, defaults, keeps running. */
    snprintf(env, sizeof(env), "sample=banana,out=%s/p,dump=exit+signal", dir);
    char *argv[] = { (char *)pt_target("prof_sites"), (char *)"idle", (char *)"400", NULL };
    assert_int_equal(pt_run(argv, env, err, sizeof(err)), 0);
    assert_non_null(strstr(err, "sample=banana\n")); /* the bad setting alone */
    assert_null(strchr(strchr(err, '\n') + 1, '\n')); /* exactly one line */
    char files[8][512];
    /* The target raised SIGUSR2 once: one dump from the signal, one at exit. */
    assert_int_equal(pt_list(dir, "p.", files, 8), 2);
    struct oomkit__pprof_profile p;
    assert_int_equal(oomkit__pprof_read_file(files[0], &p), 0);
    assert_int_equal(p.period, 512 * 1024); /* the default survived */
    oomkit__pprof_free(&p);
}

/* Number of profiles under dir with prefix whose leak_big is in use. */
static int profiles_with_leak_big(const char *dir, const char *prefix)
{
    char files[16][512];
    size_t n = pt_list(dir, prefix, files, 16);
    int with = 0;
    for (size_t i = 0; i < n; i++) {
        struct oomkit__pprof_profile p;
        assert_int_equal(oomkit__pprof_read_file(files[i], &p), 0);
        struct pt_site s[MAX_SITES];
        size_t k = pt_sum_by_leaf(&p, "inuse_space", s, MAX_SITES);
        with += pt_site_value(s, k, "leak_big", NULL) > 0;
        oomkit__pprof_free(&p);
    }
    return with;
}

static void test_exec_follows_only_when_asked(void **state)
{
    (void)state;
    const char *dir = pt_tmpdir("exec");
    char env[700], script[700];
    snprintf(script, sizeof(script), "'%s' idle 10 quiet; true", pt_target("prof_sites"));
    char *argv[] = { (char *)"/bin/sh", (char *)"-c", script, NULL };
    /* Default: the shell is profiled, the program it runs is not. */
    snprintf(env, sizeof(env), "sample=all,out=%s/stop", dir);
    assert_int_equal(pt_run(argv, env, NULL, 0), 0);
    assert_int_equal(profiles_with_leak_big(dir, "stop."), 0);
    /* exec=follow keeps LD_PRELOAD, so the program writes its own file. */
    snprintf(env, sizeof(env), "sample=all,exec=follow,out=%s/follow", dir);
    assert_int_equal(pt_run(argv, env, NULL, 0), 0);
    assert_int_equal(profiles_with_leak_big(dir, "follow."), 1);
}

static void test_interval_dumps(void **state)
{
    (void)state;
    const char *dir = pt_tmpdir("interval");
    char env[700];
    snprintf(env, sizeof(env), "interval=150ms,dump=none,out=%s/p", dir);
    char *argv[] = { (char *)pt_target("prof_sites"), (char *)"idle", (char *)"700",
                     (char *)"quiet", NULL };
    assert_int_equal(pt_run(argv, env, NULL, 0), 0);
    char files[16][512];
    size_t n = pt_list(dir, "p.", files, 16);
    /* 700 ms at 150 ms: 4 timer dumps, give or take scheduling. */
    print_message("interval dumps: %zu\n", n);
    assert_true(n >= 2 && n <= 6);
}

static void test_inuse_threshold(void **state)
{
    (void)state;
    const char *dir = pt_tmpdir("inuse");
    char env[700];
    snprintf(env, sizeof(env), "sample=all,out=%s/p,dump=inuse,inuse=10m", dir);
    char *argv[] = { (char *)pt_target("prof_sites"), (char *)"idle", (char *)"400",
                     (char *)"quiet", NULL };
    assert_int_equal(pt_run(argv, env, NULL, 0), 0);
    char files[8][512];
    assert_int_equal(pt_list(dir, "p.", files, 8), 1); /* crossing fires once */
    struct oomkit__pprof_profile p;
    assert_int_equal(oomkit__pprof_read_file(files[0], &p), 0);
    struct pt_site s[MAX_SITES];
    size_t n = pt_sum_by_leaf(&p, "inuse_space", s, MAX_SITES);
    /* The dump ran after the in-use total first reached 10 MiB. */
    int64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += s[i].value;
    assert_true(total >= 10 << 20);
    assert_true(pt_site_value(s, n, "leak_big", NULL) > 0);
    oomkit__pprof_free(&p);
}

static void test_go_pprof_reads_it(void **state)
{
    (void)state;
    if (system("command -v go >/dev/null 2>&1") != 0) {
        print_message("SKIP: `go` is not installed; cannot check `go tool pprof -top`\n");
        skip();
    }
    const char *dir = pt_tmpdir("gopprof");
    char env[700];
    snprintf(env, sizeof(env), "sample=all,out=%s/p", dir);
    char *argv[] = { (char *)pt_target("prof_sites"), NULL };
    assert_int_equal(pt_run(argv, env, NULL, 0), 0);
    char files[8][512];
    assert_int_equal(pt_list(dir, "p.", files, 8), 1);
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "HOME=%s go tool pprof -top -sample_index=inuse_space '%s' 2>&1",
             dir, files[0]);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char out[65536];
    size_t got = fread(out, 1, sizeof(out) - 1, f);
    out[got] = '\0';
    assert_int_equal(pclose(f), 0);
    assert_non_null(strstr(out, "Type: inuse_space"));
    assert_non_null(strstr(out, "leak_big"));
    assert_non_null(strstr(out, "leak_small"));
    assert_non_null(strstr(out, "thread_site"));
    assert_null(strstr(out, "malloc")); /* our hooks never appear as frames */

    /* -traces lists whole stacks; -diff_base of a profile against itself
     * reads both and shows no change. */
    snprintf(cmd, sizeof(cmd), "HOME=%s go tool pprof -traces '%s' 2>&1", dir, files[0]);
    f = popen(cmd, "r");
    assert_non_null(f);
    got = fread(out, 1, sizeof(out) - 1, f);
    out[got] = '\0';
    assert_int_equal(pclose(f), 0);
    assert_non_null(strstr(out, "leak_big\n"));
    assert_non_null(strstr(out, "inline_site"));
    snprintf(cmd, sizeof(cmd), "HOME=%s go tool pprof -top -diff_base '%s' '%s' 2>&1", dir, files[0],
             files[0]);
    f = popen(cmd, "r");
    assert_non_null(f);
    got = fread(out, 1, sizeof(out) - 1, f);
    out[got] = '\0';
    assert_int_equal(pclose(f), 0);
    assert_non_null(strstr(out, "accounting for 0, 0%"));
}

static void test_ten_million_allocations(void **state)
{
    (void)state;
    const char *dir = pt_tmpdir("many");
    char env[700];
    /* Default sampling, 4 threads, 10 M malloc/free pairs; then exact mode
     * with the frame-pointer unwinder. Neither may crash or deadlock (the
     * ctest timeout catches a hang). */
    snprintf(env, sizeof(env), "out=%s/d", dir);
    char *argv[] = { (char *)pt_target("prof_sites"), (char *)"churn", (char *)"10000000", NULL };
    assert_int_equal(pt_run(argv, env, NULL, 0), 0);
    snprintf(env, sizeof(env), "sample=all,unwind=fp,out=%s/e", dir);
    assert_int_equal(pt_run(argv, env, NULL, 0), 0);
    char files[8][512];
    assert_int_equal(pt_list(dir, "e.", files, 8), 1);
    struct oomkit__pprof_profile p;
    assert_int_equal(oomkit__pprof_read_file(files[0], &p), 0);
    struct pt_site s[MAX_SITES];
    size_t n = pt_sum_by_leaf(&p, "alloc_objects", s, MAX_SITES);
    assert_int_equal(pt_site_value(s, n, "churn_thread", NULL), 10000000);
    n = pt_sum_by_leaf(&p, "inuse_objects", s, MAX_SITES);
    assert_int_equal(pt_site_value(s, n, "churn_thread", NULL), 0);
    oomkit__pprof_free(&p);
    assert_int_equal(pt_list(dir, "d.", files, 8), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_sites),
        cmocka_unit_test(test_cxx_new),
        cmocka_unit_test(test_fork_child_own_file),
        cmocka_unit_test(test_dlopen_library),
        cmocka_unit_test(test_sampled_estimates),
        cmocka_unit_test(test_signal_and_bad_setting),
        cmocka_unit_test(test_interval_dumps),
        cmocka_unit_test(test_exec_follows_only_when_asked),
        cmocka_unit_test(test_inuse_threshold),
        cmocka_unit_test(test_go_pprof_reads_it),
        cmocka_unit_test(test_ten_million_allocations),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    /* Each test left its profiles in TMPDIR/oomkit-prof-<name>-<pid>. */
    char cmd[512];
    const char *base = getenv("TMPDIR");
    snprintf(cmd, sizeof(cmd), "rm -rf %s/oomkit-prof-*-%ld", base ? base : "/tmp", (long)getpid());
    if (system(cmd) != 0)
        return 1;
    return failed;
}
