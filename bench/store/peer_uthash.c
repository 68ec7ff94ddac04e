/* uthash, nested like the incident's state: a hash of namespaces, each
 * holding a hash of objects, each holding a hash of fields. This is the
 * natural uthash style: every item is one malloc'ed struct carrying its
 * UT_hash_handle and its string inline (a flexible array member), so a
 * field costs one allocation, and each hash level adds its bucket array.
 * Nested rather than flat because the state is queried per object and per
 * namespace, which a flat uthash could only answer by scanning. Clearing
 * walks and frees every item (HASH_CLEAR would free only the buckets). */
#include "bench/store/peers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* uthash's macros mix int and unsigned arithmetic that -Wconversion
 * reports; the header is Debian's and stays as it is. */
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-compare"
/* Out of memory inside a uthash macro: uthash has no error return, and a
 * benchmark that lost an entry would report nonsense, so stop. */
#define uthash_fatal(msg)                                             \
    do {                                                              \
        fprintf(stderr, "oomkit bench store: uthash: %s\n", (msg));  \
        exit(3);                                                      \
    } while (0)
#include <uthash.h>

struct ut_field {
    UT_hash_handle hh;
    int64_t value;
    char key[];
};

struct ut_object {
    UT_hash_handle hh;
    struct ut_field *fields;
    char name[];
};

struct ut_ns {
    UT_hash_handle hh;
    struct ut_object *objects;
    char name[];
};

struct ut_state {
    struct ut_ns *namespaces;
};

static volatile uint64_t list_sink;

static void *ut_open(void)
{
    return calloc(1, sizeof(struct ut_state));
}

static void free_object(struct ut_object *o)
{
    struct ut_field *f, *tmp;
    HASH_ITER(hh, o->fields, f, tmp) {
        HASH_DEL(o->fields, f);
        free(f);
    }
    free(o);
}

static int ut_put(void *s, const struct wl_ref *r, int64_t value)
{
    struct ut_state *st = s;
    struct ut_ns *n;
    HASH_FIND(hh, st->namespaces, r->ns, r->ns_len, n);
    if (n == NULL) {
        n = malloc(sizeof(*n) + r->ns_len + 1);
        if (n == NULL)
            return -1;
        memcpy(n->name, r->ns, r->ns_len + 1);
        n->objects = NULL;
        HASH_ADD_KEYPTR(hh, st->namespaces, n->name, r->ns_len, n);
    }
    struct ut_object *o;
    HASH_FIND(hh, n->objects, r->name, r->name_len, o);
    if (o == NULL) {
        o = malloc(sizeof(*o) + r->name_len + 1);
        if (o == NULL)
            return -1;
        memcpy(o->name, r->name, r->name_len + 1);
        o->fields = NULL;
        HASH_ADD_KEYPTR(hh, n->objects, o->name, r->name_len, o);
    }
    struct ut_field *f;
    HASH_FIND(hh, o->fields, r->key, r->key_len, f);
    if (f == NULL) {
        f = malloc(sizeof(*f) + r->key_len + 1);
        if (f == NULL)
            return -1;
        memcpy(f->key, r->key, r->key_len + 1);
        HASH_ADD_KEYPTR(hh, o->fields, f->key, r->key_len, f);
    }
    f->value = value;
    return 0;
}

static int ut_get(void *s, const struct wl_ref *r, int64_t *value)
{
    struct ut_state *st = s;
    struct ut_ns *n;
    HASH_FIND(hh, st->namespaces, r->ns, r->ns_len, n);
    if (n == NULL)
        return 0;
    struct ut_object *o;
    HASH_FIND(hh, n->objects, r->name, r->name_len, o);
    if (o == NULL)
        return 0;
    struct ut_field *f;
    HASH_FIND(hh, o->fields, r->key, r->key_len, f);
    if (f == NULL)
        return 0;
    *value = f->value;
    return 1;
}

static int ut_del_object(void *s, const struct wl_workload *w, uint32_t obj)
{
    struct ut_state *st = s;
    const struct wl_object *wo = &w->objects[obj];
    struct ut_ns *n;
    HASH_FIND(hh, st->namespaces, wo->ns, wo->ns_len, n);
    if (n == NULL)
        return -1;
    struct ut_object *o;
    HASH_FIND(hh, n->objects, wo->name, wo->name_len, o);
    if (o == NULL)
        return -1;
    HASH_DEL(n->objects, o);
    free_object(o);
    return 0;
}

static uint64_t ut_list(void *s, const char *ns, size_t ns_len)
{
    struct ut_state *st = s;
    struct ut_ns *n;
    HASH_FIND(hh, st->namespaces, ns, ns_len, n);
    if (n == NULL)
        return 0;
    uint64_t count = 0, touch = 0;
    for (struct ut_object *o = n->objects; o != NULL; o = o->hh.next) {
        touch += (unsigned char)o->name[0];
        count++;
    }
    list_sink += touch;
    return count;
}

static int ut_clear(void *s)
{
    struct ut_state *st = s;
    struct ut_ns *n, *ntmp;
    HASH_ITER(hh, st->namespaces, n, ntmp) {
        struct ut_object *o, *otmp;
        HASH_ITER(hh, n->objects, o, otmp) {
            HASH_DEL(n->objects, o);
            free_object(o);
        }
        HASH_DEL(st->namespaces, n);
        free(n);
    }
    return 0;
}

static void ut_close(void *s)
{
    ut_clear(s);
    free(s);
}

const struct peer_ops peer_uthash = {
    "uthash",
    "nested uthash (namespace -> object -> field), one malloc per item, strings inline",
    ut_open,
    ut_put,
    ut_get,
    NULL,
    ut_del_object,
    ut_list,
    ut_clear,
    ut_close,
    NULL,
    NULL,
    NULL,
    NULL,
};
