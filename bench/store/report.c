/* The three outputs of report.h and the merging of other peers' lines.
 * Every figure is lower-is-better, so each ratio is peer / store: above 1
 * the store needs less (memory, allocations, time). */
#include "bench/store/report.h"

#include "bench/bench_probe.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* One figure: its JSON name, its table heading, its Markdown heading, the
 * scale from the stored unit to the shown one and the shown decimals. */
struct column {
    const char *json;
    const char *head;
    const char *md;
    size_t offset;
    double scale;
    int decimals;
    int json_decimals;
};

#define COL(field, h, md, scale, dec, jdec) \
    { #field, h, md, offsetof(struct bench_result, field), scale, dec, jdec }
static const struct column columns[] = {
    COL(bytes_per_entry, "B/entry", "bytes/entry", 1, 1, 3),
    COL(allocs_per_entry, "allocs/entry", "allocs/entry", 1, 4, 5),
    COL(build_ns_per_entry, "build ns/entry", "build ns/entry", 1, 0, 1),
    COL(hit_ns, "hit ns", "hit ns", 1, 0, 1),
    COL(batch_hit_ns, "batch ns", "get_many hit ns", 1, 0, 1),
    COL(miss_ns, "miss ns", "miss ns", 1, 0, 1),
    COL(delete_object_ns, "del-obj ns", "delete object ns", 1, 0, 1),
    COL(list_namespace_ns, "list-ns us", "list biggest ns, µs", 1e-3, 1, 0),
    COL(reconcile_allocs_per_cycle, "recon allocs", "reconcile allocs/cycle", 1, 1, 2),
    COL(reconcile_ns_per_cycle, "recon ms", "reconcile ms/cycle", 1e-6, 1, 0),
    COL(worst_write_us, "worst wr us", "worst write µs", 1, 1, 1),
    COL(p999_write_us, "p99.9 wr us", "p99.9 write µs", 1, 1, 1),
};
#define N_COLUMNS (sizeof(columns) / sizeof(columns[0]))
/* Table cell widths, one per column. */
static const int widths[N_COLUMNS] = { 8, 12, 14, 7, 8, 7, 10, 10, 12, 9, 11, 11 };
/* Where a structure has no such figure (no batched lookup, or a merged peer
 * that did not report it). */
static const char *const DASH_TEXT = "-", *const DASH_MD = "—";

static double raw(const struct bench_result *r, size_t c)
{
    return *(const double *)((const char *)r + columns[c].offset);
}

static double shown(const struct bench_result *r, size_t c)
{
    return raw(r, c) * columns[c].scale;
}

static const struct bench_result *find(const struct report *r, const char *name)
{
    for (size_t i = 0; i < r->n_rows; i++) {
        if (strcmp(r->rows[i].name, name) == 0)
            return &r->rows[i];
    }
    return NULL;
}

static const char *STORE = "oomkit-store";

/* "4.5x", "store 0" (a ratio against zero has no number) or the dash. */
static void ratio_text(double peer, double store, const char *dash, char *buf, size_t cap)
{
    if (isnan(peer) || isnan(store))
        snprintf(buf, cap, "%s", dash);
    else if (store > 0)
        snprintf(buf, cap, peer / store >= 0.95 ? "%.1fx" : "%.2fx", peer / store);
    else
        snprintf(buf, cap, peer > 0 ? "store 0" : "both 0");
}

static void value_text(const struct bench_result *row, size_t c, const char *dash, char *buf,
                       size_t cap)
{
    double v = shown(row, c);
    if (isnan(v))
        snprintf(buf, cap, "%s", dash);
    else
        snprintf(buf, cap, "%.*f", columns[c].decimals, v);
}

static void describe_input(const struct report *r, FILE *out, const char *pre)
{
    const struct wl_workload *w = r->w;
    const struct wl_object *big = &w->objects[w->biggest_ns_obj];
    fprintf(out, "%s%zu entries, %zu objects, %zu namespaces, %zu distinct keys (%s)\n", pre,
            w->n_entries, w->n_objects, w->n_namespaces, w->n_keys, r->source);
    fprintf(out,
            "%s%zu hit and %zu miss lookups in random order, %zu objects deleted, namespace "
            "'%s' (%" PRIu64 " objects) listed, %u reconcile cycles after one warm-up\n",
            pre, r->lookups, r->lookups, r->deletes, big->ns, w->biggest_ns_objects, r->cycles);
    size_t churn = w->n_objects < BENCH_CHURN_OBJECTS ? w->n_objects : BENCH_CHURN_OBJECTS;
    fprintf(out,
            "%swrite latency: every single put and delete-object timed while building a fresh "
            "structure from empty, then deleting %zu random objects and putting their fields "
            "back\n",
            pre, churn);
    fprintf(out, "%smemory probe: %s\n", pre, oomkit__bench_probe_kind());
    fprintf(out, "%sclock: %s\n", pre,
            r->cpu_clock ? "the process's CPU time (time spent waiting for a CPU left out)"
                         : "wall time (CLOCK_MONOTONIC)");
    if (r->cpu >= 0)
        fprintf(out, "%sCPU: the measuring thread pinned to CPU %d (OOMKIT_BENCH_CPU), as were "
                     "the merged peers' measuring threads when run by bench/peers/run.sh\n",
                pre, r->cpu);
    /* Below about 95% the run waited for a CPU: say what that did to it. */
    fprintf(out, "%sCPU time / wall time while measuring: %.0f%%%s%s\n", pre,
            100 * r->cpu_share,
            r->cpu_share < 0.95 ? " (the run waited for a CPU" : "",
            r->cpu_share < 0.95 ? (r->cpu_clock ? ")" : " and its times are inflated)") : "");
    if (r->stall_floor.seconds > 0)
        fprintf(out,
                "%sstall floor: a loop doing nothing but read the clock for %.1f s (the length "
                "of %s's write phase, at least 2 s) saw a worst gap of %.1f µs and %" PRIu64
                " gap%s over 1 ms (this machine's own hiccups: no write time can be read below "
                "them)\n",
                pre, r->stall_floor.seconds, r->n_rows > 0 ? r->rows[0].name : "the first",
                r->stall_floor.worst_us, r->stall_floor.gaps_over_1ms,
                r->stall_floor.gaps_over_1ms == 1 ? "" : "s");
    if (r->fault_floor_us > 0)
        fprintf(out,
                "%spage-fault floor: the slowest first touch of %d fresh pages took %.1f µs (a "
                "write that touches a fresh page of the heap can take that long)\n",
                pre, BENCH_FAULT_PAGES, r->fault_floor_us);
}

/* The store's batched against its single lookups, one sentence. */
static void describe_batch(const struct bench_result *store, FILE *out, int md)
{
    if (store == NULL || isnan(store->batch_hit_ns) || store->batch_hit_ns <= 0)
        return;
    fprintf(out,
            md ? "\nThe store's batched lookup (`oomkit_store_get_many`, %d per call, the same "
                 "keys in the same order) takes %.1f ns per hit against %.1f ns for a single "
                 "`oomkit_store_get`: %.2fx the speed of single gets.\n"
               : "\noomkit-store get_many (%d per call, the same keys): %.1f ns per hit vs "
                 "%.1f ns for get, %.2fx the speed\n",
            PEER_BATCH, store->batch_hit_ns, store->hit_ns, store->hit_ns / store->batch_hit_ns);
}

/* The store's reconcile refilled object by object against entry by
 * entry, one sentence. */
static void describe_reconcile(const struct bench_result *store, FILE *out, int md)
{
    if (store == NULL || store->reconcile_ns_per_cycle <= 0)
        return;
    fprintf(out,
            md ? "\nThe store's reconcile refills object by object (`oomkit_store_put_fields`, "
                 "the table's figure): %.1f allocations and %.1f ms a cycle. Refilled entry by "
                 "entry (`oomkit_store_put`): %.1f allocations and %.1f ms a cycle (each new "
                 "field copies the object's block, and the copies wait for a grace period, so "
                 "the slab grows whenever more of them wait than ever before).\n"
               : "\noomkit-store reconcile by object (put_fields): %.1f allocs, %.1f ms per "
                 "cycle; entry by entry (put): %.1f allocs, %.1f ms per cycle\n",
            store->reconcile_allocs_per_cycle, store->reconcile_ns_per_cycle / 1e6,
            store->reconcile_entry_allocs_per_cycle, store->reconcile_entry_ns_per_cycle / 1e6);
}

/* Where each structure's worst write happened, build or churn, and under
 * the wall clock whether the phase lost its CPU (a write that was
 * preempted is timed with the wait). */
static void describe_writes(const struct report *r, FILE *out, const char *pre, const char *us)
{
    int first = 1;
    for (size_t i = 0; i < r->n_rows; i++) {
        const struct bench_result *row = &r->rows[i];
        if (row->merged)
            continue;
        fprintf(out, "%s%s%s: worst single write %.1f %s while building from empty, %.1f %s in "
                     "the churn; %" PRIu64 " of %" PRIu64 " writes over 1 ms, %" PRIu64
                     " of them inside a page fault and %" PRIu64 " that lost the CPU; worst "
                     "write with neither %.1f %s; %" PRIu64 " page faults in %.1f s",
                first ? "\n" : "", pre, row->name, row->build_worst_write_us, us,
                row->churn_worst_write_us, us, row->writes_over_1ms, row->writes_timed,
                row->writes_over_1ms_faulted, row->writes_over_1ms_preempted,
                row->worst_uninterrupted_write_us, us, row->write_page_faults,
                row->write_phase_s);
        first = 0;
        if (row->writes_over_1ms_waited > 0)
            fprintf(out,
                    "; %" PRIu64 " write%s with neither waited (%" PRIu64
                    " for readers by the structure's count, the rest asleep)",
                    row->writes_over_1ms_waited, row->writes_over_1ms_waited == 1 ? "" : "s",
                    row->writes_over_1ms_reader_waits);
        if (row->writes_replayed > 0)
            fprintf(out, "; the same sequence run again on a fresh structure took %.1f %s at "
                         "worst over the %" PRIu64 " write%s with neither, %" PRIu64
                         " of them over 1 ms again",
                    row->worst_replayed_write_us, us, row->writes_replayed,
                    row->writes_replayed == 1 ? "" : "s", row->writes_over_1ms_twice);
        if (row->writes_replay_interrupted > 0)
            fprintf(out, " and %" PRIu64 " inside a page fault or a preemption",
                    row->writes_replay_interrupted);
        if (row->writes_not_replayed > 0)
            fprintf(out, " (%" PRIu64 " more not replayed)", row->writes_not_replayed);
        if (!r->cpu_clock && row->write_preemptions > 0)
            fprintf(out, "; the phase lost its CPU %" PRIu64 " time%s, a worst write may include "
                         "that wait",
                    row->write_preemptions, row->write_preemptions == 1 ? "" : "s");
        fprintf(out, "\n");
    }
}

static const char *const STORE_CONC = "oomkit-store-concurrent";
static const char *const STORE_BATCHED_CONC = "oomkit-store-batched-concurrent";

/* The concurrent line of name with that many readers, or NULL. */
static const struct report_concurrent *find_concurrent(const struct report *r, const char *name,
                                                       double readers)
{
    for (size_t i = 0; i < r->n_concurrent; i++) {
        const struct report_concurrent *c = &r->concurrent[i];
        if (strcmp(c->name, name) == 0 && c->readers == readers && c->reads_per_s > 0)
            return c;
    }
    return NULL;
}

/* For each reader count run both ways, the store's batched readers against
 * its single-get readers, one line each (bench/peers/concurrent batches
 * PEER_BATCH keys per call too). */
static void describe_concurrent_batch(const struct report *r, FILE *out, const char *pre)
{
    int first = 1;
    for (size_t i = 0; i < r->n_concurrent; i++) {
        const struct report_concurrent *b = &r->concurrent[i];
        if (strcmp(b->name, STORE_BATCHED_CONC) != 0)
            continue;
        const struct report_concurrent *g = find_concurrent(r, STORE_CONC, b->readers);
        if (g == NULL)
            continue;
        fprintf(out, "%s", first ? "\n" : "");
        first = 0;
        fprintf(out,
                "%soomkit-store, %.0f reader%s: get_many in batches of %d looks up %.0f "
                "keys/s, %.2fx the %.0f of single gets\n",
                pre, b->readers, b->readers == 1 ? "" : "s", PEER_BATCH, b->reads_per_s,
                b->reads_per_s / g->reads_per_s, g->reads_per_s);
    }
}

void report_table(const struct report *r, FILE *out)
{
    char cell[64];
    fprintf(out, "oomkit bench store: ");
    describe_input(r, out, "");
    fprintf(out, "\n%-22s", "structure");
    for (size_t c = 0; c < N_COLUMNS; c++)
        fprintf(out, " %*s", widths[c], columns[c].head);
    fprintf(out, "\n");
    for (size_t i = 0; i < r->n_rows; i++) {
        fprintf(out, "%-22s", r->rows[i].name);
        for (size_t c = 0; c < N_COLUMNS; c++) {
            value_text(&r->rows[i], c, DASH_TEXT, cell, sizeof(cell));
            fprintf(out, " %*s", widths[c], cell);
        }
        fprintf(out, "\n");
    }
    const struct bench_result *store = find(r, STORE);
    if (store != NULL && r->n_rows > 1) {
        fprintf(out, "\nratio peer / oomkit-store (above 1: the store needs less):\n");
        for (size_t i = 0; i < r->n_rows; i++) {
            if (&r->rows[i] == store)
                continue;
            fprintf(out, "%-22s", r->rows[i].name);
            for (size_t c = 0; c < N_COLUMNS; c++) {
                ratio_text(raw(&r->rows[i], c), raw(store, c), DASH_TEXT, cell, sizeof(cell));
                fprintf(out, " %*s", widths[c], cell);
            }
            fprintf(out, "\n");
        }
    }
    if (store != NULL && store->self_bytes > 0)
        fprintf(out,
                "\noomkit-store's own accounting (stats.bytes_total): %.1f B/entry; read after "
                "oomkit_store_reclaim freed the %.1f B/entry it removed while growing and kept "
                "for readers to leave\n",
                (double)store->self_bytes / (double)r->w->n_entries,
                (double)store->retired_bytes / (double)r->w->n_entries);
    describe_batch(store, out, 0);
    describe_reconcile(store, out, 0);
    describe_writes(r, out, "", "us");
    if (r->n_concurrent > 0)
        fprintf(out, "\nconcurrent reads, 1 writer (bench/peers):\n%-32s %7s %14s %10s %15s\n",
                "structure", "readers", "reads/s", "writes/s", "worst write us");
    for (size_t i = 0; i < r->n_concurrent; i++) {
        const struct report_concurrent *c = &r->concurrent[i];
        fprintf(out, "%-32s %7.0f %14.0f %10.0f %15.1f\n", c->name, c->readers, c->reads_per_s,
                c->writes_per_s, c->worst_write_us);
    }
    describe_concurrent_batch(r, out, "");
    for (size_t i = 0; i < r->n_notes; i++)
        fprintf(out, "%s%s\n", i == 0 ? "\nother peers:\n" : "", r->notes[i]);
}

static void md_header(FILE *out)
{
    fprintf(out, "| structure |");
    for (size_t c = 0; c < N_COLUMNS; c++)
        fprintf(out, " %s |", columns[c].md);
    fprintf(out, "\n|---|");
    for (size_t c = 0; c < N_COLUMNS; c++)
        fprintf(out, "---:|");
    fprintf(out, "\n");
}

/* The C peers the hit-speed target names (merged peers are other
 * languages). */
static int is_c_peer(const struct bench_result *row)
{
    return !row->merged && strcmp(row->name, STORE) != 0;
}

/* Whether a time beats another; within 5% is a tie, closer than this
 * machine's run-to-run noise. */
static const char *faster_verdict(double ns, double other_ns)
{
    return ns < 0.95 * other_ns ? "yes" : ns <= 1.05 * other_ns ? "tie (within 5%)" : "**no**";
}

/* The read-throughput targets, for each way the store's readers ran:
 * scaling from one reader to two, and reads per reader thread against Go's
 * sync.Map with as many readers. Beside the latter, the same ratio for the
 * ideal structure's readers (backend_ideal.c): no structure can reach more
 * here, so a target above that ratio is beyond the machine. */
static void md_concurrent_targets(const struct report *r, FILE *out)
{
    const char *const ways[] = { STORE_CONC, STORE_BATCHED_CONC };
    const char *const ceilings[] = { "ideal-concurrent", "ideal-batched-concurrent" };
    const char *const how[] = { "single gets", "get_many" };
    for (size_t w = 0; w < 2; w++) {
        const struct report_concurrent *one = find_concurrent(r, ways[w], 1);
        const struct report_concurrent *two = find_concurrent(r, ways[w], 2);
        if (one != NULL && two != NULL) {
            double x = two->reads_per_s / one->reads_per_s;
            fprintf(out, "| 2 readers ≥ 1.8x one reader, with a writer (%s) | %.2fx | %s |\n",
                    how[w], x, x >= 1.8 ? "yes" : "**no**");
        }
        for (size_t i = 0; i < r->n_concurrent; i++) {
            const struct report_concurrent *c = &r->concurrent[i];
            if (strcmp(c->name, ways[w]) != 0 || !(c->reads_per_s > 0) || !(c->readers > 0))
                continue;
            const struct report_concurrent *g =
                find_concurrent(r, "go-syncmap-concurrent", c->readers);
            if (g == NULL)
                continue;
            double mine = c->reads_per_s / c->readers, theirs = g->reads_per_s / g->readers;
            const struct report_concurrent *q = find_concurrent(r, ceilings[w], c->readers);
            double ceiling = q != NULL ? q->reads_per_s / q->readers / theirs : 0;
            char beside[96] = "";
            if (q != NULL)
                snprintf(beside, sizeof beside, "; an ideal structure: %.2fx", ceiling);
            const char *verdict = mine >= 5 * theirs ? "yes"
                                  : q != NULL && ceiling < 5
                                      ? "**no**, out of reach on this machine"
                                      : "**no**";
            fprintf(out,
                    "| ≥ 5x go-syncmap's reads per reader thread (%s, %.0f reader%s) | %.2fx "
                    "(%.0f vs %.0f reads/s%s) | %s |\n",
                    how[w], c->readers, c->readers == 1 ? "" : "s", mine / theirs, mine, theirs,
                    beside, verdict);
        }
    }
}

/* The store's writes over 1 ms with neither a page fault nor a preemption:
 * its own work, plus the hypervisor's pauses, which a guest cannot see (no
 * steal time here). The replay tells them apart: the store is
 * deterministic, so a slow step of its own is slow again at the same write
 * of a second run. Met when there is no such write, or when none of them
 * waited and each was fast in the replay. */
static void md_own_writes_target(const struct bench_result *store, const struct report *r,
                                 FILE *out)
{
    uint64_t own = store->writes_over_1ms - store->writes_over_1ms_faulted -
                   store->writes_over_1ms_preempted;
    fprintf(out,
            "| no write over 1 ms outside a page fault or a preemption (the store's own work) | "
            "worst %.1f µs; %" PRIu64 " write%s over 1 ms with neither",
            store->worst_uninterrupted_write_us, own, own == 1 ? "" : "s");
    if (store->writes_over_1ms_waited > 0)
        fprintf(out, ", %" PRIu64 " of them waiting (%" PRIu64 " for readers, the rest asleep)",
                store->writes_over_1ms_waited, store->writes_over_1ms_reader_waits);
    if (store->writes_replayed > 0)
        fprintf(out,
                "; run again on a fresh store, the same writes took at most %.1f µs, %" PRIu64
                " over 1 ms again",
                store->worst_replayed_write_us, store->writes_over_1ms_twice);
    if (store->writes_replay_interrupted > 0)
        fprintf(out, ", %" PRIu64 " slow again inside a page fault or a preemption",
                store->writes_replay_interrupted);
    if (store->writes_not_replayed > 0)
        fprintf(out, " (%" PRIu64 " not replayed)", store->writes_not_replayed);
    if (r->stall_floor.seconds > 0)
        fprintf(out, "; a bare clock loop of %.1f s had %" PRIu64 " gap%s over 1 ms",
                r->stall_floor.seconds, r->stall_floor.gaps_over_1ms,
                r->stall_floor.gaps_over_1ms == 1 ? "" : "s");
    int replayed_fast = store->writes_over_1ms_waited == 0 && store->writes_not_replayed == 0 &&
                        store->writes_replayed == own && store->writes_over_1ms_twice == 0 &&
                        store->writes_replay_interrupted == 0;
    fprintf(out, " | %s |\n",
            own == 0         ? "yes"
            : replayed_fast ? "yes: none was slow again (the machine's pauses)"
                            : "**no**");
}

/* The targets set against the real peers (bench/peers/, merged in): a row
 * for each peer that ran. */
static void md_peer_targets(const struct report *r, const struct bench_result *store, FILE *out)
{
    static const struct {
        const char *peer;
        double factor;
    } less[] = { { "go-nested", 4 }, { "go-flat", 5 }, { "go-syncmap", 8 } };
    for (size_t i = 0; i < sizeof(less) / sizeof(less[0]); i++) {
        const struct bench_result *row = find(r, less[i].peer);
        if (row == NULL || !(row->bytes_per_entry > 0))
            continue;
        double x = row->bytes_per_entry / store->bytes_per_entry;
        fprintf(out, "| ≥ %.0fx less memory than %s | %.2fx (%.1f vs %.1f B/entry) | %s |\n",
                less[i].factor, less[i].peer, x, row->bytes_per_entry, store->bytes_per_entry,
                x >= less[i].factor ? "yes" : "**no**");
    }
    const struct bench_result *smallest = NULL;
    for (size_t i = 0; i < r->n_rows; i++) {
        const struct bench_result *row = &r->rows[i];
        if (row != store && (smallest == NULL || row->bytes_per_entry < smallest->bytes_per_entry))
            smallest = row;
    }
    if (smallest != NULL && smallest->merged)
        fprintf(out, "| less memory than every peer, other languages included | smallest peer "
                     "%.1f B/entry (%s) | %s |\n",
                smallest->bytes_per_entry, smallest->name,
                store->bytes_per_entry < smallest->bytes_per_entry ? "yes" : "**no**");
    const struct bench_result *flat = find(r, "go-flat");
    if (flat != NULL && flat->hit_ns > 0 && r->hit_rounds_median > 0)
        fprintf(out,
                "| random hit faster than go-flat | store %.0f ns, go-flat %.0f ns in the run above; "
                "median go-flat / store %.2f over the alternating rounds below | %s |\n",
                store->hit_ns, flat->hit_ns, r->hit_rounds_median,
                faster_verdict(1.0, r->hit_rounds_median));
    else if (flat != NULL && flat->hit_ns > 0)
        fprintf(out, "| random hit faster than go-flat | store %.0f ns, go-flat %.0f ns | %s |\n",
                store->hit_ns, flat->hit_ns, faster_verdict(store->hit_ns, flat->hit_ns));
    if (store->batch_hit_ns > 0) {
        double x = store->hit_ns / store->batch_hit_ns;
        fprintf(out, "| get_many ≥ 2x single gets (set for 1M objects) | %.2fx (%.0f vs %.0f ns) "
                     "| %s |\n",
                x, store->batch_hit_ns, store->hit_ns, x >= 2 ? "yes" : "**no**");
    }
    md_concurrent_targets(r, out);
}

static void md_targets(const struct report *r, FILE *out)
{
    const struct bench_result *store = find(r, STORE);
    const struct bench_result *nested = find(r, "glib-nested");
    if (store == NULL)
        return;
    fprintf(out, "\n| target | measured | met |\n|---|---|---|\n");
    fprintf(out, "| store bytes per entry ≤ 20, everything included | %.1f | %s |\n",
            store->bytes_per_entry, store->bytes_per_entry <= 20 ? "yes" : "**no**");
    if (nested != NULL) {
        double ratio = nested->bytes_per_entry / store->bytes_per_entry;
        fprintf(out, "| ≥ 4x less memory than glib-nested | %.2fx (%.1f vs %.1f B/entry) | %s |\n",
                ratio, nested->bytes_per_entry, store->bytes_per_entry,
                ratio >= 4 ? "yes" : "**no**");
    }
    const struct bench_result *fastest = NULL;
    int less_memory = 1;
    for (size_t i = 0; i < r->n_rows; i++) {
        const struct bench_result *row = &r->rows[i];
        if (!is_c_peer(row))
            continue;
        if (fastest == NULL || row->hit_ns < fastest->hit_ns)
            fastest = row;
        less_memory &= store->bytes_per_entry < row->bytes_per_entry;
    }
    if (fastest != NULL) {
        fprintf(out, "| less memory than every C peer | %s | %s |\n",
                less_memory ? "every C peer holds more" : "a C peer holds less",
                less_memory ? "yes" : "**no**");
        fprintf(out,
                "| random hit faster than every C peer | store %.0f ns, fastest C peer %.0f ns "
                "(%s) | %s |\n",
                store->hit_ns, fastest->hit_ns, fastest->name,
                faster_verdict(store->hit_ns, fastest->hit_ns));
    }
    /* A table that grows by rehashing everything at once stalls one write
     * for as long as the rehash takes; the store must not. */
    fprintf(out,
            "| no single write over 1 ms (build from empty, then churn; set for 1M objects) | "
            "worst %.1f µs, p99.9 %.1f µs, %" PRIu64 " of %" PRIu64 " writes over 1 ms "
            "(page-fault floor %.1f µs) | %s |\n",
            store->worst_write_us, store->p999_write_us, store->writes_over_1ms,
            store->writes_timed, r->fault_floor_us,
            store->worst_write_us <= 1000 ? "yes" : "**no**");
    /* The same without the writes that waited on the kernel, for a fresh
     * page or for the CPU. */
    md_own_writes_target(store, r, out);
    fprintf(out, "| allocations per entry ≤ 0.2 | %.4f | %s |\n", store->allocs_per_entry,
            store->allocs_per_entry <= 0.2 ? "yes" : "**no**");
    fprintf(out,
            "| 0 allocations per reconcile cycle (steady state) | %.1f refilling by object "
            "(put_fields); %.1f entry by entry (put) | %s |\n",
            store->reconcile_allocs_per_cycle, store->reconcile_entry_allocs_per_cycle,
            store->reconcile_allocs_per_cycle == 0 ? "yes" : "**no**");
    md_peer_targets(r, store, out);
}

void report_markdown(const struct report *r, FILE *out)
{
    char cell[64];
    describe_input(r, out, "- ");
    fprintf(out, "\n");
    md_header(out);
    for (size_t i = 0; i < r->n_rows; i++) {
        fprintf(out, "| %s%s |", r->rows[i].name, r->rows[i].merged ? " †" : "");
        for (size_t c = 0; c < N_COLUMNS; c++) {
            value_text(&r->rows[i], c, DASH_MD, cell, sizeof(cell));
            fprintf(out, " %s |", cell);
        }
        fprintf(out, "\n");
    }
    const struct bench_result *store = find(r, STORE);
    if (store != NULL && r->n_rows > 1) {
        fprintf(out, "\nRatio peer / oomkit-store (above 1: the store needs less):\n\n");
        md_header(out);
        for (size_t i = 0; i < r->n_rows; i++) {
            if (&r->rows[i] == store)
                continue;
            fprintf(out, "| %s |", r->rows[i].name);
            for (size_t c = 0; c < N_COLUMNS; c++) {
                ratio_text(raw(&r->rows[i], c), raw(store, c), DASH_MD, cell, sizeof(cell));
                fprintf(out, " %s |", cell);
            }
            fprintf(out, "\n");
        }
    }
    int any_merged = 0;
    for (size_t i = 0; i < r->n_rows; i++)
        any_merged |= r->rows[i].merged;
    if (any_merged)
        fprintf(out, "\n† measured by its own program (bench/peers/) on the same file and merged "
                     "in; its allocation counts come from its own runtime.\n");
    if (store != NULL && store->self_bytes > 0)
        fprintf(out,
                "\nThe store's own accounting (`stats.bytes_total`) says %.1f B/entry. Both "
                "figures are read after `oomkit_store_reclaim` freed the %.1f B/entry the store "
                "removed while growing and kept for readers to leave (its writes free that "
                "within a bound; the peers free at once).\n",
                (double)store->self_bytes / (double)r->w->n_entries,
                (double)store->retired_bytes / (double)r->w->n_entries);
    describe_batch(store, out, 1);
    describe_reconcile(store, out, 1);
    describe_writes(r, out, "- ", "µs");
    md_targets(r, out);
    if (r->n_concurrent > 0)
        fprintf(out, "\nConcurrent reads against one writer (bench/peers/, same file). Reads/s "
                     "counts keys looked up (a batched call counts each of its keys); the "
                     "worst write is the slowest single put or delete of the writer, timed "
                     "around that call alone for every structure. The ideal rows are a "
                     "ceiling, not a peer: the values alone in one array, each query hashed "
                     "straight to its slot, no keys kept or checked "
                     "(bench/peers/concurrent/backend_ideal.c); no structure can read faster "
                     "in this harness on this machine. Each program ran several rounds, "
                     "taking turns with the others; reads/s is the median round, beside "
                     "the range of all rounds, and the worst write is the worst of all "
                     "rounds:\n\n"
                     "| structure | readers | reads/s | range over rounds | writes/s | worst "
                     "write µs |\n"
                     "|---|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < r->n_concurrent; i++) {
        const struct report_concurrent *c = &r->concurrent[i];
        char range[64] = "—";
        if (c->rounds > 0 && !isnan(c->reads_min) && !isnan(c->reads_max))
            snprintf(range, sizeof range, "%.0f–%.0f (%.0f)", c->reads_min, c->reads_max,
                     c->rounds);
        fprintf(out, "| %s | %.0f | %.0f | %s | %.0f | %.1f |\n", c->name, c->readers,
                c->reads_per_s, range, c->writes_per_s, c->worst_write_us);
    }
    describe_concurrent_batch(r, out, "- ");
    for (size_t i = 0; i < r->n_notes; i++)
        fprintf(out, "%s- %s\n", i == 0 ? "\nOther peers (bench/peers/):\n\n" : "", r->notes[i]);
}

static json_object *jnum(double v, int decimals)
{
    if (isnan(v))
        return NULL; /* null: the peer did not report it */
    char text[64];
    snprintf(text, sizeof(text), "%.*f", decimals, v);
    return json_object_new_double_s(v, text);
}

void report_json(const struct report *r, FILE *out)
{
    json_object *root = json_object_new_object();
    json_object_object_add(root, "entries", json_object_new_int64((int64_t)r->w->n_entries));
    if (r->stall_floor.seconds > 0) {
        json_object_object_add(root, "stall_floor_us", jnum(r->stall_floor.worst_us, 1));
        json_object_object_add(root, "stall_floor_s", jnum(r->stall_floor.seconds, 1));
        json_object_object_add(root, "stall_floor_gaps_over_1ms",
                               json_object_new_int64((int64_t)r->stall_floor.gaps_over_1ms));
    }
    if (r->fault_floor_us > 0)
        json_object_object_add(root, "fault_floor_us", jnum(r->fault_floor_us, 1));
    if (r->cpu >= 0)
        json_object_object_add(root, "cpu", json_object_new_int(r->cpu));
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < r->n_rows; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(r->rows[i].name));
        for (size_t c = 0; c < N_COLUMNS; c++)
            json_object_object_add(o, columns[c].json,
                                   jnum(raw(&r->rows[i], c), columns[c].json_decimals));
        if (!r->rows[i].merged) {
            /* The write phase's details, for scripts tracking stalls. */
            const struct bench_result *row = &r->rows[i];
            const struct {
                const char *key;
                uint64_t n;
            } counts[] = {
                { "writes_over_1ms", row->writes_over_1ms },
                { "writes_over_1ms_faulted", row->writes_over_1ms_faulted },
                { "writes_over_1ms_preempted", row->writes_over_1ms_preempted },
                { "writes_over_1ms_waited", row->writes_over_1ms_waited },
                { "writes_over_1ms_reader_waits", row->writes_over_1ms_reader_waits },
                { "writes_replayed", row->writes_replayed },
                { "writes_not_replayed", row->writes_not_replayed },
                { "writes_over_1ms_twice", row->writes_over_1ms_twice },
                { "writes_replay_interrupted", row->writes_replay_interrupted },
                { "retired_bytes", row->retired_bytes },
            };
            const struct {
                const char *key;
                double us;
            } times[] = {
                { "build_worst_write_us", row->build_worst_write_us },
                { "churn_worst_write_us", row->churn_worst_write_us },
                { "worst_uninterrupted_write_us", row->worst_uninterrupted_write_us },
                { "worst_replayed_write_us", row->worst_replayed_write_us },
            };
            json_object_object_add(o, "reconcile_entry_allocs_per_cycle",
                                   jnum(row->reconcile_entry_allocs_per_cycle, 2));
            json_object_object_add(o, "reconcile_entry_ns_per_cycle",
                                   jnum(row->reconcile_entry_ns_per_cycle, 0));
            for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++)
                json_object_object_add(o, counts[k].key,
                                       json_object_new_int64((int64_t)counts[k].n));
            for (size_t k = 0; k < sizeof(times) / sizeof(times[0]); k++)
                json_object_object_add(o, times[k].key, jnum(times[k].us, 1));
        }
        json_object_array_add(arr, o);
    }
    json_object_object_add(root, "structures", arr);
    int flags = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE;
    fprintf(out, "%s\n", json_object_to_json_string_ext(root, flags));
    json_object_put(root);
}

/* One panel of the chart: a horizontal bar per row for column c. */
static void svg_panel(const struct report *r, FILE *out, size_t c, const char *title, double x0,
                      double y0)
{
    double max = 0;
    for (size_t i = 0; i < r->n_rows; i++) {
        double v = shown(&r->rows[i], c);
        if (!isnan(v) && v > max)
            max = v;
    }
    const double label_w = 150, bar_w = 260, row_h = 22;
    fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" font-weight=\"bold\">%s</text>\n", x0, y0, title);
    for (size_t i = 0; i < r->n_rows; i++) {
        const struct bench_result *row = &r->rows[i];
        double v = shown(row, c);
        double y = y0 + 12 + (double)i * row_h;
        int store = strcmp(row->name, STORE) == 0;
        fprintf(out, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s</text>\n",
                x0 + label_w - 6, y + 15, row->name);
        if (isnan(v) || max <= 0)
            continue;
        fprintf(out,
                "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"/>\n"
                "<text x=\"%.1f\" y=\"%.0f\">%.*f</text>\n",
                x0 + label_w, y + 2, bar_w * v / max, row_h - 6, store ? "#2a7d2e" : "#8c8c8c",
                x0 + label_w + bar_w * v / max + 4, y + 15, columns[c].decimals, v);
    }
}

void report_svg(const struct report *r, FILE *out)
{
    const double row_h = 22;
    double h = 40 + 12 + (double)r->n_rows * row_h + 10;
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"960\" height=\"%.0f\" "
            "font-family=\"sans-serif\" font-size=\"13\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            h);
    svg_panel(r, out, 0, "bytes per entry (lower is better)", 10, 24);
    svg_panel(r, out, 3, "random hit lookup, ns (lower is better)", 490, 24);
    fprintf(out, "</svg>\n");
}

/* A merged line that is not a row, as "name: key=value, ...". */
static char *note_of(json_object *line)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f == NULL)
        return NULL;
    json_object *name;
    fprintf(f, "%s:", json_object_object_get_ex(line, "name", &name)
                          ? json_object_get_string(name)
                          : "(unnamed)");
    json_object_object_foreach(line, key, val)
    {
        if (strcmp(key, "name") == 0)
            continue;
        fprintf(f, " %s=%s", key, json_object_get_string(val));
    }
    fclose(f);
    return text;
}

int report_merge_file(struct report *r, const char *path, char *err, size_t err_cap)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, err_cap, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int rc = 0;
    for (size_t lineno = 1; (got = getline(&line, &cap, f)) > 0; lineno++) {
        if (got <= 1)
            continue;
        json_object *j = json_tokener_parse(line);
        json_object *name, *v;
        if (j == NULL || !json_object_is_type(j, json_type_object) ||
            !json_object_object_get_ex(j, "name", &name)) {
            snprintf(err, err_cap, "%s:%zu: not a JSON object with a name", path, lineno);
            json_object_put(j);
            rc = -1;
            break;
        }
        if (json_object_object_get_ex(j, "bytes_per_entry", &v) && r->n_rows < REPORT_MAX_ROWS) {
            struct bench_result *row = &r->rows[r->n_rows++];
            memset(row, 0, sizeof(*row));
            snprintf(row->name, sizeof(row->name), "%s", json_object_get_string(name));
            row->merged = 1;
            for (size_t c = 0; c < N_COLUMNS; c++) {
                double *slot = (double *)((char *)row + columns[c].offset);
                *slot = json_object_object_get_ex(j, columns[c].json, &v) &&
                                (json_object_is_type(v, json_type_double) ||
                                 json_object_is_type(v, json_type_int))
                            ? json_object_get_double(v)
                            : NAN;
            }
        } else if (json_object_object_get_ex(j, "reads_per_s", &v) &&
                   r->n_concurrent < REPORT_MAX_ROWS) {
            struct report_concurrent *c = &r->concurrent[r->n_concurrent++];
            snprintf(c->name, sizeof(c->name), "%s", json_object_get_string(name));
            static const char *const keys[] = { "readers",        "reads_per_s",
                                                "writes_per_s",   "worst_write_us",
                                                "rounds",         "reads_per_s_min",
                                                "reads_per_s_max" };
            double *slots[] = { &c->readers,        &c->reads_per_s, &c->writes_per_s,
                                &c->worst_write_us, &c->rounds,      &c->reads_min,
                                &c->reads_max };
            for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
                *slots[k] = json_object_object_get_ex(j, keys[k], &v) ? json_object_get_double(v)
                                                                       : NAN;
        } else if (json_object_object_get_ex(j, "go_flat_over_store_median", &v)) {
            r->hit_rounds_median = json_object_get_double(v);
        } else if (r->n_notes < REPORT_MAX_NOTES) {
            r->notes[r->n_notes] = note_of(j);
            if (r->notes[r->n_notes] != NULL)
                r->n_notes++;
        }
        json_object_put(j);
    }
    free(line);
    fclose(f);
    return rc;
}

void report_free(struct report *r)
{
    for (size_t i = 0; i < r->n_notes; i++)
        free(r->notes[i]);
    r->n_notes = 0;
}
