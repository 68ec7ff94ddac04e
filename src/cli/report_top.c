/* The top table of `oomkit report` and `oomkit profile`: one line per
 * function, flat and cumulative values with their share of the total, the
 * function and its hottest allocating line; in sampled profiles the 95 %
 * confidence interval of the flat value (see report_model.c). */
#include "cli/report.h"

#include <string.h>

void report_top_print(FILE *out, const struct report_model *m, size_t max_rows)
{
    char total[32];
    report_human(total, sizeof(total), m->total, m->unit);
    fprintf(out, "Type: %s   total %s   %s\n", m->type_name, total,
            m->p->period > 1 ? "(sampled: estimates, 95% CI per site)" : "(exact)");
    fprintf(out, "%12s %6s %12s %6s  %-40s %s%s\n", "flat", "flat%", "cum", "cum%", "function",
            "file:line", m->sampled ? "  [95% CI of flat]" : "");
    size_t shown = 0;
    for (size_t i = 0; i < m->n_rows && shown < max_rows; i++) {
        const struct report_row *r = &m->rows[i];
        if (r->flat == 0 && r->cum == 0)
            continue;
        char flat[32], cum[32];
        report_human(flat, sizeof(flat), r->flat, m->unit);
        report_human(cum, sizeof(cum), r->cum, m->unit);
        double fp = m->total ? 100.0 * (double)r->flat / (double)m->total : 0;
        double cp = m->total ? 100.0 * (double)r->cum / (double)m->total : 0;
        const char *file = strrchr(r->file, '/') ? strrchr(r->file, '/') + 1 : r->file;
        char where[300];
        if (file[0] != '\0')
            snprintf(where, sizeof(where), "%s:%lld", file, (long long)r->line);
        else
            snprintf(where, sizeof(where), "-");
        fprintf(out, "%12s %5.1f%% %12s %5.1f%%  %-40.40s %s", flat, fp, cum, cp, r->function, where);
        if (m->sampled && r->flat > 0) {
            char lo[32], hi[32];
            report_human(lo, sizeof(lo), (int64_t)r->ci_lo, m->unit);
            report_human(hi, sizeof(hi), (int64_t)r->ci_hi, m->unit);
            fprintf(out, "  [%s, %s]", lo, hi);
        }
        fputc('\n', out);
        shown++;
    }
}
