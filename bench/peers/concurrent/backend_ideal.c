/* The ceiling of the concurrent runs: an ideal structure that no real one
 * can beat. It keeps the values alone, one int64 per entry in one array,
 * and sends each query straight to a slot by hashing its three strings (as
 * a collision-free perfect hash would that stores no keys and checks
 * nothing). A reader does only what every structure must: read the query's
 * strings, hash them (XXH3, the store's hash) and load one value the query
 * does not carry. So whatever reads/s it reaches on a machine bounds every
 * structure there, in this harness: a target above it is out of reach of
 * structure work, not short of it. The batched twin prefetches every
 * query's strings, then every slot, as oomkit_store_get_many does. The
 * writer stores into the slot of its key. */
#include "peer.h"

#include <stdatomic.h>
#include <stdlib.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

struct ideal {
    size_t n;
    _Atomic int64_t values[];
};

static void *ideal_open(const struct peer_input *in)
{
    size_t n = in->n ? in->n : 1; /* h % n needs one slot at least */
    struct ideal *t = malloc(sizeof *t + n * sizeof t->values[0]);
    if (t == NULL)
        return NULL;
    t->n = n;
    for (size_t i = 0; i < t->n; i++)
        atomic_init(&t->values[i], i < in->n ? in->keys[i].value : 0);
    return t;
}

static size_t ideal_slot(const struct ideal *t, const struct peer_key *k)
{
    uint64_t h = XXH3_64bits(k->ns, k->ns_len) ^ XXH3_64bits(k->name, k->name_len) ^
                 XXH3_64bits(k->key, k->key_len);
    return (size_t)(h % t->n);
}

static int ideal_get(void *h, const struct peer_key *k, int64_t *value)
{
    struct ideal *t = h;
    *value = atomic_load_explicit(&t->values[ideal_slot(t, k)], memory_order_relaxed);
    return 0;
}

static size_t ideal_get_batch(void *h, const struct peer_key *const *keys, size_t n)
{
    struct ideal *t = h;
    size_t slot[PEER_BATCH];
    for (size_t i = 0; i < n; i++) {
        __builtin_prefetch(keys[i]->ns);
        __builtin_prefetch(keys[i]->name);
        __builtin_prefetch(keys[i]->key);
    }
    for (size_t i = 0; i < n; i++) {
        slot[i] = ideal_slot(t, keys[i]);
        __builtin_prefetch(&t->values[slot[i]]);
    }
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += atomic_load_explicit(&t->values[slot[i]], memory_order_relaxed);
    /* An empty asm that takes the sum keeps the compiler from dropping the
     * loads, without a store that two readers would share. */
    __asm__ volatile("" : : "r"(sum));
    return n;
}

static int ideal_put(void *h, const struct peer_key *k, int64_t value)
{
    struct ideal *t = h;
    atomic_store_explicit(&t->values[ideal_slot(t, k)], value, memory_order_relaxed);
    return 0;
}

static int ideal_del(void *h, const struct peer_key *k)
{
    (void)h, (void)k;
    return 0;
}

static void ideal_close(void *h) { free(h); }

const struct peer_backend peer_backend_ideal = {
    "ideal-concurrent", ideal_open, ideal_get, NULL, ideal_put, ideal_del, ideal_close,
};

const struct peer_backend peer_backend_ideal_batched = {
    "ideal-batched-concurrent", ideal_open, ideal_get, ideal_get_batch, ideal_put, ideal_del,
    ideal_close,
};
