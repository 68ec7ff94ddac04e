/* oomkit store: a lean, concurrent, three-level state store.
 *
 * It holds what an operator would keep as map[namespace]map[name]map[key]int64
 * without a hash table per level. An *object* is a (namespace, name) pair and
 * holds a small set of fields key -> int64. Namespaces and keys are interned
 * once as 32-bit atoms; each name is stored once, beside its object; an
 * object's fields sit in one compact block. src/store/store.c opens with the
 * design and its memory layout.
 *
 * Concurrency contract
 * - Writers (every function marked "Thread safety: writer") may be called
 *   from any number of threads; the store serialises them internally.
 * - Readers (marked "reader") never block, never take a lock and never see a
 *   torn value or freed memory, whatever the writers do. A reader sees each
 *   single write either wholly done or not at all.
 * - No registration is needed: any thread may read at any time (the store
 *   uses liburcu's "bulletproof" RCU flavour, which registers a thread on
 *   its first read).
 * - Memory a writer removes is reclaimed only after every reader that could
 *   still see it has left its read section.
 * - The iteration callbacks run inside a read section: they may call any
 *   reader, but a writer called from a callback returns -EDEADLK.
 *
 * Iteration contract (each_namespace, each_object, each_field,
 * index_each, index_values), beside any number of writers:
 * - each object is visited at most once per call;
 * - each object is seen wholly before or wholly after any single write to
 *   it (its fields come from one published block);
 * - every object that existed, unchanged in what is iterated, throughout
 *   the call is visited;
 * - no visited memory is ever freed during the call.
 * Grace periods and the bound on deferred frees: memory a writer removes
 * waits in a ledger until no reader can see it. When the ledger holds more
 * than max(8 KiB, stats.bytes_total / 128) bytes, the writer hands it to
 * the store's grace-period thread (one per process) and goes on without
 * waiting; later writes free it once the grace period is over (a store
 * under 1 MiB lets its ledgers gather for up to 1 ms after the last grace
 * period, so that one grace period frees several). With 8
 * ledgers in flight the current one keeps filling; only when the bytes
 * waiting pass max(9 x max(8 KiB, stats.bytes_total / 128), 1 MiB) does
 * the writer wait for the readers itself (stats.writer_waits counts those
 * waits). So stats.bytes_retired never exceeds that bound plus what one
 * write retires (a block, a posting list or one table segment), a slow
 * reader never makes memory grow, and a writer waits for readers only
 * behind such a slow reader, by at most the read sections in progress (one
 * iteration call is one read section; a reader that calls get in a loop
 * holds a section per call).
 * tests/store/test_store_index_concurrent.c checks the bound under a slow
 * reader and a churning writer.
 *
 * Errors: 0 on success or a negative errno code (oomkit_strerror names it).
 * -EINVAL bad arguments, -ENOENT not found (a missing namespace or object is
 * simply not found: there is nothing to create first), -ENOMEM allocation
 * failure, -E2BIG the write would take the store past its memory budget.
 * On any failure the store's content is unchanged and it stays fully usable.
 *
 * Memory: namespaces and keys are interned as atoms that live as long as the
 * store (they repeat endlessly; a store fed ever-new namespace or key strings
 * grows by them). Names are stored once, inside their object, and go with
 * it. An object holds at most 65535 fields (-E2BIG beyond); a string (name,
 * namespace or key) is at most 2^30 - 1 bytes long (-EINVAL beyond).
 */
#ifndef OOMKIT_STORE_H
#define OOMKIT_STORE_H

#include "oomkit/common.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oomkit_store oomkit_store;

/* A resolved object: a stable handle that skips hashing the namespace and
 * name again. It stays valid until that object is deleted (del_object,
 * clear, or deleting its last field); afterwards functions given it return
 * -ENOENT, even if an object with the same name is created again. Never 0.
 * (It carries a 16-bit generation of its slot: a handle kept across 65535
 * deletions and reuses of the same slot could name the newer object.) */
typedef uint64_t oomkit_store_obj;

typedef struct oomkit_store_options {
    /* The store refuses a write that would make it own more than this many
     * bytes (everything it allocates, as measured by stats.bytes_total) with
     * -E2BIG, and oomkit_store_open itself fails with -E2BIG when the empty
     * store would not fit. 0 means no budget. */
    size_t budget_bytes;
    /* Presize for this many objects (a hint; 0 is fine; presizing stops at
     * 4M objects, past which the table grows as it fills). */
    size_t expected_objects;
} oomkit_store_options;

/* Creates an empty store. opts may be NULL for the defaults. On success
 * *out is owned by the caller until oomkit_store_close.
 * Thread safety: any thread. */
int oomkit_store_open(const oomkit_store_options *opts, oomkit_store **out);

/* Frees the store and everything it owns. No other thread may use it any
 * more, reader or writer. NULL is allowed.
 * Thread safety: exclusive. */
void oomkit_store_close(oomkit_store *s);

/* Sets value of key in object (ns, name), creating the namespace, the
 * object and the field as needed (upsert). All strings are borrowed.
 * Thread safety: writer. */
int oomkit_store_put(oomkit_store *s, oomkit_str ns, oomkit_str name, oomkit_str key,
                     int64_t value);

/* One field of oomkit_store_put_fields: key (borrowed) and its value. */
typedef struct oomkit_store_field {
    oomkit_str key;
    int64_t value;
} oomkit_store_field;

/* Most fields one oomkit_store_put_fields call takes. */
#define OOMKIT_STORE_PUT_FIELDS_MAX 1024

/* Sets the n fields f[0..n) of object (ns, name) in one write, creating
 * the namespace and the object as needed; the object's other fields stay.
 * A key given twice takes its last value. A reader sees the object wholly
 * before or wholly after the write. The object's block is copied at most
 * once, where n single puts copy it up to n times and leave each copy to
 * wait for readers, so a reconcile that clears the store and writes each
 * object back this way allocates nothing. -EINVAL for n == 0, n over
 * OOMKIT_STORE_PUT_FIELDS_MAX, f NULL or a bad string; -E2BIG past the
 * budget or the limits of put; -ENOMEM. On an error no object or field
 * has changed, though keys of f may stay interned (as oomkit_store_key
 * with create leaves them).
 * Thread safety: writer. */
int oomkit_store_put_fields(oomkit_store *s, oomkit_str ns, oomkit_str name,
                            const oomkit_store_field *f, size_t n);

/* Reads one field into *value. -ENOENT if the namespace, object or key is
 * missing (and *value is untouched).
 * Thread safety: reader. */
int oomkit_store_get(const oomkit_store *s, oomkit_str ns, oomkit_str name, oomkit_str key,
                     int64_t *value);

/* Deletes one field. Deleting an object's last field deletes the object.
 * -ENOENT if it was not there. Removing one field of several copies the
 * object's block (readers never see it half-changed), so it may fail with
 * -ENOMEM or -E2BIG; deleting a whole object never allocates.
 * Thread safety: writer. */
int oomkit_store_del(oomkit_store *s, oomkit_str ns, oomkit_str name, oomkit_str key);

/* Deletes object (ns, name) with all its fields. -ENOENT if absent.
 * Thread safety: writer. */
int oomkit_store_del_object(oomkit_store *s, oomkit_str ns, oomkit_str name);

/* Counts objects and fields (either pointer may be NULL).
 * Thread safety: reader. */
int oomkit_store_count(const oomkit_store *s, uint64_t *objects, uint64_t *fields);

/* Deletes every object but keeps all capacity (tables, blocks, atoms), so a
 * loop that clears and refills the same state object by object
 * (oomkit_store_put_fields) allocates nothing. Refilled one put at a time,
 * it allocates only when more replaced blocks wait for readers than ever
 * before (each put that adds a field replaces the object's block).
 * Waits for readers to leave their read sections once.
 * Thread safety: writer. */
int oomkit_store_clear(oomkit_store *s);

/* Gives memory back after mass deletes: shrinks tables and returns unused
 * blocks to the C allocator. Content is unchanged. Under a budget it does
 * what the budget leaves room for (and still returns 0). Waits for readers
 * to leave their read sections.
 * Thread safety: writer. */
int oomkit_store_compact(oomkit_store *s);

/* Frees now what writers removed and left for readers to leave
 * (stats.bytes_retired drops to 0): blocks go back to their free lists for
 * reuse, everything else to the C allocator. Writers do this in the
 * background; call it before measuring memory, or to have memory back
 * without waiting for later writes. Tables keep their size (compact
 * shrinks them). Waits for readers to leave their read sections once.
 * Thread safety: writer. */
int oomkit_store_reclaim(oomkit_store *s);

/* ---- fast path: resolve once, then read and write by id ---------------- */

/* Resolves (ns, name) to a handle. With create != 0 a missing object is
 * created empty (it holds no field until the first obj_put; an object left
 * without fields is deleted by the next write that empties it or by clear).
 * Without create, -ENOENT when absent.
 * Thread safety: reader without create, writer with create. */
int oomkit_store_object(oomkit_store *s, oomkit_str ns, oomkit_str name, int create,
                        oomkit_store_obj *out);

/* Resolves a key string to its atom id. With create != 0 the key is
 * interned if new. Key ids are dense, start at 0 and are never reused.
 * Thread safety: reader without create, writer with create. */
int oomkit_store_key(oomkit_store *s, oomkit_str key, int create, uint32_t *key_id);

/* Field access through a handle and a key id.
 * Thread safety: obj_get is a reader, obj_put and obj_del are writers. */
int oomkit_store_obj_put(oomkit_store *s, oomkit_store_obj obj, uint32_t key_id, int64_t value);
int oomkit_store_obj_get(const oomkit_store *s, oomkit_store_obj obj, uint32_t key_id,
                         int64_t *value);
int oomkit_store_obj_del(oomkit_store *s, oomkit_store_obj obj, uint32_t key_id);

/* ---- batched reads ------------------------------------------------------ */

/* One lookup of a batch: ns, name and key are inputs (borrowed); rc and
 * value are outputs (rc 0 and the value on a hit, -ENOENT on a miss with
 * value left untouched, -EINVAL for a bad string). */
typedef struct oomkit_store_lookup {
    oomkit_str ns, name, key;
    int64_t value;
    int rc;
} oomkit_store_lookup;

/* Resolves q[0..n) at once. The lookups are processed in groups: all
 * hashes first, then every object-table slot is prefetched, then every
 * block, then each lookup resolves, so the cache misses of independent
 * lookups overlap instead of following one another. Each lookup sees the
 * store as a single get would (a batch is not a snapshot across lookups).
 * *found (may be NULL) gets the number of hits. Returns 0, or -EINVAL if s
 * is NULL or q is NULL with n != 0. Allocates nothing.
 * Thread safety: reader. */
int oomkit_store_get_many(const oomkit_store *s, oomkit_store_lookup *q, size_t n,
                          size_t *found);

/* ---- iteration ---------------------------------------------------------- */

/* Callbacks return 0 to go on; any other value stops the iteration, and the
 * iterating function returns that value. Strings passed to a callback are
 * valid only during the call. An iteration running beside a writer sees
 * each object at most once, each object as it was before or after any single
 * write to it, and every object that existed throughout the iteration. */
typedef int (*oomkit_store_namespace_fn)(void *ctx, oomkit_str ns, uint64_t objects);
typedef int (*oomkit_store_object_fn)(void *ctx, oomkit_str name, oomkit_store_obj obj);
typedef int (*oomkit_store_field_fn)(void *ctx, oomkit_str key, uint32_t key_id, int64_t value);

/* Every namespace that holds at least one object, with its object count.
 * Thread safety: reader. */
int oomkit_store_each_namespace(const oomkit_store *s, oomkit_store_namespace_fn fn, void *ctx);

/* Every object of namespace ns (-ENOENT if it holds none).
 * Thread safety: reader. */
int oomkit_store_each_object(const oomkit_store *s, oomkit_str ns, oomkit_store_object_fn fn,
                             void *ctx);

/* Every field of object (ns, name) (-ENOENT if absent).
 * Thread safety: reader. */
int oomkit_store_each_field(const oomkit_store *s, oomkit_str ns, oomkit_str name,
                            oomkit_store_field_fn fn, void *ctx);

/* Every field of a resolved object (-ENOENT if the handle is stale).
 * Thread safety: reader. */
int oomkit_store_obj_each_field(const oomkit_store *s, oomkit_store_obj obj,
                                oomkit_store_field_fn fn, void *ctx);

/* ---- value atoms and secondary indexes ----------------------------------- */

/* Interns str in the store's value atom table (separate from namespaces and
 * keys) so that a string-valued property, such as the node a pod runs on,
 * can be kept as an int64 field and indexed. Ids are dense, start at 0,
 * and live as long as the store. With create == 0, -ENOENT when absent.
 * Thread safety: reader without create, writer with create. */
int oomkit_store_atom(oomkit_store *s, oomkit_str str, int create, uint32_t *id);

/* The string of value atom id into *out (-ENOENT if no such atom). The
 * bytes are owned by the store and stay valid until oomkit_store_close.
 * Thread safety: reader. */
int oomkit_store_atom_str(const oomkit_store *s, uint32_t id, oomkit_str *out);

/* Declares a secondary index on field key (interned if new): afterwards
 * every object having that field is found by the field's value. Adding an
 * index to a populated store builds it in one pass over the objects, under
 * the writer lock. Adding an index that exists returns its id. At most 8
 * indexes (-ENOSPC beyond). -E2BIG / -ENOMEM leave the store without the
 * index (the key atom may stay interned).
 *
 * Cost: per indexed object 4 bytes of id in its value's posting list plus
 * up to a sixteenth of slack (and the dead slots of objects that left,
 * squeezed out when the list next fills), and 3 bytes of position (kept per
 * object id so removal is O(1)); per distinct value a 40-byte list header
 * and a table slot. Under 8 bytes per indexed object when values hold tens
 * of objects or more (docs/architecture.md, "store"). One value holds at
 * most 16777214 objects: a write beyond fails with -E2BIG. A value whose
 * last object leaves holds no memory. Every write keeps the index exact:
 * put that changes the value, del, del_object, clear.
 * clear frees the posting lists (a refill of an indexed store allocates
 * them again).
 * Thread safety: writer. */
int oomkit_store_index_add(oomkit_store *s, oomkit_str key, uint32_t *index_id);

/* Called for each object of an index value with its namespace, name and
 * handle (strings valid during the call). Return 0 to go on. */
typedef int (*oomkit_store_index_fn)(void *ctx, oomkit_str ns, oomkit_str name,
                                     oomkit_store_obj obj);
/* Called for each distinct value of an index with its object count. */
typedef int (*oomkit_store_index_value_fn)(void *ctx, int64_t value, uint64_t objects);

/* Visits every object whose indexed field equals value (0 and nothing
 * visited if none; -EINVAL for an unknown index). Allocates nothing.
 * Beside writers it keeps the iteration contract below; in addition an
 * object is visited only if its field held value when the visit happened.
 * Thread safety: reader. */
int oomkit_store_index_each(const oomkit_store *s, uint32_t index_id, int64_t value,
                            oomkit_store_index_fn fn, void *ctx);

/* Visits every distinct value of the index that has objects, with their
 * count, in no particular order. Allocates nothing. A value that loses its
 * last object and gains one again during the call may be reported twice
 * or not at all; the counts are each read once, as the call passes.
 * Thread safety: reader. */
int oomkit_store_index_values(const oomkit_store *s, uint32_t index_id,
                              oomkit_store_index_value_fn fn, void *ctx);

/* ---- accounting --------------------------------------------------------- */

typedef struct oomkit_store_stats {
    uint64_t objects;           /* live objects */
    uint64_t fields;            /* live fields, all objects */
    uint64_t namespaces;        /* namespace atoms ever interned */
    uint64_t keys;              /* key atoms ever interned */
    /* Bytes the store owns, to the byte as the C allocator holds them
     * (allocator headers and rounding included), by part; bytes_total is
     * their sum and is what the budget limits. */
    uint64_t bytes_total;
    uint64_t bytes_atoms;       /* atom strings and their hash indexes */
    uint64_t bytes_names;       /* object names */
    uint64_t bytes_fields;      /* field blocks, including free block space */
    uint64_t bytes_tables;      /* object table, handle directory, namespace lists */
    uint64_t bytes_retired;     /* removed, waiting for readers to leave */
    double object_table_load;   /* live / slots */
    double atom_table_load;     /* atoms / slots, both atom tables */
    uint64_t resizes;           /* table growths and shrinks since open */
    /* Times a writer waited for readers itself since open: past the hard
     * bound on deferred frees, short of budget, clear, compact. Each wait
     * lasts until the read sections in progress end. */
    uint64_t writer_waits;
    uint64_t allocations;       /* calls to the allocator since open */
    uint64_t budget_bytes;      /* 0 = none */
    /* Secondary indexes (their bytes are also inside bytes_tables). */
    uint64_t indexes;           /* indexes declared */
    uint64_t indexed_objects;   /* (object, index) pairs indexed */
    uint64_t index_values;      /* distinct values with objects, all indexes */
    uint64_t bytes_indexes;     /* value tables, posting lists, positions */
    uint64_t values;            /* value atoms (oomkit_store_atom) */
} oomkit_store_stats;

/* Fills *out. Thread safety: reader. */
int oomkit_store_stats_get(const oomkit_store *s, oomkit_store_stats *out);

#ifdef __cplusplus
}
#endif
#endif
