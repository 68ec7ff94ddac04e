/* The linter's report: a growable list of findings and input errors, and
 * the list of input names they point into. Every string a finding carries
 * lives in one allocation with the finding's text, so a report of 10 000
 * findings costs 10 000 small blocks, not 40 000. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "lint/internal.h"

struct oomkit__lint_report *oomkit__lint_report_new(void)
{
    return oomkit__calloc(1, sizeof(struct oomkit__lint_report));
}

void oomkit__lint_report_free(struct oomkit__lint_report *rep)
{
    if (rep == NULL)
        return;
    /* message is the start of each finding's single block. */
    for (size_t i = 0; i < rep->n_findings; i++)
        oomkit__free((void *)rep->findings[i].message);
    for (size_t i = 0; i < rep->n_errors; i++)
        oomkit__free((void *)rep->errors[i].message);
    for (size_t i = 0; i < rep->n_files; i++)
        oomkit__free(rep->files[i]);
    oomkit__free(rep->findings);
    oomkit__free(rep->errors);
    oomkit__free(rep->files);
    oomkit__free(rep);
}

static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = oomkit__realloc(*arr, ncap * elem);
    if (p == NULL)
        return -ENOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

const char *oomkit__lint_report_file(struct oomkit__lint_report *rep, const char *name)
{
    /* Inputs arrive one at a time, so the newest name is the usual hit. */
    if (rep->n_files > 0 && strcmp(rep->files[rep->n_files - 1], name) == 0)
        return rep->files[rep->n_files - 1];
    if (grow((void **)&rep->files, &rep->cap_files, rep->n_files, sizeof(char *)) != 0)
        return NULL;
    size_t n = strlen(name);
    char *copy = oomkit__malloc(n + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, name, n + 1);
    rep->files[rep->n_files++] = copy;
    return copy;
}

int oomkit__lint_report_add(struct oomkit__lint_report *rep, const char *file, uint32_t line,
                            uint32_t column, enum oomkit__lint_rule rule,
                            enum oomkit__lint_severity sev, const char *message,
                            const char *fix, const char *object, const char *container)
{
    if (grow((void **)&rep->findings, &rep->cap_findings, rep->n_findings,
             sizeof(struct oomkit__lint_finding)) != 0)
        return -ENOMEM;
    size_t lm = strlen(message) + 1, lf = strlen(fix) + 1, lo = strlen(object) + 1,
           lc = strlen(container) + 1;
    char *block = oomkit__malloc(lm + lf + lo + lc);
    if (block == NULL)
        return -ENOMEM;
    memcpy(block, message, lm);
    memcpy(block + lm, fix, lf);
    memcpy(block + lm + lf, object, lo);
    memcpy(block + lm + lf + lo, container, lc);
    /* Inputs arrive one at a time, so the file is nearly always the
     * newest name: search from the end. */
    size_t file_no = rep->n_files;
    while (file_no > 0 && rep->files[file_no - 1] != file)
        file_no--;
    rep->findings[rep->n_findings] = (struct oomkit__lint_finding){
        .file = file, .file_no = file_no ? file_no - 1 : rep->n_files, .line = line, .column = column, .rule = rule, .severity = sev,
        .message = block, .fix = block + lm, .object = block + lm + lf,
        .container = block + lm + lf + lo, .seq = rep->n_findings,
    };
    rep->n_findings++;
    return 0;
}

int oomkit__lint_report_error(struct oomkit__lint_report *rep, const char *name, uint32_t line,
                              uint32_t column, const char *message)
{
    const char *file = oomkit__lint_report_file(rep, name);
    if (file == NULL)
        return -ENOMEM;
    if (grow((void **)&rep->errors, &rep->cap_errors, rep->n_errors,
             sizeof(struct oomkit__lint_error)) != 0)
        return -ENOMEM;
    size_t n = strlen(message);
    char *copy = oomkit__malloc(n + 1);
    if (copy == NULL)
        return -ENOMEM;
    memcpy(copy, message, n + 1);
    rep->errors[rep->n_errors++] =
        (struct oomkit__lint_error){ .file = file, .line = line, .column = column, .message = copy };
    return 0;
}

static int cmp_finding(const void *pa, const void *pb)
{
    const struct oomkit__lint_finding *a = pa, *b = pb;
    if (a->file_no != b->file_no)
        return a->file_no < b->file_no ? -1 : 1;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    if (a->column != b->column)
        return a->column < b->column ? -1 : 1;
    if (a->rule != b->rule)
        return a->rule < b->rule ? -1 : 1;
    return a->seq < b->seq ? -1 : (a->seq > b->seq);
}

void oomkit__lint_report_sort(struct oomkit__lint_report *rep)
{
    if (rep->n_findings > 1)
        qsort(rep->findings, rep->n_findings, sizeof(rep->findings[0]), cmp_finding);
}

int oomkit__lint_report_max_severity(const struct oomkit__lint_report *rep)
{
    int max = -1;
    for (size_t i = 0; i < rep->n_findings; i++) {
        if ((int)rep->findings[i].severity > max)
            max = (int)rep->findings[i].severity;
    }
    return max;
}
