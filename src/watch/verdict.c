/* The growth classifier behind a capture's verdict (see verdict.h). It is
 * written by hand because it is the product: no library classifies memory
 * growth by kernel category. */
#include "watch/verdict.h"

#include <stdio.h>

static const char *const kind_names[] = {
    "heap", "anon_mmap", "page_cache", "shmem", "stacks", "kernel", "unknown",
};

const char *oomkit__verdict_kind_name(enum oomkit__verdict_kind kind)
{
    if ((unsigned)kind > OOMKIT__VERDICT_UNKNOWN)
        kind = OOMKIT__VERDICT_UNKNOWN;
    return kind_names[kind];
}

void oomkit__verdict_classify(const struct oomkit__verdict_input *before,
                              const struct oomkit__verdict_input *after,
                              double elapsed_s, struct oomkit__verdict *out)
{
    uint64_t grown = 0;
    int best = -1;
    for (int k = 0; k < OOMKIT__VERDICT_KIND_COUNT; k++) {
        /* Two's-complement difference, read as signed: exact for any
         * sizes below 2^63, which every memory figure is. */
        int64_t d = (int64_t)(after->bytes[k] - before->bytes[k]);
        out->delta_bytes[k] = d;
        if (d > 0) {
            grown += (uint64_t)d;
            if (best < 0 || d > out->delta_bytes[best])
                best = k;
        }
    }
    const double sig = OOMKIT__VERDICT_SIGNIFICANT_BYTES;
    if (best < 0 || (double)grown < sig / 10) {
        out->kind = OOMKIT__VERDICT_UNKNOWN;
        out->confidence = 0;
    } else {
        out->kind = (enum oomkit__verdict_kind)best;
        double share = (double)out->delta_bytes[best] / (double)grown;
        double scale = (double)grown >= sig ? 1.0 : (double)grown / sig;
        out->confidence = share * scale;
    }

    /* Evidence: the winner first, then every other kind that moved by at
     * least 1 MiB either way, so a reader sees what was ruled out. */
    size_t cap = sizeof out->evidence, n = 0;
    const double mib = 1024.0 * 1024.0;
    int w = snprintf(out->evidence, cap, "%.1f MiB grew in %.1f s",
                     (double)grown / mib, elapsed_s > 0 ? elapsed_s : 0.0);
    n = w > 0 ? (size_t)w : 0;
    if (out->kind != OOMKIT__VERDICT_UNKNOWN && n < cap) {
        w = snprintf(out->evidence + n, cap - n, "; %s %+.1f MiB (%.0f%% of growth",
                     kind_names[best], (double)out->delta_bytes[best] / mib,
                     100.0 * (double)out->delta_bytes[best] / (double)grown);
        n += w > 0 ? (size_t)w : 0;
        if (elapsed_s > 0 && n < cap) {
            w = snprintf(out->evidence + n, cap - n, ", %.1f MiB/s",
                         (double)out->delta_bytes[best] / mib / elapsed_s);
            n += w > 0 ? (size_t)w : 0;
        }
        if (n < cap) {
            w = snprintf(out->evidence + n, cap - n, ")");
            n += w > 0 ? (size_t)w : 0;
        }
    }
    for (int k = 0; k < OOMKIT__VERDICT_KIND_COUNT && n < cap; k++) {
        int64_t d = out->delta_bytes[k];
        if (k == best && out->kind != OOMKIT__VERDICT_UNKNOWN)
            continue;
        if (d > -(int64_t)(1 << 20) && d < (int64_t)(1 << 20))
            continue;
        w = snprintf(out->evidence + n, cap - n, "; %s %+.1f MiB", kind_names[k],
                     (double)d / mib);
        n += w > 0 ? (size_t)w : 0;
    }
}
