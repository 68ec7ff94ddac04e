/* Concurrent peer: the oomkit store itself, through its public API only.
 * Readers call oomkit_store_get with the entry's three strings (no
 * registration, no lock, as store.h promises); the writer calls put and
 * del. Built only when liboomkit has a working store (run.sh checks by
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
    "oomkit-store-concurrent", store_open, store_get, store_put, store_del, store_close,
};
