/* Unit tests of every call of include/oomkit/store.h and its edges: bad
 * arguments, empty strings, NUL bytes, 64 KiB keys and names, a million
 * namespaces, stale handles, iteration stop values, count and stats. */
#include "oomkit/store.h"
#include "store_gen.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

static oomkit_store *open_store(void)
{
    oomkit_store *s = NULL;
    assert_int_equal(oomkit_store_open(NULL, &s), 0);
    assert_non_null(s);
    return s;
}

static int64_t get(oomkit_store *s, oomkit_str ns, oomkit_str name, oomkit_str key, int *rc)
{
    int64_t v = -12345;
    *rc = oomkit_store_get(s, ns, name, key, &v);
    return v;
}

static int count_fields_cb(void *ctx, oomkit_str key, uint32_t key_id, int64_t value)
{
    (void)key, (void)key_id, (void)value;
    (*(int *)ctx)++;
    return 0;
}
static int stop_cb(void *ctx, oomkit_str key, uint32_t key_id, int64_t value)
{
    (void)key, (void)key_id, (void)value;
    (*(int *)ctx)++;
    return 7;
}
static int stop_obj_cb(void *ctx, oomkit_str name, oomkit_store_obj obj)
{
    (void)name, (void)obj;
    (*(int *)ctx)++;
    return -3;
}
static int stop_ns_cb(void *ctx, oomkit_str ns, uint64_t n)
{
    (void)ns, (void)n;
    (*(int *)ctx)++;
    return 9;
}

static void test_bad_arguments(void **st)
{
    (void)st;
    oomkit_store *s = open_store();
    oomkit_str ok = OOMKIT_STR("x"), bad = { NULL, 3 };
    int64_t v;
    uint64_t u;
    uint32_t k;
    oomkit_store_obj h;
    oomkit_store_stats stats;
    int n = 0;
    assert_int_equal(oomkit_store_open(NULL, NULL), -EINVAL);
    assert_int_equal(oomkit_store_put(NULL, ok, ok, ok, 1), -EINVAL);
    assert_int_equal(oomkit_store_put(s, bad, ok, ok, 1), -EINVAL);
    assert_int_equal(oomkit_store_put(s, ok, bad, ok, 1), -EINVAL);
    assert_int_equal(oomkit_store_put(s, ok, ok, bad, 1), -EINVAL);
    assert_int_equal(oomkit_store_get(NULL, ok, ok, ok, &v), -EINVAL);
    assert_int_equal(oomkit_store_get(s, ok, ok, ok, NULL), -EINVAL);
    assert_int_equal(oomkit_store_get(s, ok, bad, ok, &v), -EINVAL);
    assert_int_equal(oomkit_store_del(NULL, ok, ok, ok), -EINVAL);
    assert_int_equal(oomkit_store_del(s, ok, ok, bad), -EINVAL);
    assert_int_equal(oomkit_store_del_object(NULL, ok, ok), -EINVAL);
    assert_int_equal(oomkit_store_del_object(s, bad, ok), -EINVAL);
    assert_int_equal(oomkit_store_count(NULL, &u, &u), -EINVAL);
    assert_int_equal(oomkit_store_clear(NULL), -EINVAL);
    assert_int_equal(oomkit_store_compact(NULL), -EINVAL);
    assert_int_equal(oomkit_store_reclaim(NULL), -EINVAL);
    assert_int_equal(oomkit_store_object(NULL, ok, ok, 1, &h), -EINVAL);
    assert_int_equal(oomkit_store_object(s, ok, ok, 1, NULL), -EINVAL);
    assert_int_equal(oomkit_store_object(s, bad, ok, 0, &h), -EINVAL);
    assert_int_equal(oomkit_store_key(NULL, ok, 1, &k), -EINVAL);
    assert_int_equal(oomkit_store_key(s, ok, 1, NULL), -EINVAL);
    assert_int_equal(oomkit_store_key(s, bad, 1, &k), -EINVAL);
    assert_int_equal(oomkit_store_obj_put(NULL, 1, 0, 1), -EINVAL);
    assert_int_equal(oomkit_store_obj_get(NULL, 1, 0, &v), -EINVAL);
    assert_int_equal(oomkit_store_obj_del(NULL, 1, 0), -EINVAL);
    assert_int_equal(oomkit_store_each_namespace(NULL, stop_ns_cb, &n), -EINVAL);
    assert_int_equal(oomkit_store_each_namespace(s, NULL, &n), -EINVAL);
    assert_int_equal(oomkit_store_each_object(s, ok, NULL, &n), -EINVAL);
    assert_int_equal(oomkit_store_each_object(NULL, ok, stop_obj_cb, &n), -EINVAL);
    assert_int_equal(oomkit_store_each_field(s, ok, ok, NULL, &n), -EINVAL);
    assert_int_equal(oomkit_store_each_field(s, ok, bad, count_fields_cb, &n), -EINVAL);
    assert_int_equal(oomkit_store_obj_each_field(s, 1, NULL, &n), -EINVAL);
    assert_int_equal(oomkit_store_stats_get(NULL, &stats), -EINVAL);
    assert_int_equal(oomkit_store_stats_get(s, NULL), -EINVAL);
    assert_int_equal(n, 0);
    oomkit_store_close(NULL);
    oomkit_store_close(s);
    /* expected_objects is a hint: SIZE_MAX looped in the table's sizing,
     * UINT32_MAX allocated 64 GiB. Presizing stops at 4M objects. */
    size_t hints[] = { SIZE_MAX, UINT32_MAX };
    for (size_t i = 0; i < 2; i++) {
        oomkit_store_options o = { .expected_objects = hints[i] };
        assert_int_equal(oomkit_store_open(&o, &s), 0);
        assert_int_equal(oomkit_store_stats_get(s, &stats), 0);
        assert_true(stats.bytes_total < ((uint64_t)256 << 20));
        assert_int_equal(oomkit_store_put(s, ok, ok, ok, 1), 0);
        oomkit_store_close(s);
    }
}

static void test_put_get_update_delete(void **st)
{
    (void)st;
    oomkit_store *s = open_store();
    oomkit_str ns = OOMKIT_STR("default"), name = OOMKIT_STR("pod-1"), k1 = OOMKIT_STR("cpu"),
               k2 = OOMKIT_STR("mem");
    int rc;
    assert_int_equal(get(s, ns, name, k1, &rc), -12345);
    assert_int_equal(rc, -ENOENT);
    assert_int_equal(oomkit_store_put(s, ns, name, k1, 5), 0);
    assert_int_equal(get(s, ns, name, k1, &rc), 5);
    assert_int_equal(oomkit_store_put(s, ns, name, k1, INT64_MIN), 0);
    assert_true(get(s, ns, name, k1, &rc) == INT64_MIN);
    assert_int_equal(oomkit_store_put(s, ns, name, k2, INT64_MAX), 0);
    assert_true(get(s, ns, name, k2, &rc) == INT64_MAX);
    uint64_t objs = 0, fields = 0;
    assert_int_equal(oomkit_store_count(s, &objs, &fields), 0);
    assert_int_equal(objs, 1);
    assert_int_equal(fields, 2);
    assert_int_equal(oomkit_store_count(s, NULL, NULL), 0);
    /* Missing things are just not found. */
    assert_int_equal(oomkit_store_del(s, ns, name, OOMKIT_STR("nope")), -ENOENT);
    assert_int_equal(oomkit_store_del(s, OOMKIT_STR("nons"), name, k1), -ENOENT);
    assert_int_equal(oomkit_store_del_object(s, ns, OOMKIT_STR("nope")), -ENOENT);
    get(s, OOMKIT_STR("nons"), name, k1, &rc);
    assert_int_equal(rc, -ENOENT);
    /* Deleting the last field deletes the object. */
    assert_int_equal(oomkit_store_del(s, ns, name, k1), 0);
    get(s, ns, name, k1, &rc);
    assert_int_equal(rc, -ENOENT);
    assert_int_equal(get(s, ns, name, k2, &rc), INT64_MAX);
    assert_int_equal(oomkit_store_del(s, ns, name, k2), 0);
    assert_int_equal(oomkit_store_count(s, &objs, &fields), 0);
    assert_int_equal(objs, 0);
    assert_int_equal(fields, 0);
    assert_int_equal(oomkit_store_each_field(s, ns, name, count_fields_cb, &rc), -ENOENT);
    assert_int_equal(oomkit_store_each_object(s, ns, stop_obj_cb, &rc), -ENOENT);
    assert_int_equal(oomkit_store_put(s, ns, name, k1, 1), 0);
    assert_int_equal(oomkit_store_del_object(s, ns, name), 0);
    assert_int_equal(oomkit_store_del_object(s, ns, name), -ENOENT);
    oomkit_store_close(s);
}

static void test_put_fields(void **st)
{
    (void)st;
    oomkit_store *s = open_store();
    oomkit_str ns = OOMKIT_STR("default"), name = OOMKIT_STR("pod-1"), bad = { NULL, 1 };
    oomkit_store_field f[3] = { { OOMKIT_STR("cpu"), 1 }, { OOMKIT_STR("mem"), 2 },
                                { OOMKIT_STR("cpu"), 3 } };
    static oomkit_store_field many[OOMKIT_STORE_PUT_FIELDS_MAX + 1];
    int rc;
    assert_int_equal(oomkit_store_put_fields(NULL, ns, name, f, 1), -EINVAL);
    assert_int_equal(oomkit_store_put_fields(s, bad, name, f, 1), -EINVAL);
    assert_int_equal(oomkit_store_put_fields(s, ns, bad, f, 1), -EINVAL);
    assert_int_equal(oomkit_store_put_fields(s, ns, name, NULL, 1), -EINVAL);
    assert_int_equal(oomkit_store_put_fields(s, ns, name, f, 0), -EINVAL);
    assert_int_equal(oomkit_store_put_fields(s, ns, name, many, OOMKIT_STORE_PUT_FIELDS_MAX + 1),
                     -EINVAL);
    oomkit_store_field with_bad[2] = { { OOMKIT_STR("ok"), 1 }, { bad, 2 } };
    assert_int_equal(oomkit_store_put_fields(s, ns, name, with_bad, 2), -EINVAL);
    uint32_t kid;
    assert_int_equal(oomkit_store_key(s, OOMKIT_STR("ok"), 0, &kid), -ENOENT);

    /* A key given twice takes its last value; one object, two fields. */
    assert_int_equal(oomkit_store_put_fields(s, ns, name, f, 3), 0);
    assert_int_equal(get(s, ns, name, OOMKIT_STR("cpu"), &rc), 3);
    assert_int_equal(get(s, ns, name, OOMKIT_STR("mem"), &rc), 2);
    uint64_t objs, fields;
    assert_int_equal(oomkit_store_count(s, &objs, &fields), 0);
    assert_int_equal(objs, 1);
    assert_int_equal(fields, 2);
    /* Other fields stay; new keys are added, known ones updated. */
    assert_int_equal(oomkit_store_put(s, ns, name, OOMKIT_STR("gpu"), 9), 0);
    oomkit_store_field g[2] = { { OOMKIT_STR("mem"), 20 }, { OOMKIT_STR("disk"), 30 } };
    assert_int_equal(oomkit_store_put_fields(s, ns, name, g, 2), 0);
    assert_int_equal(get(s, ns, name, OOMKIT_STR("cpu"), &rc), 3);
    assert_int_equal(get(s, ns, name, OOMKIT_STR("mem"), &rc), 20);
    assert_int_equal(get(s, ns, name, OOMKIT_STR("gpu"), &rc), 9);
    assert_int_equal(get(s, ns, name, OOMKIT_STR("disk"), &rc), 30);
    assert_int_equal(oomkit_store_count(s, &objs, &fields), 0);
    assert_int_equal(fields, 4);
    /* Writing the values it already holds changes nothing and leaves no
     * block behind; so does changing one value (in place, as a put). */
    oomkit_store_stats before, after;
    assert_int_equal(oomkit_store_stats_get(s, &before), 0);
    assert_int_equal(oomkit_store_put_fields(s, ns, name, g, 2), 0);
    g[0].value = 21;
    assert_int_equal(oomkit_store_put_fields(s, ns, name, g, 2), 0);
    assert_int_equal(oomkit_store_stats_get(s, &after), 0);
    assert_int_equal(after.allocations, before.allocations);
    assert_int_equal(after.bytes_retired, before.bytes_retired);
    assert_int_equal(get(s, ns, name, OOMKIT_STR("mem"), &rc), 21);
    /* Keys wider than a byte: 300 keys, so ids pass 255 in one write. */
    static char kb[300][8];
    for (int i = 0; i < 300; i++) {
        many[i].key = (oomkit_str){ kb[i], (size_t)snprintf(kb[i], sizeof kb[i], "w%d", i) };
        many[i].value = i;
    }
    assert_int_equal(oomkit_store_put_fields(s, ns, OOMKIT_STR("wide"), many, 300), 0);
    for (int i = 0; i < 300; i += 37)
        assert_int_equal(get(s, ns, OOMKIT_STR("wide"), many[i].key, &rc), i);
    assert_int_equal(oomkit_store_put_fields(s, ns, name, many + 290, 10), 0);
    assert_int_equal(get(s, ns, name, many[299].key, &rc), 299);
    assert_int_equal(get(s, ns, name, OOMKIT_STR("cpu"), &rc), 3);
    oomkit_store_close(s);
}

static void test_empty_and_nul_strings(void **st)
{
    (void)st;
    oomkit_store *s = open_store();
    oomkit_str e = { NULL, 0 }, e2 = OOMKIT_STR("");
    oomkit_str a = { "a\0b", 3 }, b = { "a\0c", 3 }, c = { "a", 1 };
    int rc;
    assert_int_equal(oomkit_store_put(s, e, e, e, 1), 0);
    assert_int_equal(get(s, e2, e2, e2, &rc), 1);
    assert_int_equal(oomkit_store_put(s, a, a, a, 2), 0);
    assert_int_equal(oomkit_store_put(s, b, b, b, 3), 0);
    assert_int_equal(oomkit_store_put(s, c, c, c, 4), 0);
    assert_int_equal(oomkit_store_put(s, a, b, c, 5), 0);
    assert_int_equal(get(s, a, a, a, &rc), 2);
    assert_int_equal(get(s, b, b, b, &rc), 3);
    assert_int_equal(get(s, c, c, c, &rc), 4);
    assert_int_equal(get(s, a, b, c, &rc), 5);
    get(s, a, a, b, &rc);
    assert_int_equal(rc, -ENOENT);
    get(s, c, a, a, &rc);
    assert_int_equal(rc, -ENOENT);
    oomkit_store_stats stt;
    assert_int_equal(oomkit_store_stats_get(s, &stt), 0);
    assert_int_equal(stt.namespaces, 4);
    assert_int_equal(stt.keys, 4);
    assert_int_equal(stt.objects, 5);
    oomkit_store_close(s);
}

static void test_big_strings(void **st)
{
    (void)st;
    oomkit_store *s = open_store();
    size_t big = 64 * 1024, huge = 1024 * 1024 + 3;
    char *k = malloc(huge), *n = malloc(huge);
    for (size_t i = 0; i < huge; i++) {
        k[i] = (char)('a' + i % 26);
        n[i] = (char)(i % 251);
    }
    oomkit_str key = { k, big }, name = { n, big }, ns = { k + 1, big };
    oomkit_str hname = { n, huge }, hkey = { k, huge };
    int rc;
    assert_int_equal(oomkit_store_put(s, ns, name, key, 42), 0);
    assert_int_equal(oomkit_store_put(s, ns, hname, hkey, 43), 0);
    assert_int_equal(oomkit_store_put(s, ns, hname, key, 44), 0);
    assert_int_equal(get(s, ns, name, key, &rc), 42);
    assert_int_equal(get(s, ns, hname, hkey, &rc), 43);
    assert_int_equal(get(s, ns, hname, key, &rc), 44);
    /* A prefix is another string. */
    oomkit_str shorter = { k, big - 1 };
    get(s, ns, name, shorter, &rc);
    assert_int_equal(rc, -ENOENT);
    int nf = 0;
    assert_int_equal(oomkit_store_each_field(s, ns, hname, count_fields_cb, &nf), 0);
    assert_int_equal(nf, 2);
    assert_int_equal(oomkit_store_del(s, ns, hname, hkey), 0);
    assert_int_equal(get(s, ns, hname, key, &rc), 44);
    assert_int_equal(oomkit_store_compact(s), 0);
    assert_int_equal(get(s, ns, hname, key, &rc), 44);
    assert_int_equal(oomkit_store_del_object(s, ns, hname), 0);
    oomkit_store_close(s);
    free(k);
    free(n);
}

static void test_handles(void **st)
{
    (void)st;
    oomkit_store *s = open_store();
    oomkit_str ns = OOMKIT_STR("n"), name = OOMKIT_STR("o");
    oomkit_store_obj h, h2, h3;
    uint32_t k0, k1, kx;
    int64_t v;
    assert_int_equal(oomkit_store_object(s, ns, name, 0, &h), -ENOENT);
    assert_int_equal(oomkit_store_key(s, OOMKIT_STR("k0"), 0, &k0), -ENOENT);
    assert_int_equal(oomkit_store_key(s, OOMKIT_STR("k0"), 1, &k0), 0);
    assert_int_equal(oomkit_store_key(s, OOMKIT_STR("k1"), 1, &k1), 0);
    assert_int_equal(k0, 0);
    assert_int_equal(k1, 1);
    assert_int_equal(oomkit_store_key(s, OOMKIT_STR("k1"), 0, &kx), 0);
    assert_int_equal(kx, 1);
    /* An empty object exists and counts, with no field. */
    assert_int_equal(oomkit_store_object(s, ns, name, 1, &h), 0);
    assert_true(h != 0);
    uint64_t objs, fields;
    oomkit_store_count(s, &objs, &fields);
    assert_int_equal(objs, 1);
    assert_int_equal(fields, 0);
    int nf = 0;
    assert_int_equal(oomkit_store_obj_each_field(s, h, count_fields_cb, &nf), 0);
    assert_int_equal(nf, 0);
    assert_int_equal(oomkit_store_object(s, ns, name, 0, &h2), 0);
    assert_true(h2 == h);
    assert_int_equal(oomkit_store_obj_get(s, h, k0, &v), -ENOENT);
    assert_int_equal(oomkit_store_obj_put(s, h, 999, 1), -EINVAL);
    assert_int_equal(oomkit_store_obj_put(s, h, k0, 10), 0);
    assert_int_equal(oomkit_store_obj_put(s, h, k1, 11), 0);
    assert_int_equal(oomkit_store_obj_put(s, h, k1, 12), 0);
    assert_int_equal(oomkit_store_obj_get(s, h, k1, &v), 0);
    assert_int_equal(v, 12);
    int rc;
    assert_int_equal(get(s, ns, name, OOMKIT_STR("k0"), &rc), 10);
    assert_int_equal(oomkit_store_obj_del(s, h, k0), 0);
    assert_int_equal(oomkit_store_obj_del(s, h, k0), -ENOENT);
    assert_int_equal(oomkit_store_obj_get(s, h, k1, &v), 0);
    /* Deleting the last field deletes the object: the handle goes stale. */
    assert_int_equal(oomkit_store_obj_del(s, h, k1), 0);
    assert_int_equal(oomkit_store_obj_get(s, h, k1, &v), -ENOENT);
    assert_int_equal(oomkit_store_obj_put(s, h, k1, 1), -ENOENT);
    assert_int_equal(oomkit_store_obj_each_field(s, h, count_fields_cb, &nf), -ENOENT);
    /* Recreated under the same name: a different handle; the old one stays
     * stale even after its id is reused. */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(oomkit_store_object(s, ns, name, 1, &h3), 0);
        assert_true(h3 != h);
        assert_int_equal(oomkit_store_obj_put(s, h3, k0, 5), 0);
        assert_int_equal(oomkit_store_compact(s), 0); /* passes a grace period */
        assert_int_equal(oomkit_store_del_object(s, ns, name), 0);
        assert_int_equal(oomkit_store_obj_get(s, h3, k0, &v), -ENOENT);
        assert_int_equal(oomkit_store_obj_get(s, h, k0, &v), -ENOENT);
    }
    assert_int_equal(oomkit_store_object(s, ns, name, 1, &h3), 0);
    assert_int_equal(oomkit_store_clear(s), 0);
    assert_int_equal(oomkit_store_obj_get(s, h3, k0, &v), -ENOENT);
    /* Handles never 0, junk handles are just not found. */
    assert_int_equal(oomkit_store_obj_get(s, 0, k0, &v), -ENOENT);
    assert_int_equal(oomkit_store_obj_get(s, UINT64_MAX, k0, &v), -ENOENT);
    assert_int_equal(oomkit_store_obj_get(s, (1ull << 32) | 123456, k0, &v), -ENOENT);
    oomkit_store_close(s);
}

typedef struct deadlock_ctx {
    oomkit_store *s;
    int rc[9];
} deadlock_ctx;

static int writer_in_callback(void *ctx, oomkit_str key, uint32_t key_id, int64_t value)
{
    (void)key, (void)value;
    deadlock_ctx *d = ctx;
    oomkit_store_obj h;
    uint32_t k;
    int64_t v;
    d->rc[0] = oomkit_store_put(d->s, OOMKIT_STR("n"), OOMKIT_STR("o"), OOMKIT_STR("k"), 2);
    d->rc[1] = oomkit_store_del(d->s, OOMKIT_STR("n"), OOMKIT_STR("o"), OOMKIT_STR("k"));
    d->rc[2] = oomkit_store_clear(d->s);
    d->rc[3] = oomkit_store_compact(d->s);
    d->rc[4] = oomkit_store_object(d->s, OOMKIT_STR("n"), OOMKIT_STR("p"), 1, &h);
    d->rc[5] = oomkit_store_key(d->s, OOMKIT_STR("new"), 1, &k);
    d->rc[8] = oomkit_store_reclaim(d->s);
    /* Readers are fine inside a callback. */
    d->rc[6] = oomkit_store_get(d->s, OOMKIT_STR("n"), OOMKIT_STR("o"), OOMKIT_STR("k"), &v);
    d->rc[7] = oomkit_store_key(d->s, OOMKIT_STR("k"), 0, &k);
    return key_id == k ? 0 : 1;
}

static void test_writer_in_read_section(void **st)
{
    (void)st;
    oomkit_store *s = open_store();
    assert_int_equal(oomkit_store_put(s, OOMKIT_STR("n"), OOMKIT_STR("o"), OOMKIT_STR("k"), 1), 0);
    deadlock_ctx d = { s, { 0 } };
    assert_int_equal(oomkit_store_each_field(s, OOMKIT_STR("n"), OOMKIT_STR("o"),
                                             writer_in_callback, &d), 0);
    for (int i = 0; i < 6; i++)
        assert_int_equal(d.rc[i], -EDEADLK);
    assert_int_equal(d.rc[8], -EDEADLK);
    assert_int_equal(d.rc[6], 0);
    assert_int_equal(d.rc[7], 0);
    int rc;
    assert_int_equal(get(s, OOMKIT_STR("n"), OOMKIT_STR("o"), OOMKIT_STR("k"), &rc), 1);
    oomkit_store_close(s);
}

static void test_iteration_stops(void **st)
{
    (void)st;
    oomkit_store *s = open_store();
    for (int i = 0; i < 10; i++) {
        char nm[16];
        oomkit_str name = { nm, (size_t)snprintf(nm, sizeof(nm), "o%d", i) };
        assert_int_equal(oomkit_store_put(s, OOMKIT_STR("a"), name, OOMKIT_STR("k1"), i), 0);
        assert_int_equal(oomkit_store_put(s, OOMKIT_STR("a"), name, OOMKIT_STR("k2"), i), 0);
        assert_int_equal(oomkit_store_put(s, OOMKIT_STR("b"), name, OOMKIT_STR("k1"), i), 0);
    }
    int n = 0;
    assert_int_equal(oomkit_store_each_namespace(s, stop_ns_cb, &n), 9);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(oomkit_store_each_object(s, OOMKIT_STR("a"), stop_obj_cb, &n), -3);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(oomkit_store_each_field(s, OOMKIT_STR("a"), OOMKIT_STR("o3"), stop_cb, &n), 7);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(oomkit_store_each_field(s, OOMKIT_STR("a"), OOMKIT_STR("o3"),
                                             count_fields_cb, &n), 0);
    assert_int_equal(n, 2);
    oomkit_store_close(s);
}

static int ns_count_cb(void *ctx, oomkit_str ns, uint64_t n)
{
    uint64_t *acc = ctx;
    (void)ns;
    acc[0]++;
    acc[1] += n;
    return 0;
}

static void test_million_namespaces(void **st)
{
    (void)st;
    size_t n = STORE_TEST_ASAN ? 200000 : 1000000;
    oomkit_store *s = open_store();
    char buf[32];
    for (size_t i = 0; i < n; i++) {
        oomkit_str ns = { buf, (size_t)snprintf(buf, sizeof(buf), "namespace-%zu", i) };
        assert_int_equal(oomkit_store_put(s, ns, OOMKIT_STR("obj"), OOMKIT_STR("k"), (int64_t)i), 0);
    }
    uint64_t acc[2] = { 0, 0 };
    assert_int_equal(oomkit_store_each_namespace(s, ns_count_cb, acc), 0);
    assert_int_equal(acc[0], n);
    assert_int_equal(acc[1], n);
    for (size_t i = 0; i < n; i += 997) {
        oomkit_str ns = { buf, (size_t)snprintf(buf, sizeof(buf), "namespace-%zu", i) };
        int rc;
        assert_int_equal(get(s, ns, OOMKIT_STR("obj"), OOMKIT_STR("k"), &rc), (int64_t)i);
    }
    oomkit_store_stats stt;
    assert_int_equal(oomkit_store_stats_get(s, &stt), 0);
    assert_int_equal(stt.namespaces, n);
    assert_true(stt.atom_table_load > 0.3 && stt.atom_table_load <= 0.75);
    /* Removing every other namespace's only object drops their lists. */
    for (size_t i = 0; i < n; i += 2) {
        oomkit_str ns = { buf, (size_t)snprintf(buf, sizeof(buf), "namespace-%zu", i) };
        assert_int_equal(oomkit_store_del_object(s, ns, OOMKIT_STR("obj")), 0);
    }
    acc[0] = acc[1] = 0;
    assert_int_equal(oomkit_store_each_namespace(s, ns_count_cb, acc), 0);
    assert_int_equal(acc[0], n / 2);
    oomkit_store_close(s);
}

/* Sums key ids and values of the visited fields. */
static int sum_fields_cb(void *ctx, oomkit_str key, uint32_t key_id, int64_t value)
{
    (void)key;
    int64_t *acc = ctx;
    acc[0] += key_id;
    acc[1] += value;
    acc[2]++;
    return 0;
}

/* Blocks store key ids as u8, u16 or u32 and widen when a field with a
 * bigger id arrives (block.h). Object "wide" collects keys across every
 * width boundary, in an order that widens it twice, and also gets fields
 * put through its handle; "narrow" keeps one-byte keys beside it. */
static void test_key_widths(void **st)
{
    (void)st;
    oomkit_store *s = open_store();
    const size_t nkeys = 70000;
    char buf[32];
    uint32_t ids[6];
    const size_t pick[6] = { 3, 255, 256, 65535, 65536, 69999 };
    for (size_t i = 0; i < nkeys; i++) {
        oomkit_str k = { buf, (size_t)snprintf(buf, sizeof(buf), "key-%zu", i) };
        uint32_t id;
        assert_int_equal(oomkit_store_key(s, k, 1, &id), 0);
        assert_int_equal(id, i);
    }
    for (size_t j = 0; j < 6; j++) {
        oomkit_str k = { buf, (size_t)snprintf(buf, sizeof(buf), "key-%zu", pick[j]) };
        assert_int_equal(oomkit_store_key(s, k, 0, &ids[j]), 0);
        assert_int_equal(ids[j], pick[j]);
        assert_int_equal(oomkit_store_put(s, OOMKIT_STR("ns"), OOMKIT_STR("wide"), k,
                                          (int64_t)(j + 1) * 1000000007),
                         0);
        assert_int_equal(oomkit_store_put(s, OOMKIT_STR("ns"), OOMKIT_STR("narrow"),
                                          OOMKIT_STR("key-1"), (int64_t)j),
                         0);
    }
    oomkit_store_obj obj;
    assert_int_equal(oomkit_store_object(s, OOMKIT_STR("ns"), OOMKIT_STR("wide"), 0, &obj), 0);
    assert_int_equal(oomkit_store_obj_put(s, obj, 1, -1), 0);
    for (size_t j = 0; j < 6; j++) {
        oomkit_str k = { buf, (size_t)snprintf(buf, sizeof(buf), "key-%zu", pick[j]) };
        int rc;
        assert_int_equal(get(s, OOMKIT_STR("ns"), OOMKIT_STR("wide"), k, &rc),
                         (int64_t)(j + 1) * 1000000007);
        assert_int_equal(rc, 0);
        int64_t v = 0;
        assert_int_equal(oomkit_store_obj_get(s, obj, ids[j], &v), 0);
        assert_int_equal(v, (int64_t)(j + 1) * 1000000007);
        /* A key id that a narrower block could not hold is simply absent. */
        assert_int_equal(get(s, OOMKIT_STR("ns"), OOMKIT_STR("narrow"), k, &rc), -12345);
        assert_int_equal(rc, -ENOENT);
    }
    int64_t acc[3] = { 0, 0, 0 };
    assert_int_equal(oomkit_store_each_field(s, OOMKIT_STR("ns"), OOMKIT_STR("wide"),
                                             sum_fields_cb, acc),
                     0);
    assert_int_equal(acc[2], 7);
    assert_int_equal(acc[0], 3 + 255 + 256 + 65535 + 65536 + 69999 + 1);
    assert_int_equal(acc[1], 21 * (int64_t)1000000007 - 1);
    /* Deleting the widest field keeps every other one readable. */
    assert_int_equal(oomkit_store_obj_del(s, obj, ids[5]), 0);
    assert_int_equal(oomkit_store_obj_del(s, obj, ids[0]), 0);
    int64_t v = 0;
    assert_int_equal(oomkit_store_obj_get(s, obj, ids[4], &v), 0);
    assert_int_equal(v, 5 * (int64_t)1000000007);
    assert_int_equal(oomkit_store_obj_get(s, obj, 1, &v), 0);
    assert_int_equal(v, -1);
    assert_int_equal(oomkit_store_obj_get(s, obj, ids[5], &v), -ENOENT);
    oomkit_store_close(s);
}

/* One-byte keys are compared 16 at a time, the bytes past the last field
 * masked off (block.h, oomkit__find_u8_wide). Key "k0" (id 0) is never
 * put, so a zeroed unused key slot read as a field would answer for it.
 * Every key is checked through get and get_many at every field count up
 * to 40, across three 16-key compares, and while fields are deleted from
 * the front, middle and back. */
#define SCAN_KEYS 41

static void check_fields(oomkit_store *s, const int *present)
{
    const int nkeys = SCAN_KEYS;
    char buf[SCAN_KEYS][8];
    oomkit_store_lookup q[SCAN_KEYS];
    for (int i = 0; i < nkeys; i++) {
        oomkit_str k = { buf[i], (size_t)snprintf(buf[i], sizeof(buf[i]), "k%d", i) };
        int rc;
        int64_t v = get(s, OOMKIT_STR("ns"), OOMKIT_STR("obj"), k, &rc);
        assert_int_equal(rc, present[i] ? 0 : -ENOENT);
        if (present[i])
            assert_int_equal(v, 1000 + i);
        q[i] = (oomkit_store_lookup){ .ns = OOMKIT_STR("ns"), .name = OOMKIT_STR("obj"), .key = k };
    }
    size_t found = 0;
    assert_int_equal(oomkit_store_get_many(s, q, (size_t)nkeys, &found), 0);
    size_t want = 0;
    for (int i = 0; i < nkeys; i++) {
        assert_int_equal(q[i].rc, present[i] ? 0 : -ENOENT);
        if (present[i]) {
            assert_int_equal(q[i].value, 1000 + i);
            want++;
        }
    }
    assert_int_equal(found, want);
}

static void test_key_scan(void **st)
{
    (void)st;
    oomkit_store *s = open_store();
    int present[SCAN_KEYS] = { 0 };
    uint32_t id;
    assert_int_equal(oomkit_store_key(s, OOMKIT_STR("k0"), 1, &id), 0);
    assert_int_equal(id, 0);
    char buf[8];
    for (int i = 1; i < SCAN_KEYS; i++) {
        oomkit_str k = { buf, (size_t)snprintf(buf, sizeof(buf), "k%d", i) };
        assert_int_equal(oomkit_store_put(s, OOMKIT_STR("ns"), OOMKIT_STR("obj"), k, 1000 + i), 0);
        present[i] = 1;
        check_fields(s, present);
    }
    const int order[] = { 1, 40, 17, 16, 33, 2, 39, 20 };
    for (size_t j = 0; j < sizeof(order) / sizeof(order[0]); j++) {
        oomkit_str k = { buf, (size_t)snprintf(buf, sizeof(buf), "k%d", order[j]) };
        assert_int_equal(oomkit_store_del(s, OOMKIT_STR("ns"), OOMKIT_STR("obj"), k), 0);
        present[order[j]] = 0;
        check_fields(s, present);
    }
    oomkit_store_close(s);
}

static void test_stats_and_compact(void **st)
{
    (void)st;
    oomkit_store_options o = { 0, 5000 };
    oomkit_store *s;
    assert_int_equal(oomkit_store_open(&o, &s), 0);
    oomkit_store_stats a, b, c;
    assert_int_equal(oomkit_store_stats_get(s, &a), 0);
    assert_int_equal(a.objects, 0);
    assert_true(a.bytes_total > 0);
    assert_true(a.allocations >= 1);
    char buf[48];
    for (int i = 0; i < 20000; i++) {
        oomkit_str name = { buf, (size_t)snprintf(buf, sizeof(buf), "pod-%d-abcdef", i) };
        for (int k = 0; k < 6; k++) {
            char kb[8];
            oomkit_str key = { kb, (size_t)snprintf(kb, sizeof(kb), "k%d", k) };
            assert_int_equal(oomkit_store_put(s, OOMKIT_STR("ns"), name, key, k), 0);
        }
    }
    assert_int_equal(oomkit_store_stats_get(s, &b), 0);
    assert_int_equal(b.objects, 20000);
    assert_int_equal(b.fields, 120000);
    assert_int_equal(b.namespaces, 1);
    assert_int_equal(b.keys, 6);
    assert_int_equal(b.bytes_total, b.bytes_atoms + b.bytes_names + b.bytes_fields +
                                        b.bytes_tables + b.bytes_retired);
    assert_true(b.bytes_names >= 20000 * 14);
    assert_true(b.bytes_fields >= 120000 * 12);
    assert_true(b.object_table_load > 0.2 && b.object_table_load <= 0.85);
    assert_true(b.resizes > 0);
    assert_true(b.allocations > a.allocations);
    /* Mass delete, then compact gives memory back. */
    for (int i = 0; i < 20000; i++) {
        if (i % 50 == 0)
            continue;
        oomkit_str name = { buf, (size_t)snprintf(buf, sizeof(buf), "pod-%d-abcdef", i) };
        assert_int_equal(oomkit_store_del_object(s, OOMKIT_STR("ns"), name), 0);
    }
    assert_int_equal(oomkit_store_compact(s), 0);
    assert_int_equal(oomkit_store_stats_get(s, &c), 0);
    assert_int_equal(c.objects, 400);
    assert_true(c.bytes_total * 4 < b.bytes_total);
    assert_int_equal(c.bytes_retired, 0);
    for (int i = 0; i < 20000; i += 50) {
        oomkit_str name = { buf, (size_t)snprintf(buf, sizeof(buf), "pod-%d-abcdef", i) };
        int rc;
        assert_int_equal(get(s, OOMKIT_STR("ns"), name, OOMKIT_STR("k5"), &rc), 5);
    }
    /* Clear keeps capacity; compact after clear frees the blocks. */
    assert_int_equal(oomkit_store_clear(s), 0);
    oomkit_store_stats d;
    assert_int_equal(oomkit_store_stats_get(s, &d), 0);
    assert_int_equal(d.objects, 0);
    assert_int_equal(d.fields, 0);
    assert_int_equal(d.bytes_names, 0);
    assert_int_equal(oomkit_store_compact(s), 0);
    assert_int_equal(oomkit_store_stats_get(s, &d), 0);
    assert_true(d.bytes_total < c.bytes_total);
    oomkit_store_close(s);
}

/* Puts keys k0..k<keys-1> into objects pod-0..pod-<objects-1> of ns. Every
 * new field copies its block and retires the old one, so many objects seal
 * many ledgers for the grace-period thread. */
static void put_fields(oomkit_store *s, const char *ns, int objects, int keys)
{
    char buf[32];
    for (int i = 0; i < objects; i++) {
        oomkit_str name = { buf, (size_t)snprintf(buf, sizeof(buf), "pod-%d", i) };
        for (int k = 0; k < keys; k++) {
            char kb[8];
            oomkit_str key = { kb, (size_t)snprintf(kb, sizeof(kb), "k%d", k) };
            assert_int_equal(oomkit_store_put(s, oomkit_cstr(ns), name, key, k), 0);
        }
    }
}

/* A deleted object waits in the ledger for readers to leave; reclaim frees
 * it at once and leaves the content as it was. */
static void test_reclaim(void **state)
{
    (void)state;
    oomkit_store *s;
    assert_int_equal(oomkit_store_open(NULL, &s), 0);
    static char name[1000];
    memset(name, 'n', sizeof(name));
    oomkit_str big = { name, sizeof(name) };
    assert_int_equal(oomkit_store_put(s, OOMKIT_STR("ns"), OOMKIT_STR("kept"), OOMKIT_STR("k"), 7),
                     0);
    assert_int_equal(oomkit_store_put(s, OOMKIT_STR("ns"), big, OOMKIT_STR("k"), 1), 0);
    assert_int_equal(oomkit_store_del_object(s, OOMKIT_STR("ns"), big), 0);
    oomkit_store_stats before, after;
    assert_int_equal(oomkit_store_stats_get(s, &before), 0);
    /* Far below any ledger's bound: nothing has freed it yet. */
    assert_true(before.bytes_retired >= sizeof(name));
    assert_int_equal(oomkit_store_reclaim(s), 0);
    assert_int_equal(oomkit_store_stats_get(s, &after), 0);
    assert_int_equal(after.bytes_retired, 0);
    assert_true(after.bytes_total <= before.bytes_total);
    assert_true(after.writer_waits > before.writer_waits);
    assert_int_equal(after.objects, 1);
    int rc;
    assert_int_equal(get(s, OOMKIT_STR("ns"), OOMKIT_STR("kept"), OOMKIT_STR("k"), &rc), 7);
    /* Nothing left to free: still 0, and no wait. */
    assert_int_equal(oomkit_store_reclaim(s), 0);
    assert_int_equal(oomkit_store_stats_get(s, &before), 0);
    assert_int_equal(before.bytes_retired, 0);
    assert_int_equal(before.writer_waits, after.writer_waits);
    /* The freed block is on its free list: putting the object back takes
     * it without a call to the allocator. */
    assert_int_equal(oomkit_store_put(s, OOMKIT_STR("ns"), big, OOMKIT_STR("k"), 1), 0);
    assert_int_equal(oomkit_store_stats_get(s, &after), 0);
    assert_int_equal(after.allocations, before.allocations);
    assert_int_equal(after.bytes_total, before.bytes_total);
    oomkit_store_close(s);
}

/* writer_waits counts the grace periods a writer waited for itself: none
 * for a few hundred puts (far under the 1 MiB hard bound, so no grace
 * period can hold them up), one or more for a clear, which always waits. */
static void test_writer_waits(void **state)
{
    (void)state;
    oomkit_store *s;
    assert_int_equal(oomkit_store_open(NULL, &s), 0);
    put_fields(s, "ns", 100, 5);
    oomkit_store_stats st;
    assert_int_equal(oomkit_store_stats_get(s, &st), 0);
    assert_int_equal(st.fields, 500);
    assert_int_equal(st.writer_waits, 0);
    assert_int_equal(oomkit_store_clear(s), 0);
    assert_int_equal(oomkit_store_stats_get(s, &st), 0);
    assert_true(st.writer_waits >= 1);
    oomkit_store_close(s);
}

/* A child forked while the grace-period thread runs has no such thread:
 * its batches still finish, through a thread of its own, and a store it
 * opens works. The child reports through its exit status; an alarm turns
 * a hang into a failure. */
static void test_writes_after_fork(void **state)
{
    (void)state;
    oomkit_store *s;
    assert_int_equal(oomkit_store_open(NULL, &s), 0);
    put_fields(s, "parent", 20000, 8);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(30);
        oomkit_store *c;
        int ok = oomkit_store_open(NULL, &c) == 0;
        if (ok) {
            put_fields(c, "child", 20000, 8);
            put_fields(s, "inherited", 20000, 8);
            /* Without a thread of the child's own, every MiB retired would
             * make the writer wait for readers itself (9 times, measured with
             * the fork handler broken; a stalled machine may cost a few). */
            oomkit_store_stats cs, st;
            ok = oomkit_store_stats_get(c, &cs) == 0 && cs.writer_waits <= 4 &&
                 oomkit_store_clear(c) == 0 && oomkit_store_stats_get(s, &st) == 0 &&
                 st.fields == 2 * 20000 * 8;
            if (!ok)
                fprintf(stderr, "child: %llu waits, %llu fields\n",
                        (unsigned long long)cs.writer_waits, (unsigned long long)st.fields);
            oomkit_store_close(c);
        }
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    put_fields(s, "parent-after", 20000, 8);
    oomkit_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_put_get_update_delete),
        cmocka_unit_test(test_put_fields),
        cmocka_unit_test(test_empty_and_nul_strings),
        cmocka_unit_test(test_big_strings),
        cmocka_unit_test(test_handles),
        cmocka_unit_test(test_writer_in_read_section),
        cmocka_unit_test(test_iteration_stops),
        cmocka_unit_test(test_million_namespaces),
        cmocka_unit_test(test_key_widths),
        cmocka_unit_test(test_key_scan),
        cmocka_unit_test(test_stats_and_compact),
        cmocka_unit_test(test_reclaim),
        cmocka_unit_test(test_writer_waits),
        cmocka_unit_test(test_writes_after_fork),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
