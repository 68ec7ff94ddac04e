/* Integration tests of the /metrics endpoint (src/watch/exporter.c): fetch
 * it with libcurl, lint it with `promtool check metrics`, and let a real
 * Prometheus on loopback scrape it and return our value through its HTTP
 * query API. Prometheus and promtool come from Debian's `prometheus`
 * package; without them the tests say SKIP loudly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "watch_test_util.h"

#include "watch/exporter.h"
#include "watch/metrics.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

static struct oomkit__exporter *exp_;
static char url[128];

/* An exposition shaped like the daemon's, with a label that needs every
 * escape and a value Prometheus must see exactly. */
static void render(struct oomkit__metrics *m, double ws_bytes)
{
    oomkit__metrics_reset(m);
    struct oomkit__label l[] = { { "cgroup", "/kubepods/pod\"x\\y" }, { "pid", "4242" },
                                 { "command", "leak\nchild" } };
    oomkit__metrics_family(m, "oomkit_memory_working_set_bytes", "gauge",
                           "Working set (usage minus inactive_file), as cAdvisor defines it.");
    oomkit__metrics_sample(m, l, 3, ws_bytes);
    oomkit__metrics_family(m, "oomkit_predicted_oom_seconds", "gauge",
                           "Predicted seconds until the working set reaches the limit.");
    oomkit__metrics_sample(m, l, 3, INFINITY);
    oomkit__metrics_family(m, "oomkit_captures_total", "counter", "Capture bundles written.");
    oomkit__metrics_sample(m, l, 3, 3);
}

static int setup(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (oomkit__exporter_start("127.0.0.1:0", &exp_) != 0)
        return -1;
    snprintf(url, sizeof url, "http://127.0.0.1:%u/metrics", oomkit__exporter_port(exp_));
    struct oomkit__metrics m = { 0 };
    render(&m, 123456789);
    oomkit__exporter_publish(exp_, m.text, m.len);
    oomkit__metrics_free(&m);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    oomkit__exporter_stop(exp_);
    curl_global_cleanup();
    return 0;
}

static void test_fetch_and_404(void **state)
{
    (void)state;
    char *body = NULL;
    assert_int_equal(tu_http(url, NULL, &body), 200);
    assert_non_null(strstr(body, "oomkit_memory_working_set_bytes{cgroup=\"/kubepods/pod\\\"x\\\\y\","
                                 "pid=\"4242\",command=\"leak\\nchild\"} 123456789\n"));
    free(body);
    char other[160];
    snprintf(other, sizeof other, "http://127.0.0.1:%u/nope", oomkit__exporter_port(exp_));
    assert_int_equal(tu_http(other, NULL, NULL), 404);
    assert_true(oomkit__exporter_scrapes(exp_) >= 1);
    /* Bad addresses are refused, not bound somewhere unexpected. */
    struct oomkit__exporter *bad = NULL;
    assert_int_equal(oomkit__exporter_start("localhost", &bad), -EINVAL);
    assert_int_equal(oomkit__exporter_start("300.1.1.1:80", &bad), -EINVAL);
    char busy[32];
    snprintf(busy, sizeof busy, "127.0.0.1:%u", oomkit__exporter_port(exp_));
    assert_true(oomkit__exporter_start(busy, &bad) < 0);
}

static atomic_int publishing;
static atomic_int published; /* bodies the publisher has swapped in */

static void *publisher(void *arg)
{
    (void)arg;
    struct oomkit__metrics m = { 0 };
    for (int i = 0; atomic_load(&publishing); i++) {
        render(&m, 1000.0 + (i % 7));
        oomkit__exporter_publish(exp_, m.text, m.len);
        atomic_fetch_add(&published, 1);
    }
    oomkit__metrics_free(&m);
    return NULL;
}

static void test_publish_while_scraping(void **state)
{
    (void)state;
    /* Every scrape must see one whole published body, never a mix. */
    atomic_store(&publishing, 1);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, publisher, NULL), 0);
    /* Scrape only once the publisher's bodies have replaced the one set up
     * earlier, whose value is not in the 1000..1006 the checks expect. */
    while (atomic_load(&published) == 0)
        sched_yield();
    int whole = 0;
    for (int i = 0; i < 40; i++) {
        char *body = NULL;
        if (tu_http(url, NULL, &body) == 200 && body) {
            const char *v = strstr(body, "command=\"leak\\nchild\"} ");
            whole += v != NULL && strncmp(v + strlen("command=\"leak\\nchild\"} "), "100", 3) == 0 &&
                     strstr(body, "oomkit_captures_total{") != NULL &&
                     body[strlen(body) - 1] == '\n';
        }
        free(body);
    }
    atomic_store(&publishing, 0);
    pthread_join(th, NULL);
    assert_int_equal(whole, 40);
}

static void test_promtool_check_metrics(void **state)
{
    (void)state;
    if (!tu_have("promtool")) {
        print_message("SKIP: promtool not installed (Debian package prometheus)\n");
        skip();
    }
    char *body = NULL;
    assert_int_equal(tu_http(url, NULL, &body), 200);
    char dir[] = "/tmp/oomkit-watch-promtool-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], cmd[600];
    snprintf(path, sizeof path, "%s/metrics.txt", dir);
    assert_int_equal(tu_write_file(path, body), 0);
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s > %s/out.txt 2>&1", path, dir);
    int rc = system(cmd);
    snprintf(path, sizeof path, "%s/out.txt", dir);
    char *out = tu_slurp(path);
    print_message("promtool: exit %d %s\n", WEXITSTATUS(rc), out ? out : "");
    assert_int_equal(WEXITSTATUS(rc), 0);
    free(out);
    free(body);
    tu_rm_rf(dir);
}

static void test_real_prometheus_scrapes_our_value(void **state)
{
    (void)state;
    if (!tu_have("prometheus")) {
        print_message("SKIP: prometheus not installed (Debian package prometheus)\n");
        skip();
    }
    char dir[] = "/tmp/oomkit-watch-prom-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int port = tu_free_port();
    assert_true(port > 0);
    char cfg[256], data[256], log[256], listen[64], cfgarg[300], dataarg[300], listenarg[100];
    snprintf(cfg, sizeof cfg, "%s/prometheus.yml", dir);
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(log, sizeof log, "%s/prometheus.log", dir);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    char yml[512];
    snprintf(yml, sizeof yml,
             "global: { scrape_interval: 1s, evaluation_interval: 1s }\n"
             "scrape_configs:\n"
             "  - { job_name: oomkit, static_configs: [ { targets: [ '127.0.0.1:%u' ] } ] }\n",
             oomkit__exporter_port(exp_));
    assert_int_equal(tu_write_file(cfg, yml), 0);
    snprintf(cfgarg, sizeof cfgarg, "--config.file=%s", cfg);
    snprintf(dataarg, sizeof dataarg, "--storage.tsdb.path=%s", data);
    snprintf(listenarg, sizeof listenarg, "--web.listen-address=%s", listen);
    char *argv[] = { "prometheus", cfgarg, dataarg, listenarg, "--log.level=warn", NULL };

    /* A new value, so a match cannot come from anything but this scrape. */
    struct oomkit__metrics m = { 0 };
    double want = 300000000.0 + (double)(getpid() % 1000);
    render(&m, want);
    oomkit__exporter_publish(exp_, m.text, m.len);
    oomkit__metrics_free(&m);

    pid_t pid = tu_spawn(argv, log);
    assert_true(pid > 0);
    char q[256];
    snprintf(q, sizeof q, "http://%s/api/v1/query?query=oomkit_memory_working_set_bytes", listen);
    double t0 = tu_now_s();
    int found = 0;
    char *body = NULL;
    while (tu_now_s() - t0 < 30 && !found) {
        free(body);
        body = NULL;
        if (tu_http(q, NULL, &body) == 200 && body != NULL) {
            char expect[64];
            snprintf(expect, sizeof expect, "\"%.0f\"", want);
            found = strstr(body, expect) != NULL &&
                    strstr(body, "\"cgroup\":\"/kubepods/pod\\\"x\\\\y\"") != NULL &&
                    strstr(body, "\"command\":\"leak\\nchild\"") != NULL;
        }
        if (!found)
            tu_sleep_ms(250);
    }
    print_message("prometheus answered in %.1f s: %s\n", tu_now_s() - t0, body ? body : "(none)");
    int st = tu_stop(pid, 5000);
    (void)st;
    if (!found) {
        char *l = tu_slurp(log);
        print_message("prometheus log:\n%s\n", l ? l : "");
        free(l);
    }
    free(body);
    tu_rm_rf(dir);
    assert_true(found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fetch_and_404),
        cmocka_unit_test(test_publish_while_scraping),
        cmocka_unit_test(test_promtool_check_metrics),
        cmocka_unit_test(test_real_prometheus_scrapes_our_value),
    };
    return cmocka_run_group_tests_name("watch_exporter", tests, setup, teardown);
}
