/* Shared model of `oomkit report` and `oomkit profile`: a decoded profile
 * reduced to rows per function (flat and cumulative) for one sample type,
 * plus the writers that print it (top table, flame graph SVG, JSON, diff,
 * leaks). The files report_*.c hold one writer each; they only format. */
#ifndef OOMKIT_CLI_REPORT_H
#define OOMKIT_CLI_REPORT_H

#include "pprof/pprof.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct report_row {
    char *function;   /* owned */
    char *file;       /* owned: file of the line with the largest flat value */
    int64_t line;
    int64_t flat;     /* value where this function is the leaf */
    int64_t cum;      /* value of every stack that contains it (once per stack) */
    int64_t flat_objs; /* objects of the matching *_objects type (for the CI) */
    int64_t best_line_flat;
    double ci_lo, ci_hi; /* 95 % confidence interval of flat; both 0 if exact */
};

struct report_model {
    const struct oomkit__pprof_profile *p; /* borrowed */
    int type;       /* sample type index */
    int objs_type;  /* matching objects type, or -1 */
    const char *type_name;
    const char *unit;
    int64_t total;
    bool sampled;   /* period > 1 and a bytes type: rows carry a CI */
    struct report_row *rows;
    size_t n_rows;
};

/* Picks the sample type: `name` if given, else the profile's default, else
 * the last one (pprof's rule). Returns the index or -1 if `name` is absent. */
int report_pick_type(const struct oomkit__pprof_profile *p, const char *name);
/* Builds rows for type `type`, sorted by flat descending. Returns 0 or
 * -ENOMEM. Release with report_model_free. */
int report_model_build(struct report_model *m, const struct oomkit__pprof_profile *p, int type);
void report_model_free(struct report_model *m);
/* Finds a row by function name, or NULL. */
const struct report_row *report_find(const struct report_model *m, const char *function);

/* 95 % confidence interval of a sampled site's bytes estimate, given its
 * un-sampled bytes and objects and the sampling period (report_model.c
 * states the statistics). Both bounds are 0 when period <= 1 (exact). */
void report_ci95(int64_t bytes, int64_t objs, int64_t period, double *lo, double *hi);

/* Formats bytes (or counts) for humans: "38.15MiB", "1.2k". */
void report_human(char *buf, size_t cap, int64_t v, const char *unit);

/* Writers. */
void report_top_print(FILE *out, const struct report_model *m, size_t max_rows);
int report_json_print(FILE *out, const struct report_model *m, size_t max_rows);
int report_svg_write(const char *path, const struct oomkit__pprof_profile *p, int type);
int report_diff_print(FILE *out, const struct report_model *now, const struct report_model *base,
                      size_t max_rows);
int report_leaks_print(FILE *out, const struct oomkit__pprof_profile *p, bool json);

#endif
