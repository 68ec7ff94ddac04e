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
    char counters[160];
    if (fd >= 0)
        snprintf(counters, sizeof counters,
                 "L1d read misses from the hardware counter (perf_event_open)");
    else
        snprintf(counters, sizeof counters,
                 "counters unavailable on this machine (perf_event_open: %s), misses not "
                 "reported",
                 strerror(-fd));
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
    uint64_t x = 0x2545F4914F6CDD1Dull;
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    /* Sattolo: one cycle through every node, so no chase gets stuck in a
     * short loop that fits in cache. */
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(seed_rand(&x) % i), tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
    for (size_t i = 0; i < n; i++)
        nodes[perm[i]].next = &nodes[perm[(i + 1) % n]];
    static const int depths[3] = { 2, 5, 8 };
    for (int d = 0; d < 3; d++) {
        uint64_t y = 0x9E3779B97F4A7C15ull + (uint64_t)d;
        uintptr_t acc = 0;
        long long misses = -1;
        if (fd >= 0) {
            ioctl(fd, PERF_EVENT_IOC_RESET, 0);
            ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
        }
        uint64_t t0 = oomkit__bench_now_ns();
        for (size_t a = 0; a < accesses; a++) {
            const struct node *p = &nodes[seed_rand(&y) % n];
            for (int l = 0; l < depths[d]; l++)
                p = p->next;
            acc += (uintptr_t)p;
        }
        uint64_t dt = oomkit__bench_now_ns() - t0;
        if (fd >= 0) {
            ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
            long long c;
            if (read(fd, &c, sizeof c) == (ssize_t)sizeof c)
                misses = c;
        }
        sink += acc;
        double ns = (double)dt / (double)accesses;
        double v[4] = { depths[d], ns, ns / depths[d],
                        misses < 0 ? -1.0 : (double)misses / (double)accesses };
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
             fd >= 0 ? "; L1d misses per access rise with depth as counted by the CPU"
                     : "; L1d misses: counters unavailable on this machine");
out:
    if (fd >= 0)
        close(fd);
    free(perm);
    free(nodes);
}
