/* Table 6 of `oomkit bench seed`: the static MPH map (oomkit_static_map)
 * against a GLib hash table, both looked up with the same keys in the same
 * random order. The keys are the flattened "ns/name/key" strings of a
 * generated cluster; the GLib table borrows them (no copies), so only the
 * lookup itself differs. bench/mph measures the MPH against CMPH in depth;
 * this table is the postmortem's single comparison. */
#include "bench/seed/seed.h"

#include "bench/bench_probe.h"
#include "oomkit/mph.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

static volatile int64_t sink;

void seed_table_mph(const struct seed_opts *o, struct seed_table *t)
{
    size_t n_ns = 10, n_obj = o->quick ? 300 : 1500, n_keys = 6;
    size_t n = n_ns * n_obj * n_keys, lookups = o->quick ? 300000 : 3000000;
    t->number = 6;
    t->key = "mph";
    t->title = "Static MPH map vs hash table lookups";
    t->cols[0] = "ns_per_lookup";
    t->cols[1] = "bytes_owned";
    t->ncols = 2;
    snprintf(t->measured, sizeof t->measured,
             "%zu keys \"ns/name/key\" with int64 values; %zu lookups of member keys in one "
             "random order: oomkit_static_map_get (16-bit fingerprints), "
             "oomkit_static_map_get_many in batches of 64, and g_hash_table_lookup on a "
             "GHashTable holding the same (borrowed) key strings. Bytes owned = heap growth "
             "to build each structure.",
             n, lookups);
    struct seed_state st;
    if (seed_state_make(n_ns, n_obj, n_keys, &st) != 0) {
        snprintf(t->verdict, sizeof t->verdict, "could not allocate the state");
        return;
    }
    oomkit_str *keys = calloc(n, sizeof *keys), *q = calloc(lookups, sizeof *q);
    int64_t *values = calloc(n, sizeof *values);
    char **text = calloc(n, sizeof *text);
    GHashTable *h = NULL;
    oomkit_static_map *m = NULL;
    if (keys == NULL || q == NULL || values == NULL || text == NULL) {
        snprintf(t->verdict, sizeof t->verdict, "could not allocate the keys");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        size_t obj = i / n_keys, k = i % n_keys;
        text[i] = g_strdup_printf("%s/%s/%s", st.ns[obj / n_obj].ptr, st.name[obj].ptr,
                                  st.key[k].ptr);
        keys[i] = oomkit_cstr(text[i]);
        values[i] = (int64_t)i + 1;
    }
    double h0 = (double)oomkit__bench_heap_bytes();
    int rc = oomkit_static_map_build(keys, values, n, NULL, &m);
    double map_bytes = (double)oomkit__bench_heap_bytes() - h0;
    if (rc != 0) {
        snprintf(t->verdict, sizeof t->verdict, "oomkit_static_map_build failed: %s",
                 oomkit_strerror(rc));
        goto out;
    }
    h0 = (double)oomkit__bench_heap_bytes();
    h = g_hash_table_new(g_str_hash, g_str_equal);
    for (size_t i = 0; i < n; i++)
        g_hash_table_insert(h, text[i], (gpointer)(intptr_t)values[i]);
    double glib_bytes = (double)oomkit__bench_heap_bytes() - h0;
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < lookups; i++)
        q[i] = keys[seed_rand(&x) % n];

    int64_t sum_map = 0, sum_many = 0, sum_glib = 0;
    uint64_t t0 = oomkit__bench_now_ns();
    for (size_t i = 0; i < lookups; i++) {
        int64_t v = 0;
        if (oomkit_static_map_get(m, q[i], &v) == 0)
            sum_map += v;
    }
    double map_ns = (double)(oomkit__bench_now_ns() - t0) / (double)lookups;
    t0 = oomkit__bench_now_ns();
    for (size_t i = 0; i < lookups; i += 64) {
        int64_t v[64];
        uint8_t found[64];
        size_t c = lookups - i < 64 ? lookups - i : 64;
        oomkit_static_map_get_many(m, q + i, c, v, found);
        for (size_t j = 0; j < c; j++)
            sum_many += v[j];
    }
    double many_ns = (double)(oomkit__bench_now_ns() - t0) / (double)lookups;
    t0 = oomkit__bench_now_ns();
    for (size_t i = 0; i < lookups; i++)
        sum_glib += (int64_t)(intptr_t)g_hash_table_lookup(h, q[i].ptr);
    double glib_ns = (double)(oomkit__bench_now_ns() - t0) / (double)lookups;
    sink += sum_map + sum_many + sum_glib;
    if (sum_map != sum_glib || sum_many != sum_glib) {
        snprintf(t->verdict, sizeof t->verdict,
                 "the static map and GLib returned different values: not timed");
        goto out;
    }
    double v0[2] = { map_ns, map_bytes }, v1[2] = { many_ns, map_bytes },
           v2[2] = { glib_ns, glib_bytes };
    seed_row_add(t, "oomkit_static_map_get", v0);
    seed_row_add(t, "oomkit_static_map_get_many (64)", v1);
    seed_row_add(t, "GHashTable lookup", v2);
    t->ran = 1;
    t->holds = map_ns < glib_ns;
    snprintf(t->verdict, sizeof t->verdict,
             "%s: %.0f ns per lookup for the static map (%.0f batched) against %.0f for GLib, "
             "in %.1f bytes per key against %.1f.",
             t->holds ? "The postmortem's claim holds"
                      : "This machine disagrees (the hash table is as fast or faster here)",
             map_ns, many_ns, glib_ns, map_bytes / (double)n, glib_bytes / (double)n);
out:
    if (h != NULL)
        g_hash_table_destroy(h);
    oomkit_static_map_close(m);
    for (size_t i = 0; text != NULL && i < n; i++)
        g_free(text[i]);
    free(text);
    free(values);
    free(q);
    free(keys);
    seed_state_free(&st);
}
