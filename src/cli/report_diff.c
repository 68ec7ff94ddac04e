/* `oomkit report NEW --diff BASE`: what grew between two profiles, per
 * function (flat and cum deltas), largest growth first. Functions only in
 * one of the two profiles count as zero in the other. */
#include "cli/report.h"

#include <stdlib.h>
#include <string.h>

struct delta {
    const char *function;
    const char *file;
    int64_t line;
    int64_t flat, cum, base_flat;
};

static int cmp_delta(const void *a, const void *b)
{
    const struct delta *x = a, *y = b;
    if (x->flat != y->flat)
        return x->flat > y->flat ? -1 : 1;
    return strcmp(x->function, y->function);
}

int report_diff_print(FILE *out, const struct report_model *now, const struct report_model *base,
                      size_t max_rows)
{
    size_t cap = now->n_rows + base->n_rows, n = 0;
    struct delta *d = calloc(cap ? cap : 1, sizeof(*d));
    if (d == NULL)
        return -1;
    for (size_t i = 0; i < now->n_rows; i++) {
        const struct report_row *r = &now->rows[i];
        const struct report_row *b = report_find(base, r->function);
        d[n++] = (struct delta){ r->function, r->file, r->line, r->flat - (b ? b->flat : 0),
                                 r->cum - (b ? b->cum : 0), b ? b->flat : 0 };
    }
    for (size_t i = 0; i < base->n_rows; i++) {
        const struct report_row *b = &base->rows[i];
        if (report_find(now, b->function) == NULL)
            d[n++] = (struct delta){ b->function, b->file, b->line, -b->flat, -b->cum, b->flat };
    }
    qsort(d, n, sizeof(*d), cmp_delta);
    char total[32];
    report_human(total, sizeof(total), now->total - base->total, now->unit);
    fprintf(out, "Type: %s   change of total %s\n", now->type_name, total);
    fprintf(out, "%12s %12s %12s  %-40s %s\n", "flat delta", "cum delta", "base flat", "function",
            "file:line");
    size_t shown = 0;
    for (size_t i = 0; i < n && shown < max_rows; i++) {
        if (d[i].flat == 0 && d[i].cum == 0)
            continue;
        char fl[32], cu[32], bf[32];
        report_human(fl, sizeof(fl), d[i].flat, now->unit);
        report_human(cu, sizeof(cu), d[i].cum, now->unit);
        report_human(bf, sizeof(bf), d[i].base_flat, now->unit);
        const char *file = strrchr(d[i].file, '/') ? strrchr(d[i].file, '/') + 1 : d[i].file;
        fprintf(out, "%12s %12s %12s  %-40.40s %s:%lld\n", fl, cu, bf, d[i].function,
                file[0] ? file : "-", (long long)d[i].line);
        shown++;
    }
    free(d);
    return 0;
}
