/* String interning for profile builders (the preload profiler's dump and
 * the CLI's diff output). pprof refers to every string by its index in one
 * table, so the builder keeps an open-addressing index from string bytes
 * to table position; it doubles at 50 % load so probes stay short. */
#include "pprof/pprof.h"

#include "core/alloc.h"
#include "core/hash.h"

#include <errno.h>
#include <string.h>

int oomkit__pprof_builder_init(struct oomkit__pprof_builder *b)
{
    memset(b, 0, sizeof(*b));
    return oomkit__pprof_intern(b, "", 0) == 0 ? 0 : -ENOMEM;
}

static int grow_index(struct oomkit__pprof_builder *b)
{
    size_t cap = b->index_cap ? b->index_cap * 2 : 256;
    uint32_t *idx = oomkit__calloc(cap, sizeof(*idx));
    if (idx == NULL)
        return -ENOMEM;
    for (size_t i = 0; i < b->profile.n_strings; i++) {
        const struct oomkit__pprof_string *s = &b->profile.strings[i];
        size_t h = (size_t)oomkit__hash(s->ptr, s->len, 0) & (cap - 1);
        while (idx[h] != 0)
            h = (h + 1) & (cap - 1);
        idx[h] = (uint32_t)(i + 1);
    }
    oomkit__free(b->index);
    b->index = idx;
    b->index_cap = cap;
    return 0;
}

int64_t oomkit__pprof_intern(struct oomkit__pprof_builder *b, const char *s, size_t len)
{
    struct oomkit__pprof_profile *p = &b->profile;
    if ((p->n_strings + 1) * 2 > b->index_cap && grow_index(b) != 0)
        return -ENOMEM;
    size_t h = (size_t)oomkit__hash(s, len, 0) & (b->index_cap - 1);
    while (b->index[h] != 0) {
        const struct oomkit__pprof_string *e = &p->strings[b->index[h] - 1];
        if (e->len == len && memcmp(e->ptr, s, len) == 0)
            return b->index[h] - 1;
        h = (h + 1) & (b->index_cap - 1);
    }
    if (p->n_strings == b->cap_strings) {
        size_t nc = b->cap_strings ? b->cap_strings * 2 : 64;
        void *ns = oomkit__realloc(p->strings, nc * sizeof(*p->strings));
        if (ns == NULL)
            return -ENOMEM;
        p->strings = ns;
        b->cap_strings = nc;
    }
    char *copy = oomkit__malloc(len + 1);
    if (copy == NULL)
        return -ENOMEM;
    if (len > 0)
        memcpy(copy, s, len);
    copy[len] = '\0';
    p->strings[p->n_strings].ptr = copy;
    p->strings[p->n_strings].len = len;
    b->index[h] = (uint32_t)(p->n_strings + 1);
    return (int64_t)p->n_strings++;
}

void oomkit__pprof_builder_drop_index(struct oomkit__pprof_builder *b)
{
    oomkit__free(b->index);
    b->index = NULL;
    b->index_cap = 0;
}

void oomkit__pprof_builder_free(struct oomkit__pprof_builder *b)
{
    oomkit__pprof_builder_drop_index(b);
    oomkit__pprof_free(&b->profile);
}
