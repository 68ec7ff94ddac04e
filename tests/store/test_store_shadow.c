/* Tests of the migration harness (include/oomkit/shadow.h) with a
 * deliberately faulty legacy structure: a second store behind the legacy
 * vtable that silently drops every 37th put and corrupts every 53rd value.
 * Every fault is caught (by sampled reads at 100%, by the reconciliation
 * pass, exactly the faulted keys), sampling at P% compares about P% of the
 * reads, primary=new answers from the store, and the rollback fires once
 * the divergences pass the threshold and says so. */
#include "oomkit/shadow.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define NOBJ 400
#define NKEYS 5
#define NENT (NOBJ * NKEYS)

typedef struct faulty {
    oomkit_store *s;
    uint64_t puts;
    int faults_on;
    unsigned char faulted[NENT]; /* 1 dropped, 2 corrupted */
} faulty;

static int entry_of(oomkit_str name, oomkit_str key)
{
    char a[16] = { 0 }, b[16] = { 0 };
    memcpy(a, name.ptr, name.len < 15 ? name.len : 15);
    memcpy(b, key.ptr, key.len < 15 ? key.len : 15);
    return atoi(a + 1) * NKEYS + atoi(b + 1);
}

static int f_put(void *impl, oomkit_str ns, oomkit_str name, oomkit_str key, int64_t v)
{
    faulty *f = impl;
    f->puts++;
    if (f->faults_on && f->puts % 37 == 0) {
        f->faulted[entry_of(name, key)] = 1;
        return 0; /* dropped, and says it worked */
    }
    if (f->faults_on && f->puts % 53 == 0) {
        f->faulted[entry_of(name, key)] = 2;
        v ^= 0x10;
    }
    return oomkit_store_put(f->s, ns, name, key, v);
}
static int f_get(void *impl, oomkit_str ns, oomkit_str name, oomkit_str key, int64_t *v)
{
    return oomkit_store_get(((faulty *)impl)->s, ns, name, key, v);
}
static int f_del(void *impl, oomkit_str ns, oomkit_str name, oomkit_str key)
{
    return oomkit_store_del(((faulty *)impl)->s, ns, name, key);
}
static int f_del_object(void *impl, oomkit_str ns, oomkit_str name)
{
    return oomkit_store_del_object(((faulty *)impl)->s, ns, name);
}

typedef struct it_ctx {
    faulty *f;
    oomkit_shadow_entry_fn fn;
    void *ctx;
    oomkit_str ns, name;
} it_ctx;
static int it_field(void *ctx, oomkit_str key, uint32_t key_id, int64_t v)
{
    (void)key_id;
    it_ctx *c = ctx;
    return c->fn(c->ctx, c->ns, c->name, key, v);
}
static int it_obj(void *ctx, oomkit_str name, oomkit_store_obj obj)
{
    it_ctx *c = ctx;
    c->name = name;
    return oomkit_store_obj_each_field(c->f->s, obj, it_field, c);
}
static int it_ns(void *ctx, oomkit_str ns, uint64_t n)
{
    (void)n;
    it_ctx *c = ctx;
    c->ns = ns;
    return oomkit_store_each_object(c->f->s, ns, it_obj, c);
}
static int f_iterate(void *impl, oomkit_shadow_entry_fn fn, void *ctx)
{
    it_ctx c = { impl, fn, ctx, { "", 0 }, { "", 0 } };
    return oomkit_store_each_namespace(((faulty *)impl)->s, it_ns, &c);
}

typedef struct rep {
    uint64_t events[4];
    unsigned char reported[NENT];
    uint64_t wrong_keys;
} rep;

static rep R;
static faulty F;

static void report(void *ctx, const oomkit_shadow_event *ev)
{
    rep *r = ctx;
    r->events[ev->kind]++;
    if (ev->kind == OOMKIT_SHADOW_ROLLBACK)
        return;
    int e = entry_of(ev->name, ev->key);
    if (e < 0 || e >= NENT || F.faulted[e] == 0)
        r->wrong_keys++; /* a divergence where no fault was injected */
    else
        r->reported[e] = 1;
    /* A corrupted entry shows both values, differing by the flipped bit. */
    if (F.faulted[e] == 2 && ev->legacy_rc == 0 && ev->store_rc == 0 &&
        (ev->legacy_value ^ ev->store_value) != 0x10)
        r->wrong_keys++;
}

static oomkit_str S(const char *p)
{
    return (oomkit_str){ p, strlen(p) };
}

static oomkit_shadow *setup(oomkit_store **store, unsigned percent, uint64_t threshold)
{
    memset(&F, 0, sizeof(F));
    memset(&R, 0, sizeof(R));
    assert_int_equal(oomkit_store_open(NULL, &F.s), 0);
    assert_int_equal(oomkit_store_open(NULL, store), 0);
    oomkit_shadow_legacy lg = { &F, f_put, f_get, f_del, f_del_object, f_iterate };
    oomkit_shadow_options o = { OOMKIT_SHADOW_VERIFY, percent, threshold, report, &R, 1 };
    oomkit_shadow *sh = NULL;
    assert_int_equal(oomkit_shadow_open(&lg, *store, &o, &sh), 0);
    F.faults_on = 1;
    char nm[16], k[8];
    for (int o2 = 0; o2 < NOBJ; o2++)
        for (int kk = 0; kk < NKEYS; kk++) {
            snprintf(nm, sizeof(nm), "o%d", o2);
            snprintf(k, sizeof(k), "k%d", kk);
            assert_int_equal(oomkit_shadow_put(sh, S("ns"), S(nm), S(k), o2 * 100 + kk), 0);
        }
    F.faults_on = 0;
    return sh;
}

static uint64_t read_all(oomkit_shadow *sh, uint64_t *hits)
{
    char nm[16], k[8];
    uint64_t n = 0;
    for (int o = 0; o < NOBJ; o++)
        for (int kk = 0; kk < NKEYS; kk++) {
            snprintf(nm, sizeof(nm), "o%d", o);
            snprintf(k, sizeof(k), "k%d", kk);
            int64_t v = -1;
            int rc = oomkit_shadow_get(sh, S("ns"), S(nm), S(k), &v);
            if (rc == 0 && hits != NULL && v == o * 100 + kk)
                (*hits)++;
            n++;
        }
    return n;
}

static uint64_t nfaulted(void)
{
    uint64_t n = 0;
    for (int e = 0; e < NENT; e++)
        n += F.faulted[e] != 0;
    return n;
}

static void test_every_divergence_caught(void **state)
{
    (void)state;
    oomkit_store *store;
    oomkit_shadow *sh = setup(&store, 100, 0);
    uint64_t nf = nfaulted();
    assert_true(nf > 50);
    read_all(sh, NULL);
    oomkit_shadow_stats st;
    assert_int_equal(oomkit_shadow_stats_get(sh, &st), 0);
    assert_int_equal(st.verified, NENT);
    assert_int_equal(st.read_divergences, nf);
    assert_int_equal(R.wrong_keys, 0);
    for (int e = 0; e < NENT; e++)
        assert_int_equal(R.reported[e], F.faulted[e] != 0);
    /* The last divergence is in the stats with both answers. */
    assert_true(st.last_key[0] == 'k' && st.last_name[0] == 'o');
    assert_true(st.last_store_rc == 0);
    /* Reconciliation finds exactly the same entries. */
    memset(R.reported, 0, sizeof(R.reported));
    uint64_t found = 0;
    assert_int_equal(oomkit_shadow_reconcile(sh, &found), 0);
    assert_int_equal(found, nf);
    for (int e = 0; e < NENT; e++)
        assert_int_equal(R.reported[e], F.faulted[e] != 0);
    /* An entry only the store has is found too. */
    assert_int_equal(oomkit_store_put(store, S("ns"), S("o1"), S("k9"), 5), 0);
    F.faulted[entry_of(S("o1"), S("k9"))] = 1;
    assert_int_equal(oomkit_shadow_reconcile(sh, &found), 0);
    assert_int_equal(found, nf + 1);
    assert_int_equal(R.wrong_keys, 0);
    assert_int_equal(st.rollbacks, 0);
    oomkit_shadow_close(sh);
    oomkit_store_close(store);
    oomkit_store_close(F.s);
}

static void test_sampling_and_primary_new(void **state)
{
    (void)state;
    oomkit_store *store;
    oomkit_shadow *sh = setup(&store, 5, 0);
    for (int i = 0; i < 5; i++)
        read_all(sh, NULL);
    oomkit_shadow_stats st;
    assert_int_equal(oomkit_shadow_stats_get(sh, &st), 0);
    assert_int_equal(st.reads, 5 * NENT);
    /* About 5% of 10000 reads: 500, binomial sd ~22. */
    assert_true(st.verified > 380 && st.verified < 620);
    /* primary=new: answers come from the (correct) store. */
    assert_int_equal(oomkit_shadow_set_phase(sh, OOMKIT_SHADOW_PRIMARY_NEW, 50), 0);
    uint64_t hits = 0;
    read_all(sh, &hits);
    assert_int_equal(hits, NENT);
    /* And the legacy side (faulty) answers in VERIFY. */
    assert_int_equal(oomkit_shadow_set_phase(sh, OOMKIT_SHADOW_VERIFY, 0), 0);
    hits = 0;
    read_all(sh, &hits);
    assert_int_equal(hits, NENT - nfaulted());
    assert_int_equal(R.wrong_keys, 0);
    assert_int_equal(oomkit_shadow_set_phase(sh, OOMKIT_SHADOW_VERIFY, 101), -EINVAL);
    oomkit_shadow_close(sh);
    oomkit_store_close(store);
    oomkit_store_close(F.s);
}

static void test_rollback(void **state)
{
    (void)state;
    oomkit_store *store;
    oomkit_shadow *sh = setup(&store, 100, 10);
    assert_int_equal(oomkit_shadow_set_phase(sh, OOMKIT_SHADOW_PRIMARY_NEW, 100), 0);
    read_all(sh, NULL);
    oomkit_shadow_stats st;
    assert_int_equal(oomkit_shadow_stats_get(sh, &st), 0);
    assert_int_equal(st.phase, OOMKIT_SHADOW_ROLLED_BACK);
    assert_int_equal(st.rollbacks, 1);
    assert_int_equal(R.events[OOMKIT_SHADOW_ROLLBACK], 1);
    /* It rolled back on the 11th divergence and stopped comparing. */
    assert_int_equal(st.read_divergences, 11);
    /* Writes still go to both sides; del_object agrees on both. */
    assert_int_equal(oomkit_shadow_del_object(sh, S("ns"), S("o3")), 0);
    int64_t v;
    assert_int_equal(oomkit_store_get(store, S("ns"), S("o3"), S("k0"), &v), -ENOENT);
    assert_int_equal(oomkit_store_get(F.s, S("ns"), S("o3"), S("k0"), &v), -ENOENT);
    /* A write that only one side accepts is a write divergence. */
    assert_int_equal(oomkit_store_put(store, S("ns"), S("o4"), S("k7"), 1), 0);
    assert_int_equal(oomkit_shadow_del(sh, S("ns"), S("o4"), S("k7")), -ENOENT);
    assert_int_equal(oomkit_shadow_stats_get(sh, &st), 0);
    assert_int_equal(st.write_divergences, 1);
    oomkit_shadow_close(sh);
    oomkit_store_close(store);
    oomkit_store_close(F.s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_divergence_caught),
        cmocka_unit_test(test_sampling_and_primary_new),
        cmocka_unit_test(test_rollback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
