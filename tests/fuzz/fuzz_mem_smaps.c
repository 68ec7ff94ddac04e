/* libFuzzer target for the smaps/maps/smaps_rollup parsers and the
 * classifier that runs on their output. The input is smaps text; stack
 * pointers for the classifier are taken from its first bytes. Checks
 * memory safety and the classifier's invariant that the categories add up
 * to the totals. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem/mem_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    oomkit_mem_smaps_fields f;
    oomkit__parse_smaps_rollup(s, size, &f);

    oomkit_mem_maps *maps = NULL;
    if (oomkit__maps_parse_buffer(s, size, &maps) != 0)
        return 0;
    uint64_t sps[4] = { 0 };
    size_t n_sps = size >= sizeof sps ? 4 : 0;
    if (n_sps)
        memcpy(sps, data, sizeof sps);
    oomkit_mem_breakdown b;
    if (oomkit_mem_classify(maps, sps, n_sps, (int)(size & 1), &b) != 0)
        abort();
    uint64_t n = 0, rss = 0;
    for (int c = 0; c < OOMKIT_MEM_CAT_COUNT; c++) {
        n += b.cat[c].mappings;
        rss += b.cat[c].rss_bytes;
    }
    if (n != oomkit_mem_maps_count(maps) || n != b.total.mappings || rss != b.total.rss_bytes)
        abort();
    for (size_t i = 0; i < oomkit_mem_maps_count(maps); i++) {
        const oomkit_mem_mapping *m = oomkit_mem_maps_get(maps, i);
        if (m->category >= OOMKIT_MEM_CAT_COUNT || m->end < m->start)
            abort();
    }
    oomkit_mem_maps_free(maps);
    return 0;
}
