/* `oomkit-demo-operator`: the simulated Kubernetes operator that `oomkit
 * demo` runs twice, once per variant, each in its own memory cgroup, under
 * the heap profiler and the watchdog.
 *
 *   oomkit-demo-operator --operator nested|store [--pods N] [--reconciles R]
 *                        [--churn C] [--unique-label] [--period-ms MS]
 *
 * Each reconcile churns the cluster (op_cluster.c) and rebuilds the
 * operator's view of it (op_nested.c or op_store.c), then writes one
 * progress line to stdout for the parent:
 *   reconcile=N pods=P t_ms=T dur_ms=D allocs=A index=I
 * (allocs: the store's allocator calls from its stats; for the nested
 * variant the allocating calls its code makes, a lower bound that leaves
 * out GLib's internal table growth). It stops after R reconciles (0: never)
 * or on SIGTERM/SIGINT, and then exits normally so the profiler writes its
 * exit profile. It is a separate program, not a mode of `oomkit`, so the
 * profile of the incident's code path shows only that code path. */
#include "demo/op_cluster.h"
#include "demo/op_variants.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int parse_u64(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (s[0] == '-' || s[0] == '\0' || errno != 0 || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: oomkit-demo-operator --operator nested|store [--pods N] [--reconciles R]\n"
                 "                            [--churn C] [--unique-label] [--period-ms MS]\n"
                 "The simulated operator of `oomkit demo`; prints one progress line per reconcile.\n");
}

int main(int argc, char **argv)
{
    const char *variant = NULL;
    unsigned long long pods = 50000, reconciles = 0, churn = 0, period_ms = 0;
    int unique = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--unique-label") == 0) {
            unique = 1;
        } else if (v != NULL && strcmp(a, "--operator") == 0) {
            variant = v, i++;
        } else if (v != NULL && strcmp(a, "--pods") == 0) {
            bad = parse_u64(v, 10000000, &pods) || pods == 0, i++;
        } else if (v != NULL && strcmp(a, "--reconciles") == 0) {
            bad = parse_u64(v, UINT32_MAX, &reconciles), i++;
        } else if (v != NULL && strcmp(a, "--churn") == 0) {
            bad = parse_u64(v, 10000000, &churn), i++;
        } else if (v != NULL && strcmp(a, "--period-ms") == 0) {
            bad = parse_u64(v, 60000, &period_ms), i++;
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "oomkit-demo-operator: bad or incomplete option '%s' (see --help)\n", a);
            return 2;
        }
    }
    const struct op_variant *op = variant ? op_variant_find(variant) : NULL;
    if (op == NULL) {
        fprintf(stderr, "oomkit-demo-operator: --operator must be nested or store\n");
        return 2;
    }
    if (churn == 0)
        churn = pods / 25; /* 4% of the pods replaced every reconcile */
    if (churn > pods)
        churn = pods;

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    struct op_cluster cluster;
    if (op_cluster_init(&cluster, (size_t)pods, 42, unique) != 0) {
        fprintf(stderr, "oomkit-demo-operator: out of memory generating %llu pods\n", pods);
        return 1;
    }
    void *state = NULL;
    if (op->open(&state, &cluster) != 0) {
        fprintf(stderr, "oomkit-demo-operator: cannot open the %s state\n", op->name);
        op_cluster_free(&cluster);
        return 1;
    }
    double t0 = now_ms();
    int rc = 0;
    for (unsigned long long r = 1; !stop && (reconciles == 0 || r <= reconciles); r++) {
        double start = now_ms();
        op_cluster_churn(&cluster, (size_t)churn);
        struct op_result res;
        if (op->reconcile(state, &cluster, &res) != 0) {
            fprintf(stderr, "oomkit-demo-operator: reconcile %llu failed\n", r);
            rc = 1;
            break;
        }
        double end = now_ms();
        printf("reconcile=%llu pods=%zu t_ms=%.1f dur_ms=%.1f allocs=%lld index=%llu\n", r,
               cluster.n_pods, end - t0, end - start, res.allocs, res.index_entries);
        fflush(stdout);
        /* A reconcile starts every period_ms at most, as an operator's
         * resync period; one that ran longer starts the next at once. */
        double left_ms = (double)period_ms - (end - start);
        if (left_ms > 0) {
            struct timespec ts = { (time_t)(left_ms / 1000), (long)(fmod(left_ms, 1000.0) * 1e6) };
            nanosleep(&ts, NULL);
        }
    }
    op->close(state);
    op_cluster_free(&cluster);
    return rc;
}
