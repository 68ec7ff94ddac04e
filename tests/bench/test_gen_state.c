/* `oomkit gen-state`: the same options give the same bytes, and the output
 * has the shape of the reference generator gen_state.py: entries per object,
 * distinct keys per object, namespace skew, pod-style names. When python3
 * is at hand and OOMKIT_GEN_STATE_PY names gen_state.py, both generators
 * run with the same sizes and their statistics are compared. */
#include "bench_test_util.h"

#include <math.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#define MAX_NS 4096
#define MAX_KEYS_PER_OBJECT 64
#define MAX_VOCAB 256

/* Statistics of one TSV workload. Objects are runs of lines with the same
 * (namespace, name), which is how both generators write them. */
struct shape {
    uint64_t lines, objects, bad_names, repeated_keys, negative, wide_values;
    uint64_t keys_hist[MAX_KEYS_PER_OBJECT + 1];
    uint64_t min_keys, max_keys;
    char *ns_names[MAX_NS];
    uint64_t ns_objects[MAX_NS];
    size_t n_ns;
    char *vocab[MAX_VOCAB];
    size_t n_vocab;
    double name_len_sum;
};

static void shape_free(struct shape *s)
{
    for (size_t i = 0; i < s->n_ns; i++)
        free(s->ns_names[i]);
    for (size_t i = 0; i < s->n_vocab; i++)
        free(s->vocab[i]);
}

static void count_ns(struct shape *s, const char *ns)
{
    for (size_t i = 0; i < s->n_ns; i++) {
        if (strcmp(s->ns_names[i], ns) == 0) {
            s->ns_objects[i]++;
            return;
        }
    }
    assert_true(s->n_ns < MAX_NS);
    s->ns_names[s->n_ns] = strdup(ns);
    s->ns_objects[s->n_ns++] = 1;
}

static void count_vocab(struct shape *s, const char *key)
{
    for (size_t i = 0; i < s->n_vocab; i++) {
        if (strcmp(s->vocab[i], key) == 0)
            return;
    }
    assert_true(s->n_vocab < MAX_VOCAB);
    s->vocab[s->n_vocab++] = strdup(key);
}

static void end_object(struct shape *s, uint64_t nkeys)
{
    if (nkeys == 0)
        return;
    assert_true(nkeys <= MAX_KEYS_PER_OBJECT);
    s->keys_hist[nkeys]++;
    if (s->min_keys == 0 || nkeys < s->min_keys)
        s->min_keys = nkeys;
    if (nkeys > s->max_keys)
        s->max_keys = nkeys;
}

static void shape_of(const char *path, struct shape *s)
{
    memset(s, 0, sizeof(*s));
    char *text = bt_read_file(path, NULL);
    assert_non_null(text);
    regex_t re;
    assert_int_equal(regcomp(&re,
                             "^[a-z]+-[a-z]+-[0-9a-f]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    char prev_ns[256] = "", prev_name[256] = "";
    char keys[MAX_KEYS_PER_OBJECT][96];
    uint64_t nkeys = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char *f[4];
        char *fs = NULL;
        f[0] = strtok_r(line, "\t", &fs);
        for (int i = 1; i < 4; i++)
            f[i] = strtok_r(NULL, "\t", &fs);
        assert_non_null(f[3]);
        assert_null(strtok_r(NULL, "\t", &fs));
        s->lines++;
        if (strcmp(f[0], prev_ns) != 0 || strcmp(f[1], prev_name) != 0) {
            end_object(s, nkeys);
            nkeys = 0;
            s->objects++;
            snprintf(prev_ns, sizeof(prev_ns), "%s", f[0]);
            snprintf(prev_name, sizeof(prev_name), "%s", f[1]);
            count_ns(s, f[0]);
            s->name_len_sum += (double)strlen(f[1]);
            if (regexec(&re, f[1], 0, NULL, 0) != 0)
                s->bad_names++;
        }
        for (uint64_t i = 0; i < nkeys; i++)
            s->repeated_keys += strcmp(keys[i], f[2]) == 0;
        if (nkeys < MAX_KEYS_PER_OBJECT)
            snprintf(keys[nkeys++], sizeof(keys[0]), "%s", f[2]);
        count_vocab(s, f[2]);
        char *end;
        long long v = strtoll(f[3], &end, 10);
        assert_true(*end == '\0');
        s->negative += v < 0;
        s->wide_values += v > INT32_MAX || v < INT32_MIN;
    }
    end_object(s, nkeys);
    regfree(&re);
    free(text);
}

static double mean_keys(const struct shape *s)
{
    return (double)s->lines / (double)s->objects;
}

static double top_ns_share(const struct shape *s, const char **name)
{
    size_t best = 0;
    for (size_t i = 1; i < s->n_ns; i++) {
        if (s->ns_objects[i] > s->ns_objects[best])
            best = i;
    }
    if (name != NULL)
        *name = s->ns_names[best];
    return (double)s->ns_objects[best] / (double)s->objects;
}

static void gen(const char *args, const char *file)
{
    char cmd[4096], path[1024];
    snprintf(path, sizeof(path), "%s/%s", bt_tmpdir(), file);
    snprintf(cmd, sizeof(cmd), "'%s' gen-state %s -o '%s'", bt_oomkit(), args, path);
    assert_int_equal(bt_run(cmd, NULL, NULL), 0);
}

static char *tmp_path(const char *file)
{
    static char path[4][1024];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof(path[0]), "%s/%s", bt_tmpdir(), file);
    return p;
}

static void test_deterministic(void **state)
{
    (void)state;
    gen("--objects 3000 --seed 7", "a.tsv");
    gen("--objects 3000 --seed 7", "b.tsv");
    gen("--objects 3000 --seed 8", "c.tsv");
    size_t la, lb, lc;
    char *a = bt_read_file(tmp_path("a.tsv"), &la);
    char *b = bt_read_file(tmp_path("b.tsv"), &lb);
    char *c = bt_read_file(tmp_path("c.tsv"), &lc);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_true(la > 0);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    assert_true(la != lc || memcmp(a, c, la) != 0);
    /* Standard output carries the same bytes as -o. */
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "'%s' gen-state --objects 3000 --seed 7", bt_oomkit());
    char *out = NULL;
    assert_int_equal(bt_run(cmd, &out, NULL), 0);
    assert_non_null(out);
    assert_int_equal(strlen(out), la);
    assert_memory_equal(out, a, la);
    free(out);
    free(a);
    free(b);
    free(c);
}

static void test_shape(void **state)
{
    (void)state;
    gen("--objects 20000 --seed 3", "shape.tsv");
    struct shape s;
    shape_of(tmp_path("shape.tsv"), &s);
    printf("gen-state shape: %llu objects, %.3f entries/object, %zu namespaces, %zu keys, "
           "top namespace share %.3f\n",
           (unsigned long long)s.objects, mean_keys(&s), s.n_ns, s.n_vocab, top_ns_share(&s, NULL));
    assert_int_equal(s.objects, 20000);
    /* triangular(4, 16, mode 7) truncated to an int has mean 8.5. */
    assert_true(fabs(mean_keys(&s) - 8.5) < 0.15);
    assert_int_equal(s.min_keys, 4);
    assert_true(s.max_keys <= 16 && s.max_keys >= 14);
    assert_int_equal(s.repeated_keys, 0);
    assert_int_equal(s.bad_names, 0);
    /* Zipf-like weights 1/(i+1) over 200 namespaces: the first one,
     * "default", holds 1/H(200) = 17% of the objects; uniform would be 0.5%. */
    const char *top;
    double share = top_ns_share(&s, &top);
    assert_string_equal(top, "default");
    assert_true(share > 0.15 && share < 0.19);
    assert_true(s.n_ns > 150 && s.n_ns <= 200);
    assert_true(s.n_vocab >= 50);
    /* Uniform signed 64-bit values: about half negative, almost all wide. */
    assert_true(fabs((double)s.negative / (double)s.lines - 0.5) < 0.02);
    assert_true(s.wide_values > s.lines * 99 / 100);
    shape_free(&s);
}

static void test_options(void **state)
{
    (void)state;
    gen("--objects 500 --namespaces 5 --min-keys 2 --max-keys 3", "opt.tsv");
    struct shape s;
    shape_of(tmp_path("opt.tsv"), &s);
    assert_int_equal(s.objects, 500);
    assert_true(s.n_ns <= 5);
    assert_true(s.min_keys >= 2 && s.max_keys <= 3);
    shape_free(&s);

    char cmd[2048];
    char *err = NULL;
    snprintf(cmd, sizeof(cmd), "'%s' gen-state --objects 0", bt_oomkit());
    assert_int_equal(bt_run(cmd, NULL, &err), 2);
    assert_non_null(strstr(err, "--objects"));
    free(err);
    snprintf(cmd, sizeof(cmd), "'%s' gen-state --min-keys 9 --max-keys 3", bt_oomkit());
    assert_int_equal(bt_run(cmd, NULL, NULL), 2);
    snprintf(cmd, sizeof(cmd), "'%s' gen-state --bogus", bt_oomkit());
    assert_int_equal(bt_run(cmd, NULL, NULL), 2);
    /* Numbers are whole or refused: '1e3' is not 1, '-1' not 2^64 - 1, and
     * the message gives the real range. */
    const char *bad[][2] = {
        { "--objects 1e3", "not '1e3'" },
        { "--namespaces -1", "from 1 to 2804" },
        { "--max-keys 99", "from 1 to 54" },
        { "--min-keys 20", "above --max-keys 16 (the default" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(cmd, sizeof(cmd), "'%s' gen-state %s", bt_oomkit(), bad[i][0]);
        err = NULL;
        assert_int_equal(bt_run(cmd, NULL, &err), 2);
        assert_non_null(strstr(err, bad[i][1]));
        free(err);
    }
    /* A failed write leaves the file as it was, not half a workload. */
    const char *kept = tmp_path("kept.tsv");
    FILE *f = fopen(kept, "w");
    assert_non_null(f);
    fputs("old\n", f);
    fclose(f);
    snprintf(cmd, sizeof(cmd), "ulimit -f 8; trap '' XFSZ; '%s' gen-state --objects 20000 -o '%s'",
             bt_oomkit(), kept);
    err = NULL;
    assert_int_equal(bt_run(cmd, NULL, &err), 3);
    assert_non_null(strstr(err, "File too large"));
    free(err);
    struct stat st;
    assert_int_equal(stat(kept, &st), 0);
    assert_int_equal(st.st_size, 4);
    char *out = NULL;
    snprintf(cmd, sizeof(cmd), "'%s' gen-state --help", bt_oomkit());
    assert_int_equal(bt_run(cmd, &out, NULL), 0);
    assert_non_null(strstr(out, "usage: oomkit gen-state"));
    free(out);
}

/* The reference generator, gen_state.py, when OOMKIT_GEN_STATE_PY names
 * it. */
static const char *reference_generator(void)
{
    const char *env = getenv("OOMKIT_GEN_STATE_PY");
    return env != NULL && access(env, R_OK) == 0 ? env : NULL;
}

static void test_same_shape_as_python(void **state)
{
    (void)state;
    if (bt_run("python3 --version", NULL, NULL) != 0) {
        printf("SKIP: python3 is missing, so gen_state.py cannot run for the comparison\n");
        skip();
    }
    const char *py = reference_generator();
    if (py == NULL) {
        printf("SKIP: no reference gen_state.py to compare with (set OOMKIT_GEN_STATE_PY)\n");
        skip();
    }
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "python3 '%s' --objects 10000 --seed 5 > '%s'", py,
             tmp_path("py.tsv"));
    assert_int_equal(bt_run(cmd, NULL, NULL), 0);
    gen("--objects 10000 --seed 5", "c.tsv");
    struct shape p, c;
    shape_of(tmp_path("py.tsv"), &p);
    shape_of(tmp_path("c.tsv"), &c);
    const char *ptop, *ctop;
    double pshare = top_ns_share(&p, &ptop), cshare = top_ns_share(&c, &ctop);
    printf("python: %.3f entries/object, %zu namespaces, top %s %.3f, %zu keys, name %.2f B\n",
           mean_keys(&p), p.n_ns, ptop, pshare, p.n_vocab, p.name_len_sum / (double)p.objects);
    printf("oomkit: %.3f entries/object, %zu namespaces, top %s %.3f, %zu keys, name %.2f B\n",
           mean_keys(&c), c.n_ns, ctop, cshare, c.n_vocab, c.name_len_sum / (double)c.objects);
    assert_int_equal(p.objects, c.objects);
    /* Sampling noise at 10000 objects is about 0.03 on the mean and 0.004
     * on a share; the bounds leave room for it and catch a wrong rule. */
    assert_true(fabs(mean_keys(&p) - mean_keys(&c)) < 0.1);
    for (int k = 1; k <= MAX_KEYS_PER_OBJECT; k++) {
        double dp = (double)p.keys_hist[k] / (double)p.objects;
        double dc = (double)c.keys_hist[k] / (double)c.objects;
        if (fabs(dp - dc) >= 0.015)
            printf("keys-per-object share differs at %d: python %.4f, oomkit %.4f\n", k, dp, dc);
        assert_true(fabs(dp - dc) < 0.015);
    }
    assert_int_equal(p.min_keys, c.min_keys);
    assert_string_equal(ptop, ctop);
    assert_true(fabs(pshare - cshare) < 0.015);
    assert_true(fabs((double)p.n_ns - (double)c.n_ns) <= 0.1 * (double)p.n_ns);
    assert_int_equal(p.n_vocab, c.n_vocab);
    for (size_t i = 0; i < p.n_vocab; i++) {
        int found = 0;
        for (size_t j = 0; j < c.n_vocab && !found; j++)
            found = strcmp(p.vocab[i], c.vocab[j]) == 0;
        assert_true(found);
    }
    assert_true(fabs(p.name_len_sum / (double)p.objects - c.name_len_sum / (double)c.objects) <
                0.5);
    assert_int_equal(p.bad_names, 0);
    assert_int_equal(c.bad_names, 0);
    assert_int_equal(p.repeated_keys, 0);
    assert_int_equal(c.repeated_keys, 0);
    assert_true(fabs((double)p.negative / (double)p.lines - (double)c.negative / (double)c.lines) <
                0.02);
    shape_free(&p);
    shape_free(&c);
}

static int teardown(void **state)
{
    (void)state;
    bt_cleanup();
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_shape),
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_same_shape_as_python),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
