/* Internals of oomkit mph: the blob layout, the hash-to-slot arithmetic
 * shared by the builder and every lookup, and the handle.
 *
 * Design (PtrHash family). Every key is hashed once with XXH3-64 and the
 * hash seed into h:
 *
 *   part   p = mulhi(h, parts)                     which part, 0..parts-1
 *   x        = h * parts (mod 2^64)                h's position inside p
 *   bucket b = p * bpp + bucketfn(x, bpp)          bpp = buckets per part
 *   pilot    = pilots[b]                           one byte, the only miss
 *   lo       = h * C3                              spreads h's low bits up
 *   slot   s = part[p].base + mulhi((lo ^ pilot * C1) * C2, part[p].slots)
 *   if s >= n: s = remap[s - n]
 *
 * 64 bits of hash, not 128: the builder keeps one hash per key, and at 10M
 * keys 8 bytes less per key is 80 MB less memory to fault in, which on
 * this machine costs more than the whole pilot search. Two distinct keys
 * share a 64-bit hash with probability n^2 / 2^65 (3e-6 at 10M keys); the
 * builder then compares their bytes and retries with the next seed.
 *
 * bucketfn skews keys towards the first buckets of a part (x -> eps x +
 * (1 - eps) x^3), so a part has a few large buckets, placed first while the
 * part is empty, and many small ones, placed last when few slots are free:
 * that is what lets one byte of pilot per 3.5 keys suffice.
 *
 * Parts hold about keys_per_part keys; part p has exactly
 * max(1, ceil(keys_p / alpha)) slots, recorded in the part table, so every
 * part is loaded at alpha whatever the luck of the hash (a fixed part size
 * would have to leave room for the fullest part). The parts' slots are laid
 * end to end: slots = sum over parts >= n. The slots_total - n slots at the
 * end cannot be returned, so the remap table sends each of them that holds
 * a key to one of the free slots below n (there are exactly as many).
 *
 * Blob, one flat little-endian buffer; every section starts 64-byte aligned:
 *
 *   +---------------------------+ 0
 *   | header (128 bytes)        |  magic, version, n, seeds, counts, sizes,
 *   |                           |  body checksum, header checksum
 *   +---------------------------+
 *   | part table: parts x       |  {u32 base, u32 slots}
 *   +---------------------------+
 *   | pilots: parts * bpp bytes |
 *   +---------------------------+
 *   | remap: slots - n x u32    |  every entry < n
 *   +---------------------------+  static maps only:
 *   | values: n x i64           |  by slot
 *   | fingerprints: n x fp_bits |  bit-packed by slot, + 8 bytes of padding
 *   | key offsets: (n+1) x u64  |  by slot, into the key bytes
 *   | key bytes                 |
 *   +---------------------------+ file_bytes
 *
 * Invariants checked on open (so lookups need no bounds checks beyond the
 * key offsets): sizes match the header exactly; part bases are the running
 * sum of slots, each part has >= 1 slot and the sum is slots_total; every
 * remap entry is < n; parts == 0 iff n == 0. Key offsets are checked at
 * lookup (two compares), which keeps open O(remap) beyond the checksum.
 */
#ifndef OOMKIT_MPH_INTERNAL_H
#define OOMKIT_MPH_INTERNAL_H

#include "oomkit/mph.h"
#include "core/hash.h"

#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "oomkit mph blobs are little-endian; a big-endian port must byte-swap"
#endif

#define MPH_MAGIC "OOMKMPH\0"
#define MPH_VERSION 1u
#define MPH_HEADER_BYTES 128u
#define MPH_ALIGN 64u
#define MPH_KIND_FUNCTION 1u
#define MPH_KIND_MAP 2u
#define MPH_FLAG_KEYS 1u
/* Small parts (under MPH_LINEAR_BELOW keys) use plain, unskewed buckets:
 * with the skew, a part of 20 keys would put 15 of them in its first bucket,
 * which no pilot can place into 21 slots. */
#define MPH_FLAG_LINEAR 2u
#define MPH_LINEAR_BELOW 2048u

/* Odd 64-bit multipliers (the golden ratio and splitmix64's constants):
 * C3 moves h's low bits (which differ between keys of one bucket, whose
 * high bits agree) into the high bits; C1 spreads the pilot over all 64
 * bits; C2 mixes lo ^ pilot * C1 so that two keys separate under most
 * pilots. */
#define MPH_C1 0x9e3779b97f4a7c15ull
#define MPH_C2 0xbf58476d1ce4e5b9ull
#define MPH_C3 0x94d049bb133111ebull
/* bucketfn's eps = 1/8 as a 64-bit fraction: the first buckets of a part
 * get 8 lambda keys on average (28 at lambda 3.5), the last about
 * lambda / 2.75. Measured at 3M keys, lambda 3.5, alpha 0.995: eps 1/8
 * builds in 0.55 s, 1/4 in 0.6 s, 1/2 in 0.8 s, and 1/16 in 2.1 s (its
 * first buckets are too large to place). */
#define MPH_EPS_FRAC 0x2000000000000000ull
#define MPH_ONE_MINUS_EPS_FRAC 0xe000000000000000ull

/* The 128-byte header, as stored. */
struct mph_header {
    char magic[8];
    uint32_t version;
    uint32_t header_bytes;
    uint64_t file_bytes;
    uint64_t n;
    uint64_t seed;        /* asked for */
    uint64_t hash_seed;   /* used */
    uint64_t slots_total;
    uint32_t parts;
    uint32_t bpp;         /* buckets per part */
    uint32_t kind;
    uint32_t fp_bits;
    uint32_t flags;
    uint32_t attempts;
    uint64_t build_ns;
    uint64_t key_bytes;
    uint64_t body_checksum; /* XXH3-64 of [header_bytes, file_bytes) */
    uint64_t reserved[2];
    uint64_t header_checksum; /* XXH3-64 of bytes [0, 120) */
};
_Static_assert(sizeof(struct mph_header) == MPH_HEADER_BYTES, "header is 128 bytes");

struct mph_part {
    uint32_t base;
    uint32_t slots;
};

/* Section offsets and lengths in bytes, all derived from the header. */
struct mph_layout {
    uint64_t parts_off, parts_len;
    uint64_t pilots_off, pilots_len;
    uint64_t remap_off, remap_len;
    uint64_t values_off, values_len;
    uint64_t fp_off, fp_len;
    uint64_t koff_off, koff_len;
    uint64_t kbytes_off, kbytes_len;
    uint64_t total;
};

/* A validated view of a blob; what every lookup reads. */
struct mph_view {
    const uint8_t *base;
    uint64_t n;
    uint64_t hash_seed;
    uint32_t parts;
    uint32_t bpp;
    uint32_t linear; /* MPH_FLAG_LINEAR: buckets without skew */
    const struct mph_part *part;
    const uint8_t *pilots;
    const uint32_t *remap;
    /* Static map sections, NULL in a function-only blob. */
    const int64_t *values;
    const uint8_t *fp;
    uint32_t fp_bits;
    const uint64_t *koff;
    const uint8_t *kbytes;
    uint64_t key_bytes;
};

/* The handle behind oomkit_mph and oomkit_static_map. */
struct mph_handle {
    struct mph_view v;
    const void *blob;
    size_t blob_len;
    int own;        /* 1: blob malloc'd by us, 2: mmapped, 0: borrowed */
};

struct oomkit_mph {
    struct mph_handle h;
};
struct oomkit_static_map {
    struct mph_handle h;
    struct oomkit_mph fn; /* borrowed view of the same blob */
};

static inline uint64_t mph_mulhi(uint64_t a, uint64_t b)
{
    return (uint64_t)(((unsigned __int128)a * b) >> 64);
}

/* A key with a NULL ptr (and any len) reads as the empty string: the
 * lookups that cannot return an error still never dereference it. */
static inline oomkit_str mph_key(oomkit_str key)
{
    if (key.ptr == NULL)
        key.len = 0;
    return key;
}

static inline uint64_t mph_hash(const struct mph_view *v, oomkit_str key)
{
    /* XXH3 accepts a NULL pointer with length 0, as oomkit_str does. */
    return oomkit__hash(key.ptr, key.len, v->hash_seed);
}

static inline uint64_t mph_bucketfn(uint64_t x, uint32_t bpp, uint32_t linear)
{
    if (linear)
        return mph_mulhi(x, bpp);
    uint64_t x3 = mph_mulhi(mph_mulhi(x, x), x);
    uint64_t y = mph_mulhi(x, MPH_EPS_FRAC) + mph_mulhi(x3, MPH_ONE_MINUS_EPS_FRAC);
    return mph_mulhi(y, bpp);
}

static inline uint64_t mph_part_of(uint64_t h, uint32_t parts)
{
    return mph_mulhi(h, parts);
}

/* Slot of lo inside a part of `slots` slots under pilot. */
static inline uint64_t mph_slot_in_part(uint64_t lo, uint64_t pilot, uint32_t slots)
{
    return mph_mulhi((lo ^ (pilot * MPH_C1)) * MPH_C2, slots);
}

/* The whole lookup from a hash. v->n must be > 0. */
static inline uint64_t mph_slot_of(const struct mph_view *v, uint64_t h)
{
    uint64_t p = mph_part_of(h, v->parts);
    uint64_t b = p * v->bpp + mph_bucketfn(h * v->parts, v->bpp, v->linear);
    struct mph_part pt = v->part[p];
    uint64_t s = pt.base + mph_slot_in_part(h * MPH_C3, v->pilots[b], pt.slots);
    if (s >= v->n)
        s = v->remap[s - v->n];
    return s;
}

/* A fingerprint: h through splitmix64's finaliser (a bijection that mixes
 * every bit into every other), so for a non-member, whose h differs from
 * the member's at its slot, it matches with probability 2^-bits. */
static inline uint32_t mph_fingerprint(uint64_t h, uint32_t bits)
{
    uint64_t z = h ^ 0x2545f4914f6cdd1dull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return bits == 0 ? 0 : (uint32_t)(z >> (64 - bits));
}

/* Reads fingerprint number s (bits wide) from a packed array that has 8
 * bytes of padding after its last byte. */
static inline uint32_t mph_fp_read(const uint8_t *fp, uint64_t s, uint32_t bits)
{
    uint64_t bit = s * bits, w;
    memcpy(&w, fp + (bit >> 3), 8);
    w >>= bit & 7;
    return (uint32_t)(w & ((1ull << bits) - 1));
}

/* Computes the layout for a header; 0 or -EBADMSG when the sizes overflow
 * or make no sense. */
int oomkit__mph_layout(const struct mph_header *hd, struct mph_layout *out);

/* Validates blob [buf, buf + len) and fills *h (borrowing buf); with
 * check_sums also verifies both checksums. 0 or -EBADMSG (-EINVAL when buf
 * is not 8-byte aligned). */
int oomkit__mph_view_init(struct mph_handle *h, const void *buf, size_t len, int check_sums);

/* Seals a blob built in memory: fills the checksums. */
void oomkit__mph_seal(void *blob);

/* The construction core: builds the function sections of a blob with room
 * for a static map's sections (fp_bits, keep_keys, key_bytes) and returns
 * it in *blob (oomkit__malloc'd, unsealed) with its validated view in
 * *view. hashes (n entries) is consumed as scratch. */
struct mph_build_req {
    uint32_t kind;
    uint32_t fp_bits;
    int keep_keys;
    uint64_t key_bytes;
};
int oomkit__mph_build_blob(const oomkit_str *keys, size_t n, const oomkit_mph_options *opts,
                           const struct mph_build_req *req, uint8_t **blob, size_t *blob_len,
                           struct mph_view *view);

/* Frees or unmaps what a handle owns (not the handle). */
void oomkit__mph_handle_release(struct mph_handle *h);
int oomkit__mph_stats_of(const struct mph_handle *h, oomkit_mph_stats *out);

int oomkit__mph_map_file(const char *path, const void **buf, size_t *len);
void oomkit__mph_unmap_file(const void *buf, size_t len);
int oomkit__mph_write_file(const char *path, const void *buf, size_t len);

#endif
