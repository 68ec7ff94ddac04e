/* pprof encoder: turns a struct oomkit__pprof_profile into protobuf bytes.
 *
 * Each sub-message is written into a scratch buffer first and then copied
 * behind its key and length, because protobuf puts the length before the
 * body. Only two wire types occur: 0 (varint) and 2 (length-delimited);
 * repeated integers are written packed, which every proto3 reader (and
 * pprof's own hand-written Go decoder) accepts. Zero-valued scalar fields are
 * omitted, as proto3 does. See pprof.h for why this is hand-written. */
#include "pprof/pprof.h"

#include "core/alloc.h"

#include <errno.h>
#include <string.h>

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

struct buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    int err; /* sticky: first failure wins, later writes are no-ops */
};

static void reserve(struct buf *b, size_t extra)
{
    if (b->err != 0)
        return;
    if (b->len + extra <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    uint8_t *d = oomkit__realloc(b->data, cap);
    if (d == NULL) {
        b->err = -ENOMEM;
        return;
    }
    b->data = d;
    b->cap = cap;
}

static void put_bytes(struct buf *b, const void *p, size_t n)
{
    reserve(b, n);
    if (b->err != 0 || n == 0)
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_varint(struct buf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
        tmp[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    tmp[n++] = (uint8_t)v;
    put_bytes(b, tmp, n);
}

static void put_key(struct buf *b, unsigned field, unsigned wire)
{
    put_varint(b, ((uint64_t)field << 3) | wire);
}

/* int64 fields are plain varints of the two's-complement value (not zigzag). */
static void put_int(struct buf *b, unsigned field, int64_t v)
{
    if (v == 0)
        return;
    put_key(b, field, WIRE_VARINT);
    put_varint(b, (uint64_t)v);
}

static void put_uint(struct buf *b, unsigned field, uint64_t v)
{
    if (v == 0)
        return;
    put_key(b, field, WIRE_VARINT);
    put_varint(b, v);
}

static void put_len(struct buf *b, unsigned field, const void *p, size_t n)
{
    put_key(b, field, WIRE_LEN);
    put_varint(b, n);
    put_bytes(b, p, n);
}

/* Appends `sub` as a length-delimited field of b and empties sub for reuse. */
static void put_sub(struct buf *b, unsigned field, struct buf *sub)
{
    if (sub->err != 0 && b->err == 0)
        b->err = sub->err;
    put_len(b, field, sub->data, sub->len);
    sub->len = 0;
}

static void put_packed_u64(struct buf *b, struct buf *scratch, unsigned field,
                           const uint64_t *v, size_t n)
{
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        put_varint(scratch, v[i]);
    put_sub(b, field, scratch);
}

static void put_packed_i64(struct buf *b, struct buf *scratch, unsigned field,
                           const int64_t *v, size_t n)
{
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        put_varint(scratch, (uint64_t)v[i]);
    put_sub(b, field, scratch);
}

static void put_value_type(struct buf *b, struct buf *sub, unsigned field,
                           const struct oomkit__pprof_value_type *vt)
{
    put_int(sub, 1, vt->type);
    put_int(sub, 2, vt->unit);
    put_sub(b, field, sub);
}

static bool str_ok(const struct oomkit__pprof_profile *p, int64_t i)
{
    return i >= 0 && (size_t)i < p->n_strings;
}

/* Checks every string index so that a decoder never sees a dangling one. */
static bool indices_ok(const struct oomkit__pprof_profile *p)
{
    if (p->n_strings == 0 || p->strings[0].len != 0)
        return false;
    for (size_t i = 0; i < p->n_sample_types; i++)
        if (!str_ok(p, p->sample_types[i].type) || !str_ok(p, p->sample_types[i].unit))
            return false;
    for (size_t i = 0; i < p->n_samples; i++)
        for (size_t j = 0; j < p->samples[i].n_labels; j++) {
            const struct oomkit__pprof_label *l = &p->samples[i].labels[j];
            if (!str_ok(p, l->key) || !str_ok(p, l->str) || !str_ok(p, l->num_unit))
                return false;
        }
    for (size_t i = 0; i < p->n_mappings; i++)
        if (!str_ok(p, p->mappings[i].filename) || !str_ok(p, p->mappings[i].build_id))
            return false;
    for (size_t i = 0; i < p->n_functions; i++) {
        const struct oomkit__pprof_function *f = &p->functions[i];
        if (!str_ok(p, f->name) || !str_ok(p, f->system_name) || !str_ok(p, f->filename))
            return false;
    }
    for (size_t i = 0; i < p->n_comments; i++)
        if (!str_ok(p, p->comments[i]))
            return false;
    return str_ok(p, p->drop_frames) && str_ok(p, p->keep_frames) &&
           str_ok(p, p->period_type.type) && str_ok(p, p->period_type.unit) &&
           str_ok(p, p->default_sample_type);
}

int oomkit__pprof_encode(const struct oomkit__pprof_profile *p, uint8_t **out,
                         size_t *out_len)
{
    if (!indices_ok(p))
        return -EINVAL;
    struct buf b = { 0 }, sub = { 0 }, sub2 = { 0 };

    for (size_t i = 0; i < p->n_sample_types; i++)
        put_value_type(&b, &sub, 1, &p->sample_types[i]);
    for (size_t i = 0; i < p->n_samples; i++) {
        const struct oomkit__pprof_sample *s = &p->samples[i];
        put_packed_u64(&sub, &sub2, 1, s->location_ids, s->n_location_ids);
        put_packed_i64(&sub, &sub2, 2, s->values, s->n_values);
        for (size_t j = 0; j < s->n_labels; j++) {
            put_int(&sub2, 1, s->labels[j].key);
            put_int(&sub2, 2, s->labels[j].str);
            put_int(&sub2, 3, s->labels[j].num);
            put_int(&sub2, 4, s->labels[j].num_unit);
            put_sub(&sub, 3, &sub2);
        }
        put_sub(&b, 2, &sub);
    }
    for (size_t i = 0; i < p->n_mappings; i++) {
        const struct oomkit__pprof_mapping *m = &p->mappings[i];
        put_uint(&sub, 1, m->id);
        put_uint(&sub, 2, m->memory_start);
        put_uint(&sub, 3, m->memory_limit);
        put_uint(&sub, 4, m->file_offset);
        put_int(&sub, 5, m->filename);
        put_int(&sub, 6, m->build_id);
        put_uint(&sub, 7, m->has_functions);
        put_uint(&sub, 8, m->has_filenames);
        put_uint(&sub, 9, m->has_line_numbers);
        put_uint(&sub, 10, m->has_inline_frames);
        put_sub(&b, 3, &sub);
    }
    for (size_t i = 0; i < p->n_locations; i++) {
        const struct oomkit__pprof_location *l = &p->locations[i];
        put_uint(&sub, 1, l->id);
        put_uint(&sub, 2, l->mapping_id);
        put_uint(&sub, 3, l->address);
        for (size_t j = 0; j < l->n_lines; j++) {
            put_uint(&sub2, 1, l->lines[j].function_id);
            put_int(&sub2, 2, l->lines[j].line);
            put_sub(&sub, 4, &sub2);
        }
        put_uint(&sub, 5, l->is_folded);
        put_sub(&b, 4, &sub);
    }
    for (size_t i = 0; i < p->n_functions; i++) {
        const struct oomkit__pprof_function *f = &p->functions[i];
        put_uint(&sub, 1, f->id);
        put_int(&sub, 2, f->name);
        put_int(&sub, 3, f->system_name);
        put_int(&sub, 4, f->filename);
        put_int(&sub, 5, f->start_line);
        put_sub(&b, 5, &sub);
    }
    /* Strings are written even when empty: their position is their index. */
    for (size_t i = 0; i < p->n_strings; i++)
        put_len(&b, 6, p->strings[i].ptr, p->strings[i].len);
    put_int(&b, 7, p->drop_frames);
    put_int(&b, 8, p->keep_frames);
    put_int(&b, 9, p->time_nanos);
    put_int(&b, 10, p->duration_nanos);
    if (p->period_type.type != 0 || p->period_type.unit != 0)
        put_value_type(&b, &sub, 11, &p->period_type);
    put_int(&b, 12, p->period);
    put_packed_i64(&b, &sub, 13, p->comments, p->n_comments);
    put_int(&b, 14, p->default_sample_type);

    int err = b.err ? b.err : (sub.err ? sub.err : sub2.err);
    oomkit__free(sub.data);
    oomkit__free(sub2.data);
    if (err != 0) {
        oomkit__free(b.data);
        return err;
    }
    *out = b.data;
    *out_len = b.len;
    return 0;
}

int oomkit__pprof_find_sample_type(const struct oomkit__pprof_profile *p, const char *name)
{
    for (size_t i = 0; i < p->n_sample_types; i++)
        if (strcmp(oomkit__pprof_str(p, p->sample_types[i].type), name) == 0)
            return (int)i;
    return -1;
}
