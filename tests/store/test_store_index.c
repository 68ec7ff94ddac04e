/* Tests of the store's secondary indexes and value atoms: the API and its
 * edges, reads that allocate nothing, and a differential test of more than
 * a million random writes (put, obj_put, del, del_object, clear, compact)
 * against an array model, with every index checked after each batch, once
 * without a budget and once under a budget tight enough that writes fail
 * with -E2BIG (which must leave content and indexes unchanged). */
#include "oomkit/store.h"
#include "store_gen.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#define NNS 4
#define NNAMES 512
#define NOBJ (NNS * NNAMES)
#define NKEYS 6
#define NVALS 16

typedef struct model {
    unsigned char present[NOBJ][NKEYS];
    int64_t val[NOBJ][NKEYS];
} model;

static char ns_s[NNS][8], name_s[NNAMES][8], key_s[NKEYS][8];

static void names_init(void)
{
    for (int i = 0; i < NNS; i++)
        snprintf(ns_s[i], sizeof(ns_s[i]), "n%d", i);
    for (int i = 0; i < NNAMES; i++)
        snprintf(name_s[i], sizeof(name_s[i]), "o%d", i);
    for (int i = 0; i < NKEYS; i++)
        snprintf(key_s[i], sizeof(key_s[i]), "k%d", i);
}
static oomkit_str S(const char *p)
{
    return (oomkit_str){ p, strlen(p) };
}
static int obj_index(oomkit_str ns, oomkit_str name)
{
    char a[16] = { 0 }, b[16] = { 0 };
    memcpy(a, ns.ptr, ns.len < 15 ? ns.len : 15);
    memcpy(b, name.ptr, name.len < 15 ? name.len : 15);
    return atoi(a + 1) * NNAMES + atoi(b + 1);
}
static int obj_live(const model *m, int o)
{
    for (int k = 0; k < NKEYS; k++)
        if (m->present[o][k])
            return 1;
    return 0;
}

typedef struct visit {
    const model *m;
    int key;
    int64_t value;
    unsigned char seen[NOBJ];
    uint64_t n;
} visit;

static int visit_cb(void *ctx, oomkit_str ns, oomkit_str name, oomkit_store_obj obj)
{
    visit *v = ctx;
    assert_true(obj != 0);
    int o = obj_index(ns, name);
    assert_true(o >= 0 && o < NOBJ);
    assert_int_equal(v->seen[o], 0); /* at most once */
    v->seen[o] = 1;
    assert_true(v->m->present[o][v->key]);
    assert_true(v->m->val[o][v->key] == v->value);
    v->n++;
    return 0;
}

typedef struct values_ctx {
    uint64_t count[NVALS];
    uint64_t nvalues;
} values_ctx;

static int values_cb(void *ctx, int64_t value, uint64_t objects)
{
    values_ctx *c = ctx;
    assert_true(value >= 0 && value < NVALS);
    assert_int_equal(c->count[value], 0);
    assert_true(objects > 0);
    c->count[value] = objects;
    c->nvalues++;
    return 0;
}

static void check_index(oomkit_store *s, const model *m, uint32_t ix, int key)
{
    static visit v;
    values_ctx vc;
    memset(&vc, 0, sizeof(vc));
    assert_int_equal(oomkit_store_index_values(s, ix, values_cb, &vc), 0);
    uint64_t distinct = 0;
    for (int64_t val = 0; val < NVALS; val++) {
        uint64_t want = 0;
        for (int o = 0; o < NOBJ; o++)
            if (m->present[o][key] && m->val[o][key] == val)
                want++;
        memset(&v, 0, sizeof(v));
        v.m = m, v.key = key, v.value = val;
        assert_int_equal(oomkit_store_index_each(s, ix, val, visit_cb, &v), 0);
        assert_int_equal(v.n, want);
        assert_int_equal(vc.count[val], want);
        distinct += want != 0;
    }
    assert_int_equal(vc.nvalues, distinct);
}

static int64_t rand_value(rng *r, int key)
{
    return key < 2 ? (int64_t)rng_below(r, NVALS) : (int64_t)rng_next(r);
}

/* Runs nops random writes; budget 0 = none. */
static void run_diff(uint64_t nops, size_t budget)
{
    names_init();
    static model m;
    memset(&m, 0, sizeof(m));
    oomkit_store_options o = { budget, 0 };
    oomkit_store *s = NULL;
    assert_int_equal(oomkit_store_open(&o, &s), 0);
    uint32_t ix[2];
    int nix = 0;
    assert_int_equal(oomkit_store_index_add(s, S("k0"), &ix[0]), 0);
    nix = 1;
    rng r = { 7 + budget };
    uint64_t fails = 0;
    for (uint64_t i = 0; i < nops; i++) {
        int ob = (int)rng_below(&r, NOBJ);
        int k = (int)rng_below(&r, NKEYS);
        oomkit_str ns = S(ns_s[ob / NNAMES]), name = S(name_s[ob % NNAMES]), key = S(key_s[k]);
        uint32_t op = rng_below(&r, 1000);
        int rc;
        if (op < 100) {
            /* One write of several fields, indexed ones among them; on an
             * error none of them has changed. */
            oomkit_store_field f[4];
            int fk[4];
            size_t n = 1 + rng_below(&r, 4);
            for (size_t j = 0; j < n; j++) {
                fk[j] = j == 0 ? k : (int)rng_below(&r, NKEYS);
                f[j].key = S(key_s[fk[j]]);
                f[j].value = rand_value(&r, fk[j]);
            }
            rc = oomkit_store_put_fields(s, ns, name, f, n);
            for (size_t j = 0; j < n && rc == 0; j++)
                m.present[ob][fk[j]] = 1, m.val[ob][fk[j]] = f[j].value;
        } else if (op < 600) {
            int64_t v = rand_value(&r, k);
            rc = oomkit_store_put(s, ns, name, key, v);
            if (rc == 0)
                m.present[ob][k] = 1, m.val[ob][k] = v;
        } else if (op < 650) {
            int64_t v = rand_value(&r, k);
            oomkit_store_obj h;
            uint32_t kid;
            rc = oomkit_store_object(s, ns, name, 0, &h);
            if (rc == 0) {
                assert_int_equal(oomkit_store_key(s, key, 0, &kid), 0);
                rc = oomkit_store_obj_put(s, h, kid, v);
                if (rc == 0)
                    m.present[ob][k] = 1, m.val[ob][k] = v;
            } else {
                assert_int_equal(rc, -ENOENT);
                assert_false(obj_live(&m, ob));
                rc = 0;
            }
        } else if (op < 900) {
            rc = oomkit_store_del(s, ns, name, key);
            if (rc == -ENOENT) {
                assert_false(m.present[ob][k]);
                rc = 0;
            } else if (rc == 0) {
                m.present[ob][k] = 0;
            }
        } else if (op < 998) {
            rc = oomkit_store_del_object(s, ns, name);
            assert_int_equal(rc == 0, obj_live(&m, ob));
            memset(m.present[ob], 0, NKEYS);
            rc = 0;
        } else if (op == 998 && rng_below(&r, 40) == 0) {
            rc = oomkit_store_clear(s);
            memset(m.present, 0, sizeof(m.present));
        } else {
            rc = rng_below(&r, 20) == 0 ? oomkit_store_compact(s) : 0;
        }
        if (rc != 0) {
            assert_true(budget != 0 && rc == -E2BIG);
            fails++;
        }
        if (nix == 1 && i == nops / 3) {
            /* A second index, built over the populated store. */
            rc = oomkit_store_index_add(s, S("k1"), &ix[1]);
            if (rc == 0)
                nix = 2;
            else
                assert_int_equal(rc, -E2BIG);
        }
        if (i % 10000 == 9999) {
            check_index(s, &m, ix[0], 0);
            if (nix == 2)
                check_index(s, &m, ix[1], 1);
        }
    }
    if (budget != 0)
        assert_true(fails > 0);
    else
        assert_int_equal(nix, 2);
    oomkit_store_stats st;
    assert_int_equal(oomkit_store_stats_get(s, &st), 0);
    assert_true(budget == 0 || st.bytes_total <= budget);
    oomkit_store_close(s);
}

static void test_diff_million(void **state)
{
    (void)state;
    run_diff(STORE_TEST_ASAN ? 1000000 : 1200000, 0);
}

static void test_diff_budget(void **state)
{
    (void)state;
    run_diff(200000, 200 * 1024);
}

/* Counting allocator: index reads must not call it. */
static uint64_t nallocs;
static void *cnt_malloc(size_t n, void *c) { (void)c; nallocs++; return malloc(n); }
static void *cnt_realloc(void *p, size_t n, void *c) { (void)c; nallocs++; return realloc(p, n); }
static void cnt_free(void *p, void *c) { (void)c; free(p); }

static int count_cb(void *ctx, oomkit_str ns, oomkit_str name, oomkit_store_obj obj)
{
    (void)ns, (void)name, (void)obj;
    (*(uint64_t *)ctx)++;
    return 0;
}
static int stop_cb(void *ctx, oomkit_str ns, oomkit_str name, oomkit_store_obj obj)
{
    (void)ns, (void)name, (void)obj, (void)ctx;
    return 5;
}
static int vcount_cb(void *ctx, int64_t value, uint64_t objects)
{
    (void)value;
    *(uint64_t *)ctx += objects;
    return 0;
}

static void test_api(void **state)
{
    (void)state;
    oomkit_allocator a = { cnt_malloc, cnt_realloc, cnt_free, NULL };
    oomkit_set_allocator(&a);
    oomkit_store *s = NULL;
    assert_int_equal(oomkit_store_open(NULL, &s), 0);
    /* Atoms. */
    uint32_t na, nb, again;
    assert_int_equal(oomkit_store_atom(s, S("node-a"), 0, &na), -ENOENT);
    assert_int_equal(oomkit_store_atom(s, S("node-a"), 1, &na), 0);
    assert_int_equal(oomkit_store_atom(s, S("node-b"), 1, &nb), 0);
    assert_int_equal(oomkit_store_atom(s, S("node-a"), 0, &again), 0);
    assert_int_equal(again, na);
    assert_int_not_equal(na, nb);
    oomkit_str str;
    assert_int_equal(oomkit_store_atom_str(s, nb, &str), 0);
    assert_int_equal(str.len, 6);
    assert_memory_equal(str.ptr, "node-b", 6);
    assert_int_equal(oomkit_store_atom_str(s, 99, &str), -ENOENT);
    /* 3000 pods over two nodes, then the index built in one pass. */
    char nm[32];
    for (int i = 0; i < 3000; i++) {
        snprintf(nm, sizeof(nm), "pod-%d", i);
        assert_int_equal(oomkit_store_put(s, S("default"), S(nm), S("node"),
                                          i % 3 ? (int64_t)na : (int64_t)nb),
                         0);
        assert_int_equal(oomkit_store_put(s, S("default"), S(nm), S("cpu"), i), 0);
    }
    uint32_t ix, ix2;
    assert_int_equal(oomkit_store_index_add(s, S("node"), &ix), 0);
    assert_int_equal(oomkit_store_index_add(s, S("node"), &ix2), 0);
    assert_int_equal(ix, ix2);
    uint64_t n = 0, before = nallocs;
    assert_int_equal(oomkit_store_index_each(s, ix, na, count_cb, &n), 0);
    assert_int_equal(n, 2000);
    n = 0;
    assert_int_equal(oomkit_store_index_each(s, ix, nb, count_cb, &n), 0);
    assert_int_equal(n, 1000);
    n = 0;
    assert_int_equal(oomkit_store_index_values(s, ix, vcount_cb, &n), 0);
    assert_int_equal(n, 3000);
    assert_int_equal(oomkit_store_index_each(s, ix, na, stop_cb, NULL), 5);
    assert_int_equal(nallocs, before); /* reads allocate nothing */
    assert_int_equal(oomkit_store_index_each(s, ix + 1, na, count_cb, &n), -EINVAL);
    assert_int_equal(oomkit_store_index_each(s, ix, na, NULL, &n), -EINVAL);
    /* Moving every pod to node b empties node a: it takes no memory. */
    oomkit_store_stats st0, st1;
    assert_int_equal(oomkit_store_stats_get(s, &st0), 0);
    assert_int_equal(st0.index_values, 2);
    assert_int_equal(st0.indexed_objects, 3000);
    for (int i = 0; i < 3000; i++) {
        snprintf(nm, sizeof(nm), "pod-%d", i);
        assert_int_equal(oomkit_store_put(s, S("default"), S(nm), S("node"), nb), 0);
    }
    assert_int_equal(oomkit_store_stats_get(s, &st1), 0);
    assert_int_equal(st1.index_values, 1);
    n = 0;
    assert_int_equal(oomkit_store_index_each(s, ix, na, count_cb, &n), 0);
    assert_int_equal(n, 0);
    /* Deleting the field and the objects. */
    assert_int_equal(oomkit_store_del(s, S("default"), S("pod-1"), S("node")), 0);
    assert_int_equal(oomkit_store_del_object(s, S("default"), S("pod-2")), 0);
    n = 0;
    assert_int_equal(oomkit_store_index_each(s, ix, nb, count_cb, &n), 0);
    assert_int_equal(n, 2998);
    /* Compact squeezes the dead slots out: fewer bytes, same answers. */
    assert_int_equal(oomkit_store_stats_get(s, &st0), 0);
    assert_int_equal(oomkit_store_compact(s), 0);
    assert_int_equal(oomkit_store_stats_get(s, &st1), 0);
    assert_true(st1.bytes_indexes < st0.bytes_indexes);
    assert_true(st1.bytes_indexes <= 8 * st1.indexed_objects + 4096);
    n = 0;
    assert_int_equal(oomkit_store_index_each(s, ix, nb, count_cb, &n), 0);
    assert_int_equal(n, 2998);
    assert_int_equal(oomkit_store_put(s, S("default"), S("pod-5"), S("node"), na), 0);
    n = 0;
    assert_int_equal(oomkit_store_index_each(s, ix, na, count_cb, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(oomkit_store_clear(s), 0);
    assert_int_equal(oomkit_store_stats_get(s, &st1), 0);
    assert_int_equal(st1.index_values, 0);
    assert_int_equal(st1.indexed_objects, 0);
    n = 0;
    assert_int_equal(oomkit_store_index_each(s, ix, nb, count_cb, &n), 0);
    assert_int_equal(n, 0);
    /* Eight indexes at most. */
    for (int i = 1; i < 8; i++) {
        snprintf(nm, sizeof(nm), "key-%d", i);
        assert_int_equal(oomkit_store_index_add(s, S(nm), &ix2), 0);
        assert_int_equal(ix2, (uint32_t)i);
    }
    assert_int_equal(oomkit_store_index_add(s, S("one-more"), &ix2), -ENOSPC);
    oomkit_store_close(s);
    oomkit_set_allocator(NULL);
}

/* Allocator that fails every call while failing is set. */
static int failing;
static void *fail_malloc(size_t n, void *c) { (void)c; return failing ? NULL : malloc(n); }
static void *fail_realloc(void *p, size_t n, void *c) { (void)c; return failing ? NULL : realloc(p, n); }

/* A removal that leaves its list loose copies it to its size, but only as
 * best effort: with every allocation failing, deletes still succeed and the
 * index stays exact; once memory is back, the next removal tightens it. */
static void test_remove_best_effort(void **state)
{
    (void)state;
    oomkit_allocator a = { fail_malloc, fail_realloc, cnt_free, NULL };
    oomkit_set_allocator(&a);
    oomkit_store *s = NULL;
    assert_int_equal(oomkit_store_open(NULL, &s), 0);
    uint32_t ix;
    assert_int_equal(oomkit_store_index_add(s, S("node"), &ix), 0);
    char nm[32];
    for (int i = 0; i < 4000; i++) {
        snprintf(nm, sizeof(nm), "pod-%d", i);
        assert_int_equal(oomkit_store_put(s, S("default"), S(nm), S("node"), 7), 0);
    }
    oomkit_store_stats st0, st1, st2;
    assert_int_equal(oomkit_store_stats_get(s, &st0), 0);
    failing = 1;
    for (int i = 0; i < 2000; i++) {
        snprintf(nm, sizeof(nm), "pod-%d", i);
        assert_int_equal(oomkit_store_del_object(s, S("default"), S(nm)), 0);
    }
    failing = 0;
    assert_int_equal(oomkit_store_stats_get(s, &st1), 0);
    assert_int_equal(st1.indexed_objects, 2000);
    assert_int_equal(st1.bytes_indexes, st0.bytes_indexes); /* nothing copied */
    uint64_t n = 0;
    assert_int_equal(oomkit_store_index_each(s, ix, 7, count_cb, &n), 0);
    assert_int_equal(n, 2000);
    assert_int_equal(oomkit_store_del_object(s, S("default"), S("pod-2000")), 0);
    assert_int_equal(oomkit_store_stats_get(s, &st2), 0);
    /* The 2000 dead slots went (less the copy's slack). */
    assert_true(st2.bytes_indexes + 1900 * 4 <= st1.bytes_indexes);
    n = 0;
    assert_int_equal(oomkit_store_index_each(s, ix, 7, count_cb, &n), 0);
    assert_int_equal(n, 1999);
    oomkit_store_close(s);
    oomkit_set_allocator(NULL);
}

/* ---- bytes per indexed object under churn ------------------------------------ */

#define CH_OBJ 100000
#define CH_VALS 1000

typedef struct churn {
    int32_t val[CH_OBJ];  /* -1 while the object is deleted */
    uint64_t count[CH_VALS];
    unsigned char seen[CH_OBJ];
    int64_t value;        /* the value being visited */
    uint64_t visits;
} churn;

static int churn_visit(void *ctx, oomkit_str ns, oomkit_str name, oomkit_store_obj obj)
{
    churn *c = ctx;
    (void)ns, (void)obj;
    char b[16] = { 0 };
    memcpy(b, name.ptr, name.len < 15 ? name.len : 15);
    int o = atoi(b + 1);
    assert_true(o >= 0 && o < CH_OBJ);
    assert_int_equal(c->seen[o], 0); /* at most once */
    c->seen[o] = 1;
    assert_int_equal(c->val[o], c->value);
    c->visits++;
    return 0;
}

static int churn_values(void *ctx, int64_t value, uint64_t objects)
{
    churn *c = ctx;
    assert_true(value >= 0 && value < CH_VALS);
    assert_int_equal(objects, c->count[value]);
    c->visits += objects;
    return 0;
}

/* The index holds exactly the model: every value's objects once each. */
static void churn_check(oomkit_store *s, uint32_t ix, churn *c)
{
    memset(c->count, 0, sizeof(c->count));
    uint64_t live = 0;
    for (int o = 0; o < CH_OBJ; o++)
        if (c->val[o] >= 0)
            c->count[c->val[o]]++, live++;
    c->visits = 0;
    assert_int_equal(oomkit_store_index_values(s, ix, churn_values, c), 0);
    assert_int_equal(c->visits, live);
    memset(c->seen, 0, sizeof(c->seen));
    c->visits = 0;
    for (int64_t v = 0; v < CH_VALS; v++) {
        c->value = v;
        assert_int_equal(oomkit_store_index_each(s, ix, v, churn_visit, c), 0);
    }
    assert_int_equal(c->visits, live);
}

/* Bytes of the index per indexed object, checked against the target. */
static void churn_bytes(oomkit_store *s, const char *when)
{
    oomkit_store_stats st;
    assert_int_equal(oomkit_store_stats_get(s, &st), 0);
    double per = (double)st.bytes_indexes / (double)st.indexed_objects;
    if (per > 8.0)
        fail_msg("%s: %.3f bytes per indexed object (%llu bytes, %llu objects)", when, per,
                 (unsigned long long)st.bytes_indexes, (unsigned long long)st.indexed_objects);
}

/* 100k objects over 1000 values, then a long random churn: moves (half of
 * them into a window of 100 values that drifts, so some lists drain while
 * others fill), deletes (2 in 100 picks of a live object) and reinserts (a
 * deleted object, when picked, comes back under a random value), so about 2%
 * of the ids are dead at any time: positions cost 3 bytes per id, indexed or
 * not. After every write the index stays at most 8 bytes per indexed
 * object, and it stays exact. */
static void test_churn_bytes(void **state)
{
    (void)state;
    static churn c;
    oomkit_store *s = NULL;
    assert_int_equal(oomkit_store_open(NULL, &s), 0);
    uint32_t ix, key;
    assert_int_equal(oomkit_store_index_add(s, S("node"), &ix), 0);
    assert_int_equal(oomkit_store_key(s, S("node"), 0, &key), 0);
    static oomkit_store_obj h[CH_OBJ];
    static char names[CH_OBJ][8];
    rng r = { 2024 };
    for (int o = 0; o < CH_OBJ; o++) {
        snprintf(names[o], sizeof(names[o]), "o%d", o);
        c.val[o] = (int32_t)rng_below(&r, CH_VALS);
        assert_int_equal(oomkit_store_object(s, S("pods"), S(names[o]), 1, &h[o]), 0);
        assert_int_equal(oomkit_store_obj_put(s, h[o], key, c.val[o]), 0);
    }
    churn_bytes(s, "after inserts");
    churn_check(s, ix, &c);
    uint64_t nops = STORE_TEST_ASAN ? 400000 : 2000000;
    uint32_t window = 0;
    for (uint64_t i = 0; i < nops; i++) {
        int o = (int)rng_below(&r, CH_OBJ);
        uint32_t op = rng_below(&r, 100);
        int32_t v = op < 50 ? (int32_t)((window + rng_below(&r, 100)) % CH_VALS)
                            : (int32_t)rng_below(&r, CH_VALS);
        if (c.val[o] >= 0 && op < 98) {
            assert_int_equal(oomkit_store_obj_put(s, h[o], key, v), 0);
            c.val[o] = v;
        } else if (c.val[o] >= 0) {
            assert_int_equal(oomkit_store_del_object(s, S("pods"), S(names[o])), 0);
            c.val[o] = -1;
        } else {
            assert_int_equal(oomkit_store_object(s, S("pods"), S(names[o]), 1, &h[o]), 0);
            assert_int_equal(oomkit_store_obj_put(s, h[o], key, v), 0);
            c.val[o] = v;
        }
        churn_bytes(s, "during churn");
        if (i % 10000 == 9999)
            window = (window + 7) % CH_VALS;
        if (i % 500000 == 499999)
            churn_check(s, ix, &c);
    }
    churn_bytes(s, "after churn");
    churn_check(s, ix, &c);
    assert_int_equal(oomkit_store_compact(s), 0);
    churn_bytes(s, "after compact");
    churn_check(s, ix, &c);
    oomkit_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api),
        cmocka_unit_test(test_diff_million),
        cmocka_unit_test(test_diff_budget),
        cmocka_unit_test(test_remove_best_effort),
        cmocka_unit_test(test_churn_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
