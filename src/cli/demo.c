/* `oomkit demo`, the main job (`make demo`): replays the incident on this
 * machine in a few seconds, as a sequence of stages.
 *
 * Stage "state" generates a Kubernetes-shaped controller state, loads it
 * into the incident's nested hash tables (the GLib twin of Go's
 * map[ns]map[name]map[key]int64) and into the oomkit store, and prints
 * memory, allocations and lookup speed side by side with a verdict. The
 * measuring is done by `oomkit-bench store` (the same harness as the
 * benchmark, whose malloc counter must stay out of this binary; see
 * bench/CMakeLists.txt), which hands its figures back as JSON.
 *
 * Stage "incident" (src/demo/incident.c) replays the incident itself: the
 * simulated operator in both representations, each in a memory cgroup,
 * under the heap profiler and the watchdog.
 *
 * Adding a stage (cgroups, the watchdog, the profiler) means one function
 * and one line in `stages` below; each stage gets the shared options and
 * returns an exit code, and the demo stops at the first stage that fails. */
#include "cli/bench.h"
#include "cli/cli.h"
#include "demo/incident.h"
#include "watch/capture.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

struct demo_opts {
    uint64_t objects; /* objects in the generated state */
    int quick;        /* smaller sizes, for tests and slow machines */
    struct oomkit__demo_incident_opts incident; /* the replay stage (src/demo) */
};

struct demo_stage {
    const char *name;
    const char *title;
    int (*run)(const struct demo_opts *o);
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: oomkit demo [--objects N] [--quick] [--pods N] [--limit-mib N]\n"
            "                   [--soft-budget] [--out DIR]\n\n"
            "Replays the incident: a controller's state kept in nested hash tables\n"
            "against the same state in the oomkit store, side by side (memory,\n"
            "allocations, lookup speed), with a one-line verdict.\n\n"
            "  --objects N  objects in the generated state (default 100000)\n"
            "  --quick      20000 objects unless --objects says otherwise; a smaller, faster\n"
            "               replay (10000 pods, 128 MiB), under 30 s in all\n\n"
            "Then replays the incident: a simulated operator (50000 pods with churn and a\n"
            "label unique per pod) written with nested GLib tables and with the store, each\n"
            "in its own memory cgroup, under liboomkit_prof.so and watched by `oomkit watch`:\n"
            "the nested one is predicted, captured and OOM-killed, the store stays flat.\n"
            "  --pods N       pods in the simulated cluster (default 50000)\n"
            "  --limit-mib N  memory limit of each operator's cgroup (default 256)\n"
            "  --soft-budget  use no cgroups: the demo kills an operator at the limit\n"
            "  --out DIR      where the evidence goes (default: a new directory in TMPDIR)\n");
}

/* Runs argv (argv[0] a path) and returns its standard output in a
 * malloc'ed, NUL-terminated buffer, or NULL; *status gets the exit code
 * (-1 when it did not exit normally). */
static char *run_capture(char *const argv[], int *status)
{
    int fds[2];
    if (pipe(fds) != 0)
        return NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return NULL;
    }
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], argv);
        fprintf(stderr, "oomkit demo: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    size_t cap = 1 << 14, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (buf != NULL && cap - len < 2) {
            char *grown = realloc(buf, cap * 2);
            if (grown == NULL) {
                free(buf);
                buf = NULL;
            } else {
                buf = grown;
                cap *= 2;
            }
        }
        char sink[4096];
        ssize_t n = buf ? read(fds[0], buf + len, cap - len - 1) : read(fds[0], sink, sizeof(sink));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (buf != NULL)
            len += (size_t)n;
    }
    close(fds[0]);
    int ws;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    if (buf != NULL)
        buf[len] = '\0';
    return buf;
}

/* The figures of one structure from oomkit-bench's JSON. */
struct figures {
    double bytes_per_entry, allocs_per_entry, build_ns_per_entry, hit_ns, miss_ns,
        reconcile_allocs_per_cycle;
};

static int read_figures(json_object *structures, const char *name, struct figures *f)
{
    size_t n = json_object_array_length(structures);
    for (size_t i = 0; i < n; i++) {
        json_object *s = json_object_array_get_idx(structures, i), *v;
        if (!json_object_object_get_ex(s, "name", &v) || strcmp(json_object_get_string(v), name))
            continue;
        static const char *const fields[] = { "bytes_per_entry",    "allocs_per_entry",
                                              "build_ns_per_entry", "hit_ns",
                                              "miss_ns",            "reconcile_allocs_per_cycle" };
        double *out[] = { &f->bytes_per_entry, &f->allocs_per_entry, &f->build_ns_per_entry,
                          &f->hit_ns, &f->miss_ns, &f->reconcile_allocs_per_cycle };
        for (size_t k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
            if (!json_object_object_get_ex(s, fields[k], &v))
                return -1;
            *out[k] = json_object_get_double(v);
        }
        return 0;
    }
    return -1;
}

/* "12,345,678": big counts read better grouped. */
static const char *grouped(uint64_t v, char *buf, size_t cap)
{
    char digits[32];
    int n = snprintf(digits, sizeof(digits), "%" PRIu64, v);
    size_t at = 0;
    for (int i = 0; i < n && at + 2 < cap; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[at++] = ',';
        buf[at++] = digits[i];
    }
    buf[at] = '\0';
    return buf;
}

static void row(const char *what, const char *nested, const char *store, const char *ratio)
{
    printf("  %-34s %18s %16s   %s\n", what, nested, store, ratio);
}

static int stage_state(const struct demo_opts *o)
{
    char path[PATH_MAX + 128];
    if (oomkit__cli_bench_path(path, sizeof(path)) != 0) {
        fprintf(stderr, "oomkit demo: %s\n", path);
        return OOMKIT_EXIT_FAIL;
    }
    char objects[32];
    snprintf(objects, sizeof(objects), "%" PRIu64, o->objects);
    /* About 8.5 entries per object; 300k random lookups are plenty for a
     * stable figure and keep the demo within seconds. */
    uint64_t lookups_n = o->objects * 8 < 300000 ? o->objects * 8 : 300000;
    char lookups[32];
    snprintf(lookups, sizeof(lookups), "%" PRIu64, lookups_n);
    char *argv[] = { path,          "store",         "--objects",
                     objects,       "--structures",  "oomkit-store,glib-nested",
                     "--lookups",   lookups,         "--reconcile-cycles",
                     "1",           "--json",        "--quiet",
                     NULL };
    int status = -1;
    char *out = run_capture(argv, &status);
    if (out == NULL || status != 0) {
        fprintf(stderr, "oomkit demo: %s store failed (exit %d)\n", path, status);
        free(out);
        return OOMKIT_EXIT_FAIL;
    }
    json_object *root = json_tokener_parse(out);
    free(out);
    json_object *entries_j, *structures;
    struct figures nested, store;
    if (root == NULL || !json_object_object_get_ex(root, "entries", &entries_j) ||
        !json_object_object_get_ex(root, "structures", &structures) ||
        read_figures(structures, "glib-nested", &nested) != 0 ||
        read_figures(structures, "oomkit-store", &store) != 0) {
        fprintf(stderr, "oomkit demo: unexpected output from %s store\n", path);
        json_object_put(root);
        return OOMKIT_EXIT_FAIL;
    }
    uint64_t entries = (uint64_t)json_object_get_int64(entries_j);
    json_object_put(root);

    double n = (double)entries;
    char a[64], b[64], r[96], g1[32], g2[32];
    printf("  %" PRIu64 " objects, %s entries (namespace, name, key -> int64), "
           "loaded into both:\n\n",
           o->objects, grouped(entries, g1, sizeof(g1)));
    row("", "nested GLib tables", "oomkit store", "");
    row("", "(the incident)", "", "");
    snprintf(a, sizeof(a), "%.1f MiB", nested.bytes_per_entry * n / (1 << 20));
    snprintf(b, sizeof(b), "%.1f MiB", store.bytes_per_entry * n / (1 << 20));
    double mem_ratio = store.bytes_per_entry > 0 ? nested.bytes_per_entry / store.bytes_per_entry : 0;
    snprintf(r, sizeof(r), mem_ratio >= 1 ? "%.1fx less" : "%.1fx more",
             mem_ratio >= 1 ? mem_ratio : (mem_ratio > 0 ? 1 / mem_ratio : 0));
    row("memory (heap, strings included)", a, b, r);
    snprintf(a, sizeof(a), "%.1f", nested.bytes_per_entry);
    snprintf(b, sizeof(b), "%.1f", store.bytes_per_entry);
    row("bytes per entry", a, b, "");
    row("heap allocations to build",
        grouped((uint64_t)(nested.allocs_per_entry * n + 0.5), g1, sizeof(g1)),
        grouped((uint64_t)(store.allocs_per_entry * n + 0.5), g2, sizeof(g2)), "");
    snprintf(a, sizeof(a), "%.3f", nested.allocs_per_entry);
    snprintf(b, sizeof(b), "%.4f", store.allocs_per_entry);
    row("allocations per entry", a, b, "");
    row("allocations per clear + refill",
        grouped((uint64_t)(nested.reconcile_allocs_per_cycle + 0.5), g1, sizeof(g1)),
        grouped((uint64_t)(store.reconcile_allocs_per_cycle + 0.5), g2, sizeof(g2)), "");
    snprintf(a, sizeof(a), "%.0f ns", nested.build_ns_per_entry);
    snprintf(b, sizeof(b), "%.0f ns", store.build_ns_per_entry);
    row("build time per entry", a, b, "");
    double hit_ratio = store.hit_ns > 0 ? nested.hit_ns / store.hit_ns : 0;
    snprintf(a, sizeof(a), "%.0f ns", nested.hit_ns);
    snprintf(b, sizeof(b), "%.0f ns", store.hit_ns);
    snprintf(r, sizeof(r), hit_ratio >= 1 ? "%.1fx faster" : "%.1fx slower",
             hit_ratio >= 1 ? hit_ratio : (hit_ratio > 0 ? 1 / hit_ratio : 0));
    row("random lookup, hit", a, b, r);
    snprintf(a, sizeof(a), "%.0f ns", nested.miss_ns);
    snprintf(b, sizeof(b), "%.0f ns", store.miss_ns);
    row("random lookup, miss", a, b, "");

    /* The verdict states what was measured, whichever way it went. */
    printf("\nVerdict: ");
    if (mem_ratio >= 1)
        printf("the store holds the same state in %.1fx less memory", mem_ratio);
    else
        printf("the store needs %.1fx MORE memory than the nested tables",
               mem_ratio > 0 ? 1 / mem_ratio : 0);
    printf(" with %.4f allocations per entry (nested tables: %.2f), and answers a lookup "
           "%.1fx %s.\n",
           store.allocs_per_entry, nested.allocs_per_entry,
           hit_ratio >= 1 ? hit_ratio : (hit_ratio > 0 ? 1 / hit_ratio : 0),
           hit_ratio >= 1 ? "faster" : "slower");
    return OOMKIT_EXIT_OK;
}

static int stage_incident(const struct demo_opts *o)
{
    struct oomkit__demo_incident_opts io = o->incident;
    io.quick = o->quick;
    return oomkit__demo_incident_run(&io);
}

static const struct demo_stage stages[] = {
    { "state", "the incident's state: nested hash tables against the oomkit store",
      stage_state },
    { "incident", "the incident, replayed: two operators in memory cgroups, profiled and watched",
      stage_incident },
};

static int cmd_demo(int argc, char **argv)
{
    if (oomkit__cli_wants_help(argc, argv)) {
        usage(stdout);
        return OOMKIT_EXIT_OK;
    }
    struct demo_opts o;
    memset(&o, 0, sizeof(o));
    static const struct option longopts[] = {
        { "objects", required_argument, NULL, 'n' },
        { "quick", no_argument, NULL, 'q' },
        { "pods", required_argument, NULL, 'p' },
        { "limit-mib", required_argument, NULL, 'l' },
        { "soft-budget", no_argument, NULL, 's' },
        { "out", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (oomkit__cli_number("demo", "--objects", optarg, 1, 10000000, &o.objects) != 0)
                return OOMKIT_EXIT_USAGE;
            break;
        case 'q':
            o.quick = 1;
            break;
        case 'p':
        case 'l': {
            uint64_t v;
            if (oomkit__cli_number("demo", c == 'p' ? "--pods" : "--limit-mib", optarg, 1,
                                   c == 'p' ? 2000000 : 65536, &v) != 0)
                return OOMKIT_EXIT_USAGE;
            if (c == 'p')
                o.incident.pods = v;
            else
                o.incident.limit_bytes = (uint64_t)v << 20;
            break;
        }
        case 's':
            o.incident.force_soft = 1;
            break;
        case 'o':
            o.incident.out_dir = optarg;
            break;
        case ':':
            fprintf(stderr, "oomkit demo: %s needs a value (see --help)\n", argv[optind - 1]);
            return OOMKIT_EXIT_USAGE;
        default:
            fprintf(stderr, "oomkit demo: unknown option '%s' (see --help)\n", argv[optind - 1]);
            return OOMKIT_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "oomkit demo: unexpected argument '%s' (see --help)\n", argv[optind]);
        return OOMKIT_EXIT_USAGE;
    }
    if (o.objects == 0)
        o.objects = o.quick ? 20000 : 100000;
    /* The evidence goes to --out at the end of the run: a place it cannot
     * go is refused now, not after the first stage. */
    const char *out = o.incident.out_dir;
    char why[1100];
    if (out != NULL && oomkit__capture_root_check(out, 1, why, sizeof why) != 0) {
        fprintf(stderr, "oomkit demo: --out %s: %s\n", out, why);
        return OOMKIT_EXIT_USAGE;
    }

    printf("oomkit demo: why the controller ran out of memory, and what the store changes\n");
    for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
        printf("\n== %zu. %s\n\n", i + 1, stages[i].title);
        int rc = stages[i].run(&o);
        if (rc != OOMKIT_EXIT_OK) {
            fprintf(stderr, "oomkit demo: stage '%s' failed\n", stages[i].name);
            return rc;
        }
    }
    return OOMKIT_EXIT_OK;
}

OOMKIT_COMMAND(demo, "replay the incident: nested tables against the store, side by side",
               cmd_demo)
