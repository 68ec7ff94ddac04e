/* The same operator on the oomkit store: one store opened once, cleared
 * and refilled every reconcile (clear keeps every table and block, so the
 * steady state allocates nothing), each pod one object with its labels as
 * int64 fields (label values as their index in the value list), and the
 * unique batch-id held as a field of the pod instead of a map keyed by it.
 * A deleted pod is simply absent after the next refill, so nothing can
 * accumulate. */
#include "demo/op_variants.h"

#include "oomkit/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct store_state {
    oomkit_store *s;
    oomkit_store_field field[OP_LABELS + 1]; /* the labels, then batch-id */
};

static oomkit_str str_of(const char *s)
{
    oomkit_str r = { s, strlen(s) };
    return r;
}

static int store_open(void **state, const struct op_cluster *c)
{
    struct store_state *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return -ENOMEM;
    oomkit_store_options o = { 0, c->n_pods };
    int rc = oomkit_store_open(&o, &st->s);
    if (rc != 0) {
        free(st);
        return rc;
    }
    for (unsigned k = 0; k < OP_LABELS; k++)
        st->field[k].key = str_of(op_label_keys[k]);
    st->field[OP_LABELS].key = str_of("batch-id");
    *state = st;
    return 0;
}

/* One write per pod, its labels and batch-id together: the pod's block is
 * built once, so a refill after clear allocates nothing. */
__attribute__((noinline)) static int store_pod_put(struct store_state *st, const char *ns,
                                                   const struct op_pod *p)
{
    for (unsigned k = 0; k < OP_LABELS; k++)
        st->field[k].value = p->label_value[k];
    st->field[OP_LABELS].value = (int64_t)p->batch_id;
    return oomkit_store_put_fields(st->s, str_of(ns), str_of(p->name), st->field, OP_LABELS + 1);
}

__attribute__((noinline)) static int store_reconcile(void *state, const struct op_cluster *c,
                                                     struct op_result *out)
{
    struct store_state *st = state;
    oomkit_store_stats before, after;
    oomkit_store_stats_get(st->s, &before);
    int rc = oomkit_store_clear(st->s);
    for (size_t i = 0; rc == 0 && i < c->n_pods; i++)
        rc = store_pod_put(st, c->ns_names[c->pods[i].ns], &c->pods[i]);
    oomkit_store_stats_get(st->s, &after);
    out->allocs = (long long)(after.allocations - before.allocations);
    out->index_entries = after.objects;
    return rc;
}

static void store_close(void *state)
{
    struct store_state *st = state;
    oomkit_store_close(st->s);
    free(st);
}

const struct op_variant op_store_variant = { "store", store_open, store_reconcile, store_close };

const struct op_variant *op_variant_find(const char *name)
{
    if (strcmp(name, "nested") == 0)
        return &op_nested_variant;
    if (strcmp(name, "store") == 0 || strcmp(name, "oomkit") == 0)
        return &op_store_variant;
    return NULL;
}
