/* oomkit mph: minimal perfect hashing and static maps for fixed key sets.
 *
 * State whose key set never changes (protocol codes, configuration keys, a
 * frozen snapshot of a namespace) does not need a general hash table. A
 * minimal perfect hash function (MPHF) maps each of n distinct keys to its
 * own slot in 0..n-1 and stores about 2.45 bits per key to do it; a lookup
 * is one hash of the key plus one random read of one byte (a "pilot").
 * The design is PtrHash's (Groot Koerkamp, SEA 2025): keys are split into
 * parts, each part into buckets of about 3.5 keys, and every bucket stores
 * an 8-bit pilot that moves its keys to free slots; a small remap table
 * folds the few slots >= n back into 0..n-1. src/mph/mph_internal.h opens
 * with the layout and the bounds.
 *
 * On top of the MPHF, oomkit_static_map stores an int64 per key and either a
 * per-key fingerprint (a key outside the set is answered "not found" except
 * with probability 2^-bits) or the full keys (exact answers).
 *
 * Both are one flat, position-independent, little-endian blob with a
 * versioned header and XXH3 checksums: a built function is already in its
 * file format, oomkit_mph_save writes it out, and oomkit_mph_open maps a file
 * back (mmap, zero copy, shareable between processes). A corrupt or
 * truncated blob is rejected with -EBADMSG and never read out of bounds.
 *
 * Determinism: the same keys (in any order), options and seed give a
 * byte-identical blob on every machine (no pointers, no threads, no clock,
 * unless record_build_time is set).
 *
 * Errors: 0 or a negative errno code (oomkit_strerror names it). -EINVAL bad
 * arguments, or no function found after max_attempts seeds (parameters too
 * tight); -EEXIST a key occurs twice (error_index names it); -E2BIG more keys
 * than the 32-bit slot format holds; -ENOMEM; -EBADMSG corrupt data; other
 * negative errno values come from the file system (-EISDIR: a directory was
 * given as a file). On failure the out parameter is left untouched.
 */
#ifndef OOMKIT_MPH_H
#define OOMKIT_MPH_H

#include "oomkit/common.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oomkit_mph oomkit_mph;
typedef struct oomkit_static_map oomkit_static_map;
struct oomkit_store;

/* The most keys one function can hold: slots are 32-bit. */
#define OOMKIT_MPH_MAX_KEYS ((uint64_t)4000000000u)

typedef struct oomkit_mph_options {
    /* Hash seed. Different seeds give different, equally good functions. */
    uint64_t seed;
    /* Average keys per bucket (lambda). Bits per key for the pilots are
     * 8 / lambda. 0 means 3.5. Larger is smaller and slower to build. */
    double keys_per_bucket;
    /* Keys per slot before the remap (alpha), in (0.5, 1). 0 means 0.995.
     * The remap table costs 32 * (1 / alpha - 1) bits per key. */
    double load_factor;
    /* Keys per part (the unit built at once, sized to stay in L2).
     * 0 means 131072. */
    uint32_t keys_per_part;
    /* Seeds tried before giving up with -EINVAL. 0 means 8. */
    uint32_t max_attempts;
    /* Store the build's wall time in the blob (then two builds of the same
     * keys differ in that header field). 0 keeps builds byte-identical. */
    int record_build_time;
    /* Borrowed, may be NULL. On -EEXIST receives the index of the first key
     * (in input order) that repeats an earlier one; for TSV builds, the
     * 1-based line number of the duplicate or of an unparsable line. */
    size_t *error_index;
} oomkit_mph_options;

/* Builds a minimal perfect hash over keys[0..n). Keys are borrowed during
 * the call only; any bytes, any length, n may be 0. opts may be NULL.
 * Memory while building: 8 bytes per key (one 64-bit hash each), plus about
 * 13 bytes per key of one part (keys_per_part keys), plus the result
 * (about 0.31 bytes per key).
 * On success *out is owned by the caller until oomkit_mph_close.
 * Thread safety: any thread; no shared state. */
int oomkit_mph_build(const oomkit_str *keys, size_t n, const oomkit_mph_options *opts,
                     oomkit_mph **out);

/* The slot of key: for a key of the set, its own value in 0..n-1; for any
 * other key, some value in 0..n-1 (it cannot tell). For the empty function
 * or a NULL m, 0. It returns the slot rather than an error code because it
 * cannot fail: a key with a NULL ptr reads as the empty string, here and in
 * every batched lookup below.
 * Thread safety: any number of threads on one handle. */
uint64_t oomkit_mph_index(const oomkit_mph *m, oomkit_str key);

/* out[i] = oomkit_mph_index(m, keys[i]) for i < count, several times faster
 * per key: it hashes a window of keys, prefetches their pilots, then
 * finishes them. keys and out are borrowed (a NULL out does nothing; a NULL
 * m or keys gives zeros).
 * Thread safety: any number of threads on one handle. */
void oomkit_mph_index_many(const oomkit_mph *m, const oomkit_str *keys, size_t count,
                           uint64_t *out);

/* Number of keys n (0 for NULL). Thread safety: any thread. */
uint64_t oomkit_mph_size(const oomkit_mph *m);

/* Writes the blob to path atomically (a temporary file renamed over path),
 * so a process that has the old file mapped keeps a valid view.
 * Thread safety: any thread. */
int oomkit_mph_save(const oomkit_mph *m, const char *path);

/* Maps a blob file read-only (MAP_SHARED) and validates its header, section
 * bounds and checksums (one pass over the file). A static map file opens
 * too, as its function only. On success *out is owned by the caller until
 * oomkit_mph_close, which unmaps the file. Replacing the file by rename is
 * safe; truncating it in place while mapped is not (SIGBUS).
 * Thread safety: any thread. */
int oomkit_mph_open(const char *path, oomkit_mph **out);

/* Like oomkit_mph_open over a blob already in memory (8-byte aligned),
 * without copying it: buf is borrowed and must outlive the handle.
 * Thread safety: any thread. */
int oomkit_mph_from_buffer(const void *buf, size_t len, oomkit_mph **out);

/* The blob of m (owned by m, valid until oomkit_mph_close) and its length
 * (NULL and 0 for a NULL m).
 * Thread safety: any thread. */
const void *oomkit_mph_blob(const oomkit_mph *m, size_t *len);

/* Frees or unmaps m. NULL is allowed. Thread safety: exclusive. */
void oomkit_mph_close(oomkit_mph *m);

typedef struct oomkit_mph_stats {
    uint32_t version;          /* blob format version */
    uint32_t kind;             /* 1 function only, 2 static map */
    uint64_t keys;             /* n */
    uint64_t seed;             /* seed asked for */
    uint64_t hash_seed;        /* seed of the attempt that succeeded */
    uint32_t attempts;         /* seeds tried, 1 when the first worked */
    uint32_t parts;
    uint64_t buckets;          /* pilots, all parts */
    uint64_t slots;            /* slots before the remap, >= keys */
    uint64_t remap_entries;    /* slots - keys */
    uint64_t build_ns;         /* 0 unless record_build_time was set */
    uint32_t fingerprint_bits; /* static maps */
    int has_keys;              /* static map keeps the full keys */
    /* Blob bytes by section; bytes_total is the whole blob. */
    uint64_t bytes_total, bytes_header, bytes_parts, bytes_pilots, bytes_remap;
    uint64_t bytes_values, bytes_fingerprints, bytes_keys;
    /* The function's own size (header, parts, pilots, remap) per key. */
    double bits_per_key;
} oomkit_mph_stats;

/* Fills *out. Thread safety: any thread. */
int oomkit_mph_stats_get(const oomkit_mph *m, oomkit_mph_stats *out);

/* ---- static maps -------------------------------------------------------- */

typedef struct oomkit_static_map_options {
    oomkit_mph_options mph;
    /* Bits of fingerprint per key, 0..32. 0 means none: then every key
     * outside the set finds some member's value, unless keep_keys. */
    uint32_t fingerprint_bits;
    /* Keep every key's bytes for exact membership answers. */
    int keep_keys;
} oomkit_static_map_options;

/* Builds a map keys[i] -> values[i] for i < n. Keys and values are borrowed
 * during the call. opts may be NULL (16-bit fingerprints, no keys).
 * On success *out is owned by the caller until oomkit_static_map_close.
 * Thread safety: any thread. */
int oomkit_static_map_build(const oomkit_str *keys, const int64_t *values, size_t n,
                            const oomkit_static_map_options *opts, oomkit_static_map **out);

/* Builds a map from TSV text (borrowed). Each non-empty line not starting
 * with '#' holds fields separated by TABs; the last field is the value
 * (signed 64-bit decimal) and the fields before it, joined with '/', are
 * the key. So "key<TAB>value" and the workload's
 * "namespace<TAB>name<TAB>key<TAB>value" (key "namespace/name/key") both
 * work. A line that does not parse gives -EINVAL with its 1-based number in
 * opts->mph.error_index. Thread safety: any thread. */
int oomkit_static_map_build_tsv(oomkit_str tsv, const oomkit_static_map_options *opts,
                                oomkit_static_map **out);

/* Freezes the store's current content into a static map: every field
 * becomes key "namespace/name/key" with its value. ns selects one namespace
 * (an unknown or empty one gives an empty map); an empty ns takes all of
 * them. The store is only read (through its iteration API), so writers may
 * run meanwhile; then each object is frozen as it was before or after each
 * write to it. For one consistent snapshot, pause the writers. -EEXIST
 * when two fields flatten to one key (names containing '/'); error_index
 * is then the position of the second in iteration order.
 * Thread safety: any thread; a reader of the store. */
int oomkit_static_map_build_store(const struct oomkit_store *s, oomkit_str ns,
                                  const oomkit_static_map_options *opts,
                                  oomkit_static_map **out);

/* Reads the value of key into *value (0; value may be NULL to test
 * membership), or -ENOENT when the fingerprint or the kept key says the key
 * is not in the map (*value untouched), or -EINVAL for a NULL m or a key
 * with a NULL ptr and a nonzero len.
 * Thread safety: any number of threads on one handle. */
int oomkit_static_map_get(const oomkit_static_map *m, oomkit_str key, int64_t *value);

/* Batched get: for i < count, found[i] = 1 and values[i] = the value, or
 * found[i] = 0 and values[i] = 0. Returns how many were found. All arrays
 * are borrowed (a NULL values or found does nothing and returns 0; a NULL
 * m or keys finds nothing). Thread safety: any number of threads on one handle. */
size_t oomkit_static_map_get_many(const oomkit_static_map *m, const oomkit_str *keys,
                                  size_t count, int64_t *values, uint8_t *found);

/* The map's function (owned by m, valid until oomkit_static_map_close;
 * NULL for a NULL m): slot i holds the value of the key whose index is i.
 * Thread safety: any thread. */
const oomkit_mph *oomkit_static_map_mph(const oomkit_static_map *m);

/* Save, open (static map files only: a function-only file gives -EINVAL),
 * open from memory, and close; as for oomkit_mph. */
int oomkit_static_map_save(const oomkit_static_map *m, const char *path);
int oomkit_static_map_open(const char *path, oomkit_static_map **out);
int oomkit_static_map_from_buffer(const void *buf, size_t len, oomkit_static_map **out);
void oomkit_static_map_close(oomkit_static_map *m);

#ifdef __cplusplus
}
#endif
#endif
