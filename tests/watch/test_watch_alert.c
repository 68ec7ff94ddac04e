/* Tests of the Alertmanager client (src/watch/alert.c): the JSON it sends,
 * its behaviour when Alertmanager is down (one log line, bounded queue,
 * post never blocks), and a real `prometheus-alertmanager` on loopback
 * that shows the alert with its capture path and then resolves it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "watch_test_util.h"

#include "core/alloc.h"
#include "watch/alert.h"

#include <json-c/json.h>
#include <pthread.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_lines;
static char last_line[512];

static void on_log(void *ctx, const char *line)
{
    (void)ctx;
    pthread_mutex_lock(&log_lock);
    log_lines++;
    snprintf(last_line, sizeof last_line, "%s", line);
    pthread_mutex_unlock(&log_lock);
    print_message("log: %s\n", line);
}

static const struct oomkit__label labels[] = {
    { "severity", "critical" }, { "cgroup", "/test/a" }, { "pid", "77" }, { "command", "" },
};

static void test_render_json(void **state)
{
    (void)state;
    struct oomkit__label ann[] = { { "verdict", "heap (0.97)" }, { "capture_path", "/var/x/1" } };
    struct oomkit__alert a = { "OomkitOomPredicted", labels, 4, ann, 2, 1795482862.25, 0, NULL };
    char *s = oomkit__alert_render(&a);
    assert_non_null(s);
    json_object *arr = json_tokener_parse(s);
    assert_non_null(arr);
    assert_int_equal(json_object_array_length(arr), 1);
    json_object *al = json_object_array_get_idx(arr, 0), *l, *an, *v;
    assert_true(json_object_object_get_ex(al, "labels", &l));
    assert_true(json_object_object_get_ex(l, "alertname", &v));
    assert_string_equal(json_object_get_string(v), "OomkitOomPredicted");
    assert_true(json_object_object_get_ex(l, "cgroup", &v));
    assert_string_equal(json_object_get_string(v), "/test/a");
    assert_false(json_object_object_get_ex(l, "command", &v)); /* empty: left out */
    assert_true(json_object_object_get_ex(al, "annotations", &an));
    assert_true(json_object_object_get_ex(an, "capture_path", &v));
    assert_string_equal(json_object_get_string(v), "/var/x/1");
    assert_true(json_object_object_get_ex(al, "startsAt", &v));
    assert_string_equal(json_object_get_string(v), "2026-11-24T01:14:22.250000Z");
    assert_false(json_object_object_get_ex(al, "endsAt", &v));
    json_object_put(arr);
    oomkit__free(s);

    char ts[40];
    oomkit__alert_rfc3339(0.0000015, ts, sizeof ts);
    assert_string_equal(ts, "1970-01-01T00:00:00.000002Z");
    oomkit__alert_rfc3339(59.9999999, ts, sizeof ts);
    assert_string_equal(ts, "1970-01-01T00:01:00.000000Z");
    struct oomkit__alert bad = { NULL, NULL, 0, NULL, 0, 0, 0, NULL };
    struct oomkit__alert_client *c = NULL;
    struct oomkit__alert_options o = { .url = "http://127.0.0.1:9" };
    assert_int_equal(oomkit__alert_start(&o, &c), 0);
    assert_int_equal(oomkit__alert_post(c, &bad), -EINVAL);
    oomkit__alert_stop(c, 0);
    struct oomkit__alert_options none = { 0 };
    assert_int_equal(oomkit__alert_start(&none, &c), -EINVAL);
}

static void test_down_logs_once_and_bounds_queue(void **state)
{
    (void)state;
    int port = tu_free_port(); /* nobody listens there */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    struct oomkit__alert_options o = { .url = url, .queue_cap = 8, .max_attempts = 100,
                                       .first_backoff_s = 0.01, .max_backoff_s = 0.05,
                                       .timeout_s = 0.5, .log = on_log };
    struct oomkit__alert_client *c;
    assert_int_equal(oomkit__alert_start(&o, &c), 0);
    log_lines = 0;
    struct oomkit__alert a = { "OomkitMemoryWarn", labels, 4, NULL, 0, 0, 0, NULL };
    for (int i = 0; i < 100; i++)
        assert_int_equal(oomkit__alert_post(c, &a), 0);
    tu_sleep_ms(600);
    struct oomkit__alert_stats st;
    oomkit__alert_get_stats(c, &st);
    print_message("queued %llu dropped %llu failed %llu pending %zu\n",
                  (unsigned long long)st.queued, (unsigned long long)st.dropped,
                  (unsigned long long)st.failed_attempts, st.pending);
    assert_int_equal(st.queued, 100);
    assert_true(st.pending <= 8);
    assert_true(st.dropped >= 92);
    assert_true(st.failed_attempts >= 3); /* retried, with backoff */
    assert_int_equal(st.sent, 0);
    oomkit__alert_stop(c, 0);
    /* Copy under the lock, assert outside it (a failed assert jumps out). */
    pthread_mutex_lock(&log_lock);
    int lines = log_lines;
    char line[512];
    snprintf(line, sizeof line, "%s", last_line);
    pthread_mutex_unlock(&log_lock);
    assert_int_equal(lines, 1); /* one line per outage, not per attempt */
    assert_non_null(strstr(line, "retried with backoff"));
    assert_non_null(strstr(line, "http://127.0.0.1:"));
}

/* Polls GET /api/v2/alerts until pred(body) or timeout; returns the body
 * (malloc'd) that matched, else NULL. */
static char *wait_alerts(const char *base, int (*pred)(const char *), double timeout_s)
{
    char url[128];
    snprintf(url, sizeof url, "%s/api/v2/alerts", base);
    double t0 = tu_now_s();
    while (tu_now_s() - t0 < timeout_s) {
        char *body = NULL;
        if (tu_http(url, NULL, &body) == 200 && body && pred(body))
            return body;
        free(body);
        tu_sleep_ms(100);
    }
    return NULL;
}

static int has_capture_alert(const char *body)
{
    return strstr(body, "\"alertname\":\"OomkitOomPredicted\"") != NULL &&
           strstr(body, "\"capture_path\":\"/var/lib/oomkit/captures/test-1\"") != NULL;
}

static int no_active_alert(const char *body)
{
    /* Resolved alerts leave the default (active) listing. */
    return strstr(body, "OomkitOomPredicted") == NULL ||
           strstr(body, "\"state\":\"active\"") == NULL;
}

static void test_real_alertmanager(void **state)
{
    (void)state;
    if (!tu_have("prometheus-alertmanager")) {
        print_message("SKIP: prometheus-alertmanager not installed (Debian package)\n");
        skip();
    }
    char dir[] = "/tmp/oomkit-watch-am-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int port = tu_free_port();
    char cfg[256], data[256], log[256], a1[300], a2[300], a3[100], base[64];
    snprintf(cfg, sizeof cfg, "%s/alertmanager.yml", dir);
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(log, sizeof log, "%s/am.log", dir);
    assert_int_equal(tu_write_file(cfg, "route: { receiver: null-recv, group_wait: 1s }\n"
                                        "receivers: [ { name: null-recv } ]\n"), 0);
    snprintf(a1, sizeof a1, "--config.file=%s", cfg);
    snprintf(a2, sizeof a2, "--storage.path=%s", data);
    snprintf(a3, sizeof a3, "--web.listen-address=127.0.0.1:%d", port);
    snprintf(base, sizeof base, "http://127.0.0.1:%d", port);
    char *argv[] = { "prometheus-alertmanager", a1, a2, a3, "--cluster.listen-address=",
                     "--log.level=warn", NULL };
    pid_t pid = tu_spawn(argv, log);
    assert_true(pid > 0);

    /* Posting before Alertmanager is ready is the normal case at boot:
     * the client's retries must deliver it anyway. */
    log_lines = 0;
    struct oomkit__alert_options o = { .url = base, .first_backoff_s = 0.1, .log = on_log };
    struct oomkit__alert_client *c;
    assert_int_equal(oomkit__alert_start(&o, &c), 0);
    struct oomkit__label ann[] = { { "summary", "OOM predicted in 12 s" },
                                   { "verdict", "heap, confidence 0.97" },
                                   { "capture_path", "/var/lib/oomkit/captures/test-1" } };
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    double t = (double)now.tv_sec + (double)now.tv_nsec / 1e9;
    struct oomkit__alert a = { "OomkitOomPredicted", labels, 4, ann, 3, t, 0, NULL };
    double t0 = tu_now_s();
    assert_int_equal(oomkit__alert_post(c, &a), 0);
    char *body = wait_alerts(base, has_capture_alert, 20);
    print_message("alert visible after %.2f s\n", tu_now_s() - t0);
    int fired = body != NULL;
    free(body);

    a.ends_at_unix_s = t + 0.5;
    assert_int_equal(oomkit__alert_post(c, &a), 0);
    body = fired ? wait_alerts(base, no_active_alert, 20) : NULL;
    int resolved = body != NULL;
    free(body);
    struct oomkit__alert_stats st;
    oomkit__alert_get_stats(c, &st);
    oomkit__alert_stop(c, 2);
    tu_stop(pid, 5000);
    if (!fired || !resolved) {
        char *l = tu_slurp(log);
        print_message("alertmanager log:\n%s\n", l ? l : "");
        free(l);
    }
    tu_rm_rf(dir);
    assert_true(fired);
    assert_true(resolved);
    assert_int_equal(st.sent, 2);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_json),
        cmocka_unit_test(test_down_logs_once_and_bounds_queue),
        cmocka_unit_test(test_real_alertmanager),
    };
    int rc = cmocka_run_group_tests_name("watch_alert", tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
