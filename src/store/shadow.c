/* The migration harness of include/oomkit/shadow.h: dual writes to a legacy
 * key-value structure and the store, sampled read verification, automatic
 * rollback and a full reconciliation pass. It sits on top of the store's
 * public API only; the legacy side is reached through its vtable. */
#include "oomkit/shadow.h"

#include "core/alloc.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

struct oomkit_shadow {
    pthread_mutex_t lock;
    oomkit_shadow_legacy legacy;
    oomkit_store *store;
    oomkit_shadow_options opts;
    uint64_t rng;
    oomkit_shadow_stats st;
};

static uint64_t next_rand(oomkit_shadow *sh)
{
    /* splitmix64: a sampler, not a hash of data. */
    uint64_t z = (sh->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

int oomkit_shadow_open(const oomkit_shadow_legacy *legacy, oomkit_store *store,
                       const oomkit_shadow_options *opts, oomkit_shadow **out)
{
    if (legacy == NULL || store == NULL || out == NULL || legacy->put == NULL ||
        legacy->get == NULL || legacy->del == NULL || legacy->del_object == NULL ||
        legacy->iterate == NULL)
        return -EINVAL;
    if (opts != NULL && (opts->verify_percent > 100 || opts->phase > OOMKIT_SHADOW_ROLLED_BACK))
        return -EINVAL;
    oomkit_shadow *sh = oomkit__malloc(sizeof(*sh));
    if (sh == NULL)
        return -ENOMEM;
    memset(sh, 0, sizeof(*sh));
    sh->legacy = *legacy;
    sh->store = store;
    if (opts != NULL) {
        sh->opts = *opts;
    } else {
        sh->opts.phase = OOMKIT_SHADOW_VERIFY;
        sh->opts.verify_percent = 100;
    }
    sh->rng = sh->opts.seed;
    sh->st.phase = sh->opts.phase;
    pthread_mutex_init(&sh->lock, NULL);
    *out = sh;
    return 0;
}

void oomkit_shadow_close(oomkit_shadow *sh)
{
    if (sh == NULL)
        return;
    pthread_mutex_destroy(&sh->lock);
    oomkit__free(sh);
}

static void copy_trunc(char *dst, oomkit_str s)
{
    size_t n = s.len < OOMKIT_SHADOW_KEY_MAX - 1 ? s.len : OOMKIT_SHADOW_KEY_MAX - 1;
    if (n)
        memcpy(dst, s.ptr, n);
    dst[n] = '\0';
}

/* Counts and reports one divergence; rolls back if it passes the
 * threshold. Under the lock. */
static void diverged(oomkit_shadow *sh, oomkit_shadow_event_kind kind, oomkit_str ns,
                     oomkit_str name, oomkit_str key, int lrc, int64_t lv, int src, int64_t sv)
{
    oomkit_shadow_stats *st = &sh->st;
    st->divergences++;
    if (kind == OOMKIT_SHADOW_DIVERGENCE_READ)
        st->read_divergences++;
    else if (kind == OOMKIT_SHADOW_DIVERGENCE_RECONCILE)
        st->reconcile_divergences++;
    else
        st->write_divergences++;
    copy_trunc(st->last_ns, ns);
    copy_trunc(st->last_name, name);
    copy_trunc(st->last_key, key);
    st->last_legacy_rc = lrc;
    st->last_store_rc = src;
    st->last_legacy_value = lrc == 0 ? lv : 0;
    st->last_store_value = src == 0 ? sv : 0;
    oomkit_shadow_event ev = { kind, ns, name, key, lrc, st->last_legacy_value, src,
                               st->last_store_value, st->divergences };
    if (sh->opts.report != NULL)
        sh->opts.report(sh->opts.report_ctx, &ev);
    if (sh->opts.rollback_threshold != 0 && st->divergences > sh->opts.rollback_threshold &&
        st->phase != OOMKIT_SHADOW_ROLLED_BACK) {
        st->phase = OOMKIT_SHADOW_ROLLED_BACK;
        st->rollbacks++;
        ev.kind = OOMKIT_SHADOW_ROLLBACK;
        if (sh->opts.report != NULL)
            sh->opts.report(sh->opts.report_ctx, &ev);
    }
}

static int store_first(const oomkit_shadow *sh)
{
    return sh->st.phase == OOMKIT_SHADOW_PRIMARY_NEW;
}

/* Runs a write on both sides, primary first; returns the primary's rc. */
#define DUAL_WRITE(sh, ns, name, key, LEGACY_CALL, STORE_CALL)                                  \
    do {                                                                                        \
        pthread_mutex_lock(&(sh)->lock);                                                        \
        (sh)->st.writes++;                                                                      \
        int lrc_, src_;                                                                         \
        if (store_first(sh)) {                                                                  \
            src_ = (STORE_CALL);                                                                \
            lrc_ = (LEGACY_CALL);                                                               \
        } else {                                                                                \
            lrc_ = (LEGACY_CALL);                                                               \
            src_ = (STORE_CALL);                                                                \
        }                                                                                       \
        if (lrc_ != src_)                                                                       \
            diverged(sh, OOMKIT_SHADOW_DIVERGENCE_WRITE, ns, name, key, lrc_, 0, src_, 0);      \
        int rc_ = store_first(sh) ? src_ : lrc_;                                                \
        pthread_mutex_unlock(&(sh)->lock);                                                      \
        return rc_;                                                                             \
    } while (0)

int oomkit_shadow_put(oomkit_shadow *sh, oomkit_str ns, oomkit_str name, oomkit_str key,
                      int64_t value)
{
    if (sh == NULL)
        return -EINVAL;
    DUAL_WRITE(sh, ns, name, key, sh->legacy.put(sh->legacy.impl, ns, name, key, value),
               oomkit_store_put(sh->store, ns, name, key, value));
}

int oomkit_shadow_del(oomkit_shadow *sh, oomkit_str ns, oomkit_str name, oomkit_str key)
{
    if (sh == NULL)
        return -EINVAL;
    DUAL_WRITE(sh, ns, name, key, sh->legacy.del(sh->legacy.impl, ns, name, key),
               oomkit_store_del(sh->store, ns, name, key));
}

int oomkit_shadow_del_object(oomkit_shadow *sh, oomkit_str ns, oomkit_str name)
{
    if (sh == NULL)
        return -EINVAL;
    oomkit_str none = { "", 0 };
    DUAL_WRITE(sh, ns, name, none, sh->legacy.del_object(sh->legacy.impl, ns, name),
               oomkit_store_del_object(sh->store, ns, name));
}

int oomkit_shadow_get(oomkit_shadow *sh, oomkit_str ns, oomkit_str name, oomkit_str key,
                      int64_t *value)
{
    if (sh == NULL || value == NULL)
        return -EINVAL;
    pthread_mutex_lock(&sh->lock);
    sh->st.reads++;
    int verify = sh->st.phase != OOMKIT_SHADOW_ROLLED_BACK && sh->opts.verify_percent != 0 &&
                 next_rand(sh) % 100 < sh->opts.verify_percent;
    int64_t lv = 0, sv = 0;
    int lrc = 0, src = 0, rc;
    if (store_first(sh)) {
        src = rc = oomkit_store_get(sh->store, ns, name, key, &sv);
        if (verify)
            lrc = sh->legacy.get(sh->legacy.impl, ns, name, key, &lv);
        if (rc == 0)
            *value = sv;
    } else {
        lrc = rc = sh->legacy.get(sh->legacy.impl, ns, name, key, &lv);
        if (verify)
            src = oomkit_store_get(sh->store, ns, name, key, &sv);
        if (rc == 0)
            *value = lv;
    }
    if (verify) {
        sh->st.verified++;
        if (lrc != src || (lrc == 0 && lv != sv))
            diverged(sh, OOMKIT_SHADOW_DIVERGENCE_READ, ns, name, key, lrc, lv, src, sv);
    }
    pthread_mutex_unlock(&sh->lock);
    return rc;
}

int oomkit_shadow_set_phase(oomkit_shadow *sh, oomkit_shadow_phase phase, unsigned verify_percent)
{
    if (sh == NULL || verify_percent > 100 || phase > OOMKIT_SHADOW_ROLLED_BACK)
        return -EINVAL;
    pthread_mutex_lock(&sh->lock);
    sh->st.phase = phase;
    sh->opts.verify_percent = verify_percent;
    pthread_mutex_unlock(&sh->lock);
    return 0;
}

/* ---- reconciliation ------------------------------------------------------ */

typedef struct rec_ctx {
    oomkit_shadow *sh;
    uint64_t found;
    oomkit_str ns, name;
} rec_ctx;

/* Legacy -> store: every legacy entry must be in the store, equal. */
static int legacy_entry(void *ctx, oomkit_str ns, oomkit_str name, oomkit_str key, int64_t lv)
{
    rec_ctx *c = ctx;
    int64_t sv = 0;
    int src = oomkit_store_get(c->sh->store, ns, name, key, &sv);
    if (src != 0 || sv != lv) {
        c->found++;
        diverged(c->sh, OOMKIT_SHADOW_DIVERGENCE_RECONCILE, ns, name, key, 0, lv, src, sv);
    }
    return 0;
}

/* Store -> legacy: only entries the legacy side lacks (values that differ
 * were reported by the first pass). */
static int store_field(void *ctx, oomkit_str key, uint32_t key_id, int64_t sv)
{
    (void)key_id;
    rec_ctx *c = ctx;
    int64_t lv = 0;
    int lrc = c->sh->legacy.get(c->sh->legacy.impl, c->ns, c->name, key, &lv);
    if (lrc != 0) {
        c->found++;
        diverged(c->sh, OOMKIT_SHADOW_DIVERGENCE_RECONCILE, c->ns, c->name, key, lrc, 0, 0, sv);
    }
    return 0;
}

static int store_object(void *ctx, oomkit_str name, oomkit_store_obj obj)
{
    rec_ctx *c = ctx;
    c->name = name;
    /* A stale handle means the object went meanwhile: nothing to compare. */
    (void)oomkit_store_obj_each_field(c->sh->store, obj, store_field, c);
    return 0;
}

static int store_namespace(void *ctx, oomkit_str ns, uint64_t objects)
{
    (void)objects;
    rec_ctx *c = ctx;
    c->ns = ns;
    int r = oomkit_store_each_object(c->sh->store, ns, store_object, c);
    return r == -ENOENT ? 0 : r;
}

int oomkit_shadow_reconcile(oomkit_shadow *sh, uint64_t *found)
{
    if (sh == NULL)
        return -EINVAL;
    pthread_mutex_lock(&sh->lock);
    rec_ctx c = { sh, 0, { "", 0 }, { "", 0 } };
    int r = sh->legacy.iterate(sh->legacy.impl, legacy_entry, &c);
    if (r == 0)
        r = oomkit_store_each_namespace(sh->store, store_namespace, &c);
    pthread_mutex_unlock(&sh->lock);
    if (found != NULL)
        *found = c.found;
    return r;
}

int oomkit_shadow_stats_get(oomkit_shadow *sh, oomkit_shadow_stats *out)
{
    if (sh == NULL || out == NULL)
        return -EINVAL;
    pthread_mutex_lock(&sh->lock);
    *out = sh->st;
    pthread_mutex_unlock(&sh->lock);
    return 0;
}
