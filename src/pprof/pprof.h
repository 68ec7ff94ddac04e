/* pprof Profile model, protobuf encoder/decoder and gzip framing.
 *
 * This is the in-memory form of `perftools.profiles.Profile` (google/pprof
 * proto/profile.proto). The preload profiler (src/prof) builds one at dump
 * time and encodes it; `oomkit report` and `oomkit profile` (src/cli) decode
 * one and walk it. Every string field is an index into `strings`, whose
 * entry 0 is always "". Ids of mappings, locations and functions are
 * nonzero and refer to the `id` field of an element, not to its position.
 *
 * Why a hand-written codec and not protobuf-c: the message is small (nine
 * message types, only varint and length-delimited wire types are needed),
 * protobuf-c would add a .proto compile step and a runtime library to the
 * LD_PRELOAD object, and the decoder must be hardened against hostile input
 * anyway (it is fuzzed). The wire rules used are exactly those of the
 * protobuf encoding spec: key = (field << 3) | wire_type, varints are
 * little-endian base-128, packed repeated scalars are one length-delimited
 * field.
 *
 * Memory: a profile owns all of its arrays; oomkit__pprof_free releases
 * them. Allocation goes through oomkit__malloc and friends (src/core/alloc.h);
 * the preload library provides its own definitions of those that call libc
 * directly, so this code links into both liboomkit and liboomkit_prof.so. */
#ifndef OOMKIT_PPROF_PPROF_H
#define OOMKIT_PPROF_PPROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct oomkit__pprof_value_type {
    int64_t type; /* string index */
    int64_t unit; /* string index */
};

struct oomkit__pprof_label {
    int64_t key;      /* string index */
    int64_t str;      /* string index, 0 for a numeric label */
    int64_t num;
    int64_t num_unit; /* string index */
};

struct oomkit__pprof_sample {
    uint64_t *location_ids; /* leaf first */
    size_t n_location_ids;
    int64_t *values; /* one per sample type */
    size_t n_values;
    struct oomkit__pprof_label *labels;
    size_t n_labels;
};

struct oomkit__pprof_mapping {
    uint64_t id;
    uint64_t memory_start;
    uint64_t memory_limit;
    uint64_t file_offset;
    int64_t filename; /* string index */
    int64_t build_id; /* string index: hex of .note.gnu.build-id */
    bool has_functions;
    bool has_filenames;
    bool has_line_numbers;
    bool has_inline_frames;
};

struct oomkit__pprof_line {
    uint64_t function_id;
    int64_t line;
};

struct oomkit__pprof_location {
    uint64_t id;
    uint64_t mapping_id;
    uint64_t address;
    struct oomkit__pprof_line *lines; /* inlined callees first, caller last */
    size_t n_lines;
    bool is_folded;
};

struct oomkit__pprof_function {
    uint64_t id;
    int64_t name;        /* string index */
    int64_t system_name; /* string index */
    int64_t filename;    /* string index */
    int64_t start_line;
};

/* A string of the table: bytes plus length, NUL-terminated for convenience
 * (the NUL is not part of len; a string may itself contain NULs). */
struct oomkit__pprof_string {
    char *ptr;
    size_t len;
};

struct oomkit__pprof_profile {
    struct oomkit__pprof_value_type *sample_types;
    size_t n_sample_types;
    struct oomkit__pprof_sample *samples;
    size_t n_samples;
    struct oomkit__pprof_mapping *mappings;
    size_t n_mappings;
    struct oomkit__pprof_location *locations;
    size_t n_locations;
    struct oomkit__pprof_function *functions;
    size_t n_functions;
    struct oomkit__pprof_string *strings;
    size_t n_strings;
    int64_t drop_frames; /* string index */
    int64_t keep_frames; /* string index */
    int64_t time_nanos;
    int64_t duration_nanos;
    struct oomkit__pprof_value_type period_type;
    int64_t period;
    int64_t *comments; /* string indices */
    size_t n_comments;
    int64_t default_sample_type; /* string index */
};

/* Releases everything the profile owns and zeroes it; NULL is a no-op.
 * Thread safety: the caller owns the profile. */
void oomkit__pprof_free(struct oomkit__pprof_profile *p);

/* Serialises `p` (borrowed) as a raw protobuf into a new buffer that the
 * caller owns (*out, release with oomkit__free) of *out_len bytes.
 * Returns 0, -ENOMEM, or -EINVAL if an index is out of range; on failure
 * *out is untouched. Thread safety: reads p only. */
int oomkit__pprof_encode(const struct oomkit__pprof_profile *p, uint8_t **out,
                         size_t *out_len);

/* Parses a raw protobuf (not gzip) of len bytes at buf (borrowed) into *p,
 * which the caller then owns. Validates that every string index is inside
 * the table, that string_table[0] is "", that ids are nonzero and that every
 * sample has one value per sample type. Returns 0, -EINVAL (malformed),
 * -ENOMEM; on failure *p is left zeroed. Thread safety: pure function. */
int oomkit__pprof_decode(const uint8_t *buf, size_t len,
                         struct oomkit__pprof_profile *p);

/* gzip-compresses len bytes at in (borrowed) into a new buffer the caller
 * owns (*out, oomkit__free). Returns 0 or -ENOMEM/-EIO. */
int oomkit__pprof_gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len);

/* Inflates gzip (or zlib) data; data that does not start with the gzip magic
 * is copied unchanged, as pprof accepts raw protobuf files too. Output is
 * capped at max_out bytes (-E2BIG past it) so a hostile file cannot exhaust
 * memory. Returns 0, -EINVAL (corrupt), -E2BIG, -ENOMEM. */
int oomkit__pprof_gunzip(const uint8_t *in, size_t len, size_t max_out,
                         uint8_t **out, size_t *out_len);

/* Reads a profile file (gzip or raw) at path into *p. Returns 0, -errno of
 * the failed open/read, or a decode error. Thread safety: pure function. */
int oomkit__pprof_read_file(const char *path, struct oomkit__pprof_profile *p);

/* Encodes, gzips and writes p to path through a temporary file in the same
 * directory that is renamed into place, so a reader never sees half a file.
 * Returns 0 or a negative errno. */
int oomkit__pprof_write_file(const struct oomkit__pprof_profile *p, const char *path);

/* String of index i, or "" when out of range. */
static inline const char *oomkit__pprof_str(const struct oomkit__pprof_profile *p, int64_t i)
{
    if (i < 0 || (size_t)i >= p->n_strings)
        return "";
    return p->strings[i].ptr;
}

/* Index of the sample type named `name`, or -1. */
int oomkit__pprof_find_sample_type(const struct oomkit__pprof_profile *p, const char *name);

/* A string interner used while building a profile: oomkit__pprof_intern
 * returns the index of a string in b->profile.strings, adding it once.
 * oomkit__pprof_builder_init puts "" at index 0. The builder owns the
 * profile until the caller takes it (copy the struct, then free only the
 * builder's index with oomkit__pprof_builder_drop_index) or releases both
 * with oomkit__pprof_builder_free. Thread safety: one thread per builder. */
struct oomkit__pprof_builder {
    struct oomkit__pprof_profile profile;
    size_t cap_strings;
    uint32_t *index; /* open addressing: string index + 1, 0 = empty */
    size_t index_cap;  /* power of two */
};
int oomkit__pprof_builder_init(struct oomkit__pprof_builder *b);
/* Returns the index (>= 0) or -ENOMEM. s (len bytes) is copied. */
int64_t oomkit__pprof_intern(struct oomkit__pprof_builder *b, const char *s, size_t len);
static inline int64_t oomkit__pprof_intern_cstr(struct oomkit__pprof_builder *b, const char *s)
{
    return oomkit__pprof_intern(b, s ? s : "", s ? strlen(s) : 0);
}
void oomkit__pprof_builder_drop_index(struct oomkit__pprof_builder *b);
void oomkit__pprof_builder_free(struct oomkit__pprof_builder *b);

/* One frame of a walked stack. Strings are owned by the profile. */
struct oomkit__pprof_frame {
    const char *function;
    const char *file;
    int64_t line;
    uint64_t address;
};
/* Called once per sample with its frames, leaf first, after drop_frames
 * pruning (see pprof_view.c). A nonzero return stops the walk and is
 * returned by oomkit__pprof_walk. */
typedef int (*oomkit__pprof_walk_fn)(void *ctx, const struct oomkit__pprof_sample *s,
                                     const struct oomkit__pprof_frame *frames, size_t n);
/* Walks every sample of p (borrowed). Returns 0, -ENOMEM, or fn's value.
 * Thread safety: reads p only. */
int oomkit__pprof_walk(const struct oomkit__pprof_profile *p, oomkit__pprof_walk_fn fn, void *ctx);

#endif
