/* The incident's code path, in C with GLib: what the operator did.
 *
 * Each reconcile rebuilds the view of the cluster as nested hash tables,
 * namespace -> pod name -> label key -> label value, copying every string
 * (the GLib twin of Go's map[string]map[string]map[string]string), and
 * frees the previous view afterwards. Beside it sits the by-label index,
 * batch-id value -> that batch's label set, which is the bug: it is keyed
 * by a label whose value is unique per pod, nothing ever removes a deleted
 * pod's entry, so with churn it only grows, and each entry is a label set
 * presized for NESTED_LABEL_SET_PRESIZE labels that holds six: the
 * postmortem's huge, nearly empty maps. That is what climbs to the limit.
 *
 * The insert functions are noinline so the heap profile names them: the
 * demo checks that the top allocation site of the capture is this path. */
#include "demo/op_variants.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>

/* The label set of a batch is sized for the most labels a batch might
 * carry, as the operator did "to avoid rehashing"; a pod has six. */
#define NESTED_LABEL_SET_PRESIZE 128

/* Allocating calls this file makes, counted at the call sites: GLib's own
 * growth of its tables is not included, so it is a lower bound. */
static long long own_allocs;

struct nested_state {
    GHashTable *by_ns;    /* ns -> (name -> (key -> value)), rebuilt each reconcile */
    GHashTable *by_batch; /* batch-id value -> label set (GPtrArray); only grows */
};

static void destroy_table(gpointer t)
{
    g_hash_table_destroy(t);
}

static GHashTable *new_string_table(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

/* Copies the pod's labels into a fresh table, as the operator did for
 * every pod it looked at. */
__attribute__((noinline)) static GHashTable *nested_labels_copy(const struct op_pod *p,
                                                                const char *batch)
{
    GHashTable *labels = new_string_table();
    own_allocs += 2 * OP_LABELS + 3;
    for (unsigned k = 0; k < OP_LABELS; k++)
        g_hash_table_insert(labels, g_strdup(op_label_keys[k]),
                            g_strdup(op_label_value(k, p->label_value[k])));
    g_hash_table_insert(labels, g_strdup("batch-id"), g_strdup(batch));
    return labels;
}

/* by_ns[ns][name] = labels, creating the namespace's table on first use. */
__attribute__((noinline)) static void nested_pod_insert(GHashTable *by_ns, const char *ns,
                                                        const struct op_pod *p, const char *batch)
{
    GHashTable *pods = g_hash_table_lookup(by_ns, ns);
    if (pods == NULL) {
        pods = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, destroy_table);
        g_hash_table_insert(by_ns, g_strdup(ns), pods);
        own_allocs += 2;
    }
    own_allocs++;
    g_hash_table_insert(pods, g_strdup(p->name), nested_labels_copy(p, batch));
}

/* by_batch[batch] = a presized set of "key=value" copies of the pod's
 * labels: the label map that only grows (no delete when the pod goes). */
__attribute__((noinline)) static void nested_label_map_insert(GHashTable *by_batch,
                                                              const struct op_pod *p,
                                                              const char *batch)
{
    if (g_hash_table_contains(by_batch, batch))
        return;
    GPtrArray *set = g_ptr_array_new_full(NESTED_LABEL_SET_PRESIZE, g_free);
    own_allocs += OP_LABELS + 4;
    for (unsigned k = 0; k < OP_LABELS; k++)
        g_ptr_array_add(set, g_strdup_printf("%s=%s", op_label_keys[k],
                                             op_label_value(k, p->label_value[k])));
    g_ptr_array_add(set, g_strdup_printf("batch-id=%s", batch));
    g_hash_table_insert(by_batch, g_strdup(batch), set);
}

static void destroy_set(gpointer set)
{
    g_ptr_array_free(set, TRUE);
}

static int nested_open(void **state, const struct op_cluster *c)
{
    (void)c;
    struct nested_state *s = g_new0(struct nested_state, 1);
    s->by_batch = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, destroy_set);
    *state = s;
    return 0;
}

__attribute__((noinline)) static int nested_reconcile(void *state, const struct op_cluster *c,
                                                      struct op_result *out)
{
    struct nested_state *s = state;
    long long before = own_allocs;
    GHashTable *fresh = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, destroy_table);
    own_allocs++;
    char batch[32];
    for (size_t i = 0; i < c->n_pods; i++) {
        const struct op_pod *p = &c->pods[i];
        op_pod_batch(c, p, batch, sizeof(batch));
        nested_pod_insert(fresh, c->ns_names[p->ns], p, batch);
        nested_label_map_insert(s->by_batch, p, batch);
    }
    /* The new view replaces the old one only once it is complete, as an
     * operator that must keep serving reads does. */
    if (s->by_ns != NULL)
        g_hash_table_destroy(s->by_ns);
    s->by_ns = fresh;
    out->allocs = own_allocs - before;
    out->index_entries = g_hash_table_size(s->by_batch);
    return 0;
}

static void nested_close(void *state)
{
    struct nested_state *s = state;
    if (s->by_ns != NULL)
        g_hash_table_destroy(s->by_ns);
    g_hash_table_destroy(s->by_batch);
    g_free(s);
}

const struct op_variant op_nested_variant = { "nested", nested_open, nested_reconcile,
                                              nested_close };
