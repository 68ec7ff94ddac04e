/* Unit tests for the Theil-Sen predictor and rule hysteresis
 * (src/watch/predict.c) on synthetic working-set series. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "watch/predict.h"

#define MIB (1024.0 * 1024.0)

static double scratch[OOMKIT__PREDICT_SCRATCH_LEN];

/* A deterministic uniform noise source in [-1, 1] (xorshift), so every run
 * sees the same series. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static double noise(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / (double)(1ull << 53) * 2.0 - 1.0;
}

/* Feeds a steady leak of rate_bps from base to the 50% crossing of limit,
 * sampling every dt_s with the given noise amplitude and sampling jitter,
 * and returns |predicted - actual| / actual at the crossing. */
static double steady_leak_error(double rate_bps, double dt_s, double noise_bytes,
                                double jitter_s, size_t window)
{
    struct oomkit__predict p;
    oomkit__predict_init(&p, window);
    const double limit = 512 * MIB, base = 40 * MIB;
    double t = 0;
    struct oomkit__prediction pr = { 0 };
    for (;;) {
        double truth = base + rate_bps * t;
        assert_int_equal(oomkit__predict_add(&p, t, truth + noise() * noise_bytes), 0);
        if (truth >= limit / 2)
            break;
        t += dt_s + fabs(noise()) * jitter_s;
    }
    assert_int_equal(oomkit__predict_tto(&p, limit, scratch, &pr), 0);
    double actual = (limit - (base + rate_bps * t)) / rate_bps;
    return fabs(pr.tto_s - actual) / actual;
}

static void test_steady_leaks_within_20pct(void **state)
{
    (void)state;
    const double rates[] = { 10 * MIB, 50 * MIB, 200 * MIB, 1 * MIB };
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        double dt = rates[i] >= 200 * MIB ? 0.1 : 1.0;
        double err = steady_leak_error(rates[i], dt, 2 * MIB, dt * 0.5, 60);
        print_message("rate %.0f MiB/s: prediction error %.2f%%\n", rates[i] / MIB, err * 100);
        assert_true(err <= 0.20);
    }
}

static void test_outliers_do_not_move_slope(void **state)
{
    (void)state;
    struct oomkit__predict p;
    oomkit__predict_init(&p, 30);
    for (int i = 0; i < 30; i++) {
        double v = 100 * MIB + 10 * MIB * i;
        if (i % 7 == 3)
            v += 300 * MIB; /* a burst of page cache that is flushed again */
        oomkit__predict_add(&p, i, v);
    }
    struct oomkit__prediction pr;
    assert_int_equal(oomkit__predict_tto(&p, 1024 * MIB, scratch, &pr), 0);
    assert_true(fabs(pr.slope_bytes_per_s - 10 * MIB) < 0.5 * MIB);
    double actual = (1024 * MIB - (100 * MIB + 290 * MIB)) / (10 * MIB);
    assert_true(fabs(pr.tto_s - actual) / actual < 0.05);
}

static void test_flat_and_decreasing_never_predict(void **state)
{
    (void)state;
    struct oomkit__predict p;
    struct oomkit__prediction pr;
    oomkit__predict_init(&p, 60);
    for (int i = 0; i < 60; i++)
        oomkit__predict_add(&p, i, 200 * MIB);
    assert_int_equal(oomkit__predict_tto(&p, 512 * MIB, scratch, &pr), 0);
    assert_true(isinf(pr.tto_s));
    assert_true(pr.slope_bytes_per_s == 0);

    oomkit__predict_init(&p, 60);
    for (int i = 0; i < 60; i++)
        oomkit__predict_add(&p, i, 400 * MIB - 3 * MIB * i + noise() * MIB);
    assert_int_equal(oomkit__predict_tto(&p, 512 * MIB, scratch, &pr), 0);
    assert_true(pr.slope_bytes_per_s < 0);
    assert_true(isinf(pr.tto_s));
}

static void test_noise_alone_predicts_far_away(void **state)
{
    (void)state;
    struct oomkit__predict p;
    struct oomkit__prediction pr;
    oomkit__predict_init(&p, 60);
    for (int i = 0; i < 60; i++)
        oomkit__predict_add(&p, i, 200 * MIB + noise() * 20 * MIB);
    assert_int_equal(oomkit__predict_tto(&p, 512 * MIB, scratch, &pr), 0);
    /* A +-20 MiB wobble around 200 MiB must not look like a leak that hits
     * 512 MiB within the default 60 s horizon. */
    assert_true(pr.tto_s > 600);
}

static void test_step_then_flat(void **state)
{
    (void)state;
    struct oomkit__predict p;
    struct oomkit__prediction pr;
    oomkit__predict_init(&p, 40);
    /* A one-off step (a cache warm-up) a quarter into the window, flat
     * after: fewer than half the pairs straddle it, so the slope stays 0. */
    for (int i = 0; i < 40; i++)
        oomkit__predict_add(&p, i, (i < 10 ? 100 : 300) * MIB);
    assert_int_equal(oomkit__predict_tto(&p, 512 * MIB, scratch, &pr), 0);
    assert_true(isinf(pr.tto_s));
    assert_true(fabs(pr.fitted_bytes - 300 * MIB) < 1);
}

static void test_ring_keeps_newest(void **state)
{
    (void)state;
    struct oomkit__predict p;
    oomkit__predict_init(&p, 5);
    for (int i = 0; i < 12; i++)
        assert_int_equal(oomkit__predict_add(&p, i, i * 10.0), 0);
    double t[8], v[8];
    assert_int_equal(oomkit__predict_samples(&p, t, v, 8), 5);
    for (int i = 0; i < 5; i++) {
        assert_true(t[i] == 7 + i);
        assert_true(v[i] == (7 + i) * 10.0);
    }
    /* Going back in time is refused and changes nothing. */
    assert_int_equal(oomkit__predict_add(&p, 3, 1), -EINVAL);
    assert_int_equal(oomkit__predict_add(&p, 20, NAN), -EINVAL);
    assert_int_equal(oomkit__predict_samples(&p, t, v, 8), 5);
    assert_true(t[4] == 11);

    struct oomkit__prediction pr = { 1, 2, 3 };
    oomkit__predict_init(&p, 5);
    assert_int_equal(oomkit__predict_tto(&p, 100, scratch, &pr), -EAGAIN);
    oomkit__predict_add(&p, 1, 1);
    oomkit__predict_add(&p, 1, 2);
    assert_int_equal(oomkit__predict_tto(&p, 100, scratch, &pr), -EAGAIN);
    assert_int_equal(oomkit__predict_tto(&p, 0, scratch, &pr), -EINVAL);
    assert_true(pr.slope_bytes_per_s == 1 && pr.tto_s == 3);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_median_matches_sort(void **state)
{
    (void)state;
    /* The slope must equal a sort-based Theil-Sen on random series of every
     * window length, odd and even pair counts alike. */
    for (size_t w = 2; w <= OOMKIT__PREDICT_MAX_WINDOW; w += 7) {
        struct oomkit__predict p;
        oomkit__predict_init(&p, w);
        for (size_t i = 0; i < w; i++)
            oomkit__predict_add(&p, (double)i + fabs(noise()) * 0.5, noise() * 1e6 + (double)i * 1e5);
        double t[OOMKIT__PREDICT_MAX_WINDOW], v[OOMKIT__PREDICT_MAX_WINDOW];
        size_t n = oomkit__predict_samples(&p, t, v, w);
        static double ref[OOMKIT__PREDICT_SCRATCH_LEN];
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (t[j] > t[i])
                    ref[m++] = (v[j] - v[i]) / (t[j] - t[i]);
        qsort(ref, m, sizeof ref[0], cmp_double);
        double want = m % 2 ? ref[m / 2] : (ref[m / 2 - 1] + ref[m / 2]) / 2;
        struct oomkit__prediction pr;
        assert_int_equal(oomkit__predict_tto(&p, 1e12, scratch, &pr), 0);
        assert_true(fabs(pr.slope_bytes_per_s - want) <= 1e-9 * fabs(want) + 1e-9);
    }
}

static void test_hysteresis_does_not_flap(void **state)
{
    (void)state;
    struct oomkit__rules r;
    oomkit__rules_default(&r);
    struct oomkit__rule_state s = { 0 };
    unsigned in, out, enters = 0, leaves = 0;
    /* Hovering around 80% +-2 points: warn enters once and stays. */
    for (int i = 0; i < 50; i++) {
        double ratio = 0.80 + (i % 2 ? 0.02 : -0.02);
        oomkit__rules_update(&r, &s, ratio, INFINITY, &in, &out);
        enters += (in & 1u) != 0;
        leaves += (out & 1u) != 0;
    }
    assert_int_equal(enters, 1);
    assert_int_equal(leaves, 0);
    assert_int_equal(s.level, OOMKIT__RULE_WARN);
    /* Two clear samples, one relapse inside the margin, then three clear:
     * it leaves exactly once, on the third. */
    assert_int_equal(oomkit__rules_update(&r, &s, 0.5, INFINITY, &in, &out), OOMKIT__RULE_WARN);
    assert_int_equal(oomkit__rules_update(&r, &s, 0.5, INFINITY, &in, &out), OOMKIT__RULE_WARN);
    assert_int_equal(oomkit__rules_update(&r, &s, 0.77, INFINITY, &in, &out), OOMKIT__RULE_WARN);
    assert_int_equal(out, 0);
    oomkit__rules_update(&r, &s, 0.5, INFINITY, &in, &out);
    oomkit__rules_update(&r, &s, 0.5, INFINITY, &in, &out);
    assert_int_equal(out, 0);
    assert_int_equal(oomkit__rules_update(&r, &s, 0.5, INFINITY, &in, &out), OOMKIT__RULE_OK);
    assert_int_equal(out, 1u);
}

static void test_levels_and_prediction_rule(void **state)
{
    (void)state;
    struct oomkit__rules r;
    oomkit__rules_default(&r);
    struct oomkit__rule_state s = { 0 };
    unsigned in, out;
    assert_int_equal(oomkit__rules_update(&r, &s, 0.3, 500, &in, &out), OOMKIT__RULE_OK);
    assert_int_equal(oomkit__rules_update(&r, &s, 0.5, 45, &in, &out), OOMKIT__RULE_PREDICTED);
    assert_int_equal(in, 1u << (OOMKIT__RULE_PREDICTED - 1));
    /* 80 s is beyond the 60 s horizon but inside the 90 s clear band. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(oomkit__rules_update(&r, &s, 0.5, 80, &in, &out), OOMKIT__RULE_PREDICTED);
    assert_int_equal(oomkit__rules_update(&r, &s, 0.95, 10, &in, &out), OOMKIT__RULE_CRITICAL);
    assert_int_equal(in, (1u << (OOMKIT__RULE_WARN - 1)) | (1u << (OOMKIT__RULE_CRITICAL - 1)));
    assert_string_equal(oomkit__rule_level_name(s.level), "critical");
    assert_string_equal(oomkit__rule_level_name(OOMKIT__RULE_OK), "ok");
    for (int i = 0; i < 3; i++)
        oomkit__rules_update(&r, &s, 0.1, INFINITY, &in, &out);
    assert_int_equal(s.level, OOMKIT__RULE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steady_leaks_within_20pct),
        cmocka_unit_test(test_outliers_do_not_move_slope),
        cmocka_unit_test(test_flat_and_decreasing_never_predict),
        cmocka_unit_test(test_noise_alone_predicts_far_away),
        cmocka_unit_test(test_step_then_flat),
        cmocka_unit_test(test_ring_keeps_newest),
        cmocka_unit_test(test_median_matches_sort),
        cmocka_unit_test(test_hysteresis_does_not_flap),
        cmocka_unit_test(test_levels_and_prediction_rule),
    };
    return cmocka_run_group_tests_name("watch_predict", tests, NULL, NULL);
}
