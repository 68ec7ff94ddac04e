/* Deterministic string pools and a PRNG shared by the store tests: a few
 * namespaces, a few hundred names and a few dozen keys, with the awkward
 * cases mixed in (empty strings, embedded NUL bytes, a long key). */
#ifndef OOMKIT_TESTS_STORE_GEN_H
#define OOMKIT_TESTS_STORE_GEN_H

#include "oomkit/common.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef struct rng {
    uint64_t s;
} rng;

static inline uint64_t rng_next(rng *r)
{
    /* splitmix64 */
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline uint32_t rng_below(rng *r, uint32_t n)
{
    return (uint32_t)(rng_next(r) % n);
}

#define GEN_NS 7
#define GEN_NAMES 400
#define GEN_KEYS 24
#define GEN_LONG_KEY 1500

typedef struct gen_pool {
    char ns[GEN_NS][16];
    size_t nslen[GEN_NS];
    char names[GEN_NAMES][40];
    size_t namelen[GEN_NAMES];
    char keys[GEN_KEYS][GEN_LONG_KEY];
    size_t keylen[GEN_KEYS];
} gen_pool;

static inline void gen_init(gen_pool *g)
{
    memset(g, 0, sizeof(*g));
    for (int i = 0; i < GEN_NS; i++)
        g->nslen[i] = (size_t)snprintf(g->ns[i], sizeof(g->ns[i]), "ns-%d", i);
    g->nslen[0] = 0;                                   /* empty namespace */
    memcpy(g->ns[1], "kube\0system", 11), g->nslen[1] = 11; /* NUL inside */
    for (int i = 0; i < GEN_NAMES; i++)
        g->namelen[i] = (size_t)snprintf(g->names[i], sizeof(g->names[i]),
                                         "app-%d-7c5ddbdf54-x%dk", i % 37, i);
    g->namelen[0] = 0;
    g->names[1][3] = '\0';
    for (int i = 0; i < GEN_KEYS; i++)
        g->keylen[i] = (size_t)snprintf(g->keys[i], GEN_LONG_KEY, "status.k%d", i);
    g->keylen[0] = 0;
    g->keys[1][2] = '\0';
    memset(g->keys[2], 'L', GEN_LONG_KEY);
    g->keylen[2] = GEN_LONG_KEY;
}

static inline oomkit_str gen_ns(const gen_pool *g, uint32_t i)
{
    return (oomkit_str){ g->ns[i], g->nslen[i] };
}
static inline oomkit_str gen_name(const gen_pool *g, uint32_t i)
{
    return (oomkit_str){ g->names[i], g->namelen[i] };
}
static inline oomkit_str gen_key(const gen_pool *g, uint32_t i)
{
    return (oomkit_str){ g->keys[i], g->keylen[i] };
}

#ifdef OOMKIT_ASAN
#define STORE_TEST_ASAN 1
#else
#define STORE_TEST_ASAN 0
#endif

#endif
