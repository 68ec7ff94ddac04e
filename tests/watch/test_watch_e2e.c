/* End-to-end tests of `oomkit watch` on the real kernel: leak children of
 * four kinds in a real memory cgroup with a limit. The daemon must write
 * its bundle before the kernel's OOM kill (the cgroup's oom_kill counter is
 * the truth; bundles appear atomically by rename, so "the bundle exists
 * when the counter moves" means "written before the kill"), and the verdict
 * must name the kind. Also: Alertmanager down (one log line, sampling goes
 * on) and a real Alertmanager receiving the alert with the capture path.
 * Where no memory cgroup can be created the tests SKIP loudly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "watch_cgroup_util.h"
#include "watch_test_util.h"

#include <dirent.h>
#include <json-c/json.h>

static char oomkit_bin[512], leak_bin[512];

/* When set, run_leak also polls this Alertmanager for our alert. */
static const char *am_base;
static double am_seen_s, am_with_capture_s, am_resolved_s, leak_start_s;

struct outcome {
    int killed;          /* oom_kill moved */
    int bundle_at_kill;  /* a complete bundle existed when it moved */
    int bundle;          /* a bundle exists at the end */
    char kind[32];
    double confidence;
    char bundle_path[1024];
    char *log;           /* daemon log, malloc'd */
};

static int find_bundle(const char *capdir, char *out, size_t cap)
{
    DIR *d = opendir(capdir);
    if (d == NULL)
        return 0;
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(out, cap, "%s/%s", capdir, e->d_name);
        found = 1;
    }
    closedir(d);
    return found;
}

static void wait_for_log(const char *path, const char *needle, double timeout_s)
{
    double t0 = tu_now_s();
    while (tu_now_s() - t0 < timeout_s) {
        char *s = tu_slurp(path);
        int ok = s && strstr(s, needle);
        free(s);
        if (ok)
            return;
        tu_sleep_ms(20);
    }
}

/* Runs one leak of `kind` at rate MB/s into a cgroup of limit_mb with the
 * daemon watching; extra daemon arguments may be given (NULL-terminated). */
static int run_leak(const char *kind, const char *rate, unsigned limit_mb, const char *extra1,
                    const char *extra2, struct outcome *o)
{
    memset(o, 0, sizeof *o);
    struct tcg cg;
    char why[300] = "", name[64];
    snprintf(name, sizeof name, "oomkit-watch-e2e-%d-%s", (int)getpid(), kind);
    if (tcg_create(&cg, name, (unsigned long long)limit_mb << 20, why, sizeof why) != 0) {
        print_message("SKIP: %s\n", why);
        return -1;
    }
    char tmp[] = "/tmp/oomkit-watch-e2e-XXXXXX";
    if (mkdtemp(tmp) == NULL) {
        tcg_destroy(&cg);
        return -1;
    }
    char capdir[300], log[300], datadir[300];
    snprintf(capdir, sizeof capdir, "%s/captures", tmp);
    snprintf(log, sizeof log, "%s/daemon.log", tmp);
    /* Page cache needs a disk-backed file system: the build tree is one.
     * The leak's file gets a directory of its own there, removed at the
     * end, since a killed leak cannot unlink it. */
    snprintf(datadir, sizeof datadir, "%s/watch-e2e-XXXXXX",
             getenv("OOMKIT_BINARY_DIR") ? getenv("OOMKIT_BINARY_DIR") : ".");
    if (mkdtemp(datadir) == NULL) {
        print_message("mkdtemp %s: %s\n", datadir, strerror(errno));
        tu_rm_rf(tmp);
        tcg_destroy(&cg);
        return -1;
    }
    char *dargv[24];
    int n = 0;
    dargv[n++] = oomkit_bin;
    dargv[n++] = "watch";
    dargv[n++] = "--cgroup";
    dargv[n++] = cg.dir;
    dargv[n++] = "--interval";
    dargv[n++] = "250ms";
    dargv[n++] = "--capture-dir";
    dargv[n++] = capdir;
    dargv[n++] = "--listen";
    dargv[n++] = "off";
    dargv[n++] = "--no-user-stacks";
    dargv[n++] = "--duration";
    dargv[n++] = "25";
    if (extra1)
        dargv[n++] = (char *)extra1;
    if (extra2)
        dargv[n++] = (char *)extra2;
    dargv[n] = NULL;
    pid_t dpid = tu_spawn(dargv, log);
    wait_for_log(log, "watching", 5);

    char max_mb[32];
    snprintf(max_mb, sizeof max_mb, "%u", limit_mb * 2);
    char *largv[] = { leak_bin, (char *)kind, (char *)rate, "--max", max_mb, "--dir", datadir, NULL };
    long kills0 = tcg_oom_kills(&cg);
    pid_t lpid = tcg_spawn(&cg, largv);
    double t0 = tu_now_s();
    leak_start_s = t0;
    int child_done = 0, st = 0;
    double done_at = 0;
    while (tu_now_s() - t0 < 15) {
        char b[1024];
        int have = find_bundle(capdir, b, sizeof b);
        long k = tcg_oom_kills(&cg);
        if (!o->killed && k > kills0) {
            o->killed = 1;
            o->bundle_at_kill = have;
        }
        if (!child_done && waitpid(lpid, &st, WNOHANG) == lpid) {
            child_done = 1;
            done_at = tu_now_s();
        }
        /* Done once the leak ended (killed, or reached --max) and the
         * daemon had a moment to finish a capture it started. */
        if (am_base != NULL) {
            char url[160], *body = NULL;
            snprintf(url, sizeof url, "%s/api/v2/alerts", am_base);
            if (tu_http(url, NULL, &body) == 200 && body) {
                int firing = strstr(body, "\"alertname\":\"OomkitOomPredicted\"") != NULL &&
                             strstr(body, "\"state\":\"active\"") != NULL;
                if (firing && am_seen_s == 0)
                    am_seen_s = tu_now_s() - leak_start_s;
                if (firing && am_with_capture_s == 0 && strstr(body, "\"capture_path\":\"/tmp/oomkit-watch-e2e-"))
                    am_with_capture_s = tu_now_s() - leak_start_s;
                if (!firing && am_with_capture_s > 0 && am_resolved_s == 0)
                    am_resolved_s = tu_now_s() - leak_start_s;
            }
            free(body);
        }
        int am_done = am_base == NULL || am_resolved_s > 0;
        if (child_done && (have || tu_now_s() - done_at > 2) && (am_done || tu_now_s() - done_at > 6))
            break;
        tu_sleep_ms(am_base ? 50 : 5);
    }
    if (!child_done) {
        kill(lpid, SIGKILL);
        waitpid(lpid, &st, 0);
    }
    tu_stop(dpid, 5000);
    o->bundle = find_bundle(capdir, o->bundle_path, sizeof o->bundle_path);
    o->log = tu_slurp(log);
    if (o->bundle) {
        char mp[1100];
        snprintf(mp, sizeof mp, "%s/manifest.json", o->bundle_path);
        json_object *m = json_object_from_file(mp), *v, *k;
        if (m && json_object_object_get_ex(m, "verdict", &v) && json_object_object_get_ex(v, "kind", &k))
            snprintf(o->kind, sizeof o->kind, "%s", json_object_get_string(k));
        if (m && json_object_object_get_ex(v, "confidence", &k))
            o->confidence = json_object_get_double(k);
        json_object_put(m);
    }
    print_message("%s at %s MB/s into %u MiB (cgroup v%d): killed %d, bundle before kill %d, "
                  "verdict %s %.2f\n", kind, rate, limit_mb, cg.version, o->killed,
                  o->bundle_at_kill, o->kind, o->confidence);
    if (!o->bundle || (o->killed && !o->bundle_at_kill))
        print_message("daemon log:\n%s\n", o->log ? o->log : "");
    tcg_destroy(&cg);
    tu_rm_rf(tmp);
    tu_rm_rf(datadir);
    return 0;
}

static void leak_case(const char *kind, const char *want, int must_kill)
{
    struct outcome o;
    if (run_leak(kind, "50", 128, NULL, NULL, &o) != 0)
        skip();
    assert_true(o.bundle);
    if (must_kill)
        assert_true(o.killed);
    if (o.killed)
        assert_true(o.bundle_at_kill);
    assert_string_equal(o.kind, want);
    assert_non_null(strstr(o.log, "captured"));
    free(o.log);
}

static void test_heap_leak(void **state) { (void)state; leak_case("heap", "heap", 1); }
static void test_mmap_leak(void **state) { (void)state; leak_case("mmap", "anon_mmap", 1); }
static void test_shmem_leak(void **state) { (void)state; leak_case("shmem", "shmem", 1); }
/* Page cache is reclaimable, so the kernel usually reclaims instead of
 * killing; the capture and the verdict are what is checked, and if a kill
 * does happen the bundle must predate it. */
static void test_pagecache_leak(void **state) { (void)state; leak_case("pagecache", "page_cache", 0); }

static void test_alertmanager_down_keeps_sampling(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "--alertmanager=http://127.0.0.1:%d", tu_free_port());
    struct outcome o;
    if (run_leak("heap", "50", 128, url, NULL, &o) != 0)
        skip();
    assert_true(o.bundle);
    if (o.killed)
        assert_true(o.bundle_at_kill);
    /* One line for the outage, however many alerts were retried. */
    int lines = 0;
    for (const char *p = o.log; (p = strstr(p, "alerts stay queued")) != NULL; p++)
        lines++;
    print_message("alertmanager lines: %d\n", lines);
    assert_int_equal(lines, 1);
    assert_non_null(strstr(o.log, "stopping:"));
    free(o.log);
}

static void test_real_alertmanager_gets_capture(void **state)
{
    (void)state;
    if (!tu_have("prometheus-alertmanager")) {
        print_message("SKIP: prometheus-alertmanager not installed (Debian package)\n");
        skip();
    }
    char dir[] = "/tmp/oomkit-watch-e2e-am-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int port = tu_free_port();
    char cfg[256], log[256], a1[300], a2[300], a3[100], base[64], amarg[100];
    snprintf(cfg, sizeof cfg, "%s/am.yml", dir);
    snprintf(log, sizeof log, "%s/am.log", dir);
    tu_write_file(cfg, "route: { receiver: null-recv, group_wait: 1s }\nreceivers: [ { name: null-recv } ]\n");
    snprintf(a1, sizeof a1, "--config.file=%s", cfg);
    snprintf(a2, sizeof a2, "--storage.path=%s/data", dir);
    snprintf(a3, sizeof a3, "--web.listen-address=127.0.0.1:%d", port);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    snprintf(amarg, sizeof amarg, "--alertmanager=%s", base);
    char *argv[] = { "prometheus-alertmanager", a1, a2, a3, "--cluster.listen-address=", "--log.level=warn", NULL };
    pid_t am = tu_spawn(argv, log);
    char ready[128];
    snprintf(ready, sizeof ready, "%s/-/ready", base);
    for (int i = 0; i < 100 && tu_http(ready, NULL, NULL) != 200; i++)
        tu_sleep_ms(50);
    am_base = base;
    am_seen_s = am_with_capture_s = am_resolved_s = 0;
    struct outcome o;
    int rc = run_leak("heap", "50", 128, amarg, NULL, &o);
    am_base = NULL;
    tu_stop(am, 5000);
    tu_rm_rf(dir);
    if (rc != 0)
        skip();
    print_message("alert seen %.2f s after the leak started, with the capture path at %.2f s, "
                  "resolved at %.2f s\n", am_seen_s, am_with_capture_s, am_resolved_s);
    assert_true(o.bundle);
    assert_true(am_seen_s > 0);
    assert_true(am_with_capture_s > 0);
    assert_true(am_resolved_s > 0);
    free(o.log);
}

static int setup(void **state)
{
    (void)state;
    const char *b = getenv("OOMKIT_BINARY_DIR");
    if (b == NULL)
        b = ".";
    snprintf(oomkit_bin, sizeof oomkit_bin, "%s/oomkit", b);
    snprintf(leak_bin, sizeof leak_bin, "%s/tests/watch/watch_leak", b);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_leak),
        cmocka_unit_test(test_mmap_leak),
        cmocka_unit_test(test_shmem_leak),
        cmocka_unit_test(test_pagecache_leak),
        cmocka_unit_test(test_alertmanager_down_keeps_sampling),
        cmocka_unit_test(test_real_alertmanager_gets_capture),
    };
    return cmocka_run_group_tests_name("watch_e2e", tests, setup, NULL);
}
