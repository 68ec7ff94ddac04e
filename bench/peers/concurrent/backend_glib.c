/* Concurrent peer: a GLib hash table on the flat key behind one
 * pthread_rwlock, the textbook C answer (and the C twin of Go's
 * map + RWMutex). Readers take the lock shared, the writer exclusive. Keys
 * of the workload point into the input's arena; keys the writer inserts
 * are copied and freed by the table. */
#include "peer.h"

#include <glib.h>
#include <pthread.h>
#include <stdlib.h>

struct glib_rw {
    pthread_rwlock_t lock;
    GHashTable *t;
    /* Workload keys are borrowed: the table frees only keys it copied,
     * which it recognises as lying outside the arena. */
    const char *arena_lo, *arena_hi;
};

static struct glib_rw *g_self; /* for the key destroy function */

static void key_free(gpointer k)
{
    const char *p = k;
    if (p < g_self->arena_lo || p >= g_self->arena_hi)
        g_free(k);
}

static void *glib_open(const struct peer_input *in)
{
    struct glib_rw *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g_self = g;
    /* glibc's default rwlock prefers readers, so two readers in a loop can
     * hold a writer off indefinitely; a careful program asks for writer
     * preference, and the peer should be the careful program. */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&g->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    g->arena_lo = in->keys[0].flat;
    g->arena_hi = in->keys[in->n - 1].flat + in->keys[in->n - 1].flat_len + 1;
    g->t = g_hash_table_new_full(g_str_hash, g_str_equal, key_free, NULL);
    for (size_t i = 0; i < in->n; i++)
        g_hash_table_insert(g->t, (gpointer)in->keys[i].flat,
                            (gpointer)(intptr_t)in->keys[i].value);
    return g;
}

static int glib_get(void *h, const struct peer_key *k, int64_t *value)
{
    struct glib_rw *g = h;
    gpointer v;
    pthread_rwlock_rdlock(&g->lock);
    gboolean found = g_hash_table_lookup_extended(g->t, k->flat, NULL, &v);
    pthread_rwlock_unlock(&g->lock);
    if (!found)
        return -1;
    *value = (int64_t)(intptr_t)v;
    return 0;
}

static int glib_put(void *h, const struct peer_key *k, int64_t value)
{
    struct glib_rw *g = h;
    /* A workload key lives in the arena and can be stored as is; any other
     * key is copied. When the key is already present, g_hash_table_insert
     * keeps the table's key and passes the new one to key_free, which frees
     * only copies. */
    gpointer key = (k->flat >= g->arena_lo && k->flat < g->arena_hi) ? (gpointer)k->flat
                                                                      : g_strdup(k->flat);
    pthread_rwlock_wrlock(&g->lock);
    g_hash_table_insert(g->t, key, (gpointer)(intptr_t)value);
    pthread_rwlock_unlock(&g->lock);
    return 0;
}

static int glib_del(void *h, const struct peer_key *k)
{
    struct glib_rw *g = h;
    pthread_rwlock_wrlock(&g->lock);
    gboolean removed = g_hash_table_remove(g->t, k->flat);
    pthread_rwlock_unlock(&g->lock);
    return removed ? 0 : -1;
}

static void glib_close(void *h)
{
    struct glib_rw *g = h;
    g_hash_table_destroy(g->t);
    pthread_rwlock_destroy(&g->lock);
    free(g);
}

const struct peer_backend peer_backend_glib_rwlock = {
    "glib-rwlock-concurrent", glib_open, glib_get, NULL, glib_put, glib_del, glib_close,
};
