/* The store benchmark's input, loaded into memory once: a TSV workload
 * (docs/architecture.md, "Workload format") parsed in place, with its objects, interned keys and
 * the probes every structure is measured with.
 *
 * Strings point into the file buffer, whose tabs and newlines are replaced
 * by NULs, so each string is also a C string for the GLib and uthash peers.
 * A line repeating an earlier (namespace, name, key) updates that entry: the
 * workload holds distinct entries only, in file order. */
#ifndef OOMKIT_BENCH_STORE_WORKLOAD_H
#define OOMKIT_BENCH_STORE_WORKLOAD_H

#include <stddef.h>
#include <stdint.h>

struct wl_object {
    const char *ns;
    const char *name;
    uint32_t ns_len;
    uint32_t name_len;
    uint32_t ns_id;
    uint32_t first; /* its entries: by_object[first .. first + count) */
    uint32_t count;
};

/* key points into the entry's own line, right after its namespace and name
 * (ns NUL name NUL key), so a lookup reads its three strings from one
 * record and one line, as the Go peers' records do. */
struct wl_entry {
    const char *key;
    uint32_t key_len;
    uint32_t obj;
    uint32_t key_id;
    uint32_t ns_len;
    uint32_t name_len;
    int64_t value;
};

/* One lookup: three borrowed, NUL-terminated strings with their lengths. */
struct wl_ref {
    const char *ns, *name, *key;
    size_t ns_len, name_len, key_len;
};

struct wl_workload {
    char *buf; /* owns every string below */
    struct wl_entry *entries;
    size_t n_entries;
    struct wl_object *objects;
    size_t n_objects;
    uint32_t *by_object; /* entry indices grouped by object */
    const char **keys;   /* distinct keys by id */
    uint32_t *key_lens;
    size_t n_keys;
    size_t n_namespaces;
    uint32_t biggest_ns_obj;      /* an object of the namespace with most objects */
    uint64_t biggest_ns_objects;  /* how many objects that namespace holds */
};

/* Parses buf[0..len) (ownership of buf, a malloc'ed block, passes to the
 * workload, even on failure). Returns 0, or -1 with a one-line message in
 * err naming the 1-based line. `what` names the input in messages. */
int wl_parse(struct wl_workload *w, char *buf, size_t len, const char *what, char *err,
             size_t err_cap);

/* Reads and parses a file ("-" for standard input). Same results. */
int wl_load_file(struct wl_workload *w, const char *path, char *err, size_t err_cap);

void wl_free(struct wl_workload *w);

/* The lookup for entry i. */
static inline struct wl_ref wl_entry_ref(const struct wl_workload *w, size_t i)
{
    const struct wl_entry *e = &w->entries[i];
    const char *name = e->key - e->name_len - 1;
    struct wl_ref r = { name - e->ns_len - 1, name, e->key, e->ns_len, e->name_len, e->key_len };
    return r;
}

/* The probe lists, made before any timing so measuring allocates nothing. */
struct wl_probes {
    uint32_t *hits;        /* entry indices, shuffled, n_lookups of them */
    struct wl_ref *misses; /* existing (ns, name), a key it lacks */
    size_t n_lookups;
    uint64_t hit_sum;      /* the sum of the hit values, to check answers */
    uint32_t *deletes;     /* distinct object indices to delete */
    size_t n_deletes;
};

/* Builds the probes with a fixed seed. -1 on allocation failure. */
int wl_probes_make(const struct wl_workload *w, size_t n_lookups, size_t n_deletes,
                   uint64_t seed, struct wl_probes *p);
void wl_probes_free(struct wl_probes *p);

#endif
