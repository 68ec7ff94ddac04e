/* Write latency of the store benchmark: a histogram of single-write times
 * that costs one array increment per write and allocates nothing, so the
 * harness can time every put of a build of millions of entries.
 *
 * Buckets are log-linear: exact below 64 ns, then 64 buckets per power of
 * two, so a bucket is at most 1/64 (1.6%) wide relative to its values. A
 * percentile is reported as the upper edge of the bucket it falls in (never
 * below the true value); the worst write is kept exactly. */
#ifndef OOMKIT_BENCH_STORE_LATENCY_H
#define OOMKIT_BENCH_STORE_LATENCY_H

#include <stdint.h>

#define LAT_SUB_BITS 6
#define LAT_SUB (1u << LAT_SUB_BITS)
/* Octaves 6..63 after the first 64 exact buckets. */
#define LAT_BUCKETS (LAT_SUB + (64 - LAT_SUB_BITS) * LAT_SUB)

struct lat_hist {
    uint64_t counts[LAT_BUCKETS];
    uint64_t n;
    uint64_t worst_ns;
};

void lat_reset(struct lat_hist *h);

/* Counts one write that took ns nanoseconds. */
void lat_add(struct lat_hist *h, uint64_t ns);

/* Adds every write counted in from to into. */
void lat_merge(struct lat_hist *into, const struct lat_hist *from);

/* The upper edge of the bucket holding the write of rank ceil(q * n)
 * (0 < q <= 1), capped at the worst write; 0 when nothing was counted. */
uint64_t lat_quantile_ns(const struct lat_hist *h, double q);

#endif
