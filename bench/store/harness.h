/* The store benchmark's measuring loop: runs one structure (peers.h) through
 * build, hit and miss lookups (single and batched), list, delete, the
 * reconcile pattern and a write-latency phase (a build from empty and a
 * churn, every write timed) on a loaded workload, and reports per-entry and
 * per-operation figures. */
#ifndef OOMKIT_BENCH_STORE_HARNESS_H
#define OOMKIT_BENCH_STORE_HARNESS_H

#include "bench/store/peers.h"
#include "bench/store/workload.h"

#include <stddef.h>
#include <stdint.h>

/* Objects deleted and put back in the churn of the write-latency phase (all
 * of them in a smaller workload): at a million objects this times about a
 * million writes after the build and costs about a second per structure. */
#define BENCH_CHURN_OBJECTS 100000

struct bench_result {
    char name[48];
    int merged;                  /* 1: read from another peer's JSON line, not measured here */
    double bytes_per_entry;      /* heap delta around the build / entries */
    double allocs_per_entry;     /* allocation calls during the build / entries */
    double build_ns_per_entry;
    double hit_ns;               /* per lookup, random order */
    double batch_hit_ns;         /* per lookup, the same ones in batches; NAN: no batched API */
    double miss_ns;              /* existing (ns, name), absent key */
    double delete_object_ns;     /* per object, all its fields */
    double list_namespace_ns;    /* one listing of the biggest namespace */
    double reconcile_allocs_per_cycle; /* clear + refill, after one warm-up cycle */
    double reconcile_ns_per_cycle;
    /* The same refilled entry by entry (put), where the reconcile above
     * wrote whole objects; else equal to it. */
    double reconcile_entry_allocs_per_cycle;
    double reconcile_entry_ns_per_cycle;
    double worst_write_us;       /* the slowest single put or delete-object */
    double p999_write_us;        /* 99.9% of writes took at most this */
    uint64_t bytes_total;        /* the heap delta itself */
    uint64_t self_bytes;         /* the structure's own accounting, 0 if none */
    /* Removed while growing and waiting for readers when the build ended;
     * freed before the heap is read, so bytes_total leaves it out. */
    uint64_t retired_bytes;
    uint64_t writes_timed;       /* writes in the write-latency phase */
    double build_worst_write_us; /* worst_write_us split: during the build from empty */
    double churn_worst_write_us; /* and during the churn after it */
    uint64_t write_preemptions;  /* times that phase lost its CPU (involuntary switches) */
    uint64_t writes_over_1ms;    /* writes of that phase slower than 1 ms */
    uint64_t write_page_faults;  /* minor page faults during that phase */
    /* Of writes_over_1ms, those during which the writing thread took a
     * page fault (a first touch of fresh memory). */
    uint64_t writes_over_1ms_faulted;
    /* Of the others, those during which it lost its CPU. */
    uint64_t writes_over_1ms_preempted;
    /* Of the rest, those during which it waited: slept (on a lock or a
     * grace period) or waited for readers by the structure's own count.
     * The structure's own wait, whatever the replay says. */
    uint64_t writes_over_1ms_waited;
    /* Of those, the ones during which the structure counted a wait for
     * readers (the others slept). */
    uint64_t writes_over_1ms_reader_waits;
    /* The slowest write with neither a page fault nor a preemption. */
    double worst_uninterrupted_write_us;
    /* The writes over 1 ms with neither, timed again when the same write
     * sequence ran on a fresh structure (at most BENCH_REPLAY_MAX of them;
     * the rest are not_replayed): how many were over 1 ms again with
     * neither (twice) or inside a page fault or a preemption (which says
     * nothing: replay_interrupted), and the slowest of the others that
     * second time. A structure's own slow step recurs at the same write;
     * a pause of the machine does not. */
    uint64_t writes_replayed, writes_not_replayed, writes_over_1ms_twice;
    uint64_t writes_replay_interrupted;
    double worst_replayed_write_us;
    double write_phase_s;        /* wall seconds of the write phase */
};
/* A figure a merged peer did not report is NAN. */

/* The machine's own stall floor: the gaps between two readings of the
 * clock in a loop that does nothing else for `seconds` (preemption,
 * interrupts, a hypervisor). A write's worst time cannot be read below its
 * worst gap, and a phase of writes as long as the loop meets about as many
 * gaps over 1 ms. */
struct bench_stall_floor {
    double seconds;
    double worst_us;
    uint64_t gaps_over_1ms;
};
struct bench_stall_floor bench_stall_floor(double seconds);
/* The slowest first touch of one of `pages` fresh anonymous pages (a page
 * fault; a virtual machine may take milliseconds over one). 0 if the
 * mapping fails. */
double bench_fault_floor_us(size_t pages);
/* Pages bench store touches for the page-fault floor (64 MiB of 4 KiB). */
#define BENCH_FAULT_PAGES 16384

/* Slow writes of a write phase that are timed again in a replay. */
#define BENCH_REPLAY_MAX 64

/* Lookup passes over each structure, taking turns; the fastest is kept. */
#define BENCH_LOOKUP_PASSES 3

/* A structure is measured in three steps, so that a caller can keep
 * several alive and take turns between them for the lookups: a machine
 * whose speed drifts over minutes then slows each structure's passes alike
 * instead of whichever was measured in a slow minute. Each returns 0, or
 * -1 with a one-line reason in err (a failed allocation or a wrong answer).
 *
 * bench_build fills out (cleared first) with the build figures and hands
 * back the built structure in *handle. */
int bench_build(const struct peer_ops *ops, const struct wl_workload *w, struct bench_result *out,
                void **handle, char *err, size_t err_cap);
/* One pass of hit lookups, batched hits (when the structure has them) and
 * misses over p; out keeps the fastest pass of each. Every pass checks its
 * answers. */
int bench_lookup_pass(const struct peer_ops *ops, void *s, const struct wl_workload *w,
                      const struct wl_probes *p, struct bench_result *out, char *err,
                      size_t err_cap);
/* The rest, on the structure: listing, deleting, the reconcile cycles;
 * then it closes the structure (also on failure). */
int bench_finish(const struct peer_ops *ops, void *s, const struct wl_workload *w,
                 const struct wl_probes *p, unsigned reconcile_cycles, struct bench_result *out,
                 char *err, size_t err_cap);
/* The write-latency phase, on fresh structures of its own: run it once
 * every measured structure is closed, so that no other structure is alive
 * while any one's writes are timed. When some writes took over 1 ms with
 * neither a page fault nor a preemption, the phase runs its writes a
 * second time and times those writes again. */
int bench_writes(const struct peer_ops *ops, const struct wl_workload *w,
                 struct bench_result *out, char *err, size_t err_cap);

#endif
