/* The simulated cluster behind `oomkit-demo-operator`: the "API server"
 * side of the incident replay. It holds a list of pods spread over
 * namespaces with a skewed (Zipf-like) weight, each with a handful of
 * ordinary labels and one label, batch-id, whose value is unique per pod
 * (the postmortem's case that made its label maps huge and nearly empty).
 * Every reconcile the cluster churns: some pods are deleted and as many new
 * ones created, with new names and new batch ids.
 *
 * The generator in src/cli/gen_state_gen.c writes TSV for the store
 * benchmark and exposes no per-pod model, so this one is its own, compact,
 * with the same random stream family (splitmix64 seeding, xorshift). */
#ifndef OOMKIT_DEMO_OP_CLUSTER_H
#define OOMKIT_DEMO_OP_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#define OP_LABELS 5 /* ordinary labels per pod, besides batch-id */

struct op_pod {
    uint32_t ns;                    /* index into op_cluster.ns_names */
    char name[48];                  /* app-role-<hash>-<suffix>, NUL-terminated */
    uint8_t label_value[OP_LABELS]; /* index into each label's value list */
    uint64_t batch_id;              /* unique per pod ever created */
};

struct op_cluster {
    struct op_pod *pods; /* owned */
    size_t n_pods;
    uint32_t n_ns;
    char (*ns_names)[32]; /* owned */
    double *ns_cdf;       /* owned: cumulative namespace weights */
    uint64_t rng;
    uint64_t next_batch; /* next batch id */
    int unique_label;    /* 0: batch-id repeats from a small set */
};

/* Label keys and their values, shared by both operator variants. */
extern const char *const op_label_keys[OP_LABELS];
const char *op_label_value(unsigned key, unsigned value);
unsigned op_label_values(unsigned key);

/* Creates n_pods pods. Returns 0 or -ENOMEM. */
int op_cluster_init(struct op_cluster *c, size_t n_pods, uint64_t seed, int unique_label);
/* Deletes `churn` random pods and creates as many new ones in their place. */
void op_cluster_churn(struct op_cluster *c, size_t churn);
/* The batch-id label value of a pod as text ("b-<16 hex>"); buf >= 24. */
void op_pod_batch(const struct op_cluster *c, const struct op_pod *p, char *buf, size_t cap);
void op_cluster_free(struct op_cluster *c);

#endif
