/* Tests of src/core: error names and the allocation seam. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "core/hash.h"
#include "oomkit/common.h"

static void test_strerror_names_codes(void **state)
{
    (void)state;
    assert_string_equal(oomkit_strerror(0), "success");
    assert_string_equal(oomkit_strerror(-E2BIG), "memory budget exceeded");
    assert_string_equal(oomkit_strerror(-ENOENT), "not found");
    /* Codes without a name of ours fall back to the C library's text. */
    assert_string_equal(oomkit_strerror(-EACCES), "Permission denied");
    assert_string_equal(oomkit_strerror(7), "unknown error");
    assert_string_equal(oomkit_strerror(-100000), "unknown error");
}

struct counting {
    int calls;
    int fail_at; /* fail the call with this 1-based number; 0 = never */
};

static void *counting_malloc(size_t size, void *ctx)
{
    struct counting *c = ctx;
    if (++c->calls == c->fail_at)
        return NULL;
    return malloc(size);
}
static void *counting_realloc(void *p, size_t size, void *ctx)
{
    struct counting *c = ctx;
    if (++c->calls == c->fail_at)
        return NULL;
    return realloc(p, size);
}
static void counting_free(void *p, void *ctx)
{
    (void)ctx;
    free(p);
}

static void test_allocator_hooks_see_every_call(void **state)
{
    (void)state;
    struct counting c = { 0, 3 };
    oomkit_allocator a = { counting_malloc, counting_realloc, counting_free, &c };
    oomkit_set_allocator(&a);
    void *p = oomkit__malloc(10);
    assert_non_null(p);
    p = oomkit__realloc(p, 100);
    assert_non_null(p);
    assert_null(oomkit__calloc(4, 4)); /* the third call fails */
    assert_int_equal(c.calls, 3);
    assert_null(oomkit__calloc(SIZE_MAX / 2, 4)); /* overflow never reaches the hook */
    assert_int_equal(c.calls, 3);
    oomkit__free(p);
    oomkit_set_allocator(NULL);
    p = oomkit__malloc(1);
    assert_non_null(p);
    oomkit__free(p);
    assert_int_equal(c.calls, 3);
}

/* A set missing a hook would be called at close (the free): it is
 * refused whole and malloc/realloc/free stay. */
static void test_allocator_missing_hook_refused(void **state)
{
    (void)state;
    struct counting c = { 0, 0 };
    oomkit_allocator a = { counting_malloc, NULL, NULL, &c };
    oomkit_set_allocator(&a);
    void *p = oomkit__malloc(10);
    assert_non_null(p);
    oomkit__free(p);
    assert_int_equal(c.calls, 0);
    oomkit_set_allocator(NULL);
}

static void test_footprint_matches_glibc_rounding(void **state)
{
    (void)state;
    assert_int_equal(oomkit__alloc_footprint(1), 32);
    assert_int_equal(oomkit__alloc_footprint(24), 32);
    assert_int_equal(oomkit__alloc_footprint(25), 48);
    assert_int_equal(oomkit__alloc_footprint(1000), 1008);
    assert_int_equal(oomkit__alloc_footprint(200000) % 4096, 0);
}

static void test_hash_depends_on_bytes_and_seed(void **state)
{
    (void)state;
    char a[] = { 'a', 0, 'b' }, b[] = { 'a', 0, 'c' };
    assert_int_not_equal(oomkit__hash(a, 3, 0), oomkit__hash(b, 3, 0));
    assert_int_not_equal(oomkit__hash(a, 3, 0), oomkit__hash(a, 3, 1));
    assert_int_equal(oomkit__hash(a, 3, 9), oomkit__hash(a, 3, 9));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_names_codes),
        cmocka_unit_test(test_allocator_hooks_see_every_call),
        cmocka_unit_test(test_allocator_missing_hook_refused),
        cmocka_unit_test(test_footprint_matches_glibc_rounding),
        cmocka_unit_test(test_hash_depends_on_bytes_and_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
