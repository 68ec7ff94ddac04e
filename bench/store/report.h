/* Output of the store benchmark: a text table with ratios against the
 * store, a Markdown section with the targets for docs/benchmarks.md, and
 * one JSON object with every figure. Figures of peers measured by other
 * programs (bench/peers/run.sh prints one JSON line per structure) can be
 * merged in, so one table compares everything run on the same input. */
#ifndef OOMKIT_BENCH_STORE_REPORT_H
#define OOMKIT_BENCH_STORE_REPORT_H

#include "bench/store/harness.h"

#include <stdio.h>

#define REPORT_MAX_ROWS 32
#define REPORT_MAX_NOTES 32

/* One concurrent-read line of bench/peers: readers against one writer. */
struct report_concurrent {
    char name[48];
    double readers, reads_per_s, writes_per_s, worst_write_us;
    /* bench/peers/run.sh --rounds: reads_per_s is the median of this many
     * runs, which ranged over [reads_min, reads_max]; NAN when not said. */
    double rounds, reads_min, reads_max;
};

struct report {
    const struct wl_workload *w;
    const char *source;         /* where the workload came from */
    unsigned cycles;
    size_t lookups, deletes;
    double cpu_share;           /* process CPU time / wall time while measuring */
    int cpu_clock;              /* times are process CPU time, not wall time */
    int cpu;                    /* the CPU the measuring thread was pinned to, or -1 */
    struct bench_stall_floor stall_floor; /* a bare clock loop's gaps (seconds 0: not measured) */
    double fault_floor_us;      /* slowest first touch of a fresh page (0: not measured) */
    /* Median go-flat / store hit time over rounds that ran the two in turns
     * (a merged line with go_flat_over_store_median; 0: none). It decides
     * the go-flat hit target: two programs minutes apart decide nothing. */
    double hit_rounds_median;
    struct bench_result rows[REPORT_MAX_ROWS];
    size_t n_rows;
    struct report_concurrent concurrent[REPORT_MAX_ROWS];
    size_t n_concurrent;
    char *notes[REPORT_MAX_NOTES]; /* other merged lines (not built, failed), as text */
    size_t n_notes;
};

/* Reads JSON lines from path: lines with bytes_per_entry become rows, lines
 * with reads_per_s concurrent rows, the others (not built, failed) notes. 0, or -1 with a
 * one-line reason in err. */
int report_merge_file(struct report *r, const char *path, char *err, size_t err_cap);

void report_table(const struct report *r, FILE *out);
void report_markdown(const struct report *r, FILE *out);
void report_json(const struct report *r, FILE *out);
/* A bar chart of bytes per entry and hit ns for every row, as SVG. */
void report_svg(const struct report *r, FILE *out);
void report_free(struct report *r);

#endif
