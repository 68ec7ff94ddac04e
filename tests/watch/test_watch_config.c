/* Unit tests for the settings of `oomkit watch` (src/watch/config.c): the
 * per-setting ranges and their messages, one target per daemon, a config
 * path that is a directory, and the start-up check (warn below critical,
 * a usable capture directory). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "watch/daemon.h"

static char tmp[64];

/* Prints both strings when the needle is missing. */
#define assert_contains(hay, needle)                                                   \
    do {                                                                               \
        if (strstr((hay), (needle)) == NULL)                                           \
            fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));                \
    } while (0)

static int is_dir(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int exists(const char *p)
{
    struct stat sb;
    return lstat(p, &sb) == 0;
}

/* A default config whose capture directory is the test's own. */
static void config(struct oomkit__watch_config *c)
{
    oomkit__watch_config_default(c);
    snprintf(c->capture_dir, sizeof c->capture_dir, "%s", tmp);
}

static void test_capture_dir_created_or_refused(void **state)
{
    (void)state;
    struct oomkit__watch_config c;
    char err[512] = "";
    config(&c);
    assert_int_equal(oomkit__watch_config_check(&c, err, sizeof err), 0);

    /* Missing parents are created, as with mkdir -p. */
    snprintf(c.capture_dir, sizeof c.capture_dir, "%s/a/b/c/", tmp);
    assert_int_equal(oomkit__watch_config_check(&c, err, sizeof err), 0);
    char nested[128];
    snprintf(nested, sizeof nested, "%s/a/b/c", tmp);
    assert_true(is_dir(nested));

    /* A regular file: refused at start-up, named, with the reason. */
    char file[128];
    snprintf(file, sizeof file, "%s/file", tmp);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fclose(f);
    snprintf(c.capture_dir, sizeof c.capture_dir, "%s", file);
    assert_int_equal(oomkit__watch_config_check(&c, err, sizeof err), -ENOTDIR);
    assert_contains(err, file);
    assert_contains(err, "not a directory");
    /* Below a regular file: nothing can be created. */
    snprintf(c.capture_dir, sizeof c.capture_dir, "%s/file/sub", tmp);
    assert_int_equal(oomkit__watch_config_check(&c, err, sizeof err), -ENOTDIR);
    assert_contains(err, "cannot create");

    /* A place where no directory can be made. */
    snprintf(c.capture_dir, sizeof c.capture_dir, "/proc/x/y");
    assert_true(oomkit__watch_config_check(&c, err, sizeof err) < 0);
    assert_contains(err, "capture dir /proc/x/y: cannot create /proc/x");

    /* Without write permission (root bypasses the mode bits). */
    char ro[128];
    snprintf(ro, sizeof ro, "%s/ro", tmp);
    assert_int_equal(mkdir(ro, 0500), 0);
    snprintf(c.capture_dir, sizeof c.capture_dir, "%s", ro);
    if (geteuid() != 0) {
        assert_int_equal(oomkit__watch_config_check(&c, err, sizeof err), -EACCES);
        assert_contains(err, "not writable");
    } else {
        print_message("SKIP (root): read-only capture dir\n");
    }

    /* A dry run creates nothing but still refuses a non-directory. */
    c.dry_run = 1;
    snprintf(c.capture_dir, sizeof c.capture_dir, "%s/dry/run", tmp);
    assert_int_equal(oomkit__watch_config_check(&c, err, sizeof err), 0);
    snprintf(nested, sizeof nested, "%s/dry", tmp);
    assert_false(exists(nested));
    snprintf(c.capture_dir, sizeof c.capture_dir, "%s", file);
    assert_int_equal(oomkit__watch_config_check(&c, err, sizeof err), -ENOTDIR);
}

static void test_config_path_is_a_directory(void **state)
{
    (void)state;
    struct oomkit__watch_config c;
    char err[512] = "";
    config(&c);
    assert_int_equal(oomkit__watch_config_load(&c, tmp, err, sizeof err), -EISDIR);
    assert_contains(err, tmp);
    assert_contains(err, "Is a directory");
}

static void test_one_target(void **state)
{
    (void)state;
    struct oomkit__watch_config c;
    char err[512] = "";
    config(&c);
    assert_int_equal(oomkit__watch_config_set(&c, "pid", "42", err, sizeof err), 0);
    assert_int_equal(oomkit__watch_config_set(&c, "cgroup", "/x", err, sizeof err), -EINVAL);
    assert_contains(err, "conflicting targets 'pid 42' and 'cgroup /x'");
    /* Unchanged on failure: the first target stands. */
    assert_int_equal(c.mode, OOMKIT__WATCH_PID);
    assert_int_equal(c.pid, 42);
    assert_int_equal(oomkit__watch_config_set(&c, "pid", "43", err, sizeof err), -EINVAL);
    assert_int_equal(c.pid, 42);

    config(&c);
    const char *text = "cgroups-under /kubepods\ncgroup /app\n";
    assert_int_equal(oomkit__watch_config_parse(&c, text, strlen(text), "w.conf", err, sizeof err),
                     -EINVAL);
    assert_contains(err,
                    "w.conf:2: conflicting targets 'cgroups-under /kubepods' and 'cgroup /app'");
    assert_int_equal(c.mode, OOMKIT__WATCH_UNDER);
    assert_string_equal(c.path, "/kubepods");
}

static void test_warn_below_critical(void **state)
{
    (void)state;
    struct oomkit__watch_config c;
    char err[512] = "";
    config(&c);
    assert_int_equal(oomkit__watch_config_set(&c, "warn", "95%", err, sizeof err), 0);
    assert_int_equal(oomkit__watch_config_set(&c, "critical", "50%", err, sizeof err), 0);
    assert_int_equal(oomkit__watch_config_check(&c, err, sizeof err), -EINVAL);
    assert_contains(err, "warn (95%) must be below critical (50%)");

    assert_int_equal(oomkit__watch_config_set(&c, "critical", "0.95", err, sizeof err), 0);
    assert_int_equal(oomkit__watch_config_check(&c, err, sizeof err), -EINVAL);

    /* Against the default warn (80%), too. */
    config(&c);
    assert_int_equal(oomkit__watch_config_set(&c, "critical", "70%", err, sizeof err), 0);
    assert_int_equal(oomkit__watch_config_check(&c, err, sizeof err), -EINVAL);
    assert_contains(err, "warn (80%) must be below critical (70%)");

    assert_int_equal(oomkit__watch_config_set(&c, "warn", "0.5", err, sizeof err), 0);
    assert_int_equal(oomkit__watch_config_check(&c, err, sizeof err), 0);
}

static void test_messages_say_the_expected_form(void **state)
{
    (void)state;
    struct oomkit__watch_config c;
    char err[512] = "";
    config(&c);
    assert_int_equal(oomkit__watch_config_set(&c, "warn", "0.5", err, sizeof err), 0);
    /* A bare number is refused (is "1" 1% or 100%?), with both forms shown. */
    assert_int_equal(oomkit__watch_config_set(&c, "warn", "80", err, sizeof err), -EINVAL);
    assert_contains(err, "bad value '80' for 'warn': expected a percentage like 80% or a "
                         "fraction like 0.8");
    assert_true(c.warn_ratio == 0.5);
    assert_int_equal(oomkit__watch_config_set(&c, "critical", "nine", err, sizeof err), -EINVAL);
    assert_contains(err, "80% or a fraction like 0.8");
    assert_int_equal(oomkit__watch_config_set(&c, "interval", "5x", err, sizeof err), -EINVAL);
    assert_contains(err, "expected a duration from 10ms to 1h");
}

static void test_duration_zero_runs_until_stopped(void **state)
{
    (void)state;
    struct oomkit__watch_config c;
    char err[512] = "";
    config(&c);
    assert_int_equal(oomkit__watch_config_set(&c, "duration", "10s", err, sizeof err), 0);
    assert_true(c.duration_s == 10);
    /* 0 is the default and means "until SIGINT/SIGTERM" (see --help). */
    assert_int_equal(oomkit__watch_config_set(&c, "duration", "0", err, sizeof err), 0);
    assert_true(c.duration_s == 0);
    assert_int_equal(oomkit__watch_config_set(&c, "duration", "-1", err, sizeof err), -EINVAL);
}

static void test_window_range(void **state)
{
    (void)state;
    struct oomkit__watch_config c;
    char err[512] = "";
    config(&c);
    /* Out of range is refused, not clamped to 120. */
    assert_int_equal(oomkit__watch_config_set(&c, "window", "200", err, sizeof err), -EINVAL);
    assert_contains(err, "bad value '200' for 'window': expected a whole number from 2 to 120");
    assert_int_equal(c.window, 60);
    assert_int_equal(oomkit__watch_config_set(&c, "window", "1", err, sizeof err), -EINVAL);
    assert_int_equal(oomkit__watch_config_set(&c, "window", "120", err, sizeof err), 0);
    assert_int_equal(c.window, 120);
    assert_int_equal(oomkit__watch_config_set(&c, "max-targets", "200", err, sizeof err), 0);
    assert_int_equal(c.max_targets, 200);
    /* One target is a bound like any other; none is not. */
    assert_int_equal(oomkit__watch_config_set(&c, "max-targets", "1", err, sizeof err), 0);
    assert_int_equal(c.max_targets, 1);
    assert_int_equal(oomkit__watch_config_set(&c, "max-targets", "0", err, sizeof err), -EINVAL);
    assert_int_equal(oomkit__watch_config_set(&c, "max-targets", "", err, sizeof err), -EINVAL);
}

static void test_prof_wait_range(void **state)
{
    (void)state;
    struct oomkit__watch_config c;
    char err[512] = "";
    config(&c);
    assert_int_equal(oomkit__watch_config_set(&c, "prof-wait", "1e9", err, sizeof err), -EINVAL);
    assert_contains(err, "bad value '1e9' for 'prof-wait': expected a duration from 0 to 60s");
    assert_true(c.prof_wait_s == 2);
    assert_int_equal(oomkit__watch_config_set(&c, "prof-wait", "61s", err, sizeof err), -EINVAL);
    assert_int_equal(oomkit__watch_config_set(&c, "prof-wait", "1m", err, sizeof err), 0);
    assert_true(c.prof_wait_s == 60);
    assert_int_equal(oomkit__watch_config_set(&c, "prof-wait", "250ms", err, sizeof err), 0);
    assert_true(c.prof_wait_s == 0.25);
    assert_int_equal(oomkit__watch_config_set(&c, "prof-wait", "0", err, sizeof err), 0);
    assert_true(c.prof_wait_s == 0);
}

static void test_alertmanager_needs_a_host(void **state)
{
    (void)state;
    struct oomkit__watch_config c;
    char err[512] = "";
    config(&c);
    const char *bad[] = { "http://", "https://", "http://:9093", "http:///api", "http://user@/",
                          "http://[]:9093", "ftp://host", "localhost:9093" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = oomkit__watch_config_set(&c, "alertmanager", bad[i], err, sizeof err);
        if (rc != -EINVAL)
            fail_msg("'%s' accepted", bad[i]);
        assert_contains(err, "with a host");
        assert_string_equal(c.alertmanager, "");
    }
    const char *good[] = { "http://localhost:9093", "https://am.example/", "http://[::1]:9093",
                           "http://u:p@am:9093/x?y#z", "http://10.0.0.1" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (oomkit__watch_config_set(&c, "alertmanager", good[i], err, sizeof err) != 0)
            fail_msg("'%s' refused: %s", good[i], err);
        assert_string_equal(c.alertmanager, good[i]);
    }
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmp, sizeof tmp, "/tmp/oomkit-watch-cfg-XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture_dir_created_or_refused),
        cmocka_unit_test(test_config_path_is_a_directory),
        cmocka_unit_test(test_one_target),
        cmocka_unit_test(test_warn_below_critical),
        cmocka_unit_test(test_messages_say_the_expected_form),
        cmocka_unit_test(test_duration_zero_runs_until_stopped),
        cmocka_unit_test(test_window_range),
        cmocka_unit_test(test_prof_wait_range),
        cmocka_unit_test(test_alertmanager_needs_a_host),
    };
    return cmocka_run_group_tests_name("watch_config", tests, setup, teardown);
}
