/* The object block: one variable-size allocation per object holding its
 * header, its name and its fields.
 *
 *   0      4      8     10    12          16       20
 *   +------+------+-----+-----+-----------+--------+------+-----+------------------+-----+----------------+
 *   |ns_id |obj_id|nflds| cap |name_len:30|ns_pos  | name | pad | keys[cap] (uN)   | pad | i64 values[cap]|
 *   |      |      |     |     |kw:2       |        |      |     |                  |     |                |
 *   +------+------+-----+-----+-----------+--------+------+-----+------------------+-----+----------------+
 *                                                         N/8-aligned ^       8-aligned ^
 *
 * Keys are stored as u8, u16 or u32 (kw = 0, 1, 2), the narrowest that holds
 * every key id of the block. Key ids are handed out in order of first use, so
 * a store with at most 256 distinct keys (every workload we have seen: the
 * 100k-object Kubernetes state has 54) stores one byte per key instead of
 * four: 21.4 -> 18.4 bytes per entry there (docs/architecture.md). A block
 * only widens, when a copy adds a key id it cannot hold.
 *
 * The name comes first (the design sketch had it last): a hit lookup then
 * reads the header, compares the name and scans the keys in one or two
 * adjacent cache lines before touching the value.
 *
 * Invariants, and who may touch what:
 * - ns_id, obj_id, cap, name_len, kw and the name never change once the
 *   block is published (release store of its pointer); readers read them
 *   plainly.
 * - nfields is stored with release after keys[i] and values[i] of a new
 *   field are written, and loaded with acquire; a slot is never rewritten
 *   with another key while published (deletions copy the block), so a reader
 *   never pairs a key with another field's value.
 * - values[i] are 8-aligned: a value update is one relaxed atomic store and
 *   a reader's relaxed atomic load cannot tear.
 * - ns_pos (the object's slot in its namespace list) is touched only by the
 *   writer, with relaxed atomics because it shares a word with readers' data.
 * - Fields are unsorted (appended) and found by a linear scan: objects hold
 *   4-16 fields, and 16 keys fit in a quarter of a cache line. */
#ifndef OOMKIT_STORE_BLOCK_H
#define OOMKIT_STORE_BLOCK_H

#include "store/sync.h"

#include <stddef.h>
#include <stdint.h>

/* One-byte keys are compared 16 at a time where SSE2 exists, except under
 * TSan (oomkit__find_u8_wide says why). */
#if defined(__SSE2__) && !defined(OOMKIT_TSAN)
#define OOMKIT__WIDE_KEY_SCAN 1
#include <emmintrin.h>
#endif

typedef struct oomkit__blk {
    uint32_t ns_id;
    uint32_t obj_id;
    uint16_t nfields;  /* acquire / release */
    uint16_t cap;
    uint32_t name_len : 30;
    uint32_t kw : 2;   /* key width: 1 << kw bytes */
    uint32_t ns_pos;   /* writer only, relaxed atomics */
} oomkit__blk;

_Static_assert(sizeof(oomkit__blk) == 20, "the block header is 20 bytes, the name follows");

#define BLK_MAX_FIELDS UINT16_MAX
/* Longest name a block holds (30 bits of name_len). */
#define BLK_MAX_NAME ((1u << 30) - 1)

/* The narrowest key width (as kw) that holds key_id. */
static inline unsigned oomkit__kw_for(uint32_t key_id)
{
    return key_id <= UINT8_MAX ? 0u : key_id <= UINT16_MAX ? 1u : 2u;
}
static inline size_t oomkit__blk_keys_off(size_t name_len, unsigned kw)
{
    size_t align = (size_t)1 << kw;
    return (sizeof(oomkit__blk) + name_len + align - 1) & ~(align - 1);
}
static inline size_t oomkit__blk_values_off(size_t cap, size_t name_len, unsigned kw)
{
    return (oomkit__blk_keys_off(name_len, kw) + (cap << kw) + 7) & ~(size_t)7;
}
static inline size_t oomkit__blk_bytes(size_t cap, size_t name_len, unsigned kw)
{
    return oomkit__blk_values_off(cap, name_len, kw) + 8 * cap;
}
static inline size_t oomkit__blk_size(const oomkit__blk *b)
{
    return oomkit__blk_bytes(b->cap, b->name_len, b->kw);
}
static inline const void *oomkit__blk_keys(const oomkit__blk *b)
{
    return (const char *)b + oomkit__blk_keys_off(b->name_len, b->kw);
}
static inline int64_t *oomkit__blk_values(const oomkit__blk *b)
{
    return (int64_t *)(uintptr_t)((const char *)b +
                                  oomkit__blk_values_off(b->cap, b->name_len, b->kw));
}
static inline const char *oomkit__blk_name(const oomkit__blk *b)
{
    return (const char *)b + sizeof(oomkit__blk);
}
static inline uint16_t oomkit__blk_nfields(const oomkit__blk *b)
{
    return LOAD_ACQ(&((oomkit__blk *)b)->nfields);
}
/* The key id of field i. */
static inline uint32_t oomkit__blk_key(const oomkit__blk *b, size_t i)
{
    const void *k = oomkit__blk_keys(b);
    switch (b->kw) {
    case 0:
        return ((const uint8_t *)k)[i];
    case 1:
        return ((const uint16_t *)k)[i];
    default:
        return ((const uint32_t *)k)[i];
    }
}
/* Sets the key id of field i; key_id fits the block's width. Writer, before
 * the field is published. */
static inline void oomkit__blk_set_key(oomkit__blk *b, size_t i, uint32_t key_id)
{
    void *k = (void *)(uintptr_t)oomkit__blk_keys(b);
    switch (b->kw) {
    case 0:
        ((uint8_t *)k)[i] = (uint8_t)key_id;
        break;
    case 1:
        ((uint16_t *)k)[i] = (uint16_t)key_id;
        break;
    default:
        ((uint32_t *)k)[i] = key_id;
        break;
    }
}
#ifdef OOMKIT__WIDE_KEY_SCAN
/* Index of the byte key_id among the first n bytes at k, or -1, 16 bytes
 * per compare. A byte loop's exit lands at a random place on every lookup
 * and the branch predictor misses it: in cache, batched hits went from 13.0M
 * to 15.9M keys/s this way (docs/architecture.md, "Finding a key in a
 * block"). Reads up to 15 bytes past the n-th key, which the caller must
 * keep inside the block; those bytes may be a writer's unpublished field,
 * read and masked off, never used (so TSan builds take the plain loop). */
static inline int oomkit__find_u8_wide(const uint8_t *k, unsigned n, uint8_t key_id)
{
    const __m128i want = _mm_set1_epi8((char)key_id);
    for (unsigned base = 0; base < n; base += 16) {
        __m128i got = _mm_loadu_si128((const __m128i *)(const void *)(k + base));
        unsigned hit = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(got, want));
        if (n - base < 16)
            hit &= (1u << (n - base)) - 1;
        if (hit != 0)
            return (int)(base + (unsigned)__builtin_ctz(hit));
    }
    return -1;
}
#endif

/* Index of key_id among the first n fields, or -1. One loop per width; the
 * common u8 keys are compared 16 at a time where SSE2 exists. */
static inline int oomkit__blk_find(const oomkit__blk *b, uint16_t n, uint32_t key_id)
{
    const void *k = oomkit__blk_keys(b);
    if (oomkit__kw_for(key_id) > b->kw)
        return -1;
    switch (b->kw) {
    case 0:
#ifdef OOMKIT__WIDE_KEY_SCAN
        /* From the keys to the block's end there are at least 9 * cap
         * bytes (cap keys, then cap values), so with cap >= 2 the wide
         * compare's last load (at most n - 1 + 16 bytes in) stays inside. */
        if (b->cap >= 2)
            return oomkit__find_u8_wide(k, n, (uint8_t)key_id);
#endif
        for (int i = 0; i < (int)n; i++)
            if (((const uint8_t *)k)[i] == key_id)
                return i;
        return -1;
    case 1:
        for (int i = 0; i < (int)n; i++)
            if (((const uint16_t *)k)[i] == key_id)
                return i;
        return -1;
    default:
        for (int i = 0; i < (int)n; i++)
            if (((const uint32_t *)k)[i] == key_id)
                return i;
        return -1;
    }
}
/* A reader's view of field key_id of b: its value (to load relaxed), or
 * NULL when b has no such field. */
static inline const int64_t *oomkit__blk_field(const oomkit__blk *b, uint32_t key_id)
{
    int fi = oomkit__blk_find(b, oomkit__blk_nfields(b), key_id);
    return fi < 0 ? NULL : &oomkit__blk_values(b)[fi];
}

#endif
