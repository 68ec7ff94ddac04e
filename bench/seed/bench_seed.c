/* `oomkit bench seed [--quick] [--json] [--markdown] [--only N]`: each table
 * of the incident postmortem, measured on this machine by one
 * command. The tables run in the order of their priority
 * (2, 7, 3, 5, 6, 4, 1); each one is a seed_table (seed.h) that carries its
 * figures and a verdict computed from them, printed here as markdown (the
 * default) or JSON (json-c), with a bar chart per table in SVG on request.
 * Times use the process's CPU clock, because the
 * machines this runs on are often shared; the header reports how much wall
 * time the run spent waiting for a CPU. */
#include "bench/seed/seed.h"

#include "bench/bench_probe.h"
#include "bench/bench_registry.h"
#include "cli/cli.h"
#include "core/file_replace.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

typedef void (*table_fn)(const struct seed_opts *, struct seed_table *);

static const table_fn table_order[] = {
    seed_table_reconcile, seed_table_depth,      seed_table_sparse, seed_table_keys,
    seed_table_mph,       seed_table_concurrent, seed_table_chase,
};
#define N_TABLES (sizeof table_order / sizeof table_order[0])
/* The postmortem number of each entry of table_order, for --only. */
static const int table_numbers[N_TABLES] = { 2, 7, 3, 5, 6, 4, 1 };

static void usage(FILE *out)
{
    fprintf(out,
            "usage: oomkit bench seed [--quick] [--json] [--markdown] [--only N] [--svg DIR]\n\n"
            "Measures each table of the incident postmortem on this machine:\n"
            "  2 reconcile loop, 7 table-assign calls per nesting depth, 3 pseudo-sparse\n"
            "  tables, 5 key construction, 6 static MPH map vs hash table, 4 concurrent\n"
            "  map vs store, 1 pointer chasing by depth (with L1d misses when the CPU\n"
            "  counters are readable).\n\n"
            "  --quick     smaller sizes (a few seconds in all)\n"
            "  --json      JSON on stdout\n"
            "  --markdown  markdown on stdout (the default)\n"
            "  --only N    run table N only (1..7)\n"
            "  --svg DIR   also write a bar chart per table, DIR/<table>.svg (DIR must\n"
            "              exist; the markdown links DIR's last component)\n");
}

static void machine_line(char *buf, size_t len)
{
    struct utsname u;
    char cpu[128] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        char line[256];
        while (fgets(line, sizeof line, f) != NULL) {
            char *colon = strchr(line, ':');
            if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
                snprintf(cpu, sizeof cpu, "%s", colon + 2);
                cpu[strcspn(cpu, "\n")] = '\0';
                break;
            }
        }
        fclose(f);
    }
    if (uname(&u) != 0)
        snprintf(u.release, sizeof u.release, "unknown");
    snprintf(buf, len, "%s, %ld CPUs online, Linux %s", cpu, sysconf(_SC_NPROCESSORS_ONLN),
             u.release);
}

/* The column each table's chart shows: its headline cost. */
static int chart_col(const struct seed_table *t)
{
    static const struct {
        const char *key;
        int col;
    } cols[] = { { "reconcile", 0 }, { "depth", 1 }, { "sparse", 2 }, { "keys", 0 },
                 { "mph", 0 },       { "concurrent", 1 }, { "chase", 1 } };
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        if (strcmp(cols[i].key, t->key) == 0)
            return cols[i].col;
    return 0;
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else
            fputc(*s, f);
    }
}

/* Writes DIR/<key>.svg: one horizontal bar per row of the table's chart
 * column, scaled to the largest. Hand-written SVG: a few rectangles and
 * labels do not call for a plotting library. Returns 0 or -1. */
static int write_svg(const struct seed_table *t, const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.svg", dir, t->key);
    oomkit__file_replace out;
    FILE *f = oomkit__fopen_replace(&out, path);
    if (f == NULL)
        return -errno;
    int col = chart_col(t), w = 760, bar_x = 330, bar_w = 330, row_h = 26;
    int h = 40 + row_h * t->nrows + 10;
    double max = 0;
    for (int r = 0; r < t->nrows; r++)
        if (t->rows[r].v[col] > max)
            max = t->rows[r].v[col];
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
            "font-family=\"sans-serif\" font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            "<text x=\"10\" y=\"20\" font-weight=\"bold\">%d. ",
            w, h, t->number);
    xml_text(f, t->title);
    fprintf(f, " (%s)</text>\n", t->cols[col]);
    for (int r = 0; r < t->nrows; r++) {
        double v = t->rows[r].v[col];
        int y = 40 + r * row_h, len = max > 0 && v > 0 ? (int)(bar_w * v / max) : 0;
        fprintf(f, "<text x=\"10\" y=\"%d\">", y + 15);
        xml_text(f, t->rows[r].label);
        fprintf(f,
                "</text>\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
                "fill=\"%s\"/>\n<text x=\"%d\" y=\"%d\">%.4g</text>\n",
                bar_x, y, len, row_h - 6, strstr(t->rows[r].label, "oomkit") ? "#2a7" : "#c64",
                bar_x + len + 6, y + 15, v);
    }
    fputs("</svg>\n", f);
    return oomkit__fclose_replace(&out, f, 1);
}

static void print_markdown(const struct seed_table *t, size_t n, const char *machine,
                           double wait_pct, int quick, const char *svg_dir)
{
    printf("# oomkit bench seed%s\n\n", quick ? " --quick" : "");
    printf("Machine: %s. Probe: %s. Times are process CPU time; the run waited for a CPU "
           "%.0f%% of its wall time (a shared machine inflates wall time, not these figures, "
           "but cache and memory bandwidth are shared too).\n\n",
           machine, oomkit__bench_probe_kind(), wait_pct);
    for (size_t i = 0; i < n; i++) {
        printf("## %d. %s\n\n%s\n\n", t[i].number, t[i].title, t[i].measured);
        if (t[i].ran) {
            printf("| variant |");
            for (int c = 0; c < t[i].ncols; c++)
                printf(" %s |", t[i].cols[c]);
            printf("\n|---|");
            for (int c = 0; c < t[i].ncols; c++)
                printf("---:|");
            printf("\n");
            for (int r = 0; r < t[i].nrows; r++) {
                printf("| %s |", t[i].rows[r].label);
                for (int c = 0; c < t[i].ncols; c++) {
                    double v = t[i].rows[r].v[c];
                    if (v < 0)
                        printf(" n/a |");
                    else if (v >= 100 || v == (double)(long long)v)
                        printf(" %.0f |", v);
                    else
                        printf(" %.2f |", v);
                }
                printf("\n");
            }
            printf("\n");
            if (svg_dir != NULL) {
                /* The document sits beside the chart folder. */
                const char *base = strrchr(svg_dir, '/');
                printf("![%s](%s/%s.svg)\n\n", t[i].title, base != NULL ? base + 1 : svg_dir,
                       t[i].key);
            }
        }
        printf("**Verdict:** %s\n\n", t[i].verdict);
    }
}

static void print_json(const struct seed_table *t, size_t n, const char *machine,
                       double wait_pct, int quick)
{
    json_object *root = json_object_new_object();
    json_object_object_add(root, "machine", json_object_new_string(machine));
    json_object_object_add(root, "probe", json_object_new_string(oomkit__bench_probe_kind()));
    json_object_object_add(root, "quick", json_object_new_boolean(quick));
    json_object_object_add(root, "cpu_wait_pct", json_object_new_double(wait_pct));
    json_object *tables = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *jt = json_object_new_object();
        json_object_object_add(jt, "number", json_object_new_int(t[i].number));
        json_object_object_add(jt, "name", json_object_new_string(t[i].key));
        json_object_object_add(jt, "title", json_object_new_string(t[i].title));
        json_object_object_add(jt, "measured", json_object_new_string(t[i].measured));
        json_object_object_add(jt, "ran", json_object_new_boolean(t[i].ran));
        json_object_object_add(jt, "holds", json_object_new_boolean(t[i].ran && t[i].holds));
        json_object_object_add(jt, "verdict", json_object_new_string(t[i].verdict));
        json_object *rows = json_object_new_array();
        for (int r = 0; t[i].ran && r < t[i].nrows; r++) {
            json_object *jr = json_object_new_object();
            json_object_object_add(jr, "variant", json_object_new_string(t[i].rows[r].label));
            for (int c = 0; c < t[i].ncols; c++) {
                double v = t[i].rows[r].v[c];
                json_object_object_add(jr, t[i].cols[c],
                                       v < 0 ? NULL : json_object_new_double(v));
            }
            json_object_array_add(rows, jr);
        }
        json_object_object_add(jt, "rows", rows);
        json_object_array_add(tables, jt);
    }
    json_object_object_add(root, "tables", tables);
    printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY));
    json_object_put(root);
}

static int bench_seed(int argc, char **argv)
{
    struct seed_opts o = { 0 };
    int json = 0, only = 0;
    const char *svg_dir = NULL;
    static const struct option longopts[] = {
        { "quick", no_argument, NULL, 'q' },   { "json", no_argument, NULL, 'j' },
        { "markdown", no_argument, NULL, 'm' }, { "only", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },    { "chase-sim", required_argument, NULL, 's' },
        { "svg", required_argument, NULL, 'g' },
        { NULL, 0, NULL, 0 },
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'q': o.quick = 1; break;
        case 'j': json = 1; break;
        case 'm': json = 0; break;
        case 'o': {
            uint64_t v;
            if (oomkit__cli_number("bench seed", "--only", optarg, 1, 7, &v) != 0)
                return OOMKIT_EXIT_USAGE;
            only = (int)v;
            break;
        }
        case 's':
            /* Internal: table 1 re-runs this program under cachegrind. */
            return seed_chase_sim(atoi(optarg));
        case 'g': svg_dir = optarg; break;
        case 'h': usage(stdout); return OOMKIT_EXIT_OK;
        default: usage(stderr); return OOMKIT_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "oomkit bench seed: unexpected argument '%s'\n", argv[optind]);
        return OOMKIT_EXIT_USAGE;
    }
    if (svg_dir != NULL) {
        /* Refused now rather than after minutes of measuring. */
        char probe[1024];
        snprintf(probe, sizeof probe, "%s/seed-tables.svg", svg_dir);
        int err = oomkit__file_replace_check(probe);
        if (err != 0) {
            fprintf(stderr, "oomkit bench seed: cannot write SVG files into %s: %s\n", svg_dir,
                    strerror(-err));
            return OOMKIT_EXIT_USAGE;
        }
    }
    oomkit__bench_set_cpu_clock(1);
    static struct seed_table tables[N_TABLES];
    size_t n = 0;
    uint64_t wall0 = oomkit__bench_wall_ns(), cpu0 = oomkit__bench_cpu_ns();
    for (size_t i = 0; i < N_TABLES; i++) {
        if (only != 0 && table_numbers[i] != only)
            continue;
        memset(&tables[n], 0, sizeof tables[n]);
        table_order[i](&o, &tables[n]);
        fprintf(stderr, "oomkit bench seed: table %d %s\n", tables[n].number,
                tables[n].ran ? "done" : "could not run");
        n++;
    }
    double wall = (double)(oomkit__bench_wall_ns() - wall0);
    double cpu = (double)(oomkit__bench_cpu_ns() - cpu0);
    /* Threads of table 4 can make CPU time exceed wall time. */
    double wait_pct = wall > cpu ? 100.0 * (wall - cpu) / wall : 0.0;
    char machine[256];
    machine_line(machine, sizeof machine);
    for (size_t i = 0; svg_dir != NULL && i < n; i++) {
        int wrc = tables[i].ran ? write_svg(&tables[i], svg_dir) : 0;
        if (wrc != 0) {
            fprintf(stderr, "oomkit bench seed: cannot write %s/%s.svg: %s\n", svg_dir,
                    tables[i].key, strerror(-wrc));
            return OOMKIT_EXIT_FAIL;
        }
    }
    if (json)
        print_json(tables, n, machine, wait_pct, o.quick);
    else
        print_markdown(tables, n, machine, wait_pct, o.quick, svg_dir);
    return OOMKIT_EXIT_OK;
}

OOMKIT_BENCH(seed, "each table of the incident postmortem, measured here", bench_seed)
