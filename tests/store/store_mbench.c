/* A tiny internal micro-benchmark of the store alone: loads a workload TSV
 * (docs/architecture.md, "Workload format") and prints bytes per entry (mallinfo2 delta and the
 * store's own stats), allocations per entry, build ns per entry, random hit
 * lookup ns, and allocations of a clear + refill cycle. It exists to check
 * the store's targets while developing; the comparison with peers is
 * `oomkit bench store`. Not a test: no assertions, never run by ctest.
 * Usage: store_mbench FILE.tsv */
#include "oomkit/store.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct ent {
    oomkit_str ns, name, key;
    int64_t value;
} ent;

/* Thread CPU time: on a shared machine, time spent descheduled is not the
 * store's. */
static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static uint64_t nallocs;
static void *cnt_malloc(size_t n, void *c) { (void)c; nallocs++; return malloc(n); }
static void *cnt_realloc(void *p, size_t n, void *c) { (void)c; nallocs++; return realloc(p, n); }
static void cnt_free(void *p, void *c) { (void)c; free(p); }

static int count_visit(void *ctx, oomkit_str ns, oomkit_str name, oomkit_store_obj obj)
{
    (void)ns, (void)name, (void)obj;
    (*(uint64_t *)ctx)++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: store_mbench FILE.tsv\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (f == NULL) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)sz + 1);
    if (fread(buf, 1, (size_t)sz, f) != (size_t)sz)
        return 1;
    fclose(f);
    size_t cap = 1 << 20, n = 0;
    ent *e = malloc(cap * sizeof(*e));
    for (char *p = buf; p < buf + sz;) {
        char *nl = memchr(p, '\n', (size_t)(buf + sz - p));
        if (nl == NULL)
            nl = buf + sz;
        char *t1 = memchr(p, '\t', (size_t)(nl - p));
        char *t2 = memchr(t1 + 1, '\t', (size_t)(nl - t1 - 1));
        char *t3 = memchr(t2 + 1, '\t', (size_t)(nl - t2 - 1));
        if (n == cap)
            e = realloc(e, (cap *= 2) * sizeof(*e));
        e[n].ns = (oomkit_str){ p, (size_t)(t1 - p) };
        e[n].name = (oomkit_str){ t1 + 1, (size_t)(t2 - t1 - 1) };
        e[n].key = (oomkit_str){ t2 + 1, (size_t)(t3 - t2 - 1) };
        e[n].value = strtoll(t3 + 1, NULL, 10);
        n++;
        p = nl + 1;
    }
    oomkit_allocator a = { cnt_malloc, cnt_realloc, cnt_free, NULL };
    oomkit_set_allocator(&a);
    size_t before = heap_bytes();
    uint64_t a0 = nallocs, t0 = now_ns();
    oomkit_store *s;
    if (oomkit_store_open(NULL, &s) != 0)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (oomkit_store_put(s, e[i].ns, e[i].name, e[i].key, e[i].value) != 0)
            return 1;
    uint64_t t1 = now_ns();
    size_t after = heap_bytes();
    oomkit_store_stats st;
    oomkit_store_stats_get(s, &st);
    printf("entries %zu objects %llu fields %llu namespaces %llu keys %llu\n", n,
           (unsigned long long)st.objects, (unsigned long long)st.fields,
           (unsigned long long)st.namespaces, (unsigned long long)st.keys);
    printf("bytes/entry mallinfo2 %.2f stats %.2f (atoms %llu names %llu fields %llu tables %llu "
           "retired %llu)\n",
           (double)(after - before) / (double)n, (double)st.bytes_total / (double)n,
           (unsigned long long)st.bytes_atoms, (unsigned long long)st.bytes_names,
           (unsigned long long)st.bytes_fields, (unsigned long long)st.bytes_tables,
           (unsigned long long)st.bytes_retired);
    printf("allocs/entry %.4f build ns/entry %.1f load %.3f resizes %llu\n",
           (double)(nallocs - a0) / (double)n, (double)(t1 - t0) / (double)n,
           st.object_table_load, (unsigned long long)st.resizes);
    /* Random hit lookups. */
    size_t q = 2000000;
    size_t *idx = malloc(q * sizeof(*idx));
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < q; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        idx[i] = (size_t)(x % n);
    }
    int64_t sum = 0, v;
    t0 = now_ns();
    for (size_t i = 0; i < q; i++) {
        const ent *r = &e[idx[i]];
        if (oomkit_store_get(s, r->ns, r->name, r->key, &v) != 0)
            return 1;
        sum += v;
    }
    t1 = now_ns();
    printf("hit ns/op %.1f (checksum %lld)\n", (double)(t1 - t0) / (double)q, (long long)sum);
    /* The same lookups in batches of 64 through get_many. */
    {
        enum { BATCH = 64 };
        oomkit_store_lookup lq[BATCH];
        t0 = now_ns();
        for (size_t i = 0; i < q; i += BATCH) {
            size_t m = q - i < BATCH ? q - i : BATCH, found = 0;
            for (size_t j = 0; j < m; j++) {
                const ent *r = &e[idx[i + j]];
                lq[j].ns = r->ns;
                lq[j].name = r->name;
                lq[j].key = r->key;
            }
            if (oomkit_store_get_many(s, lq, m, &found) != 0 || found != m)
                return 1;
            for (size_t j = 0; j < m; j++)
                sum += lq[j].value;
        }
        t1 = now_ns();
        printf("hit ns/op get_many (batches of %d) %.1f (checksum %lld)\n", BATCH,
               (double)(t1 - t0) / (double)q, (long long)sum);
    }
    /* The fast path: handles and key ids resolved beforehand. */
    oomkit_store_obj *hs = malloc(q * sizeof(*hs));
    uint32_t *ks = malloc(q * sizeof(*ks));
    for (size_t i = 0; i < q; i++) {
        const ent *r = &e[idx[i]];
        if (oomkit_store_object(s, r->ns, r->name, 0, &hs[i]) != 0 ||
            oomkit_store_key(s, r->key, 0, &ks[i]) != 0)
            return 1;
    }
    t0 = now_ns();
    for (size_t i = 0; i < q; i++) {
        if (oomkit_store_obj_get(s, hs[i], ks[i], &v) != 0)
            return 1;
        sum += v;
    }
    t1 = now_ns();
    printf("hit ns/op by handle %.1f\n", (double)(t1 - t0) / (double)q);
    free(hs);
    free(ks);
    t0 = now_ns();
    for (size_t i = 0; i < q; i++) {
        const ent *r = &e[idx[i]];
        oomkit_str miss = { r->name.ptr, r->name.len - 1 };
        if (oomkit_store_get(s, r->ns, miss, r->key, &v) != -ENOENT)
            return 1;
    }
    t1 = now_ns();
    printf("miss ns/op %.1f\n", (double)(t1 - t0) / (double)q);
    for (int cycle = 0; cycle < 5; cycle++) {
        a0 = nallocs;
        t0 = now_ns();
        oomkit_store_clear(s);
        for (size_t i = 0; i < n; i++)
            oomkit_store_put(s, e[i].ns, e[i].name, e[i].key, e[i].value);
        t1 = now_ns();
        printf("reconcile cycle %d: allocs %llu ms %.1f\n", cycle,
               (unsigned long long)(nallocs - a0), (double)(t1 - t0) / 1e6);
    }
    /* Secondary index: every object gets a "node" field holding one of
     * 1000 node atoms, then the index is built over the populated store. */
    {
        char nb[32];
        uint32_t node_key, atoms[1000];
        for (int i = 0; i < 1000; i++) {
            int l = snprintf(nb, sizeof(nb), "node-%04d", i);
            if (oomkit_store_atom(s, (oomkit_str){ nb, (size_t)l }, 1, &atoms[i]) != 0)
                return 1;
        }
        if (oomkit_store_key(s, (oomkit_str){ "node", 4 }, 1, &node_key) != 0)
            return 1;
        for (size_t i = 0; i < n; i++) {
            oomkit_store_obj h;
            if (oomkit_store_object(s, e[i].ns, e[i].name, 0, &h) != 0 ||
                oomkit_store_obj_put(s, h, node_key, atoms[(i * 7919) % 1000]) != 0)
                return 1;
        }
        uint32_t ix;
        t0 = now_ns();
        if (oomkit_store_index_add(s, (oomkit_str){ "node", 4 }, &ix) != 0)
            return 1;
        t1 = now_ns();
        oomkit_store_stats_get(s, &st);
        printf("index node: %llu objects %llu values %.2f bytes/indexed object, build ms %.1f\n",
               (unsigned long long)st.indexed_objects, (unsigned long long)st.index_values,
               (double)st.bytes_indexes / (double)st.indexed_objects, (double)(t1 - t0) / 1e6);
        uint64_t visits = 0;
        a0 = nallocs;
        t0 = now_ns();
        for (int rep = 0; rep < 10; rep++)
            for (int i = 0; i < 1000; i++)
                if (oomkit_store_index_each(s, ix, atoms[i], count_visit, &visits) != 0)
                    return 1;
        t1 = now_ns();
        printf("index reads 10000: visits %llu allocs %llu ns/visit %.1f\n",
               (unsigned long long)visits, (unsigned long long)(nallocs - a0),
               (double)(t1 - t0) / (double)(visits ? visits : 1));
        /* Move a tenth of the objects to another node: the index follows. */
        t0 = now_ns();
        for (size_t i = 0; i < n; i += 10) {
            oomkit_store_obj h;
            if (oomkit_store_object(s, e[i].ns, e[i].name, 0, &h) != 0 ||
                oomkit_store_obj_put(s, h, node_key, atoms[(i * 31) % 1000]) != 0)
                return 1;
        }
        t1 = now_ns();
        oomkit_store_stats_get(s, &st);
        printf("after moves: %.2f bytes/indexed object, move ns/op %.1f\n",
               (double)st.bytes_indexes / (double)st.indexed_objects,
               (double)(t1 - t0) / (double)((n + 9) / 10));
        /* Then two rounds of random moves over every entry's object: the
         * figure must stay where it was, not creep up with churn. */
        uint64_t rs = 88172645463325252ull, moves = 0;
        t0 = now_ns();
        for (int round = 0; round < 2; round++) {
            for (size_t i = 0; i < n; i++) {
                rs ^= rs << 13, rs ^= rs >> 7, rs ^= rs << 17;
                oomkit_store_obj h;
                if (oomkit_store_object(s, e[i].ns, e[i].name, 0, &h) != 0 ||
                    oomkit_store_obj_put(s, h, node_key, atoms[rs % 1000]) != 0)
                    return 1;
                moves++;
            }
        }
        t1 = now_ns();
        oomkit_store_stats_get(s, &st);
        printf("after churn (%llu random moves): %.2f bytes/indexed object, move ns/op %.1f\n",
               (unsigned long long)moves, (double)st.bytes_indexes / (double)st.indexed_objects,
               (double)(t1 - t0) / (double)moves);
        oomkit_store_compact(s);
        oomkit_store_stats_get(s, &st);
        printf("after compact: %.2f bytes/indexed object\n",
               (double)st.bytes_indexes / (double)st.indexed_objects);
    }
    oomkit_store_close(s);
    printf("after close heap delta %lld\n", (long long)heap_bytes() - (long long)before);
    return 0;
}
