/* The Kubernetes-shaped state generator (see gen_state_gen.h): vocabularies,
 * a seeded random stream and the sampling rules of the reference generator.
 *
 * The random stream is xoshiro256** seeded through splitmix64, written here
 * rather than taken from a library because the output must stay
 * byte-identical for a seed across machines and library upgrades, and the
 * whole generator is a dozen lines; GLib's GRand would pull GLib into the
 * oomkit command for nothing. */
#include "cli/gen_state_gen.h"

#include "core/hash.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The vocabularies of the reference generator, so names and keys have the
 * same lengths, repetition and alphabet. */
static const char *const apps[] = {
    "checkout", "payments", "cart",     "search",   "catalog",  "auth",     "gateway", "ledger",
    "billing",  "notify",   "inventory", "shipping", "profile", "reco",     "media",   "ingest",
    "metrics",  "logs",     "queue",    "cache",    "session",  "pricing",  "orders",  "fraud",
    "audit",    "export",   "report",   "frontend", "backend",  "worker",
};
static const char *const roles[] = { "api",  "web", "worker",     "cron",  "consumer",
                                     "sync", "proxy", "db", "controller", "agent" };
static const char *const teams[] = { "payments", "retail", "platform", "data",     "ml",
                                     "identity", "edge",   "growth",   "infra",    "security",
                                     "mobile",   "ads",    "search",   "core" };
static const char *const envs[] = { "prod", "staging", "dev", "canary", "qa" };
static const char *const fixed_namespaces[] = { "default", "kube-system", "monitoring",
                                                "ingress-nginx" };
static const char *const keys[] = {
    "status.phase",
    "status.restartCount",
    "status.ready",
    "status.containerStatuses.app.restartCount",
    "status.containerStatuses.sidecar.restartCount",
    "status.conditions.Ready",
    "status.conditions.PodScheduled",
    "status.conditions.ContainersReady",
    "status.qosClass",
    "spec.replicas",
    "spec.priority",
    "spec.terminationGracePeriodSeconds",
    "spec.containers.app.resources.limits.memory",
    "spec.containers.app.resources.requests.memory",
    "spec.containers.app.resources.limits.cpu",
    "spec.containers.app.resources.requests.cpu",
    "spec.containers.sidecar.resources.limits.memory",
    "metadata.generation",
    "metadata.resourceVersion",
    "metadata.creationTimestamp",
    "observedGeneration",
    "metadata.labels.app.kubernetes.io/name",
    "metadata.labels.app.kubernetes.io/instance",
    "metadata.labels.app.kubernetes.io/version",
    "metadata.labels.app.kubernetes.io/component",
    "metadata.labels.app.kubernetes.io/part-of",
    "metadata.labels.app.kubernetes.io/managed-by",
    "metadata.labels.pod-template-hash",
    "metadata.labels.tier",
    "metadata.labels.track",
    "metadata.labels.team",
    "metadata.labels.env",
    "metadata.labels.release",
    "metadata.annotations.prometheus.io/port",
    "metadata.annotations.prometheus.io/scrape",
    "metadata.annotations.sidecar.istio.io/status",
    "metadata.annotations.kubectl.kubernetes.io/restartedAt",
    "metadata.annotations.checksum/config",
    "metadata.annotations.deployment.kubernetes.io/revision",
    "reconcile.attempts",
    "reconcile.lastDurationMs",
    "reconcile.errors",
    "finalizers.count",
    "ownerReferences.count",
    "events.warning",
    "events.normal",
    "volumes.count",
    "ports.count",
    "node.cpuMilli",
    "node.memoryBytes",
    "batch.completions",
    "batch.parallelism",
    "hpa.currentReplicas",
    "hpa.desiredReplicas",
};
/* The alphabet Kubernetes uses for generated name suffixes. */
static const char alnum[] = "bcdfghjklmnpqrstvwxz2456789";
static const char hex[] = "0123456789abcdef";

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
/* The mode of the keys-per-object triangle, as in the reference. */
#define KEYS_MODE 7.0

_Static_assert(OOMKIT_GEN_MAX_NAMESPACES == COUNT(fixed_namespaces) + COUNT(teams) * COUNT(envs) * 40,
               "namespace vocabulary size: fixed + team-env + team-env-1..39");

uint32_t oomkit__gen_key_count(void)
{
    return (uint32_t)COUNT(keys);
}

struct rng {
    uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n): multiply-shift, whose bias (n / 2^64) is far below
 * anything a benchmark workload could show. */
static uint64_t rng_below(struct rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

/* Uniform in [0, 1) with 53 random bits. */
static double rng_double(struct rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Python's random.triangular(low, high, mode), same formula. */
static double rng_triangular(struct rng *r, double low, double high, double mode)
{
    if (high == low)
        return low;
    double u = rng_double(r);
    double c = (mode - low) / (high - low);
    if (u > c) {
        u = 1.0 - u;
        c = 1.0 - c;
        double t = low;
        low = high;
        high = t;
    }
    return low + (high - low) * sqrt(u * c);
}

int oomkit__gen_check(const struct oomkit_gen_opts *o, const char **why)
{
    const char *reason = NULL;
    if (o == NULL)
        reason = "no options";
    else if (o->objects < 1)
        reason = "--objects must be at least 1";
    else if (o->namespaces < 1 || o->namespaces > OOMKIT_GEN_MAX_NAMESPACES)
        reason = "--namespaces must be between 1 and 2804 (the vocabulary's size)";
    else if (o->min_keys < 1 || o->min_keys > o->max_keys || o->max_keys > COUNT(keys))
        reason = "need 1 <= --min-keys <= --max-keys <= 54";
    if (why != NULL)
        *why = reason;
    return reason == NULL ? 0 : -EINVAL;
}

_Static_assert(COUNT(keys) == 54, "the --min-keys/--max-keys message names the vocabulary size");

/* Namespace names: the fixed four, then distinct team-env[-n] draws. */
static char **make_namespaces(struct rng *r, uint32_t count)
{
    char **out = calloc(count, sizeof(*out));
    if (out == NULL)
        return NULL;
    uint32_t n = 0;
    for (; n < count && n < COUNT(fixed_namespaces); n++) {
        out[n] = strdup(fixed_namespaces[n]);
        if (out[n] == NULL)
            goto fail;
    }
    char buf[64];
    while (n < count) {
        int len = snprintf(buf, sizeof(buf), "%s-%s", teams[rng_below(r, COUNT(teams))],
                           envs[rng_below(r, COUNT(envs))]);
        if (rng_double(r) < 0.5)
            snprintf(buf + len, sizeof(buf) - (size_t)len, "-%d", 1 + (int)rng_below(r, 39));
        /* A linear scan is enough: there are at most 2804 namespaces. */
        int seen = 0;
        for (uint32_t i = 0; i < n && !seen; i++)
            seen = strcmp(out[i], buf) == 0;
        if (seen)
            continue;
        out[n] = strdup(buf);
        if (out[n] == NULL)
            goto fail;
        n++;
    }
    return out;
fail:
    for (uint32_t i = 0; i < n; i++)
        free(out[i]);
    free(out);
    return NULL;
}

/* Writes "<app>-<role>-<10 hex>-<5 alnum>" into buf (at least 64 bytes). */
static void object_name(struct rng *r, char *buf, size_t cap)
{
    int len = snprintf(buf, cap, "%s-%s-", apps[rng_below(r, COUNT(apps))],
                       roles[rng_below(r, COUNT(roles))]);
    size_t at = (size_t)len;
    for (int i = 0; i < 10; i++)
        buf[at++] = hex[rng_below(r, sizeof(hex) - 1)];
    buf[at++] = '-';
    for (int i = 0; i < 5; i++)
        buf[at++] = alnum[rng_below(r, sizeof(alnum) - 1)];
    buf[at] = '\0';
}

/* The set of (namespace, name) objects already written, as 64-bit hashes in
 * an open-addressed table: the reference generator redraws a duplicate
 * object, and so do we. Two distinct objects sharing a 64-bit hash is
 * astronomically unlikely and would only cost one extra redraw. */
struct seen_set {
    uint64_t *slots;
    uint64_t mask;
};

static int seen_insert(struct seen_set *set, uint64_t h)
{
    h |= 1; /* 0 marks an empty slot. */
    for (uint64_t i = h & set->mask;; i = (i + 1) & set->mask) {
        if (set->slots[i] == h)
            return 0;
        if (set->slots[i] == 0) {
            set->slots[i] = h;
            return 1;
        }
    }
}

int oomkit__gen_state_write(const struct oomkit_gen_opts *o, FILE *out)
{
    if (oomkit__gen_check(o, NULL) != 0 || out == NULL)
        return -EINVAL;
    struct rng r;
    rng_seed(&r, o->seed);
    int rc = 0;
    char **nss = make_namespaces(&r, o->namespaces);
    double *cumulative = malloc(o->namespaces * sizeof(double));
    /* Load at most 1/2: a power of two at least twice the object count. */
    uint64_t cap = 16;
    while (cap < 2 * o->objects)
        cap *= 2;
    struct seen_set seen = { calloc(cap, sizeof(uint64_t)), cap - 1 };
    if (nss == NULL || cumulative == NULL || seen.slots == NULL) {
        rc = -ENOMEM;
        goto done;
    }
    /* Zipf-like skew: namespace i weighs 1/(i+1); draws bisect the
     * cumulative weights as random.choices does. */
    double total = 0;
    for (uint32_t i = 0; i < o->namespaces; i++) {
        total += 1.0 / (double)(i + 1);
        cumulative[i] = total;
    }
    uint32_t order[COUNT(keys)];
    char name[96];
    for (uint64_t written = 0; written < o->objects;) {
        double x = rng_double(&r) * total;
        uint32_t lo = 0, hi = o->namespaces - 1;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (x < cumulative[mid])
                hi = mid;
            else
                lo = mid + 1;
        }
        const char *ns = nss[lo];
        object_name(&r, name, sizeof(name));
        size_t name_len = strlen(name);
        uint64_t h = oomkit__hash(name, name_len, lo);
        if (!seen_insert(&seen, h))
            continue;
        double t = rng_triangular(&r, o->min_keys, o->max_keys, KEYS_MODE);
        long nkeys = (long)t; /* truncation, as int() in the reference */
        if (nkeys < (long)o->min_keys)
            nkeys = o->min_keys;
        if (nkeys > (long)o->max_keys)
            nkeys = o->max_keys;
        /* Sampling without replacement: a partial Fisher-Yates shuffle. */
        for (uint32_t i = 0; i < COUNT(keys); i++)
            order[i] = i;
        for (long i = 0; i < nkeys; i++) {
            uint32_t j = (uint32_t)i + (uint32_t)rng_below(&r, COUNT(keys) - (uint64_t)i);
            uint32_t tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
            int64_t value = (int64_t)rng_next(&r);
            if (fprintf(out, "%s\t%s\t%s\t%" PRId64 "\n", ns, name, keys[order[i]], value) < 0) {
                rc = errno != 0 ? -errno : -EIO; /* EFBIG, ENOSPC: the write's own reason */
                goto done;
            }
        }
        written++;
    }
    if (fflush(out) != 0 || ferror(out))
        rc = errno != 0 ? -errno : -EIO;
done:
    if (nss != NULL) {
        for (uint32_t i = 0; i < o->namespaces; i++)
            free(nss[i]);
        free(nss);
    }
    free(cumulative);
    free(seen.slots);
    return rc;
}
