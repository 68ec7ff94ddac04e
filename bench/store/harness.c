/* The measuring loop of harness.h. Every measurement brackets one phase
 * with the clock, the allocation counter and the heap probe of
 * bench/bench_probe.h; nothing in the loops allocates on the harness's
 * side (the probes are made beforehand), so every allocation counted is
 * the structure's own. Results are checked as they are timed: the hits
 * must return exactly the workload's values and the misses nothing.
 *
 * Write latency is its own phase, last, on a fresh structure: timing each
 * write costs two clock reads, which would distort the build figures, and
 * a build from empty is where a table that grows by rehashing everything
 * at once stalls. */
#include "bench/store/harness.h"

#include "bench/bench_probe.h"
#include "bench/store/latency.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

/* Passes over the biggest namespace's listing; the fastest is reported. */
#define LIST_ROUNDS 3

static int fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

static int fill(const struct peer_ops *ops, void *s, const struct wl_workload *w)
{
    for (size_t i = 0; i < w->n_entries; i++) {
        struct wl_ref r = wl_entry_ref(w, i);
        if (ops->put(s, &r, w->entries[i].value) != 0)
            return -1;
    }
    return 0;
}

/* The reconcile's refill: object by object where the structure writes
 * whole objects (put_object), entry by entry otherwise, or if by_entry. */
static int refill(const struct peer_ops *ops, void *s, const struct wl_workload *w, int by_entry)
{
    if (ops->put_object == NULL || by_entry)
        return fill(ops, s, w);
    for (uint32_t o = 0; o < w->n_objects; o++)
        if (ops->put_object(s, w, o) != 0)
            return -1;
    return 0;
}

/* cycles clear + refill cycles after one warm-up; their allocations and
 * time per cycle go to *allocs and *ns. 0, or -1 with err set. */
static int reconcile(const struct peer_ops *ops, void *s, const struct wl_workload *w,
                     unsigned cycles, int by_entry, double *allocs, double *ns, char *err,
                     size_t err_cap)
{
    /* The warm-up also brings back the deleted objects, so the figures
     * describe the steady state a long-running loop lives in. */
    if (ops->clear(s) != 0 || refill(ops, s, w, by_entry) != 0)
        return fail(err, err_cap, "%s: reconcile warm-up failed", ops->name);
    uint64_t allocs0 = oomkit__bench_allocs();
    uint64_t t0 = oomkit__bench_now_ns();
    for (unsigned c = 0; c < cycles; c++)
        if (ops->clear(s) != 0 || refill(ops, s, w, by_entry) != 0)
            return fail(err, err_cap, "%s: reconcile cycle %u failed", ops->name, c + 1);
    uint64_t t1 = oomkit__bench_now_ns();
    *allocs = (double)(oomkit__bench_allocs() - allocs0) / cycles;
    *ns = (double)(t1 - t0) / cycles;
    return 0;
}

/* One pass of batched hit lookups over the same probes as the single
 * ones, in their order, PEER_BATCH per call. 0, or -1 with err set when
 * the answers are wrong. */
static int batch_pass(const struct peer_ops *ops, void *s, const struct wl_workload *w,
                      const struct wl_probes *p, double *ns, char *err, size_t err_cap)
{
    uint64_t found = 0, sum = 0;
    uint64_t t0 = oomkit__bench_now_ns();
    for (size_t i = 0; i < p->n_lookups; i += PEER_BATCH) {
        size_t n = p->n_lookups - i < PEER_BATCH ? p->n_lookups - i : PEER_BATCH;
        found += ops->get_batch(s, w, p->hits + i, n, &sum);
    }
    uint64_t t1 = oomkit__bench_now_ns();
    if (found != p->n_lookups || sum != p->hit_sum)
        return fail(err, err_cap, "%s: batched hits returned wrong answers (%llu of %zu found)",
                    ops->name, (unsigned long long)found, p->n_lookups);
    *ns = (double)(t1 - t0) / (double)p->n_lookups;
    return 0;
}

/* getrusage(who), all zero if it fails. */
static struct rusage usage(int who)
{
    struct rusage ru;
    if (getrusage(who, &ru) != 0)
        memset(&ru, 0, sizeof(ru));
    return ru;
}

/* The slow writes of a write phase's first run, by their number in the
 * sequence, and what the same writes took when the sequence ran again on
 * a fresh structure. The structures are deterministic: a slow step of
 * their own (a rehash, a big copy) recurs at the same write, a pause of
 * the machine does not. */
struct replay {
    uint64_t seq[BENCH_REPLAY_MAX];
    size_t n;          /* recorded in the first run */
    size_t next;       /* the next one to meet in the replay */
    uint64_t missed;   /* slow writes past BENCH_REPLAY_MAX, not replayed */
    uint64_t twice;       /* of those replayed, over 1 ms again with neither */
    uint64_t interrupted; /* over 1 ms again inside a page fault or a preemption */
    uint64_t worst_ns; /* the slowest of those in the replay */
};

/* What the write phase records per write beyond the histogram: whether the
 * write took a page fault (a first touch of fresh memory), lost its CPU
 * (an involuntary context switch) or waited (slept: a voluntary one, on a
 * lock or a grace period; or waited for readers by the structure's own
 * count), from counts read after each write, outside the timed window. A
 * write with neither a fault nor a preemption was the structure's own
 * work, give or take the hypervisor's pauses (the stall floor), which the
 * replay tells apart. */
struct fault_watch {
    struct lat_hist *hist;                /* the phase's histogram; NULL in the replay */
    uint64_t faults, preemptions, sleeps; /* the thread's counts after the last write */
    const struct peer_ops *ops;           /* the structure written, for its waits */
    void *s;
    uint64_t waits; /* its writer's waits for readers after the last write */
    uint64_t over_1ms, over_1ms_faulted, over_1ms_preempted, over_1ms_waited;
    uint64_t over_1ms_reader_waits; /* of the waited, those the structure counted */
    uint64_t worst_uninterrupted_ns;
    uint64_t seq; /* writes so far in this run */
    struct replay *replay;
};

/* The structure's count of its writer's waits for readers (0 without). */
static uint64_t writer_waits(const struct fault_watch *fw)
{
    return fw->ops->writer_waits != NULL ? fw->ops->writer_waits(fw->s) : 0;
}

static void watch_start(struct fault_watch *fw, struct lat_hist *hist, struct replay *replay)
{
    struct rusage ru = usage(RUSAGE_THREAD);
    *fw = (struct fault_watch){ .hist = hist,
                                .faults = (uint64_t)ru.ru_minflt,
                                .preemptions = (uint64_t)ru.ru_nivcsw,
                                .sleeps = (uint64_t)ru.ru_nvcsw,
                                .replay = replay };
}

/* In the replay only the first run's slow writes are looked at. One that
 * is slow again inside a page fault or a preemption says nothing about
 * the structure's own work. */
static void replay_write(struct replay *rp, uint64_t seq, uint64_t ns, int interrupted)
{
    if (rp->next >= rp->n || rp->seq[rp->next] != seq)
        return;
    rp->next++;
    if (ns > 1000000 && interrupted) {
        rp->interrupted++;
        return;
    }
    rp->twice += ns > 1000000;
    if (ns > rp->worst_ns)
        rp->worst_ns = ns;
}

static void watch_write(struct fault_watch *fw, uint64_t ns)
{
    uint64_t seq = fw->seq++;
    if (fw->hist != NULL)
        lat_add(fw->hist, ns);
    struct rusage ru = usage(RUSAGE_THREAD);
    int faulted = (uint64_t)ru.ru_minflt != fw->faults;
    int preempted = !faulted && (uint64_t)ru.ru_nivcsw != fw->preemptions;
    uint64_t waits = writer_waits(fw);
    int waited_for_readers = waits != fw->waits;
    int waited = (uint64_t)ru.ru_nvcsw != fw->sleeps || waited_for_readers;
    fw->faults = (uint64_t)ru.ru_minflt;
    fw->preemptions = (uint64_t)ru.ru_nivcsw;
    fw->sleeps = (uint64_t)ru.ru_nvcsw;
    fw->waits = waits;
    if (fw->hist == NULL) {
        replay_write(fw->replay, seq, ns, faulted || preempted);
        return;
    }
    if (ns <= 1000000) {
        if (!faulted && !preempted && ns > fw->worst_uninterrupted_ns)
            fw->worst_uninterrupted_ns = ns;
        return;
    }
    fw->over_1ms++;
    fw->over_1ms_faulted += faulted;
    fw->over_1ms_preempted += preempted;
    if (faulted || preempted)
        return;
    fw->over_1ms_waited += waited;
    fw->over_1ms_reader_waits += waited_for_readers;
    if (ns > fw->worst_uninterrupted_ns)
        fw->worst_uninterrupted_ns = ns;
    struct replay *rp = fw->replay;
    if (rp->n < BENCH_REPLAY_MAX)
        rp->seq[rp->n++] = seq;
    else
        rp->missed++;
}

/* Puts entry e, timing the call. The put's result. */
static int timed_put(const struct peer_ops *ops, void *s, const struct wl_workload *w, size_t e,
                     struct fault_watch *fw)
{
    struct wl_ref r = wl_entry_ref(w, e);
    uint64_t t0 = oomkit__bench_now_ns();
    int rc = ops->put(s, &r, w->entries[e].value);
    watch_write(fw, oomkit__bench_now_ns() - t0);
    return rc;
}

/* Involuntary context switches of the process so far: a write that lost
 * its CPU midway is timed with the wait (under the wall clock). */
static uint64_t preemptions(void)
{
    return (uint64_t)usage(RUSAGE_SELF).ru_nivcsw;
}

/* Minor page faults of the process so far: first touches of fresh memory,
 * which a virtual machine may serve slowly. */
static uint64_t page_faults(void)
{
    return (uint64_t)usage(RUSAGE_SELF).ru_minflt;
}

double bench_fault_floor_us(size_t pages)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t bytes = pages * (size_t)page;
    char *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return 0;
    uint64_t worst = 0;
    for (size_t i = 0; i < pages; i++) {
        uint64_t t0 = oomkit__bench_now_ns();
        ((volatile char *)p)[i * (size_t)page] = 1;
        uint64_t d = oomkit__bench_now_ns() - t0;
        if (d > worst)
            worst = d;
    }
    munmap(p, bytes);
    return (double)worst / 1e3;
}

struct bench_stall_floor bench_stall_floor(double seconds)
{
    struct bench_stall_floor f = { seconds, 0, 0 };
    uint64_t end = oomkit__bench_now_ns() + (uint64_t)(seconds * 1e9);
    uint64_t last = oomkit__bench_now_ns(), worst = 0;
    for (;;) {
        uint64_t t = oomkit__bench_now_ns();
        if (t > end)
            break;
        if (t - last > worst)
            worst = t - last;
        f.gaps_over_1ms += t - last > 1000000;
        last = t;
    }
    f.worst_us = (double)worst / 1e3;
    return f;
}

/* One run of the write sequence on a fresh structure: built from empty,
 * then a churn that deletes random objects and puts each back field by
 * field, the same sequence for every structure and every run (a fixed
 * seed). Every single put and delete-object call is timed into fw, the
 * build's into build and the churn's into churned (NULL both: a replay).
 * The content at the end equals the workload's. */
static int write_sequence(const struct peer_ops *ops, const struct wl_workload *w,
                          struct fault_watch *fw, struct lat_hist *build, struct lat_hist *churned,
                          char *err, size_t err_cap)
{
    void *s = ops->open();
    if (s == NULL)
        return fail(err, err_cap, "%s: allocation failed while opening", ops->name);
    int rc = -1;
    fw->ops = ops;
    fw->s = s;
    fw->waits = writer_waits(fw);
    fw->hist = build;
    for (size_t i = 0; i < w->n_entries; i++) {
        if (timed_put(ops, s, w, i, fw) != 0) {
            fail(err, err_cap, "%s: allocation failed in the timed build", ops->name);
            goto done;
        }
    }
    size_t churn = w->n_objects < BENCH_CHURN_OBJECTS ? w->n_objects : BENCH_CHURN_OBJECTS;
    uint64_t x = 0x9E3779B97F4A7C15u;
    fw->hist = churned;
    for (size_t c = 0; c < churn; c++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint32_t obj = (uint32_t)(x % w->n_objects);
        const struct wl_object *o = &w->objects[obj];
        uint64_t t0 = oomkit__bench_now_ns();
        int del = ops->del_object(s, w, obj);
        watch_write(fw, oomkit__bench_now_ns() - t0);
        if (del != 0) {
            fail(err, err_cap, "%s: churn could not delete %s/%s", ops->name, o->ns, o->name);
            goto done;
        }
        for (uint32_t f = 0; f < o->count; f++) {
            if (timed_put(ops, s, w, w->by_object[o->first + f], fw) != 0) {
                fail(err, err_cap, "%s: allocation failed in the churn", ops->name);
                goto done;
            }
        }
    }
    rc = 0;
done:
    ops->close(s);
    return rc;
}

/* The write-latency phase: write_sequence timed; then, when some writes
 * took over 1 ms with neither a page fault nor a preemption, the same
 * sequence again on a fresh structure to see whether those writes are
 * slow again. */
int bench_writes(const struct peer_ops *ops, const struct wl_workload *w,
                 struct bench_result *out, char *err, size_t err_cap)
{
    /* 30 KiB each: off the stack; only the harness thread measures. */
    static struct lat_hist build, churned;
    static struct replay replay;
    lat_reset(&build);
    lat_reset(&churned);
    memset(&replay, 0, sizeof(replay));
    uint64_t switches0 = preemptions(), faults0 = page_faults();
    uint64_t wall0 = oomkit__bench_now_ns();
    struct fault_watch fw;
    watch_start(&fw, &build, &replay);
    if (write_sequence(ops, w, &fw, &build, &churned, err, err_cap) != 0)
        return -1;
    out->write_phase_s = (double)(oomkit__bench_now_ns() - wall0) / 1e9;
    out->write_preemptions = preemptions() - switches0;
    out->write_page_faults = page_faults() - faults0;
    out->build_worst_write_us = (double)build.worst_ns / 1e3;
    out->churn_worst_write_us = (double)churned.worst_ns / 1e3;
    lat_merge(&build, &churned);
    out->writes_timed = build.n;
    out->worst_write_us = (double)build.worst_ns / 1e3;
    out->p999_write_us = (double)lat_quantile_ns(&build, 0.999) / 1e3;
    out->writes_over_1ms = fw.over_1ms;
    out->writes_over_1ms_faulted = fw.over_1ms_faulted;
    out->writes_over_1ms_preempted = fw.over_1ms_preempted;
    out->writes_over_1ms_waited = fw.over_1ms_waited;
    out->writes_over_1ms_reader_waits = fw.over_1ms_reader_waits;
    out->worst_uninterrupted_write_us = (double)fw.worst_uninterrupted_ns / 1e3;
    out->writes_not_replayed = replay.missed;
    if (replay.n == 0)
        return 0;
    watch_start(&fw, NULL, &replay);
    if (write_sequence(ops, w, &fw, NULL, NULL, err, err_cap) != 0)
        return -1;
    out->writes_replayed = replay.n;
    out->writes_over_1ms_twice = replay.twice;
    out->writes_replay_interrupted = replay.interrupted;
    out->worst_replayed_write_us = (double)replay.worst_ns / 1e3;
    return 0;
}

int bench_build(const struct peer_ops *ops, const struct wl_workload *w, struct bench_result *out,
                void **handle, char *err, size_t err_cap)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->name, sizeof(out->name), "%s", ops->name);
    out->batch_hit_ns = NAN;
    out->hit_ns = out->miss_ns = NAN;
    double n = (double)w->n_entries;

    /* Build: everything the structure allocates from empty to full. */
    uint64_t bytes0 = oomkit__bench_heap_bytes();
    uint64_t allocs0 = oomkit__bench_allocs();
    uint64_t t0 = oomkit__bench_now_ns();
    void *s = ops->open();
    if (s == NULL || fill(ops, s, w) != 0) {
        if (s != NULL)
            ops->close(s);
        return fail(err, err_cap, "%s: allocation failed while building", ops->name);
    }
    uint64_t t1 = oomkit__bench_now_ns();
    /* What the built structure holds: a structure that frees only once
     * readers have left (the store, within a bound of up to 1 MiB however
     * small it is) frees it now, or the figure would depend on when its
     * grace-period thread last ran. How much waited is reported apart. */
    out->retired_bytes = ops->reclaim ? ops->reclaim(s) : 0;
    uint64_t allocs1 = oomkit__bench_allocs();
    uint64_t bytes1 = oomkit__bench_heap_bytes();
    out->bytes_total = bytes1 > bytes0 ? bytes1 - bytes0 : 0;
    out->bytes_per_entry = (double)out->bytes_total / n;
    out->allocs_per_entry = (double)(allocs1 - allocs0) / n;
    out->build_ns_per_entry = (double)(t1 - t0) / n;
    out->self_bytes = ops->self_bytes ? ops->self_bytes(s) : 0;
    *handle = s;
    return 0;
}

/* The smaller of a kept figure and a new one (a NAN kept figure is none). */
static double fastest(double kept, double ns)
{
    return isnan(kept) || ns < kept ? ns : kept;
}

int bench_lookup_pass(const struct peer_ops *ops, void *s, const struct wl_workload *w,
                      const struct wl_probes *p, struct bench_result *out, char *err,
                      size_t err_cap)
{
    if (p->n_lookups == 0)
        return 0;
    uint64_t found = 0, sum = 0;
    uint64_t t0 = oomkit__bench_now_ns();
    for (size_t i = 0; i < p->n_lookups; i++) {
        struct wl_ref r = wl_entry_ref(w, p->hits[i]);
        int64_t v;
        if (ops->get(s, &r, &v)) {
            found++;
            sum += (uint64_t)v;
        }
    }
    uint64_t t1 = oomkit__bench_now_ns();
    if (found != p->n_lookups || sum != p->hit_sum)
        return fail(err, err_cap, "%s: hits returned wrong answers (%llu of %zu found)",
                    ops->name, (unsigned long long)found, p->n_lookups);
    out->hit_ns = fastest(out->hit_ns, (double)(t1 - t0) / (double)p->n_lookups);

    if (ops->get_batch != NULL) {
        double batch_ns = 0;
        if (batch_pass(ops, s, w, p, &batch_ns, err, err_cap) != 0)
            return -1;
        out->batch_hit_ns = fastest(out->batch_hit_ns, batch_ns);
    }

    found = 0;
    t0 = oomkit__bench_now_ns();
    for (size_t i = 0; i < p->n_lookups; i++) {
        int64_t v;
        found += (uint64_t)ops->get(s, &p->misses[i], &v);
    }
    t1 = oomkit__bench_now_ns();
    if (found != 0)
        return fail(err, err_cap, "%s: %llu misses found a value", ops->name,
                    (unsigned long long)found);
    out->miss_ns = fastest(out->miss_ns, (double)(t1 - t0) / (double)p->n_lookups);
    return 0;
}

int bench_finish(const struct peer_ops *ops, void *s, const struct wl_workload *w,
                 const struct wl_probes *p, unsigned reconcile_cycles, struct bench_result *out,
                 char *err, size_t err_cap)
{
    int rc = -1;
    uint64_t t0, t1;
    /* List the biggest namespace: the fastest of LIST_ROUNDS passes. */
    const struct wl_object *big = &w->objects[w->biggest_ns_obj];
    uint64_t best = UINT64_MAX;
    for (int round = 0; round < LIST_ROUNDS; round++) {
        t0 = oomkit__bench_now_ns();
        uint64_t names = ops->list_namespace(s, big->ns, big->ns_len);
        t1 = oomkit__bench_now_ns();
        if (names < w->biggest_ns_objects) {
            fail(err, err_cap, "%s: listing namespace %s visited %llu names, expected %llu",
                 ops->name, big->ns, (unsigned long long)names,
                 (unsigned long long)w->biggest_ns_objects);
            goto done;
        }
        if (t1 - t0 < best)
            best = t1 - t0;
    }
    out->list_namespace_ns = (double)best;

    if (p->n_deletes > 0) {
        t0 = oomkit__bench_now_ns();
        for (size_t i = 0; i < p->n_deletes; i++) {
            if (ops->del_object(s, w, p->deletes[i]) != 0) {
                fail(err, err_cap, "%s: deleting object %s/%s failed", ops->name,
                     w->objects[p->deletes[i]].ns, w->objects[p->deletes[i]].name);
                goto done;
            }
        }
        t1 = oomkit__bench_now_ns();
        out->delete_object_ns = (double)(t1 - t0) / (double)p->n_deletes;
    }

    /* Reconcile: clear and refill the whole state; a structure that
     * writes whole objects is also timed refilling entry by entry. */
    if (reconcile_cycles > 0) {
        if (reconcile(ops, s, w, reconcile_cycles, 0, &out->reconcile_allocs_per_cycle,
                      &out->reconcile_ns_per_cycle, err, err_cap) != 0)
            goto done;
        out->reconcile_entry_allocs_per_cycle = out->reconcile_allocs_per_cycle;
        out->reconcile_entry_ns_per_cycle = out->reconcile_ns_per_cycle;
        if (ops->put_object != NULL &&
            reconcile(ops, s, w, reconcile_cycles, 1, &out->reconcile_entry_allocs_per_cycle,
                      &out->reconcile_entry_ns_per_cycle, err, err_cap) != 0)
            goto done;
    }
    ops->close(s);
    return 0;
done:
    ops->close(s);
    return rc;
}
