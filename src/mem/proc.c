/* The reading context and the per-process and system readers: each one
 * fetches a file through the seam (mem_sys.c) and hands it to a parser
 * (parse_proc.c, parse_smaps.c). */
#include "mem/mem_internal.h"

#include "core/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_BUFFER_BYTES (256 * 1024)

int oomkit_mem_ctx_open(const oomkit_mem_options *opts, oomkit_mem_ctx **out)
{
    if (!out)
        return -EINVAL;
    oomkit_mem_ctx *ctx = oomkit__calloc(1, sizeof *ctx);
    if (!ctx)
        return -ENOMEM;
    const char *root = opts ? opts->root : NULL;
    if (root && root[0] && strcmp(root, "/") != 0) {
        size_t n = strlen(root);
        while (n > 1 && root[n - 1] == '/')
            n--;
        if (n >= sizeof ctx->root - 1) {
            oomkit__free(ctx);
            return -ENAMETOOLONG;
        }
        memcpy(ctx->root, root, n);
        ctx->root[n] = '\0';
        ctx->root_len = n;
        /* A root that is missing or a file is said now, not as -ENOTDIR
         * or "no such process" from the first read. */
        struct stat st;
        int bad = stat(ctx->root, &st) != 0 ? -errno : !S_ISDIR(st.st_mode) ? -ENOTDIR : 0;
        if (bad != 0) {
            oomkit__free(ctx);
            return bad;
        }
    }
    long ps = sysconf(_SC_PAGESIZE);
    ctx->page_size_bytes = ps > 0 ? (uint64_t)ps : 4096;
    size_t want = (opts && opts->buffer_bytes) ? opts->buffer_bytes : DEFAULT_BUFFER_BYTES;
    /* A hint: past 64 MiB the buffer grows when a file needs it. */
    if (want > ((size_t)64 << 20))
        want = (size_t)64 << 20;
    int rc = oomkit__mem_reserve(ctx, want < 8192 ? 8192 : want);
    if (rc < 0) {
        oomkit__free(ctx);
        return rc;
    }
    *out = ctx;
    return 0;
}

void oomkit_mem_ctx_close(oomkit_mem_ctx *ctx)
{
    if (!ctx)
        return;
    oomkit__free(ctx->buf);
    oomkit__free(ctx);
}

const char *oomkit_mem_ctx_last_path(const oomkit_mem_ctx *ctx)
{
    return ctx ? ctx->last_path : "";
}

const char *oomkit_mem_ctx_root(const oomkit_mem_ctx *ctx)
{
    return (ctx && ctx->root_len) ? ctx->root : "/";
}

/* Reads /proc/PID/<name> (or the task's file when tid > 0) into ctx->buf. */
static int read_proc(oomkit_mem_ctx *ctx, pid_t pid, pid_t tid, const char *name,
                     size_t *len)
{
    if (!ctx || pid <= 0)
        return -EINVAL;
    char path[96];
    if (tid > 0)
        snprintf(path, sizeof path, "/proc/%d/task/%d/%s", (int)pid, (int)tid, name);
    else
        snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, name);
    int rc = oomkit__mem_read(ctx, path, len);
    return rc < 0 ? oomkit__mem_proc_err(ctx, pid, rc) : 0;
}

int oomkit_mem_status_read(oomkit_mem_ctx *ctx, pid_t pid, oomkit_mem_status *out)
{
    size_t len;
    if (!out)
        return -EINVAL;
    int rc = read_proc(ctx, pid, 0, "status", &len);
    return rc < 0 ? rc : oomkit__mem_parsed(ctx, oomkit__parse_status(ctx->buf, len, out));
}

int oomkit_mem_statm_read(oomkit_mem_ctx *ctx, pid_t pid, oomkit_mem_statm *out)
{
    size_t len;
    if (!out)
        return -EINVAL;
    int rc = read_proc(ctx, pid, 0, "statm", &len);
    return rc < 0 ? rc
                  : oomkit__mem_parsed(ctx, oomkit__parse_statm(ctx->buf, len,
                                                                ctx->page_size_bytes, out));
}

int oomkit_mem_pstat_read(oomkit_mem_ctx *ctx, pid_t pid, pid_t tid, oomkit_mem_pstat *out)
{
    size_t len;
    if (!out)
        return -EINVAL;
    int rc = read_proc(ctx, pid, tid, "stat", &len);
    return rc < 0 ? rc
                  : oomkit__mem_parsed(ctx, oomkit__parse_pstat(ctx->buf, len,
                                                                ctx->page_size_bytes, out));
}

int oomkit_mem_smaps_rollup_read(oomkit_mem_ctx *ctx, pid_t pid, oomkit_mem_smaps_fields *out)
{
    size_t len;
    if (!out)
        return -EINVAL;
    int rc = read_proc(ctx, pid, 0, "smaps_rollup", &len);
    /* A zombie has no mm: the kernel fails the read with ESRCH although
     * /proc/PID still exists (a kernel thread gives an empty file). Both
     * report every field absent rather than "no such process". */
    if (rc == -ESRCH && oomkit__mem_proc_err(ctx, pid, -ENOENT) == -ENOENT) {
        oomkit__smaps_fields_clear(out);
        return 0;
    }
    if (rc < 0)
        return rc;
    if (len == 0) {
        oomkit__smaps_fields_clear(out);
        return 0;
    }
    return oomkit__mem_parsed(ctx, oomkit__parse_smaps_rollup(ctx->buf, len, out));
}

int oomkit_mem_thread_sp(oomkit_mem_ctx *ctx, pid_t pid, pid_t tid, uint64_t *sp)
{
    size_t len;
    if (!ctx || !sp || pid <= 0 || tid < 0)
        return -EINVAL;
    int rc = read_proc(ctx, pid, tid, "syscall", &len);
    if (rc == 0) {
        rc = oomkit__parse_syscall_sp(ctx->buf, len, sp);
        if (rc == 0)
            return 0;
    }
    if (rc == -ESRCH)
        return rc;
    /* kstkesp is only filled while the task dumps core (since 4.x), but
     * older kernels and some configurations still report it. */
    oomkit_mem_pstat st;
    int rc2 = oomkit_mem_pstat_read(ctx, pid, tid, &st);
    if (rc2 == -ESRCH)
        return rc2;
    if (rc2 == 0 && st.kstkesp != 0 && st.kstkesp != OOMKIT_MEM_ABSENT) {
        *sp = st.kstkesp;
        return 0;
    }
    return -ENODATA;
}

/* Lists the numeric entries of a directory into ids[0..cap), counting all. */
static int list_numeric(oomkit_mem_ctx *ctx, const char *dir, pid_t *ids, size_t cap,
                        size_t *count)
{
    int err;
    DIR *d = oomkit__mem_opendir(ctx, dir, &err);
    if (!d)
        return err;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *s = e->d_name;
        size_t i = 0;
        uint64_t v;
        size_t len = strlen(s);
        if (oomkit__parse_u64(s, len, &i, &v) < 0 || i != len || v == 0 || v > INT32_MAX)
            continue;
        if (n < cap && ids)
            ids[n] = (pid_t)v;
        n++;
    }
    closedir(d);
    *count = n;
    return 0;
}

int oomkit_mem_threads_list(oomkit_mem_ctx *ctx, pid_t pid, pid_t *tids, size_t cap,
                            size_t *count)
{
    if (!ctx || !count || pid <= 0 || (tids == NULL && cap != 0))
        return -EINVAL;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    int rc = list_numeric(ctx, path, tids, cap, count);
    return rc < 0 ? oomkit__mem_proc_err(ctx, pid, rc) : 0;
}

int oomkit_mem_pids_list(oomkit_mem_ctx *ctx, pid_t *pids, size_t cap, size_t *count)
{
    if (!ctx || !count || (pids == NULL && cap != 0))
        return -EINVAL;
    return list_numeric(ctx, "/proc", pids, cap, count);
}

int oomkit_mem_meminfo_read(oomkit_mem_ctx *ctx, oomkit_mem_meminfo *out)
{
    size_t len;
    if (!ctx || !out)
        return -EINVAL;
    int rc = oomkit__mem_read(ctx, "/proc/meminfo", &len);
    return rc < 0 ? rc : oomkit__mem_parsed(ctx, oomkit__parse_meminfo(ctx->buf, len, out));
}

int oomkit_mem_psi_read(oomkit_mem_ctx *ctx, oomkit_mem_psi *out)
{
    size_t len;
    if (!ctx || !out)
        return -EINVAL;
    int rc = oomkit__mem_read(ctx, "/proc/pressure/memory", &len);
    if (rc < 0)
        return rc;
    return oomkit__mem_parsed(ctx, oomkit__parse_psi(ctx->buf, len, out));
}

int oomkit__mem_proc_alive(oomkit_mem_ctx *ctx, pid_t pid)
{
    oomkit_mem_pstat st;
    int rc = oomkit_mem_pstat_read(ctx, pid, 0, &st);
    if (rc == -ESRCH)
        return 0;
    /* Any other failure (no permission, odd format) says nothing about
     * exit: assume alive rather than discard a good read. */
    return rc < 0 || (st.state != 'Z' && st.state != 'X');
}

int oomkit__mem_has_mm(oomkit_mem_ctx *ctx, pid_t pid)
{
    oomkit_mem_statm sm;
    int rc = oomkit_mem_statm_read(ctx, pid, &sm);
    if (rc == -ESRCH)
        return 0;
    /* statm prints zeros for a task without an mm; a live process always
     * has a non-empty address space. */
    return rc < 0 || sm.size_bytes != 0;
}
