/* The mem readers' only door to the file system (the "sys" seam).
 *
 * Every /proc and /sys path goes through here and is prefixed with the
 * context's root, so tests point the readers at fixture trees; a fault hook
 * lets tests fail any open with a chosen errno (EACCES cannot be produced
 * with file modes when the tests run as root). Reads use one reusable
 * buffer per context, grown geometrically, so steady-state reading
 * allocates nothing. */
#include "mem/mem_internal.h"

#include "core/alloc.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int (*oomkit__mem_sys_fault)(const char *path);

int oomkit__mem_path(const oomkit_mem_ctx *ctx, const char *path, char *out)
{
    size_t plen = strlen(path);
    if (ctx->root_len + plen + 1 > OOMKIT_MEM_PATH_MAX)
        return -ENAMETOOLONG;
    memcpy(out, ctx->root, ctx->root_len);
    memcpy(out + ctx->root_len, path, plen + 1);
    return 0;
}

/* Copies path into dst[OOMKIT_MEM_PATH_MAX], cut if need be. */
static void copy_path(char *dst, const char *path)
{
    size_t n = strlen(path);
    if (n >= OOMKIT_MEM_PATH_MAX)
        n = OOMKIT_MEM_PATH_MAX - 1;
    memcpy(dst, path, n);
    dst[n] = '\0';
}

static void remember(oomkit_mem_ctx *ctx, const char *path)
{
    copy_path(ctx->last_path, path);
}

int oomkit__mem_failed(oomkit_mem_ctx *ctx, const char *path, int rc)
{
    remember(ctx, path);
    return rc;
}

int oomkit__mem_parsed(oomkit_mem_ctx *ctx, int rc)
{
    if (rc < 0)
        memcpy(ctx->last_path, ctx->read_path, sizeof ctx->last_path);
    return rc;
}

int oomkit__mem_open(oomkit_mem_ctx *ctx, const char *path)
{
    char full[OOMKIT_MEM_PATH_MAX];
    int rc = oomkit__mem_path(ctx, path, full);
    if (rc == 0 && oomkit__mem_sys_fault)
        rc = oomkit__mem_sys_fault(path);
    if (rc < 0) {
        remember(ctx, path);
        return rc;
    }
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        remember(ctx, path);
        return rc;
    }
    return fd;
}

long oomkit__mem_read_fd(int fd, char *buf, size_t cap)
{
    for (;;) {
        ssize_t n = read(fd, buf, cap);
        if (n >= 0)
            return (long)n;
        if (errno != EINTR)
            return -errno;
    }
}

int oomkit__mem_reserve(oomkit_mem_ctx *ctx, size_t cap)
{
    if (ctx->buf_cap >= cap)
        return 0;
    size_t ncap = ctx->buf_cap ? ctx->buf_cap : 4096;
    while (ncap < cap) {
        if (ncap > SIZE_MAX / 2)
            return -ENOMEM;
        ncap *= 2;
    }
    char *nb = oomkit__realloc(ctx->buf, ncap);
    if (!nb)
        return -ENOMEM;
    ctx->buf = nb;
    ctx->buf_cap = ncap;
    return 0;
}

int oomkit__mem_read(oomkit_mem_ctx *ctx, const char *path, size_t *len)
{
    int fd = oomkit__mem_open(ctx, path);
    if (fd < 0)
        return fd;
    size_t used = 0;
    int rc = 0;
    for (;;) {
        /* Keep room for the terminating NUL and for at least one page of
         * read, since /proc files report size 0 and must be read to EOF. */
        if (ctx->buf_cap - used < 4097) {
            rc = oomkit__mem_reserve(ctx, used + 4097 > ctx->buf_cap * 2
                                              ? used + 4097 : ctx->buf_cap * 2);
            if (rc < 0)
                break;
        }
        long n = oomkit__mem_read_fd(fd, ctx->buf + used, ctx->buf_cap - used - 1);
        if (n < 0) {
            rc = (int)n;
            remember(ctx, path);
            break;
        }
        if (n == 0)
            break;
        used += (size_t)n;
    }
    close(fd);
    if (rc < 0)
        return rc;
    ctx->buf[used] = '\0';
    *len = used;
    copy_path(ctx->read_path, path);
    return 0;
}

DIR *oomkit__mem_opendir(oomkit_mem_ctx *ctx, const char *path, int *err)
{
    int fd = oomkit__mem_open(ctx, path);
    if (fd < 0) {
        *err = fd;
        return NULL;
    }
    DIR *d = fdopendir(fd);
    if (!d) {
        *err = -errno;
        close(fd);
        remember(ctx, path);
        return NULL;
    }
    *err = 0;
    return d;
}

int oomkit__mem_proc_err(oomkit_mem_ctx *ctx, pid_t pid, int err)
{
    if (err != -ENOENT && err != -ESRCH)
        return err;
    char dir[64], full[OOMKIT_MEM_PATH_MAX];
    snprintf(dir, sizeof dir, "/proc/%d", (int)pid);
    if (oomkit__mem_path(ctx, dir, full) < 0)
        return err;
    struct stat st;
    if (stat(full, &st) < 0 && errno == ENOENT)
        return -ESRCH;
    return err;
}

void oomkit__mem_prefault(void *p, size_t len)
{
    /* Measured on the dev VM: a 4 KiB page fault costs ~50 us there (nested
     * virtualisation under load), so faulting in the 13 MB of mappings of a
     * 50 000-mapping process page by page cost more than parsing it. One
     * madvise populates a range inside the kernel instead of thousands of
     * separate fault traps. Content is untouched, so this is safe on memory from
     * any allocator hook; kernels before 5.14 return EINVAL, ignored. */
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
    const uintptr_t page = 4096;
    uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1);
    uintptr_t e = ((uintptr_t)p + len) & ~(page - 1);
    if (e > a)
        (void)madvise((void *)a, e - a, MADV_POPULATE_WRITE);
}
