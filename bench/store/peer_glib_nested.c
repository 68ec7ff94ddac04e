/* The incident's twin in C: a GHashTable of namespaces holding a GHashTable
 * of objects holding a GHashTable of fields, every string copied with
 * g_strdup as it arrives from a decoder, the way a C programmer ports
 * map[string]map[string]map[string]int64. Values are stored in the pointer
 * itself (int64 fits a 64-bit gpointer), which spares the peer one
 * allocation per entry; it is the cheapest honest GLib layout. Deleting an
 * object removes it from its namespace table (the destroy notify frees its
 * field table); clearing removes every namespace from the top table. */
#include "bench/store/peers.h"

#include <glib.h>

_Static_assert(sizeof(gpointer) >= sizeof(int64_t), "values are stored in the pointer");

static volatile uint64_t list_sink;

static void *nested_open(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                 (GDestroyNotify)g_hash_table_unref);
}

static int nested_put(void *s, const struct wl_ref *r, int64_t value)
{
    GHashTable *top = s;
    GHashTable *objects = g_hash_table_lookup(top, r->ns);
    if (objects == NULL) {
        objects = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify)g_hash_table_unref);
        g_hash_table_insert(top, g_strdup(r->ns), objects);
    }
    GHashTable *fields = g_hash_table_lookup(objects, r->name);
    if (fields == NULL) {
        fields = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_insert(objects, g_strdup(r->name), fields);
    }
    g_hash_table_insert(fields, g_strdup(r->key), (gpointer)(intptr_t)value);
    return 0; /* g_malloc aborts on failure: GLib has no error path here */
}

static int nested_get(void *s, const struct wl_ref *r, int64_t *value)
{
    GHashTable *objects = g_hash_table_lookup(s, r->ns);
    if (objects == NULL)
        return 0;
    GHashTable *fields = g_hash_table_lookup(objects, r->name);
    gpointer v;
    /* lookup_extended: a stored value of 0 is the NULL pointer. */
    if (fields == NULL || !g_hash_table_lookup_extended(fields, r->key, NULL, &v))
        return 0;
    *value = (int64_t)(intptr_t)v;
    return 1;
}

static int nested_del_object(void *s, const struct wl_workload *w, uint32_t obj)
{
    const struct wl_object *o = &w->objects[obj];
    GHashTable *objects = g_hash_table_lookup(s, o->ns);
    return objects != NULL && g_hash_table_remove(objects, o->name) ? 0 : -1;
}

static uint64_t nested_list(void *s, const char *ns, size_t ns_len)
{
    (void)ns_len;
    GHashTable *objects = g_hash_table_lookup(s, ns);
    if (objects == NULL)
        return 0;
    GHashTableIter it;
    gpointer name;
    uint64_t n = 0, touch = 0;
    g_hash_table_iter_init(&it, objects);
    while (g_hash_table_iter_next(&it, &name, NULL)) {
        touch += *(const unsigned char *)name;
        n++;
    }
    list_sink += touch;
    return n;
}

static int nested_clear(void *s)
{
    g_hash_table_remove_all(s);
    return 0;
}

static void nested_close(void *s)
{
    g_hash_table_destroy(s);
}

const struct peer_ops peer_glib_nested = {
    "glib-nested",
    "GHashTable of GHashTable of GHashTable, g_strdup'ed keys, int64 stored in the pointer",
    nested_open,
    nested_put,
    nested_get,
    NULL,
    nested_del_object,
    nested_list,
    nested_clear,
    nested_close,
    NULL,
    NULL,
    NULL,
    NULL,
};
