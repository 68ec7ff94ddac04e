/* The concurrent-read peers of oomkit's store benchmark: shared types.
 *
 * One program, peers-concurrent, loads the TSV workload, builds one backend
 * (a GLib hash table under a pthread rwlock, liburcu's lock-free cds_lfht,
 * or the oomkit store, read one key per call or in batches through
 * oomkit_store_get_many) and runs readers doing random hit lookups beside one
 * writer that updates values at a fixed rate and also inserts and deletes
 * keys. harness.c runs the threads; each backend_*.c adapts one structure
 * to the small vtable below. Every backend sees the same keys, in the same
 * order, at the same write rate. */
#ifndef PEERS_PEER_H
#define PEERS_PEER_H

#include <stddef.h>
#include <stdint.h>

/* One entry of the workload. ns, name and key point into the input buffer
 * (not NUL-terminated); flat is "ns/name/key", NUL-terminated, in an arena
 * owned by the input. */
struct peer_key {
    const char *ns, *name, *key, *flat;
    uint32_t ns_len, name_len, key_len, flat_len;
    int64_t value;
};

struct peer_input {
    char *buf;             /* the whole file */
    char *flat_arena;      /* every flat key, NUL-terminated */
    struct peer_key *keys; /* one per entry */
    size_t n;
};

/* Loads path; returns 0 or a negative errno (-EINVAL for a malformed line,
 * with the line number in *bad_line). */
int peer_input_load(const char *path, struct peer_input *in, size_t *bad_line);
void peer_input_free(struct peer_input *in);

/* Keys per call of a batched reader. */
#define PEER_BATCH 64

/* A structure under test. open builds it from every entry and returns NULL
 * on failure. get is the reader: it must be safe beside one concurrent
 * writer calling put and del, and returns 0 when the key is present.
 * get_batch, when not NULL, is the reader instead: it looks up keys[0..n)
 * (n <= PEER_BATCH) in one call and returns how many it found. put
 * upserts; del removes a key that put inserted. The writer is one thread. */
struct peer_backend {
    const char *name;
    void *(*open)(const struct peer_input *in);
    int (*get)(void *h, const struct peer_key *k, int64_t *value);
    size_t (*get_batch)(void *h, const struct peer_key *const *keys, size_t n);
    int (*put)(void *h, const struct peer_key *k, int64_t value);
    int (*del)(void *h, const struct peer_key *k);
    void (*close)(void *h);
};

extern const struct peer_backend peer_backend_glib_rwlock;
extern const struct peer_backend peer_backend_urcu_lfht;
extern const struct peer_backend peer_backend_ideal;
extern const struct peer_backend peer_backend_ideal_batched;
#ifdef PEERS_WITH_STORE
extern const struct peer_backend peer_backend_oomkit_store;
extern const struct peer_backend peer_backend_oomkit_store_batched;
#endif

struct peer_result {
    unsigned readers;
    double seconds;
    double reads_per_s;      /* keys looked up, all readers together */
    double writes_per_s;     /* achieved */
    double worst_write_us;   /* the slowest single put or del, timed around the call */
    uint64_t missed_reads;   /* hits that found nothing: must be 0 */
    int write_errors;        /* failed put or del: must be 0 */
};

/* Runs readers + 1 writer on an open backend for seconds; reader i is
 * pinned to CPU cpu + i (mod the CPUs online) unless cpu < 0 (see
 * bench/bench_cpu.h). Returns 0, or a negative errno if a thread could not
 * start. */
int peer_run(const struct peer_backend *b, void *h, const struct peer_input *in,
             unsigned readers, double seconds, unsigned writes_per_s, int cpu,
             struct peer_result *out);

#endif
