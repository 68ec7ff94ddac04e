/* One flat GHashTable keyed by the joined string "ns/name/key" (a
 * g_strconcat copy per entry), the other common C shape of the incident's
 * state. Values live in the pointer, as in the nested peer. Lookups join
 * the key into a reused buffer, so they allocate nothing. Without an
 * object index, deleting an object removes its keys one by one (the
 * harness hands over the keys it knows, the friendliest case for this
 * peer) and listing a namespace scans every entry. */
#include "bench/store/peers.h"

#include <glib.h>
#include <string.h>

static volatile uint64_t list_sink;

/* The lookup buffer, grown on demand; only the harness thread uses it. */
static char *join_buf;
static size_t join_cap;

static const char *join(const char *ns, size_t ns_len, const char *name, size_t name_len,
                        const char *key, size_t key_len)
{
    size_t need = ns_len + name_len + key_len + 3;
    if (need > join_cap) {
        join_buf = g_realloc(join_buf, need);
        join_cap = need;
    }
    char *p = join_buf;
    memcpy(p, ns, ns_len);
    p += ns_len;
    *p++ = '/';
    memcpy(p, name, name_len);
    p += name_len;
    *p++ = '/';
    memcpy(p, key, key_len);
    p[key_len] = '\0';
    return join_buf;
}

static void *flat_open(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
}

static int flat_put(void *s, const struct wl_ref *r, int64_t value)
{
    g_hash_table_insert(s, g_strconcat(r->ns, "/", r->name, "/", r->key, NULL),
                        (gpointer)(intptr_t)value);
    return 0; /* g_malloc aborts on failure: GLib has no error path here */
}

static int flat_get(void *s, const struct wl_ref *r, int64_t *value)
{
    gpointer v;
    const char *k = join(r->ns, r->ns_len, r->name, r->name_len, r->key, r->key_len);
    if (!g_hash_table_lookup_extended(s, k, NULL, &v))
        return 0;
    *value = (int64_t)(intptr_t)v;
    return 1;
}

static int flat_del_object(void *s, const struct wl_workload *w, uint32_t obj)
{
    const struct wl_object *o = &w->objects[obj];
    int removed = 0;
    for (uint32_t i = 0; i < o->count; i++) {
        const struct wl_entry *e = &w->entries[w->by_object[o->first + i]];
        removed += g_hash_table_remove(
            s, join(o->ns, o->ns_len, o->name, o->name_len, e->key, e->key_len));
    }
    return removed > 0 ? 0 : -1;
}

static uint64_t flat_list(void *s, const char *ns, size_t ns_len)
{
    GHashTableIter it;
    gpointer key;
    uint64_t n = 0, touch = 0;
    g_hash_table_iter_init(&it, s);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        const char *k = key;
        if (strncmp(k, ns, ns_len) == 0 && k[ns_len] == '/') {
            touch += (unsigned char)k[ns_len + 1];
            n++;
        }
    }
    list_sink += touch;
    return n;
}

static int flat_clear(void *s)
{
    g_hash_table_remove_all(s);
    return 0;
}

static void flat_close(void *s)
{
    g_hash_table_destroy(s);
    g_free(join_buf);
    join_buf = NULL;
    join_cap = 0;
}

const struct peer_ops peer_glib_flat = {
    "glib-flat",
    "one GHashTable keyed by g_strconcat'ed \"ns/name/key\", int64 stored in the pointer",
    flat_open,
    flat_put,
    flat_get,
    NULL,
    flat_del_object,
    flat_list,
    flat_clear,
    flat_close,
    NULL,
    NULL,
    NULL,
    NULL,
};
