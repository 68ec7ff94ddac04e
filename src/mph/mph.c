/* The public minimal perfect hash: build, single and batched lookups,
 * save/open, stats. Lookups are pure functions of (immutable blob, key), so
 * any number of threads may share one handle, mapped or built.
 */
#include "mph/mph_internal.h"
#include "core/alloc.h"

#include <time.h>

/* Keys hashed before their pilots are read. 16 keys of ~70 bytes take long
 * enough to hash that the first prefetch has landed when the second loop
 * starts, and 16 entries of state stay in registers and L1. */
#define BATCH 16

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void set_build_ns(uint8_t *blob, uint64_t ns)
{
    struct mph_header hd;
    memcpy(&hd, blob, sizeof(hd));
    hd.build_ns = ns;
    memcpy(blob, &hd, sizeof(hd));
}

int oomkit_mph_build(const oomkit_str *keys, size_t n, const oomkit_mph_options *opts,
                     oomkit_mph **out)
{
    if (out == NULL)
        return -EINVAL;
    uint64_t t0 = now_ns();
    struct mph_build_req req = { MPH_KIND_FUNCTION, 0, 0, 0 };
    uint8_t *blob;
    size_t len;
    struct mph_view v;
    int rc = oomkit__mph_build_blob(keys, n, opts, &req, &blob, &len, &v);
    if (rc != 0)
        return rc;
    oomkit_mph *m = oomkit__calloc(1, sizeof(*m));
    if (m == NULL) {
        oomkit__free(blob);
        return -ENOMEM;
    }
    if (opts && opts->record_build_time)
        set_build_ns(blob, now_ns() - t0);
    oomkit__mph_seal(blob);
    m->h.v = v;
    m->h.blob = blob;
    m->h.blob_len = len;
    m->h.own = 1;
    *out = m;
    return 0;
}

uint64_t oomkit_mph_index(const oomkit_mph *m, oomkit_str key)
{
    if (m == NULL || m->h.v.n == 0)
        return 0;
    return mph_slot_of(&m->h.v, mph_hash(&m->h.v, mph_key(key)));
}

void oomkit_mph_index_many(const oomkit_mph *m, const oomkit_str *keys, size_t count,
                           uint64_t *out)
{
    if (out == NULL)
        return;
    if (m == NULL || keys == NULL || m->h.v.n == 0) {
        for (size_t i = 0; i < count; i++)
            out[i] = 0;
        return;
    }
    const struct mph_view *v = &m->h.v;
    uint64_t bk[BATCH], pa[BATCH], lo[BATCH];
    for (size_t i = 0; i < count; i += BATCH) {
        size_t w = count - i < BATCH ? count - i : BATCH;
        for (size_t j = 0; j < w; j++) {
            uint64_t h = mph_hash(v, mph_key(keys[i + j]));
            uint64_t p = mph_part_of(h, v->parts);
            bk[j] = p * v->bpp + mph_bucketfn(h * v->parts, v->bpp, v->linear);
            pa[j] = p;
            lo[j] = h * MPH_C3;
            __builtin_prefetch(v->pilots + bk[j]);
        }
        for (size_t j = 0; j < w; j++) {
            struct mph_part pt = v->part[pa[j]];
            uint64_t s = pt.base + mph_slot_in_part(lo[j], v->pilots[bk[j]], pt.slots);
            if (s >= v->n)
                s = v->remap[s - v->n];
            out[i + j] = s;
        }
    }
}

uint64_t oomkit_mph_size(const oomkit_mph *m)
{
    return m != NULL ? m->h.v.n : 0;
}

int oomkit_mph_save(const oomkit_mph *m, const char *path)
{
    if (m == NULL)
        return -EINVAL;
    return oomkit__mph_write_file(path, m->h.blob, m->h.blob_len);
}

static int open_common(struct mph_handle *h, const char *path)
{
    const void *buf;
    size_t len;
    int rc = oomkit__mph_map_file(path, &buf, &len);
    if (rc != 0)
        return rc;
    rc = oomkit__mph_view_init(h, buf, len, 1);
    if (rc != 0) {
        oomkit__mph_unmap_file(buf, len);
        return rc;
    }
    h->own = 2;
    return 0;
}

int oomkit_mph_open(const char *path, oomkit_mph **out)
{
    if (out == NULL)
        return -EINVAL;
    oomkit_mph *m = oomkit__calloc(1, sizeof(*m));
    if (m == NULL)
        return -ENOMEM;
    int rc = open_common(&m->h, path);
    if (rc != 0) {
        oomkit__free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int oomkit_mph_from_buffer(const void *buf, size_t len, oomkit_mph **out)
{
    if (out == NULL)
        return -EINVAL;
    oomkit_mph *m = oomkit__calloc(1, sizeof(*m));
    if (m == NULL)
        return -ENOMEM;
    int rc = oomkit__mph_view_init(&m->h, buf, len, 1);
    if (rc != 0) {
        oomkit__free(m);
        return rc;
    }
    *out = m;
    return 0;
}

const void *oomkit_mph_blob(const oomkit_mph *m, size_t *len)
{
    if (len != NULL)
        *len = m != NULL ? m->h.blob_len : 0;
    return m != NULL ? m->h.blob : NULL;
}

void oomkit__mph_handle_release(struct mph_handle *h)
{
    if (h->own == 1)
        oomkit__free((void *)(uintptr_t)h->blob);
    else if (h->own == 2)
        oomkit__mph_unmap_file(h->blob, h->blob_len);
    h->blob = NULL;
}

void oomkit_mph_close(oomkit_mph *m)
{
    if (m == NULL)
        return;
    oomkit__mph_handle_release(&m->h);
    oomkit__free(m);
}

int oomkit__mph_stats_of(const struct mph_handle *h, oomkit_mph_stats *out)
{
    struct mph_header hd;
    memcpy(&hd, h->blob, sizeof(hd));
    struct mph_layout L;
    int rc = oomkit__mph_layout(&hd, &L);
    if (rc != 0)
        return rc;
    memset(out, 0, sizeof(*out));
    out->version = hd.version;
    out->kind = hd.kind;
    out->keys = hd.n;
    out->seed = hd.seed;
    out->hash_seed = hd.hash_seed;
    out->attempts = hd.attempts;
    out->parts = hd.parts;
    out->buckets = (uint64_t)hd.parts * hd.bpp;
    out->slots = hd.slots_total;
    out->remap_entries = hd.slots_total - hd.n;
    out->build_ns = hd.build_ns;
    out->fingerprint_bits = hd.fp_bits;
    out->has_keys = (hd.flags & MPH_FLAG_KEYS) != 0;
    out->bytes_total = hd.file_bytes;
    out->bytes_header = MPH_HEADER_BYTES;
    out->bytes_parts = L.parts_len;
    out->bytes_pilots = L.pilots_len;
    out->bytes_remap = L.remap_len;
    out->bytes_values = L.values_len;
    out->bytes_fingerprints = L.fp_len;
    out->bytes_keys = L.koff_len + L.kbytes_len;
    if (hd.n > 0)
        out->bits_per_key = (double)(MPH_HEADER_BYTES + L.parts_len + L.pilots_len +
                                     L.remap_len) * 8.0 / (double)hd.n;
    return 0;
}

int oomkit_mph_stats_get(const oomkit_mph *m, oomkit_mph_stats *out)
{
    if (m == NULL || out == NULL)
        return -EINVAL;
    return oomkit__mph_stats_of(&m->h, out);
}
