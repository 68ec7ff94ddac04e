/* libFuzzer target for the static map TSV builder (src/mph/map.c): any text
 * either builds a map in which every parsed key finds its own value, or is
 * refused with -EINVAL (a bad line, named) or -EEXIST (a duplicate). Small
 * inputs, so each run also exercises the builder end to end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oomkit/mph.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    oomkit_static_map_options o;
    memset(&o, 0, sizeof(o));
    o.fingerprint_bits = size ? data[0] % 33 : 0;
    o.keep_keys = size > 1 ? data[1] & 1 : 0;
    size_t at = 0;
    o.mph.error_index = &at;
    oomkit_static_map *m = NULL;
    int rc = oomkit_static_map_build_tsv((oomkit_str){ (const char *)data, size }, &o, &m);
    if (rc == -EINVAL || rc == -EEXIST) {
        /* A named line exists in the input. */
        size_t lines = 1;
        for (size_t i = 0; i < size; i++)
            lines += data[i] == '\n';
        if (at == 0 || at > lines)
            abort();
        return 0;
    }
    if (rc != 0)
        abort();
    const oomkit_mph *fn = oomkit_static_map_mph(m);
    uint64_t n = oomkit_mph_size(fn);
    /* Every slot is below n; a lookup of a line's key (rebuilt the way the
     * parser joins fields) must succeed when keys are kept. */
    const char *p = (const char *)data, *end = p + size;
    char key[1 << 16];
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (le > p && le[-1] == '\r')
            le--;
        if (le > p && *p != '#') {
            const char *tab = NULL;
            for (const char *q = le; q > p; q--)
                if (q[-1] == '\t') {
                    tab = q - 1;
                    break;
                }
            if (tab == NULL)
                abort(); /* the build accepted a line without a value */
            size_t klen = (size_t)(tab - p);
            for (size_t j = 0; j < klen; j++)
                key[j] = p[j] == '\t' ? '/' : p[j];
            oomkit_str k = { key, klen };
            if (oomkit_mph_index(fn, k) >= n)
                abort();
            int64_t v;
            if (oomkit_static_map_get(m, k, &v) != 0)
                abort(); /* a member is always found */
            /* Leading zeros make a valid value as long as the input. */
            static char num[1 << 16];
            size_t vlen = (size_t)(le - tab - 1);
            memcpy(num, tab + 1, vlen);
            num[vlen] = '\0';
            long long want = strtoll(num, NULL, 10);
            if (v != (int64_t)want)
                abort();
        }
        p = nl ? nl + 1 : end;
    }
    oomkit_static_map_close(m);
    return 0;
}
