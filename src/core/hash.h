/* Hashing for all of oomkit: XXH3 from Debian's libxxhash, inlined
 * (XXH_INLINE_ALL) because keys are short and a call would cost as much as
 * the hash itself. */
#ifndef OOMKIT_CORE_HASH_H
#define OOMKIT_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

static inline uint64_t oomkit__hash(const void *p, size_t len, uint64_t seed)
{
    return XXH3_64bits_withSeed(p, len, seed);
}

#endif
