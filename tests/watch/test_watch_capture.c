/* Capture bundles (src/watch/capture.c) on real processes: contents, 0600
 * files, the manifest's fields, a target that exits before or during the
 * capture, retention (oldest first) and a full file system, and the heap
 * profile from a target running under liboomkit_prof.so. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "watch_test_util.h"

#include "core/alloc.h"
#include "watch/capture.h"
#include "watch/watch_sys.h"

#include <dirent.h>
#include <json-c/json.h>
#include <math.h>
#include <regex.h>
#include <sys/mount.h>

static char leak_bin[512], tmp[64];
static char buf[256 * 1024];
static oomkit_mem_ctx *ctx;

static struct oomkit__capture_sample samples[20];
static const struct oomkit__capture_mark marks[] = { { 1795480005.0, "warn" }, { 1795480008.0, "predicted" } };

static void fill_request(struct oomkit__capture_request *r, const char *root, pid_t pid,
                         const struct oomkit__verdict *v)
{
    for (int i = 0; i < 20; i++)
        samples[i] = (struct oomkit__capture_sample){ 1795480000.0 + i, 1e7 * (i + 1), 1.1e7 * (i + 1), 4e8, 20.0 };
    memset(r, 0, sizeof *r);
    r->root_dir = root;
    r->ctx = ctx;
    r->target = "/test/cap";
    r->pid = pid;
    r->trigger = "predicted";
    r->limit_bytes = 4e8;
    r->working_set_bytes = 2e8;
    r->predicted_oom_s = 20;
    r->verdict = v;
    r->samples = samples;
    r->n_samples = 20;
    r->marks = marks;
    r->n_marks = 2;
    r->user_stacks = 1;
    r->buf = buf;
    r->buf_len = sizeof buf;
}

static pid_t start_leak(const char *kind, char *const envp[])
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        char *argv[] = { leak_bin, (char *)kind, "20", "--max", "8", "--dir", tmp, NULL };
        if (envp)
            execve(leak_bin, argv, envp);
        else
            execv(leak_bin, argv);
        _exit(127);
    }
    tu_sleep_ms(600); /* let it map and touch its 8 MB */
    return pid;
}

static void test_live_bundle(void **state)
{
    (void)state;
    char root[128];
    snprintf(root, sizeof root, "%s/live", tmp);
    pid_t pid = start_leak("heap", NULL);
    struct oomkit__verdict v = { OOMKIT__VERDICT_HEAP, 0.9, { 0 }, "heap +8.0 MiB" };
    struct oomkit__capture_request r;
    fill_request(&r, root, pid, &v);
    struct oomkit__capture_result res;
    assert_int_equal(oomkit__capture_write(&r, &res), 0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    print_message("bundle %s: %u files, %llu bytes, %u problems (%s)\n", res.path, res.files,
                  (unsigned long long)res.bytes, res.problems, res.first_problem);
    const char *want[] = { "manifest.json", "smaps_rollup", "status", "smaps", "smaps_categorised.tsv",
                           "kernel_stacks.txt", "samples.csv", "report.md", "timeline.svg" };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char p[4200];
        struct stat sb;
        snprintf(p, sizeof p, "%s/%s", res.path, want[i]);
        assert_int_equal(stat(p, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
    }
    if (tu_have("eu-stack")) {
        char p[4200];
        snprintf(p, sizeof p, "%s/user_stacks.txt", res.path);
        char *s = tu_slurp(p);
        assert_non_null(s);
        assert_non_null(strstr(s, "main"));
        free(s);
    } else {
        print_message("SKIP: eu-stack not installed; user stacks not checked\n");
    }
    char mp[4200];
    snprintf(mp, sizeof mp, "%s/manifest.json", res.path);
    json_object *m = json_object_from_file(mp), *x, *y;
    assert_non_null(m);
    assert_true(json_object_object_get_ex(m, "captured_at", &x));
    regex_t re;
    regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$", REG_EXTENDED);
    assert_int_equal(regexec(&re, json_object_get_string(x), 0, NULL, 0), 0);
    regfree(&re);
    assert_true(json_object_object_get_ex(m, "target", &x));
    assert_string_equal(json_object_get_string(x), "/test/cap");
    assert_true(json_object_object_get_ex(m, "trigger", &x));
    assert_string_equal(json_object_get_string(x), "predicted");
    assert_true(json_object_object_get_ex(m, "limit_bytes", &x));
    assert_int_equal(json_object_get_int64(x), 400000000);
    assert_true(json_object_object_get_ex(m, "working_set_bytes", &x));
    assert_int_equal(json_object_get_int64(x), 200000000);
    assert_true(json_object_object_get_ex(m, "predicted_oom_s", &x));
    assert_true(fabs(json_object_get_double(x) - 20) < 1e-9);
    assert_true(json_object_object_get_ex(m, "verdict", &x));
    assert_true(json_object_object_get_ex(x, "kind", &y));
    assert_string_equal(json_object_get_string(y), "heap");
    assert_true(json_object_object_get_ex(x, "evidence", &y));
    assert_string_equal(json_object_get_string(y), "heap +8.0 MiB");
    assert_true(json_object_object_get_ex(m, "files", &x));
    assert_true(json_object_array_length(x) >= 8);
    json_object_put(m);

    /* The categorised smaps found the leak's heap. */
    char tp[4200];
    snprintf(tp, sizeof tp, "%s/smaps_categorised.tsv", res.path);
    char *tsv = tu_slurp(tp);
    assert_non_null(strstr(tsv, "\nheap\t"));
    unsigned long long heap_rss = 0;
    const char *h = strstr(tsv, "# heap\t");
    assert_non_null(h);
    sscanf(h, "# heap\t%llu", &heap_rss);
    assert_true(heap_rss >= 4u << 20);
    free(tsv);
    snprintf(tp, sizeof tp, "%s/timeline.svg", res.path);
    char *svg = tu_slurp(tp);
    assert_true(strncmp(svg, "<svg", 4) == 0);
    assert_non_null(strstr(svg, "<polyline"));
    assert_non_null(strstr(svg, ">predicted</text>"));
    assert_non_null(strstr(svg, "predicted OOM in 20.0 s"));
    free(svg);
}

static void test_target_gone(void **state)
{
    (void)state;
    char root[128];
    snprintf(root, sizeof root, "%s/gone", tmp);
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    struct oomkit__capture_request r;
    fill_request(&r, root, pid, NULL);
    struct oomkit__capture_result res;
    /* Everything about the process is missing, yet the bundle (samples,
     * timeline, report, manifest listing what is missing) is written. */
    assert_int_equal(oomkit__capture_write(&r, &res), 0);
    assert_true(res.problems >= 2);
    print_message("first problem: %s\n", res.first_problem);
    assert_non_null(strstr(res.first_problem, "/proc/"));
    char mp[4200];
    snprintf(mp, sizeof mp, "%s/manifest.json", res.path);
    json_object *m = json_object_from_file(mp), *x;
    assert_non_null(m);
    assert_true(json_object_object_get_ex(m, "problems", &x));
    assert_true(json_object_array_length(x) >= 2);
    json_object_put(m);
}

static void test_retention_oldest_first(void **state)
{
    (void)state;
    char root[128];
    snprintf(root, sizeof root, "%s/ret", tmp);
    struct oomkit__capture_request r;
    struct oomkit__capture_result res;
    char first[4096] = "";
    fill_request(&r, root, 0, NULL);
    r.max_total_bytes = 96 * 1024;
    for (int i = 0; i < 12; i++) {
        assert_int_equal(oomkit__capture_write(&r, &res), 0);
        if (i == 0)
            snprintf(first, sizeof first, "%s", res.path);
        tu_sleep_ms(2); /* distinct timestamps in the names */
    }
    uint64_t used = oomkit__wsys_du(root);
    print_message("12 captures into a 96 KiB budget: %d kept, %llu bytes\n", tu_count_entries(root),
                  (unsigned long long)used);
    assert_true(used <= 96 * 1024);
    assert_true(tu_count_entries(root) < 12);
    struct stat sb;
    assert_int_equal(stat(first, &sb), -1);   /* the oldest went */
    assert_int_equal(stat(res.path, &sb), 0); /* the newest stayed */
}

/* A capture directory shared with other files (a home directory given as
 * --capture-dir) loses none of them to retention, however full: only
 * bundles go, and a bundle that finds no room fails instead. */
static void test_retention_removes_only_bundles(void **state)
{
    (void)state;
    char root[128], keep[192], cmd[512];
    snprintf(root, sizeof root, "%s/shared", tmp);
    snprintf(keep, sizeof keep, "%s/projects", root);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/src' && head -c 200000 /dev/zero > '%s/src/big'",
             keep, keep);
    assert_int_equal(system(cmd), 0);
    struct oomkit__capture_request r;
    struct oomkit__capture_result res;
    fill_request(&r, root, 0, NULL);
    r.max_total_bytes = 96 * 1024;
    assert_int_equal(oomkit__capture_write(&r, &res), -ENOSPC);
    assert_int_equal(oomkit__capture_retention(root, 1, 0), 0);
    struct stat sb;
    snprintf(cmd, sizeof cmd, "%s/src/big", keep);
    assert_int_equal(stat(cmd, &sb), 0);
    assert_int_equal(sb.st_size, 200000);
    /* With the other files alone past the limit, a bundle is kept too:
     * removing it would not make the room. */
    char bundle[160];
    snprintf(bundle, sizeof bundle, "%s/20261125T063119.936024Z-x", root);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && head -c 8192 /dev/zero > '%s/f'", bundle, bundle);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(oomkit__capture_retention(root, 96 * 1024, 0), 0);
    assert_int_equal(stat(bundle, &sb), 0);
    /* With room to win, the bundle goes and the other files stay. */
    assert_int_equal(oomkit__capture_retention(root, 205000, 0), 1);
    assert_int_equal(stat(bundle, &sb), -1);
    snprintf(cmd, sizeof cmd, "%s/src/big", keep);
    assert_int_equal(stat(cmd, &sb), 0);
}

static void test_full_filesystem(void **state)
{
    (void)state;
    char root[128];
    snprintf(root, sizeof root, "%s/full", tmp);
    mkdir(root, 0700);
    if (mount("oomkit-test", root, "tmpfs", 0, "size=16k") != 0) {
        print_message("SKIP: cannot mount a small tmpfs (%s)\n", strerror(errno));
        skip();
    }
    char cap[160];
    snprintf(cap, sizeof cap, "%s/captures", root);
    pid_t pid = start_leak("heap", NULL);
    struct oomkit__capture_request r;
    fill_request(&r, cap, pid, NULL);
    r.user_stacks = 0;
    struct oomkit__capture_result res;
    int rc = oomkit__capture_write(&r, &res);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    print_message("capture on a 16 KiB file system: rc %d, %u files, %u problems (%s)\n", rc,
                  res.files, res.problems, res.first_problem);
    /* Either a smaller bundle that lists what did not fit, or a clean
     * refusal that leaves no partial directory behind. */
    if (rc == 0)
        assert_true(res.problems > 0);
    else
        assert_int_equal(tu_count_entries(cap), 0);
    DIR *d = opendir(cap);
    struct dirent *e;
    int partial = 0;
    while (d && (e = readdir(d)) != NULL)
        partial += strncmp(e->d_name, ".partial-", 9) == 0;
    if (d)
        closedir(d);
    assert_int_equal(partial, 0);
    umount(root);
}

static void test_heap_profile(void **state)
{
    (void)state;
#ifdef OOMKIT_PROF_LIB
    if (access(OOMKIT_PROF_LIB, R_OK) != 0) {
        print_message("SKIP: %s not built\n", OOMKIT_PROF_LIB);
        skip();
    }
    char root[128], preload[600], prof[200];
    snprintf(root, sizeof root, "%s/prof", tmp);
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", OOMKIT_PROF_LIB);
    snprintf(prof, sizeof prof, "OOMKIT_PROF=out=%s/heapdump,dump=signal", tmp);
    char *envp[] = { preload, prof, NULL };
    pid_t pid = start_leak("heap", envp);
    struct oomkit__capture_request r;
    fill_request(&r, root, pid, NULL);
    r.user_stacks = 0;
    r.prof_wait_s = 5;
    struct oomkit__capture_result res;
    assert_int_equal(oomkit__capture_write(&r, &res), 0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    char p[4200];
    snprintf(p, sizeof p, "%s/heap.pb.gz", res.path);
    char *s = tu_slurp(p);
    print_message("heap profile: %s (%s)\n", s ? "captured" : "missing", res.first_problem);
    assert_non_null(s);
    assert_true((unsigned char)s[0] == 0x1f && (unsigned char)s[1] == 0x8b); /* gzip */
    free(s);
#else
    print_message("SKIP: liboomkit_prof.so is not part of this build\n");
    skip();
#endif
}

static int setup(void **state)
{
    (void)state;
    const char *b = getenv("OOMKIT_BINARY_DIR");
    snprintf(leak_bin, sizeof leak_bin, "%s/tests/watch/watch_leak", b ? b : ".");
    snprintf(tmp, sizeof tmp, "/tmp/oomkit-watch-cap-XXXXXX");
    if (mkdtemp(tmp) == NULL)
        return -1;
    return oomkit_mem_ctx_open(NULL, &ctx);
}

static int teardown(void **state)
{
    (void)state;
    oomkit_mem_ctx_close(ctx);
    tu_rm_rf(tmp);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_bundle),
        cmocka_unit_test(test_target_gone),
        cmocka_unit_test(test_retention_oldest_first),
        cmocka_unit_test(test_retention_removes_only_bundles),
        cmocka_unit_test(test_full_filesystem),
        cmocka_unit_test(test_heap_profile),
    };
    return cmocka_run_group_tests_name("watch_capture", tests, setup, teardown);
}
