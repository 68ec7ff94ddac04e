/* Atom tables (see atoms.h): an append-only arena of strings, an id
 * directory and an open-addressing index. Written by hand because interning
 * into stable u32 ids with lock-free readers and exact accounting is the
 * product itself; no Debian library offers that combination. */
#include "store/atoms.h"

#include "core/alloc.h"

#include <errno.h>
#include <string.h>

#define MIN_CHUNK_BYTES 4096u
#define MAX_CHUNK_BYTES 65536u
#define MIN_INDEX_SLOTS 16u

static size_t rec_bytes(size_t len)
{
    return (sizeof(oomkit__atom_rec) + len + 3) & ~(size_t)3;
}

static size_t index_bytes(size_t slots)
{
    return sizeof(oomkit__atom_index) + slots * sizeof(uint32_t);
}

void oomkit__atoms_init(oomkit__atoms *t, int with_aux)
{
    memset(t, 0, sizeof(*t));
    oomkit__pdir_init(&t->dir, SM_ATOMS);
    oomkit__pdir_init(&t->aux, SM_ATOMS);
    t->with_aux = with_aux;
    t->next_chunk_bytes = MIN_CHUNK_BYTES;
}

void oomkit__atoms_destroy(oomkit__atoms *t, oomkit__smem *m)
{
    oomkit__atom_chunk *c = t->chunks;
    while (c != NULL) {
        oomkit__atom_chunk *n = c->next;
        oomkit__smem_free(m, SM_ATOMS, c, c->bytes);
        c = n;
    }
    t->chunks = NULL;
    if (t->index != NULL)
        oomkit__smem_free(m, SM_ATOMS, t->index, t->index->bytes);
    t->index = NULL;
    oomkit__pdir_destroy(&t->dir, m);
    oomkit__pdir_destroy(&t->aux, m);
}

/* Index slots needed to hold n atoms at most 3/4 full. */
static size_t index_slots_for(size_t n)
{
    size_t slots = MIN_INDEX_SLOTS;
    while (n * 4 > slots * 3)
        slots *= 2;
    return slots;
}

static int chunk_fits(const oomkit__atoms *t, size_t rb)
{
    return t->pos != NULL && (size_t)(t->end - t->pos) >= rb;
}

static size_t chunk_bytes_for(const oomkit__atoms *t, size_t rb)
{
    size_t hdr = sizeof(oomkit__atom_chunk);
    if (rb > t->next_chunk_bytes / 4)
        return hdr + rb;
    return t->next_chunk_bytes;
}

size_t oomkit__atoms_need(const oomkit__atoms *t, size_t len)
{
    size_t need = 0, rb = rec_bytes(len);
    if (!chunk_fits(t, rb))
        need += oomkit__alloc_footprint(chunk_bytes_for(t, rb));
    need += oomkit__pdir_need(&t->dir, t->count);
    if (t->with_aux)
        need += oomkit__pdir_need(&t->aux, t->count);
    size_t slots = index_slots_for((size_t)t->count + 1);
    if (t->index == NULL || slots > (size_t)t->index->mask + 1)
        need += oomkit__alloc_footprint(index_bytes(slots));
    return need;
}

int oomkit__atoms_grow(oomkit__atoms *t, oomkit__smem *m, size_t len)
{
    size_t rb = rec_bytes(len);
    if (!chunk_fits(t, rb)) {
        size_t cb = chunk_bytes_for(t, rb);
        oomkit__atom_chunk *c = oomkit__smem_alloc(m, SM_ATOMS, cb);
        if (c == NULL)
            return -ENOMEM;
        c->bytes = cb;
        c->next = t->chunks;
        t->chunks = c;
        /* The new chunk becomes the bump chunk. A dedicated chunk for a big
         * string is full after the insert, so the next small atom starts a
         * fresh regular chunk: the old chunk's tail is given up, at most a
         * quarter of a chunk per big string. */
        t->pos = (char *)(c + 1);
        t->end = (char *)c + cb;
        if (cb == t->next_chunk_bytes && t->next_chunk_bytes < MAX_CHUNK_BYTES)
            t->next_chunk_bytes *= 2;
    }
    int r = oomkit__pdir_grow(&t->dir, m, t->count);
    if (r == 0 && t->with_aux)
        r = oomkit__pdir_grow(&t->aux, m, t->count);
    if (r != 0)
        return r;
    size_t slots = index_slots_for((size_t)t->count + 1);
    if (t->index == NULL || slots > (size_t)t->index->mask + 1) {
        oomkit__atom_index *ix = oomkit__smem_zalloc(m, SM_ATOMS, index_bytes(slots));
        if (ix == NULL)
            return -ENOMEM;
        ix->bytes = index_bytes(slots);
        ix->mask = (uint32_t)(slots - 1);
        /* Rehash from the records: each holds its own hash bits, but the
         * slot needs the low bits, so hash the string again. Atoms are few
         * and short; growth is rare (doubling). */
        for (uint32_t id = 0; id < t->count; id++) {
            const oomkit__atom_rec *rec = oomkit__atoms_rec(t, id);
            uint64_t h = oomkit__atom_hash(rec->bytes, rec->len);
            uint32_t i = (uint32_t)h & ix->mask;
            while (ix->slots[i] != 0)
                i = (i + 1) & ix->mask;
            ix->slots[i] = id + 1;
        }
        oomkit__atom_index *old = t->index;
        STORE_REL(&t->index, ix);
        if (old != NULL) {
            oomkit__smem_retire_buf(m, SM_ATOMS, old, old->bytes);
            oomkit__smem_add(&m->resizes, 1);
        }
    }
    return 0;
}

uint32_t oomkit__atoms_insert(oomkit__atoms *t, const void *p, size_t len, uint64_t h)
{
    uint32_t id = t->count;
    oomkit__atom_rec *rec = (oomkit__atom_rec *)t->pos;
    t->pos += rec_bytes(len);
    rec->len = (uint32_t)len;
    rec->hash32 = (uint32_t)(h >> 32);
    if (len)
        memcpy(rec->bytes, p, len);
    oomkit__pdir_store(&t->dir, id, (uint64_t)(uintptr_t)rec);
    STORE_REL(&t->count, id + 1);
    oomkit__atom_index *ix = t->index;
    uint32_t i = (uint32_t)h & ix->mask;
    while (LOAD_RLX(&ix->slots[i]) != 0)
        i = (i + 1) & ix->mask;
    STORE_REL(&ix->slots[i], id + 1);
    t->string_bytes += len;
    return id;
}

