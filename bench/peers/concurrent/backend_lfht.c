/* Concurrent peer: liburcu's lock-free resizable hash table (cds_lfht, a
 * split-ordered list) on the flat key, with the "bulletproof" RCU flavour
 * so reader threads need no registration. Readers look up inside an RCU
 * read section and load the value atomically; the writer updates a value
 * in place with an atomic store, adds new nodes with add_unique, and frees
 * deleted nodes through call_rcu once no reader can see them. */
#include "peer.h"

#include <urcu-bp.h>
#include <urcu/rculfhash.h>

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

struct lf_node {
    struct cds_lfht_node node;
    struct rcu_head rcu;
    int64_t value; /* atomic: the writer stores, readers load */
    uint32_t len;
    char key[];
};

struct lf {
    struct cds_lfht *ht;
};

static int match(struct cds_lfht_node *node, const void *key)
{
    const struct peer_key *k = key;
    const struct lf_node *n = caa_container_of(node, struct lf_node, node);
    return n->len == k->flat_len && memcmp(n->key, k->flat, k->flat_len) == 0;
}

static unsigned long hash_key(const struct peer_key *k)
{
    return (unsigned long)XXH3_64bits(k->flat, k->flat_len);
}

static struct lf_node *node_new(const struct peer_key *k, int64_t value)
{
    struct lf_node *n = malloc(sizeof *n + k->flat_len + 1);
    if (!n)
        return NULL;
    cds_lfht_node_init(&n->node);
    n->value = value;
    n->len = k->flat_len;
    memcpy(n->key, k->flat, k->flat_len + 1);
    return n;
}

static void node_free_rcu(struct rcu_head *head)
{
    free(caa_container_of(head, struct lf_node, rcu));
}

static void *lf_open(const struct peer_input *in)
{
    struct lf *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    unsigned long init = 1;
    while (init < in->n)
        init <<= 1;
    l->ht = cds_lfht_new(init, 1, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING, NULL);
    if (!l->ht) {
        free(l);
        return NULL;
    }
    urcu_bp_read_lock();
    for (size_t i = 0; i < in->n; i++) {
        struct lf_node *n = node_new(&in->keys[i], in->keys[i].value);
        if (!n)
            abort();
        cds_lfht_add(l->ht, hash_key(&in->keys[i]), &n->node);
    }
    urcu_bp_read_unlock();
    return l;
}

static int lf_get(void *h, const struct peer_key *k, int64_t *value)
{
    struct lf *l = h;
    struct cds_lfht_iter it;
    int rc = -1;
    urcu_bp_read_lock();
    cds_lfht_lookup(l->ht, hash_key(k), match, k, &it);
    struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
    if (node) {
        *value = __atomic_load_n(&caa_container_of(node, struct lf_node, node)->value,
                                 __ATOMIC_RELAXED);
        rc = 0;
    }
    urcu_bp_read_unlock();
    return rc;
}

static int lf_put(void *h, const struct peer_key *k, int64_t value)
{
    struct lf *l = h;
    struct cds_lfht_iter it;
    unsigned long hash = hash_key(k);
    urcu_bp_read_lock();
    cds_lfht_lookup(l->ht, hash, match, k, &it);
    struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
    if (node) {
        __atomic_store_n(&caa_container_of(node, struct lf_node, node)->value, value,
                         __ATOMIC_RELAXED);
        urcu_bp_read_unlock();
        return 0;
    }
    struct lf_node *n = node_new(k, value);
    if (!n) {
        urcu_bp_read_unlock();
        return -1;
    }
    struct cds_lfht_node *prev = cds_lfht_add_unique(l->ht, hash, match, k, &n->node);
    urcu_bp_read_unlock();
    if (prev != &n->node) {
        /* Only one writer exists, so this cannot happen; stay correct. */
        free(n);
        return -1;
    }
    return 0;
}

static int lf_del(void *h, const struct peer_key *k)
{
    struct lf *l = h;
    struct cds_lfht_iter it;
    int rc = -1;
    urcu_bp_read_lock();
    cds_lfht_lookup(l->ht, hash_key(k), match, k, &it);
    struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
    if (node && cds_lfht_del(l->ht, node) == 0) {
        urcu_bp_call_rcu(&caa_container_of(node, struct lf_node, node)->rcu, node_free_rcu);
        rc = 0;
    }
    urcu_bp_read_unlock();
    return rc;
}

static void lf_close(void *h)
{
    struct lf *l = h;
    struct cds_lfht_iter it;
    struct cds_lfht_node *node;
    urcu_bp_read_lock();
    cds_lfht_for_each(l->ht, &it, node)
    {
        if (cds_lfht_del(l->ht, node) == 0)
            urcu_bp_call_rcu(&caa_container_of(node, struct lf_node, node)->rcu,
                             node_free_rcu);
    }
    urcu_bp_read_unlock();
    urcu_bp_barrier(); /* run every pending free */
    cds_lfht_destroy(l->ht, NULL);
    free(l);
}

const struct peer_backend peer_backend_urcu_lfht = {
    "urcu-lfht-concurrent", lf_open, lf_get, NULL, lf_put, lf_del, lf_close,
};
