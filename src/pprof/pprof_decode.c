/* pprof decoder: protobuf bytes to struct oomkit__pprof_profile.
 *
 * The input is untrusted (`oomkit report` reads any file a user hands it,
 * and a libFuzzer target feeds it garbage), so every read is bounds-checked
 * against the end of its enclosing message, lengths are checked before any
 * allocation they imply, and the decoded profile is validated (string
 * indices in range, nonzero ids, one value per sample type) before it is
 * returned. Unknown fields are skipped as protobuf requires; repeated
 * integers are accepted both packed and unpacked. */
#include "pprof/pprof.h"

#include "core/alloc.h"

#include <errno.h>
#include <string.h>

struct rd {
    const uint8_t *p;
    const uint8_t *end;
};

static int get_varint(struct rd *r, uint64_t *v)
{
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end)
            return -EINVAL;
        uint8_t byte = *r->p++;
        x |= (uint64_t)(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            *v = x;
            return 0;
        }
    }
    return -EINVAL;
}

/* Reads one key; *sub receives the body of a length-delimited field and
 * *val the value of a varint field. Fixed-width fields are skipped. */
static int get_field(struct rd *r, unsigned *field, unsigned *wire, uint64_t *val,
                     struct rd *sub)
{
    uint64_t key;
    int err = get_varint(r, &key);
    if (err != 0)
        return err;
    if ((key >> 3) == 0 || (key >> 3) > UINT32_MAX)
        return -EINVAL;
    *field = (unsigned)(key >> 3);
    *wire = (unsigned)(key & 7);
    switch (*wire) {
    case 0:
        return get_varint(r, val);
    case 1:
        if (r->end - r->p < 8)
            return -EINVAL;
        r->p += 8;
        return 0;
    case 5:
        if (r->end - r->p < 4)
            return -EINVAL;
        r->p += 4;
        return 0;
    case 2: {
        uint64_t n;
        err = get_varint(r, &n);
        if (err != 0)
            return err;
        if (n > (uint64_t)(r->end - r->p))
            return -EINVAL;
        sub->p = r->p;
        sub->end = r->p + n;
        r->p += n;
        return 0;
    }
    default:
        return -EINVAL; /* groups (3, 4) are not used by profile.proto */
    }
}

/* Grows *arr (of *n elements of size elem) by one zeroed element. */
static void *push(void *arr_ptr, size_t *n, size_t *cap, size_t elem)
{
    void **arr = arr_ptr;
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        if (nc > SIZE_MAX / elem)
            return NULL;
        void *na = oomkit__realloc(*arr, nc * elem);
        if (na == NULL)
            return NULL;
        *arr = na;
        *cap = nc;
    }
    void *e = (char *)*arr + *n * elem;
    memset(e, 0, elem);
    (*n)++;
    return e;
}

/* A repeated integer field: one varint, or a packed run of them. */
static int get_repeated(unsigned wire, uint64_t val, struct rd *sub, void *arr_ptr,
                        size_t *n, size_t *cap)
{
    if (wire == 0) {
        uint64_t *slot = push(arr_ptr, n, cap, sizeof(uint64_t));
        if (slot == NULL)
            return -ENOMEM;
        *slot = val;
        return 0;
    }
    if (wire != 2)
        return -EINVAL;
    while (sub->p < sub->end) {
        uint64_t v;
        int err = get_varint(sub, &v);
        if (err != 0)
            return err;
        uint64_t *slot = push(arr_ptr, n, cap, sizeof(uint64_t));
        if (slot == NULL)
            return -ENOMEM;
        *slot = v;
    }
    return 0;
}

static int dec_value_type(struct rd *r, struct oomkit__pprof_value_type *vt)
{
    int err;
    uint64_t v;
    while (r->p < r->end) {
        unsigned field, wire;
        struct rd sub;
        if ((err = get_field(r, &field, &wire, &v, &sub)) != 0)
            return err;
        if (wire != 0)
            continue;
        if (field == 1)
            vt->type = (int64_t)v;
        else if (field == 2)
            vt->unit = (int64_t)v;
    }
    return 0;
}

static int dec_sample(struct rd *r, struct oomkit__pprof_sample *s)
{
    size_t cap_loc = 0, cap_val = 0, cap_lab = 0;
    int err;
    while (r->p < r->end) {
        unsigned field, wire;
        uint64_t v = 0;
        struct rd sub = { 0, 0 };
        if ((err = get_field(r, &field, &wire, &v, &sub)) != 0)
            return err;
        if (field == 1) {
            err = get_repeated(wire, v, &sub, &s->location_ids, &s->n_location_ids, &cap_loc);
        } else if (field == 2) {
            err = get_repeated(wire, v, &sub, &s->values, &s->n_values, &cap_val);
        } else if (field == 3 && wire == 2) {
            struct oomkit__pprof_label *l = push(&s->labels, &s->n_labels, &cap_lab, sizeof(*l));
            if (l == NULL)
                return -ENOMEM;
            while (sub.p < sub.end) {
                unsigned f2, w2;
                uint64_t v2 = 0;
                struct rd s2;
                if ((err = get_field(&sub, &f2, &w2, &v2, &s2)) != 0)
                    return err;
                if (w2 != 0)
                    continue;
                if (f2 == 1)
                    l->key = (int64_t)v2;
                else if (f2 == 2)
                    l->str = (int64_t)v2;
                else if (f2 == 3)
                    l->num = (int64_t)v2;
                else if (f2 == 4)
                    l->num_unit = (int64_t)v2;
            }
        }
        if (err != 0)
            return err;
    }
    return 0;
}

static int dec_mapping(struct rd *r, struct oomkit__pprof_mapping *m)
{
    int err;
    while (r->p < r->end) {
        unsigned field, wire;
        uint64_t v = 0;
        struct rd sub;
        if ((err = get_field(r, &field, &wire, &v, &sub)) != 0)
            return err;
        if (wire != 0)
            continue;
        switch (field) {
        case 1: m->id = v; break;
        case 2: m->memory_start = v; break;
        case 3: m->memory_limit = v; break;
        case 4: m->file_offset = v; break;
        case 5: m->filename = (int64_t)v; break;
        case 6: m->build_id = (int64_t)v; break;
        case 7: m->has_functions = v != 0; break;
        case 8: m->has_filenames = v != 0; break;
        case 9: m->has_line_numbers = v != 0; break;
        case 10: m->has_inline_frames = v != 0; break;
        default: break;
        }
    }
    return 0;
}

static int dec_location(struct rd *r, struct oomkit__pprof_location *l)
{
    size_t cap = 0;
    int err;
    while (r->p < r->end) {
        unsigned field, wire;
        uint64_t v = 0;
        struct rd sub = { 0, 0 };
        if ((err = get_field(r, &field, &wire, &v, &sub)) != 0)
            return err;
        if (field == 4 && wire == 2) {
            struct oomkit__pprof_line *ln = push(&l->lines, &l->n_lines, &cap, sizeof(*ln));
            if (ln == NULL)
                return -ENOMEM;
            while (sub.p < sub.end) {
                unsigned f2, w2;
                uint64_t v2 = 0;
                struct rd s2;
                if ((err = get_field(&sub, &f2, &w2, &v2, &s2)) != 0)
                    return err;
                if (w2 != 0)
                    continue;
                if (f2 == 1)
                    ln->function_id = v2;
                else if (f2 == 2)
                    ln->line = (int64_t)v2;
            }
            continue;
        }
        if (wire != 0)
            continue;
        if (field == 1)
            l->id = v;
        else if (field == 2)
            l->mapping_id = v;
        else if (field == 3)
            l->address = v;
        else if (field == 5)
            l->is_folded = v != 0;
    }
    return 0;
}

static int dec_function(struct rd *r, struct oomkit__pprof_function *f)
{
    int err;
    while (r->p < r->end) {
        unsigned field, wire;
        uint64_t v = 0;
        struct rd sub;
        if ((err = get_field(r, &field, &wire, &v, &sub)) != 0)
            return err;
        if (wire != 0)
            continue;
        if (field == 1)
            f->id = v;
        else if (field == 2)
            f->name = (int64_t)v;
        else if (field == 3)
            f->system_name = (int64_t)v;
        else if (field == 4)
            f->filename = (int64_t)v;
        else if (field == 5)
            f->start_line = (int64_t)v;
    }
    return 0;
}

static bool str_ok(const struct oomkit__pprof_profile *p, int64_t i)
{
    return i >= 0 && (size_t)i < p->n_strings;
}

static int validate(const struct oomkit__pprof_profile *p)
{
    if (p->n_strings == 0 || p->strings[0].len != 0)
        return -EINVAL;
    for (size_t i = 0; i < p->n_sample_types; i++)
        if (!str_ok(p, p->sample_types[i].type) || !str_ok(p, p->sample_types[i].unit))
            return -EINVAL;
    for (size_t i = 0; i < p->n_samples; i++) {
        const struct oomkit__pprof_sample *s = &p->samples[i];
        if (s->n_values != p->n_sample_types)
            return -EINVAL;
        for (size_t j = 0; j < s->n_location_ids; j++)
            if (s->location_ids[j] == 0)
                return -EINVAL;
        for (size_t j = 0; j < s->n_labels; j++)
            if (!str_ok(p, s->labels[j].key) || !str_ok(p, s->labels[j].str) ||
                !str_ok(p, s->labels[j].num_unit))
                return -EINVAL;
    }
    for (size_t i = 0; i < p->n_mappings; i++)
        if (p->mappings[i].id == 0 || !str_ok(p, p->mappings[i].filename) ||
            !str_ok(p, p->mappings[i].build_id))
            return -EINVAL;
    for (size_t i = 0; i < p->n_locations; i++)
        if (p->locations[i].id == 0)
            return -EINVAL;
    for (size_t i = 0; i < p->n_functions; i++) {
        const struct oomkit__pprof_function *f = &p->functions[i];
        if (f->id == 0 || !str_ok(p, f->name) || !str_ok(p, f->system_name) ||
            !str_ok(p, f->filename))
            return -EINVAL;
    }
    for (size_t i = 0; i < p->n_comments; i++)
        if (!str_ok(p, p->comments[i]))
            return -EINVAL;
    if (!str_ok(p, p->drop_frames) || !str_ok(p, p->keep_frames) ||
        !str_ok(p, p->period_type.type) || !str_ok(p, p->period_type.unit) ||
        !str_ok(p, p->default_sample_type))
        return -EINVAL;
    return 0;
}

static int decode_top(struct rd *r, struct oomkit__pprof_profile *p)
{
    size_t cap_st = 0, cap_s = 0, cap_m = 0, cap_l = 0, cap_f = 0, cap_str = 0, cap_c = 0;
    int err = 0;
    while (r->p < r->end) {
        unsigned field, wire;
        uint64_t v = 0;
        struct rd sub = { 0, 0 };
        if ((err = get_field(r, &field, &wire, &v, &sub)) != 0)
            return err;
        if (wire == 2) {
            void *e = NULL;
            switch (field) {
            case 1:
                if ((e = push(&p->sample_types, &p->n_sample_types, &cap_st,
                              sizeof(*p->sample_types))) != NULL)
                    err = dec_value_type(&sub, e);
                break;
            case 2:
                if ((e = push(&p->samples, &p->n_samples, &cap_s, sizeof(*p->samples))) != NULL)
                    err = dec_sample(&sub, e);
                break;
            case 3:
                if ((e = push(&p->mappings, &p->n_mappings, &cap_m, sizeof(*p->mappings))) != NULL)
                    err = dec_mapping(&sub, e);
                break;
            case 4:
                if ((e = push(&p->locations, &p->n_locations, &cap_l,
                              sizeof(*p->locations))) != NULL)
                    err = dec_location(&sub, e);
                break;
            case 5:
                if ((e = push(&p->functions, &p->n_functions, &cap_f,
                              sizeof(*p->functions))) != NULL)
                    err = dec_function(&sub, e);
                break;
            case 6: {
                struct oomkit__pprof_string *s =
                    push(&p->strings, &p->n_strings, &cap_str, sizeof(*s));
                e = s;
                if (s != NULL) {
                    size_t n = (size_t)(sub.end - sub.p);
                    s->ptr = oomkit__malloc(n + 1);
                    if (s->ptr == NULL) {
                        err = -ENOMEM;
                        break;
                    }
                    if (n > 0)
                        memcpy(s->ptr, sub.p, n);
                    s->ptr[n] = '\0';
                    s->len = n;
                }
                break;
            }
            case 11:
                e = &p->period_type;
                err = dec_value_type(&sub, &p->period_type);
                break;
            case 13:
                e = p;
                err = get_repeated(wire, v, &sub, &p->comments, &p->n_comments, &cap_c);
                break;
            default:
                e = p; /* unknown field: skipped */
                break;
            }
            if (e == NULL)
                return -ENOMEM;
        } else if (wire == 0) {
            switch (field) {
            case 7: p->drop_frames = (int64_t)v; break;
            case 8: p->keep_frames = (int64_t)v; break;
            case 9: p->time_nanos = (int64_t)v; break;
            case 10: p->duration_nanos = (int64_t)v; break;
            case 12: p->period = (int64_t)v; break;
            case 13: err = get_repeated(wire, v, &sub, &p->comments, &p->n_comments, &cap_c); break;
            case 14: p->default_sample_type = (int64_t)v; break;
            default: break;
            }
        }
        if (err != 0)
            return err;
    }
    return validate(p);
}

int oomkit__pprof_decode(const uint8_t *buf, size_t len, struct oomkit__pprof_profile *p)
{
    memset(p, 0, sizeof(*p));
    struct rd r = { buf, buf + len };
    int err = decode_top(&r, p);
    if (err != 0)
        oomkit__pprof_free(p);
    return err;
}

void oomkit__pprof_free(struct oomkit__pprof_profile *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n_samples; i++) {
        oomkit__free(p->samples[i].location_ids);
        oomkit__free(p->samples[i].values);
        oomkit__free(p->samples[i].labels);
    }
    for (size_t i = 0; i < p->n_locations; i++)
        oomkit__free(p->locations[i].lines);
    for (size_t i = 0; i < p->n_strings; i++)
        oomkit__free(p->strings[i].ptr);
    oomkit__free(p->sample_types);
    oomkit__free(p->samples);
    oomkit__free(p->mappings);
    oomkit__free(p->locations);
    oomkit__free(p->functions);
    oomkit__free(p->strings);
    oomkit__free(p->comments);
    memset(p, 0, sizeof(*p));
}
