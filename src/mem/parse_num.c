/* Number and key/value parsing shared by every mem parser.
 *
 * Written by hand rather than with strtoull/sscanf: the readers parse
 * hundreds of thousands of numbers per smaps read, the buffers are not
 * NUL-terminated slices, and the libc functions depend on the locale and
 * errno. These never read past len and saturate instead of overflowing. */
#include "mem/mem_internal.h"

#include <stddef.h>

/* Saturation point: leaves UINT64_MAX and UINT64_MAX - 1 to the markers. */
#define SAT_MAX (UINT64_MAX - 2)

static void skip_blanks(const char *s, size_t len, size_t *i)
{
    while (*i < len && (s[*i] == ' ' || s[*i] == '\t'))
        (*i)++;
}

int oomkit__parse_u64(const char *s, size_t len, size_t *i, uint64_t *out)
{
    skip_blanks(s, len, i);
    size_t j = *i;
    uint64_t v = 0;
    while (j < len && s[j] >= '0' && s[j] <= '9') {
        uint64_t d = (uint64_t)(s[j] - '0');
        v = (v > (SAT_MAX - d) / 10) ? SAT_MAX : v * 10 + d;
        j++;
    }
    if (j == *i)
        return -EINVAL;
    *i = j;
    *out = v;
    return 0;
}

int oomkit__parse_i64(const char *s, size_t len, size_t *i, int64_t *out)
{
    skip_blanks(s, len, i);
    int neg = 0;
    size_t j = *i;
    if (j < len && s[j] == '-') {
        neg = 1;
        j++;
    }
    uint64_t v;
    if (oomkit__parse_u64(s, len, &j, &v) < 0)
        return -EINVAL;
    if (v > (uint64_t)INT64_MAX)
        v = (uint64_t)INT64_MAX;
    *out = neg ? -(int64_t)v : (int64_t)v;
    *i = j;
    return 0;
}

int oomkit__parse_hex(const char *s, size_t len, size_t *i, uint64_t *out)
{
    size_t j = *i;
    uint64_t v = 0;
    while (j < len) {
        char c = s[j];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            break;
        v = (v >> 60) ? UINT64_MAX : (v << 4) | d;
        j++;
    }
    if (j == *i)
        return -EINVAL;
    *i = j;
    *out = v;
    return 0;
}

uint64_t oomkit__mul_sat(uint64_t a, uint64_t b)
{
    if (a != 0 && b > SAT_MAX / a)
        return SAT_MAX;
    return a * b;
}

int oomkit__parse_single_u64(const char *s, size_t len, uint64_t *out)
{
    size_t i = 0;
    if (oomkit__parse_u64(s, len, &i, out) < 0)
        return -EINVAL;
    while (i < len && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t'))
        i++;
    return i == len ? 0 : -EINVAL;
}

int oomkit__parse_limit(const char *s, size_t len, uint64_t *out)
{
    size_t i = 0;
    while (i < len && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (len - i >= 3 && memcmp(s + i, "max", 3) == 0) {
        size_t j = i + 3;
        while (j < len && (s[j] == ' ' || s[j] == '\n'))
            j++;
        if (j != len)
            return -EINVAL;
        *out = OOMKIT_MEM_NO_LIMIT;
        return 0;
    }
    uint64_t v;
    int rc = oomkit__parse_single_u64(s + i, len - i, &v);
    if (rc < 0)
        return rc;
    *out = v >= OOMKIT_MEM_HUGE_LIMIT_BYTES ? OOMKIT_MEM_NO_LIMIT : v;
    return 0;
}

const struct oomkit__kv_key *oomkit__kv_find(const struct oomkit__kv_key *keys, size_t n,
                                              const char *name, size_t name_len)
{
    /* Tables hold at most a few dozen keys; comparing the length and the
     * first byte first rejects nearly every entry in one or two loads. */
    for (size_t k = 0; k < n; k++) {
        if (keys[k].name_len == name_len && keys[k].name[0] == name[0] &&
            memcmp(keys[k].name, name, name_len) == 0)
            return &keys[k];
    }
    return NULL;
}

void oomkit__parse_kv(const char *s, size_t len, char sep,
                      const struct oomkit__kv_key *keys, size_t n, void *out)
{
    size_t i = 0;
    while (i < len) {
        size_t eol = i;
        while (eol < len && s[eol] != '\n')
            eol++;
        size_t k = i;
        while (k < eol && s[k] != sep && !(sep == ':' && s[k] == ' '))
            k++;
        if (k > i && k < eol && (sep != ':' || s[k] == ':')) {
            const struct oomkit__kv_key *key = oomkit__kv_find(keys, n, s + i, k - i);
            size_t j = k + 1;
            uint64_t v;
            if (key && oomkit__parse_u64(s, eol, &j, &v) == 0) {
                if (key->kind == OOMKIT__KV_KB)
                    v = oomkit__mul_sat(v, 1024);
                uint64_t *field = (uint64_t *)(void *)((char *)out + key->offset);
                *field = v;
            }
        }
        i = eol + 1;
    }
}
