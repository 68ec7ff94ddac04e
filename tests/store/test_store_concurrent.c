/* Concurrency stress of the store: writer threads churn objects (new
 * fields, updates, deletes, whole-object deletes, compaction, clear) while
 * reader threads check invariants a torn or freed read would break:
 * - every value carries a tag derived from its (object, key) in its low
 *   24 bits, so a value read from a torn block or a block reused for another
 *   object fails the check;
 * - an object never shows a key twice nor more fields than exist;
 * - each_object never reports an object twice and always reports the
 *   permanent objects (present throughout);
 * - stale handles give -ENOENT, never garbage.
 * One case picks among 2,400 objects, so the namespace's list spans
 * several chunks.
 * Each case runs 2.5 s normally, 1.5 s under TSan (it is the TSan target)
 * and 1.2 s under ASan. */
#include "oomkit/store.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

/* Objects the writers pick from: 160, or NOBJ_MAX for the case whose
 * namespace list spans several chunks (nslist.h: 512 slots each). */
#define NOBJ_MAX 2400
static int n_objects = 160; /* set by run() before any thread starts */
#define NPERM 8 /* objects p0..p7: created first, never deleted (no clear) */
#define NKEYS 20

#if defined(OOMKIT_TSAN)
#define RUN_MS 1500
#elif defined(OOMKIT_ASAN)
#define RUN_MS 1200
#else
#define RUN_MS 2500
#endif

static oomkit_store *S;
static atomic_int stop;
static atomic_int failures;
static char fail_msg_buf[256];
static int allow_clear;

static void bad(const char *what, long a, long b)
{
    if (atomic_fetch_add(&failures, 1) == 0)
        snprintf(fail_msg_buf, sizeof(fail_msg_buf), "%s (%ld, %ld)", what, a, b);
}

static uint32_t tag(int obj, int key)
{
    uint64_t x = (uint64_t)(obj * 131 + key + 1) * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(x >> 40) & 0xffffff;
}

static int64_t make_value(int obj, int key, uint64_t gen)
{
    return (int64_t)((gen << 24) | tag(obj, key));
}

static oomkit_str obj_name(char *buf, int i)
{
    int n = i < NPERM ? sprintf(buf, "p%d", i) : sprintf(buf, "o%d", i);
    return (oomkit_str){ buf, (size_t)n };
}

static int parse_obj(oomkit_str name)
{
    if (name.len < 2 || name.len > 6 || (name.ptr[0] != 'o' && name.ptr[0] != 'p'))
        return -1;
    int v = 0;
    for (size_t i = 1; i < name.len; i++) {
        if (name.ptr[i] < '0' || name.ptr[i] > '9')
            return -1;
        v = v * 10 + (name.ptr[i] - '0');
    }
    return v < n_objects ? v : -1;
}

static oomkit_str key_name(char *buf, int k)
{
    return (oomkit_str){ buf, (size_t)sprintf(buf, "k%d", k) };
}

static int parse_key(oomkit_str key)
{
    if (key.len < 2 || key.ptr[0] != 'k')
        return -1;
    int v = 0;
    for (size_t i = 1; i < key.len; i++)
        v = v * 10 + (key.ptr[i] - '0');
    return v < NKEYS ? v : -1;
}

static const oomkit_str NS = { "conc", 4 };

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t xs(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *writer(void *arg)
{
    uint64_t r = (uint64_t)(uintptr_t)arg * 7919 + 1, gen = 1;
    char nb[16], kb[16];
    while (!atomic_load(&stop)) {
        int op = (int)(xs(&r) % 1000);
        int o = (int)(xs(&r) % n_objects), k = (int)(xs(&r) % NKEYS);
        oomkit_str name = obj_name(nb, o), key = key_name(kb, k);
        int rc = 0;
        if (op < 100) {
            char kbs[4][16];
            oomkit_store_field f[4];
            size_t n = 1 + xs(&r) % 4;
            for (size_t j = 0; j < n; j++) {
                int kj = j == 0 ? k : (int)(xs(&r) % NKEYS);
                f[j].key = key_name(kbs[j], kj);
                f[j].value = make_value(o, kj, gen++);
            }
            rc = oomkit_store_put_fields(S, NS, name, f, n);
        } else if (op < 600) {
            rc = oomkit_store_put(S, NS, name, key, make_value(o, k, gen++));
        } else if (op < 800) {
            if (o < NPERM && k == 0)
                continue; /* keeps k0 so the permanent object never empties */
            rc = oomkit_store_del(S, NS, name, key);
            if (rc == -ENOENT)
                rc = 0;
        } else if (op < 900) {
            if (o < NPERM)
                continue;
            rc = oomkit_store_del_object(S, NS, name);
            if (rc == -ENOENT)
                rc = 0;
        } else if (op < 990) {
            oomkit_store_obj h;
            uint32_t kid;
            rc = oomkit_store_object(S, NS, name, 1, &h);
            if (rc == 0)
                rc = oomkit_store_key(S, key, 1, &kid);
            if (rc == 0) {
                rc = oomkit_store_obj_put(S, h, kid, make_value(o, k, gen++));
                if (rc == -ENOENT) /* another writer deleted it meanwhile */
                    rc = 0;
            }
        } else if (op < 997) {
            rc = oomkit_store_compact(S);
        } else if (allow_clear) {
            rc = oomkit_store_clear(S);
        }
        if (rc != 0)
            bad("writer call failed", op, rc);
    }
    return NULL;
}

typedef struct fctx {
    int obj;
    uint32_t seen;
    int n;
} fctx;

static int field_cb(void *ctx, oomkit_str key, uint32_t key_id, int64_t value)
{
    fctx *f = ctx;
    (void)key_id;
    int k = parse_key(key);
    if (k < 0) {
        bad("garbage key", (long)key.len, 0);
        return 1;
    }
    if (f->seen & (1u << k))
        bad("key seen twice", f->obj, k);
    f->seen |= 1u << k;
    if (((uint64_t)value & 0xffffff) != tag(f->obj, k))
        bad("value tag mismatch", f->obj, k);
    if (++f->n > NKEYS)
        bad("too many fields", f->obj, f->n);
    return 0;
}

typedef struct octx {
    unsigned char seen[NOBJ_MAX];
    oomkit_store_obj h[NOBJ_MAX];
} octx;

static int object_cb(void *ctx, oomkit_str name, oomkit_store_obj h)
{
    octx *c = ctx;
    int o = parse_obj(name);
    if (o < 0) {
        bad("garbage name", (long)name.len, 0);
        return 1;
    }
    if (c->seen[o])
        bad("object seen twice", o, 0);
    c->seen[o] = 1;
    c->h[o] = h;
    fctx f = { o, 0, 0 };
    int r = oomkit_store_obj_each_field(S, h, field_cb, &f);
    if (r != 0 && r != -ENOENT)
        bad("obj_each_field", o, r);
    return 0;
}

static int ns_cb(void *ctx, oomkit_str ns, uint64_t n)
{
    (void)ctx;
    if (ns.len != NS.len || memcmp(ns.ptr, NS.ptr, ns.len) != 0)
        bad("unknown namespace", (long)ns.len, 0);
    if (n > (uint64_t)n_objects)
        bad("namespace count", (long)n, 0);
    return 0;
}

static void *reader(void *arg)
{
    uint64_t r = (uint64_t)(uintptr_t)arg * 104729 + 3;
    char nb[16], kb[16];
    static _Thread_local octx oc;
    long iters = 0;
    while (!atomic_load(&stop)) {
        int op = (int)(xs(&r) % 100);
        int o = (int)(xs(&r) % n_objects), k = (int)(xs(&r) % NKEYS);
        oomkit_str name = obj_name(nb, o), key = key_name(kb, k);
        if (op < 60) {
            int64_t v;
            int rc = oomkit_store_get(S, NS, name, key, &v);
            if (rc == 0 && ((uint64_t)v & 0xffffff) != tag(o, k))
                bad("get tag mismatch", o, k);
            else if (rc != 0 && rc != -ENOENT)
                bad("get failed", o, rc);
            if (!allow_clear && o < NPERM && k == 0 && rc != 0)
                bad("permanent field missing", o, rc);
        } else if (op < 85) {
            fctx f = { o, 0, 0 };
            int rc = oomkit_store_each_field(S, NS, name, field_cb, &f);
            if (rc != 0 && rc != -ENOENT)
                bad("each_field failed", o, rc);
        } else if (op < 95) {
            memset(&oc, 0, sizeof(oc));
            int rc = oomkit_store_each_object(S, NS, object_cb, &oc);
            if (rc != 0 && rc != -ENOENT)
                bad("each_object failed", rc, 0);
            if (!allow_clear)
                for (int p = 0; p < NPERM; p++)
                    if (!oc.seen[p])
                        bad("permanent object not listed", p, rc);
            /* Handles taken a moment ago: live or -ENOENT, never garbage. */
            for (int i = 0; i < n_objects; i++) {
                if (!oc.seen[i])
                    continue;
                uint32_t kid;
                int64_t v;
                if (oomkit_store_key(S, key, 0, &kid) == 0 &&
                    oomkit_store_obj_get(S, oc.h[i], kid, &v) == 0 &&
                    ((uint64_t)v & 0xffffff) != tag(i, k))
                    bad("handle read tag mismatch", i, k);
            }
        } else {
            oomkit_store_each_namespace(S, ns_cb, NULL);
            uint64_t no, nf;
            oomkit_store_count(S, &no, &nf);
            oomkit_store_stats st;
            oomkit_store_stats_get(S, &st);
            if (no > (uint64_t)n_objects)
                bad("count objects", (long)no, 0);
        }
        iters++;
    }
    return (void *)iters;
}

static void run(int writers, int readers, int clear, int nobj)
{
    n_objects = nobj;
    assert_int_equal(oomkit_store_open(NULL, &S), 0);
    allow_clear = clear;
    atomic_store(&stop, 0);
    atomic_store(&failures, 0);
    char nb[16];
    for (int p = 0; p < NPERM; p++)
        assert_int_equal(oomkit_store_put(S, NS, obj_name(nb, p), OOMKIT_STR("k0"),
                                          make_value(p, 0, 0)),
                         0);
    /* A big namespace starts full, so its list spans several chunks from
     * the first read on. */
    for (int o = NPERM; nobj > 512 && o < nobj; o++)
        assert_int_equal(oomkit_store_put(S, NS, obj_name(nb, o), OOMKIT_STR("k1"),
                                          make_value(o, 1, 0)),
                         0);
    pthread_t w[4], rd[4];
    for (int i = 0; i < writers; i++)
        pthread_create(&w[i], NULL, writer, (void *)(uintptr_t)(i + 1));
    for (int i = 0; i < readers; i++)
        pthread_create(&rd[i], NULL, reader, (void *)(uintptr_t)(i + 1));
    uint64_t t0 = now_ms();
    while (now_ms() - t0 < RUN_MS && atomic_load(&failures) == 0) {
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    atomic_store(&stop, 1);
    long reads = 0;
    for (int i = 0; i < writers; i++)
        pthread_join(w[i], NULL);
    for (int i = 0; i < readers; i++) {
        void *it;
        pthread_join(rd[i], &it);
        reads += (long)it;
    }
    oomkit_store_stats st;
    oomkit_store_stats_get(S, &st);
    print_message("%d writer(s), %d readers%s, %d objects: %ld reader iterations, %llu resizes, "
                  "%llu objects at the end\n",
                  writers, readers, clear ? ", with clear" : "", nobj, reads,
                  (unsigned long long)st.resizes, (unsigned long long)st.objects);
    /* The many-objects case must have spanned several list chunks. */
    if (nobj > 512 && st.objects <= 512)
        fail_msg("only %llu objects: the list never left its first chunk",
                 (unsigned long long)st.objects);
    oomkit_store_close(S);
    S = NULL;
    if (atomic_load(&failures) != 0)
        fail_msg("%s", fail_msg_buf);
    assert_true(reads > 0);
}

static void test_one_writer_three_readers(void **st)
{
    (void)st;
    run(1, 3, 0, 160);
}

static void test_three_writers_three_readers(void **st)
{
    (void)st;
    run(3, 3, 0, 160);
}

static void test_with_clear(void **st)
{
    (void)st;
    run(2, 3, 1, 160);
}

/* Lists of several chunks: growth by a chunk and by a new directory,
 * packed copies on compact, all under readers' iteration. */
static void test_many_objects(void **st)
{
    (void)st;
    run(2, 3, 0, NOBJ_MAX);
}

/* put_fields is one write: a writer rewrites every field of an object
 * with one generation (or deletes the object), and readers must never see
 * an object with fields of two generations, or with some fields only. */
#define ATOMIC_OBJECTS 64

static void *atomic_writer(void *arg)
{
    (void)arg;
    uint64_t r = 12345, gen = 1;
    char nb[16], kbs[NKEYS][16];
    oomkit_store_field f[NKEYS];
    while (!atomic_load(&stop)) {
        int o = (int)(xs(&r) % ATOMIC_OBJECTS);
        oomkit_str name = obj_name(nb, o);
        int rc;
        if (xs(&r) % 16 == 0) {
            rc = oomkit_store_del_object(S, NS, name);
            rc = rc == -ENOENT ? 0 : rc;
        } else {
            /* The keys in a different order each time. */
            int first = (int)(xs(&r) % NKEYS);
            for (int j = 0; j < NKEYS; j++) {
                int k = (first + j) % NKEYS;
                f[j].key = key_name(kbs[j], k);
                f[j].value = make_value(o, k, gen);
            }
            gen++;
            rc = oomkit_store_put_fields(S, NS, name, f, NKEYS);
        }
        if (rc != 0)
            bad("atomic writer call failed", o, rc);
    }
    return NULL;
}

typedef struct gctx {
    int obj, n;
    uint64_t gen;
} gctx;

static int same_gen_cb(void *ctx, oomkit_str key, uint32_t key_id, int64_t value)
{
    gctx *g = ctx;
    (void)key_id;
    int k = parse_key(key);
    if (k < 0 || ((uint64_t)value & 0xffffff) != tag(g->obj, k))
        bad("atomic: value tag mismatch", g->obj, k);
    uint64_t gen = (uint64_t)value >> 24;
    if (g->n++ == 0)
        g->gen = gen;
    else if (gen != g->gen)
        bad("atomic: fields of two writes", (long)g->gen, (long)gen);
    return 0;
}

static void *atomic_reader(void *arg)
{
    uint64_t r = (uint64_t)(uintptr_t)arg * 104729 + 3;
    char nb[16];
    long iters = 0;
    while (!atomic_load(&stop)) {
        int o = (int)(xs(&r) % ATOMIC_OBJECTS);
        gctx g = { o, 0, 0 };
        int rc = oomkit_store_each_field(S, NS, obj_name(nb, o), same_gen_cb, &g);
        if (rc == 0 && g.n != NKEYS)
            bad("atomic: some fields only", o, g.n);
        else if (rc != 0 && rc != -ENOENT)
            bad("atomic: each_field failed", o, rc);
        iters++;
    }
    return (void *)iters;
}

static void test_put_fields_atomic(void **st)
{
    (void)st;
    n_objects = ATOMIC_OBJECTS;
    assert_int_equal(oomkit_store_open(NULL, &S), 0);
    atomic_store(&stop, 0);
    atomic_store(&failures, 0);
    pthread_t w, rd[2];
    pthread_create(&w, NULL, atomic_writer, NULL);
    for (int i = 0; i < 2; i++)
        pthread_create(&rd[i], NULL, atomic_reader, (void *)(uintptr_t)(i + 1));
    uint64_t t0 = now_ms();
    while (now_ms() - t0 < RUN_MS && atomic_load(&failures) == 0) {
        struct timespec ts = { 0, 20 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }
    atomic_store(&stop, 1);
    pthread_join(w, NULL);
    long reads = 0;
    for (int i = 0; i < 2; i++) {
        void *it;
        pthread_join(rd[i], &it);
        reads += (long)it;
    }
    oomkit_store_stats sts;
    oomkit_store_stats_get(S, &sts);
    print_message("put_fields of %d fields against 2 readers: %ld object reads, %llu objects "
                  "at the end\n",
                  NKEYS, reads, (unsigned long long)sts.objects);
    oomkit_store_close(S);
    S = NULL;
    if (atomic_load(&failures) != 0)
        fail_msg("%s", fail_msg_buf);
    assert_true(reads > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_writer_three_readers),
        cmocka_unit_test(test_three_writers_three_readers),
        cmocka_unit_test(test_with_clear),
        cmocka_unit_test(test_many_objects),
        cmocka_unit_test(test_put_fields_atomic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
