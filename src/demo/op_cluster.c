/* The simulated cluster of the incident replay (see op_cluster.h). */
#include "demo/op_cluster.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const op_label_keys[OP_LABELS] = { "app", "tier", "team", "env", "track" };

static const char *const apps[] = { "checkout", "payments", "cart",   "search", "catalog",
                                    "auth",     "gateway",  "ledger", "billing", "notify",
                                    "ingest",   "orders",   "fraud",  "audit",  "worker" };
static const char *const tiers[] = { "frontend", "backend", "cache", "db" };
static const char *const teams[] = { "payments", "retail", "platform", "data", "ml", "edge" };
static const char *const envs[] = { "prod", "staging", "dev", "canary" };
static const char *const tracks[] = { "stable", "canary" };

static const char *const *const values[OP_LABELS] = { apps, tiers, teams, envs, tracks };
static const unsigned n_values[OP_LABELS] = {
    sizeof(apps) / sizeof(apps[0]), sizeof(tiers) / sizeof(tiers[0]),
    sizeof(teams) / sizeof(teams[0]), sizeof(envs) / sizeof(envs[0]),
    sizeof(tracks) / sizeof(tracks[0])
};

const char *op_label_value(unsigned key, unsigned value)
{
    return values[key][value % n_values[key]];
}

unsigned op_label_values(unsigned key)
{
    return n_values[key];
}

static uint64_t next(uint64_t *s)
{
    /* splitmix64: one line, fast, and good enough for a workload shape. */
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static double uniform(uint64_t *s)
{
    return (double)(next(s) >> 11) / 9007199254740992.0;
}

static void make_pod(struct op_cluster *c, struct op_pod *p)
{
    /* Namespaces by inverse CDF: a few big ones, a long tail (1/(i+1)). */
    double u = uniform(&c->rng) * c->ns_cdf[c->n_ns - 1];
    uint32_t lo = 0, hi = c->n_ns - 1;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (c->ns_cdf[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    p->ns = lo;
    for (unsigned k = 0; k < OP_LABELS; k++)
        p->label_value[k] = (uint8_t)(next(&c->rng) % n_values[k]);
    static const char alnum[] = "bcdfghjklmnpqrstvwxz2456789";
    uint64_t r = next(&c->rng);
    char suffix[6];
    for (int i = 0; i < 5; i++)
        suffix[i] = alnum[(r >> (i * 6)) % (sizeof(alnum) - 1)];
    suffix[5] = '\0';
    snprintf(p->name, sizeof(p->name), "%s-%s-%010" PRIx64 "-%s", op_label_value(0, p->label_value[0]),
             op_label_value(1, p->label_value[1]), next(&c->rng) & UINT64_C(0xffffffffff), suffix);
    /* The unique label: every new pod gets a new batch; without
     * --unique-label the batches repeat from a small set, which is the
     * fixed cluster of the postmortem. */
    p->batch_id = c->unique_label ? c->next_batch++ : next(&c->rng) % 64;
}

int op_cluster_init(struct op_cluster *c, size_t n_pods, uint64_t seed, int unique_label)
{
    memset(c, 0, sizeof(*c));
    c->rng = seed;
    c->unique_label = unique_label;
    c->n_ns = n_pods / 250 + 4 > 400 ? 400 : (uint32_t)(n_pods / 250 + 4);
    c->pods = calloc(n_pods, sizeof(*c->pods));
    c->ns_names = calloc(c->n_ns, sizeof(*c->ns_names));
    c->ns_cdf = calloc(c->n_ns, sizeof(*c->ns_cdf));
    if (c->pods == NULL || c->ns_names == NULL || c->ns_cdf == NULL) {
        op_cluster_free(c);
        return -ENOMEM;
    }
    double sum = 0;
    for (uint32_t i = 0; i < c->n_ns; i++) {
        snprintf(c->ns_names[i], sizeof(c->ns_names[i]), "%s-%s-%u", teams[i % 6], envs[(i / 6) % 4],
                 i);
        sum += 1.0 / (i + 1);
        c->ns_cdf[i] = sum;
    }
    c->n_pods = n_pods;
    for (size_t i = 0; i < n_pods; i++)
        make_pod(c, &c->pods[i]);
    return 0;
}

void op_cluster_churn(struct op_cluster *c, size_t churn)
{
    for (size_t i = 0; i < churn && c->n_pods > 0; i++)
        make_pod(c, &c->pods[next(&c->rng) % c->n_pods]);
}

void op_pod_batch(const struct op_cluster *c, const struct op_pod *p, char *buf, size_t cap)
{
    (void)c;
    snprintf(buf, cap, "b-%016" PRIx64, p->batch_id * UINT64_C(0x9e3779b97f4a7c15));
}

void op_cluster_free(struct op_cluster *c)
{
    free(c->pods);
    free(c->ns_names);
    free(c->ns_cdf);
    memset(c, 0, sizeof(*c));
}
