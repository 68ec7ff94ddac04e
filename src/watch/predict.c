/* Theil-Sen time-to-limit prediction over a sample ring, and the
 * hysteresis that turns ratios and predictions into rule levels (see
 * predict.h for the design). */
#include "watch/predict.h"

#include <errno.h>
#include <math.h>

void oomkit__predict_init(struct oomkit__predict *p, size_t window)
{
    if (window < 2)
        window = 2;
    if (window > OOMKIT__PREDICT_MAX_WINDOW)
        window = OOMKIT__PREDICT_MAX_WINDOW;
    p->window = window;
    p->count = 0;
    p->head = 0;
}

int oomkit__predict_add(struct oomkit__predict *p, double t_s, double value_bytes)
{
    if (!isfinite(t_s) || !isfinite(value_bytes))
        return -EINVAL;
    if (p->count > 0) {
        size_t last = (p->head + p->window - 1) % p->window;
        if (t_s < p->t_s[last])
            return -EINVAL;
    }
    p->t_s[p->head] = t_s;
    p->value_bytes[p->head] = value_bytes;
    p->head = (p->head + 1) % p->window;
    if (p->count < p->window)
        p->count++;
    return 0;
}

size_t oomkit__predict_samples(const struct oomkit__predict *p, double *t_s,
                               double *value_bytes, size_t max)
{
    size_t n = p->count < max ? p->count : max;
    /* The oldest of the last n samples sits n slots behind head. */
    size_t start = (p->head + p->window - n) % p->window;
    for (size_t i = 0; i < n; i++) {
        size_t k = (start + i) % p->window;
        t_s[i] = p->t_s[k];
        value_bytes[i] = p->value_bytes[k];
    }
    return n;
}

/* Hoare-style quickselect: leaves the k-th smallest at a[k]. Median of three
 * pivots keep sorted input (a steady leak gives nearly sorted slopes) away
 * from the quadratic case. */
static double select_kth(double *a, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        double x = a[lo], y = a[mid], z = a[hi];
        double pivot = (x < y) ? ((y < z) ? y : (x < z ? z : x))
                               : ((x < z) ? x : (y < z ? z : y));
        size_t i = lo, j = hi;
        while (i <= j) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i <= j) {
                double tmp = a[i];
                a[i] = a[j];
                a[j] = tmp;
                i++;
                if (j == 0)
                    break;
                j--;
            }
        }
        if (k <= j)
            hi = j;
        else if (k >= i)
            lo = i;
        else
            return a[k];
    }
    return a[k];
}

static double median(double *a, size_t n)
{
    double hi = select_kth(a, n, n / 2);
    if (n % 2 == 1)
        return hi;
    /* After selecting n/2, everything below index n/2 is <= a[n/2]; the
     * lower middle is the largest of them. */
    double lo = a[0];
    for (size_t i = 1; i < n / 2; i++)
        if (a[i] > lo)
            lo = a[i];
    return (lo + hi) / 2;
}

int oomkit__predict_tto(const struct oomkit__predict *p, double limit_bytes,
                        double *scratch, struct oomkit__prediction *out)
{
    if (!(limit_bytes > 0))
        return -EINVAL;
    if (p->count < 2)
        return -EAGAIN;
    double t[OOMKIT__PREDICT_MAX_WINDOW], v[OOMKIT__PREDICT_MAX_WINDOW];
    size_t n = oomkit__predict_samples(p, t, v, OOMKIT__PREDICT_MAX_WINDOW);
    double t_last = t[n - 1];
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++) {
            double dt = t[j] - t[i];
            if (dt > 0)
                scratch[m++] = (v[j] - v[i]) / dt;
        }
    }
    if (m == 0)
        return -EAGAIN;
    double slope = median(scratch, m);
    /* Intercept at the newest sample's time: median of the residuals, which
     * keeps the fit as robust as the slope. */
    for (size_t i = 0; i < n; i++)
        scratch[i] = v[i] - slope * (t[i] - t_last);
    double fitted = median(scratch, n);
    out->slope_bytes_per_s = slope;
    out->fitted_bytes = fitted;
    if (fitted >= limit_bytes)
        out->tto_s = 0;
    else if (slope <= 0)
        out->tto_s = INFINITY;
    else
        out->tto_s = (limit_bytes - fitted) / slope;
    return 0;
}

void oomkit__rules_default(struct oomkit__rules *r)
{
    r->warn_ratio = 0.80;
    r->critical_ratio = 0.90;
    r->predict_s = 60;
    r->clear_ratio = 0.05;
    r->clear_predict_factor = 1.5;
    r->clear_samples = 3;
}

enum oomkit__rule_level oomkit__rules_update(const struct oomkit__rules *r,
                                             struct oomkit__rule_state *s,
                                             double ratio, double tto_s,
                                             unsigned *entered, unsigned *left)
{
    unsigned in = 0, out = 0;
    for (int rule = 0; rule < OOMKIT__RULE_COUNT; rule++) {
        enum oomkit__rule_level level = (enum oomkit__rule_level)(rule + 1);
        bool holds, clear;
        if (level == OOMKIT__RULE_PREDICTED) {
            holds = r->predict_s > 0 && tto_s <= r->predict_s;
            clear = !(tto_s <= r->predict_s * r->clear_predict_factor);
        } else {
            double enter = level == OOMKIT__RULE_WARN ? r->warn_ratio : r->critical_ratio;
            holds = enter > 0 && ratio >= enter;
            clear = ratio < enter - r->clear_ratio;
        }
        if (!s->active[rule]) {
            if (holds) {
                s->active[rule] = true;
                s->clear_run[rule] = 0;
                in |= 1u << rule;
            }
            continue;
        }
        /* Active: leave only after a run of clear samples; any sample that
         * is not clear (including one back inside the margin) restarts it. */
        if (clear) {
            if (++s->clear_run[rule] >= (r->clear_samples ? r->clear_samples : 1)) {
                s->active[rule] = false;
                s->clear_run[rule] = 0;
                out |= 1u << rule;
            }
        } else {
            s->clear_run[rule] = 0;
        }
    }
    s->level = OOMKIT__RULE_OK;
    for (int rule = OOMKIT__RULE_COUNT - 1; rule >= 0; rule--) {
        if (s->active[rule]) {
            s->level = (enum oomkit__rule_level)(rule + 1);
            break;
        }
    }
    if (entered)
        *entered = in;
    if (left)
        *left = out;
    return s->level;
}

const char *oomkit__rule_level_name(enum oomkit__rule_level level)
{
    switch (level) {
    case OOMKIT__RULE_WARN: return "warn";
    case OOMKIT__RULE_PREDICTED: return "predicted";
    case OOMKIT__RULE_CRITICAL: return "critical";
    default: return "ok";
    }
}
