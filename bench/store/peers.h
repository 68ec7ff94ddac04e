/* The structures the store benchmark measures side by side, behind one
 * table of operations: oomkit's store and the C peers a programmer would
 * reach for (nested and flat GLib hash tables, uthash). Each peer file
 * implements the natural C idiom for its library; harness.c drives them
 * all through this interface on the same workload. */
#ifndef OOMKIT_BENCH_STORE_PEERS_H
#define OOMKIT_BENCH_STORE_PEERS_H

#include "bench/store/workload.h"

#include <stddef.h>
#include <stdint.h>

/* Lookups per batched call: enough independent lookups for the store's
 * prefetching to overlap their cache misses, few enough to stay on the
 * stack. */
#define PEER_BATCH 64

struct peer_ops {
    const char *name;
    /* One line for the report: how this peer is built. */
    const char *idea;
    /* An empty structure, or NULL when allocation failed. */
    void *(*open)(void);
    /* Upserts one entry (strings borrowed; the peer copies what it keeps).
     * 0, or -1 on allocation failure. */
    int (*put)(void *s, const struct wl_ref *r, int64_t value);
    /* 1 and *value when present, 0 when absent. */
    int (*get)(void *s, const struct wl_ref *r, int64_t *value);
    /* The structure's batched lookup, or NULL when it has none: looks up
     * entries idx[0..n) of w (n <= PEER_BATCH) in one call and returns how
     * many it found, adding their values to *sum. */
    size_t (*get_batch)(void *s, const struct wl_workload *w, const uint32_t *idx, size_t n,
                        uint64_t *sum);
    /* Deletes workload object `obj` with all its fields; 0, or -1 if absent. */
    int (*del_object)(void *s, const struct wl_workload *w, uint32_t obj);
    /* Visits the name of every object in namespace ns; returns how many
     * names it visited (a flat table visits one per entry: it has no
     * object index). */
    uint64_t (*list_namespace)(void *s, const char *ns, size_t ns_len);
    /* Removes everything, the natural way for this structure. 0 or -1. */
    int (*clear)(void *s);
    /* Frees the structure and all it owns. */
    void (*close)(void *s);
    /* Bytes by the structure's own accounting, or 0 when it has none. */
    uint64_t (*self_bytes)(void *s);
    /* Frees now what the structure removed but kept for readers to leave
     * and returns how many bytes that was, or NULL when it frees at once. */
    uint64_t (*reclaim)(void *s);
    /* Times the structure's writer has waited for readers itself, or NULL
     * when it keeps no such count. Such a wait need not be a sleep: it can
     * spin in the kernel (membarrier waiting on another CPU). */
    uint64_t (*writer_waits)(void *s);
    /* Upserts workload object `obj` with all its fields in one write, or
     * NULL when the structure writes entry by entry only. The reconcile
     * refills through it where it exists. 0, or -1. */
    int (*put_object)(void *s, const struct wl_workload *w, uint32_t obj);
};

/* Starts the store's grace-period thread: one per process, started on
 * first use, it takes the CPUs of the thread that starts it. Called before
 * the harness pins its measuring thread (OOMKIT_BENCH_CPU), so the thread
 * keeps every CPU instead of taking the writer's at each grace period. */
void peer_store_start_background(void);

extern const struct peer_ops peer_oomkit_store;
extern const struct peer_ops peer_glib_nested;
extern const struct peer_ops peer_glib_flat;
extern const struct peer_ops peer_uthash;

#endif
