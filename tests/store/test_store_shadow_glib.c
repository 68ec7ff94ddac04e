/* The migration of docs/architecture.md ("store", migration) run for real:
 * a legacy state kept as nested GLib hash tables (namespace -> name -> key
 * -> int64, the shape of the incident's nested maps) is wrapped with the
 * store in an oomkit_shadow, driven through the phases 5% -> 50% ->
 * primary=new, and must finish with no divergence and a clean full
 * reconciliation; a silent corruption of the legacy tables afterwards is
 * found by the reconciliation pass. GLib is used by this test only, never
 * by liboomkit. */
#include "oomkit/shadow.h"

#include <glib.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

/* Keys are GStrings' bytes copied into NUL-terminated strings: the test's
 * strings hold no NUL byte. */
static char *dup_str(oomkit_str s)
{
    return g_strndup(s.ptr, s.len);
}

static GHashTable *new_level(GDestroyNotify value_free)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, value_free);
}

static int n_put(void *impl, oomkit_str ns, oomkit_str name, oomkit_str key, int64_t v)
{
    GHashTable *top = impl;
    char *nss = dup_str(ns), *nms = dup_str(name);
    GHashTable *objs = g_hash_table_lookup(top, nss);
    if (objs == NULL) {
        objs = new_level((GDestroyNotify)g_hash_table_unref);
        g_hash_table_insert(top, g_strdup(nss), objs);
    }
    GHashTable *fields = g_hash_table_lookup(objs, nms);
    if (fields == NULL) {
        fields = new_level(g_free);
        g_hash_table_insert(objs, g_strdup(nms), fields);
    }
    gint64 *pv = g_new(gint64, 1);
    *pv = v;
    g_hash_table_replace(fields, dup_str(key), pv);
    g_free(nss);
    g_free(nms);
    return 0;
}

static GHashTable *fields_of(GHashTable *top, oomkit_str ns, oomkit_str name)
{
    char *nss = dup_str(ns), *nms = dup_str(name);
    GHashTable *objs = g_hash_table_lookup(top, nss);
    GHashTable *f = objs ? g_hash_table_lookup(objs, nms) : NULL;
    g_free(nss);
    g_free(nms);
    return f;
}

static int n_get(void *impl, oomkit_str ns, oomkit_str name, oomkit_str key, int64_t *v)
{
    GHashTable *f = fields_of(impl, ns, name);
    char *k = dup_str(key);
    gint64 *pv = f ? g_hash_table_lookup(f, k) : NULL;
    g_free(k);
    if (pv == NULL)
        return -ENOENT;
    *v = *pv;
    return 0;
}

static int n_del_object(void *impl, oomkit_str ns, oomkit_str name)
{
    char *nss = dup_str(ns), *nms = dup_str(name);
    GHashTable *objs = g_hash_table_lookup(impl, nss);
    int r = objs && g_hash_table_remove(objs, nms) ? 0 : -ENOENT;
    if (objs != NULL && g_hash_table_size(objs) == 0)
        g_hash_table_remove(impl, nss);
    g_free(nss);
    g_free(nms);
    return r;
}

static int n_del(void *impl, oomkit_str ns, oomkit_str name, oomkit_str key)
{
    GHashTable *f = fields_of(impl, ns, name);
    char *k = dup_str(key);
    int r = f && g_hash_table_remove(f, k) ? 0 : -ENOENT;
    g_free(k);
    /* The store deletes an object with its last field; so does the twin. */
    if (r == 0 && g_hash_table_size(f) == 0)
        n_del_object(impl, ns, name);
    return r;
}

static int n_iterate(void *impl, oomkit_shadow_entry_fn fn, void *ctx)
{
    GHashTableIter a, b, c;
    gpointer nk, nv, ok, ov, fk, fv;
    g_hash_table_iter_init(&a, impl);
    while (g_hash_table_iter_next(&a, &nk, &nv)) {
        g_hash_table_iter_init(&b, nv);
        while (g_hash_table_iter_next(&b, &ok, &ov)) {
            g_hash_table_iter_init(&c, ov);
            while (g_hash_table_iter_next(&c, &fk, &fv)) {
                oomkit_str ns = { nk, strlen(nk) }, name = { ok, strlen(ok) },
                           key = { fk, strlen(fk) };
                int r = fn(ctx, ns, name, key, *(gint64 *)fv);
                if (r != 0)
                    return r;
            }
        }
    }
    return 0;
}

static uint64_t reported;
static void report(void *ctx, const oomkit_shadow_event *ev)
{
    (void)ctx, (void)ev;
    reported++;
}

static oomkit_str S(const char *p)
{
    return (oomkit_str){ p, strlen(p) };
}

/* One round of operator traffic: upserts, reads, some deletes. */
static void traffic(oomkit_shadow *sh, int round)
{
    char ns[16], name[32], key[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(ns, sizeof(ns), "ns-%d", i % 7);
        snprintf(name, sizeof(name), "pod-%d", (i * 31 + round) % 500);
        snprintf(key, sizeof(key), "status.k%d", (i + round) % 9);
        assert_int_equal(oomkit_shadow_put(sh, S(ns), S(name), S(key), i * 1000 + round), 0);
        int64_t v;
        int rc = oomkit_shadow_get(sh, S(ns), S(name), S(key), &v);
        assert_int_equal(rc, 0);
        assert_true(v == i * 1000 + round);
        if (i % 17 == 0)
            (void)oomkit_shadow_del(sh, S(ns), S(name), S("status.k3"));
        if (i % 101 == 0)
            (void)oomkit_shadow_del_object(sh, S(ns), S(name));
    }
}

static void test_migrate_nested_tables(void **state)
{
    (void)state;
    GHashTable *twin = new_level((GDestroyNotify)g_hash_table_unref);
    oomkit_store *store;
    assert_int_equal(oomkit_store_open(NULL, &store), 0);
    oomkit_shadow_legacy legacy = { twin, n_put, n_get, n_del, n_del_object, n_iterate };
    oomkit_shadow_options o = { OOMKIT_SHADOW_VERIFY, 5, 100, report, NULL, 3 };
    oomkit_shadow *sh;
    assert_int_equal(oomkit_shadow_open(&legacy, store, &o, &sh), 0);
    uint64_t found = 1;
    assert_int_equal(oomkit_shadow_reconcile(sh, &found), 0);
    assert_int_equal(found, 0);
    traffic(sh, 0);
    assert_int_equal(oomkit_shadow_set_phase(sh, OOMKIT_SHADOW_VERIFY, 50), 0);
    traffic(sh, 1);
    assert_int_equal(oomkit_shadow_set_phase(sh, OOMKIT_SHADOW_PRIMARY_NEW, 100), 0);
    traffic(sh, 2);
    oomkit_shadow_stats st;
    assert_int_equal(oomkit_shadow_stats_get(sh, &st), 0);
    assert_int_equal(st.phase, OOMKIT_SHADOW_PRIMARY_NEW);
    assert_int_equal(st.divergences, 0);
    assert_int_equal(reported, 0);
    assert_true(st.verified > 4000); /* 5% + 50% + 100% of 3 x 3000 reads */
    assert_int_equal(oomkit_shadow_reconcile(sh, &found), 0);
    assert_int_equal(found, 0);
    /* A silent corruption of the legacy side is found by reconciliation. */
    GHashTable *f = fields_of(twin, S("ns-1"), S("pod-32"));
    assert_non_null(f);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, f);
    assert_true(g_hash_table_iter_next(&it, &k, &v));
    *(gint64 *)v += 1;
    assert_int_equal(oomkit_shadow_reconcile(sh, &found), 0);
    assert_int_equal(found, 1);
    assert_int_equal(reported, 1);
    assert_int_equal(oomkit_shadow_stats_get(sh, &st), 0);
    assert_string_equal(st.last_ns, "ns-1");
    assert_string_equal(st.last_name, "pod-32");
    assert_true(st.last_legacy_value == st.last_store_value + 1);
    oomkit_shadow_close(sh);
    oomkit_store_close(store);
    g_hash_table_unref(twin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrate_nested_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
