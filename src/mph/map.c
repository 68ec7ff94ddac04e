/* Static maps on the MPHF: builds the value, fingerprint and key sections
 * of a map blob (by slot), answers gets, and parses the TSV input format.
 *
 * A get hashes the key once; the same 128-bit hash gives the slot and the
 * fingerprint, so a miss costs what a hit costs. With keep_keys the key
 * bytes are compared too, and the fingerprint (if any) first saves most
 * misses that compare.
 */
#include "mph/mph_internal.h"
#include "core/alloc.h"

#include <time.h>

#define BATCH 16

static void fp_write(uint8_t *fp, uint64_t s, uint32_t bits, uint32_t val)
{
    uint64_t bit = s * bits, w;
    memcpy(&w, fp + (bit >> 3), 8);
    uint64_t mask = ((1ull << bits) - 1) << (bit & 7);
    w = (w & ~mask) | ((uint64_t)val << (bit & 7));
    memcpy(fp + (bit >> 3), &w, 8);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int oomkit_static_map_build(const oomkit_str *keys, const int64_t *values, size_t n,
                            const oomkit_static_map_options *opts, oomkit_static_map **out)
{
    if (out == NULL || (n > 0 && values == NULL))
        return -EINVAL;
    uint64_t t0 = now_ns();
    uint32_t fp_bits = opts ? opts->fingerprint_bits : 16;
    int keep = opts ? opts->keep_keys != 0 : 0;
    if (fp_bits > 32)
        return -EINVAL;
    uint64_t key_bytes = 0;
    if (keep)
        for (size_t i = 0; i < n && keys != NULL; i++)
            key_bytes += keys[i].len;
    struct mph_build_req req = { MPH_KIND_MAP, fp_bits, keep, key_bytes };
    uint8_t *blob;
    size_t len;
    struct mph_view v;
    int rc = oomkit__mph_build_blob(keys, n, opts ? &opts->mph : NULL, &req, &blob, &len, &v);
    if (rc != 0)
        return rc;
    oomkit_static_map *m = oomkit__calloc(1, sizeof(*m));
    uint32_t *by_slot = keep ? oomkit__malloc((n ? n : 1) * sizeof(uint32_t)) : NULL;
    if (m == NULL || (keep && by_slot == NULL)) {
        oomkit__free(m);
        oomkit__free(by_slot);
        oomkit__free(blob);
        return -ENOMEM;
    }
    /* The view's pointers are const for readers; the builder owns blob. */
    int64_t *vals = (int64_t *)(uintptr_t)v.values;
    uint8_t *fp = (uint8_t *)(uintptr_t)v.fp;
    for (size_t i = 0; i < n; i++) {
        uint64_t h = mph_hash(&v, keys[i]);
        uint64_t s = mph_slot_of(&v, h);
        vals[s] = values[i];
        if (fp_bits)
            fp_write(fp, s, fp_bits, mph_fingerprint(h, fp_bits));
        if (keep)
            by_slot[s] = (uint32_t)i;
    }
    if (keep) {
        uint64_t *koff = (uint64_t *)(uintptr_t)v.koff;
        uint8_t *kb = (uint8_t *)(uintptr_t)v.kbytes;
        uint64_t at = 0;
        for (size_t s = 0; s < n; s++) {
            oomkit_str k = keys[by_slot[s]];
            koff[s] = at;
            if (k.len)
                memcpy(kb + at, k.ptr, k.len);
            at += k.len;
        }
        koff[n] = at;
    }
    oomkit__free(by_slot);
    if (opts && opts->mph.record_build_time) {
        struct mph_header hd;
        memcpy(&hd, blob, sizeof(hd));
        hd.build_ns = now_ns() - t0;
        memcpy(blob, &hd, sizeof(hd));
    }
    oomkit__mph_seal(blob);
    m->h.v = v;
    m->h.blob = blob;
    m->h.blob_len = len;
    m->h.own = 1;
    m->fn.h = m->h;
    m->fn.h.own = 0;
    *out = m;
    return 0;
}

/* The member test at slot s for a key with hash h. */
static int member_at(const struct mph_view *v, uint64_t s, uint64_t h, oomkit_str key)
{
    if (v->fp_bits && mph_fp_read(v->fp, s, v->fp_bits) != mph_fingerprint(h, v->fp_bits))
        return 0;
    if (v->koff) {
        uint64_t a = v->koff[s], b = v->koff[s + 1];
        /* Offsets are not validated on open: check them here. */
        if (a > b || b > v->key_bytes || b - a != key.len)
            return 0;
        if (key.len && memcmp(v->kbytes + a, key.ptr, key.len) != 0)
            return 0;
    }
    return 1;
}

int oomkit_static_map_get(const oomkit_static_map *m, oomkit_str key, int64_t *value)
{
    if (m == NULL || (key.ptr == NULL && key.len != 0))
        return -EINVAL;
    const struct mph_view *v = &m->h.v;
    if (v->n == 0)
        return -ENOENT;
    uint64_t h = mph_hash(v, key);
    uint64_t s = mph_slot_of(v, h);
    if (!member_at(v, s, h, key))
        return -ENOENT;
    if (value != NULL)
        *value = v->values[s];
    return 0;
}

size_t oomkit_static_map_get_many(const oomkit_static_map *m, const oomkit_str *keys,
                                  size_t count, int64_t *values, uint8_t *found)
{
    if (values == NULL || found == NULL)
        return 0;
    size_t hits = 0;
    if (m == NULL || keys == NULL || m->h.v.n == 0) {
        for (size_t i = 0; i < count; i++) {
            values[i] = 0;
            found[i] = 0;
        }
        return 0;
    }
    const struct mph_view *v = &m->h.v;
    uint64_t hs[BATCH];
    uint64_t bk[BATCH], pa[BATCH], sl[BATCH];
    for (size_t i = 0; i < count; i += BATCH) {
        size_t w = count - i < BATCH ? count - i : BATCH;
        for (size_t j = 0; j < w; j++) {
            hs[j] = mph_hash(v, mph_key(keys[i + j]));
            uint64_t p = mph_part_of(hs[j], v->parts);
            bk[j] = p * v->bpp + mph_bucketfn(hs[j] * v->parts, v->bpp, v->linear);
            pa[j] = p;
            __builtin_prefetch(v->pilots + bk[j]);
        }
        for (size_t j = 0; j < w; j++) {
            struct mph_part pt = v->part[pa[j]];
            uint64_t s = pt.base + mph_slot_in_part(hs[j] * MPH_C3, v->pilots[bk[j]], pt.slots);
            if (s >= v->n)
                s = v->remap[s - v->n];
            sl[j] = s;
            __builtin_prefetch(v->values + s);
            if (v->fp)
                __builtin_prefetch(v->fp + ((s * v->fp_bits) >> 3));
        }
        for (size_t j = 0; j < w; j++) {
            int ok = member_at(v, sl[j], hs[j], mph_key(keys[i + j]));
            found[i + j] = (uint8_t)ok;
            values[i + j] = ok ? v->values[sl[j]] : 0;
            hits += (size_t)ok;
        }
    }
    return hits;
}

const oomkit_mph *oomkit_static_map_mph(const oomkit_static_map *m)
{
    return m != NULL ? &m->fn : NULL;
}

int oomkit_static_map_save(const oomkit_static_map *m, const char *path)
{
    if (m == NULL)
        return -EINVAL;
    return oomkit__mph_write_file(path, m->h.blob, m->h.blob_len);
}

static int wrap(oomkit_static_map *m, oomkit_static_map **out)
{
    if (m->h.v.values == NULL) {
        oomkit__mph_handle_release(&m->h);
        oomkit__free(m);
        return -EINVAL; /* a valid blob, but a function only */
    }
    m->fn.h = m->h;
    m->fn.h.own = 0;
    *out = m;
    return 0;
}

int oomkit_static_map_open(const char *path, oomkit_static_map **out)
{
    if (out == NULL)
        return -EINVAL;
    oomkit_static_map *m = oomkit__calloc(1, sizeof(*m));
    if (m == NULL)
        return -ENOMEM;
    const void *buf;
    size_t len;
    int rc = oomkit__mph_map_file(path, &buf, &len);
    if (rc == 0) {
        rc = oomkit__mph_view_init(&m->h, buf, len, 1);
        if (rc != 0)
            oomkit__mph_unmap_file(buf, len);
        else
            m->h.own = 2;
    }
    if (rc != 0) {
        oomkit__free(m);
        return rc;
    }
    return wrap(m, out);
}

int oomkit_static_map_from_buffer(const void *buf, size_t len, oomkit_static_map **out)
{
    if (out == NULL)
        return -EINVAL;
    oomkit_static_map *m = oomkit__calloc(1, sizeof(*m));
    if (m == NULL)
        return -ENOMEM;
    int rc = oomkit__mph_view_init(&m->h, buf, len, 1);
    if (rc != 0) {
        oomkit__free(m);
        return rc;
    }
    return wrap(m, out);
}

void oomkit_static_map_close(oomkit_static_map *m)
{
    if (m == NULL)
        return;
    oomkit__mph_handle_release(&m->h);
    oomkit__free(m);
}

/* ---- TSV ------------------------------------------------------------------ */

/* Parses a signed 64-bit decimal filling all of [p, e). */
static int parse_i64(const char *p, const char *e, int64_t *out)
{
    int neg = 0;
    if (p < e && (*p == '-' || *p == '+'))
        neg = *p++ == '-';
    if (p == e)
        return -1;
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; p < e; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (lim - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int oomkit_static_map_build_tsv(oomkit_str tsv, const oomkit_static_map_options *opts,
                                oomkit_static_map **out)
{
    /* A length that runs past the end of the address space is no buffer. */
    if (out == NULL || (tsv.ptr == NULL && tsv.len != 0) ||
        tsv.len > UINTPTR_MAX - (uintptr_t)tsv.ptr)
        return -EINVAL;
    size_t *err = opts ? opts->mph.error_index : NULL;
    const char *text = tsv.ptr, *end = tsv.ptr + tsv.len;
    /* Pass 1: count entries and key bytes. */
    size_t n = 0, bytes = 0;
    for (const char *p = text; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (le > p && *p != '#' && !(le - p == 1 && *p == '\r')) {
            n++;
            bytes += (size_t)(le - p);
        }
        p = nl ? nl + 1 : end;
    }
    oomkit_str *keys = oomkit__malloc((n ? n : 1) * sizeof(*keys));
    int64_t *vals = oomkit__malloc((n ? n : 1) * sizeof(*vals));
    size_t *line_of = oomkit__malloc((n ? n : 1) * sizeof(*line_of));
    char *arena = oomkit__malloc(bytes ? bytes : 1);
    int rc = -ENOMEM;
    if (keys == NULL || vals == NULL || line_of == NULL || arena == NULL)
        goto out;
    size_t i = 0, at = 0, line = 0;
    for (const char *p = text; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        if (le > p && le[-1] == '\r')
            le--;
        if (le > p && *p != '#') {
            const char *tab = NULL;
            for (const char *q = le; q > p; q--)
                if (q[-1] == '\t') {
                    tab = q - 1;
                    break;
                }
            if (tab == NULL || parse_i64(tab + 1, le, &vals[i]) != 0) {
                if (err)
                    *err = line;
                rc = -EINVAL;
                goto out;
            }
            size_t klen = (size_t)(tab - p);
            for (size_t j = 0; j < klen; j++)
                arena[at + j] = p[j] == '\t' ? '/' : p[j];
            keys[i] = (oomkit_str){ arena + at, klen };
            line_of[i] = line;
            at += klen;
            i++;
        }
        p = nl ? nl + 1 : end;
    }
    oomkit_static_map_options o;
    if (opts)
        o = *opts;
    else {
        memset(&o, 0, sizeof(o));
        o.fingerprint_bits = 16;
    }
    size_t dup = 0;
    o.mph.error_index = &dup;
    rc = oomkit_static_map_build(keys, vals, i, &o, out);
    if (rc == -EEXIST && err)
        *err = line_of[dup];
out:
    oomkit__free(keys);
    oomkit__free(vals);
    oomkit__free(line_of);
    oomkit__free(arena);
    return rc;
}
