/* `oomkit report`'s model: one row per function with flat and cumulative
 * values of a sample type, and, for sampled profiles, a 95 % confidence
 * interval on each flat value.
 *
 * The statistics. With Poisson sampling by bytes (mean period R), each
 * allocation of s bytes is sampled independently with probability
 * q = 1 - exp(-s/R), so the number of samples n taken at a site is, to a
 * very good approximation, Poisson with mean lambda = N q (N allocations).
 * The profile stores un-sampled estimates (n / q objects, n s / q bytes), so
 * n is recovered as objects * q(avg) with avg = bytes / objects. An exact
 * 95 % interval for a Poisson mean given n observed (Garwood) uses
 * chi-square quantiles; we use the Wilson-Hilferty cube-root approximation
 * of those quantiles, accurate to well under 1 % for n >= 1:
 *   lo = n (1 - 1/(9n) - z/(3 sqrt n))^3,
 *   hi = (n+1) (1 - 1/(9(n+1)) + z/(3 sqrt(n+1)))^3,  z = 1.96,
 * and scale both by the bytes each sample stands for (estimate / n). For
 * n = 0 the lower bound is 0 and the upper is 3.69 samples. */
#include "cli/report.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int report_pick_type(const struct oomkit__pprof_profile *p, const char *name)
{
    if (name != NULL)
        return oomkit__pprof_find_sample_type(p, name);
    if (p->default_sample_type != 0) {
        int i = oomkit__pprof_find_sample_type(p, oomkit__pprof_str(p, p->default_sample_type));
        if (i >= 0)
            return i;
    }
    return p->n_sample_types ? (int)p->n_sample_types - 1 : -1;
}

struct build_ctx {
    struct report_model *m;
    size_t cap;
    int err;
};

static struct report_row *row_for(struct build_ctx *c, const char *fn)
{
    struct report_model *m = c->m;
    for (size_t i = 0; i < m->n_rows; i++)
        if (strcmp(m->rows[i].function, fn) == 0)
            return &m->rows[i];
    if (m->n_rows == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 64;
        void *nr = realloc(m->rows, nc * sizeof(*m->rows));
        if (nr == NULL)
            return NULL;
        m->rows = nr;
        c->cap = nc;
    }
    struct report_row *r = &m->rows[m->n_rows];
    memset(r, 0, sizeof(*r));
    r->function = strdup(fn);
    r->file = strdup("");
    if (r->function == NULL || r->file == NULL)
        return NULL;
    m->n_rows++;
    return r;
}

static int add_sample(void *ctx, const struct oomkit__pprof_sample *s,
                      const struct oomkit__pprof_frame *frames, size_t n)
{
    struct build_ctx *c = ctx;
    struct report_model *m = c->m;
    int64_t v = s->values[m->type];
    if (v == 0)
        return 0;
    m->total += v;
    static const struct oomkit__pprof_frame none = { "(no frames)", "", 0, 0 };
    if (n == 0) {
        frames = &none;
        n = 1;
    }
    for (size_t i = 0; i < n; i++) {
        struct report_row *r = row_for(c, frames[i].function);
        if (r == NULL)
            return -ENOMEM;
        /* cum counts a stack once even when a function recurses. */
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(frames[j].function, frames[i].function) == 0;
        if (!seen)
            r->cum += v;
        if (i == 0) {
            r->flat += v;
            if (m->objs_type >= 0)
                r->flat_objs += s->values[m->objs_type];
            if (v > r->best_line_flat || r->file[0] == '\0') {
                char *f = strdup(frames[0].file);
                if (f == NULL)
                    return -ENOMEM;
                free(r->file);
                r->file = f;
                r->line = frames[0].line;
                r->best_line_flat = v;
            }
        } else if (r->file[0] == '\0' && frames[i].file[0] != '\0') {
            char *f = strdup(frames[i].file);
            if (f == NULL)
                return -ENOMEM;
            free(r->file);
            r->file = f;
            r->line = frames[i].line;
        }
    }
    return 0;
}

static int cmp_rows(const void *a, const void *b)
{
    const struct report_row *x = a, *y = b;
    int64_t ax = llabs(x->flat), ay = llabs(y->flat);
    if (ax != ay)
        return ax > ay ? -1 : 1;
    if (x->cum != y->cum)
        return x->cum > y->cum ? -1 : 1;
    return strcmp(x->function, y->function);
}

static void poisson_ci(double n, double *lo, double *hi)
{
    const double z = 1.96;
    if (n <= 0) {
        *lo = 0;
        *hi = 3.689; /* -ln(0.025) */
        return;
    }
    double a = 1 - 1 / (9 * n) - z / (3 * sqrt(n));
    double b = 1 - 1 / (9 * (n + 1)) + z / (3 * sqrt(n + 1));
    *lo = a > 0 ? n * a * a * a : 0;
    *hi = (n + 1) * b * b * b;
}

void report_ci95(int64_t bytes, int64_t objs, int64_t period, double *lo, double *hi)
{
    *lo = *hi = 0;
    if (bytes <= 0 || objs <= 0 || period <= 1)
        return;
    double avg = (double)bytes / (double)objs;
    double q = -expm1(-avg / (double)period);
    double n = (double)objs * q; /* samples actually taken */
    double per_sample = (double)bytes / (n > 0 ? n : 1);
    double l, h;
    poisson_ci(round(n), &l, &h);
    *lo = l * per_sample;
    *hi = h * per_sample;
}

int report_model_build(struct report_model *m, const struct oomkit__pprof_profile *p, int type)
{
    memset(m, 0, sizeof(*m));
    m->p = p;
    m->type = type;
    m->type_name = oomkit__pprof_str(p, p->sample_types[type].type);
    m->unit = oomkit__pprof_str(p, p->sample_types[type].unit);
    m->objs_type = -1;
    /* The objects type that pairs with a *_space type: same prefix. */
    const char *sp = strstr(m->type_name, "_space");
    if (sp != NULL) {
        char name[128];
        snprintf(name, sizeof(name), "%.*s_objects", (int)(sp - m->type_name), m->type_name);
        m->objs_type = oomkit__pprof_find_sample_type(p, name);
    }
    m->sampled = p->period > 1 && m->objs_type >= 0 && strncmp(m->type_name, "mmap_", 5) != 0;
    struct build_ctx c = { m, 0, 0 };
    int err = oomkit__pprof_walk(p, add_sample, &c);
    if (err != 0) {
        report_model_free(m);
        return err;
    }
    if (m->n_rows > 0)
        qsort(m->rows, m->n_rows, sizeof(*m->rows), cmp_rows);
    for (size_t i = 0; m->sampled && i < m->n_rows; i++) {
        struct report_row *r = &m->rows[i];
        report_ci95(r->flat, r->flat_objs, p->period, &r->ci_lo, &r->ci_hi);
    }
    return 0;
}

void report_model_free(struct report_model *m)
{
    for (size_t i = 0; i < m->n_rows; i++) {
        free(m->rows[i].function);
        free(m->rows[i].file);
    }
    free(m->rows);
    m->rows = NULL;
    m->n_rows = 0;
}

const struct report_row *report_find(const struct report_model *m, const char *function)
{
    for (size_t i = 0; i < m->n_rows; i++)
        if (strcmp(m->rows[i].function, function) == 0)
            return &m->rows[i];
    return NULL;
}

void report_human(char *buf, size_t cap, int64_t v, const char *unit)
{
    bool bytes = strcmp(unit, "bytes") == 0;
    double a = fabs((double)v);
    const char *sign = v < 0 ? "-" : "";
    static const char *const bsuf[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    static const char *const csuf[] = { "", "k", "M", "G", "T" };
    double base = bytes ? 1024 : 1000;
    int k = 0;
    while (a >= base && k < 4) {
        a /= base;
        k++;
    }
    if (k == 0)
        snprintf(buf, cap, "%s%.0f%s", sign, a, bytes ? "B" : "");
    else
        snprintf(buf, cap, "%s%.2f%s", sign, a, bytes ? bsuf[k] : csuf[k]);
}
