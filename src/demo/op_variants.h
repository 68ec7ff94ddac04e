/* The two variants of the simulated operator (op_main.c): the same
 * reconcile logic over two state representations. op_nested.c is the
 * incident's code path as a C programmer would write it with GLib;
 * op_store.c is the same logic on the oomkit store. */
#ifndef OOMKIT_DEMO_OP_VARIANTS_H
#define OOMKIT_DEMO_OP_VARIANTS_H

#include "demo/op_cluster.h"

struct op_result {
    long long allocs;                  /* allocations this reconcile, -1 unknown */
    unsigned long long index_entries;  /* entries of the by-label index */
};

struct op_variant {
    const char *name;
    /* Creates the variant's state (*state owned by the variant until close). */
    int (*open)(void **state, const struct op_cluster *c);
    /* Rebuilds the view of the cluster; 0 or a negative errno. */
    int (*reconcile)(void *state, const struct op_cluster *c, struct op_result *out);
    void (*close)(void *state);
};

extern const struct op_variant op_nested_variant;
extern const struct op_variant op_store_variant;

/* The variant called name, or NULL. */
const struct op_variant *op_variant_find(const char *name);

#endif
