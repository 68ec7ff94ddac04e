/* Tests of `oomkit report` on synthetic profiles with known values (run
 * in every build, ASan included: no preloading involved) and of
 * `oomkit profile` on a real target (in test_prof_profile_cmd, noasan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "pprof/pprof.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];

/* Runs `oomkit ARGS REDIRECT` and returns its exit code; what reaches the
 * pipe (stdout, or stderr with "2>&1 >/dev/null") into out. */
static int oomkit_with(const char *args, const char *redirect, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "'%s/oomkit' %s %s", getenv("OOMKIT_BINARY_DIR"), args, redirect);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t got = fread(out, 1, cap - 1, f);
    out[got] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* `oomkit ARGS`: its exit code, and its stdout into out. */
static int oomkit(const char *args, char *out, size_t cap)
{
    return oomkit_with(args, "2>/dev/null", out, cap);
}

/* `oomkit ARGS`: its exit code, and its stderr into out. */
static int oomkit_err(const char *args, char *out, size_t cap)
{
    return oomkit_with(args, "2>&1 >/dev/null", out, cap);
}

/* A two-stack heap profile: leak_here (x.c:10) keeps `leak_bytes` in use
 * in `leak_objs` objects; temp (y.c:20) allocated 2000 bytes, freed all. */
static void write_profile(const char *path, int64_t period, int64_t leak_objs, int64_t leak_bytes)
{
    struct oomkit__pprof_builder b;
    assert_int_equal(oomkit__pprof_builder_init(&b), 0);
    struct oomkit__pprof_profile *p = &b.profile;
    static const char *const types[4][2] = { { "alloc_objects", "count" }, { "alloc_space", "bytes" },
                                             { "inuse_objects", "count" }, { "inuse_space", "bytes" } };
    p->n_sample_types = 4;
    p->sample_types = oomkit__calloc(4, sizeof(*p->sample_types));
    for (int i = 0; i < 4; i++) {
        p->sample_types[i].type = oomkit__pprof_intern_cstr(&b, types[i][0]);
        p->sample_types[i].unit = oomkit__pprof_intern_cstr(&b, types[i][1]);
    }
    p->default_sample_type = p->sample_types[3].type;
    p->period = period;
    static const char *const fn[3][2] = { { "main", "m.c" }, { "leak_here", "x.c" }, { "temp", "y.c" } };
    p->n_functions = p->n_locations = 3;
    p->functions = oomkit__calloc(3, sizeof(*p->functions));
    p->locations = oomkit__calloc(3, sizeof(*p->locations));
    for (int i = 0; i < 3; i++) {
        p->functions[i].id = (uint64_t)i + 1;
        p->functions[i].name = oomkit__pprof_intern_cstr(&b, fn[i][0]);
        p->functions[i].filename = oomkit__pprof_intern_cstr(&b, fn[i][1]);
        p->locations[i].id = (uint64_t)i + 1;
        p->locations[i].n_lines = 1;
        p->locations[i].lines = oomkit__calloc(1, sizeof(struct oomkit__pprof_line));
        p->locations[i].lines[0].function_id = (uint64_t)i + 1;
        p->locations[i].lines[0].line = 10 * i;
    }
    p->n_samples = 2;
    p->samples = oomkit__calloc(2, sizeof(*p->samples));
    int64_t vals[2][4] = { { leak_objs, leak_bytes, leak_objs, leak_bytes }, { 20, 2000, 0, 0 } };
    for (int i = 0; i < 2; i++) {
        p->samples[i].n_location_ids = 2;
        p->samples[i].location_ids = oomkit__calloc(2, sizeof(uint64_t));
        p->samples[i].location_ids[0] = (uint64_t)i + 2; /* leaf */
        p->samples[i].location_ids[1] = 1;               /* main */
        p->samples[i].n_values = 4;
        p->samples[i].values = oomkit__calloc(4, sizeof(int64_t));
        memcpy(p->samples[i].values, vals[i], sizeof(vals[i]));
    }
    assert_int_equal(oomkit__pprof_write_file(p, path), 0);
    oomkit__pprof_builder_free(&b);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/oomkit-prof-cli-%ld", (long)getpid());
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir -p %s", dir, dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[700];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_top_and_leaks(void **state)
{
    (void)state;
    char path[512], args[1200], out[65536];
    snprintf(path, sizeof(path), "%s/now.pb.gz", dir);
    write_profile(path, 1, 10, 1000);
    snprintf(args, sizeof(args), "report %s", path);
    assert_int_equal(oomkit(args, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "Type: inuse_space"));
    char *row = strstr(out, "leak_here");
    assert_non_null(row);
    assert_non_null(strstr(out, "1000B"));
    assert_non_null(strstr(row, "x.c:10"));
    assert_null(strstr(out, "temp")); /* nothing of it is in use */

    snprintf(args, sizeof(args), "report %s --type alloc_space", path);
    assert_int_equal(oomkit(args, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "temp"));
    assert_non_null(strstr(out, "2.93KiB")); /* main's cum: 1000 + 2000 bytes */

    snprintf(args, sizeof(args), "report %s --leaks", path);
    assert_int_equal(oomkit(args, out, sizeof(out)), 1); /* findings */
    assert_non_null(strstr(out, "leak_here (x.c:10)"));
    assert_null(strstr(out, "temp"));

    snprintf(args, sizeof(args), "report %s --type no_such_type", path);
    assert_int_equal(oomkit(args, out, sizeof(out)), 2);
    snprintf(args, sizeof(args), "report %s/missing.pb.gz", dir);
    assert_int_equal(oomkit(args, out, sizeof(out)), 2);
    snprintf(args, sizeof(args), "report /dev/null --bogus");
    assert_int_equal(oomkit(args, out, sizeof(out)), 2);
}

static void test_json_and_ci(void **state)
{
    (void)state;
    /* 100 samples of 1024-byte objects at R = 512 KiB: the profile holds
     * the un-sampled estimate 100 / q objects. The 95 % interval for a
     * Poisson count of 100 is [81.37, 121.63] (Garwood, via
     * Wilson-Hilferty), so the byte interval is that times bytes/sample. */
    const double R = 524288, s = 1024, q = -expm1(-s / R);
    int64_t objs = llround(100 / q), bytes = llround(100 * s / q);
    char path[512], args[1200], out[65536];
    snprintf(path, sizeof(path), "%s/sampled.pb.gz", dir);
    write_profile(path, (int64_t)R, objs, bytes);
    snprintf(args, sizeof(args), "report %s --json", path);
    assert_int_equal(oomkit(args, out, sizeof(out)), 0);
    json_object *root = json_tokener_parse(out);
    assert_non_null(root);
    json_object *rows, *sampled;
    assert_true(json_object_object_get_ex(root, "sampled", &sampled));
    assert_true(json_object_get_boolean(sampled));
    assert_true(json_object_object_get_ex(root, "rows", &rows));
    json_object *r0 = json_object_array_get_idx(rows, 0), *v;
    assert_true(json_object_object_get_ex(r0, "function", &v));
    assert_string_equal(json_object_get_string(v), "leak_here");
    assert_true(json_object_object_get_ex(r0, "flat", &v));
    assert_int_equal(json_object_get_int64(v), bytes);
    double per = (double)bytes / 100;
    assert_true(json_object_object_get_ex(r0, "flat_ci95_lo", &v));
    double lo = (double)json_object_get_int64(v) / per;
    assert_true(json_object_object_get_ex(r0, "flat_ci95_hi", &v));
    double hi = (double)json_object_get_int64(v) / per;
    print_message("CI in samples: [%.2f, %.2f]\n", lo, hi);
    assert_true(fabs(lo - 81.37) < 0.5);
    assert_true(fabs(hi - 121.63) < 0.5);
    json_object_put(root);
    /* The text table prints the interval too. */
    snprintf(args, sizeof(args), "report %s", path);
    assert_int_equal(oomkit(args, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "95% CI"));
    /* --leaks gives each sampled site its interval as well. */
    snprintf(args, sizeof(args), "report %s --leaks --json", path);
    assert_int_equal(oomkit(args, out, sizeof(out)), 1);
    root = json_tokener_parse(out);
    assert_non_null(root);
    r0 = json_object_array_get_idx(root, 0);
    assert_true(json_object_object_get_ex(r0, "bytes_ci95_lo", &v));
    assert_true(fabs((double)json_object_get_int64(v) / per - 81.37) < 0.5);
    json_object_put(root);
}

static void test_svg_and_diff(void **state)
{
    (void)state;
    char base[512], now[512], svg[512], args[2000], out[65536];
    snprintf(base, sizeof(base), "%s/base.pb.gz", dir);
    snprintf(now, sizeof(now), "%s/now2.pb.gz", dir);
    snprintf(svg, sizeof(svg), "%s/flame.svg", dir);
    write_profile(base, 1, 4, 400);
    write_profile(now, 1, 10, 1000);
    snprintf(args, sizeof(args), "report %s --diff %s", now, base);
    assert_int_equal(oomkit(args, out, sizeof(out)), 0);
    char *row = strstr(out, "leak_here");
    assert_non_null(row);
    assert_non_null(strstr(out, "600B")); /* grew by 1000 - 400 */

    snprintf(args, sizeof(args), "report %s --svg %s --type alloc_space", now, svg);
    assert_int_equal(oomkit(args, out, sizeof(out)), 0);
    FILE *f = fopen(svg, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, sizeof(out) - 1, f);
    out[n] = '\0';
    fclose(f);
    assert_non_null(strstr(out, "<svg"));
    assert_non_null(strstr(out, "<script")); /* interactive, self-contained */
    assert_null(strstr(out, "href="));       /* no external references */
    assert_non_null(strstr(out, "<desc>leak_here</desc>"));
    assert_non_null(strstr(out, "<desc>temp</desc>"));
    /* leak_here is 1000 of 3000 bytes: a third of the width. */
    assert_non_null(strstr(out, "data-w=\"0.333333333\""));
}

/* Bad options and inputs are refused with a reason, not read another way. */
static void test_bad_options_and_inputs(void **state)
{
    (void)state;
    char prof[512], junk[512], svg[512], args[2000], out[4096];
    snprintf(prof, sizeof(prof), "%s/now3.pb.gz", dir);
    snprintf(junk, sizeof(junk), "%s/junk.pb.gz", dir);
    snprintf(svg, sizeof(svg), "%s/never.svg", dir);
    write_profile(prof, 1, 10, 1000);
    /* '1e9' is not 1 row; --leaks lists every site and draws nothing. */
    snprintf(args, sizeof(args), "report %s --top 1e9", prof);
    assert_int_equal(oomkit_err(args, out, sizeof(out)), 2);
    assert_non_null(strstr(out, "'1e9'"));
    snprintf(args, sizeof(args), "report %s --leaks --svg %s", prof, svg);
    assert_int_equal(oomkit_err(args, out, sizeof(out)), 2);
    assert_int_equal(access(svg, F_OK), -1);
    /* A directory and a file that is no profile say which they are. */
    snprintf(args, sizeof(args), "report %s", dir);
    assert_int_equal(oomkit_err(args, out, sizeof(out)), 2);
    assert_non_null(strstr(out, "Is a directory"));
    FILE *f = fopen(junk, "w");
    assert_non_null(f);
    fputs("not a profile", f);
    fclose(f);
    snprintf(args, sizeof(args), "report %s", junk);
    assert_int_equal(oomkit_err(args, out, sizeof(out)), 2);
    assert_non_null(strstr(out, "not a pprof profile"));
    /* Too big to be one: refused by size (a sparse file, no disk used). */
    assert_int_equal(truncate(junk, ((off_t)2 << 30) + 1), 0);
    assert_int_equal(oomkit_err(args, out, sizeof(out)), 2);
    assert_non_null(strstr(out, "larger than the 1 GiB"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_top_and_leaks),
        cmocka_unit_test(test_json_and_ci),
        cmocka_unit_test(test_svg_and_diff),
        cmocka_unit_test(test_bad_options_and_inputs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
