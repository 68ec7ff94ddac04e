/* Concurrent peers: the oomkit store itself, through its public API only,
 * twice: readers call oomkit_store_get with the entry's three strings (no
 * registration, no lock, as store.h promises), or resolve PEER_BATCH keys
 * per oomkit_store_get_many call. The writer calls put and del, the same
 * in both. Built only when liboomkit has a working store (run.sh checks by
 * linking). */
#include "peer.h"

#include "oomkit/store.h"

#include <stdio.h>
#include <stdlib.h>

static oomkit_str s_of(const char *p, uint32_t len)
{
    oomkit_str s = { p, len };
    return s;
}

static void *store_open(const struct peer_input *in)
{
    oomkit_store_options opts = { 0 };
    opts.expected_objects = in->n / 8 + 1;
    oomkit_store *s;
    if (oomkit_store_open(&opts, &s) != 0)
        return NULL;
    for (size_t i = 0; i < in->n; i++) {
        const struct peer_key *k = &in->keys[i];
        int rc = oomkit_store_put(s, s_of(k->ns, k->ns_len), s_of(k->name, k->name_len),
                                  s_of(k->key, k->key_len), k->value);
        if (rc != 0) {
            fprintf(stderr, "peers-concurrent: oomkit_store_put: %s\n", oomkit_strerror(rc));
            oomkit_store_close(s);
            return NULL;
        }
    }
    return s;
}

static int store_get(void *h, const struct peer_key *k, int64_t *value)
{
    return oomkit_store_get(h, s_of(k->ns, k->ns_len), s_of(k->name, k->name_len),
                            s_of(k->key, k->key_len), value);
}

static size_t store_get_batch(void *h, const struct peer_key *const *keys, size_t n)
{
    oomkit_store_lookup q[PEER_BATCH];
    for (size_t i = 0; i < n; i++) {
        q[i].ns = s_of(keys[i]->ns, keys[i]->ns_len);
        q[i].name = s_of(keys[i]->name, keys[i]->name_len);
        q[i].key = s_of(keys[i]->key, keys[i]->key_len);
    }
    size_t found = 0;
    return oomkit_store_get_many(h, q, n, &found) == 0 ? found : 0;
}

static int store_put(void *h, const struct peer_key *k, int64_t value)
{
    return oomkit_store_put(h, s_of(k->ns, k->ns_len), s_of(k->name, k->name_len),
                            s_of(k->key, k->key_len), value);
}

static int store_del(void *h, const struct peer_key *k)
{
    return oomkit_store_del(h, s_of(k->ns, k->ns_len), s_of(k->name, k->name_len),
                            s_of(k->key, k->key_len));
}

static void store_close(void *h) { oomkit_store_close(h); }

const struct peer_backend peer_backend_oomkit_store = {
    "oomkit-store-concurrent", store_open, store_get, NULL, store_put, store_del, store_close,
};

const struct peer_backend peer_backend_oomkit_store_batched = {
    "oomkit-store-batched-concurrent",
    store_open,
    store_get,
    store_get_batch,
    store_put,
    store_del,
    store_close,
};
