/* `oomkit bench store`: loads one workload and measures the oomkit store
 * and its C peers on it in one run (harness.c), then prints a table with
 * ratios against the store, or one JSON object with every figure, which
 * scripts compare across runs. */
#include "bench/bench_cpu.h"
#include "bench/bench_probe.h"
#include "bench/bench_registry.h"
#include "bench/store/harness.h"
#include "bench/store/report.h"
#include "cli/gen_state_gen.h"
#include "core/file_replace.h"

#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct peer_ops *const all_peers[] = {
    &peer_oomkit_store,
    &peer_glib_nested,
    &peer_glib_flat,
    &peer_uthash,
};
#define N_PEERS (sizeof(all_peers) / sizeof(all_peers[0]))

static void usage(FILE *out)
{
    fprintf(out,
            "usage: oomkit bench store (--tsv FILE | --objects N [--seed S]) [--json]\n"
            "                          [--reconcile-cycles C] [--lookups N] [--structures LIST]\n\n"
            "Loads a workload (namespace<TAB>name<TAB>key<TAB>value lines, as written by\n"
            "`oomkit gen-state` or gen_state.py) and measures, for the oomkit store and\n"
            "its C peers (glib-nested, glib-flat, uthash) in one run: bytes and heap\n"
            "allocations per entry, build ns/entry, random hit and miss lookups (and the\n"
            "store's batched oomkit_store_get_many on the same hits), deleting an object,\n"
            "listing the biggest namespace, the reconcile pattern (clear and refill\n"
            "everything; the store refills object by object with oomkit_store_put_fields\n"
            "and is timed entry by entry too) in allocations and ns per cycle, and write\n"
            "latency: the worst and 99.9th-percentile single write while building a fresh\n"
            "structure from empty and then deleting random objects and putting them back.\n"
            "Writes over 1 ms without a page fault or a preemption are timed again in a\n"
            "second run of the same writes: a structure's own slow step recurs there, a\n"
            "machine's pause not. A slow write that slept, or that the store counts as a\n"
            "wait for readers (stats.writer_waits), is its own whatever the second run\n"
            "says.\n\n"
            "  --tsv FILE            the workload (\"-\" reads standard input)\n"
            "  --objects N           generate N objects in memory instead (gen-state shape)\n"
            "  --seed S              seed for --objects (default 1)\n"
            "  --json                print one JSON object instead of the table\n"
            "  --markdown            print a Markdown section (table, ratios, targets)\n"
            "  --json-out FILE       also write the JSON object to FILE\n"
            "  --svg FILE            also write a bar chart (bytes/entry, hit ns) to FILE\n"
            "  --merge FILE          add other peers' figures: JSON lines as printed by\n"
            "                        bench/peers/run.sh on the same workload (and a line\n"
            "                        with go_flat_over_store_median: bench/store/run.sh)\n"
            "  --reconcile-cycles C  clear+refill cycles to time (default 100, at least 1)\n"
            "  --lookups N           hit and miss lookups each (default: one per entry)\n"
            "  --structures LIST     comma-separated subset, e.g. oomkit-store,glib-nested\n"
            "  --cpu-clock           time with the process's CPU time instead of the wall\n"
            "                        clock (on a busy shared machine)\n"
            "  --quiet               no progress lines on standard error\n\n"
            "Environment: OOMKIT_BENCH_CPU=N pins the measuring thread to CPU N, so that\n"
            "runs compared side by side use the same core (vCPUs of one machine can\n"
            "differ by 2x); bench/store/run.sh sets it.\n\n"
            "Exit status: 0 done, 2 bad command line or unreadable/malformed input\n"
            "(the message names the line), 3 a structure failed or answered wrongly.\n");
}

/* Marks the structures named in a comma-separated list. */
static int pick_structures(const char *list, int *chosen)
{
    char *copy = strdup(list), *save = NULL;
    if (copy == NULL)
        return -1;
    memset(chosen, 0, N_PEERS * sizeof(*chosen));
    int picked = 0;
    for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        size_t i = 0;
        while (i < N_PEERS && strcmp(all_peers[i]->name, tok) != 0)
            i++;
        if (i == N_PEERS) {
            fprintf(stderr,
                    "oomkit bench store: unknown structure '%s' (oomkit-store, glib-nested, "
                    "glib-flat, uthash)\n",
                    tok);
            free(copy);
            return -1;
        }
        chosen[i] = 1;
        picked++;
    }
    free(copy);
    if (picked == 0) {
        fprintf(stderr, "oomkit bench store: --structures names none (oomkit-store, glib-nested, "
                        "glib-flat, uthash)\n");
        return -1;
    }
    return 0;
}

/* Generates the gen-state workload in memory and parses it. */
static int generate(struct wl_workload *w, uint64_t objects, uint64_t seed, char *err,
                    size_t cap)
{
    struct oomkit_gen_opts o = OOMKIT_GEN_DEFAULT_OPTS;
    o.objects = objects;
    o.seed = seed;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (mem == NULL) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    int rc = oomkit__gen_state_write(&o, mem);
    fclose(mem);
    if (rc != 0) {
        free(buf);
        snprintf(err, cap, "generating the workload failed: %s", strerror(-rc));
        return -1;
    }
    /* open_memstream keeps a NUL after the data, the spare byte wl_parse
     * may write. */
    return wl_parse(w, buf, len, "<generated>", err, cap);
}

/* The CPUs this process may run on, as "0-3,8" (a cpuset list). */
static const char *allowed_cpus_text(char *buf, size_t cap)
{
    cpu_set_t set;
    size_t n = 0;
    buf[0] = '\0';
    if (bench_cpus_allowed(&set) != 0)
        return "unknown";
    for (int c = 0; c < CPU_SETSIZE && n < cap; c++) {
        if (!CPU_ISSET(c, &set) || (c > 0 && CPU_ISSET(c - 1, &set)))
            continue;
        int last = c;
        while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, &set))
            last++;
        int w = last > c ? snprintf(buf + n, cap - n, "%s%d-%d", n ? "," : "", c, last)
                         : snprintf(buf + n, cap - n, "%s%d", n ? "," : "", c);
        n += w > 0 ? (size_t)w : 0;
    }
    return buf;
}

static int bench_store(int argc, char **argv)
{
    static struct report rep;
    const char *tsv = NULL;
    uint64_t objects = 0, seed = 1, cycles = 100, lookups = 0;
    const char *json_out = NULL, *svg_out = NULL, *merge = NULL;
    int json = 0, markdown = 0, quiet = 0, have_lookups = 0, have_objects = 0, rc;
    int chosen[N_PEERS] = { 1, 1, 1, 1 };
    static const struct option longopts[] = {
        { "tsv", required_argument, NULL, 't' },
        { "objects", required_argument, NULL, 'n' },
        { "seed", required_argument, NULL, 's' },
        { "json", no_argument, NULL, 'j' },
        { "reconcile-cycles", required_argument, NULL, 'r' },
        { "lookups", required_argument, NULL, 'l' },
        { "structures", required_argument, NULL, 'S' },
        { "quiet", no_argument, NULL, 'q' },
        { "cpu-clock", no_argument, NULL, 'c' },
        { "markdown", no_argument, NULL, 'm' },
        { "json-out", required_argument, NULL, 'J' },
        { "svg", required_argument, NULL, 'G' },
        { "merge", required_argument, NULL, 'M' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            tsv = optarg;
            break;
        case 'n':
            if (oomkit__cli_number("bench store", "--objects", optarg, 1, 100000000, &objects) !=
                0)
                return OOMKIT_EXIT_USAGE;
            have_objects = 1;
            break;
        case 's':
            if (oomkit__cli_number("bench store", "--seed", optarg, 0, UINT64_MAX, &seed) != 0)
                return OOMKIT_EXIT_USAGE;
            break;
        case 'j':
            json = 1;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'c':
            oomkit__bench_set_cpu_clock(1);
            rep.cpu_clock = 1;
            break;
        case 'm':
            markdown = 1;
            break;
        case 'J':
            json_out = optarg;
            break;
        case 'M':
            merge = optarg;
            break;
        case 'G':
            svg_out = optarg;
            break;
        case 'r':
            if (oomkit__cli_number("bench store", "--reconcile-cycles", optarg, 1, 1000000,
                                   &cycles) != 0)
                return OOMKIT_EXIT_USAGE;
            break;
        case 'l':
            if (oomkit__cli_number("bench store", "--lookups", optarg, 1, 1000000000,
                                   &lookups) != 0)
                return OOMKIT_EXIT_USAGE;
            have_lookups = 1;
            break;
        case 'S':
            if (pick_structures(optarg, chosen) != 0)
                return OOMKIT_EXIT_USAGE;
            break;
        case 'h':
            usage(stdout);
            return OOMKIT_EXIT_OK;
        case ':':
            fprintf(stderr, "oomkit bench store: %s needs a value (see --help)\n",
                    argv[optind - 1]);
            return OOMKIT_EXIT_USAGE;
        default:
            fprintf(stderr, "oomkit bench store: unknown option '%s' (see --help)\n",
                    argv[optind - 1]);
            return OOMKIT_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "oomkit bench store: unexpected argument '%s' (see --help)\n",
                argv[optind]);
        return OOMKIT_EXIT_USAGE;
    }
    if ((tsv == NULL) == (have_objects == 0)) {
        fprintf(stderr, "oomkit bench store: give exactly one of --tsv FILE and --objects N "
                        "(see --help)\n");
        return OOMKIT_EXIT_USAGE;
    }
    /* An output that cannot be written is refused now, not after the run. */
    const char *outs[2] = { json_out, svg_out };
    for (int k = 0; k < 2; k++) {
        int wrc = outs[k] != NULL ? oomkit__file_replace_check(outs[k]) : 0;
        if (wrc != 0) {
            fprintf(stderr, "oomkit bench store: cannot write %s: %s\n", outs[k],
                    strerror(-wrc));
            return OOMKIT_EXIT_USAGE;
        }
    }
    if (bench_cpu_from_env(&rep.cpu) != 0) {
        char cpus[256];
        fprintf(stderr, "oomkit bench store: OOMKIT_BENCH_CPU='%s' is not a CPU this process "
                        "may run on (its affinity: %s)\n",
                getenv("OOMKIT_BENCH_CPU"), allowed_cpus_text(cpus, sizeof(cpus)));
        return OOMKIT_EXIT_USAGE;
    }
    if (rep.cpu >= 0)
        peer_store_start_background();
    if ((rc = bench_pin_thread(rep.cpu, 0)) != 0) {
        fprintf(stderr, "oomkit bench store: cannot pin to CPU %d: %s\n", rep.cpu,
                strerror(-rc));
        return OOMKIT_EXIT_FAIL;
    }
    const char *why;
    if (oomkit__bench_probe_check(g_malloc, g_free, &why) != 0) {
        fprintf(stderr, "oomkit bench store: %s; figures would be wrong\n", why);
        return OOMKIT_EXIT_FAIL;
    }

    char err[512];
    struct wl_workload w;
    rc = tsv ? wl_load_file(&w, tsv, err, sizeof(err))
             : generate(&w, objects, seed, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "oomkit bench store: %s\n", err);
        wl_free(&w);
        return OOMKIT_EXIT_USAGE;
    }
    size_t n_lookups = have_lookups ? (size_t)lookups : w.n_entries;
    size_t n_deletes = w.n_objects / 4 < 1000 ? w.n_objects / 4 : 1000;
    if (n_deletes == 0)
        n_deletes = 1;
    struct wl_probes probes;
    if (wl_probes_make(&w, n_lookups, n_deletes, 0x6f6f6d6b6974u, &probes) != 0) {
        fprintf(stderr, "oomkit bench store: out of memory for the lookup probes\n");
        wl_free(&w);
        return OOMKIT_EXIT_FAIL;
    }

    rep.w = &w;
    rep.source = tsv ? tsv : "generated in memory";
    rep.cycles = (unsigned)cycles;
    rep.lookups = probes.n_lookups;
    rep.deletes = probes.n_deletes;
    int status = OOMKIT_EXIT_OK;
    if (!rep.cpu_clock)
        rep.fault_floor_us = bench_fault_floor_us(BENCH_FAULT_PAGES);
    uint64_t wall0 = oomkit__bench_wall_ns(), cpu0 = oomkit__bench_cpu_ns();
    /* Every chosen structure is built and kept, the lookup passes take
     * turns between them (bench_build in harness.h says why), each is then
     * finished and freed in turn, and last come the write phases. */
    const struct peer_ops *ops[N_PEERS];
    void *built[N_PEERS];
    size_t n_built = 0;
    for (size_t i = 0; i < N_PEERS && status == OOMKIT_EXIT_OK; i++) {
        if (!chosen[i])
            continue;
        if (!quiet)
            fprintf(stderr, "oomkit bench store: building %s...\n", all_peers[i]->name);
        ops[n_built] = all_peers[i];
        if (bench_build(ops[n_built], &w, &rep.rows[n_built], &built[n_built], err,
                        sizeof(err)) != 0)
            status = OOMKIT_EXIT_FAIL;
        else
            n_built++;
    }
    for (int pass = 0; pass < BENCH_LOOKUP_PASSES && status == OOMKIT_EXIT_OK; pass++) {
        if (!quiet)
            fprintf(stderr, "oomkit bench store: lookups, pass %d of %d over every structure\n",
                    pass + 1, BENCH_LOOKUP_PASSES);
        for (size_t k = 0; k < n_built && status == OOMKIT_EXIT_OK; k++)
            if (bench_lookup_pass(ops[k], built[k], &w, &probes, &rep.rows[k], err,
                                  sizeof(err)) != 0)
                status = OOMKIT_EXIT_FAIL;
    }
    for (size_t k = 0; k < n_built; k++) {
        if (status != OOMKIT_EXIT_OK) {
            ops[k]->close(built[k]);
            continue;
        }
        if (!quiet)
            fprintf(stderr, "oomkit bench store: measuring %s...\n", ops[k]->name);
        if (bench_finish(ops[k], built[k], &w, &probes, (unsigned)cycles, &rep.rows[k], err,
                         sizeof(err)) != 0)
            status = OOMKIT_EXIT_FAIL;
    }
    for (size_t k = 0; k < n_built && status == OOMKIT_EXIT_OK; k++) {
        if (!quiet)
            fprintf(stderr, "oomkit bench store: timing every write of %s...\n", ops[k]->name);
        if (bench_writes(ops[k], &w, &rep.rows[k], err, sizeof(err)) != 0)
            status = OOMKIT_EXIT_FAIL;
        else
            rep.n_rows++;
    }
    if (status != OOMKIT_EXIT_OK)
        fprintf(stderr, "oomkit bench store: %s\n", err);
    uint64_t wall = oomkit__bench_wall_ns() - wall0, cpu = oomkit__bench_cpu_ns() - cpu0;
    rep.cpu_share = wall > 0 ? (double)cpu / (double)wall : 0;
    if (!rep.cpu_clock && status == OOMKIT_EXIT_OK) {
        /* As long as the first structure's write phase (the store's, when
         * chosen), so its writes over 1 ms compare with the loop's gaps. */
        double s = rep.n_rows > 0 ? rep.rows[0].write_phase_s : 0;
        rep.stall_floor = bench_stall_floor(s < 2 ? 2 : s > 60 ? 60 : s);
    }
    if (status == OOMKIT_EXIT_OK && merge != NULL &&
        report_merge_file(&rep, merge, err, sizeof(err)) != 0) {
        fprintf(stderr, "oomkit bench store: %s\n", err);
        status = OOMKIT_EXIT_USAGE;
    }
    void (*writers[2])(const struct report *, FILE *) = { report_json, report_svg };
    for (int k = 0; k < 2 && status == OOMKIT_EXIT_OK; k++) {
        if (outs[k] == NULL)
            continue;
        oomkit__file_replace out;
        FILE *f = oomkit__fopen_replace(&out, outs[k]);
        int wrc = f != NULL ? 0 : -errno;
        if (f != NULL) {
            writers[k](&rep, f);
            wrc = oomkit__fclose_replace(&out, f, 1);
        }
        if (wrc != 0) {
            fprintf(stderr, "oomkit bench store: cannot write %s: %s\n", outs[k],
                    strerror(-wrc));
            status = OOMKIT_EXIT_FAIL;
        }
    }
    if (status == OOMKIT_EXIT_OK) {
        if (json)
            report_json(&rep, stdout);
        else if (markdown)
            report_markdown(&rep, stdout);
        else
            report_table(&rep, stdout);
    }
    report_free(&rep);
    wl_probes_free(&probes);
    wl_free(&w);
    return status;
}

OOMKIT_BENCH(store, "the oomkit store against nested/flat GLib tables and uthash",
             bench_store)
