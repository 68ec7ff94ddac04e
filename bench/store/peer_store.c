/* The oomkit store as a benchmark peer: the plain string API of
 * include/oomkit/store.h, as an application that loads state from a
 * decoder would use it (no handles or key ids, so lookups hash the same
 * strings the other peers hash). Its batched figure comes from
 * oomkit_store_get_many, fed the same strings. */
#include "bench/store/peers.h"

#include "oomkit/store.h"

#include <string.h>

static oomkit_str str(const char *p, size_t len)
{
    oomkit_str s = { p, len };
    return s;
}

void peer_store_start_background(void)
{
    oomkit_store *s = NULL;
    if (oomkit_store_open(NULL, &s) != 0)
        return;
    /* One object whose block alone passes a ledger's byte bound: deleting
     * it hands a batch to the thread, which starts it. */
    static char name[64 * 1024];
    memset(name, 'w', sizeof(name));
    oomkit_str ns = str("warm-up", 7), key = str("k", 1);
    if (oomkit_store_put(s, ns, str(name, sizeof(name)), key, 1) == 0)
        (void)oomkit_store_del_object(s, ns, str(name, sizeof(name)));
    oomkit_store_close(s);
}

static void *store_open(void)
{
    oomkit_store *s = NULL;
    return oomkit_store_open(NULL, &s) == 0 ? s : NULL;
}

static int store_put(void *s, const struct wl_ref *r, int64_t value)
{
    return oomkit_store_put(s, str(r->ns, r->ns_len), str(r->name, r->name_len),
                            str(r->key, r->key_len), value) == 0
               ? 0
               : -1;
}

/* One oomkit_store_put_fields call per object (a call per
 * OOMKIT_STORE_PUT_FIELDS_MAX fields of a bigger one). */
static int store_put_object(void *s, const struct wl_workload *w, uint32_t obj)
{
    const struct wl_object *o = &w->objects[obj];
    oomkit_store_field f[OOMKIT_STORE_PUT_FIELDS_MAX];
    size_t n = 0;
    for (uint32_t i = 0; i < o->count; i++) {
        const struct wl_entry *e = &w->entries[w->by_object[o->first + i]];
        f[n].key = str(e->key, e->key_len);
        f[n].value = e->value;
        if (++n == sizeof(f) / sizeof(f[0]) || i + 1 == o->count) {
            if (oomkit_store_put_fields(s, str(o->ns, o->ns_len), str(o->name, o->name_len), f,
                                        n) != 0)
                return -1;
            n = 0;
        }
    }
    return 0;
}

static int store_get(void *s, const struct wl_ref *r, int64_t *value)
{
    return oomkit_store_get(s, str(r->ns, r->ns_len), str(r->name, r->name_len),
                            str(r->key, r->key_len), value) == 0;
}

/* One oomkit_store_get_many call for a batch of workload entries. Filling
 * the lookup array is part of the cost, as making the wl_ref is for get. */
static size_t store_get_batch(void *s, const struct wl_workload *w, const uint32_t *idx,
                              size_t n, uint64_t *sum)
{
    oomkit_store_lookup q[PEER_BATCH];
    for (size_t i = 0; i < n; i++) {
        struct wl_ref r = wl_entry_ref(w, idx[i]);
        q[i].ns = str(r.ns, r.ns_len);
        q[i].name = str(r.name, r.name_len);
        q[i].key = str(r.key, r.key_len);
    }
    size_t found = 0;
    if (oomkit_store_get_many(s, q, n, &found) != 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (q[i].rc == 0)
            *sum += (uint64_t)q[i].value;
    }
    return found;
}

static int store_del_object(void *s, const struct wl_workload *w, uint32_t obj)
{
    const struct wl_object *o = &w->objects[obj];
    return oomkit_store_del_object(s, str(o->ns, o->ns_len), str(o->name, o->name_len)) == 0
               ? 0
               : -1;
}

/* Keeps the name reads of a listing from being optimised away. */
static volatile uint64_t list_sink;

struct list_ctx {
    uint64_t names;
    uint64_t bytes;
};

static int count_name(void *ctx, oomkit_str name, oomkit_store_obj obj)
{
    struct list_ctx *c = ctx;
    (void)obj;
    c->names++;
    /* Touch the name, as a caller listing names would. */
    c->bytes += name.len ? (unsigned char)name.ptr[0] : 0;
    return 0;
}

static uint64_t store_list(void *s, const char *ns, size_t ns_len)
{
    struct list_ctx c = { 0, 0 };
    if (oomkit_store_each_object(s, str(ns, ns_len), count_name, &c) != 0)
        return 0;
    list_sink += c.bytes;
    return c.names;
}

static int store_clear(void *s)
{
    return oomkit_store_clear(s) == 0 ? 0 : -1;
}

static void store_close(void *s)
{
    oomkit_store_close(s);
}

static uint64_t store_self_bytes(void *s)
{
    oomkit_store_stats st;
    return oomkit_store_stats_get(s, &st) == 0 ? st.bytes_total : 0;
}

static uint64_t store_reclaim(void *s)
{
    oomkit_store_stats st;
    uint64_t waited = oomkit_store_stats_get(s, &st) == 0 ? st.bytes_retired : 0;
    (void)oomkit_store_reclaim(s);
    return waited;
}

static uint64_t store_writer_waits(void *s)
{
    oomkit_store_stats st;
    return oomkit_store_stats_get(s, &st) == 0 ? st.writer_waits : 0;
}

const struct peer_ops peer_oomkit_store = {
    "oomkit-store",
    "oomkit_store_put/get/get_many/del_object/each_object/clear (string API); put_fields to refill",
    store_open,
    store_put,
    store_get,
    store_get_batch,
    store_del_object,
    store_list,
    store_clear,
    store_close,
    store_self_bytes,
    store_reclaim,
    store_writer_waits,
    store_put_object,
};
