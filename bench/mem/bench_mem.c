/* `oomkit bench mem`: times the mem readers inside one process, so the
 * figures exclude the oomkit binary's start-up and the output formatting
 * that the end-to-end timings of bench/mem/run.sh include.
 *
 *   oomkit bench mem maps PID [RUNS]     oomkit_mem_breakdown_read (smaps,
 *                                        thread stack pointers, classify)
 *   oomkit bench mem cgroups DIR [RUNS]  walk DIR and read every cgroup
 *
 * Prints one line per measure: wall ms (min, median, mean) and CPU ms
 * (user, system, mean per run) from getrusage. */
#include "bench/bench_registry.h"
#include "cli/cli.h"

#include "oomkit/mem.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void cpu_ms(double *user, double *sys)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    *user = (double)u.ru_utime.tv_sec * 1e3 + (double)u.ru_utime.tv_usec / 1e3;
    *sys = (double)u.ru_stime.tv_sec * 1e3 + (double)u.ru_stime.tv_usec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct cg_count {
    oomkit_mem_ctx *ctx;
    int version;
    size_t n;
    int err;
};

static int read_one(const char *dir, void *arg)
{
    struct cg_count *c = arg;
    oomkit_mem_cgroup_ref ref;
    oomkit_mem_cgroup_stats s;
    snprintf(ref.dir, sizeof ref.dir, "%s", dir);
    snprintf(ref.path, sizeof ref.path, "%s", dir);
    ref.version = c->version;
    int rc = oomkit_mem_cgroup_read(c->ctx, &ref, &s);
    if (rc == 0)
        c->n++;
    else if (rc != -ENOENT)
        c->err = rc;
    return 0;
}

static int bench_mem(int argc, char **argv)
{
    int help = argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"));
    if (argc < 3 || help) {
        fprintf(help ? stdout : stderr,
                "usage: oomkit bench mem maps PID [RUNS] | cgroups DIR [RUNS]\n");
        return help ? OOMKIT_EXIT_OK : OOMKIT_EXIT_USAGE;
    }
    uint64_t runs = 10, pid = 0;
    if (argc > 4) {
        fprintf(stderr, "oomkit bench mem: unexpected argument '%s'\n", argv[4]);
        return OOMKIT_EXIT_USAGE;
    }
    if (argc > 3 && oomkit__cli_number("bench mem", "RUNS", argv[3], 1, 10000, &runs) != 0)
        return OOMKIT_EXIT_USAGE;
    int maps = strcmp(argv[1], "maps") == 0;
    if (!maps && strcmp(argv[1], "cgroups") != 0) {
        fprintf(stderr, "oomkit bench mem: expected maps or cgroups, not '%s'\n", argv[1]);
        return OOMKIT_EXIT_USAGE;
    }
    if (maps && oomkit__cli_number("bench mem", "PID", argv[2], 1, INT32_MAX, &pid) != 0)
        return OOMKIT_EXIT_USAGE;
    oomkit_mem_ctx *ctx = NULL;
    if (oomkit_mem_ctx_open(NULL, &ctx) != 0)
        return OOMKIT_EXIT_FAIL;
    oomkit_mem_cgroup_ref root;
    if (!maps && oomkit_mem_cgroup_ref_from_dir(ctx, argv[2], &root) != 0) {
        fprintf(stderr, "oomkit bench mem: %s is not a memory cgroup\n", argv[2]);
        oomkit_mem_ctx_close(ctx);
        return OOMKIT_EXIT_USAGE;
    }
    double *wall = calloc(runs, sizeof *wall);
    if (!wall) {
        oomkit_mem_ctx_close(ctx);
        return OOMKIT_EXIT_FAIL;
    }
    double u0, s0, u1, s1;
    size_t items = 0;
    int rc = 0;
    cpu_ms(&u0, &s0);
    for (uint64_t r = 0; r < runs && rc == 0; r++) {
        double t0 = now_ms();
        if (maps) {
            oomkit_mem_breakdown b;
            oomkit_mem_maps *m = NULL;
            rc = oomkit_mem_breakdown_read(ctx, (pid_t)pid, &b, &m, NULL);
            items = oomkit_mem_maps_count(m);
            oomkit_mem_maps_free(m);
        } else {
            struct cg_count c = { ctx, root.version, 0, 0 };
            rc = oomkit_mem_cgroup_walk(ctx, root.dir, read_one, &c);
            if (rc == 0)
                rc = c.err;
            items = c.n;
        }
        wall[r] = now_ms() - t0;
    }
    cpu_ms(&u1, &s1);
    if (rc != 0) {
        const char *where = oomkit_mem_ctx_last_path(ctx);
        fprintf(stderr, "oomkit bench mem: %s%s%s\n", oomkit_strerror(rc),
                where[0] != '\0' ? " reading " : "", where);
        free(wall);
        oomkit_mem_ctx_close(ctx);
        return OOMKIT_EXIT_FAIL;
    }
    double sum = 0;
    for (uint64_t r = 0; r < runs; r++)
        sum += wall[r];
    qsort(wall, runs, sizeof *wall, cmp_double);
    printf("%s %zu items: wall min %.1f median %.1f mean %.1f ms; cpu per run user %.1f "
           "system %.1f ms (%" PRIu64 " runs)\n",
           maps ? "maps" : "cgroups", items, wall[0], wall[runs / 2], sum / (double)runs,
           (u1 - u0) / (double)runs, (s1 - s0) / (double)runs, runs);
    free(wall);
    oomkit_mem_ctx_close(ctx);
    return OOMKIT_EXIT_OK;
}

OOMKIT_BENCH(mem, "mem readers: smaps breakdown of a PID, or a cgroup tree", bench_mem)
