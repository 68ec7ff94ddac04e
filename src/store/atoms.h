/* Atom tables: intern byte strings (any bytes, NUL included) to dense u32
 * ids. The store keeps one for namespaces and one for keys; both repeat
 * endlessly, so atoms are never freed while the store lives.
 *
 *   index (u32 slots: id + 1, 0 = empty)     directory (pdir)   arena chunks
 *   [ 0 | 3 | 0 | 1 | 2 | 0 ... ]  --id-->   [ rec* , aux ]  -> { len, hash32, bytes }
 *
 * - The arena is a list of chunks that never move; a string larger than a
 *   quarter of a chunk gets a chunk of its own, so there is no size limit
 *   beyond u32.
 * - The directory maps id -> record (and, for namespaces, an auxiliary
 *   pointer: the namespace's object list); readers walk it lock-free.
 * - The index is open addressing with linear probing over u32 slots; a probe
 *   compares the 32 hash bits stored in the record before the bytes. It
 *   grows past 3/4 load into a new array, published with a release store;
 *   the old one is retired.
 * Publication order on insert: record bytes, directory entry, count, index
 * slot, each a release store, so a reader that finds an id sees its string. */
#ifndef OOMKIT_STORE_ATOMS_H
#define OOMKIT_STORE_ATOMS_H

#include "store/pdir.h"
#include "store/smem.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ATOM_NONE UINT32_MAX

typedef struct oomkit__atom_rec {
    uint32_t len;
    uint32_t hash32;
    char bytes[];
} oomkit__atom_rec;

typedef struct oomkit__atom_index {
    size_t bytes;
    uint32_t mask;
    uint32_t slots[]; /* id + 1; acquire loads, release stores */
} oomkit__atom_index;

typedef struct oomkit__atom_chunk {
    struct oomkit__atom_chunk *next;
    size_t bytes;
} oomkit__atom_chunk;

typedef struct oomkit__atoms {
    oomkit__atom_index *index;  /* acquire */
    oomkit__pdir dir;           /* id -> oomkit__atom_rec* */
    oomkit__pdir aux;           /* id -> user pointer (only if with_aux) */
    int with_aux;
    uint32_t count;             /* atoms; acquire/release */
    oomkit__atom_chunk *chunks; /* writer only */
    char *pos, *end;            /* free space in the newest chunk */
    size_t next_chunk_bytes;
    uint64_t string_bytes;      /* sum of atom lengths (stats) */
} oomkit__atoms;

static inline uint64_t oomkit__atom_hash(const void *p, size_t len);

void oomkit__atoms_init(oomkit__atoms *t, int with_aux);
void oomkit__atoms_destroy(oomkit__atoms *t, oomkit__smem *m);

/* The record of id (< count), or NULL. Reader or writer. */
static inline const oomkit__atom_rec *oomkit__atoms_rec(const oomkit__atoms *t, uint32_t id)
{
    return (const oomkit__atom_rec *)(uintptr_t)oomkit__pdir_load(&t->dir, id);
}
/* Finds a string; ATOM_NONE if absent. h is oomkit__atom_hash(p, len).
 * Reader (inside a read section) or writer. Inline: every lookup resolves
 * two atoms. */
static inline uint32_t oomkit__atoms_find(const oomkit__atoms *t, const void *p, size_t len, uint64_t h)
{
    const oomkit__atom_index *ix = LOAD_ACQ(&((oomkit__atoms *)t)->index);
    if (ix == NULL)
        return ATOM_NONE;
    uint32_t h32 = (uint32_t)(h >> 32);
    for (uint32_t i = (uint32_t)h & ix->mask;; i = (i + 1) & ix->mask) {
        uint32_t v = LOAD_ACQ(&((oomkit__atom_index *)ix)->slots[i]);
        if (v == 0)
            return ATOM_NONE;
        const oomkit__atom_rec *r = oomkit__atoms_rec(t, v - 1);
        if (r != NULL && r->hash32 == h32 && r->len == len &&
            (len == 0 || memcmp(r->bytes, p, len) == 0))
            return v - 1;
    }
}

static inline uint32_t oomkit__atoms_count(const oomkit__atoms *t)
{
    return LOAD_ACQ(&((oomkit__atoms *)t)->count);
}

/* Bytes oomkit__atoms_grow(t, len) would allocate. */
size_t oomkit__atoms_need(const oomkit__atoms *t, size_t len);
/* Makes room for one more atom of len bytes. Needs up to 3 retire slots.
 * 0 or -ENOMEM (content unchanged either way). Writer. */
int oomkit__atoms_grow(oomkit__atoms *t, oomkit__smem *m, size_t len);
/* Interns a string known to be absent, after a successful grow. Never
 * fails. Returns the new id. Writer. */
uint32_t oomkit__atoms_insert(oomkit__atoms *t, const void *p, size_t len, uint64_t h);

#include "core/hash.h"
static inline uint64_t oomkit__atom_hash(const void *p, size_t len)
{
    return oomkit__hash(p, len, 0x6f6f6d6b69742d61ull);
}

#endif
