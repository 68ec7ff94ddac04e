/* Table 1 of `oomkit bench seed`: pointer chasing by depth. One access
 * follows d dependent pointers (d = 2, 5, 8), the way a lookup in tables
 * nested d levels deep loads each level's table before it can find the
 * next. The nodes are one cache line each, linked in one random cycle
 * (Sattolo's shuffle) over a working set several times the last-level
 * cache, so almost every step misses every cache. Accesses start at random
 * nodes and are independent of one another, as lookups of different keys
 * are. L1 data-cache read misses come from the CPU's counters through
 * perf_event_open when the kernel lets this process read them; otherwise
 * the table says so and reports none. */
#include "bench/seed/seed.h"

#include "bench/bench_probe.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

struct node {
    struct node *next;
    char pad[64 - sizeof(struct node *)];
};

static volatile uintptr_t sink;

/* Opens a counter of L1d read misses of this thread, user space only.
 * Returns the fd, or -errno. */
static int l1d_open(void)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_HW_CACHE;
    a.config = PERF_COUNT_HW_CACHE_L1D | (PERF_COUNT_HW_CACHE_OP_READ << 8) |
               (PERF_COUNT_HW_CACHE_RESULT_MISS << 16);
    a.disabled = 1;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    long fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
    return fd < 0 ? -errno : (int)fd;
}

/* Links nodes[0..n) into one random cycle. Sattolo's shuffle gives a
 * single cycle through every node, so no chase gets stuck in a short loop
 * that fits in cache. perm is scratch space of n entries. */
static void link_cycle(struct node *nodes, size_t *perm, size_t n)
{
    uint64_t x = 0x2545F4914F6CDD1Dull;
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(seed_rand(&x) % i), tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
    for (size_t i = 0; i < n; i++)
        nodes[perm[i]].next = &nodes[perm[(i + 1) % n]];
}

static uintptr_t chase(const struct node *nodes, size_t n, size_t accesses, int depth,
                       uint64_t y)
{
    uintptr_t acc = 0;
    for (size_t a = 0; a < accesses; a++) {
        const struct node *p = &nodes[seed_rand(&y) % n];
        for (int l = 0; l < depth; l++)
            p = p->next;
        acc += (uintptr_t)p;
    }
    return acc;
}

/* The simulated run: what `seed --chase-sim DEPTH` executes under
 * cachegrind. Its working set is small (the simulation runs some fifty
 * times slower than the CPU) but still far beyond any L1d. */
#define SIM_NODES ((size_t)1 << 18)
#define SIM_ACCESSES ((size_t)20000)

int seed_chase_sim(int depth)
{
    struct node *nodes = aligned_alloc(64, SIM_NODES * sizeof *nodes);
    size_t *perm = malloc(SIM_NODES * sizeof *perm);
    if (nodes == NULL || perm == NULL) {
        free(nodes);
        free(perm);
        return 3;
    }
    link_cycle(nodes, perm, SIM_NODES);
    sink += chase(nodes, SIM_NODES, SIM_ACCESSES, depth, 0x9E3779B97F4A7C15ull);
    free(perm);
    free(nodes);
    return 0;
}

/* Runs this program's --chase-sim DEPTH under cachegrind and returns its
 * simulated D1 read misses, or -1 when valgrind or the program cannot be
 * run. */
static long long cachegrind_d1_reads(int depth)
{
    char exe[1024], cmd[1400], line[512];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return -1;
    exe[len] = '\0';
    if (strchr(exe, '\'') != NULL)
        return -1;
    snprintf(cmd, sizeof cmd,
             "valgrind --tool=cachegrind --cache-sim=yes --cachegrind-out-file=/dev/null "
             "'%s' seed --chase-sim %d 2>&1 >/dev/null",
             exe, depth);
    FILE *f = popen(cmd, "r");
    if (f == NULL)
        return -1;
    long long reads = -1;
    while (fgets(line, sizeof line, f) != NULL) {
        char *at = strstr(line, "D1  misses:");
        char *paren = at != NULL ? strchr(at, '(') : NULL;
        if (paren == NULL)
            continue;
        long long v = 0;
        int digits = 0;
        for (char *c = paren + 1; *c != '\0' && *c != 'r'; c++) {
            if (*c >= '0' && *c <= '9') {
                v = v * 10 + (*c - '0');
                digits++;
            }
        }
        if (digits > 0)
            reads = v;
    }
    return pclose(f) == 0 ? reads : -1;
}

static size_t llc_bytes(void)
{
    long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    return l3 > 0 ? (size_t)l3 : (size_t)32 << 20;
}

void seed_table_chase(const struct seed_opts *o, struct seed_table *t)
{
    size_t llc = llc_bytes();
    /* Some virtual machines report a last-level cache of hundreds of MiB;
     * the full run still caps the working set at 1 GiB, and the table
     * states both sizes so a working set below the reported cache shows. */
    size_t ws = (o->quick ? 2 : 4) * llc, cap = (size_t)(o->quick ? 64 : 1024) << 20;
    if (ws > cap)
        ws = cap;
    if (ws < ((size_t)16 << 20))
        ws = (size_t)16 << 20;
    size_t n = ws / sizeof(struct node), accesses = o->quick ? 100000 : 1000000;
    t->number = 1;
    t->key = "chase";
    t->title = "Pointer chasing by depth";
    t->cols[0] = "depth";
    t->cols[1] = "ns_per_access";
    t->cols[2] = "ns_per_level";
    t->cols[3] = "l1d_misses_per_access";
    t->ncols = 4;
    int fd = l1d_open();
    char counters[320];
    if (fd >= 0)
        snprintf(counters, sizeof counters,
                 "L1d read misses from the hardware counter (perf_event_open)");
    else
        snprintf(counters, sizeof counters,
                 "counters unavailable on this machine (perf_event_open: %s), misses not "
                 "reported",
                 strerror(-fd));
    /* Without counters, the full run asks cachegrind for simulated misses
     * (a run at depth 0 gives the baseline of setting up the cycle). */
    int use_sim = fd < 0 && !o->quick;
    long long sim_base = use_sim ? cachegrind_d1_reads(0) : -1;
    if (use_sim && sim_base < 0)
        use_sim = 0;
    if (use_sim)
        snprintf(counters, sizeof counters,
                 "CPU counters unavailable on this machine (perf_event_open: %s); L1d read "
                 "misses are cachegrind's simulated D1 misses over %zu accesses in a %zu MiB "
                 "cycle, less a depth-0 run",
                 strerror(-fd), SIM_ACCESSES, (SIM_NODES * 64) >> 20);
    else if (fd < 0)
        snprintf(counters, sizeof counters,
                 "counters unavailable on this machine (perf_event_open: %s)%s, misses not "
                 "reported",
                 strerror(-fd), o->quick ? " and cachegrind not run with --quick"
                                         : " and cachegrind could not run");
    snprintf(t->measured, sizeof t->measured,
             "%zu accesses per depth, each following 2, 5 or 8 dependent pointers through "
             "one random cycle of %zu 64-byte nodes (%zu MiB; the last-level cache this CPU "
             "reports is %zu MiB%s); %s.",
             accesses, n, ws >> 20, llc >> 20,
             ws > llc ? "" : ", so part of the working set may stay cached", counters);
    struct node *nodes = aligned_alloc(64, n * sizeof *nodes);
    size_t *perm = malloc(n * sizeof *perm);
    if (nodes == NULL || perm == NULL) {
        snprintf(t->verdict, sizeof t->verdict, "could not allocate %zu MiB", ws >> 20);
        goto out;
    }
    link_cycle(nodes, perm, n);
    static const int depths[3] = { 2, 5, 8 };
    for (int d = 0; d < 3; d++) {
        long long misses = -1;
        if (fd >= 0) {
            ioctl(fd, PERF_EVENT_IOC_RESET, 0);
            ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
        }
        uint64_t t0 = oomkit__bench_now_ns();
        uintptr_t acc = chase(nodes, n, accesses, depths[d], 0x9E3779B97F4A7C15ull + (uint64_t)d);
        uint64_t dt = oomkit__bench_now_ns() - t0;
        if (fd >= 0) {
            ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
            long long c;
            if (read(fd, &c, sizeof c) == (ssize_t)sizeof c)
                misses = c;
        }
        sink += acc;
        double ns = (double)dt / (double)accesses;
        double per = misses < 0 ? -1.0 : (double)misses / (double)accesses;
        if (use_sim) {
            /* Setup misses cancel out against the depth-0 run. */
            long long m = cachegrind_d1_reads(depths[d]);
            per = m < 0 || sim_base < 0 ? -1.0 : (double)(m - sim_base) / (double)SIM_ACCESSES;
        }
        double v[4] = { depths[d], ns, ns / depths[d], per };
        char label[32];
        snprintf(label, sizeof label, "depth %d", depths[d]);
        seed_row_add(t, label, v);
    }
    t->ran = 1;
    const double *d2 = t->rows[0].v, *d8 = t->rows[2].v;
    t->holds = d8[1] > d2[1];
    snprintf(t->verdict, sizeof t->verdict,
             "%s: depth 8 costs %.0f ns per access against %.0f for depth 2 (%.1fx for 4x the "
             "levels)%s.",
             t->holds ? "The postmortem's claim holds" : "This machine disagrees", d8[1], d2[1],
             d8[1] / d2[1],
             fd >= 0 ? "; L1d misses per access as counted by the CPU"
             : use_sim ? "; L1d misses per access as simulated by cachegrind"
                       : "; L1d misses: counters unavailable on this machine");
out:
    if (fd >= 0)
        close(fd);
    free(perm);
    free(nodes);
}
