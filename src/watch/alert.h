/* The Alertmanager client of `oomkit watch` (API v2, libcurl, json-c).
 *
 * oomkit__alert_post() renders the alert to JSON in the caller's thread and
 * appends it to a bounded queue; a background thread POSTs the queue to
 * `<url>/api/v2/alerts` in order, retrying a failed POST with exponential
 * backoff. The sampling loop therefore never waits on the network. When the
 * queue is full the oldest entry is dropped and counted. An alert resolves
 * by posting it again with endsAt set. Problems reach the caller as one log
 * line per outage (first failure, and recovery), through a callback. */
#ifndef OOMKIT_WATCH_ALERT_H
#define OOMKIT_WATCH_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "watch/metrics.h"

struct oomkit__alert_client;

struct oomkit__alert_options {
    const char *url;          /* base URL, e.g. http://127.0.0.1:9093; copied */
    size_t queue_cap;         /* entries; 0 = 64 */
    unsigned max_attempts;    /* per entry before it is dropped; 0 = 8 */
    double first_backoff_s;   /* 0 = 0.2 */
    double max_backoff_s;     /* 0 = 5 */
    double timeout_s;         /* per POST; 0 = 2 */
    /* Called from the sender thread with one line (no newline), borrowed
     * for the call. May be NULL. */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
};

struct oomkit__alert {
    const char *alertname;                 /* required */
    const struct oomkit__label *labels;    /* borrowed; empty values left out */
    size_t n_labels;
    const struct oomkit__label *annotations;
    size_t n_annotations;
    double starts_at_unix_s;               /* 0: left for Alertmanager to set */
    double ends_at_unix_s;                 /* 0: firing; else resolved at that time */
    const char *generator_url;             /* may be NULL */
};

struct oomkit__alert_stats {
    uint64_t queued, sent, failed_attempts, dropped;
    size_t pending;
};

/* Starts the sender thread. *out is owned by the caller until _stop.
 * Returns 0, -EINVAL (no URL), -ENOMEM, or a pthread error as -errno.
 * Thread safety: any thread. */
int oomkit__alert_start(const struct oomkit__alert_options *o,
                        struct oomkit__alert_client **out);

/* Renders a (borrowed) and queues it. Returns 0, -EINVAL for an alert
 * without a name, -ENOMEM. Never blocks on the network.
 * Thread safety: any thread. */
int oomkit__alert_post(struct oomkit__alert_client *c, const struct oomkit__alert *a);

/* Renders a as the JSON array body Alertmanager expects; the string is
 * malloc'd through the oomkit allocator and owned by the caller
 * (oomkit__free). NULL on allocation failure. Thread safety: pure. */
char *oomkit__alert_render(const struct oomkit__alert *a);

/* Formats unix time t as RFC 3339 UTC with microseconds
 * ("2026-11-24T01:10:29.123456Z") into buf (>= 32 bytes).
 * Thread safety: pure. */
void oomkit__alert_rfc3339(double t, char *buf, size_t len);

/* Copies the counters into *out (caller-owned).
 * Thread safety: any thread. */
void oomkit__alert_get_stats(struct oomkit__alert_client *c, struct oomkit__alert_stats *out);

/* Waits up to drain_s for the queue to empty, then stops the thread and
 * frees c; NULL is a no-op. Thread safety: not concurrently with _post. */
void oomkit__alert_stop(struct oomkit__alert_client *c, double drain_s);

#endif
