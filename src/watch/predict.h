/* Time-to-limit prediction and rule hysteresis for `oomkit watch`.
 *
 * A predictor keeps the last `window` (t, working set) samples of one target
 * in a fixed ring inside the handle, so adding a sample never allocates. The
 * trend is the Theil-Sen estimator: the median of the slopes of all sample
 * pairs. It ignores up to ~29% outliers (a page-cache flush, one late sample
 * after a scheduling stall), where a least-squares fit would swing with them.
 * With w <= OOMKIT__PREDICT_MAX_WINDOW samples there are at most
 * w(w-1)/2 = 7140 pair slopes; their median is taken with quickselect in a
 * caller-provided scratch array, so one scratch serves every target.
 *
 * The rule tracker turns the usage ratio and the prediction into one of
 * ok < warn < predicted < critical. A rule enters as soon as its condition
 * holds (a leak at 200 MB/s leaves no time to wait for confirmation) and
 * leaves only after its value stayed beyond a clear margin for
 * `clear_samples` consecutive samples, so a value hovering at a threshold
 * does not flap. */
#ifndef OOMKIT_WATCH_PREDICT_H
#define OOMKIT_WATCH_PREDICT_H

#include <stdbool.h>
#include <stddef.h>

#define OOMKIT__PREDICT_MAX_WINDOW 120
#define OOMKIT__PREDICT_SCRATCH_LEN \
    (OOMKIT__PREDICT_MAX_WINDOW * (OOMKIT__PREDICT_MAX_WINDOW - 1) / 2)

struct oomkit__predict {
    size_t window; /* capacity in use, 2..OOMKIT__PREDICT_MAX_WINDOW */
    size_t count;  /* samples held, <= window */
    size_t head;   /* index of the next write */
    double t_s[OOMKIT__PREDICT_MAX_WINDOW];
    double value_bytes[OOMKIT__PREDICT_MAX_WINDOW];
};

/* The result of one prediction. tto_s is +INFINITY when the trend is flat or
 * falling, and 0 when the fitted value already reached the limit. */
struct oomkit__prediction {
    double slope_bytes_per_s;
    double fitted_bytes; /* trend value at the newest sample's time */
    double tto_s;        /* seconds from the newest sample to the limit */
};

/* Resets p to hold up to `window` samples (clamped to 2..MAX).
 * Thread safety: p is owned by one thread. */
void oomkit__predict_init(struct oomkit__predict *p, size_t window);

/* Appends one sample, overwriting the oldest when full. Samples must come in
 * non-decreasing time; an older one is dropped and -EINVAL returned.
 * Thread safety: p is owned by one thread. */
int oomkit__predict_add(struct oomkit__predict *p, double t_s, double value_bytes);

/* Copies up to `max` samples, oldest first, into t_s/value_bytes (both
 * borrowed, caller-sized). Returns the number copied.
 * Thread safety: p is owned by one thread. */
size_t oomkit__predict_samples(const struct oomkit__predict *p, double *t_s,
                               double *value_bytes, size_t max);

/* Predicts when the trend reaches limit_bytes. scratch is borrowed and must
 * hold OOMKIT__PREDICT_SCRATCH_LEN doubles. Returns 0, or -EAGAIN with fewer
 * than two samples at distinct times, or -EINVAL for a non-positive limit;
 * *out is unchanged on failure.
 * Thread safety: p and scratch are owned by the calling thread. */
int oomkit__predict_tto(const struct oomkit__predict *p, double limit_bytes,
                        double *scratch, struct oomkit__prediction *out);

/* Rule states, ordered by severity. */
enum oomkit__rule_level {
    OOMKIT__RULE_OK = 0,
    OOMKIT__RULE_WARN = 1,
    OOMKIT__RULE_PREDICTED = 2,
    OOMKIT__RULE_CRITICAL = 3,
};
#define OOMKIT__RULE_COUNT 3 /* warn, predicted, critical */

struct oomkit__rules {
    double warn_ratio;     /* usage/limit that enters warn, e.g. 0.80 */
    double critical_ratio; /* usage/limit that enters critical, e.g. 0.90 */
    double predict_s;      /* enter predicted when tto <= this; 0 disables */
    double clear_ratio;    /* a ratio rule clears below (enter - clear_ratio) */
    double clear_predict_factor; /* predicted clears above predict_s * this */
    unsigned clear_samples;      /* consecutive clear samples needed */
};

struct oomkit__rule_state {
    bool active[OOMKIT__RULE_COUNT];      /* indexed by level - 1 */
    unsigned clear_run[OOMKIT__RULE_COUNT];
    enum oomkit__rule_level level;        /* highest active rule */
};

/* Defaults: warn 80%, critical 90%, predict 60 s, clear 5 points below or
 * 1.5x the prediction horizon, 3 samples. Thread safety: pure. */
void oomkit__rules_default(struct oomkit__rules *r);

/* Feeds one sample's usage ratio and predicted tto (INFINITY if unknown).
 * Sets *entered to a bit mask (1 << (level - 1)) of rules that became active
 * now and *left to those that cleared now; either may be NULL. Returns the
 * new overall level. Thread safety: s is owned by one thread. */
enum oomkit__rule_level oomkit__rules_update(const struct oomkit__rules *r,
                                             struct oomkit__rule_state *s,
                                             double ratio, double tto_s,
                                             unsigned *entered, unsigned *left);

/* "ok", "warn", "predicted" or "critical". Thread safety: pure. */
const char *oomkit__rule_level_name(enum oomkit__rule_level level);

#endif
