/* Static maps from the store: freezes the store's current content (one
 * namespace, or all of them) into a static map keyed by the flattened
 * "namespace/name/key" strings, the same keys `oomkit mph build` makes from
 * the workload TSV. It only reads the store, through its iteration API.
 */
#include "mph/mph_internal.h"
#include "core/alloc.h"
#include "oomkit/store.h"

struct collect {
    const oomkit_store *s;
    /* "namespace/name/" of the object being read. */
    char *prefix;
    size_t prefix_len, prefix_cap, ns_len;
    /* Every key's bytes end to end; keys are offsets into it until the end,
     * because it moves as it grows. */
    char *arena;
    size_t used, cap;
    uint64_t *off;
    uint32_t *len;
    int64_t *val;
    size_t n, ncap;
    int err;
};

static int reserve(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c *= 2;
    char *b = oomkit__realloc(*buf, c);
    if (b == NULL)
        return -ENOMEM;
    *buf = b;
    *cap = c;
    return 0;
}

static int set_prefix(struct collect *c, size_t keep, oomkit_str part)
{
    if (reserve(&c->prefix, &c->prefix_cap, keep + part.len + 1) != 0)
        return c->err = -ENOMEM;
    if (part.len)
        memcpy(c->prefix + keep, part.ptr, part.len);
    c->prefix[keep + part.len] = '/';
    c->prefix_len = keep + part.len + 1;
    return 0;
}

static int on_field(void *ctx, oomkit_str key, uint32_t key_id, int64_t value)
{
    (void)key_id;
    struct collect *c = ctx;
    if (c->n == c->ncap) {
        size_t nc = c->ncap ? c->ncap * 2 : 1024;
        uint64_t *o = oomkit__realloc(c->off, nc * sizeof(*o));
        if (o != NULL)
            c->off = o;
        uint32_t *l = oomkit__realloc(c->len, nc * sizeof(*l));
        if (l != NULL)
            c->len = l;
        int64_t *v = oomkit__realloc(c->val, nc * sizeof(*v));
        if (v != NULL)
            c->val = v;
        if (o == NULL || l == NULL || v == NULL)
            return c->err = -ENOMEM;
        c->ncap = nc;
    }
    size_t klen = c->prefix_len + key.len;
    if (klen > UINT32_MAX)
        return c->err = -E2BIG;
    if (reserve(&c->arena, &c->cap, c->used + klen) != 0)
        return c->err = -ENOMEM;
    memcpy(c->arena + c->used, c->prefix, c->prefix_len);
    if (key.len)
        memcpy(c->arena + c->used + c->prefix_len, key.ptr, key.len);
    c->off[c->n] = c->used;
    c->len[c->n] = (uint32_t)klen;
    c->val[c->n] = value;
    c->n++;
    c->used += klen;
    return 0;
}

static int on_object(void *ctx, oomkit_str name, oomkit_store_obj obj)
{
    struct collect *c = ctx;
    if (set_prefix(c, c->ns_len, name) != 0)
        return c->err;
    int rc = oomkit_store_obj_each_field(c->s, obj, on_field, c);
    if (rc == -ENOENT)
        rc = 0; /* deleted since it was listed: it is simply gone */
    return c->err ? c->err : rc;
}

static int collect_namespace(struct collect *c, oomkit_str ns)
{
    if (set_prefix(c, 0, ns) != 0)
        return c->err;
    c->ns_len = c->prefix_len;
    int rc = oomkit_store_each_object(c->s, ns, on_object, c);
    if (rc == -ENOENT)
        rc = 0; /* an empty or unknown namespace freezes to nothing */
    return c->err ? c->err : rc;
}

static int on_namespace(void *ctx, oomkit_str ns, uint64_t objects)
{
    (void)objects;
    return collect_namespace(ctx, ns);
}

int oomkit_static_map_build_store(const struct oomkit_store *s, oomkit_str ns,
                                  const oomkit_static_map_options *opts,
                                  oomkit_static_map **out)
{
    /* No store string is longer than 2^30 - 1 (store.h); a longer ns would
     * also overflow the prefix arithmetic below. */
    if (s == NULL || out == NULL || (ns.ptr == NULL && ns.len != 0) || ns.len >= (1u << 30))
        return -EINVAL;
    struct collect c;
    memset(&c, 0, sizeof(c));
    c.s = s;
    int rc = ns.len ? collect_namespace(&c, ns)
                    : oomkit_store_each_namespace(s, on_namespace, &c);
    if (c.err)
        rc = c.err;
    oomkit_str *keys = NULL;
    if (rc == 0) {
        keys = oomkit__malloc((c.n ? c.n : 1) * sizeof(*keys));
        if (keys == NULL)
            rc = -ENOMEM;
    }
    if (rc == 0) {
        for (size_t i = 0; i < c.n; i++)
            keys[i] = (oomkit_str){ c.arena + c.off[i], c.len[i] };
        rc = oomkit_static_map_build(keys, c.val, c.n, opts, out);
    }
    oomkit__free(keys);
    oomkit__free(c.prefix);
    oomkit__free(c.arena);
    oomkit__free(c.off);
    oomkit__free(c.len);
    oomkit__free(c.val);
    return rc;
}
