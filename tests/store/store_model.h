/* A trivially correct reference model of the store for the differential,
 * fault-injection, budget and fuzz tests: objects in a chained hash table of
 * (namespace, name), each with an unsorted array of (key, value). Slow and
 * obviously right; nothing in it is shared with src/store. Also the full
 * content comparison of a store against a model, iteration included.
 * Header-only so that the fuzz target can include it too. */
#ifndef OOMKIT_TESTS_STORE_MODEL_H
#define OOMKIT_TESTS_STORE_MODEL_H

#include "oomkit/store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct mfield {
    char *key;
    size_t klen;
    int64_t v;
} mfield;

typedef struct mobj {
    char *ns, *name;
    size_t nslen, namelen;
    mfield *f;
    size_t nf, cap;
    struct mobj *next;
} mobj;

/* Both sizes may be lowered by the includer (the fuzz target does, for
 * speed). */
#ifndef MODEL_BUCKETS
#define MODEL_BUCKETS 4096u
#endif
#ifndef MODEL_MAX_LISTED
#define MODEL_MAX_LISTED 4096u
#endif

typedef struct model {
    mobj *b[MODEL_BUCKETS];
    uint64_t nobj, nfields;
} model;

static inline char *m_dup(const char *p, size_t n)
{
    char *d = malloc(n ? n : 1);
    if (n)
        memcpy(d, p, n);
    return d;
}

static inline size_t m_hash(oomkit_str ns, oomkit_str name)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < ns.len; i++)
        h = (h ^ (unsigned char)ns.ptr[i]) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (size_t i = 0; i < name.len; i++)
        h = (h ^ (unsigned char)name.ptr[i]) * 1099511628211ull;
    return (size_t)(h % MODEL_BUCKETS);
}

static inline int m_eq(const char *a, size_t alen, oomkit_str b)
{
    return alen == b.len && (alen == 0 || memcmp(a, b.ptr, alen) == 0);
}

static inline mobj **m_find(model *m, oomkit_str ns, oomkit_str name)
{
    mobj **pp = &m->b[m_hash(ns, name)];
    while (*pp && !(m_eq((*pp)->ns, (*pp)->nslen, ns) && m_eq((*pp)->name, (*pp)->namelen, name)))
        pp = &(*pp)->next;
    return pp;
}

static inline mobj *m_obj(model *m, oomkit_str ns, oomkit_str name, int create)
{
    mobj **pp = m_find(m, ns, name);
    if (*pp || !create)
        return *pp;
    mobj *o = calloc(1, sizeof(*o));
    o->ns = m_dup(ns.ptr, ns.len);
    o->nslen = ns.len;
    o->name = m_dup(name.ptr, name.len);
    o->namelen = name.len;
    *pp = o;
    m->nobj++;
    return o;
}

static inline int m_field(const mobj *o, oomkit_str key)
{
    for (size_t i = 0; i < o->nf; i++)
        if (m_eq(o->f[i].key, o->f[i].klen, key))
            return (int)i;
    return -1;
}

static inline void m_put(model *m, oomkit_str ns, oomkit_str name, oomkit_str key, int64_t v)
{
    mobj *o = m_obj(m, ns, name, 1);
    int i = m_field(o, key);
    if (i >= 0) {
        o->f[i].v = v;
        return;
    }
    if (o->nf == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 4;
        o->f = realloc(o->f, o->cap * sizeof(*o->f));
    }
    o->f[o->nf].key = m_dup(key.ptr, key.len);
    o->f[o->nf].klen = key.len;
    o->f[o->nf].v = v;
    o->nf++;
    m->nfields++;
}

static inline int m_get(model *m, oomkit_str ns, oomkit_str name, oomkit_str key, int64_t *v)
{
    mobj *o = m_obj(m, ns, name, 0);
    int i = o ? m_field(o, key) : -1;
    if (i < 0)
        return -ENOENT;
    *v = o->f[i].v;
    return 0;
}

static inline void m_free_obj(mobj *o)
{
    for (size_t i = 0; i < o->nf; i++)
        free(o->f[i].key);
    free(o->f);
    free(o->ns);
    free(o->name);
    free(o);
}

static inline int m_del_object(model *m, oomkit_str ns, oomkit_str name)
{
    mobj **pp = m_find(m, ns, name);
    if (*pp == NULL)
        return -ENOENT;
    mobj *o = *pp;
    *pp = o->next;
    m->nobj--;
    m->nfields -= o->nf;
    m_free_obj(o);
    return 0;
}

static inline int m_del(model *m, oomkit_str ns, oomkit_str name, oomkit_str key)
{
    mobj *o = m_obj(m, ns, name, 0);
    int i = o ? m_field(o, key) : -1;
    if (i < 0)
        return -ENOENT;
    if (o->nf == 1)
        return m_del_object(m, ns, name);
    free(o->f[i].key);
    o->f[i] = o->f[o->nf - 1];
    o->nf--;
    m->nfields--;
    return 0;
}

static inline void m_clear(model *m)
{
    for (size_t b = 0; b < MODEL_BUCKETS; b++) {
        while (m->b[b]) {
            mobj *o = m->b[b];
            m->b[b] = o->next;
            m_free_obj(o);
        }
    }
    m->nobj = m->nfields = 0;
}

/* ---- comparison --------------------------------------------------------- */

typedef struct cmp_ctx {
    model *m;
    const oomkit_store *s;
    const mobj *o;
    size_t seen;
    int bad;
    char why[200];
    /* each_namespace / each_object scratch */
    oomkit_str ns;
    uint64_t ns_seen;
    oomkit_store_obj handles[MODEL_MAX_LISTED];
    size_t nhandles;
} cmp_ctx;

static inline int cmp_field_cb(void *ctx, oomkit_str key, uint32_t key_id, int64_t value)
{
    cmp_ctx *c = ctx;
    (void)key_id;
    int i = m_field(c->o, key);
    if (i < 0 || c->o->f[i].v != value) {
        c->bad = 1;
        snprintf(c->why, sizeof(c->why), "field %.*s: %s", (int)key.len, key.ptr,
                 i < 0 ? "not in model" : "value differs");
        return 1;
    }
    c->seen++;
    return 0;
}

static inline int cmp_object_cb(void *ctx, oomkit_str name, oomkit_store_obj h)
{
    cmp_ctx *c = ctx;
    mobj *o = m_obj(c->m, c->ns, name, 0);
    if (o == NULL) {
        c->bad = 1;
        snprintf(c->why, sizeof(c->why), "object %.*s not in model", (int)name.len, name.ptr);
        return 1;
    }
    for (size_t i = 0; i < c->nhandles && i < MODEL_MAX_LISTED; i++) {
        if (c->handles[i] == h) {
            c->bad = 1;
            snprintf(c->why, sizeof(c->why), "object %.*s seen twice", (int)name.len, name.ptr);
            return 1;
        }
    }
    if (c->nhandles < MODEL_MAX_LISTED)
        c->handles[c->nhandles] = h;
    c->nhandles++;
    return 0;
}

static inline uint64_t m_ns_objects(model *m, oomkit_str ns)
{
    uint64_t n = 0;
    for (size_t b = 0; b < MODEL_BUCKETS; b++)
        for (mobj *o = m->b[b]; o; o = o->next)
            n += m_eq(o->ns, o->nslen, ns);
    return n;
}

static inline int cmp_ns_cb(void *ctx, oomkit_str ns, uint64_t objects)
{
    cmp_ctx *c = ctx;
    uint64_t want = m_ns_objects(c->m, ns);
    if (want != objects) {
        c->bad = 1;
        snprintf(c->why, sizeof(c->why), "namespace %.*s: %llu objects, model %llu", (int)ns.len,
                 ns.ptr, (unsigned long long)objects, (unsigned long long)want);
        return 1;
    }
    c->ns_seen += objects;
    c->ns = ns;
    c->nhandles = 0;
    int r = oomkit_store_each_object(c->s, ns, cmp_object_cb, c);
    if (r != 0 || c->bad || c->nhandles != objects) {
        if (!c->bad)
            snprintf(c->why, sizeof(c->why), "each_object %.*s: r=%d listed %zu of %llu",
                     (int)ns.len, ns.ptr, r, c->nhandles, (unsigned long long)objects);
        c->bad = 1;
        return 1;
    }
    return 0;
}

/* Compares all content of s with m; returns NULL if equal, else a static
 * description of the first difference. */
static inline const char *model_compare(const oomkit_store *s, model *m)
{
    static cmp_ctx c;
    memset(&c, 0, sizeof(c));
    c.m = m;
    c.s = s;
    uint64_t no, nf;
    if (oomkit_store_count(s, &no, &nf) != 0)
        return "count failed";
    if (no != m->nobj || nf != m->nfields) {
        snprintf(c.why, sizeof(c.why), "count: %llu/%llu, model %llu/%llu",
                 (unsigned long long)no, (unsigned long long)nf,
                 (unsigned long long)m->nobj, (unsigned long long)m->nfields);
        return c.why;
    }
    for (size_t b = 0; b < MODEL_BUCKETS; b++) {
        for (mobj *o = m->b[b]; o; o = o->next) {
            oomkit_str ns = { o->ns, o->nslen }, name = { o->name, o->namelen };
            c.o = o;
            c.seen = 0;
            int r = oomkit_store_each_field(s, ns, name, cmp_field_cb, &c);
            if (c.bad)
                return c.why;
            if (r != 0 || c.seen != o->nf) {
                snprintf(c.why, sizeof(c.why), "object %.*s: r=%d, %zu of %zu fields",
                         (int)name.len, name.ptr, r, c.seen, o->nf);
                return c.why;
            }
            for (size_t i = 0; i < o->nf; i++) {
                int64_t v = 0;
                oomkit_str key = { o->f[i].key, o->f[i].klen };
                if (oomkit_store_get(s, ns, name, key, &v) != 0 || v != o->f[i].v)
                    return "get differs from model";
            }
        }
    }
    int r = oomkit_store_each_namespace(s, cmp_ns_cb, &c);
    if (c.bad)
        return c.why;
    if (r != 0 || c.ns_seen != m->nobj) {
        snprintf(c.why, sizeof(c.why), "each_namespace: r=%d, %llu objects of %llu", r,
                 (unsigned long long)c.ns_seen, (unsigned long long)m->nobj);
        return c.why;
    }
    return NULL;
}

#endif
