/* `oomkit bench mph --keys FILE [--json]`: oomkit's minimal perfect hash
 * and static map against CMPH (CHD, BDZ, BMZ; Debian libcmph-dev, linked
 * into oomkit-bench only, never into liboomkit) and a plain GLib hash
 * table, on the same keys in one run.
 *
 * Method (as in the research notes the targets come from): keys are read
 * one per line; every structure is built over all of them; lookups run
 * over all n keys in one fixed random order, from a contiguous copy of the
 * keys laid out in that order, so key bytes stream and only the
 * structure's own accesses are random. Times are this thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID), which a shared machine disturbs less than wall
 * time; wall time is reported beside it. "floor" is the same loop with only
 * XXH3 of the key and a range reduction: the cost of streaming and hashing
 * a key, below which no structure can go. Every function is checked to be
 * a bijection onto 0..n-1 before it is timed. */
#include "bench/bench_probe.h"
#include "bench/bench_registry.h"
#include "core/hash.h"
#include "oomkit/mph.h"

#include <cmph.h>
#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct keys {
    char *text;            /* the file, NUL-terminated lines */
    oomkit_str *k;         /* file order */
    size_t n;
    /* The query stream: keys in random order, contiguous. */
    char *qtext;
    oomkit_str *q;
    char **qc;             /* NUL-terminated pointers for CMPH and GLib */
    double mean_len;
};

struct result {
    const char *name;
    double bits_per_key, build_s, build_wall_s, lookup_ns, lookup_wall_ns, batched_ns;
    int has_batched, ok;
};

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double wall_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int load_keys(const char *path, struct keys *K, char *err, size_t errcap)
{
    size_t size;
    int rc = oomkit__cli_read_all(path, &K->text, &size);
    if (rc != 0) {
        snprintf(err, errcap, "cannot read %s: %s", path, strerror(-rc));
        return -1;
    }
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += K->text[i] == '\n';
    K->k = malloc(lines * sizeof(*K->k));
    if (K->k == NULL) {
        snprintf(err, errcap, "out of memory reading %s", path);
        return -1;
    }
    size_t n = 0, total = 0;
    for (char *p = K->text, *end = K->text + size; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        if (le > p) {
            *le = '\0';
            K->k[n++] = (oomkit_str){ p, (size_t)(le - p) };
            total += (size_t)(le - p);
        }
        p = nl ? nl + 1 : end;
    }
    K->n = n;
    K->mean_len = n ? (double)total / (double)n : 0;
    /* The query stream. */
    size_t *perm = malloc((n ? n : 1) * sizeof(*perm));
    K->qtext = malloc(total + n + 1);
    K->q = malloc((n ? n : 1) * sizeof(*K->q));
    K->qc = malloc((n ? n : 1) * sizeof(*K->qc));
    if (perm == NULL || K->qtext == NULL || K->q == NULL || K->qc == NULL) {
        free(perm);
        snprintf(err, errcap, "out of memory for the queries of %s", path);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    uint64_t st = 12345;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(rng_next(&st) % i);
        size_t t = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = t;
    }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        oomkit_str s = K->k[perm[i]];
        memcpy(K->qtext + at, s.ptr, s.len);
        K->qtext[at + s.len] = '\0';
        K->q[i] = (oomkit_str){ K->qtext + at, s.len };
        K->qc[i] = K->qtext + at;
        at += s.len + 1;
    }
    free(perm);
    return 0;
}

/* The 1-based line of key i: keys are in file order, the '\n' of every
 * line with a key became that key's NUL, and the '\n's left are those of
 * the empty lines before it. */
static size_t line_of(const struct keys *K, size_t i)
{
    size_t empty = 0;
    for (const char *p = K->text; p < K->k[i].ptr; p++)
        empty += *p == '\n';
    return i + empty + 1;
}

/* A repeated key fails every function's build (CMPH's without saying why)
 * and shrinks the GLib table, so it is found once, before anything is
 * measured: oomkit's build names the first repeat. Untimed. */
static int check_unique(const char *path, const struct keys *K)
{
    size_t dup = 0;
    oomkit_mph_options o;
    memset(&o, 0, sizeof(o));
    o.error_index = &dup;
    oomkit_mph *m = NULL;
    int rc = oomkit_mph_build(K->k, K->n, &o, &m);
    oomkit_mph_close(m);
    if (rc == -EEXIST) {
        fprintf(stderr, "oomkit bench mph: %s:%zu: duplicate key '%.*s'\n", path, line_of(K, dup),
                (int)K->k[dup].len, K->k[dup].ptr);
        return -1;
    }
    return 0; /* any other failure shows where oomkit-mph is measured */
}

static void keys_free(struct keys *K)
{
    free(K->text);
    free(K->k);
    free(K->qtext);
    free(K->q);
    free(K->qc);
}

static int check_bijection(const uint64_t *slots, size_t n)
{
    uint8_t *seen = calloc(n ? n : 1, 1);
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++) {
        if (slots[i] >= n || seen[slots[i]])
            ok = 0;
        else
            seen[slots[i]] = 1;
    }
    free(seen);
    return ok;
}

static volatile uint64_t sink;

static void bench_floor(const struct keys *K, struct result *r)
{
    r->name = "floor (XXH3 + range)";
    double c0 = cpu_s(), w0 = wall_s();
    uint64_t acc = 0;
    for (size_t i = 0; i < K->n; i++)
        acc += (uint64_t)(((unsigned __int128)oomkit__hash(K->q[i].ptr, K->q[i].len, 0) *
                           K->n) >> 64);
    sink = acc;
    r->lookup_ns = (cpu_s() - c0) * 1e9 / (double)K->n;
    r->lookup_wall_ns = (wall_s() - w0) * 1e9 / (double)K->n;
    r->ok = 1;
}

static void bench_oomkit_mph(const struct keys *K, struct result *r, uint64_t *slots)
{
    r->name = "oomkit-mph";
    oomkit_mph *m = NULL;
    double c0 = cpu_s(), w0 = wall_s();
    int rc = oomkit_mph_build(K->k, K->n, NULL, &m);
    r->build_s = cpu_s() - c0;
    r->build_wall_s = wall_s() - w0;
    if (rc != 0) {
        fprintf(stderr, "oomkit bench mph: oomkit_mph_build: %s\n", oomkit_strerror(rc));
        return;
    }
    oomkit_mph_stats st;
    oomkit_mph_stats_get(m, &st);
    r->bits_per_key = st.bits_per_key;
    for (size_t i = 0; i < K->n; i++)
        slots[i] = oomkit_mph_index(m, K->k[i]);
    r->ok = check_bijection(slots, K->n);
    c0 = cpu_s();
    w0 = wall_s();
    uint64_t acc = 0;
    for (size_t i = 0; i < K->n; i++)
        acc += oomkit_mph_index(m, K->q[i]);
    sink = acc;
    r->lookup_ns = (cpu_s() - c0) * 1e9 / (double)K->n;
    r->lookup_wall_ns = (wall_s() - w0) * 1e9 / (double)K->n;
    /* slots[] is already faulted in, so the batched run pays no page
     * faults for its output. */
    c0 = cpu_s();
    oomkit_mph_index_many(m, K->q, K->n, slots);
    r->batched_ns = (cpu_s() - c0) * 1e9 / (double)K->n;
    r->has_batched = 1;
    oomkit_mph_close(m);
}

static void bench_oomkit_map(const struct keys *K, struct result *r, uint64_t *scratch)
{
    r->name = "oomkit-static-map (16-bit fp)";
    int64_t *vals = malloc((K->n ? K->n : 1) * sizeof(*vals));
    if (vals == NULL) {
        fprintf(stderr, "oomkit bench mph: %s: out of memory\n", r->name);
        return;
    }
    for (size_t i = 0; i < K->n; i++)
        vals[i] = (int64_t)i;
    oomkit_static_map *m = NULL;
    double c0 = cpu_s(), w0 = wall_s();
    int rc = oomkit_static_map_build(K->k, vals, K->n, NULL, &m);
    r->build_s = cpu_s() - c0;
    r->build_wall_s = wall_s() - w0;
    if (rc != 0) {
        fprintf(stderr, "oomkit bench mph: oomkit_static_map_build: %s\n", oomkit_strerror(rc));
        free(vals);
        return;
    }
    const void *blob;
    size_t len;
    blob = oomkit_mph_blob(oomkit_static_map_mph(m), &len);
    (void)blob;
    r->bits_per_key = (double)len * 8.0 / (double)(K->n ? K->n : 1);
    int ok = 1;
    for (size_t i = 0; i < K->n && ok; i++) {
        int64_t v;
        ok = oomkit_static_map_get(m, K->k[i], &v) == 0 && v == (int64_t)i;
    }
    r->ok = ok;
    c0 = cpu_s();
    w0 = wall_s();
    int64_t acc = 0, v = 0;
    for (size_t i = 0; i < K->n; i++)
        if (oomkit_static_map_get(m, K->q[i], &v) == 0)
            acc += v;
    sink = (uint64_t)acc;
    r->lookup_ns = (cpu_s() - c0) * 1e9 / (double)K->n;
    r->lookup_wall_ns = (wall_s() - w0) * 1e9 / (double)K->n;
    /* malloc + memset, not calloc: calloc leaves fresh pages untouched, and
     * their first-touch faults would land inside the timed call. */
    uint8_t *found = malloc(K->n ? K->n : 1);
    if (found == NULL) {
        fprintf(stderr, "oomkit bench mph: %s: out of memory\n", r->name);
        r->ok = 0;
        free(vals);
        oomkit_static_map_close(m);
        return;
    }
    memset(found, 0, K->n ? K->n : 1);
    c0 = cpu_s();
    oomkit_static_map_get_many(m, K->q, K->n, (int64_t *)scratch, found);
    r->batched_ns = (cpu_s() - c0) * 1e9 / (double)K->n;
    r->has_batched = 1;
    free(found);
    free(vals);
    oomkit_static_map_close(m);
}

static void bench_cmph(const struct keys *K, struct result *r, const char *name,
                       CMPH_ALGO algo, double c, unsigned b, uint64_t *slots)
{
    r->name = name;
    /* CMPH reads NUL-terminated keys through its vector adapter. */
    char **vec = malloc((K->n ? K->n : 1) * sizeof(*vec));
    if (vec == NULL) {
        fprintf(stderr, "oomkit bench mph: %s: out of memory\n", name);
        return;
    }
    for (size_t i = 0; i < K->n; i++)
        vec[i] = (char *)(uintptr_t)K->k[i].ptr;
    cmph_io_adapter_t *src = cmph_io_vector_adapter(vec, (cmph_uint32)K->n);
    cmph_config_t *cfg = cmph_config_new(src);
    cmph_config_set_algo(cfg, algo);
    if (c > 0)
        cmph_config_set_graphsize(cfg, c);
    if (b > 0)
        cmph_config_set_b(cfg, b);
    double c0 = cpu_s(), w0 = wall_s();
    cmph_t *h = cmph_new(cfg);
    r->build_s = cpu_s() - c0;
    r->build_wall_s = wall_s() - w0;
    cmph_config_destroy(cfg);
    if (h == NULL) {
        fprintf(stderr, "oomkit bench mph: %s: cmph_new failed\n", name);
        cmph_io_vector_adapter_destroy(src);
        free(vec);
        return;
    }
    r->bits_per_key = (double)cmph_packed_size(h) * 8.0 / (double)(K->n ? K->n : 1);
    for (size_t i = 0; i < K->n; i++)
        slots[i] = cmph_search(h, K->k[i].ptr, (cmph_uint32)K->k[i].len);
    r->ok = cmph_size(h) == K->n && check_bijection(slots, K->n);
    c0 = cpu_s();
    w0 = wall_s();
    uint64_t acc = 0;
    for (size_t i = 0; i < K->n; i++)
        acc += cmph_search(h, K->q[i].ptr, (cmph_uint32)K->q[i].len);
    sink = acc;
    r->lookup_ns = (cpu_s() - c0) * 1e9 / (double)K->n;
    r->lookup_wall_ns = (wall_s() - w0) * 1e9 / (double)K->n;
    cmph_destroy(h);
    cmph_io_vector_adapter_destroy(src);
    free(vec);
}

static void bench_glib(const struct keys *K, struct result *r)
{
    r->name = "glib-hash (key -> slot)";
    uint64_t heap0 = oomkit__bench_heap_bytes();
    double c0 = cpu_s(), w0 = wall_s();
    GHashTable *t = g_hash_table_new(g_str_hash, g_str_equal);
    for (size_t i = 0; i < K->n; i++)
        g_hash_table_insert(t, (gpointer)(uintptr_t)K->k[i].ptr, GSIZE_TO_POINTER(i + 1));
    r->build_s = cpu_s() - c0;
    r->build_wall_s = wall_s() - w0;
    /* The table's own heap bytes as the allocator holds them; the keys are
     * borrowed, so not counted (the MPH stores no keys either). */
    r->bits_per_key = (double)(oomkit__bench_heap_bytes() - heap0) * 8.0 / (double)K->n;
    guint size = g_hash_table_size(t);
    r->ok = size == K->n;
    c0 = cpu_s();
    w0 = wall_s();
    uint64_t acc = 0;
    for (size_t i = 0; i < K->n; i++)
        acc += GPOINTER_TO_SIZE(g_hash_table_lookup(t, K->qc[i]));
    sink = acc;
    r->lookup_ns = (cpu_s() - c0) * 1e9 / (double)K->n;
    r->lookup_wall_ns = (wall_s() - w0) * 1e9 / (double)K->n;
    g_hash_table_destroy(t);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: oomkit bench mph --keys FILE [--json] [--peers LIST]\n\n"
            "Builds oomkit's minimal perfect hash and static map, CMPH's CHD, BDZ and BMZ\n"
            "and a GLib hash table over the keys of FILE (one per line), checks each\n"
            "function is a bijection, and times single and batched lookups over all keys\n"
            "in one random order (thread CPU time).\n\n"
            "  --keys FILE    keys, one per line, all distinct (empty lines skipped)\n"
            "  --json         one JSON object: {\"keys\": N, \"results\": [...]}\n"
            "  --peers LIST   comma list from floor,oomkit,map,chd,chd-compact,bdz,bmz,glib\n"
            "                 (default: all)\n\n"
            "exit status: 0 done; 2 bad command line or bad keys (unreadable, fewer than\n"
            "2, a duplicate); 3 some structure failed its build or its check.\n");
}

/* What --peers may name, in the order they run. */
static const char *const peer_names[] = {
    "floor", "oomkit", "map", "chd", "chd-compact", "bdz", "bmz", "glib",
};
#define N_PEER_NAMES (sizeof(peer_names) / sizeof(peer_names[0]))

/* 0 when every name of a --peers list is known, else -1 with a message
 * naming the choices: a typo must not measure nothing and exit 0. */
static int check_peers(const char *list)
{
    for (const char *p = list;;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p), i = 0;
        while (i < N_PEER_NAMES &&
               !(strlen(peer_names[i]) == l && strncmp(p, peer_names[i], l) == 0))
            i++;
        if (i == N_PEER_NAMES) {
            fprintf(stderr, "oomkit bench mph: --peers: unknown peer '%.*s' (choose from", (int)l,
                    p);
            for (i = 0; i < N_PEER_NAMES; i++)
                fprintf(stderr, "%s %s", i ? "," : "", peer_names[i]);
            fprintf(stderr, ")\n");
            return -1;
        }
        if (e == NULL)
            return 0;
        p = e + 1;
    }
}

static int wanted(const char *list, const char *name)
{
    if (list == NULL)
        return 1;
    size_t len = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == len && strncmp(p, name, l) == 0)
            return 1;
        p += l + (e != NULL);
    }
    return 0;
}

static void print_json_num(const char *key, double v, int last)
{
    printf("\"%s\": %.4f%s", key, v, last ? "" : ", ");
}

static int bench_mph(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "keys", required_argument, 0, 'k' },
        { "json", no_argument, 0, 'j' },
        { "peers", required_argument, 0, 'p' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    const char *path = NULL, *peers = NULL;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'k': path = optarg; break;
        case 'j': json = 1; break;
        case 'p':
            if (check_peers(optarg) != 0)
                return OOMKIT_EXIT_USAGE;
            peers = optarg;
            break;
        case 'h': usage(stdout); return OOMKIT_EXIT_OK;
        default:
            fprintf(stderr, "oomkit bench mph: bad option '%s' (see --help)\n",
                    argv[optind - 1]);
            return OOMKIT_EXIT_USAGE;
        }
    }
    if (path == NULL || optind != argc) {
        fprintf(stderr, "oomkit bench mph: want --keys FILE (see --help)\n");
        return OOMKIT_EXIT_USAGE;
    }
    struct keys K;
    memset(&K, 0, sizeof(K));
    char err[512];
    if (load_keys(path, &K, err, sizeof(err)) != 0) {
        fprintf(stderr, "oomkit bench mph: %s\n", err);
        keys_free(&K);
        return OOMKIT_EXIT_USAGE;
    }
    if (K.n < 2 || check_unique(path, &K) != 0) {
        if (K.n < 2)
            fprintf(stderr, "oomkit bench mph: %s holds fewer than 2 keys\n", path);
        keys_free(&K);
        return OOMKIT_EXIT_USAGE;
    }
    /* Touched now (not calloc's untouched pages): the timed lookups write
     * into it. */
    uint64_t *slots = malloc(K.n * sizeof(*slots));
    if (slots == NULL) {
        fprintf(stderr, "oomkit bench mph: out of memory\n");
        keys_free(&K);
        return OOMKIT_EXIT_FAIL;
    }
    memset(slots, 0, K.n * sizeof(*slots));
    struct result res[8];
    memset(res, 0, sizeof(res));
    int nr = 0;
    if (wanted(peers, "floor"))
        bench_floor(&K, &res[nr++]);
    if (wanted(peers, "oomkit"))
        bench_oomkit_mph(&K, &res[nr++], slots);
    if (wanted(peers, "map"))
        bench_oomkit_map(&K, &res[nr++], slots);
    if (wanted(peers, "chd"))
        bench_cmph(&K, &res[nr++], "cmph-chd (c=0.5, b=4)", CMPH_CHD, 0, 0, slots);
    if (wanted(peers, "chd-compact"))
        bench_cmph(&K, &res[nr++], "cmph-chd (c=0.99, b=5)", CMPH_CHD, 0.99, 5, slots);
    if (wanted(peers, "bdz"))
        bench_cmph(&K, &res[nr++], "cmph-bdz", CMPH_BDZ, 0, 0, slots);
    if (wanted(peers, "bmz"))
        bench_cmph(&K, &res[nr++], "cmph-bmz", CMPH_BMZ, 0, 0, slots);
    if (wanted(peers, "glib"))
        bench_glib(&K, &res[nr++]);

    int all_ok = 1;
    if (json) {
        printf("{\"keys\": %zu, \"mean_key_bytes\": %.1f, \"clock\": \"thread cpu\", "
               "\"results\": [",
               K.n, K.mean_len);
        for (int i = 0; i < nr; i++) {
            printf("%s{\"name\": \"%s\", \"ok\": %s, ", i ? ", " : "", res[i].name,
                   res[i].ok ? "true" : "false");
            print_json_num("bits_per_key", res[i].bits_per_key, 0);
            print_json_num("build_s", res[i].build_s, 0);
            print_json_num("build_wall_s", res[i].build_wall_s, 0);
            print_json_num("lookup_ns", res[i].lookup_ns, 0);
            print_json_num("lookup_wall_ns", res[i].lookup_wall_ns, 0);
            if (res[i].has_batched)
                print_json_num("batched_ns", res[i].batched_ns, 1);
            else
                printf("\"batched_ns\": null");
            printf("}");
        }
        printf("]}\n");
    } else {
        printf("%zu keys, mean %.1f bytes; thread CPU time (wall in brackets)\n", K.n,
               K.mean_len);
        printf("%-32s %4s %9s %12s %18s %11s\n", "structure", "ok", "bits/key", "build s",
               "lookup ns", "batched ns");
        for (int i = 0; i < nr; i++) {
            char b[32] = "-";
            if (res[i].has_batched)
                snprintf(b, sizeof(b), "%.1f", res[i].batched_ns);
            printf("%-32s %4s %9.3f %5.2f [%5.2f] %8.1f [%7.1f] %11s\n", res[i].name,
                   res[i].ok ? "yes" : "NO", res[i].bits_per_key, res[i].build_s,
                   res[i].build_wall_s, res[i].lookup_ns, res[i].lookup_wall_ns, b);
        }
    }
    for (int i = 0; i < nr; i++)
        all_ok &= res[i].ok;
    free(slots);
    keys_free(&K);
    return all_ok ? OOMKIT_EXIT_OK : OOMKIT_EXIT_FAIL;
}

OOMKIT_BENCH(mph, "minimal perfect hashing: oomkit vs CMPH CHD/BDZ/BMZ and a GLib table",
             bench_mph)
