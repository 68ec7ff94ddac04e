/* Iteration over namespaces, objects and fields (store.h, "iteration"). All
 * of it runs inside one read section per call, so every pointer loaded stays
 * valid until the callback returns; the guarantees about concurrent writers
 * come from the namespace lists (nslist.h) and the copy-on-write blocks
 * (block.h). */
#include "store/store_internal.h"

static int fields_of(const oomkit_store *s, const oomkit__blk *b, oomkit_store_field_fn fn,
                     void *ctx)
{
    uint16_t nf = oomkit__blk_nfields(b);
    const int64_t *vals = oomkit__blk_values(b);
    for (uint16_t i = 0; i < nf; i++) {
        uint32_t key_id = oomkit__blk_key(b, i);
        const oomkit__atom_rec *k = oomkit__atoms_rec(&s->keys, key_id);
        oomkit_str ks = { k ? k->bytes : "", k ? k->len : 0 };
        int r = fn(ctx, ks, key_id, LOAD_RLX(&vals[i]));
        if (r != 0)
            return r;
    }
    return 0;
}

int oomkit_store_each_namespace(const oomkit_store *s, oomkit_store_namespace_fn fn, void *ctx)
{
    if (s == NULL || fn == NULL)
        return -EINVAL;
    int r = 0;
    oomkit__rd_lock();
    uint32_t n = oomkit__atoms_count(&s->ns);
    for (uint32_t i = 0; i < n && r == 0; i++) {
        const oomkit__nslist *l = oomkit__nslist_get(&s->ns, i);
        if (l == NULL)
            continue;
        uint32_t live = LOAD_RLX(&((oomkit__nslist *)l)->live);
        if (live == 0)
            continue;
        const oomkit__atom_rec *rec = oomkit__atoms_rec(&s->ns, i);
        oomkit_str ns = { rec->bytes, rec->len };
        r = fn(ctx, ns, live);
    }
    oomkit__rd_unlock(STORE_SYNC(s));
    return r;
}

int oomkit_store_each_object(const oomkit_store *s, oomkit_str ns, oomkit_store_object_fn fn,
                             void *ctx)
{
    if (s == NULL || fn == NULL || !oomkit__str_ok(ns))
        return -EINVAL;
    int r = -ENOENT;
    oomkit__rd_lock();
    uint32_t ns_id = oomkit__atoms_find(&s->ns, ns.ptr, ns.len, oomkit__atom_hash(ns.ptr, ns.len));
    oomkit__nslist *l = ns_id != ATOM_NONE ? oomkit__nslist_get(&s->ns, ns_id) : NULL;
    if (l != NULL && LOAD_RLX(&l->live) != 0) {
        r = 0;
        uint32_t start = LOAD_ACQ(&l->births);
        uint32_t len = LOAD_ACQ(&l->len);
        for (uint32_t i = 0; i < len && r == 0; i++) {
            uint64_t v = LOAD_ACQ(oomkit__nslist_slot(l, i));
            if (!oomkit__nslist_born_before(v, start))
                continue;
            uint32_t id = NS_SLOT_ID(v);
            uint64_t e = oomkit__handles_entry(&s->h, id);
            const oomkit__blk *b = (const oomkit__blk *)(uintptr_t)(e & H_PTR_MASK);
            if ((e & 7) != 0 || b == NULL || b->ns_id != ns_id)
                continue;
            oomkit_str name = { oomkit__blk_name(b), b->name_len };
            r = fn(ctx, name, (e >> 48) << 32 | id);
        }
    }
    oomkit__rd_unlock(STORE_SYNC(s));
    return r;
}

int oomkit_store_each_field(const oomkit_store *s, oomkit_str ns, oomkit_str name,
                            oomkit_store_field_fn fn, void *ctx)
{
    if (s == NULL || fn == NULL || !oomkit__str_ok(ns) || !oomkit__str_ok(name))
        return -EINVAL;
    oomkit__rd_lock();
    const oomkit__blk *b = oomkit__store_find_obj(s, ns, name);
    int r = b ? fields_of(s, b, fn, ctx) : -ENOENT;
    oomkit__rd_unlock(STORE_SYNC(s));
    return r;
}

int oomkit_store_obj_each_field(const oomkit_store *s, oomkit_store_obj obj,
                                oomkit_store_field_fn fn, void *ctx)
{
    if (s == NULL || fn == NULL)
        return -EINVAL;
    oomkit__rd_lock();
    const oomkit__blk *b = oomkit__handles_resolve(&s->h, obj);
    int r = b ? fields_of(s, b, fn, ctx) : -ENOENT;
    oomkit__rd_unlock(STORE_SYNC(s));
    return r;
}
