/* Alertmanager API v2 client with a bounded queue and a sender thread
 * (see alert.h). The queue is a ring of rendered JSON bodies; lock protocol:
 * `lock` protects every field below it, `cond` signals new work or stop. */
#include "watch/alert.h"

#include "core/alloc.h"
#include "core/deadline.h"

#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct entry {
    char *json;        /* owned */
    unsigned attempts;
    double due_s;      /* monotonic time of the next attempt */
};

struct oomkit__alert_client {
    char *endpoint;    /* owned: url + /api/v2/alerts */
    struct oomkit__alert_options o;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct entry *ring; /* queue_cap entries */
    size_t head, count;
    int stopping;
    int outage;         /* a failure was logged and no success since */
    struct oomkit__alert_stats st;
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void oomkit__alert_rfc3339(double t, char *buf, size_t len)
{
    time_t secs = (time_t)floor(t);
    long usec = (long)((t - (double)secs) * 1e6 + 0.5);
    if (usec >= 1000000) {
        secs++;
        usec -= 1000000;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%06ldZ", base, usec);
}

static json_object *label_object(const struct oomkit__label *l, size_t n)
{
    json_object *o = json_object_new_object();
    for (size_t i = 0; o != NULL && i < n; i++) {
        if (l[i].name == NULL || l[i].value == NULL || l[i].value[0] == '\0')
            continue;
        json_object_object_add(o, l[i].name, json_object_new_string(l[i].value));
    }
    return o;
}

char *oomkit__alert_render(const struct oomkit__alert *a)
{
    json_object *arr = json_object_new_array();
    json_object *al = json_object_new_object();
    json_object *labels = label_object(a->labels, a->n_labels);
    if (arr == NULL || al == NULL || labels == NULL) {
        json_object_put(arr);
        json_object_put(al);
        json_object_put(labels);
        return NULL;
    }
    json_object_object_add(labels, "alertname", json_object_new_string(a->alertname));
    json_object_object_add(al, "labels", labels);
    json_object_object_add(al, "annotations", label_object(a->annotations, a->n_annotations));
    char ts[40];
    if (a->starts_at_unix_s > 0) {
        oomkit__alert_rfc3339(a->starts_at_unix_s, ts, sizeof ts);
        json_object_object_add(al, "startsAt", json_object_new_string(ts));
    }
    if (a->ends_at_unix_s > 0) {
        oomkit__alert_rfc3339(a->ends_at_unix_s, ts, sizeof ts);
        json_object_object_add(al, "endsAt", json_object_new_string(ts));
    }
    if (a->generator_url != NULL)
        json_object_object_add(al, "generatorURL", json_object_new_string(a->generator_url));
    json_object_array_add(arr, al);
    size_t len = 0;
    const char *s = json_object_to_json_string_length(arr, JSON_C_TO_STRING_PLAIN, &len);
    char *out = s ? oomkit__malloc(len + 1) : NULL;
    if (out != NULL) {
        memcpy(out, s, len);
        out[len] = '\0';
    }
    json_object_put(arr);
    return out;
}

static void log_line(struct oomkit__alert_client *c, const char *line)
{
    if (c->o.log)
        c->o.log(c->o.log_ctx, line);
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

/* One POST; 0 on a 2xx answer, else a short reason in why. */
static int post(struct oomkit__alert_client *c, CURL *curl, const char *json, char *why, size_t len)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, c->endpoint);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(c->o.timeout_s * 1000));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(c->o.timeout_s * 1000));
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    if (rc != CURLE_OK) {
        snprintf(why, len, "%s", curl_easy_strerror(rc));
        return -1;
    }
    if (status < 200 || status > 299) {
        snprintf(why, len, "HTTP %ld", status);
        return -1;
    }
    return 0;
}

static void *sender(void *arg)
{
    struct oomkit__alert_client *c = arg;
    CURL *curl = curl_easy_init();
    char why[160], line[512];
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (!c->stopping && c->count == 0)
            pthread_cond_wait(&c->cond, &c->lock);
        if (c->count == 0)
            break; /* stopping with nothing left */
        struct entry *e = &c->ring[c->head];
        double now = mono_s();
        if (e->due_s > now) {
            if (c->stopping)
                break;
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until = oomkit__deadline_after(until, (int64_t)((e->due_s - now) * 1e9));
            pthread_cond_timedwait(&c->cond, &c->lock, &until);
            continue;
        }
        /* Post without the lock so _post never waits on the network. The
         * entry stays at the head; only this thread removes entries, and
         * _post drops the oldest only when the ring is full, which it
         * detects by count, so take ownership of the body first. */
        char *json = e->json;
        e->json = NULL;
        unsigned attempts = ++e->attempts;
        pthread_mutex_unlock(&c->lock);
        int rc = curl ? post(c, curl, json, why, sizeof why) : -1;
        if (curl == NULL)
            snprintf(why, sizeof why, "libcurl could not start");
        pthread_mutex_lock(&c->lock);
        /* The head may have been dropped meanwhile (queue overflow); if so
         * the entry we posted is gone already and json is ours to free. */
        struct entry *now_head = c->count ? &c->ring[c->head] : NULL;
        int still_ours = now_head != NULL && now_head->json == NULL && now_head->attempts == attempts;
        if (rc == 0) {
            c->st.sent++;
            if (c->outage) {
                c->outage = 0;
                snprintf(line, sizeof line, "alertmanager %s: reachable again", c->o.url);
                pthread_mutex_unlock(&c->lock);
                log_line(c, line);
                pthread_mutex_lock(&c->lock);
            }
            oomkit__free(json);
            if (still_ours) {
                c->head = (c->head + 1) % c->o.queue_cap;
                c->count--;
            }
            continue;
        }
        c->st.failed_attempts++;
        int first = !c->outage;
        c->outage = 1;
        if (!still_ours) {
            oomkit__free(json);
        } else if (attempts >= c->o.max_attempts) {
            oomkit__free(json);
            c->head = (c->head + 1) % c->o.queue_cap;
            c->count--;
            c->st.dropped++;
        } else {
            now_head->json = json;
            double backoff = c->o.first_backoff_s * pow(2, attempts - 1);
            now_head->due_s = mono_s() + (backoff < c->o.max_backoff_s ? backoff : c->o.max_backoff_s);
        }
        if (first) {
            snprintf(line, sizeof line,
                     "alertmanager %s: %s; alerts stay queued and are retried with backoff",
                     c->o.url, why);
            pthread_mutex_unlock(&c->lock);
            log_line(c, line);
            pthread_mutex_lock(&c->lock);
        }
    }
    pthread_mutex_unlock(&c->lock);
    curl_easy_cleanup(curl);
    return NULL;
}

int oomkit__alert_start(const struct oomkit__alert_options *o, struct oomkit__alert_client **out)
{
    if (o == NULL || o->url == NULL || o->url[0] == '\0')
        return -EINVAL;
    struct oomkit__alert_client *c = oomkit__calloc(1, sizeof *c);
    if (c == NULL)
        return -ENOMEM;
    c->o = *o;
    if (c->o.queue_cap == 0)
        c->o.queue_cap = 64;
    if (c->o.max_attempts == 0)
        c->o.max_attempts = 8;
    if (!(c->o.first_backoff_s > 0))
        c->o.first_backoff_s = 0.2;
    if (!(c->o.max_backoff_s > 0))
        c->o.max_backoff_s = 5;
    if (!(c->o.timeout_s > 0))
        c->o.timeout_s = 2;
    size_t ulen = strlen(o->url);
    while (ulen > 0 && o->url[ulen - 1] == '/')
        ulen--;
    c->endpoint = oomkit__malloc(ulen + sizeof "/api/v2/alerts");
    char *url = oomkit__malloc(ulen + 1);
    c->ring = oomkit__calloc(c->o.queue_cap, sizeof c->ring[0]);
    if (c->endpoint == NULL || url == NULL || c->ring == NULL) {
        oomkit__free(c->endpoint);
        oomkit__free(url);
        oomkit__free(c->ring);
        oomkit__free(c);
        return -ENOMEM;
    }
    memcpy(url, o->url, ulen);
    url[ulen] = '\0';
    c->o.url = url;
    memcpy(c->endpoint, url, ulen);
    memcpy(c->endpoint + ulen, "/api/v2/alerts", sizeof "/api/v2/alerts");
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    int rc = pthread_create(&c->thread, NULL, sender, c);
    if (rc != 0) {
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->cond);
        oomkit__free(c->endpoint);
        oomkit__free(url);
        oomkit__free(c->ring);
        oomkit__free(c);
        return -rc;
    }
    *out = c;
    return 0;
}

int oomkit__alert_post(struct oomkit__alert_client *c, const struct oomkit__alert *a)
{
    if (a == NULL || a->alertname == NULL || a->alertname[0] == '\0')
        return -EINVAL;
    char *json = oomkit__alert_render(a);
    if (json == NULL)
        return -ENOMEM;
    pthread_mutex_lock(&c->lock);
    if (c->count == c->o.queue_cap) {
        /* Full: drop the oldest. If the sender holds its body right now
         * (json NULL), it notices the entry is gone and frees its copy. */
        struct entry *old = &c->ring[c->head];
        oomkit__free(old->json);
        old->json = NULL;
        old->attempts = 0;
        c->head = (c->head + 1) % c->o.queue_cap;
        c->count--;
        c->st.dropped++;
    }
    struct entry *e = &c->ring[(c->head + c->count) % c->o.queue_cap];
    e->json = json;
    e->attempts = 0;
    e->due_s = 0;
    c->count++;
    c->st.queued++;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

void oomkit__alert_get_stats(struct oomkit__alert_client *c, struct oomkit__alert_stats *out)
{
    pthread_mutex_lock(&c->lock);
    *out = c->st;
    out->pending = c->count;
    pthread_mutex_unlock(&c->lock);
}

void oomkit__alert_stop(struct oomkit__alert_client *c, double drain_s)
{
    if (c == NULL)
        return;
    double until = mono_s() + drain_s;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        size_t n = c->count;
        pthread_mutex_unlock(&c->lock);
        if (n == 0 || mono_s() >= until)
            break;
        struct timespec ts = { 0, 20 * 1000000L };
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&c->lock);
    c->stopping = 1;
    /* Undelivered entries are dropped: stop must not wait out backoff. */
    while (c->count > 0) {
        struct entry *e = &c->ring[c->head];
        oomkit__free(e->json);
        e->json = NULL;
        c->head = (c->head + 1) % c->o.queue_cap;
        c->count--;
    }
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    oomkit__free(c->endpoint);
    oomkit__free((char *)c->o.url);
    oomkit__free(c->ring);
    oomkit__free(c);
}
