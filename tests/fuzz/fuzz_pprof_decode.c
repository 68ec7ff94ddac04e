/* libFuzzer target for the pprof reader: arbitrary bytes go through the
 * same path as `oomkit report` (gunzip if gzip, then decode); a decoded
 * profile must re-encode and decode again to the same shape. */
#include "core/alloc.h"
#include "pprof/pprof.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *raw;
    size_t raw_len;
    if (oomkit__pprof_gunzip(data, size, 1 << 24, &raw, &raw_len) != 0)
        return 0;
    struct oomkit__pprof_profile p;
    if (oomkit__pprof_decode(raw, raw_len, &p) == 0) {
        uint8_t *again;
        size_t again_len;
        if (oomkit__pprof_encode(&p, &again, &again_len) != 0)
            abort(); /* a validated profile must always encode */
        struct oomkit__pprof_profile q;
        if (oomkit__pprof_decode(again, again_len, &q) != 0 || q.n_samples != p.n_samples ||
            q.n_strings != p.n_strings || q.n_locations != p.n_locations)
            abort();
        oomkit__pprof_free(&q);
        oomkit__free(again);
        oomkit__pprof_free(&p);
    }
    oomkit__free(raw);
    return 0;
}
