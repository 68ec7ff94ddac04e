/* `oomkit profile -- CMD` end to end: runs a target under the profiler
 * found next to the oomkit binary, prints a top table naming the leak and
 * the profile path, and passes the command's exit status through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void test_profile_runs_and_summarises(void **state)
{
    (void)state;
    const char *bin = getenv("OOMKIT_BINARY_DIR");
    char cmd[2048], out[65536];
    snprintf(cmd, sizeof(cmd),
             "cd /tmp && '%s/oomkit' profile --all --out /tmp/oomkit-prof-cmd-%ld -- "
             "'%s/tests/targets/prof_sites' 2>&1 >/dev/null",
             bin, (long)getpid(), bin);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_non_null(strstr(out, "leak_big"));
    assert_non_null(strstr(out, "38.15MiB")); /* 40 000 000 B, exact mode */
    char *p = strstr(out, "profile: ");
    assert_non_null(p);
    char path[1024];
    assert_int_equal(sscanf(p, "profile: %1023s", path), 1);
    assert_int_equal(access(path, R_OK), 0);
    unlink(path);

    /* A failing command's status is passed through; a missing one is 3. */
    snprintf(cmd, sizeof(cmd), "'%s/oomkit' profile --out /tmp/oomkit-prof-false-%ld -- false 2>/dev/null",
             bin, (long)getpid());
    st = system(cmd);
    assert_int_equal(WEXITSTATUS(st), 1);
    snprintf(cmd, sizeof(cmd), "rm -f /tmp/oomkit-prof-false-%ld.*", (long)getpid());
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "'%s/oomkit' profile -- /no/such/program 2>/dev/null", bin);
    st = system(cmd);
    assert_int_equal(WEXITSTATUS(st), 3);
    snprintf(cmd, sizeof(cmd), "'%s/oomkit' profile --bogus 2>/dev/null", bin);
    st = system(cmd);
    assert_int_equal(WEXITSTATUS(st), 2);
}

/* The exit status of `oomkit profile ARGS` with stdout and stderr dropped. */
static int profile_status(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "'%s/oomkit' profile %s >/dev/null 2>&1",
             getenv("OOMKIT_BINARY_DIR"), args);
    int st = system(cmd);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st);
}

/* Bad settings stop before the command runs (the marker file is never
 * made), named by their option, instead of being replaced by defaults. */
static void test_profile_refuses_bad_settings(void **state)
{
    (void)state;
    char marker[64], args[512];
    snprintf(marker, sizeof(marker), "/tmp/oomkit-prof-ran-%ld", (long)getpid());
    const char *bad[] = {
        "--sample 1e9", "--sample 0", "--all --sample 4k", "--signal KILL", "--interval x",
        "--inuse -1", "--unwind frames", "--out ''", "--out /proc/no/such/dir/p",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(args, sizeof(args), "%s -- touch %s", bad[i], marker);
        assert_int_equal(profile_status(args), 2);
        assert_int_equal(access(marker, F_OK), -1);
    }
}

/* A command that succeeds but leaves no profile (here it drops the
 * preload before running the real program) is a failure of the run. */
static void test_profile_without_a_profile_fails(void **state)
{
    (void)state;
    char args[512];
    snprintf(args, sizeof(args), "--out /tmp/oomkit-prof-none-%ld -- env -u LD_PRELOAD true",
             (long)getpid());
    assert_int_equal(profile_status(args), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_runs_and_summarises),
        cmocka_unit_test(test_profile_refuses_bad_settings),
        cmocka_unit_test(test_profile_without_a_profile_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
