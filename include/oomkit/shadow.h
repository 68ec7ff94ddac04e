/* oomkit shadow: a migration harness from a legacy key-value structure (for
 * example nested hash tables, map[ns]map[name]map[key]int64) to the store.
 *
 * The shadow wraps both sides. Every mutation goes to both (dual write).
 * Reads follow the phase:
 * - OOMKIT_SHADOW_VERIFY: answers come from the legacy side; a sampled
 *   verify_percent of reads are also made on the store and compared;
 * - OOMKIT_SHADOW_PRIMARY_NEW: answers come from the store; the sampled
 *   share is still compared with the legacy side;
 * - OOMKIT_SHADOW_ROLLED_BACK: answers come from the legacy side, nothing
 *   is compared (writes still go to both, so a later retry starts in sync).
 * Each divergence (key, both answers) is reported through a callback and
 * counted in the stats; when divergences pass rollback_threshold the
 * shadow rolls back to the legacy side by itself and reports that too. A
 * reconciliation pass compares both sides completely.
 *
 * Errors: 0 or a negative errno. Thread safety: every call takes the
 * shadow's mutex, so any thread may call; the legacy functions are called
 * under it (they need no locking of their own) and the report callback
 * too (it must not call back into the shadow; during a reconciliation it
 * also runs inside a store read section, so it must not write the store). */
#ifndef OOMKIT_SHADOW_H
#define OOMKIT_SHADOW_H

#include "oomkit/common.h"
#include "oomkit/store.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oomkit_shadow oomkit_shadow;

/* Called by a legacy iterate for each entry; returns 0 to go on. */
typedef int (*oomkit_shadow_entry_fn)(void *ctx, oomkit_str ns, oomkit_str name, oomkit_str key,
                                      int64_t value);

/* The legacy structure, through five functions on an opaque impl. Each
 * returns 0 or a negative errno; get returns -ENOENT when the entry is
 * absent, del and del_object -ENOENT when there was nothing to delete.
 * iterate visits every entry once and returns what fn returned if nonzero.
 * Strings are borrowed for the call. */
typedef struct oomkit_shadow_legacy {
    void *impl;
    int (*put)(void *impl, oomkit_str ns, oomkit_str name, oomkit_str key, int64_t value);
    int (*get)(void *impl, oomkit_str ns, oomkit_str name, oomkit_str key, int64_t *value);
    int (*del)(void *impl, oomkit_str ns, oomkit_str name, oomkit_str key);
    int (*del_object)(void *impl, oomkit_str ns, oomkit_str name);
    int (*iterate)(void *impl, oomkit_shadow_entry_fn fn, void *ctx);
} oomkit_shadow_legacy;

typedef enum oomkit_shadow_phase {
    OOMKIT_SHADOW_VERIFY = 0,
    OOMKIT_SHADOW_PRIMARY_NEW = 1,
    OOMKIT_SHADOW_ROLLED_BACK = 2
} oomkit_shadow_phase;

typedef enum oomkit_shadow_event_kind {
    OOMKIT_SHADOW_DIVERGENCE_READ = 0,      /* a sampled read disagreed */
    OOMKIT_SHADOW_DIVERGENCE_RECONCILE = 1, /* the reconciliation pass */
    OOMKIT_SHADOW_DIVERGENCE_WRITE = 2,     /* one side failed a write */
    OOMKIT_SHADOW_ROLLBACK = 3              /* threshold passed: back to legacy */
} oomkit_shadow_event_kind;

/* One report. For a divergence: the entry and each side's answer (rc 0
 * with its value, or a negative errno such as -ENOENT, value then 0). For a
 * rollback: the entry of the divergence that passed the threshold. Strings
 * are valid during the callback only. */
typedef struct oomkit_shadow_event {
    oomkit_shadow_event_kind kind;
    oomkit_str ns, name, key;
    int legacy_rc;
    int64_t legacy_value;
    int store_rc;
    int64_t store_value;
    uint64_t divergences; /* total so far, this one included */
} oomkit_shadow_event;

typedef void (*oomkit_shadow_report_fn)(void *ctx, const oomkit_shadow_event *ev);

typedef struct oomkit_shadow_options {
    oomkit_shadow_phase phase;    /* starting phase */
    unsigned verify_percent;      /* 0..100: share of reads compared */
    uint64_t rollback_threshold;  /* roll back when divergences exceed it; 0 = never */
    oomkit_shadow_report_fn report; /* may be NULL */
    void *report_ctx;
    uint64_t seed;                /* of the read sampler (reproducible runs) */
} oomkit_shadow_options;

/* Longest ns, name or key kept in the stats' last divergence. */
#define OOMKIT_SHADOW_KEY_MAX 96

typedef struct oomkit_shadow_stats {
    oomkit_shadow_phase phase;
    uint64_t reads;           /* get calls */
    uint64_t verified;        /* reads compared with the other side */
    uint64_t writes;          /* put, del, del_object calls */
    uint64_t divergences;     /* all kinds */
    uint64_t read_divergences;
    uint64_t reconcile_divergences;
    uint64_t write_divergences;
    uint64_t rollbacks;
    /* The last divergence, strings truncated to OOMKIT_SHADOW_KEY_MAX. */
    char last_ns[OOMKIT_SHADOW_KEY_MAX], last_name[OOMKIT_SHADOW_KEY_MAX],
        last_key[OOMKIT_SHADOW_KEY_MAX];
    int last_legacy_rc, last_store_rc;
    int64_t last_legacy_value, last_store_value;
} oomkit_shadow_stats;

/* Wraps legacy (copied; impl stays the caller's) and store (borrowed; it
 * must outlive the shadow). opts may be NULL: verify 100%, no rollback.
 * *out is the caller's until oomkit_shadow_close. Existing content is not
 * copied: start both sides empty, or run oomkit_shadow_reconcile.
 * Thread safety: any thread. */
int oomkit_shadow_open(const oomkit_shadow_legacy *legacy, oomkit_store *store,
                       const oomkit_shadow_options *opts, oomkit_shadow **out);
/* Frees the shadow (neither side). NULL allowed. Thread safety: exclusive. */
void oomkit_shadow_close(oomkit_shadow *sh);

/* Dual writes. The primary side (legacy unless the phase is PRIMARY_NEW)
 * is written first and its result returned; if the other side's result
 * differs, that is a write divergence. Thread safety: any thread. */
int oomkit_shadow_put(oomkit_shadow *sh, oomkit_str ns, oomkit_str name, oomkit_str key,
                      int64_t value);
int oomkit_shadow_del(oomkit_shadow *sh, oomkit_str ns, oomkit_str name, oomkit_str key);
int oomkit_shadow_del_object(oomkit_shadow *sh, oomkit_str ns, oomkit_str name);

/* A read answered by the phase's primary side, compared with the other on
 * a sampled share. Thread safety: any thread. */
int oomkit_shadow_get(oomkit_shadow *sh, oomkit_str ns, oomkit_str name, oomkit_str key,
                      int64_t *value);

/* Moves to phase with a new sampled share (0..100). Moving out of
 * ROLLED_BACK is how a fixed migration is retried. Thread safety: any. */
int oomkit_shadow_set_phase(oomkit_shadow *sh, oomkit_shadow_phase phase,
                            unsigned verify_percent);

/* Compares both sides completely: every legacy entry against the store,
 * then every store entry against the legacy side (entries only in the
 * store). Each difference is a reconcile divergence. *found (may be NULL)
 * gets how many this pass found. Thread safety: any thread (it holds the
 * mutex for the whole pass). */
int oomkit_shadow_reconcile(oomkit_shadow *sh, uint64_t *found);

/* Fills *out. Thread safety: any thread. */
int oomkit_shadow_stats_get(oomkit_shadow *sh, oomkit_shadow_stats *out);

#ifdef __cplusplus
}
#endif
#endif
