/* The public side of the store's secondary indexes and value atoms
 * (store.h, "value atoms and secondary indexes"): declaring an index and
 * building it over a populated store, and the two allocation-free readers.
 * The structures are in sindex.c; store.c keeps the indexes exact on every
 * write. */
#include "store/store_internal.h"

#include <string.h>

int oomkit_store_atom(oomkit_store *s, oomkit_str str, int create, uint32_t *id)
{
    if (s == NULL || id == NULL || !oomkit__str_ok(str))
        return -EINVAL;
    uint64_t h = oomkit__atom_hash(str.ptr, str.len);
    if (!create) {
        oomkit__rd_lock();
        uint32_t a = oomkit__atoms_find(&s->vals, str.ptr, str.len, h);
        oomkit__rd_unlock(STORE_SYNC(s));
        if (a == ATOM_NONE)
            return -ENOENT;
        *id = a;
        return 0;
    }
    int r = oomkit__store_writer_enter(s);
    if (r != 0)
        return r;
    oomkit__store_ensure_room(s);
    uint32_t a = oomkit__atoms_find(&s->vals, str.ptr, str.len, h);
    if (a == ATOM_NONE) {
        if (s->vals.count == UINT32_MAX - 1 ||
            !oomkit__store_fits_or_flush(s, oomkit__atoms_need(&s->vals, str.len)))
            r = -E2BIG;
        if (r == 0)
            r = oomkit__atoms_grow(&s->vals, &s->m, str.len);
        if (r == 0)
            a = oomkit__atoms_insert(&s->vals, str.ptr, str.len, h);
    }
    if (r == 0)
        *id = a;
    oomkit__store_writer_leave(s);
    return r;
}

int oomkit_store_atom_str(const oomkit_store *s, uint32_t id, oomkit_str *out)
{
    if (s == NULL || out == NULL)
        return -EINVAL;
    if (id >= oomkit__atoms_count(&s->vals))
        return -ENOENT;
    oomkit__rd_lock();
    const oomkit__atom_rec *rec = oomkit__atoms_rec(&s->vals, id);
    oomkit__rd_unlock(STORE_SYNC(s));
    if (rec == NULL)
        return -ENOENT;
    /* Atom records never move and live as long as the store. */
    out->ptr = rec->bytes;
    out->len = rec->len;
    return 0;
}

/* Builds index x over every live object. The index is not yet published,
 * so its structures are freed, not retired, when replaced. */
static int build(oomkit_store *s, oomkit__sindex *x)
{
    uint32_t bound = s->h.next_fresh;
    for (uint32_t id = 0; id < bound; id++) {
        const oomkit__blk *b = oomkit__handles_block(&s->h, id);
        if (b == NULL)
            continue;
        int fi = oomkit__blk_find(b, b->nfields, x->key_id);
        if (fi < 0)
            continue;
        int64_t v = oomkit__blk_values(b)[fi];
        if (oomkit__ix_full(x, v))
            return -E2BIG;
        if (!oomkit__store_fits_or_flush(s, oomkit__ix_need(x, v, id)))
            return -E2BIG;
        if (oomkit__ix_prepare(x, &s->m, v, id) != 0)
            return -ENOMEM;
        oomkit__ix_add(x, &s->m, v, id);
    }
    return 0;
}

int oomkit_store_index_add(oomkit_store *s, oomkit_str key, uint32_t *index_id)
{
    if (s == NULL || index_id == NULL || !oomkit__str_ok(key))
        return -EINVAL;
    uint32_t key_id;
    int r = oomkit_store_key(s, key, 1, &key_id);
    if (r != 0)
        return r;
    r = oomkit__store_writer_enter(s);
    if (r != 0)
        return r;
    for (uint32_t i = 0; i < s->nix; i++) {
        if (s->ix[i].key_id == key_id) {
            *index_id = i;
            oomkit__store_writer_leave(s);
            return 0;
        }
    }
    if (s->nix == IX_MAX) {
        oomkit__store_writer_leave(s);
        return -ENOSPC;
    }
    oomkit__sindex *x = &s->ix[s->nix];
    oomkit__ix_init(x, key_id);
    x->budget_bytes = s->budget_bytes;
    x->private_build = 1;
    r = build(s, x);
    if (r != 0) {
        oomkit__ix_destroy(x, &s->m);
        oomkit__store_writer_leave(s);
        return r;
    }
    x->private_build = 0;
    *index_id = s->nix;
    STORE_REL(&s->nix, s->nix + 1);
    oomkit__store_writer_leave(s);
    return 0;
}

int oomkit_store_index_each(const oomkit_store *s, uint32_t index_id, int64_t value,
                            oomkit_store_index_fn fn, void *ctx)
{
    if (s == NULL || fn == NULL || index_id >= LOAD_ACQ(&((oomkit_store *)s)->nix))
        return -EINVAL;
    int r = 0;
    const oomkit__sindex *x = &s->ix[index_id];
    oomkit__rd_lock();
    const oomkit__plist *l = oomkit__ix_find(x, value);
    /* One snapshot of the length: an object appended later (one that left
     * this value and came back) is not visited twice. */
    uint32_t n = l ? LOAD_ACQ(&((oomkit__plist *)l)->len) : 0;
    for (uint32_t i = 0; i < n && r == 0; i++) {
        uint32_t id = LOAD_RLX(&((oomkit__plist *)l)->ids[i]);
        if (id == IX_DEAD)
            continue;
        const oomkit__blk *b = oomkit__handles_block(&s->h, id);
        if (b == NULL)
            continue;
        const int64_t *v = oomkit__blk_field(b, x->key_id);
        if (v == NULL || LOAD_RLX(v) != value)
            continue;
        const oomkit__atom_rec *ns = oomkit__atoms_rec(&s->ns, b->ns_id);
        oomkit_str nss = { ns ? ns->bytes : "", ns ? ns->len : 0 };
        oomkit_str name = { oomkit__blk_name(b), b->name_len };
        r = fn(ctx, nss, name, oomkit__handles_of(&s->h, id));
    }
    oomkit__rd_unlock(STORE_SYNC(s));
    return r;
}

int oomkit_store_index_values(const oomkit_store *s, uint32_t index_id,
                              oomkit_store_index_value_fn fn, void *ctx)
{
    if (s == NULL || fn == NULL || index_id >= LOAD_ACQ(&((oomkit_store *)s)->nix))
        return -EINVAL;
    int r = 0;
    const oomkit__sindex *x = &s->ix[index_id];
    oomkit__rd_lock();
    const oomkit__vtab *t = LOAD_ACQ(&((oomkit__sindex *)x)->vt);
    for (uint64_t i = 0; t != NULL && i <= t->mask && r == 0; i++) {
        uint64_t v = LOAD_ACQ(&((oomkit__vtab *)t)->slots[i]);
        if (v <= IX_TOMB)
            continue;
        const oomkit__plist *l = (const oomkit__plist *)(uintptr_t)v;
        uint32_t live = LOAD_RLX(&((oomkit__plist *)l)->live);
        if (live != 0)
            r = fn(ctx, l->value, live);
    }
    oomkit__rd_unlock(STORE_SYNC(s));
    return r;
}
