/* The oomkit store: writers, accounting and the public entry points of
 * include/oomkit/store.h (readers that iterate live in store_iter.c,
 * compact in store_compact.c).
 *
 * Design
 * ------
 * An entry is (namespace, name, key) -> int64. Namespaces and keys repeat
 * endlessly, names almost never; so:
 *
 *   ns atoms ---+                                   key atoms
 *   (atoms.c)   | ns_id                             (atoms.c) key_id
 *               v                                        |
 *   object table slot [tag16|ptr] --------> block { ns_id obj_id nfields cap name_len|kw ns_pos
 *   (objtab.c, XXH3(name, seed ns_id))             | name | keys[cap] | values[cap] }
 *                                                   ^     (block.h, slab.c)
 *   handle directory [gen|ptr] ---------------------+
 *   (handles.c, id -> block; handle = id | gen << 32)
 *   namespace lists: ns_id -> [obj ids] (nslist.c), for each_object
 *   secondary indexes: per indexed key, value -> [obj ids] (sindex.c), kept
 *   exact by every write below inside the same prepare-then-commit step
 *
 * A hit lookup hashes the namespace and the key (both atom tables are small
 * and cache-resident), hashes the name, then touches one object-table slot
 * and one block: two cache misses. Per entry the store spends 12 bytes
 * (u32 key, i64 value) plus its share of the block header, the name, the
 * table slot, the handle entry and the list slot: about 21 bytes on the
 * 100k-object Kubernetes workload (docs/architecture.md, "store").
 *
 * Blocks have exactly the capacity they need: a new field copies the block
 * into one a field larger (copy-on-write), and the old block, after its grace
 * period, goes to the slab's free list of its exact size where the next
 * object growing through that size picks it up. That keeps the bytes per
 * entry near the payload at the price of a small copy per new field;
 * put_fields writes many fields with one copy.
 *
 * Concurrency
 * -----------
 * Readers run inside liburcu-bp read sections and only load: acquire loads of
 * published pointers and counts, relaxed loads of values. Writers take one
 * mutex. In-place writes are single atomic stores (a value update; an append
 * into spare capacity publishes nfields last). Every structural change
 * builds a new copy, publishes it with a release store and retires the old
 * memory into the ledger (smem.c). Full ledgers go to a grace-period
 * thread and are freed by later writes once their grace period is over;
 * the writer waits for readers itself only when the bytes waiting pass a
 * hard bound, or when it needs the memory back now (budget, clear,
 * compact): reclaim.h. A writer called inside a read section would wait
 * for itself: it returns -EDEADLK.
 *
 * Prepare, then commit
 * --------------------
 * Every write first computes what it will allocate (atom growth, table
 * growth, a block, a list), checks the exact footprint against the budget,
 * allocates, and only then mutates content. A failed allocation can leave a
 * table larger, never content changed, so -ENOMEM and -E2BIG leave the store
 * as it was and usable. Deletes never allocate except to copy a block that
 * loses one field of several.
 *
 * Accounting: every allocation passes through the ledger with its footprint
 * as glibc holds it (oomkit__alloc_footprint), so stats.bytes_total matches
 * mallinfo2() deltas; tests/store/test_store_accounting.c checks it. */
#include "store/store_internal.h"

#include "core/alloc.h"

#include <stdlib.h>
#include <string.h>

static void free_block(oomkit_store *s, oomkit__blk *b)
{
    oomkit__slab_free(&s->slab, &s->m, b, oomkit__blk_size(b));
}

static int writer_enter(oomkit_store *s)
{
    if (urcu_bp_read_ongoing())
        return -EDEADLK;
    pthread_mutex_lock(&s->lock);
    return 0;
}

static void writer_leave(oomkit_store *s)
{
    oomkit__reclaim_after_write(s);
    pthread_mutex_unlock(&s->lock);
}

/* Wrappers for the writers of store_index.c. */
int oomkit__store_writer_enter(oomkit_store *s)
{
    return writer_enter(s);
}
void oomkit__store_writer_leave(oomkit_store *s)
{
    writer_leave(s);
}
int oomkit__store_fits_or_flush(oomkit_store *s, size_t need)
{
    if (oomkit__store_fits(s, need))
        return 1;
    oomkit__reclaim_now(s);
    return oomkit__store_fits(s, need);
}
void oomkit__store_ensure_room(oomkit_store *s)
{
    oomkit__reclaim_room(s, WRITE_RETIRE_SLOTS);
}

/* ---- open / close --------------------------------------------------------- */

int oomkit_store_open(const oomkit_store_options *opts, oomkit_store **out)
{
    if (out == NULL)
        return -EINVAL;
    oomkit_store *s = oomkit__malloc(sizeof(*s));
    if (s == NULL)
        return -ENOMEM;
    memset(s, 0, sizeof(*s));
    s->m.allocations = 1;
    s->m.part[SM_TABLES] = oomkit__alloc_footprint(sizeof(*s));
    s->budget_bytes = opts ? opts->budget_bytes : 0;
    oomkit__atoms_init(&s->ns, 1);
    oomkit__atoms_init(&s->keys, 0);
    oomkit__atoms_init(&s->vals, 0);
    oomkit__handles_init(&s->h);
    oomkit__slab_init(&s->slab);
    s->m.retire = oomkit__smem_alloc(&s->m, SM_TABLES, SMEM_RETIRE_SLOTS * sizeof(oomkit__retired));
    s->m.retire_cap = SMEM_RETIRE_SLOTS;
    if (s->m.retire == NULL) {
        oomkit__free(s);
        return -ENOMEM;
    }
    if (oomkit__objtab_init(&s->ot, &s->m, opts ? opts->expected_objects : 0) != 0 ||
        (s->budget_bytes && oomkit__smem_total(&s->m) > s->budget_bytes)) {
        int r = s->ot.dir ? -E2BIG : -ENOMEM;
        oomkit__objtab_destroy(&s->ot, &s->m);
        oomkit__free(s->m.retire);
        oomkit__free(s);
        return r;
    }
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return 0;
}

void oomkit_store_close(oomkit_store *s)
{
    if (s == NULL)
        return;
    oomkit__reclaim_close(s);
    oomkit__objtab_destroy(&s->ot, &s->m);
    /* Namespace lists hang off the namespace atoms' aux directory. */
    for (uint32_t n = 0; n < s->ns.count + 1; n++) {
        uint64_t *e = oomkit__pdir_slot(&s->ns.aux, n);
        if (e != NULL && *e != 0) {
            oomkit__nslist_free((oomkit__nslist *)(uintptr_t)*e, &s->m, SM_TABLES);
        }
    }
    /* Huge blocks are allocated alone; slab blocks go with their pages. */
    uint32_t bound = s->h.next_fresh;
    for (uint32_t id = 0; id < bound; id++) {
        uint64_t e = oomkit__handles_entry(&s->h, id);
        oomkit__blk *b = (oomkit__blk *)(uintptr_t)(e & H_PTR_MASK);
        if ((e & 7) <= 1 && b != NULL && oomkit__blk_size(b) > SLAB_MAX_BLOCK)
            oomkit__smem_free(&s->m, SM_SLAB, b, oomkit__blk_size(b));
    }
    oomkit__handles_destroy(&s->h, &s->m);
    oomkit__atoms_destroy(&s->ns, &s->m);
    oomkit__atoms_destroy(&s->keys, &s->m);
    oomkit__atoms_destroy(&s->vals, &s->m);
    for (uint32_t i = 0; i < s->nix; i++)
        oomkit__ix_destroy(&s->ix[i], &s->m);
    oomkit__slab_destroy(&s->slab, &s->m);
    pthread_mutex_destroy(&s->lock);
    oomkit__free(s->m.retire);
    oomkit__free(s);
}

/* ---- commit helpers (cannot fail) ----------------------------------------- */

static void count_add(uint64_t *c, uint64_t d)
{
    STORE_RLX(c, LOAD_RLX(c) + d);
}

/* Sets the header of a fresh block nb (capacity cap, key width kw) and
 * copies the name; its fields are the caller's to write. */
static void blk_init(oomkit__blk *nb, uint32_t ns_id, uint32_t obj_id, oomkit_str name,
                     uint16_t cap, unsigned kw)
{
    nb->ns_id = ns_id;
    nb->obj_id = obj_id;
    nb->nfields = 0;
    nb->cap = cap;
    nb->name_len = (uint32_t)name.len & BLK_MAX_NAME;
    nb->kw = kw & 3u;
    nb->ns_pos = 0;
    if (name.len)
        memcpy((char *)oomkit__blk_name(nb), name.ptr, name.len);
}

/* Publishes nb, filled as a new object with its id from
 * oomkit__handles_alloc, everywhere (h: its object-table hash). */
static void publish_new(oomkit_store *s, oomkit__blk *nb, uint64_t h)
{
    /* The handle entry first: a reader that finds the id in the namespace
     * list must be able to resolve it. */
    oomkit__handles_set(&s->h, nb->obj_id, nb);
    uint32_t pos = oomkit__nslist_append(&s->ns, nb->ns_id, nb->obj_id);
    STORE_RLX(&nb->ns_pos, pos);
    oomkit__objtab_insert(&s->ot, nb, h);
    count_add(&s->objects, 1);
    count_add(&s->fields, nb->nfields);
    oomkit__smem_add(&s->m.names, nb->name_len);
}

/* Fills a fresh block nb as object (ns_id, name) with nf fields and
 * publishes it everywhere. Returns its handle. */
static uint64_t create_object(oomkit_store *s, uint32_t ns_id, oomkit_str name, uint64_t h,
                              oomkit__blk *nb, uint16_t nf, uint32_t key_id, int64_t value)
{
    uint64_t handle = oomkit__handles_alloc(&s->h);
    blk_init(nb, ns_id, (uint32_t)handle, name, nf, nf ? oomkit__kw_for(key_id) : 0);
    if (nf) {
        oomkit__blk_set_key(nb, 0, key_id);
        oomkit__blk_values(nb)[0] = value;
        nb->nfields = nf;
    }
    publish_new(s, nb, h);
    return handle;
}

/* Publishes nb, a filled copy of b, in b's place and retires b. */
static void replace_block(oomkit_store *s, oomkit__blk *b, oomkit__otslot slot, oomkit__blk *nb)
{
    oomkit__handles_set(&s->h, b->obj_id, nb);
    oomkit__objtab_replace(slot, nb);
    oomkit__smem_retire_block(&s->m, b, oomkit__blk_size(b));
    count_add(&s->fields, (uint64_t)nb->nfields - b->nfields);
}

/* The key width of a copy of b that adds key_id. */
static unsigned cow_kw(const oomkit__blk *b, uint32_t key_id)
{
    unsigned kw = oomkit__kw_for(key_id);
    return kw > b->kw ? kw : b->kw;
}

/* 1 if key_id can be appended into b's spare capacity. */
static int fits_in_place(const oomkit__blk *b, uint32_t key_id)
{
    return b->nfields < b->cap && oomkit__kw_for(key_id) <= b->kw;
}

/* Copies b into nb (capacity newcap) leaving out field `skip` (or -1) and
 * appending (key_id, value) if add; publishes nb and retires b. */
static void cow(oomkit_store *s, oomkit__blk *b, oomkit__otslot slot, oomkit__blk *nb, uint16_t newcap,
                int skip, int add, uint32_t key_id, int64_t value)
{
    uint16_t nf = b->nfields;
    nb->ns_id = b->ns_id;
    nb->obj_id = b->obj_id;
    nb->cap = newcap;
    nb->name_len = b->name_len;
    nb->kw = (add ? cow_kw(b, key_id) : b->kw) & 3u;
    nb->ns_pos = LOAD_RLX(&b->ns_pos);
    const int64_t *ov = oomkit__blk_values(b);
    int64_t *nv = oomkit__blk_values(nb);
    uint16_t j = 0;
    for (int i = 0; i < (int)nf; i++) {
        if (i == skip)
            continue;
        oomkit__blk_set_key(nb, j, oomkit__blk_key(b, (size_t)i));
        nv[j] = ov[i];
        j++;
    }
    if (add) {
        oomkit__blk_set_key(nb, j, key_id);
        nv[j] = value;
        j++;
    }
    nb->nfields = j;
    if (b->name_len)
        memcpy((char *)oomkit__blk_name(nb), oomkit__blk_name(b), b->name_len);
    replace_block(s, b, slot, nb);
}

/* Appends into spare capacity: key and value first, nfields last. */
static void append_in_place(oomkit_store *s, oomkit__blk *b, uint32_t key_id, int64_t value)
{
    uint16_t nf = b->nfields;
    oomkit__blk_set_key(b, nf, key_id);
    STORE_RLX(&oomkit__blk_values(b)[nf], value);
    STORE_REL(&b->nfields, (uint16_t)(nf + 1));
    count_add(&s->fields, 1);
}

/* Removes object b from every index on one of its fields. */
static void unindex_object(oomkit_store *s, const oomkit__blk *b, int only_field)
{
    const int64_t *vals = oomkit__blk_values(b);
    for (uint32_t i = 0; i < s->nix; i++) {
        int fi = oomkit__blk_find(b, b->nfields, s->ix[i].key_id);
        if (fi < 0 || (only_field >= 0 && fi != only_field))
            continue;
        oomkit__ix_remove(&s->ix[i], &s->m, LOAD_RLX(&vals[fi]), b->obj_id);
    }
}

static void delete_object(oomkit_store *s, oomkit__blk *b, oomkit__otslot slot)
{
    if (s->nix != 0)
        unindex_object(s, b, -1);
    oomkit__objtab_remove(&s->ot, slot);
    oomkit__handles_kill(&s->h, b->obj_id);
    oomkit__nslist_remove(&s->ns, b->ns_id, LOAD_RLX(&b->ns_pos), 1, &s->m);
    size_t sz = oomkit__blk_size(b);
    oomkit__smem_add(&s->m.retired_blocks, sz);
    s->m.retire_bytes += sz;
    oomkit__smem_retire_id(&s->m, b->obj_id);
    count_add(&s->objects, -(uint64_t)1);
    count_add(&s->fields, -(uint64_t)b->nfields);
    oomkit__smem_add(&s->m.names, -(uint64_t)b->name_len);
}

/* ---- writes ----------------------------------------------------------------- */

/* Changes the value of indexed field fi of b, moving the object from the
 * old value's posting list to the new one's. Under the lock, after
 * oomkit__reclaim_room; the value differs from the current one. */
static int set_indexed(oomkit_store *s, oomkit__sindex *x, oomkit__blk *b, int fi, int64_t value)
{
    int64_t *vals = oomkit__blk_values(b);
    int64_t old = LOAD_RLX(&vals[fi]);
    if (oomkit__ix_full(x, value))
        return -E2BIG;
    size_t need = oomkit__ix_need(x, value, b->obj_id);
    if (!oomkit__store_fits(s, need)) {
        oomkit__reclaim_now(s);
        if (!oomkit__store_fits(s, need))
            return -E2BIG;
    }
    if (oomkit__ix_prepare(x, &s->m, value, b->obj_id) != 0)
        return -ENOMEM;
    /* The value first: a reader that finds the object in the new list
     * (after the release store of its length) sees the new value. */
    STORE_RLX(&vals[fi], value);
    oomkit__ix_remove(x, &s->m, old, b->obj_id);
    oomkit__ix_add(x, &s->m, value, b->obj_id);
    return 0;
}

/* Sets existing field fi (key key_id) of b to value in place, moving the
 * object between the lists of key_id's index if there is one. Under the
 * lock, after oomkit__reclaim_room. */
static int set_field(oomkit_store *s, oomkit__blk *b, int fi, uint32_t key_id, int64_t value)
{
    oomkit__sindex *x = s->nix ? oomkit__store_index_of(s, key_id) : NULL;
    if (x != NULL && LOAD_RLX(&oomkit__blk_values(b)[fi]) != value)
        return set_indexed(s, x, b, fi, value);
    STORE_RLX(&oomkit__blk_values(b)[fi], value);
    return 0;
}

/* Whether a write that needs `need` more bytes fits the budget: 0 yes;
 * on the first attempt, 1 after freeing what waits for readers (retired
 * memory, in the ledger or in flight, may be enough: try again); else
 * -E2BIG. */
static int budget_room(oomkit_store *s, size_t need, int attempt)
{
    if (oomkit__store_fits(s, need))
        return 0;
    if (attempt == 0) {
        oomkit__reclaim_now(s);
        return 1;
    }
    return -E2BIG;
}

/* Where object (ns, name) is or would go: its namespace id (ATOM_NONE if
 * the namespace is new) and the id it would get, its object-table hash,
 * and its block and slot, or NULL. Writer. */
struct place {
    uint32_t ns_id, ns_target;
    uint64_t ho;
    oomkit__otslot slot;
};

static oomkit__blk *locate(oomkit_store *s, oomkit_str ns, uint64_t hns, oomkit_str name,
                           struct place *p)
{
    p->ns_id = oomkit__atoms_find(&s->ns, ns.ptr, ns.len, hns);
    p->ns_target = p->ns_id != ATOM_NONE ? p->ns_id : s->ns.count;
    p->ho = oomkit__obj_hash(p->ns_target, name.ptr, name.len);
    p->slot = (oomkit__otslot){ NULL, 0 };
    return p->ns_id != ATOM_NONE
               ? oomkit__objtab_find(&s->ot, p->ns_id, name.ptr, name.len, p->ho, &p->slot)
               : NULL;
}

/* Bytes a write at place p needs for namespace ns if it is new and, when
 * it creates the object (creates != 0), for the object's table slot,
 * handle and namespace-list slot. */
static size_t place_need(const oomkit_store *s, const struct place *p, oomkit_str ns,
                         int creates)
{
    size_t need = p->ns_id == ATOM_NONE ? oomkit__atoms_need(&s->ns, ns.len) : 0;
    if (creates)
        need += oomkit__objtab_need(&s->ot, p->ho) + oomkit__handles_need(&s->h) +
                oomkit__nslist_need(&s->ns, p->ns_target);
    return need;
}

/* Makes the room place_need counted, after the budget check. 0 or
 * -ENOMEM; the content is unchanged either way. */
static int place_grow(oomkit_store *s, const struct place *p, oomkit_str ns, int creates)
{
    int r = 0;
    if (p->ns_id == ATOM_NONE)
        r = oomkit__atoms_grow(&s->ns, &s->m, ns.len);
    if (r == 0 && creates) {
        r = oomkit__objtab_grow(&s->ot, &s->m, p->ho);
        if (r == 0)
            r = oomkit__handles_grow(&s->h, &s->m);
        if (r == 0)
            r = oomkit__nslist_grow(&s->ns, p->ns_target, &s->m);
    }
    return r;
}

/* Upsert of (ns, name) and, if key != NULL, of its field key = value. The
 * object's handle goes to *handle_out if not NULL. Under the lock. */
static int upsert_locked(oomkit_store *s, oomkit_str ns, oomkit_str name, const oomkit_str *key,
                         int64_t value, uint64_t *handle_out)
{
    uint64_t hns = oomkit__atom_hash(ns.ptr, ns.len);
    uint64_t hk = key ? oomkit__atom_hash(key->ptr, key->len) : 0;
    for (int attempt = 0;; attempt++) {
        oomkit__reclaim_room(s, WRITE_RETIRE_SLOTS);
        struct place pl;
        oomkit__blk *b = locate(s, ns, hns, name, &pl);
        uint32_t ns_id = pl.ns_id;
        oomkit__otslot slot = pl.slot;
        uint32_t key_id = key ? oomkit__atoms_find(&s->keys, key->ptr, key->len, hk) : ATOM_NONE;
        uint16_t nf = b ? b->nfields : 0;
        if (b != NULL) {
            if (handle_out != NULL)
                *handle_out = oomkit__handles_of(&s->h, b->obj_id);
            if (key == NULL)
                return 0;
            int fi = key_id != ATOM_NONE ? oomkit__blk_find(b, nf, key_id) : -1;
            if (fi >= 0)
                return set_field(s, b, fi, key_id, value);
            if (nf == BLK_MAX_FIELDS)
                return -E2BIG;
        }
        if (ns_id == ATOM_NONE && s->ns.count == UINT32_MAX - 1)
            return -E2BIG;
        if (key != NULL && key_id == ATOM_NONE && s->keys.count == UINT32_MAX - 1)
            return -E2BIG;

        size_t need = place_need(s, &pl, ns, b == NULL), bsz = 0;
        if (key != NULL && key_id == ATOM_NONE)
            need += oomkit__atoms_need(&s->keys, key->len);
        /* A new key gets the next id: its width may widen the block. */
        uint32_t key_target = key_id != ATOM_NONE ? key_id : s->keys.count;
        if (b != NULL) {
            if (!fits_in_place(b, key_target))
                bsz = oomkit__blk_bytes((size_t)nf + 1, b->name_len, cow_kw(b, key_target));
        } else {
            bsz = oomkit__blk_bytes(key ? 1 : 0, name.len, key ? oomkit__kw_for(key_target) : 0);
        }
        if (bsz)
            need += oomkit__slab_need(&s->slab, bsz);
        /* An indexed key is always interned (index_add interns it). */
        oomkit__sindex *x = key != NULL && key_id != ATOM_NONE && s->nix
                                ? oomkit__store_index_of(s, key_id)
                                : NULL;
        uint32_t oid = b != NULL ? b->obj_id : oomkit__store_next_id(s);
        if (x != NULL) {
            if (oomkit__ix_full(x, value))
                return -E2BIG;
            need += oomkit__ix_need(x, value, oid);
        }
        int room = budget_room(s, need, attempt);
        if (room > 0)
            continue;
        if (room < 0)
            return room;

        int r = place_grow(s, &pl, ns, b == NULL);
        if (r == 0 && key != NULL && key_id == ATOM_NONE)
            r = oomkit__atoms_grow(&s->keys, &s->m, key->len);
        /* The id may only be known now: handles_grow made one available. */
        if (b == NULL)
            oid = oomkit__store_next_id(s);
        if (r == 0 && x != NULL)
            r = oomkit__ix_prepare(x, &s->m, value, oid);
        if (r != 0)
            return r;
        oomkit__blk *nb = NULL;
        if (bsz) {
            nb = oomkit__store_block_alloc(s, bsz);
            if (nb == NULL)
                return -ENOMEM;
        }

        /* Commit: nothing below can fail. */
        if (ns_id == ATOM_NONE)
            ns_id = oomkit__atoms_insert(&s->ns, ns.ptr, ns.len, hns);
        if (key != NULL && key_id == ATOM_NONE)
            key_id = oomkit__atoms_insert(&s->keys, key->ptr, key->len, hk);
        if (b == NULL) {
            uint64_t handle = create_object(s, ns_id, name, pl.ho, nb, key ? 1 : 0, key_id, value);
            if (handle_out != NULL)
                *handle_out = handle;
        } else if (nb == NULL) {
            append_in_place(s, b, key_id, value);
        } else {
            cow(s, b, slot, nb, (uint16_t)(nf + 1), -1, 1, key_id, value);
        }
        if (x != NULL)
            oomkit__ix_add(x, &s->m, value, oid);
        return 0;
    }
}

/* Deletes field fi of object b (slot in the object table), or the whole
 * object if it is the last field. Under the lock. */
static int delete_field_locked(oomkit_store *s, oomkit__blk *b, oomkit__otslot slot, int fi)
{
    uint16_t nf = b->nfields;
    oomkit__reclaim_room(s, WRITE_RETIRE_SLOTS);
    if (nf == 1) {
        delete_object(s, b, slot);
        return 0;
    }
    size_t bsz = oomkit__blk_bytes((size_t)nf - 1, b->name_len, b->kw);
    if (!oomkit__store_fits(s, oomkit__slab_need(&s->slab, bsz))) {
        oomkit__reclaim_now(s);
        if (!oomkit__store_fits(s, oomkit__slab_need(&s->slab, bsz)))
            return -E2BIG;
    }
    oomkit__blk *nb = oomkit__store_block_alloc(s, bsz);
    if (nb == NULL)
        return -ENOMEM;
    if (s->nix != 0)
        unindex_object(s, b, fi);
    cow(s, b, slot, nb, (uint16_t)(nf - 1), fi, 0, 0, 0);
    return 0;
}

int oomkit_store_put(oomkit_store *s, oomkit_str ns, oomkit_str name, oomkit_str key,
                     int64_t value)
{
    if (s == NULL || !oomkit__str_ok(ns) || !oomkit__str_ok(name) || !oomkit__str_ok(key))
        return -EINVAL;
    int r = writer_enter(s);
    if (r != 0)
        return r;
    r = upsert_locked(s, ns, name, &key, value, NULL);
    writer_leave(s);
    return r;
}

/* Interns key if new (writer, under the lock). 0, -E2BIG or -ENOMEM. */
static int intern_key_locked(oomkit_store *s, oomkit_str key, uint32_t *key_id)
{
    uint64_t h = oomkit__atom_hash(key.ptr, key.len);
    uint32_t id = oomkit__atoms_find(&s->keys, key.ptr, key.len, h);
    if (id == ATOM_NONE) {
        oomkit__reclaim_room(s, WRITE_RETIRE_SLOTS);
        size_t need = oomkit__atoms_need(&s->keys, key.len);
        if (s->keys.count == UINT32_MAX - 1)
            return -E2BIG;
        if (!oomkit__store_fits(s, need)) {
            oomkit__reclaim_now(s);
            if (!oomkit__store_fits(s, need))
                return -E2BIG;
        }
        int r = oomkit__atoms_grow(&s->keys, &s->m, key.len);
        if (r != 0)
            return r;
        id = oomkit__atoms_insert(&s->keys, key.ptr, key.len, h);
    }
    *key_id = id;
    return 0;
}

/* 1 if kid[i] appears again in kid[i+1..n): the later one wins. */
static int later_dup(const uint32_t *kid, size_t n, size_t i)
{
    for (size_t j = i + 1; j < n; j++)
        if (kid[j] == kid[i])
            return 1;
    return 0;
}

/* The value f gives key_id (its last), or 0 if f does not name it. */
static int value_given(const uint32_t *kid, const oomkit_store_field *f, size_t n,
                       uint32_t key_id, int64_t *value)
{
    for (size_t j = n; j-- > 0;) {
        if (kid[j] == key_id) {
            *value = f[j].value;
            return 1;
        }
    }
    return 0;
}

/* How a write moves an object between the values of one index. */
struct ix_move {
    int moves;       /* 0: the index keeps the object where it is */
    int old_at;      /* the field's place in the old block, or -1 */
    int64_t old_value, new_value;
};

/* For each index, whether object b (NULL: a new one) moves under the
 * values f gives: f names the index's key with a value b does not hold. */
static void plan_index_moves(const oomkit_store *s, const oomkit__blk *b, const uint32_t *kid,
                             const oomkit_store_field *f, size_t n, struct ix_move *mv)
{
    for (uint32_t i = 0; i < s->nix; i++) {
        struct ix_move *m = &mv[i];
        m->moves = value_given(kid, f, n, s->ix[i].key_id, &m->new_value);
        if (!m->moves)
            continue;
        m->old_at = b != NULL ? oomkit__blk_find(b, b->nfields, s->ix[i].key_id) : -1;
        if (m->old_at >= 0) {
            m->old_value = LOAD_RLX(&oomkit__blk_values(b)[m->old_at]);
            m->moves = m->old_value != m->new_value;
        }
    }
}

/* Writes f[0..n) (keys interned as kid[]) into nb, a fresh block whose
 * header is set, after copying b's fields if b is not NULL. */
static void fill_fields(oomkit__blk *nb, const oomkit__blk *b, const uint32_t *kid,
                        const oomkit_store_field *f, size_t n)
{
    int64_t *nv = oomkit__blk_values(nb);
    uint16_t j = 0;
    if (b != NULL) {
        const int64_t *ov = oomkit__blk_values(b);
        for (; j < b->nfields; j++) {
            oomkit__blk_set_key(nb, j, oomkit__blk_key(b, j));
            nv[j] = LOAD_RLX(&ov[j]);
        }
    }
    for (size_t i = 0; i < n; i++) {
        int at = oomkit__blk_find(nb, j, kid[i]);
        if (at < 0) {
            oomkit__blk_set_key(nb, j, kid[i]);
            at = j++;
        }
        nv[at] = f[i].value;
    }
    nb->nfields = j;
}

/* put_fields with every key interned (kid[]). Under the lock. */
static int put_fields_locked(oomkit_store *s, oomkit_str ns, oomkit_str name,
                             const oomkit_store_field *f, const uint32_t *kid, size_t n)
{
    uint64_t hns = oomkit__atom_hash(ns.ptr, ns.len);
    for (int attempt = 0;; attempt++) {
        oomkit__reclaim_room(s, WRITE_RETIRE_SLOTS);
        struct place pl;
        oomkit__blk *b = locate(s, ns, hns, name, &pl);
        uint32_t ns_id = pl.ns_id;
        uint16_t nf = b ? b->nfields : 0;
        /* What the write changes: fields added, values changed (the last
         * of each key counts). */
        size_t add = 0, changed = 0, change_at = 0;
        int change_fi = -1;
        uint32_t kmax = 0;
        for (size_t i = 0; i < n; i++) {
            if (later_dup(kid, n, i))
                continue;
            int fi = b ? oomkit__blk_find(b, nf, kid[i]) : -1;
            if (fi < 0) {
                add++;
                kmax = kid[i] > kmax ? kid[i] : kmax;
            } else if (LOAD_RLX(&oomkit__blk_values(b)[fi]) != f[i].value) {
                changed++;
                change_at = i;
                change_fi = fi;
            }
        }
        if (b != NULL && add == 0 && changed <= 1) {
            /* Nothing to copy: one value changes in place, as a put. */
            if (changed == 0)
                return 0;
            return set_field(s, b, change_fi, kid[change_at], f[change_at].value);
        }
        if ((size_t)nf + add > BLK_MAX_FIELDS)
            return -E2BIG;
        if (ns_id == ATOM_NONE && s->ns.count == UINT32_MAX - 1)
            return -E2BIG;
        unsigned kw = oomkit__kw_for(kmax);
        if (b != NULL && b->kw > kw)
            kw = b->kw;
        size_t bsz = oomkit__blk_bytes((size_t)nf + add, name.len, kw);
        size_t need = oomkit__slab_need(&s->slab, bsz) +
                      place_need(s, &pl, ns, b == NULL);
        uint32_t oid = b != NULL ? b->obj_id : oomkit__store_next_id(s);
        struct ix_move mv[IX_MAX];
        plan_index_moves(s, b, kid, f, n, mv);
        for (uint32_t i = 0; i < s->nix; i++) {
            if (!mv[i].moves)
                continue;
            if (oomkit__ix_full(&s->ix[i], mv[i].new_value))
                return -E2BIG;
            need += oomkit__ix_need(&s->ix[i], mv[i].new_value, oid);
        }
        int room = budget_room(s, need, attempt);
        if (room > 0)
            continue;
        if (room < 0)
            return room;

        int r = place_grow(s, &pl, ns, b == NULL);
        /* The id may only be known now: handles_grow made one available. */
        if (b == NULL)
            oid = oomkit__store_next_id(s);
        for (uint32_t i = 0; i < s->nix && r == 0; i++)
            if (mv[i].moves)
                r = oomkit__ix_prepare(&s->ix[i], &s->m, mv[i].new_value, oid);
        if (r != 0)
            return r;
        oomkit__blk *nb = oomkit__store_block_alloc(s, bsz);
        if (nb == NULL)
            return -ENOMEM;

        /* Commit: nothing below can fail. */
        if (ns_id == ATOM_NONE)
            ns_id = oomkit__atoms_insert(&s->ns, ns.ptr, ns.len, hns);
        uint16_t cap = (uint16_t)(nf + add);
        if (b == NULL) {
            blk_init(nb, ns_id, (uint32_t)oomkit__handles_alloc(&s->h), name, cap, kw);
            fill_fields(nb, NULL, kid, f, n);
            publish_new(s, nb, pl.ho);
        } else {
            blk_init(nb, ns_id, b->obj_id, name, cap, kw);
            nb->ns_pos = LOAD_RLX(&b->ns_pos);
            fill_fields(nb, b, kid, f, n);
            replace_block(s, b, pl.slot, nb);
        }
        /* The new block first, then the lists: a reader that finds the
         * object in a value's list sees that value. */
        for (uint32_t i = 0; i < s->nix; i++) {
            if (!mv[i].moves)
                continue;
            if (mv[i].old_at >= 0)
                oomkit__ix_remove(&s->ix[i], &s->m, mv[i].old_value, nb->obj_id);
            oomkit__ix_add(&s->ix[i], &s->m, mv[i].new_value, nb->obj_id);
        }
        return 0;
    }
}

int oomkit_store_put_fields(oomkit_store *s, oomkit_str ns, oomkit_str name,
                            const oomkit_store_field *f, size_t n)
{
    if (s == NULL || f == NULL || n == 0 || n > OOMKIT_STORE_PUT_FIELDS_MAX ||
        !oomkit__str_ok(ns) || !oomkit__str_ok(name))
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!oomkit__str_ok(f[i].key))
            return -EINVAL;
    int r = writer_enter(s);
    if (r != 0)
        return r;
    uint32_t kid[OOMKIT_STORE_PUT_FIELDS_MAX];
    for (size_t i = 0; i < n && r == 0; i++)
        r = intern_key_locked(s, f[i].key, &kid[i]);
    if (r == 0)
        r = put_fields_locked(s, ns, name, f, kid, n);
    writer_leave(s);
    return r;
}

int oomkit_store_object(oomkit_store *s, oomkit_str ns, oomkit_str name, int create,
                        oomkit_store_obj *out)
{
    if (s == NULL || out == NULL || !oomkit__str_ok(ns) || !oomkit__str_ok(name))
        return -EINVAL;
    if (!create) {
        oomkit__rd_lock();
        const oomkit__blk *b = oomkit__store_find_obj(s, ns, name);
        int r = -ENOENT;
        if (b != NULL) {
            uint64_t e = oomkit__handles_entry(&s->h, b->obj_id);
            /* The entry may already name a newer copy of the block; the
             * generation is what matters, and it is the object's. */
            if ((e & 7) == 0) {
                *out = (e >> 48) << 32 | b->obj_id;
                r = 0;
            }
        }
        oomkit__rd_unlock(STORE_SYNC(s));
        return r;
    }
    int r = writer_enter(s);
    if (r != 0)
        return r;
    uint64_t handle = 0;
    r = upsert_locked(s, ns, name, NULL, 0, &handle);
    if (r == 0)
        *out = handle;
    writer_leave(s);
    return r;
}

int oomkit_store_key(oomkit_store *s, oomkit_str key, int create, uint32_t *key_id)
{
    if (s == NULL || key_id == NULL || !oomkit__str_ok(key))
        return -EINVAL;
    if (!create) {
        uint64_t h = oomkit__atom_hash(key.ptr, key.len);
        oomkit__rd_lock();
        uint32_t id = oomkit__atoms_find(&s->keys, key.ptr, key.len, h);
        oomkit__rd_unlock(STORE_SYNC(s));
        if (id == ATOM_NONE)
            return -ENOENT;
        *key_id = id;
        return 0;
    }
    int r = writer_enter(s);
    if (r != 0)
        return r;
    r = intern_key_locked(s, key, key_id);
    writer_leave(s);
    return r;
}

int oomkit_store_obj_put(oomkit_store *s, oomkit_store_obj obj, uint32_t key_id, int64_t value)
{
    if (s == NULL)
        return -EINVAL;
    int r = writer_enter(s);
    if (r != 0)
        return r;
    oomkit__blk *b = oomkit__handles_resolve(&s->h, obj);
    if (b == NULL) {
        r = -ENOENT;
    } else if (key_id >= s->keys.count) {
        r = -EINVAL;
    } else {
        uint16_t nf = b->nfields;
        int fi = oomkit__blk_find(b, nf, key_id);
        oomkit__sindex *x = s->nix ? oomkit__store_index_of(s, key_id) : NULL;
        oomkit__reclaim_room(s, WRITE_RETIRE_SLOTS);
        if (fi >= 0) {
            r = set_field(s, b, fi, key_id, value);
        } else if ((nf == BLK_MAX_FIELDS && nf >= b->cap) ||
                   (x != NULL && oomkit__ix_full(x, value))) {
            r = -E2BIG;
        } else {
            size_t bsz = fits_in_place(b, key_id)
                             ? 0
                             : oomkit__blk_bytes((size_t)nf + 1, b->name_len, cow_kw(b, key_id));
            size_t need = (bsz ? oomkit__slab_need(&s->slab, bsz) : 0) +
                          (x ? oomkit__ix_need(x, value, b->obj_id) : 0);
            if (!oomkit__store_fits(s, need)) {
                oomkit__reclaim_now(s);
                if (!oomkit__store_fits(s, need))
                    r = -E2BIG;
            }
            if (r == 0 && x != NULL && oomkit__ix_prepare(x, &s->m, value, b->obj_id) != 0)
                r = -ENOMEM;
            oomkit__blk *nb = r == 0 && bsz ? oomkit__store_block_alloc(s, bsz) : NULL;
            if (r == 0 && bsz && nb == NULL)
                r = -ENOMEM;
            if (r == 0) {
                uint32_t oid = b->obj_id;
                if (bsz)
                    cow(s, b, oomkit__objtab_slot_of(&s->ot, b), nb, (uint16_t)(nf + 1), -1, 1,
                        key_id, value);
                else
                    append_in_place(s, b, key_id, value);
                if (x != NULL)
                    oomkit__ix_add(x, &s->m, value, oid);
            }
        }
    }
    writer_leave(s);
    return r;
}

int oomkit_store_obj_del(oomkit_store *s, oomkit_store_obj obj, uint32_t key_id)
{
    if (s == NULL)
        return -EINVAL;
    int r = writer_enter(s);
    if (r != 0)
        return r;
    oomkit__blk *b = oomkit__handles_resolve(&s->h, obj);
    int fi = b ? oomkit__blk_find(b, b->nfields, key_id) : -1;
    if (fi < 0)
        r = -ENOENT;
    else
        r = delete_field_locked(s, b, oomkit__objtab_slot_of(&s->ot, b), fi);
    writer_leave(s);
    return r;
}

int oomkit_store_del(oomkit_store *s, oomkit_str ns, oomkit_str name, oomkit_str key)
{
    if (s == NULL || !oomkit__str_ok(ns) || !oomkit__str_ok(name) || !oomkit__str_ok(key))
        return -EINVAL;
    int r = writer_enter(s);
    if (r != 0)
        return r;
    r = -ENOENT;
    uint32_t ns_id = oomkit__atoms_find(&s->ns, ns.ptr, ns.len, oomkit__atom_hash(ns.ptr, ns.len));
    uint32_t key_id = oomkit__atoms_find(&s->keys, key.ptr, key.len,
                                         oomkit__atom_hash(key.ptr, key.len));
    if (ns_id != ATOM_NONE && key_id != ATOM_NONE) {
        oomkit__otslot slot;
        oomkit__blk *b = oomkit__objtab_find(&s->ot, ns_id, name.ptr, name.len,
                                             oomkit__obj_hash(ns_id, name.ptr, name.len), &slot);
        int fi = b ? oomkit__blk_find(b, b->nfields, key_id) : -1;
        if (fi >= 0)
            r = delete_field_locked(s, b, slot, fi);
    }
    writer_leave(s);
    return r;
}

int oomkit_store_del_object(oomkit_store *s, oomkit_str ns, oomkit_str name)
{
    if (s == NULL || !oomkit__str_ok(ns) || !oomkit__str_ok(name))
        return -EINVAL;
    int r = writer_enter(s);
    if (r != 0)
        return r;
    r = -ENOENT;
    uint32_t ns_id = oomkit__atoms_find(&s->ns, ns.ptr, ns.len, oomkit__atom_hash(ns.ptr, ns.len));
    if (ns_id != ATOM_NONE) {
        oomkit__otslot slot;
        oomkit__blk *b = oomkit__objtab_find(&s->ot, ns_id, name.ptr, name.len,
                                             oomkit__obj_hash(ns_id, name.ptr, name.len), &slot);
        if (b != NULL) {
            oomkit__reclaim_room(s, WRITE_RETIRE_SLOTS);
            delete_object(s, b, slot);
            r = 0;
        }
    }
    writer_leave(s);
    return r;
}

int oomkit_store_clear(oomkit_store *s)
{
    if (s == NULL)
        return -EINVAL;
    int r = writer_enter(s);
    if (r != 0)
        return r;
    /* Unpublish everything, wait once, then recycle: blocks go to their free
     * lists and ids to the free list, so a refill allocates nothing. */
    oomkit__objtab_clear(&s->ot);
    uint32_t bound = s->h.next_fresh;
    for (uint32_t id = 0; id < bound; id++) {
        uint64_t e = oomkit__handles_entry(&s->h, id);
        if ((e & 7) == 0 && (e & H_PTR_MASK) != 0)
            oomkit__handles_kill(&s->h, id);
    }
    oomkit__nslist_kill_all(&s->ns);
    oomkit__plist *chains[IX_MAX] = { NULL };
    for (uint32_t i = 0; i < s->nix; i++)
        oomkit__ix_unpublish_all(&s->ix[i], &chains[i]);
    STORE_RLX(&s->objects, 0);
    STORE_RLX(&s->fields, 0);
    STORE_RLX(&s->m.names, 0);
    oomkit__reclaim_wait(s);
    oomkit__reclaim_waited(s);
    for (uint32_t id = 0; id < bound; id++) {
        uint64_t e = oomkit__handles_entry(&s->h, id);
        if ((e & 7) == 1) {
            oomkit__blk *b = oomkit__handles_release(&s->h, id);
            if (b != NULL)
                free_block(s, b);
        }
    }
    oomkit__nslist_reset_all(&s->ns);
    for (uint32_t i = 0; i < s->nix; i++)
        oomkit__ix_free_chain(&s->ix[i], &s->m, chains[i]);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* ---- reads ------------------------------------------------------------------ */

int oomkit_store_get(const oomkit_store *s, oomkit_str ns, oomkit_str name, oomkit_str key,
                     int64_t *value)
{
    if (s == NULL || value == NULL || !oomkit__str_ok(ns) || !oomkit__str_ok(name) ||
        !oomkit__str_ok(key))
        return -EINVAL;
    int r = -ENOENT;
    oomkit__rd_lock();
    uint32_t ns_id = oomkit__atoms_find(&s->ns, ns.ptr, ns.len, oomkit__atom_hash(ns.ptr, ns.len));
    if (ns_id == ATOM_NONE)
        goto out;
    /* Start the object-table slot's cache miss now and resolve the key
     * while it is in flight. */
    uint64_t h = oomkit__obj_hash(ns_id, name.ptr, name.len);
    __builtin_prefetch(oomkit__objtab_home(oomkit__objtab_seg(&s->ot, h), h));
    uint32_t key_id = oomkit__atoms_find(&s->keys, key.ptr, key.len,
                                         oomkit__atom_hash(key.ptr, key.len));
    if (key_id != ATOM_NONE) {
        const oomkit__blk *b = oomkit__objtab_find(&s->ot, ns_id, name.ptr, name.len, h, NULL);
        const int64_t *v = b != NULL ? oomkit__blk_field(b, key_id) : NULL;
        if (v != NULL) {
            *value = LOAD_RLX(v);
            r = 0;
        }
    }
out:
    oomkit__rd_unlock(STORE_SYNC(s));
    return r;
}

int oomkit_store_obj_get(const oomkit_store *s, oomkit_store_obj obj, uint32_t key_id,
                         int64_t *value)
{
    if (s == NULL || value == NULL)
        return -EINVAL;
    int r = -ENOENT;
    oomkit__rd_lock();
    const oomkit__blk *b = oomkit__handles_resolve(&s->h, obj);
    const int64_t *v = b != NULL ? oomkit__blk_field(b, key_id) : NULL;
    if (v != NULL) {
        *value = LOAD_RLX(v);
        r = 0;
    }
    oomkit__rd_unlock(STORE_SYNC(s));
    return r;
}

int oomkit_store_count(const oomkit_store *s, uint64_t *objects, uint64_t *fields)
{
    if (s == NULL)
        return -EINVAL;
    if (objects != NULL)
        *objects = LOAD_RLX(&s->objects);
    if (fields != NULL)
        *fields = LOAD_RLX(&s->fields);
    return 0;
}

static uint64_t atom_slots(const oomkit__atoms *t)
{
    const oomkit__atom_index *ix = LOAD_ACQ(&((oomkit__atoms *)t)->index);
    return ix ? (uint64_t)ix->mask + 1 : 0;
}

int oomkit_store_stats_get(const oomkit_store *s, oomkit_store_stats *out)
{
    if (s == NULL || out == NULL)
        return -EINVAL;
    memset(out, 0, sizeof(*out));
    oomkit__rd_lock();
    const oomkit__smem *m = &s->m;
    out->objects = LOAD_RLX(&s->objects);
    out->fields = LOAD_RLX(&s->fields);
    out->namespaces = oomkit__atoms_count(&s->ns);
    out->keys = oomkit__atoms_count(&s->keys);
    uint64_t slab = oomkit__smem_get(&m->part[SM_SLAB]);
    uint64_t names = oomkit__smem_get(&m->names);
    uint64_t rblocks = oomkit__smem_get(&m->retired_blocks);
    out->bytes_atoms = oomkit__smem_get(&m->part[SM_ATOMS]);
    out->bytes_tables = oomkit__smem_get(&m->part[SM_TABLES]);
    out->bytes_names = names;
    /* The counters are read one by one while a writer may move bytes
     * between them: clamp rather than wrap. */
    out->bytes_fields = slab > names + rblocks ? slab - names - rblocks : 0;
    out->bytes_retired = oomkit__smem_get(&m->part[SM_RETIRED]) + rblocks;
    out->bytes_total = out->bytes_atoms + out->bytes_tables + out->bytes_names +
                       out->bytes_fields + out->bytes_retired;
    uint64_t ot_slots = oomkit__objtab_slots(&s->ot);
    out->object_table_load = ot_slots ? (double)LOAD_RLX(&s->ot.live) / (double)ot_slots : 0.0;
    uint64_t as = atom_slots(&s->ns) + atom_slots(&s->keys);
    out->atom_table_load = as ? (double)(out->namespaces + out->keys) / (double)as : 0.0;
    out->resizes = oomkit__smem_get(&m->resizes);
    out->writer_waits = oomkit__smem_get(&m->writer_waits);
    out->allocations = oomkit__smem_get(&m->allocations);
    out->budget_bytes = s->budget_bytes;
    uint32_t nix = LOAD_ACQ(&((oomkit_store *)s)->nix);
    for (uint32_t i = 0; i < nix; i++) {
        out->indexes++;
        out->indexed_objects += LOAD_RLX(&s->ix[i].objects);
        out->index_values += LOAD_RLX(&s->ix[i].nvalues);
        out->bytes_indexes += LOAD_RLX(&s->ix[i].bytes);
    }
    out->values = oomkit__atoms_count(&s->vals);
    oomkit__rd_unlock(STORE_SYNC(s));
    return 0;
}
