/* `oomkit watch` on fixture trees (tests/fixtures/watch, read through
 * --root): exact working set / limit / counters for cgroup v1 and v2, the
 * exposition passes `promtool check metrics` and has no duplicate series,
 * and garbage or truncated kernel files give one clear log line per cgroup
 * while sampling goes on. Also the command line: --help, bad options,
 * config files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "watch_test_util.h"

static char bin[512], fixtures[512], tmpdir[64];

struct run {
    int status;
    char *out, *err;
};

/* Runs oomkit with args; captures stdout and stderr. */
static void run(struct run *r, char *const args[])
{
    char outp[128], errp[128];
    snprintf(outp, sizeof outp, "%s/out.txt", tmpdir);
    snprintf(errp, sizeof errp, "%s/err.txt", tmpdir);
    pid_t pid = fork();
    if (pid == 0) {
        int o = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(o, 1);
        dup2(e, 2);
        char *argv[32];
        int n = 0;
        argv[n++] = bin;
        for (int i = 0; args[i] && n < 31; i++)
            argv[n++] = args[i];
        argv[n] = NULL;
        execv(bin, argv);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r->out = tu_slurp(outp);
    r->err = tu_slurp(errp);
}

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* Every sample line's series (text before the last space) is unique. */
static int no_duplicate_series(const char *text)
{
    char *copy = strdup(text);
    char *lines[4096];
    int n = 0;
    for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l && n < 4096; l = strtok_r(NULL, "\n", &save)) {
        if (l[0] == '#')
            continue;
        char *sp = strrchr(l, ' ');
        if (sp)
            *sp = '\0';
        lines[n++] = l;
    }
    int ok = 1;
    for (int i = 0; i < n && ok; i++)
        for (int j = i + 1; j < n && ok; j++)
            if (strcmp(lines[i], lines[j]) == 0)
                ok = 0;
    free(copy);
    return ok && n > 0;
}

static void promtool_ok(const char *text)
{
    if (!tu_have("promtool")) {
        print_message("SKIP: promtool not installed (Debian package prometheus)\n");
        return;
    }
    char p[128], cmd[300];
    snprintf(p, sizeof p, "%s/metrics.txt", tmpdir);
    tu_write_file(p, text);
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s", p);
    int rc = system(cmd);
    assert_int_equal(WEXITSTATUS(rc), 0);
}

static void test_v1_exact_figures(void **state)
{
    (void)state;
    char root[600];
    snprintf(root, sizeof root, "%s/v1", fixtures);
    char *args[] = { "watch", "--root", root, "--cgroup", "/sys/fs/cgroup/memory/pods/app", "--once",
                     "--print-metrics", "--listen", "off", "--capture-dir", tmpdir, NULL };
    struct run r;
    run(&r, args);
    assert_int_equal(r.status, 0);
    /* 104857600 usage - 4194304 total_inactive_file. */
    assert_non_null(strstr(r.out, "oomkit_memory_working_set_bytes{cgroup=\"/pods/app\",target=\"/pods/app\"} 100663296\n"));
    assert_non_null(strstr(r.out, "oomkit_memory_limit_bytes{cgroup=\"/pods/app\",target=\"/pods/app\"} 134217728\n"));
    assert_non_null(strstr(r.out, "oomkit_memory_headroom_bytes{cgroup=\"/pods/app\",target=\"/pods/app\"} 33554432\n"));
    assert_non_null(strstr(r.out, "oomkit_memory_oom_kills_total{cgroup=\"/pods/app\",target=\"/pods/app\"} 2\n"));
    assert_non_null(strstr(r.out, "oomkit_memory_failcnt_total{cgroup=\"/pods/app\",target=\"/pods/app\"} 7\n"));
    assert_non_null(strstr(r.out, "oomkit_watch_samples_total 1\n"));
    assert_true(no_duplicate_series(r.out));
    promtool_ok(r.out);
    run_free(&r);
}

static void test_v2_exact_figures(void **state)
{
    (void)state;
    char root[600];
    snprintf(root, sizeof root, "%s/v2", fixtures);
    /* A path inside the hierarchy is resolved under the cgroup2 mount. */
    char *args[] = { "watch", "--root", root, "--cgroup", "/app.slice", "--once", "--print-metrics",
                     "--listen", "off", "--capture-dir", tmpdir, NULL };
    struct run r;
    run(&r, args);
    assert_int_equal(r.status, 0);
    /* 209715200 memory.current - 8388608 inactive_file. */
    assert_non_null(strstr(r.out, "oomkit_memory_working_set_bytes{cgroup=\"/app.slice\",target=\"/app.slice\"} 201326592\n"));
    assert_non_null(strstr(r.out, "oomkit_memory_limit_bytes{cgroup=\"/app.slice\",target=\"/app.slice\"} 268435456\n"));
    assert_non_null(strstr(r.out, "oomkit_memory_oom_kills_total{cgroup=\"/app.slice\",target=\"/app.slice\"} 1\n"));
    assert_non_null(strstr(r.out, "oomkit_memory_rss_bytes{cgroup=\"/app.slice\",target=\"/app.slice\"} 167772160\n"));
    assert_true(no_duplicate_series(r.out));
    promtool_ok(r.out);
    run_free(&r);
}

static void test_garbage_and_truncated_files(void **state)
{
    (void)state;
    char root[600];
    snprintf(root, sizeof root, "%s/v1", fixtures);
    char *args[] = { "watch", "--root", root, "--cgroups-under", "/pods", "--once", "--print-metrics",
                     "--listen", "off", "--capture-dir", tmpdir, NULL };
    struct run r;
    run(&r, args);
    print_message("%s", r.err);
    assert_int_equal(r.status, 0);
    /* One clear line per broken cgroup, naming it. */
    assert_int_equal(count(r.err, "cannot read cgroup"), 2);
    assert_int_equal(count(r.err, "/pods/garbage: cannot read cgroup"), 1);
    assert_int_equal(count(r.err, "/pods/truncated: cannot read cgroup"), 1);
    /* The good cgroups are still reported, exactly. */
    assert_non_null(strstr(r.out, "oomkit_memory_working_set_bytes{cgroup=\"/pods/app\",target=\"/pods/app\"} 100663296\n"));
    assert_null(strstr(r.out, "oomkit_memory_working_set_bytes{cgroup=\"/pods/garbage\""));
    assert_non_null(strstr(r.out, "oomkit_rule_level{cgroup=\"/pods/garbage\",target=\"/pods/garbage\"} 0\n"));
    assert_non_null(strstr(r.out, "oomkit_watch_targets 4\n"));
    assert_true(no_duplicate_series(r.out));
    promtool_ok(r.out);
    run_free(&r);
}

static void test_cli_usage(void **state)
{
    (void)state;
    struct run r;
    char *help[] = { "watch", "--help", NULL };
    run(&r, help);
    assert_int_equal(r.status, 0);
    const char *opts[] = { "--pid", "--cgroup", "--cgroups-under", "--interval", "--listen",
                           "--alertmanager", "--capture-dir", "--warn", "--critical", "--predict",
                           "--cooldown", "--buy-time", "--dry-run", "--config", "--once", "--duration" };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        assert_non_null(strstr(r.out, opts[i]));
    run_free(&r);

    char *bad[] = { "watch", "--cgroup", "/x", "--frobnicate", NULL };
    run(&r, bad);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "unknown option '--frobnicate'"));
    assert_int_equal(count(r.err, "\n"), 1);
    run_free(&r);

    char *none[] = { "watch", "--interval", "1s", NULL };
    run(&r, none);
    assert_int_equal(r.status, 2);
    run_free(&r);

    char *badval[] = { "watch", "--cgroup", "/x", "--warn", "180%", NULL };
    run(&r, badval);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "bad value '180%' for 'warn'"));
    run_free(&r);

    char *missing[] = { "watch", "--cgroup", "/definitely/not/a/cgroup", "--once", "--listen",
                        "off", "--capture-dir", tmpdir, NULL };
    run(&r, missing);
    assert_int_equal(r.status, 3);
    assert_non_null(strstr(r.err, "is not a memory cgroup"));
    run_free(&r);
}

/* Settings that cannot work are refused at start-up with exit 2 and one
 * line naming the setting, where they used to be accepted (exit 0). */
static void test_cli_refuses_unusable_settings(void **state)
{
    (void)state;
    char root[600], file[128], cfg[128];
    snprintf(root, sizeof root, "%s/v1", fixtures);
    snprintf(file, sizeof file, "%s/not-a-dir", tmpdir);
    tu_write_file(file, "x\n");
    struct run r;

    char *capfile[] = { "watch", "--root", root, "--cgroup", "/pods/app", "--once", "--listen",
                        "off", "--capture-dir", file, NULL };
    run(&r, capfile);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "capture dir "));
    assert_non_null(strstr(r.err, "/not-a-dir: exists and is not a directory"));
    assert_int_equal(count(r.err, "\n"), 1);
    run_free(&r);

    char *capproc[] = { "watch", "--root", root, "--cgroup", "/pods/app", "--once", "--listen",
                        "off", "--capture-dir", "/proc/x/y", NULL };
    run(&r, capproc);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "capture dir /proc/x/y: cannot create /proc/x"));
    run_free(&r);

    char *cfgdir[] = { "watch", "--config", tmpdir, "--root", root, "--cgroup", "/pods/app",
                       "--once", "--listen", "off", "--capture-dir", tmpdir, NULL };
    run(&r, cfgdir);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, tmpdir));
    assert_non_null(strstr(r.err, "Is a directory"));
    run_free(&r);

    char *two[] = { "watch", "--pid", "1", "--cgroup", "/x", "--listen", "off", NULL };
    run(&r, two);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "conflicting targets 'pid 1' and 'cgroup /x'"));
    run_free(&r);

    /* A target on the command line still replaces the config file's. */
    snprintf(cfg, sizeof cfg, "%s/target.conf", tmpdir);
    tu_write_file(cfg, "pid = 1\n");
    char *over[] = { "watch", "--config", cfg, "--root", root, "--cgroup", "/pods/app", "--once",
                     "--listen", "off", "--capture-dir", tmpdir, NULL };
    run(&r, over);
    assert_int_equal(r.status, 0);
    run_free(&r);

    char *order[] = { "watch", "--root", root, "--cgroup", "/pods/app", "--once", "--listen",
                      "off", "--capture-dir", tmpdir, "--warn", "95%", "--critical", "50%", NULL };
    run(&r, order);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "warn (95%) must be below critical (50%)"));
    run_free(&r);

    char *window[] = { "watch", "--root", root, "--cgroup", "/pods/app", "--once", "--listen",
                       "off", "--capture-dir", tmpdir, "--window", "200", NULL };
    run(&r, window);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "from 2 to 120"));
    run_free(&r);
}

/* A daemon that cannot start leaves its process as it was: no
 * oom_score_adj change before the target is known. */
static void test_cli_no_oom_score_adj_before_start(void **state)
{
    (void)state;
    /* Above any pid_max (at most 2^22), within what --pid accepts. */
    char *args[] = { "watch", "--pid", "1073741823", "--listen", "off", "--capture-dir", tmpdir,
                     NULL };
    struct run r;
    run(&r, args);
    assert_int_equal(r.status, 3);
    assert_non_null(strstr(r.err, "no process 1073741823"));
    assert_null(strstr(r.err, "oom_score_adj"));
    run_free(&r);
}

static void test_cli_help_matches_behaviour(void **state)
{
    (void)state;
    struct run r;
    char *help[] = { "watch", "--help", NULL };
    run(&r, help);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "targets (exactly one"));
    assert_non_null(strstr(r.out, "written 80% or\n                        0.8"));
    assert_non_null(strstr(r.out, "0, the default, runs until SIGINT/SIGTERM"));
    assert_non_null(strstr(r.out, "0 to 60s"));
    run_free(&r);
}

static void test_config_file(void **state)
{
    (void)state;
    char cfg[128], root[600];
    snprintf(cfg, sizeof cfg, "%s/watch.conf", tmpdir);
    snprintf(root, sizeof root, "%s/v1", fixtures);
    char text[1200];
    snprintf(text, sizeof text,
             "# oomkit watch settings\n"
             "root = %s\n"
             "cgroup /sys/fs/cgroup/memory/pods/app\n"
             "listen = off\n"
             "capture-dir = %s\n"
             "once\n"
             "print-metrics\n", root, tmpdir);
    tu_write_file(cfg, text);
    char *args[] = { "watch", "--config", cfg, NULL };
    struct run r;
    run(&r, args);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "oomkit_memory_working_set_bytes{cgroup=\"/pods/app\",target=\"/pods/app\"} 100663296\n"));
    run_free(&r);

    tu_write_file(cfg, "interval = 1s\nwarn = lots\n");
    run(&r, args);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "watch.conf:2: bad value 'lots' for 'warn'"));
    run_free(&r);
}

static int setup(void **state)
{
    (void)state;
    const char *b = getenv("OOMKIT_BINARY_DIR"), *s = getenv("OOMKIT_SOURCE_DIR");
    snprintf(bin, sizeof bin, "%s/oomkit", b ? b : ".");
    snprintf(fixtures, sizeof fixtures, "%s/tests/fixtures/watch", s ? s : "../..");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/oomkit-watch-fx-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rm_rf(tmpdir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v1_exact_figures),
        cmocka_unit_test(test_v2_exact_figures),
        cmocka_unit_test(test_garbage_and_truncated_files),
        cmocka_unit_test(test_cli_usage),
        cmocka_unit_test(test_cli_refuses_unusable_settings),
        cmocka_unit_test(test_cli_no_oom_score_adj_before_start),
        cmocka_unit_test(test_cli_help_matches_behaviour),
        cmocka_unit_test(test_config_file),
    };
    return cmocka_run_group_tests_name("watch_fixtures", tests, setup, teardown);
}
