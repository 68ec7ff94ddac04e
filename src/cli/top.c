/* `oomkit top`: the top N processes or cgroups by working set, the weekly
 * "top memory consumers" report as a command.
 *
 * Processes are ranked by resident memory (VmRSS from /proc/PID/status:
 * a process has no inactive_file of its own, so its RSS is its working
 * set); cgroups by working set as cAdvisor computes it (usage minus
 * inactive_file), with limit and headroom. --root points the cgroup walk at
 * any subtree, such as a Kubernetes node's kubepods hierarchy. */
#include "cli/cli.h"
#include "cli/inspect_fmt.h"

#include "oomkit/mem.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void help(FILE *out)
{
    fprintf(out,
        "usage: oomkit top [--cgroups | --procs] [-n N] [--csv | --json] [--root PATH]\n"
        "                  [--leaves] [--sysroot DIR]\n"
        "\n"
        "Lists the N largest memory consumers.\n"
        "\n"
        "  --procs        processes, ranked by resident memory (VmRSS); the default\n"
        "                 unless --root or --cgroups is given\n"
        "  --cgroups      memory cgroups, ranked by working set (usage - inactive_file,\n"
        "                 as cAdvisor and the kubelet compute it), with limit, headroom\n"
        "                 (limit - working set) and OOM kills\n"
        "  --root PATH    walk the cgroup tree under PATH, a directory or a cgroup as\n"
        "                 listed here (/kubepods) (default: the memory hierarchy's\n"
        "                 mount, v1 memory controller or cgroup2)\n"
        "  --leaves       only cgroups without child cgroups (skips the aggregates)\n"
        "  -n N           show N entries (default 10)\n"
        "  --csv, --json  machine-readable output, sizes in bytes; absent values are\n"
        "                 empty (CSV) or null (JSON); no limit is empty / null\n"
        "  --sysroot DIR  read /proc and /sys under DIR (fixture or captured tree)\n"
        "\n"
        "columns (procs): pid, name, rss_bytes, anon_bytes, file_bytes, shmem_bytes,\n"
        "  swap_bytes. (cgroups): cgroup (path under the root), version,\n"
        "  working_set_bytes, usage_bytes, limit_bytes, headroom_bytes, rss_bytes,\n"
        "  cache_bytes, oom_kills.\n"
        "\n"
        "exit status: 0 success, 2 bad command line, 3 nothing could be read (no\n"
        "  /proc, or the cgroup root does not exist or is not a memory cgroup).\n");
}

enum { OUT_TABLE, OUT_CSV, OUT_JSON };

struct proc_row {
    int pid;
    char name[64];
    uint64_t rss, anon, file, shmem, swap;
};

struct cg_row {
    char *path;
    int version;
    int leaf;
    oomkit_mem_cgroup_stats s;
};

struct cg_walk {
    oomkit_mem_ctx *ctx;
    int version;
    struct cg_row *rows;
    size_t n, cap;
    int failed;
};

static uint64_t or0(uint64_t v)
{
    return oomkit_mem_has(v) ? v : 0;
}

static int cmp_proc(const void *a, const void *b)
{
    const struct proc_row *x = a, *y = b;
    return (x->rss < y->rss) - (x->rss > y->rss);
}

static int cmp_cg(const void *a, const void *b)
{
    const struct cg_row *x = a, *y = b;
    uint64_t wx = or0(x->s.working_set_bytes), wy = or0(y->s.working_set_bytes);
    if (wx != wy)
        return (wx < wy) - (wx > wy);
    return strcmp(x->path, y->path);
}

static int cmp_cg_path(const void *a, const void *b)
{
    return strcmp(((const struct cg_row *)a)->path, ((const struct cg_row *)b)->path);
}

static void csv_u64(uint64_t v)
{
    if (oomkit_mem_has(v))
        printf(",%llu", (unsigned long long)v);
    else
        printf(",");
}

static int top_procs(oomkit_mem_ctx *ctx, long n, int out)
{
    size_t cap = 4096, count = 0;
    pid_t *pids = NULL;
    for (;;) {
        free(pids);
        pids = malloc(cap * sizeof *pids);
        if (!pids) {
            fprintf(stderr, "oomkit top: out of memory\n");
            return OOMKIT_EXIT_FAIL;
        }
        int rc = oomkit_mem_pids_list(ctx, pids, cap, &count);
        if (rc < 0) {
            fprintf(stderr, "oomkit top: cannot list processes: %s (%s)\n",
                    oomkit_strerror(rc), oomkit_mem_ctx_last_path(ctx));
            free(pids);
            return OOMKIT_EXIT_FAIL;
        }
        if (count <= cap)
            break;
        cap = count + 256;
    }
    struct proc_row *rows = calloc(count ? count : 1, sizeof *rows);
    if (!rows) {
        free(pids);
        fprintf(stderr, "oomkit top: out of memory\n");
        return OOMKIT_EXIT_FAIL;
    }
    size_t nr = 0;
    for (size_t i = 0; i < count; i++) {
        oomkit_mem_status st;
        /* Processes exit while we list them: skip them quietly. */
        if (oomkit_mem_status_read(ctx, pids[i], &st) < 0)
            continue;
        if (!oomkit_mem_has(st.vm_rss_bytes))
            continue; /* kernel threads and zombies have no memory */
        struct proc_row *r = &rows[nr++];
        r->pid = (int)pids[i];
        snprintf(r->name, sizeof r->name, "%s", st.name);
        r->rss = st.vm_rss_bytes;
        r->anon = st.rss_anon_bytes;
        r->file = st.rss_file_bytes;
        r->shmem = st.rss_shmem_bytes;
        r->swap = st.vm_swap_bytes;
    }
    free(pids);
    qsort(rows, nr, sizeof *rows, cmp_proc);
    size_t shown = (size_t)n < nr ? (size_t)n : nr;
    if (out == OUT_CSV) {
        printf("pid,name,rss_bytes,anon_bytes,file_bytes,shmem_bytes,swap_bytes\n");
        for (size_t i = 0; i < shown; i++) {
            const struct proc_row *r = &rows[i];
            /* Names may hold commas or quotes: quote them as RFC 4180 does. */
            printf("%d,\"", r->pid);
            for (const char *p = r->name; *p; p++)
                printf(*p == '"' ? "\"\"" : "%c", *p);
            printf("\"");
            csv_u64(r->rss);
            csv_u64(r->anon);
            csv_u64(r->file);
            csv_u64(r->shmem);
            csv_u64(r->swap);
            printf("\n");
        }
    } else if (out == OUT_JSON) {
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < shown; i++) {
            const struct proc_row *r = &rows[i];
            json_object *o = json_object_new_object();
            json_object_object_add(o, "pid", json_object_new_int(r->pid));
            json_object_object_add(o, "name", json_object_new_string(r->name));
            json_object_object_add(o, "rss_bytes", mem_json_u64(r->rss));
            json_object_object_add(o, "anon_bytes", mem_json_u64(r->anon));
            json_object_object_add(o, "file_bytes", mem_json_u64(r->file));
            json_object_object_add(o, "shmem_bytes", mem_json_u64(r->shmem));
            json_object_object_add(o, "swap_bytes", mem_json_u64(r->swap));
            json_object_array_add(arr, o);
        }
        printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY));
        json_object_put(arr);
    } else {
        char a[32], b[32], c[32], d[32], e[32];
        printf("%8s %-20s %11s %11s %11s %11s %11s\n", "PID", "NAME", "RSS", "ANON", "FILE",
               "SHMEM", "SWAP");
        for (size_t i = 0; i < shown; i++) {
            const struct proc_row *r = &rows[i];
            printf("%8d %-20.20s %11s %11s %11s %11s %11s\n", r->pid, r->name,
                   mem_fmt_bytes(r->rss, a, sizeof a), mem_fmt_bytes(r->anon, b, sizeof b),
                   mem_fmt_bytes(r->file, c, sizeof c), mem_fmt_bytes(r->shmem, d, sizeof d),
                   mem_fmt_bytes(r->swap, e, sizeof e));
        }
    }
    free(rows);
    return OOMKIT_EXIT_OK;
}

static int visit_cgroup(const char *dir, void *arg)
{
    struct cg_walk *w = arg;
    oomkit_mem_cgroup_ref ref;
    size_t dl = strlen(dir);
    if (dl >= sizeof ref.dir)
        return 0;
    /* Every directory of a memory hierarchy is a cgroup of the same
     * version as the root, so the version is detected once. */
    memcpy(ref.dir, dir, dl + 1);
    memcpy(ref.path, dir, dl + 1);
    ref.version = w->version;
    if (w->n == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 256;
        struct cg_row *nr = realloc(w->rows, ncap * sizeof *nr);
        if (!nr) {
            w->failed = 1;
            return -ENOMEM;
        }
        w->rows = nr;
        w->cap = ncap;
    }
    struct cg_row *r = &w->rows[w->n];
    int rc = oomkit_mem_cgroup_read(w->ctx, &ref, &r->s);
    if (rc == -ENOENT)
        return 0; /* removed while we walked */
    if (rc < 0) {
        fprintf(stderr, "oomkit top: skipping %s: %s (%s)\n", dir, oomkit_strerror(rc),
                oomkit_mem_ctx_last_path(w->ctx));
        return 0;
    }
    r->path = strdup(dir);
    if (!r->path) {
        w->failed = 1;
        return -ENOMEM;
    }
    r->version = w->version;
    r->leaf = 1;
    w->n++;
    return 0;
}

static int top_cgroups(oomkit_mem_ctx *ctx, const char *root, long n, int out, int leaves)
{
    char rootbuf[OOMKIT_MEM_PATH_MAX];
    oomkit_mem_cgroup_layout layout;
    int rc = oomkit_mem_cgroup_detect(ctx, &layout);
    if (rc < 0) /* no mount to look under: --root must be a directory */
        memset(&layout, 0, sizeof layout);
    if (!root) {
        if (rc < 0 || layout.memory_version == 0) {
            fprintf(stderr, "oomkit top: no memory cgroup hierarchy is mounted%s\n",
                    rc < 0 ? " (cannot read /proc/self/mountinfo)" : "");
            return OOMKIT_EXIT_FAIL;
        }
        snprintf(rootbuf, sizeof rootbuf, "%s",
                 layout.memory_version == 1 ? layout.v1_memory_mount : layout.v2_mount);
        root = rootbuf;
    }
    /* --root takes the paths this command prints ("/kubepods") too. */
    oomkit_mem_cgroup_ref ref;
    rc = oomkit_mem_cgroup_ref_resolve(ctx, &layout, root, &ref);
    if (rc < 0) {
        fprintf(stderr, "oomkit top: %s is not a memory cgroup: %s\n", root,
                oomkit_strerror(rc));
        return OOMKIT_EXIT_FAIL;
    }
    struct cg_walk w = { ctx, ref.version, NULL, 0, 0, 0 };
    rc = oomkit_mem_cgroup_walk(ctx, ref.dir, visit_cgroup, &w);
    if (rc < 0 || w.failed) {
        fprintf(stderr, "oomkit top: cannot walk %s: %s\n", root, oomkit_strerror(rc));
        for (size_t i = 0; i < w.n; i++)
            free(w.rows[i].path);
        free(w.rows);
        return OOMKIT_EXIT_FAIL;
    }
    /* A cgroup is a leaf when no other path continues it with '/'. */
    qsort(w.rows, w.n, sizeof *w.rows, cmp_cg_path);
    for (size_t i = 0; i + 1 < w.n; i++) {
        size_t l = strlen(w.rows[i].path);
        if (strncmp(w.rows[i + 1].path, w.rows[i].path, l) == 0 && w.rows[i + 1].path[l] == '/')
            w.rows[i].leaf = 0;
    }
    qsort(w.rows, w.n, sizeof *w.rows, cmp_cg);
    size_t rl = strlen(ref.dir);
    json_object *arr = out == OUT_JSON ? json_object_new_array() : NULL;
    char a[32], b[32], c[32], d[32];
    if (out == OUT_CSV)
        printf("cgroup,version,working_set_bytes,usage_bytes,limit_bytes,headroom_bytes,"
               "rss_bytes,cache_bytes,oom_kills\n");
    else if (out == OUT_TABLE)
        printf("%11s %11s %11s %11s %9s  %s\n", "WORKING_SET", "USAGE", "LIMIT", "HEADROOM",
               "OOM_KILLS", "CGROUP");
    long shown = 0;
    for (size_t i = 0; i < w.n && shown < n; i++) {
        const struct cg_row *r = &w.rows[i];
        if (leaves && !r->leaf)
            continue;
        shown++;
        const char *rel = r->path + rl;
        if (!*rel)
            rel = "/";
        const oomkit_mem_cgroup_stats *s = &r->s;
        if (out == OUT_CSV) {
            printf("\"%s\",%d", rel, r->version);
            csv_u64(s->working_set_bytes);
            csv_u64(s->usage_bytes);
            csv_u64(s->limit_bytes);
            csv_u64(s->headroom_bytes);
            csv_u64(s->rss_bytes);
            csv_u64(s->cache_bytes);
            csv_u64(s->oom_kill);
            printf("\n");
        } else if (out == OUT_JSON) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "cgroup", json_object_new_string(rel));
            json_object_object_add(o, "version", json_object_new_int(r->version));
            json_object_object_add(o, "working_set_bytes", mem_json_u64(s->working_set_bytes));
            json_object_object_add(o, "usage_bytes", mem_json_u64(s->usage_bytes));
            json_object_object_add(o, "limit_bytes", mem_json_u64(s->limit_bytes));
            json_object_object_add(o, "headroom_bytes", mem_json_u64(s->headroom_bytes));
            json_object_object_add(o, "rss_bytes", mem_json_u64(s->rss_bytes));
            json_object_object_add(o, "cache_bytes", mem_json_u64(s->cache_bytes));
            json_object_object_add(o, "oom_kills", mem_json_u64(s->oom_kill));
            json_object_array_add(arr, o);
        } else {
            char k[32];
            if (oomkit_mem_has(s->oom_kill))
                snprintf(k, sizeof k, "%llu", (unsigned long long)s->oom_kill);
            else
                snprintf(k, sizeof k, "-");
            printf("%11s %11s %11s %11s %9s  %s\n",
                   mem_fmt_bytes(s->working_set_bytes, a, sizeof a),
                   mem_fmt_bytes(s->usage_bytes, b, sizeof b),
                   mem_fmt_bytes(s->limit_bytes, c, sizeof c),
                   mem_fmt_bytes(s->headroom_bytes, d, sizeof d), k, rel);
        }
    }
    if (arr) {
        printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(arr);
    }
    for (size_t i = 0; i < w.n; i++)
        free(w.rows[i].path);
    free(w.rows);
    return OOMKIT_EXIT_OK;
}

static int cmd_top(int argc, char **argv)
{
    if (oomkit__cli_wants_help(argc, argv)) {
        help(stdout);
        return OOMKIT_EXIT_OK;
    }
    static const struct option opts[] = {
        { "cgroups", no_argument, 0, 'c' }, { "procs", no_argument, 0, 'p' },
        { "csv", no_argument, 0, 'C' },     { "json", no_argument, 0, 'J' },
        { "root", required_argument, 0, 'r' }, { "sysroot", required_argument, 0, 's' },
        { "leaves", no_argument, 0, 'l' },  { 0, 0, 0, 0 },
    };
    int mode = 0, out = OUT_TABLE, leaves = 0;
    long n = 10;
    const char *root = NULL, *sysroot = NULL;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
        case 'p':
            if (mode && mode != c) {
                fprintf(stderr, "oomkit top: --cgroups and --procs exclude each other\n");
                return OOMKIT_EXIT_USAGE;
            }
            mode = c;
            break;
        case 'C':
        case 'J':
            if (out != OUT_TABLE) {
                fprintf(stderr, "oomkit top: choose one of --csv and --json\n");
                return OOMKIT_EXIT_USAGE;
            }
            out = c == 'C' ? OUT_CSV : OUT_JSON;
            break;
        case 'r': root = optarg; break;
        case 's': sysroot = optarg; break;
        case 'l': leaves = 1; break;
        case 'n':
            n = mem_parse_count(optarg);
            if (n < 0) {
                fprintf(stderr, "oomkit top: -n needs a positive count\n");
                return OOMKIT_EXIT_USAGE;
            }
            break;
        default:
            fprintf(stderr, "oomkit top: see oomkit top --help\n");
            return OOMKIT_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "oomkit top: unexpected argument '%s'\n", argv[optind]);
        return OOMKIT_EXIT_USAGE;
    }
    if (!mode)
        mode = (root || leaves) ? 'c' : 'p';
    if (mode == 'p' && (root || leaves)) {
        fprintf(stderr, "oomkit top: --root and --leaves apply to --cgroups\n");
        return OOMKIT_EXIT_USAGE;
    }
    oomkit_mem_ctx *ctx = NULL;
    int open_code = mem_cli_open("top", sysroot, &ctx);
    if (open_code != OOMKIT_EXIT_OK)
        return open_code;
    int code = mode == 'p' ? top_procs(ctx, n, out) : top_cgroups(ctx, root, n, out, leaves);
    oomkit_mem_ctx_close(ctx);
    return code;
}

OOMKIT_COMMAND(top, "top processes or cgroups by working set", cmd_top)
