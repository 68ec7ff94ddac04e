/* `oomkit watch` target handling on the real system: a followed process
 * that exits and comes back with the same command line is the same target
 * (restart counted); --cgroups-under picks up new cgroups and drops
 * vanished ones without error; --dry-run captures nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "watch_cgroup_util.h"
#include "watch_test_util.h"


static char bin[512], leak[512], tmp[64];

/* Rate 0: an idle process with a fixed command line, in the test's own
 * cgroup so the daemon registers its notifications there. */
static pid_t start_idle(const struct tcg *cg)
{
    char *argv[] = { leak, "heap", "0", NULL };
    return tcg_spawn(cg, argv);
}

static void test_follows_restarts(void **state)
{
    (void)state;
    struct tcg cg;
    char why[300] = "", name[64];
    snprintf(name, sizeof name, "oomkit-watch-restart-%d", (int)getpid());
    if (tcg_create(&cg, name, 1ull << 30, why, sizeof why) != 0) {
        print_message("SKIP: %s\n", why);
        skip();
    }
    pid_t p1 = start_idle(&cg);
    tu_sleep_ms(200);
    char pidarg[16], log[128], out[128];
    snprintf(pidarg, sizeof pidarg, "%d", (int)p1);
    snprintf(log, sizeof log, "%s/restart.log", tmp);
    snprintf(out, sizeof out, "%s/restart.out", tmp);
    char *argv[] = { bin, "watch", "--pid", pidarg, "--interval", "100ms", "--listen", "off",
                     "--capture-dir", tmp, "--duration", "2.5", "--print-metrics", NULL };
    pid_t pid = fork();
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600), e = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(o, 1);
        dup2(e, 2);
        execv(bin, argv);
        _exit(127);
    }
    tu_sleep_ms(700);
    kill(p1, SIGKILL);
    waitpid(p1, NULL, 0);
    tu_sleep_ms(300);
    pid_t p2 = start_idle(&cg);
    int st;
    waitpid(pid, &st, 0);
    kill(p2, SIGKILL);
    waitpid(p2, NULL, 0);
    tcg_destroy(&cg);
    char *l = tu_slurp(log), *o = tu_slurp(out);
    assert_non_null(l);
    assert_non_null(o);
    /* The fallback is for GCC, which cannot tell that the assert does not
     * return on NULL (-Wformat-overflow at -O2). */
    print_message("%s", l ? l : "");
    char want[96];
    snprintf(want, sizeof want, "pid:%d restarted as pid %d (restart 1)", (int)p1, (int)p2);
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_non_null(strstr(l, "exited; waiting for it to come back"));
    assert_non_null(strstr(l, want));
    const char *line = strstr(o, "\noomkit_target_restarts_total{");
    assert_non_null(line);
    snprintf(want, sizeof want, "pid=\"%d\",command=\"watch_leak\"", (int)p2);
    const char *eol = strchr(line + 1, '\n');
    assert_non_null(eol);
    assert_true(strstr(line, want) != NULL && strstr(line, want) < eol);
    assert_true(eol - line > 2 && strncmp(eol - 2, " 1", 2) == 0);
    free(l);
    free(o);
}

static void test_cgroups_come_and_go(void **state)
{
    (void)state;
    struct tcg root;
    char why[300] = "", name[64];
    snprintf(name, sizeof name, "oomkit-watch-disc-%d", (int)getpid());
    if (tcg_create(&root, name, 1ull << 30, why, sizeof why) != 0) {
        print_message("SKIP: %s\n", why);
        skip();
    }
    char a[1100], b[1100], log[128];
    snprintf(a, sizeof a, "%s/a", root.dir);
    snprintf(b, sizeof b, "%s/b", root.dir);
    assert_int_equal(mkdir(a, 0755), 0);
    snprintf(log, sizeof log, "%s/disc.log", tmp);
    char *argv[] = { bin, "watch", "--cgroups-under", root.dir, "--interval", "100ms",
                     "--discover-every", "200ms", "--listen", "off", "--capture-dir", tmp,
                     "--duration", "2", NULL };
    pid_t pid = tu_spawn(argv, log);
    tu_sleep_ms(600);
    assert_int_equal(mkdir(b, 0755), 0);
    assert_int_equal(rmdir(a), 0);
    int st;
    waitpid(pid, &st, 0);
    rmdir(b);
    tcg_destroy(&root);
    char *l = tu_slurp(log);
    assert_non_null(l);
    print_message("%s", l ? l : "");
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_non_null(strstr(l, "watching 2 cgroups under"));
    assert_non_null(strstr(l, "(1 new)"));
    assert_non_null(strstr(l, "/a vanished; no longer watched"));
    /* Dropping is not an error: no "cannot read" line for it. */
    assert_null(strstr(l, "cannot read"));
    free(l);
}

static void test_dry_run_captures_nothing(void **state)
{
    (void)state;
    struct tcg cg;
    char why[300] = "", name[64];
    snprintf(name, sizeof name, "oomkit-watch-dry-%d", (int)getpid());
    if (tcg_create(&cg, name, 64ull << 20, why, sizeof why) != 0) {
        print_message("SKIP: %s\n", why);
        skip();
    }
    char cap[128], log[128];
    snprintf(cap, sizeof cap, "%s/drycap", tmp);
    snprintf(log, sizeof log, "%s/dry.log", tmp);
    char *argv[] = { bin, "watch", "--cgroup", cg.dir, "--interval", "100ms", "--listen", "off",
                     "--capture-dir", cap, "--duration", "3", "--dry-run", "--buy-time", NULL };
    pid_t pid = tu_spawn(argv, log);
    tu_sleep_ms(300);
    char *largv[] = { leak, "heap", "40", NULL };
    pid_t l = tcg_spawn(&cg, largv);
    waitpid(l, NULL, 0);
    int st;
    waitpid(pid, &st, 0);
    tcg_destroy(&cg);
    char *text = tu_slurp(log);
    assert_non_null(text);
    print_message("%s", text ? text : "");
    assert_non_null(strstr(text, "dry-run: would capture"));
    assert_non_null(strstr(text, "would buy time first"));
    assert_int_equal(tu_count_entries(cap), 0);
    free(text);
}

static int setup(void **state)
{
    (void)state;
    const char *b = getenv("OOMKIT_BINARY_DIR");
    snprintf(bin, sizeof bin, "%s/oomkit", b ? b : ".");
    snprintf(leak, sizeof leak, "%s/tests/watch/watch_leak", b ? b : ".");
    snprintf(tmp, sizeof tmp, "/tmp/oomkit-watch-tg-XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tu_rm_rf(tmp);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_follows_restarts),
        cmocka_unit_test(test_cgroups_come_and_go),
        cmocka_unit_test(test_dry_run_captures_nothing),
    };
    return cmocka_run_group_tests_name("watch_targets", tests, setup, teardown);
}
