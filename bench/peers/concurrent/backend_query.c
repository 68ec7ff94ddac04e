/* The ceiling of the concurrent runs: a "structure" with nothing behind it.
 * Its readers do only what every structure keyed by these strings must do
 * at least: read each query's three strings from its record and input line
 * and fold them into a hash (XXH3, the hash the store uses), then answer
 * "found". Its writer does nothing. Whatever reads/s it reaches on a
 * machine is more than any real structure can reach there in this harness,
 * so a target above it is out of reach of structure work, not short of it.
 * The batched twin starts every query's misses before hashing any, as
 * oomkit_store_get_many does. */
#include "peer.h"

#include <stdlib.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* Something to point at: open must not return NULL. */
static char query_only_handle;

static void *query_open(const struct peer_input *in)
{
    (void)in;
    return &query_only_handle;
}

static uint64_t query_hash(const struct peer_key *k)
{
    return XXH3_64bits(k->ns, k->ns_len) ^ XXH3_64bits(k->name, k->name_len) ^
           XXH3_64bits(k->key, k->key_len);
}

static int query_get(void *h, const struct peer_key *k, int64_t *value)
{
    (void)h;
    *value = (int64_t)query_hash(k);
    return 0;
}

static size_t query_get_batch(void *h, const struct peer_key *const *keys, size_t n)
{
    (void)h;
    for (size_t i = 0; i < n; i++) {
        __builtin_prefetch(keys[i]->ns);
        __builtin_prefetch(keys[i]->name);
        __builtin_prefetch(keys[i]->key);
    }
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += query_hash(keys[i]);
    /* An empty asm that takes the sum keeps the compiler from dropping the
     * hashing, without a store that two readers would share. */
    __asm__ volatile("" : : "r"(sum));
    return n;
}

static int query_put(void *h, const struct peer_key *k, int64_t value)
{
    (void)h, (void)k, (void)value;
    return 0;
}

static int query_del(void *h, const struct peer_key *k)
{
    (void)h, (void)k;
    return 0;
}

static void query_close(void *h) { (void)h; }

const struct peer_backend peer_backend_query_only = {
    "query-only-concurrent", query_open, query_get, NULL, query_put, query_del, query_close,
};

const struct peer_backend peer_backend_query_only_batched = {
    "query-only-batched-concurrent",
    query_open,
    query_get,
    query_get_batch,
    query_put,
    query_del,
    query_close,
};
