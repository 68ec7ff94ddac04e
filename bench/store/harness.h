/* The store benchmark's measuring loop: runs one structure (peers.h) through
 * build, hit and miss lookups, list, delete and the reconcile pattern on a
 * loaded workload, and reports per-entry and per-operation figures. */
#ifndef OOMKIT_BENCH_STORE_HARNESS_H
#define OOMKIT_BENCH_STORE_HARNESS_H

#include "bench/store/peers.h"
#include "bench/store/workload.h"

#include <stddef.h>
#include <stdint.h>

struct bench_result {
    char name[48];
    int merged;                  /* 1: read from another peer's JSON line, not measured here */
    double bytes_per_entry;      /* heap delta around the build / entries */
    double allocs_per_entry;     /* allocation calls during the build / entries */
    double build_ns_per_entry;
    double hit_ns;               /* per lookup, random order */
    double miss_ns;              /* existing (ns, name), absent key */
    double delete_object_ns;     /* per object, all its fields */
    double list_namespace_ns;    /* one listing of the biggest namespace */
    double reconcile_allocs_per_cycle; /* clear + refill, after one warm-up cycle */
    double reconcile_ns_per_cycle;
    uint64_t bytes_total;        /* the heap delta itself */
    uint64_t self_bytes;         /* the structure's own accounting, 0 if none */
};
/* A figure a merged peer did not report is NAN. */

/* Measures ops on w with probes p. 0, or -1 with a one-line reason in err
 * (a failed allocation or a structure giving a wrong answer). */
int bench_measure(const struct peer_ops *ops, const struct wl_workload *w,
                  const struct wl_probes *p, unsigned reconcile_cycles, struct bench_result *out,
                  char *err, size_t err_cap);

#endif
