/* The corpus test: lints every manifest in tests/lint/manifests and checks
 * that the findings are exactly the seeded violations listed in
 * manifests/expected.txt (FILE:LINE:RULE, a multiset): every seeded
 * violation found, nothing else reported. It also checks that
 * expected.txt agrees with the "# seeded: RULE" comments in the manifests,
 * so the record and the manifests cannot drift apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lint_test_util.h"

#define MAX_KEYS 1024

struct keys {
    char *k[MAX_KEYS];
    size_t n;
};

static void add_key(struct keys *ks, const char *file, unsigned line, const char *rule,
                    size_t rule_len)
{
    assert_true(ks->n < MAX_KEYS);
    char buf[512];
    snprintf(buf, sizeof(buf), "%s:%u:%.*s", file, line, (int)rule_len, rule);
    ks->k[ks->n++] = strdup(buf);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_keys(struct keys *ks)
{
    for (size_t i = 0; i < ks->n; i++)
        free(ks->k[i]);
    ks->n = 0;
}

/* Prints the differences between two sorted multisets; returns their count. */
static size_t diff(struct keys *want, struct keys *got, const char *what_missing,
                   const char *what_extra)
{
    qsort(want->k, want->n, sizeof(char *), cmp_str);
    qsort(got->k, got->n, sizeof(char *), cmp_str);
    size_t i = 0, j = 0, bad = 0;
    while (i < want->n || j < got->n) {
        int c = i == want->n ? 1 : j == got->n ? -1 : strcmp(want->k[i], got->k[j]);
        if (c == 0) {
            i++;
            j++;
        } else if (c < 0) {
            fprintf(stderr, "%s: %s\n", what_missing, want->k[i++]);
            bad++;
        } else {
            fprintf(stderr, "%s: %s\n", what_extra, got->k[j++]);
            bad++;
        }
    }
    return bad;
}

static int yaml_file(const struct dirent *d)
{
    size_t n = strlen(d->d_name);
    return n > 5 && strcmp(d->d_name + n - 5, ".yaml") == 0;
}

static void test_corpus(void **state)
{
    (void)state;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", source_path("tests/lint/manifests"));
    struct dirent **names;
    int n = scandir(dir, &names, yaml_file, alphasort);
    assert_true(n >= 50); /* the corpus is at least 50 manifests */

    static struct keys got, seeded, expected;
    struct oomkit__lint_config cfg;
    oomkit__lint_config_default(&cfg);
    size_t kinds_containers = 0;
    for (int i = 0; i < n; i++) {
        char path[4400];
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        size_t len;
        char *text = read_file(path, &len);
        assert_non_null(text);
        struct oomkit__lint_report *rep = oomkit__lint_report_new();
        int rc = oomkit__lint_buffer(&cfg, rep, names[i]->d_name, text, len);
        if (rc != 0)
            dump_report(rep);
        assert_int_equal(rc, 0);
        for (size_t f = 0; f < rep->n_findings; f++) {
            const struct oomkit__lint_finding *fd = &rep->findings[f];
            const char *id = oomkit__lint_rules[fd->rule].id;
            add_key(&got, names[i]->d_name, fd->line, id, strlen(id));
            /* Every finding carries its position and a fix. */
            assert_true(fd->line > 0 && fd->column > 0);
            assert_true(strlen(fd->fix) > 10);
        }
        kinds_containers += rep->n_containers;
        oomkit__lint_report_free(rep);

        /* The "# seeded: a, b" markers of this file. */
        unsigned line = 1;
        for (char *p = text; *p != '\0'; line++) {
            char *eol = strchr(p, '\n');
            if (eol != NULL)
                *eol = '\0';
            char *m = strstr(p, "# seeded: ");
            if (m != NULL) {
                m += strlen("# seeded: ");
                while (*m != '\0') {
                    while (*m == ' ' || *m == ',')
                        m++;
                    size_t k = strcspn(m, ", ");
                    if (k > 0)
                        add_key(&seeded, names[i]->d_name, line, m, k);
                    m += k;
                }
            }
            if (eol == NULL)
                break;
            p = eol + 1;
        }
        free(text);
        free(names[i]);
    }
    free(names);
    assert_true(kinds_containers > 100);

    char *exp_text = read_file(source_path("tests/lint/manifests/expected.txt"), NULL);
    assert_non_null(exp_text);
    for (char *line = strtok(exp_text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (line[0] == '#' || line[0] == '\0')
            continue;
        assert_true(expected.n < MAX_KEYS);
        expected.k[expected.n++] = strdup(line);
    }
    free(exp_text);
    assert_true(expected.n >= 50);

    size_t drift = diff(&expected, &seeded, "in expected.txt but not marked in its manifest",
                        "marked '# seeded' but missing from expected.txt");
    size_t wrong = diff(&expected, &got, "seeded violation NOT FOUND", "FALSE POSITIVE");
    fprintf(stderr, "corpus: %zu expected findings, %zu reported\n", expected.n, got.n);
    assert_int_equal(drift, 0);
    assert_int_equal(wrong, 0);
    free_keys(&got);
    free_keys(&seeded);
    free_keys(&expected);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
