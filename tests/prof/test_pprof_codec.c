/* Unit tests of the pprof codec (src/pprof): a built profile survives
 * encode -> gzip -> file -> gunzip -> decode unchanged, and malformed input
 * is rejected with -EINVAL instead of crashing or being half-accepted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "pprof/pprof.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void build(struct oomkit__pprof_builder *b)
{
    assert_int_equal(oomkit__pprof_builder_init(b), 0);
    struct oomkit__pprof_profile *p = &b->profile;
    p->n_sample_types = 2;
    p->sample_types = oomkit__calloc(2, sizeof(*p->sample_types));
    p->sample_types[0].type = oomkit__pprof_intern_cstr(b, "alloc_space");
    p->sample_types[0].unit = oomkit__pprof_intern_cstr(b, "bytes");
    p->sample_types[1].type = oomkit__pprof_intern_cstr(b, "inuse_space");
    p->sample_types[1].unit = oomkit__pprof_intern_cstr(b, "bytes");
    p->n_functions = 1;
    p->functions = oomkit__calloc(1, sizeof(*p->functions));
    p->functions[0] = (struct oomkit__pprof_function){ 7, oomkit__pprof_intern_cstr(b, "leak_big"),
                                                       0, oomkit__pprof_intern_cstr(b, "a.c"), 12 };
    p->n_locations = 1;
    p->locations = oomkit__calloc(1, sizeof(*p->locations));
    p->locations[0].id = 3;
    p->locations[0].mapping_id = 1;
    p->locations[0].address = 0x401234;
    p->locations[0].n_lines = 1;
    p->locations[0].lines = oomkit__calloc(1, sizeof(struct oomkit__pprof_line));
    p->locations[0].lines[0] = (struct oomkit__pprof_line){ 7, 28 };
    p->n_mappings = 1;
    p->mappings = oomkit__calloc(1, sizeof(*p->mappings));
    p->mappings[0] = (struct oomkit__pprof_mapping){ .id = 1, .memory_start = 0x400000,
        .memory_limit = 0x500000, .filename = oomkit__pprof_intern_cstr(b, "/bin/x"),
        .build_id = oomkit__pprof_intern_cstr(b, "abcdef"), .has_functions = true };
    p->n_samples = 1;
    p->samples = oomkit__calloc(1, sizeof(*p->samples));
    p->samples[0].n_location_ids = 1;
    p->samples[0].location_ids = oomkit__calloc(1, sizeof(uint64_t));
    p->samples[0].location_ids[0] = 3;
    p->samples[0].n_values = 2;
    p->samples[0].values = oomkit__calloc(2, sizeof(int64_t));
    p->samples[0].values[0] = 40000000;
    p->samples[0].values[1] = -5; /* negative values must survive (diffs) */
    p->period = 524288;
    p->period_type.type = oomkit__pprof_intern_cstr(b, "space");
    p->period_type.unit = oomkit__pprof_intern_cstr(b, "bytes");
    p->default_sample_type = p->sample_types[1].type;
    p->time_nanos = 1234567890123;
}

static void test_roundtrip(void **state)
{
    (void)state;
    struct oomkit__pprof_builder b;
    build(&b);
    char path[] = "/tmp/oomkit-pprof-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(oomkit__pprof_write_file(&b.profile, path), 0);
    struct oomkit__pprof_profile q;
    assert_int_equal(oomkit__pprof_read_file(path, &q), 0);
    unlink(path);
    assert_int_equal(q.n_sample_types, 2);
    assert_string_equal(oomkit__pprof_str(&q, q.sample_types[1].type), "inuse_space");
    assert_int_equal(q.n_samples, 1);
    assert_int_equal(q.samples[0].values[0], 40000000);
    assert_int_equal(q.samples[0].values[1], -5);
    assert_int_equal(q.samples[0].location_ids[0], 3);
    assert_int_equal(q.locations[0].address, 0x401234);
    assert_int_equal(q.locations[0].lines[0].line, 28);
    assert_string_equal(oomkit__pprof_str(&q, q.functions[0].name), "leak_big");
    assert_string_equal(oomkit__pprof_str(&q, q.mappings[0].build_id), "abcdef");
    assert_true(q.mappings[0].has_functions);
    assert_int_equal(q.period, 524288);
    assert_int_equal(q.time_nanos, 1234567890123);
    assert_int_equal(oomkit__pprof_find_sample_type(&q, "inuse_space"), 1);
    oomkit__pprof_free(&q);
    oomkit__pprof_builder_free(&b);
}

static void test_intern_dedups(void **state)
{
    (void)state;
    struct oomkit__pprof_builder b;
    assert_int_equal(oomkit__pprof_builder_init(&b), 0);
    int64_t first = oomkit__pprof_intern_cstr(&b, "x");
    for (int i = 0; i < 1000; i++) {
        char s[16];
        snprintf(s, sizeof(s), "s%d", i);
        assert_true(oomkit__pprof_intern_cstr(&b, s) > 0);
    }
    assert_int_equal(oomkit__pprof_intern_cstr(&b, "x"), first);
    assert_int_equal(oomkit__pprof_intern_cstr(&b, ""), 0);
    assert_int_equal(b.profile.n_strings, 1002);
    oomkit__pprof_builder_free(&b);
}

static void test_rejects_malformed(void **state)
{
    (void)state;
    struct oomkit__pprof_builder b;
    build(&b);
    uint8_t *pb;
    size_t len;
    assert_int_equal(oomkit__pprof_encode(&b.profile, &pb, &len), 0);
    struct oomkit__pprof_profile q;
    /* Every strict prefix is either rejected or decodes to a valid profile;
     * none may crash. The full message must decode. */
    int rejected = 0;
    for (size_t n = 0; n < len; n++) {
        if (oomkit__pprof_decode(pb, n, &q) == 0)
            oomkit__pprof_free(&q);
        else
            rejected++;
    }
    assert_true(rejected > 0);
    assert_int_equal(oomkit__pprof_decode(pb, len, &q), 0);
    oomkit__pprof_free(&q);
    /* A sample whose value count differs from the sample types is invalid. */
    b.profile.samples[0].n_values = 1;
    oomkit__free(pb);
    assert_int_equal(oomkit__pprof_encode(&b.profile, &pb, &len), 0);
    assert_int_equal(oomkit__pprof_decode(pb, len, &q), -EINVAL);
    oomkit__free(pb);
    /* An out-of-range string index is refused by the encoder itself. */
    b.profile.functions[0].name = 999;
    assert_int_equal(oomkit__pprof_encode(&b.profile, &pb, &len), -EINVAL);
    b.profile.samples[0].n_values = 2;
    oomkit__pprof_builder_free(&b);
    /* A truncated gzip stream is corrupt, not an empty profile. */
    const uint8_t bad_gz[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xab };
    uint8_t *out;
    size_t out_len;
    assert_int_equal(oomkit__pprof_gunzip(bad_gz, sizeof(bad_gz), 1 << 20, &out, &out_len), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_intern_dedups),
        cmocka_unit_test(test_rejects_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
