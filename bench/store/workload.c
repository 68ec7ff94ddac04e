/* Loading the store benchmark's TSV workload (see workload.h). Interning
 * during the load uses GLib tables: this is harness code, it runs before
 * any measurement, and its tables are freed before the first structure is
 * built. */
#include "bench/store/workload.h"

#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct obj_key {
    const char *ns;
    const char *name;
};

static guint obj_key_hash(gconstpointer p)
{
    const struct obj_key *k = p;
    return g_str_hash(k->ns) * 31u + g_str_hash(k->name);
}

static gboolean obj_key_equal(gconstpointer a, gconstpointer b)
{
    const struct obj_key *x = a, *y = b;
    return strcmp(x->ns, y->ns) == 0 && strcmp(x->name, y->name) == 0;
}

static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

/* Orders entry indices by (object, key id, file position); ctx is the
 * entry array (qsort_r, a GNU extension, keeps the sort reentrant). */
static int cmp_entry_index(const void *a, const void *b, void *ctx)
{
    const struct wl_entry *entries = ctx;
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    const struct wl_entry *x = &entries[i], *y = &entries[j];
    if (x->obj != y->obj)
        return x->obj < y->obj ? -1 : 1;
    if (x->key_id != y->key_id)
        return x->key_id < y->key_id ? -1 : 1;
    return i < j ? -1 : i > j;
}

/* Parses one value: a whole signed 64-bit decimal. */
static int parse_value(const char *s, int64_t *out)
{
    if (*s == '\0')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

#define FOLDED UINT32_MAX

/* Groups entries by object, folds repeated (object, key) lines into the
 * first one (the last value wins) and fills by_object and the object
 * ranges. */
static int group_entries(struct wl_workload *w)
{
    size_t n = w->n_entries;
    uint32_t *order = malloc(n * sizeof(*order));
    uint32_t *remap = calloc(n, sizeof(*remap));
    if (order == NULL || remap == NULL) {
        free(order);
        free(remap);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    qsort_r(order, n, sizeof(*order), cmp_entry_index, w->entries);
    for (size_t a = 0; a < n;) {
        size_t b = a + 1;
        const struct wl_entry *first = &w->entries[order[a]];
        while (b < n && w->entries[order[b]].obj == first->obj &&
               w->entries[order[b]].key_id == first->key_id)
            b++;
        w->entries[order[a]].value = w->entries[order[b - 1]].value;
        for (size_t k = a + 1; k < b; k++)
            remap[order[k]] = FOLDED;
        a = b;
    }
    /* Compact in file order, then translate the grouped order. */
    size_t live = 0;
    for (size_t i = 0; i < n; i++) {
        if (remap[i] == FOLDED)
            continue;
        remap[i] = (uint32_t)live;
        w->entries[live++] = w->entries[i];
    }
    size_t at = 0;
    for (size_t k = 0; k < n; k++) {
        if (remap[order[k]] != FOLDED)
            order[at++] = remap[order[k]];
    }
    free(remap);
    w->n_entries = live;
    w->by_object = order;
    for (size_t k = 0; k < live; k++) {
        struct wl_object *o = &w->objects[w->entries[order[k]].obj];
        if (o->count++ == 0)
            o->first = (uint32_t)k;
    }
    return 0;
}

int wl_parse(struct wl_workload *w, char *buf, size_t len, const char *what, char *err,
             size_t err_cap)
{
    memset(w, 0, sizeof(*w));
    w->buf = buf;
    int rc = -1;
    GHashTable *keys = g_hash_table_new(g_str_hash, g_str_equal);
    GHashTable *nss = g_hash_table_new(g_str_hash, g_str_equal);
    GHashTable *objs = g_hash_table_new_full(obj_key_hash, obj_key_equal, g_free, NULL);
    GPtrArray *key_list = g_ptr_array_new();
    GArray *ns_objects = g_array_new(FALSE, TRUE, sizeof(uint64_t));
    size_t cap_entries = 1024, cap_objects = 256;
    w->entries = malloc(cap_entries * sizeof(*w->entries));
    w->objects = malloc(cap_objects * sizeof(*w->objects));
    if (w->entries == NULL || w->objects == NULL) {
        fail(err, err_cap, "%s: out of memory", what);
        goto done;
    }
    size_t line = 0;
    for (size_t pos = 0; pos < len;) {
        line++;
        char *start = buf + pos;
        char *nl = memchr(start, '\n', len - pos);
        size_t line_len = nl ? (size_t)(nl - start) : len - pos;
        pos += line_len + (nl != NULL);
        if (memchr(start, '\0', line_len) != NULL) {
            fail(err, err_cap, "%s:%zu: NUL byte in line", what, line);
            goto done;
        }
        start[line_len] = '\0'; /* the newline, or the byte wl_load_file reserved */
        char *field[4];
        int nf = 0;
        field[nf++] = start;
        for (char *p = start; *p != '\0'; p++) {
            if (*p == '\t') {
                if (nf == 4) {
                    nf++;
                    break;
                }
                *p = '\0';
                field[nf++] = p + 1;
            }
        }
        if (nf != 4) {
            fail(err, err_cap,
                 "%s:%zu: expected 4 tab-separated fields (namespace, name, key, value), found %s%d",
                 what, line, nf > 4 ? "more than " : "", nf > 4 ? 4 : nf);
            goto done;
        }
        int64_t value;
        if (parse_value(field[3], &value) != 0) {
            fail(err, err_cap, "%s:%zu: value '%.40s' is not a signed 64-bit decimal", what, line,
                 field[3]);
            goto done;
        }
        /* The flat peers join "ns/name/key"; a '/' in ns or name would make
         * two different entries collide there. */
        if (strchr(field[0], '/') != NULL || strchr(field[1], '/') != NULL) {
            fail(err, err_cap,
                 "%s:%zu: '/' in a namespace or name cannot be told apart in the flat peers' "
                 "ns/name/key strings",
                 what, line);
            goto done;
        }
        size_t lens[3] = { strlen(field[0]), strlen(field[1]), strlen(field[2]) };
        if (lens[0] > UINT32_MAX || lens[1] > UINT32_MAX || lens[2] > UINT32_MAX) {
            fail(err, err_cap, "%s:%zu: field longer than 4 GiB", what, line);
            goto done;
        }
        gpointer got;
        if (!g_hash_table_lookup_extended(nss, field[0], NULL, &got)) {
            got = GUINT_TO_POINTER(g_hash_table_size(nss));
            g_hash_table_insert(nss, field[0], got);
            uint64_t zero = 0;
            g_array_append_val(ns_objects, zero);
        }
        uint32_t ns_id = GPOINTER_TO_UINT(got);
        struct obj_key probe = { field[0], field[1] };
        if (!g_hash_table_lookup_extended(objs, &probe, NULL, &got)) {
            if (w->n_objects == cap_objects) {
                cap_objects *= 2;
                void *grown = realloc(w->objects, cap_objects * sizeof(*w->objects));
                if (grown == NULL) {
                    fail(err, err_cap, "%s: out of memory", what);
                    goto done;
                }
                w->objects = grown;
            }
            got = GUINT_TO_POINTER(w->n_objects);
            struct obj_key *k = g_new(struct obj_key, 1);
            *k = probe;
            g_hash_table_insert(objs, k, got);
            w->objects[w->n_objects++] = (struct wl_object){
                field[0], field[1], (uint32_t)lens[0], (uint32_t)lens[1], ns_id, 0, 0,
            };
            g_array_index(ns_objects, uint64_t, ns_id)++;
        }
        uint32_t obj = GPOINTER_TO_UINT(got);
        if (!g_hash_table_lookup_extended(keys, field[2], NULL, &got)) {
            got = GUINT_TO_POINTER(key_list->len);
            g_hash_table_insert(keys, field[2], got);
            g_ptr_array_add(key_list, field[2]);
        }
        if (w->n_entries == cap_entries) {
            cap_entries *= 2;
            void *grown = realloc(w->entries, cap_entries * sizeof(*w->entries));
            if (grown == NULL) {
                fail(err, err_cap, "%s: out of memory", what);
                goto done;
            }
            w->entries = grown;
        }
        w->entries[w->n_entries++] = (struct wl_entry){
            field[2], (uint32_t)lens[2], obj, GPOINTER_TO_UINT(got), (uint32_t)lens[0],
            (uint32_t)lens[1], value,
        };
    }
    if (w->n_entries == 0) {
        fail(err, err_cap, "%s: no entries", what);
        goto done;
    }
    if (w->n_entries > UINT32_MAX / 2) {
        fail(err, err_cap, "%s: more than 2^31 entries", what);
        goto done;
    }
    w->n_keys = key_list->len;
    w->n_namespaces = g_hash_table_size(nss);
    w->keys = malloc(w->n_keys * sizeof(*w->keys));
    w->key_lens = malloc(w->n_keys * sizeof(*w->key_lens));
    if (w->keys == NULL || w->key_lens == NULL || group_entries(w) != 0) {
        fail(err, err_cap, "%s: out of memory", what);
        goto done;
    }
    for (size_t i = 0; i < w->n_keys; i++) {
        w->keys[i] = g_ptr_array_index(key_list, i);
        w->key_lens[i] = (uint32_t)strlen(w->keys[i]);
    }
    uint32_t best_ns = 0;
    for (uint32_t i = 1; i < ns_objects->len; i++) {
        if (g_array_index(ns_objects, uint64_t, i) > g_array_index(ns_objects, uint64_t, best_ns))
            best_ns = i;
    }
    w->biggest_ns_objects = g_array_index(ns_objects, uint64_t, best_ns);
    for (size_t i = 0; i < w->n_objects; i++) {
        if (w->objects[i].ns_id == best_ns) {
            w->biggest_ns_obj = (uint32_t)i;
            break;
        }
    }
    rc = 0;
done:
    g_hash_table_destroy(keys);
    g_hash_table_destroy(nss);
    g_hash_table_destroy(objs);
    g_ptr_array_free(key_list, TRUE);
    g_array_free(ns_objects, TRUE);
    return rc;
}

int wl_load_file(struct wl_workload *w, const char *path, char *err, size_t err_cap)
{
    memset(w, 0, sizeof(*w));
    int use_stdin = strcmp(path, "-") == 0;
    FILE *f = use_stdin ? stdin : fopen(path, "rb");
    if (f == NULL)
        return fail(err, err_cap, "cannot read %s: %s", path, strerror(errno));
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    while (buf != NULL) {
        /* Keep one byte spare: wl_parse terminates an unfinished last line. */
        if (cap - len < 2) {
            char *grown = realloc(buf, cap * 2);
            if (grown == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    int read_error = ferror(f);
    if (!use_stdin)
        fclose(f);
    if (buf == NULL)
        return fail(err, err_cap, "%s: out of memory", path);
    if (read_error) {
        free(buf);
        return fail(err, err_cap, "cannot read %s: read error", path);
    }
    buf[len] = '\0';
    return wl_parse(w, buf, len, path, err, err_cap);
}

void wl_free(struct wl_workload *w)
{
    free(w->buf);
    free(w->entries);
    free(w->objects);
    free(w->by_object);
    free(w->keys);
    free(w->key_lens);
    memset(w, 0, sizeof(*w));
}

static uint64_t probe_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static size_t probe_below(uint64_t *state, size_t n)
{
    return (size_t)(((unsigned __int128)probe_rand(state) * n) >> 64);
}

/* Whether object o holds key id k (its entries are sorted by key id). */
static int object_has_key(const struct wl_workload *w, const struct wl_object *o, uint32_t k)
{
    size_t lo = o->first, hi = (size_t)o->first + o->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t at = w->entries[w->by_object[mid]].key_id;
        if (at == k)
            return 1;
        if (at < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* A key that exists in the vocabulary but not in the entry's object, so a
 * miss walks down to the last level in every structure. Only an object
 * holding every key falls back to a key that exists nowhere. */
static struct wl_ref miss_ref(const struct wl_workload *w, uint64_t *rng)
{
    static const char absent[] = "oomkit-bench.absent-key";
    const struct wl_object *o = NULL;
    for (int attempt = 0; attempt < 16; attempt++) {
        o = &w->objects[w->entries[probe_below(rng, w->n_entries)].obj];
        if (o->count >= w->n_keys)
            continue;
        size_t k = probe_below(rng, w->n_keys);
        for (size_t j = 0; j < w->n_keys; j++) {
            uint32_t id = (uint32_t)((k + j) % w->n_keys);
            if (!object_has_key(w, o, id))
                return (struct wl_ref){ o->ns, o->name, w->keys[id], o->ns_len, o->name_len,
                                        w->key_lens[id] };
        }
    }
    return (struct wl_ref){ o->ns, o->name, absent, o->ns_len, o->name_len, sizeof(absent) - 1 };
}

int wl_probes_make(const struct wl_workload *w, size_t n_lookups, size_t n_deletes,
                   uint64_t seed, struct wl_probes *p)
{
    memset(p, 0, sizeof(*p));
    if (n_deletes > w->n_objects)
        n_deletes = w->n_objects;
    p->hits = malloc(n_lookups * sizeof(*p->hits));
    p->misses = malloc(n_lookups * sizeof(*p->misses));
    p->deletes = malloc(w->n_objects * sizeof(*p->deletes));
    if ((n_lookups > 0 && (p->hits == NULL || p->misses == NULL)) || p->deletes == NULL) {
        wl_probes_free(p);
        return -1;
    }
    p->n_lookups = n_lookups;
    p->n_deletes = n_deletes;
    uint64_t rng = seed;
    /* Hits: whole shuffled passes over every entry, as many as needed. */
    for (size_t done = 0; done < n_lookups;) {
        size_t pass = n_lookups - done < w->n_entries ? n_lookups - done : w->n_entries;
        uint32_t *out = p->hits + done;
        /* A full pass is a random permutation of every entry (each is hit
         * exactly once); a shorter last pass samples entries uniformly. */
        if (pass == w->n_entries) {
            for (size_t i = 0; i < pass; i++)
                out[i] = (uint32_t)i;
            for (size_t i = pass - 1; i > 0; i--) {
                size_t j = probe_below(&rng, i + 1);
                uint32_t t = out[i];
                out[i] = out[j];
                out[j] = t;
            }
        } else {
            for (size_t i = 0; i < pass; i++)
                out[i] = (uint32_t)probe_below(&rng, w->n_entries);
        }
        done += pass;
    }
    for (size_t i = 0; i < n_lookups; i++) {
        p->hit_sum += (uint64_t)w->entries[p->hits[i]].value;
        p->misses[i] = miss_ref(w, &rng);
    }
    for (size_t i = 0; i < w->n_objects; i++)
        p->deletes[i] = (uint32_t)i;
    for (size_t i = 0; i < n_deletes; i++) {
        size_t j = i + probe_below(&rng, w->n_objects - i);
        uint32_t t = p->deletes[i];
        p->deletes[i] = p->deletes[j];
        p->deletes[j] = t;
    }
    return 0;
}

void wl_probes_free(struct wl_probes *p)
{
    free(p->hits);
    free(p->misses);
    free(p->deletes);
    memset(p, 0, sizeof(*p));
}
