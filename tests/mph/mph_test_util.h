/* Helpers shared by the mph tests: key sets held in one arena, and the
 * bijection check that every test of a built function makes. */
#ifndef OOMKIT_TEST_MPH_UTIL_H
#define OOMKIT_TEST_MPH_UTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "oomkit/mph.h"

/* Keys live in chunks that never move, so oomkit_str pointers stay valid. */
struct keyset {
    oomkit_str *k;
    size_t n, cap;
    char **chunks;
    size_t nchunks;
    size_t used, chunk_cap; /* in the last chunk */
};

static inline void ks_add(struct keyset *s, const void *p, size_t len)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->k = realloc(s->k, s->cap * sizeof(*s->k));
        assert_non_null(s->k);
    }
    if (s->nchunks == 0 || s->used + len > s->chunk_cap) {
        size_t cap = len > (1u << 20) ? len : (1u << 20);
        s->chunks = realloc(s->chunks, (s->nchunks + 1) * sizeof(char *));
        assert_non_null(s->chunks);
        s->chunks[s->nchunks] = malloc(cap);
        assert_non_null(s->chunks[s->nchunks]);
        s->nchunks++;
        s->used = 0;
        s->chunk_cap = cap;
    }
    char *at = s->chunks[s->nchunks - 1] + s->used;
    if (len)
        memcpy(at, p, len);
    s->k[s->n++] = (oomkit_str){ at, len };
    s->used += len;
}

static inline void ks_addf(struct keyset *s, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    assert_true(len >= 0 && (size_t)len < sizeof(buf));
    ks_add(s, buf, (size_t)len);
}

static inline void ks_free(struct keyset *s)
{
    free(s->k);
    for (size_t i = 0; i < s->nchunks; i++)
        free(s->chunks[i]);
    free(s->chunks);
    memset(s, 0, sizeof(*s));
}

/* Every key maps below n, no two to one slot, and the batched lookup
 * agrees with the single one. */
static inline void assert_bijection(const oomkit_mph *m, const struct keyset *s)
{
    assert_int_equal(oomkit_mph_size(m), s->n);
    uint8_t *seen = calloc(s->n ? s->n : 1, 1);
    uint64_t *many = malloc((s->n ? s->n : 1) * sizeof(uint64_t));
    assert_non_null(seen);
    assert_non_null(many);
    oomkit_mph_index_many(m, s->k, s->n, many);
    for (size_t i = 0; i < s->n; i++) {
        uint64_t slot = oomkit_mph_index(m, s->k[i]);
        if (slot >= s->n || seen[slot] || many[i] != slot)
            fail_msg("key %zu: slot %llu (batched %llu), n %zu, seen %d", i,
                     (unsigned long long)slot, (unsigned long long)many[i], s->n,
                     slot < s->n ? seen[slot] : -1);
        seen[slot] = 1;
    }
    free(seen);
    free(many);
}

/* A deterministic 64-bit generator for test data (splitmix64). */
static inline uint64_t test_rand(uint64_t *st)
{
    uint64_t z = (*st += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

#endif
