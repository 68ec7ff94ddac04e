/* Memory accounting of the store: stats.bytes_total must match what glibc
 * really holds for the store (mallinfo2() uordblks + hblkhd deltas) within
 * 5% at 100k+ objects, through build, mass delete + compact and clear; and
 * the reconcile pattern (clear + refill the same 10k-object state) must make
 * zero allocator calls in steady state, counted through the allocator hook;
 * and one namespace growing to 300k objects never asks the allocator for a
 * large block at once. */
#include "oomkit/store.h"
#include "store_gen.h"

#include "store/smem.h"

#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* Name i: pod-style, about 30 bytes. */
static oomkit_str obj_name(char *buf, size_t cap, int i)
{
    int n = snprintf(buf, cap, "app%d-controller-%08x-%05d", i % 41, (unsigned)i * 2654435761u,
                     i);
    return (oomkit_str){ buf, (size_t)n };
}

static oomkit_str ns_name(char *buf, size_t cap, int i)
{
    int n = snprintf(buf, cap, "team-%d", (i * 7) % 53);
    return (oomkit_str){ buf, (size_t)n };
}

static oomkit_str key_name(char *buf, size_t cap, int k)
{
    int n = snprintf(buf, cap, "metadata.labels.key-%d", k);
    return (oomkit_str){ buf, (size_t)n };
}

static void expect_close(const oomkit_store *s, size_t before, const char *phase)
{
    oomkit_store_stats st;
    assert_int_equal(oomkit_store_stats_get(s, &st), 0);
    double real = (double)(heap_bytes() - before);
    double claimed = (double)st.bytes_total;
    print_message("%s: stats %.0f bytes, mallinfo2 delta %.0f bytes (%.2f%%)\n", phase, claimed,
                  real, 100.0 * (claimed - real) / real);
    if (claimed < real * 0.95 || claimed > real * 1.05)
        fail_msg("%s: stats.bytes_total %.0f vs mallinfo2 delta %.0f", phase, claimed, real);
}

static void test_mallinfo_matches_stats(void **st)
{
    (void)st;
    if (STORE_TEST_ASAN) {
        print_message("SKIP: ASan replaces the C allocator, mallinfo2 does not see it\n");
        skip();
    }
    char nb[64], sb[32], kb[48];
    const int nobj = 120000;
    oomkit_store *s;
    /* liburcu-bp allocates its reader registration on a thread's first read
     * section and its own state on the first grace period: that memory is
     * the library's, not the store's, so make both happen before measuring. */
    int64_t v;
    assert_int_equal(oomkit_store_open(NULL, &s), 0);
    assert_int_equal(oomkit_store_get(s, OOMKIT_STR("a"), OOMKIT_STR("b"), OOMKIT_STR("c"), &v),
                     -ENOENT);
    assert_int_equal(oomkit_store_put(s, OOMKIT_STR("a"), OOMKIT_STR("b"), OOMKIT_STR("c"), 1), 0);
    assert_int_equal(oomkit_store_clear(s), 0);
    oomkit_store_close(s);
    /* stdio allocates its stdout buffer on the first message: same. */
    print_message("measuring %d objects\n", nobj);
    size_t before = heap_bytes();
    assert_int_equal(oomkit_store_open(NULL, &s), 0);
    for (int i = 0; i < nobj; i++) {
        oomkit_str ns = ns_name(sb, sizeof(sb), i), name = obj_name(nb, sizeof(nb), i);
        int nf = 4 + i % 10;
        for (int k = 0; k < nf; k++)
            assert_int_equal(oomkit_store_put(s, ns, name, key_name(kb, sizeof(kb), (k * 5 + i) % 60),
                                              i + k),
                             0);
    }
    expect_close(s, before, "build");
    /* A secondary index is part of what the store owns. */
    uint32_t ix;
    assert_int_equal(oomkit_store_index_add(s, key_name(kb, sizeof(kb), 5), &ix), 0);
    expect_close(s, before, "index");
    for (int i = 0; i < nobj; i++) {
        if (i % 3 == 0)
            continue;
        oomkit_str ns = ns_name(sb, sizeof(sb), i), name = obj_name(nb, sizeof(nb), i);
        assert_int_equal(oomkit_store_del_object(s, ns, name), 0);
    }
    expect_close(s, before, "delete 2/3");
    assert_int_equal(oomkit_store_compact(s), 0);
    expect_close(s, before, "compact");
    assert_int_equal(oomkit_store_clear(s), 0);
    expect_close(s, before, "clear");
    oomkit_store_close(s);
    long long left = (long long)heap_bytes() - (long long)before;
    print_message("after close: %lld bytes\n", left);
    /* glibc's per-thread tcache keeps up to 7 freed chunks per small size
     * class, and mallinfo2 counts them as in use: a few KiB remain. */
    assert_true(left < 64 * 1024 && left > -64 * 1024);
}

/* The allocator hook: counts calls and keeps the largest request. */
static unsigned long long calls;
static size_t largest;
static void *c_malloc(size_t n, void *c)
{
    (void)c;
    calls++;
    largest = n > largest ? n : largest;
    return malloc(n);
}
static void *c_realloc(void *p, size_t n, void *c)
{
    (void)c;
    calls++;
    largest = n > largest ? n : largest;
    return realloc(p, n);
}
static void c_free(void *p, void *c)
{
    (void)c;
    free(p);
}

static void fill(oomkit_store *s, int nobj, int cycle)
{
    char nb[64], sb[32], kb[48];
    for (int i = 0; i < nobj; i++) {
        oomkit_str ns = ns_name(sb, sizeof(sb), i), name = obj_name(nb, sizeof(nb), i);
        int nf = 4 + i % 12;
        for (int k = 0; k < nf; k++)
            assert_int_equal(oomkit_store_put(s, ns, name, key_name(kb, sizeof(kb), (k * 3 + i) % 40),
                                              cycle * 1000 + k),
                             0);
    }
}

/* The same state written an object at a time (oomkit_store_put_fields). */
static void fill_objects(oomkit_store *s, int nobj, int cycle)
{
    char nb[64], sb[32], kb[16][48];
    oomkit_store_field f[16];
    for (int i = 0; i < nobj; i++) {
        int nf = 4 + i % 12;
        for (int k = 0; k < nf; k++) {
            f[k].key = key_name(kb[k], sizeof(kb[k]), (k * 3 + i) % 40);
            f[k].value = cycle * 1000 + k;
        }
        assert_int_equal(oomkit_store_put_fields(s, ns_name(sb, sizeof(sb), i),
                                                 obj_name(nb, sizeof(nb), i), f, (size_t)nf),
                         0);
    }
}

#define RECONCILE_OBJECTS 10000
#define RECONCILE_CYCLES (STORE_TEST_ASAN ? 8 : 20)

/* Builds the state with fill_fn, then clears and refills it
 * RECONCILE_CYCLES times, checking the content after each; per_cycle[c]
 * gets cycle c's allocator calls (1-based). The store is left open. */
static oomkit_store *reconcile(void (*fill_fn)(oomkit_store *, int, int),
                               unsigned long long *per_cycle)
{
    oomkit_store *s;
    assert_int_equal(oomkit_store_open(NULL, &s), 0);
    fill_fn(s, RECONCILE_OBJECTS, 0);
    uint64_t o0, f0;
    oomkit_store_count(s, &o0, &f0);
    assert_int_equal(o0, (uint64_t)RECONCILE_OBJECTS);
    for (int c = 1; c <= RECONCILE_CYCLES; c++) {
        unsigned long long before = calls;
        assert_int_equal(oomkit_store_clear(s), 0);
        fill_fn(s, RECONCILE_OBJECTS, c);
        per_cycle[c] = calls - before;
        uint64_t o, f;
        oomkit_store_count(s, &o, &f);
        assert_int_equal(o, o0);
        assert_int_equal(f, f0);
        int64_t v;
        char nb[64], sb[32], kb[48];
        assert_int_equal(oomkit_store_get(s, ns_name(sb, sizeof(sb), 77),
                                          obj_name(nb, sizeof(nb), 77),
                                          key_name(kb, sizeof(kb), (1 * 3 + 77) % 40), &v),
                         0);
        assert_int_equal(v, c * 1000 + 1);
    }
    return s;
}

/* Written an object at a time, the refill leaves no block behind for the
 * readers (each object is one block, written once), so after clear every
 * block it needs is on the slab's free lists at its size: no allocator
 * call from the first cycle on. */
static void test_reconcile_by_object_allocates_nothing(void **st)
{
    (void)st;
    oomkit_allocator a = { c_malloc, c_realloc, c_free, NULL };
    oomkit_set_allocator(&a);
    unsigned long long per_cycle[RECONCILE_CYCLES + 1], total = 0;
    oomkit_store *s = reconcile(fill_objects, per_cycle);
    for (int c = 1; c <= RECONCILE_CYCLES; c++)
        total += per_cycle[c];
    print_message("%d cycles written by object: %llu allocations\n", RECONCILE_CYCLES, total);
    assert_int_equal(total, 0);
    oomkit_store_close(s);
    oomkit_set_allocator(NULL);
}

static void test_reconcile_allocates_nothing(void **st)
{
    (void)st;
    oomkit_allocator a = { c_malloc, c_realloc, c_free, NULL };
    oomkit_set_allocator(&a);
    unsigned long long per_cycle[RECONCILE_CYCLES + 1];
    oomkit_store *s = reconcile(fill, per_cycle);
    const int cycles = RECONCILE_CYCLES;
    oomkit_store_stats stt;
    assert_int_equal(oomkit_store_stats_get(s, &stt), 0);
    print_message("allocations per cycle: first %llu, last %llu; store total %llu\n",
                  per_cycle[1], per_cycle[cycles], (unsigned long long)stt.allocations);
    /* Refilled a put at a time, each put that adds a field replaces the
     * object's block, and the replaced blocks wait for a grace period: the
     * slab takes a page when more of them wait than ever before, and the
     * ledger arrays (reclaim.c) grow: one per batch on its first use, and
     * larger ones when a grace period lags
     * behind a refill: with every batch in flight the filling ledger
     * doubles, up to 6 times (256 to 16,384 entries), until the bytes
     * waiting pass the hard bound (1 MiB here), and each size it needs is
     * allocated once more whenever the pool has none left (this run: 0 to
     * 11 in a cycle, 4 to 19 over 19 cycles). A few a cycle at most; the
     * peers allocate per entry (80,000 a cycle here). */
    unsigned long long late = 0;
    for (int c = 2; c <= cycles; c++) {
        late += per_cycle[c];
        assert_true(per_cycle[c] <= 8 * 7);
    }
    assert_true(late < 3 * (unsigned long long)cycles);
    oomkit_store_close(s);
    oomkit_set_allocator(NULL);
}

static oomkit_str pod_name(char *buf, size_t cap, int i)
{
    int n = snprintf(buf, cap, "pod-%08x-%d", (unsigned)i * 2654435761u, i);
    return (oomkit_str){ buf, (size_t)n };
}

struct seen {
    unsigned char *hit; /* by object number */
    int n, dup;
};

static int see_pod(void *ctx, oomkit_str name, oomkit_store_obj obj)
{
    (void)obj;
    struct seen *v = ctx;
    const char *dash = memchr(name.ptr + 4, '-', name.len - 4);
    assert_non_null(dash);
    int i = atoi(dash + 1);
    v->dup += v->hit[i]++ != 0;
    v->n++;
    return 0;
}

/* Visits namespace "big" and checks that exactly the objects i with
 * want(i) are seen, once each. */
static void expect_objects(const oomkit_store *s, int nobj, int (*want)(int))
{
    struct seen v = { calloc((size_t)nobj, 1), 0, 0 };
    assert_non_null(v.hit);
    assert_int_equal(oomkit_store_each_object(s, OOMKIT_STR("big"), see_pod, &v), 0);
    assert_int_equal(v.dup, 0);
    int expected = 0;
    for (int i = 0; i < nobj; i++) {
        expected += want(i) != 0;
        assert_int_equal(v.hit[i], want(i) != 0);
    }
    assert_int_equal(v.n, expected);
    free(v.hit);
}

static int all(int i) { (void)i; return 1; }
static int not_third(int i) { return i % 3 != 0; }

/* One namespace of 300,000 objects (the 1M-object workload's biggest holds
 * 170k). Its list grows a 4 KiB chunk at a time (nslist.h): no request to
 * the allocator is larger than the deferred-free ledger's largest array
 * (256 KiB), where a list copied whole on growth asked for 4 MiB in one
 * write. each_object sees exactly the live objects through deletes, slot
 * reuse, compact and clear. */
static void test_big_namespace_grows_in_chunks(void **st)
{
    (void)st;
    const int nobj = 300000;
    char nb[64];
    oomkit_allocator a = { c_malloc, c_realloc, c_free, NULL };
    oomkit_set_allocator(&a);
    largest = 0;
    oomkit_store *s;
    assert_int_equal(oomkit_store_open(NULL, &s), 0);
    for (int i = 0; i < nobj; i++)
        assert_int_equal(oomkit_store_put(s, OOMKIT_STR("big"), pod_name(nb, sizeof(nb), i),
                                          OOMKIT_STR("node"), i), 0);
    size_t ledger_max = ((size_t)SMEM_RETIRE_SLOTS << (SMEM_POOL_CLASSES - 1)) *
                        sizeof(oomkit__retired);
    print_message("largest allocation while growing to %d objects: %zu bytes\n", nobj, largest);
    assert_true(largest <= ledger_max);
    expect_objects(s, nobj, all);
    for (int i = 0; i < nobj; i += 3)
        assert_int_equal(oomkit_store_del_object(s, OOMKIT_STR("big"), pod_name(nb, sizeof(nb), i)), 0);
    expect_objects(s, nobj, not_third);
    /* Freed slots are reused before the list grows. */
    oomkit_store_stats before, after;
    assert_int_equal(oomkit_store_stats_get(s, &before), 0);
    for (int i = 0; i < nobj; i += 3)
        assert_int_equal(oomkit_store_put(s, OOMKIT_STR("big"), pod_name(nb, sizeof(nb), i),
                                          OOMKIT_STR("node"), i), 0);
    expect_objects(s, nobj, all);
    for (int i = 0; i < nobj; i += 3)
        assert_int_equal(oomkit_store_del_object(s, OOMKIT_STR("big"), pod_name(nb, sizeof(nb), i)), 0);
    assert_int_equal(oomkit_store_compact(s), 0);
    assert_int_equal(oomkit_store_stats_get(s, &after), 0);
    expect_objects(s, nobj, not_third);
    /* The packed list is smaller than the one that held every object. */
    assert_true(after.bytes_tables < before.bytes_tables);
    assert_int_equal(oomkit_store_clear(s), 0);
    for (int i = 0; i < nobj; i++)
        assert_int_equal(oomkit_store_put(s, OOMKIT_STR("big"), pod_name(nb, sizeof(nb), i),
                                          OOMKIT_STR("node"), i), 0);
    expect_objects(s, nobj, all);
    oomkit_store_close(s);
    oomkit_set_allocator(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mallinfo_matches_stats),
        cmocka_unit_test(test_reconcile_allocates_nothing),
        cmocka_unit_test(test_reconcile_by_object_allocates_nothing),
        cmocka_unit_test(test_big_namespace_grows_in_chunks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
