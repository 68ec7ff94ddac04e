/* libFuzzer target for the mph blob loader (src/mph/blob.c): any bytes
 * either open as a function or static map, or are rejected, and an opened
 * blob answers lookups without reading out of bounds (ASan checks).
 *
 * Checksums would stop almost every mutation at the door, so when the first
 * input byte is odd the target recomputes both checksums (XXH3-64, as the
 * format defines them) before opening: that lets mutated structure reach
 * the section checks and the lookups behind them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/hash.h"
#include "oomkit/mph.h"

static void fix_checksums(uint8_t *b, size_t len)
{
    if (len < 128)
        return;
    uint64_t file_bytes;
    memcpy(&file_bytes, b + 16, 8);
    if (file_bytes != len)
        return;
    uint64_t body = XXH3_64bits(b + 128, len - 128);
    memcpy(b + 96, &body, 8);
    uint64_t head = XXH3_64bits(b, 120);
    memcpy(b + 120, &head, 8);
}

static void probe(const oomkit_mph *m, const oomkit_static_map *map)
{
    static const oomkit_str keys[] = {
        { "", 0 }, { "a", 1 }, { "pod-00001", 9 }, { "prod/checkout/status.phase", 26 },
        { "\0\0\0\0", 4 }, { "0123456789abcdef0123456789abcdef0123456789", 42 },
    };
    const size_t nk = sizeof(keys) / sizeof(keys[0]);
    uint64_t out[sizeof(keys) / sizeof(keys[0])];
    uint64_t n = oomkit_mph_size(m);
    oomkit_mph_index_many(m, keys, nk, out);
    for (size_t i = 0; i < nk; i++) {
        uint64_t s = oomkit_mph_index(m, keys[i]);
        if (s != out[i] || (n > 0 && s >= n) || (n == 0 && s != 0))
            abort();
    }
    if (map != NULL) {
        int64_t vals[sizeof(keys) / sizeof(keys[0])];
        uint8_t found[sizeof(keys) / sizeof(keys[0])];
        oomkit_static_map_get_many(map, keys, nk, vals, found);
        for (size_t i = 0; i < nk; i++) {
            int64_t v = 0;
            int rc = oomkit_static_map_get(map, keys[i], &v);
            if ((rc == 0) != (found[i] == 1) || (rc == 0 && v != vals[i]))
                abort();
        }
    }
    oomkit_mph_stats st;
    if (oomkit_mph_stats_get(m, &st) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int fix = data[0] & 1;
    data++;
    size--;
    /* The loader wants 8-byte alignment, as mmap gives. */
    uint8_t *buf = aligned_alloc(64, (size + 63) & ~(size_t)63);
    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    if (fix)
        fix_checksums(buf, size);
    oomkit_mph *m = NULL;
    if (oomkit_mph_from_buffer(buf, size, &m) == 0) {
        oomkit_static_map *map = NULL;
        if (oomkit_static_map_from_buffer(buf, size, &map) != 0)
            map = NULL;
        probe(m, map);
        oomkit_static_map_close(map);
        oomkit_mph_close(m);
    }
    free(buf);
    return 0;
}
