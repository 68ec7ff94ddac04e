/* The write-latency histogram of latency.h. */
#include "bench/store/latency.h"

#include <string.h>

/* Bucket i >= LAT_SUB holds octave o = LAT_SUB_BITS + (i - LAT_SUB) / LAT_SUB,
 * values [2^o + s * 2^(o - LAT_SUB_BITS), 2^o + (s + 1) * 2^(o - LAT_SUB_BITS))
 * with s = (i - LAT_SUB) % LAT_SUB. */
static unsigned bucket_of(uint64_t ns)
{
    if (ns < LAT_SUB)
        return (unsigned)ns;
    unsigned octave = 63u - (unsigned)__builtin_clzll(ns);
    unsigned sub = (unsigned)(ns >> (octave - LAT_SUB_BITS)) & (LAT_SUB - 1);
    return LAT_SUB + (octave - LAT_SUB_BITS) * LAT_SUB + sub;
}

/* The largest value bucket i holds. */
static uint64_t bucket_top(unsigned i)
{
    if (i < LAT_SUB)
        return i;
    unsigned octave = LAT_SUB_BITS + (i - LAT_SUB) / LAT_SUB;
    uint64_t sub = (i - LAT_SUB) % LAT_SUB;
    uint64_t width = 1ull << (octave - LAT_SUB_BITS);
    return (1ull << octave) + (sub + 1) * width - 1;
}

void lat_reset(struct lat_hist *h)
{
    memset(h, 0, sizeof(*h));
}

void lat_add(struct lat_hist *h, uint64_t ns)
{
    h->counts[bucket_of(ns)]++;
    h->n++;
    if (ns > h->worst_ns)
        h->worst_ns = ns;
}

void lat_merge(struct lat_hist *into, const struct lat_hist *from)
{
    for (unsigned i = 0; i < LAT_BUCKETS; i++)
        into->counts[i] += from->counts[i];
    into->n += from->n;
    if (from->worst_ns > into->worst_ns)
        into->worst_ns = from->worst_ns;
}

uint64_t lat_quantile_ns(const struct lat_hist *h, double q)
{
    if (h->n == 0)
        return 0;
    /* The rank of the write at quantile q, 1-based, rounded up. */
    uint64_t rank = (uint64_t)(q * (double)h->n);
    if ((double)rank < q * (double)h->n)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < LAT_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t top = bucket_top(i);
            /* The bucket's edge may lie above every value counted. */
            return top < h->worst_ns ? top : h->worst_ns;
        }
    }
    return h->worst_ns;
}
