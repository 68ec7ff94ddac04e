/* `oomkit inspect PID [--json]`: where is this process's memory?
 *
 * One screen built from the mem readers: totals, the category breakdown of
 * the mappings (heap, stacks, anon_mmap, file, shmem, other), the largest
 * mappings, and the process's memory cgroup (usage, working set, limit,
 * headroom, fail count, OOM kills, pressure). --json prints the same data;
 * every field is described in --help and in docs/architecture.md. */
#include "cli/cli.h"
#include "cli/inspect_fmt.h"

#include "oomkit/mem.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    EXIT_NO_PROCESS = 10,
    EXIT_ZOMBIE = 11,
    EXIT_DENIED = 12,
};

static void help(FILE *out)
{
    fprintf(out,
        "usage: oomkit inspect PID [--json] [-n N] [--sysroot DIR]\n"
        "\n"
        "Shows where a process's memory is: totals, a breakdown of its mappings by\n"
        "category, the largest mappings, its threads, and its memory cgroup.\n"
        "\n"
        "options:\n"
        "  --json         print JSON (all sizes in bytes) instead of a table\n"
        "  -n N           list the N largest mappings by RSS (default 10)\n"
        "  --sysroot DIR  read /proc and /sys under DIR (fixture or captured tree)\n"
        "\n"
        "categories (first rule that matches):\n"
        "  heap       [heap] (glibc main arena) and glibc arena mappings (64 MiB-aligned)\n"
        "  stacks     [stack], each thread's stack (found from its stack pointer in\n"
        "             /proc/PID/task/TID/syscall, or by its guard page) and guards\n"
        "  shmem      /dev/shm, memfd:, SYSV segments, shared anonymous mappings\n"
        "  file       other file-backed mappings (code, data, mapped files)\n"
        "  anon_mmap  other anonymous mappings (large mallocs, runtime heaps, mmap)\n"
        "  other      [vdso], [vvar], [vsyscall] and similar\n"
        "\n"
        "JSON fields: pid, name, state, threads, rss_bytes, pss_bytes, swap_bytes,\n"
        "  virtual_bytes (sums over smaps); categories.<name>.{rss_bytes, pss_bytes,\n"
        "  swap_bytes, size_bytes (virtual), mappings (count), share_pct (of rss)};\n"
        "  largest_mappings[].{start, end (hex strings), perms, path, category,\n"
        "  rss_bytes, pss_bytes, swap_bytes}; cgroup: null if none, else {path,\n"
        "  version (1|2), usage_bytes, working_set_bytes (usage - inactive_file),\n"
        "  limit_bytes (null: no limit), headroom_bytes (limit - working set; null:\n"
        "  no limit), failcnt (v1), oom_kills, rss_bytes, cache_bytes, swap_bytes,\n"
        "  psi (v2: {some_avg10_pct, full_avg10_pct, ...} or null)}; system_psi:\n"
        "  /proc/pressure/memory or null. Fields the kernel does not report are null.\n"
        "\n"
        "exit status:\n"
        "  0   success\n"
        "  2   bad command line\n"
        "  3   could not read the process for another reason\n"
        "  10  no such process\n"
        "  11  the process is a zombie (it has exited; no memory left to show)\n"
        "  12  permission denied (the message names the file; run as the owner or root)\n");
}

struct cg_info {
    int ok;
    oomkit_mem_cgroup_ref ref;
    oomkit_mem_cgroup_stats s;
};

static int cmp_rss_desc(const void *a, const void *b)
{
    const oomkit_mem_mapping *x = *(const oomkit_mem_mapping *const *)a;
    const oomkit_mem_mapping *y = *(const oomkit_mem_mapping *const *)b;
    uint64_t rx = oomkit_mem_has(x->f.rss_bytes) ? x->f.rss_bytes : 0;
    uint64_t ry = oomkit_mem_has(y->f.rss_bytes) ? y->f.rss_bytes : 0;
    return (rx < ry) - (rx > ry);
}

static json_object *psi_json(const oomkit_mem_psi *p)
{
    json_object *o = json_object_new_object();
    const oomkit_mem_psi_line *l[2] = { &p->some, &p->full };
    const char *nm[2] = { "some", "full" };
    for (int i = 0; i < 2; i++) {
        char k[32];
        if (!l[i]->present)
            continue;
        snprintf(k, sizeof k, "%s_avg10_pct", nm[i]);
        json_object_object_add(o, k, json_object_new_double(l[i]->avg10_pct));
        snprintf(k, sizeof k, "%s_avg60_pct", nm[i]);
        json_object_object_add(o, k, json_object_new_double(l[i]->avg60_pct));
        snprintf(k, sizeof k, "%s_avg300_pct", nm[i]);
        json_object_object_add(o, k, json_object_new_double(l[i]->avg300_pct));
        snprintf(k, sizeof k, "%s_total_us", nm[i]);
        json_object_object_add(o, k, json_object_new_int64((int64_t)l[i]->total_us));
    }
    return o;
}

static void print_json(pid_t pid, const oomkit_mem_status *st, uint64_t threads,
                       const oomkit_mem_breakdown *b, const oomkit_mem_mapping *const *top,
                       size_t ntop, const struct cg_info *cg, const oomkit_mem_psi *sys_psi)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "pid", json_object_new_int(pid));
    json_object_object_add(o, "name", json_object_new_string(st->name));
    char state[2] = { st->state ? st->state : '?', 0 };
    json_object_object_add(o, "state", json_object_new_string(state));
    json_object_object_add(o, "threads", json_object_new_int64((int64_t)threads));
    json_object_object_add(o, "rss_bytes", mem_json_u64(b->total.rss_bytes));
    json_object_object_add(o, "pss_bytes", mem_json_u64(b->total.pss_bytes));
    json_object_object_add(o, "swap_bytes", mem_json_u64(b->total.swap_bytes));
    json_object_object_add(o, "virtual_bytes", mem_json_u64(b->total.size_bytes));
    json_object *cats = json_object_new_object();
    for (int c = 0; c < OOMKIT_MEM_CAT_COUNT; c++) {
        const oomkit_mem_cat_totals *t = &b->cat[c];
        json_object *j = json_object_new_object();
        json_object_object_add(j, "rss_bytes", mem_json_u64(t->rss_bytes));
        json_object_object_add(j, "pss_bytes", mem_json_u64(t->pss_bytes));
        json_object_object_add(j, "swap_bytes", mem_json_u64(t->swap_bytes));
        json_object_object_add(j, "size_bytes", mem_json_u64(t->size_bytes));
        json_object_object_add(j, "mappings", json_object_new_int64((int64_t)t->mappings));
        double share = b->total.rss_bytes ? 100.0 * (double)t->rss_bytes /
                                                (double)b->total.rss_bytes : 0.0;
        json_object_object_add(j, "share_pct", json_object_new_double(share));
        json_object_object_add(cats, oomkit_mem_category_name((oomkit_mem_category)c), j);
    }
    json_object_object_add(o, "categories", cats);
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < ntop; i++) {
        const oomkit_mem_mapping *m = top[i];
        json_object *j = json_object_new_object();
        char a[32];
        snprintf(a, sizeof a, "0x%llx", (unsigned long long)m->start);
        json_object_object_add(j, "start", json_object_new_string(a));
        snprintf(a, sizeof a, "0x%llx", (unsigned long long)m->end);
        json_object_object_add(j, "end", json_object_new_string(a));
        json_object_object_add(j, "perms", json_object_new_string(m->perms));
        json_object_object_add(j, "path",
                               json_object_new_string_len(m->path.ptr ? m->path.ptr : "",
                                                          (int)m->path.len));
        json_object_object_add(
            j, "category",
            json_object_new_string(oomkit_mem_category_name((oomkit_mem_category)m->category)));
        json_object_object_add(j, "rss_bytes", mem_json_u64(m->f.rss_bytes));
        json_object_object_add(j, "pss_bytes", mem_json_u64(m->f.pss_bytes));
        json_object_object_add(j, "swap_bytes", mem_json_u64(m->f.swap_bytes));
        json_object_array_add(arr, j);
    }
    json_object_object_add(o, "largest_mappings", arr);
    if (cg->ok) {
        const oomkit_mem_cgroup_stats *s = &cg->s;
        json_object *j = json_object_new_object();
        json_object_object_add(j, "path", json_object_new_string(cg->ref.path));
        json_object_object_add(j, "version", json_object_new_int(cg->ref.version));
        json_object_object_add(j, "usage_bytes", mem_json_u64(s->usage_bytes));
        json_object_object_add(j, "working_set_bytes", mem_json_u64(s->working_set_bytes));
        json_object_object_add(j, "limit_bytes", mem_json_u64(s->limit_bytes));
        json_object_object_add(j, "headroom_bytes", mem_json_u64(s->headroom_bytes));
        json_object_object_add(j, "failcnt", mem_json_u64(s->failcnt));
        json_object_object_add(j, "oom_kills", mem_json_u64(s->oom_kill));
        json_object_object_add(j, "rss_bytes", mem_json_u64(s->rss_bytes));
        json_object_object_add(j, "cache_bytes", mem_json_u64(s->cache_bytes));
        json_object_object_add(j, "swap_bytes", mem_json_u64(s->swap_bytes));
        json_object_object_add(j, "psi", s->psi_present ? psi_json(&s->psi) : NULL);
        json_object_object_add(o, "cgroup", j);
    } else {
        json_object_object_add(o, "cgroup", NULL);
    }
    json_object_object_add(o, "system_psi", sys_psi ? psi_json(sys_psi) : NULL);
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

static void print_text(pid_t pid, const oomkit_mem_status *st, uint64_t threads,
                       const oomkit_mem_breakdown *b, const oomkit_mem_mapping *const *top,
                       size_t ntop, const struct cg_info *cg, const oomkit_mem_psi *sys_psi)
{
    char a[32], c2[32], c3[32], c4[32], c5[32];
    printf("pid %d (%s)  state %c  threads %llu\n", (int)pid, st->name,
           st->state ? st->state : '?', (unsigned long long)threads);
    printf("rss %s  pss %s  swap %s  virtual %s\n\n",
           mem_fmt_bytes(b->total.rss_bytes, a, sizeof a),
           mem_fmt_bytes(b->total.pss_bytes, c2, sizeof c2),
           mem_fmt_bytes(b->total.swap_bytes, c3, sizeof c3),
           mem_fmt_bytes(b->total.size_bytes, c4, sizeof c4));
    printf("%-10s %11s %6s %11s %11s %11s %8s\n", "category", "rss", "share", "pss", "swap",
           "virtual", "mappings");
    for (int c = 0; c < OOMKIT_MEM_CAT_COUNT; c++) {
        const oomkit_mem_cat_totals *t = &b->cat[c];
        double share = b->total.rss_bytes ? 100.0 * (double)t->rss_bytes /
                                                (double)b->total.rss_bytes : 0.0;
        printf("%-10s %11s %5.1f%% %11s %11s %11s %8llu\n",
               oomkit_mem_category_name((oomkit_mem_category)c),
               mem_fmt_bytes(t->rss_bytes, a, sizeof a), share,
               mem_fmt_bytes(t->pss_bytes, c2, sizeof c2),
               mem_fmt_bytes(t->swap_bytes, c3, sizeof c3),
               mem_fmt_bytes(t->size_bytes, c4, sizeof c4), (unsigned long long)t->mappings);
    }
    printf("\nlargest mappings by rss:\n");
    for (size_t i = 0; i < ntop; i++) {
        const oomkit_mem_mapping *m = top[i];
        printf("  %012llx-%012llx %s %10s %-9s %.*s\n", (unsigned long long)m->start,
               (unsigned long long)m->end, m->perms,
               mem_fmt_bytes(m->f.rss_bytes, a, sizeof a),
               oomkit_mem_category_name((oomkit_mem_category)m->category),
               (int)(m->path.len > 200 ? 200 : m->path.len), m->path.ptr ? m->path.ptr : "");
    }
    printf("\n");
    if (cg->ok) {
        const oomkit_mem_cgroup_stats *s = &cg->s;
        printf("cgroup v%d %s\n", cg->ref.version, cg->ref.path);
        printf("  usage %s  working set %s  limit %s  headroom %s\n",
               mem_fmt_bytes(s->usage_bytes, a, sizeof a),
               mem_fmt_bytes(s->working_set_bytes, c2, sizeof c2),
               mem_fmt_bytes(s->limit_bytes, c3, sizeof c3),
               mem_fmt_bytes(s->headroom_bytes, c4, sizeof c4));
        printf("  rss %s  cache %s  failcnt %s  oom kills %s\n",
               mem_fmt_bytes(s->rss_bytes, a, sizeof a),
               mem_fmt_bytes(s->cache_bytes, c2, sizeof c2),
               oomkit_mem_has(s->failcnt) ? (snprintf(c3, sizeof c3, "%llu",
                                                      (unsigned long long)s->failcnt), c3)
                                          : "-",
               oomkit_mem_has(s->oom_kill) ? (snprintf(c5, sizeof c5, "%llu",
                                                       (unsigned long long)s->oom_kill), c5)
                                           : "-");
        if (s->psi_present)
            printf("  pressure some avg10 %.2f%%  full avg10 %.2f%%\n", s->psi.some.avg10_pct,
                   s->psi.full.avg10_pct);
    } else {
        printf("cgroup: none found\n");
    }
    if (sys_psi)
        printf("system pressure: some avg10 %.2f%%  full avg10 %.2f%%\n",
               sys_psi->some.avg10_pct, sys_psi->full.avg10_pct);
}

static int fail(const char *what, int rc, oomkit_mem_ctx *ctx, long pid)
{
    if (rc == -ESRCH) {
        fprintf(stderr, "oomkit inspect: no such process: %ld\n", pid);
        return EXIT_NO_PROCESS;
    }
    const char *where = oomkit_mem_ctx_last_path(ctx);
    if (rc == -EACCES || rc == -EPERM) {
        /* Root is refused too when a security module or a container's
         * ptrace rules say so. */
        fprintf(stderr, "oomkit inspect: permission denied reading %s (%s)\n", where,
                geteuid() == 0 ? "refused even to root: a security module, or the process is "
                                 "outside this container's reach"
                               : "run as the process owner or root");
        return EXIT_DENIED;
    }
    fprintf(stderr, "oomkit inspect: cannot read %s of process %ld: %s%s%s%s\n", what, pid,
            oomkit_strerror(rc), where[0] != '\0' ? " (" : "", where, where[0] != '\0' ? ")" : "");
    return OOMKIT_EXIT_FAIL;
}

static int cmd_inspect(int argc, char **argv)
{
    if (oomkit__cli_wants_help(argc, argv)) {
        help(stdout);
        return OOMKIT_EXIT_OK;
    }
    static const struct option opts[] = {
        { "json", no_argument, 0, 'j' },
        { "sysroot", required_argument, 0, 'r' },
        { 0, 0, 0, 0 },
    };
    int json = 0;
    long ntop = 10;
    const char *sysroot = NULL;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
        switch (c) {
        case 'j': json = 1; break;
        case 'r': sysroot = optarg; break;
        case 'n':
            ntop = mem_parse_count(optarg);
            if (ntop < 0) {
                fprintf(stderr, "oomkit inspect: -n needs a positive count\n");
                return OOMKIT_EXIT_USAGE;
            }
            break;
        default:
            fprintf(stderr, "oomkit inspect: see oomkit inspect --help\n");
            return OOMKIT_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "oomkit inspect: expected one PID (see oomkit inspect --help)\n");
        return OOMKIT_EXIT_USAGE;
    }
    long pid = mem_parse_count(argv[optind]);
    if (pid < 0 || pid > INT32_MAX) {
        fprintf(stderr, "oomkit inspect: not a process id: %s\n", argv[optind]);
        return OOMKIT_EXIT_USAGE;
    }
    oomkit_mem_ctx *ctx = NULL;
    int open_code = mem_cli_open("inspect", sysroot, &ctx);
    if (open_code != OOMKIT_EXIT_OK)
        return open_code;
    int exit_code = OOMKIT_EXIT_OK;
    oomkit_mem_status st;
    oomkit_mem_breakdown b;
    oomkit_mem_maps *maps = NULL;
    uint64_t threads = 0;
    int rc = oomkit_mem_status_read(ctx, (pid_t)pid, &st);
    if (rc < 0) {
        exit_code = fail("status", rc, ctx, pid);
        goto out;
    }
    if (st.state == 'Z' || st.state == 'X') {
        fprintf(stderr, "oomkit inspect: process %ld is a zombie (exited, not yet reaped by "
                        "its parent %lld)\n", pid, (long long)st.ppid);
        exit_code = EXIT_ZOMBIE;
        goto out;
    }
    rc = oomkit_mem_breakdown_read(ctx, (pid_t)pid, &b, &maps, &threads);
    if (rc < 0) {
        exit_code = fail("mappings", rc, ctx, pid);
        goto out;
    }
    size_t n = oomkit_mem_maps_count(maps);
    size_t want = (size_t)ntop < n ? (size_t)ntop : n;
    const oomkit_mem_mapping **sorted = malloc((want ? want : 1) * sizeof *sorted);
    if (!sorted) {
        fprintf(stderr, "oomkit inspect: out of memory\n");
        exit_code = OOMKIT_EXIT_FAIL;
        goto out;
    }
    /* Keep only the ntop largest by insertion into a short sorted prefix:
     * O(n * ntop) beats sorting all 50 000 mappings of a big process. */
    size_t shown = 0, cap = want;
    for (size_t i = 0; i < n && cap; i++) {
        const oomkit_mem_mapping *m = oomkit_mem_maps_get(maps, i);
        if (shown == cap && cmp_rss_desc(&m, &sorted[shown - 1]) >= 0)
            continue;
        size_t at = shown < cap ? shown++ : shown - 1;
        while (at > 0 && cmp_rss_desc(&m, &sorted[at - 1]) < 0) {
            sorted[at] = sorted[at - 1];
            at--;
        }
        sorted[at] = m;
    }

    struct cg_info cg;
    memset(&cg, 0, sizeof cg);
    if (oomkit_mem_cgroup_of_pid(ctx, (pid_t)pid, NULL, &cg.ref) == 0 &&
        oomkit_mem_cgroup_read(ctx, &cg.ref, &cg.s) == 0)
        cg.ok = 1;
    oomkit_mem_psi psi;
    int have_psi = oomkit_mem_psi_read(ctx, &psi) == 0;
    if (json)
        print_json((pid_t)pid, &st, threads, &b, sorted, shown, &cg, have_psi ? &psi : NULL);
    else
        print_text((pid_t)pid, &st, threads, &b, sorted, shown, &cg, have_psi ? &psi : NULL);
    free(sorted);
out:
    oomkit_mem_maps_free(maps);
    oomkit_mem_ctx_close(ctx);
    return exit_code;
}

OOMKIT_COMMAND(inspect, "where is a process's memory? (categories, cgroup)", cmd_inspect)
