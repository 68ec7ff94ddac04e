/* Writing an output file all or nothing (see file_replace.h). */
#include "core/file_replace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copies src into dst[PATH_MAX]. 0 or -ENAMETOOLONG. */
static int copy_path(char *dst, const char *src)
{
    size_t n = strlen(src);
    if (n >= PATH_MAX)
        return -ENAMETOOLONG;
    memcpy(dst, src, n + 1);
    return 0;
}

/* r->target: path, or the file its symbolic link leads to. */
static int resolve_target(oomkit__file_replace *r, const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
        return realpath(path, r->target) != NULL ? 0 : -errno;
    return copy_path(r->target, path);
}

/* Creates the temporary beside the target, with the permission bits of
 * *keep (NULL: the default). */
static int open_tmp(oomkit__file_replace *r, const mode_t *keep)
{
    int n = snprintf(r->tmp, sizeof r->tmp, "%s.tmp.%ld", r->target, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof r->tmp)
        return -ENAMETOOLONG;
    /* O_EXCL: never write through a link someone planted under this name.
     * One left by a killed process of the same pid is stale: retry once. */
    for (int attempt = 0; attempt < 2; attempt++) {
        r->fd = open(r->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (r->fd >= 0)
            break;
        if (errno != EEXIST || attempt == 1 || unlink(r->tmp) != 0)
            return -errno;
    }
    if (keep != NULL && fchmod(r->fd, *keep & 07777) != 0) {
        int e = -errno;
        oomkit__file_replace_abort(r);
        return e;
    }
    return 0;
}

int oomkit__file_replace_open(oomkit__file_replace *r, const char *path)
{
    r->fd = -1;
    r->in_place = 0;
    r->tmp[0] = '\0';
    if (path == NULL || path[0] == '\0')
        return -ENOENT;
    /* What the path leads to decides, before any link is resolved: the
     * link /dev/stdout leads through /proc to "pipe:[N]" when the output
     * is a pipe, a name no file has. */
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno != ENOENT)
            return -errno;
        int err = resolve_target(r, path);
        return err != 0 ? err : open_tmp(r, NULL);
    }
    if (S_ISDIR(st.st_mode))
        return -EISDIR;
    if (!S_ISREG(st.st_mode)) {
        /* A device or a FIFO: nothing to rename over, write to it. */
        int err = copy_path(r->target, path);
        if (err != 0)
            return err;
        r->in_place = 1;
        r->fd = open(path, O_WRONLY | O_CLOEXEC);
        return r->fd >= 0 ? 0 : -errno;
    }
    int err = resolve_target(r, path);
    if (err != 0)
        return err;
    /* A file its owner made read-only is refused, as a shell's '>' would
     * refuse it, although the rename could replace it. */
    if (access(r->target, W_OK) != 0)
        return -errno;
    return open_tmp(r, &st.st_mode);
}

int oomkit__file_replace_commit(oomkit__file_replace *r)
{
    int err = 0;
    if (r->fd >= 0 && close(r->fd) != 0)
        err = -errno;
    r->fd = -1;
    if (err == 0 && !r->in_place && rename(r->tmp, r->target) != 0)
        err = -errno;
    if (err != 0)
        oomkit__file_replace_abort(r);
    r->tmp[0] = '\0';
    return err;
}

void oomkit__file_replace_abort(oomkit__file_replace *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    if (!r->in_place && r->tmp[0] != '\0')
        unlink(r->tmp);
    r->tmp[0] = '\0';
}

int oomkit__file_replace_check(const char *path)
{
    oomkit__file_replace r;
    int err = oomkit__file_replace_open(&r, path);
    if (err == 0)
        oomkit__file_replace_abort(&r);
    return err;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t k = write(fd, p, len);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += k;
        len -= (size_t)k;
    }
    return 0;
}

int oomkit__file_replace_write(const char *path, const void *buf, size_t len)
{
    oomkit__file_replace r;
    int err = oomkit__file_replace_open(&r, path);
    if (err != 0)
        return err;
    err = write_all(r.fd, buf, len);
    if (err != 0) {
        oomkit__file_replace_abort(&r);
        return err;
    }
    return oomkit__file_replace_commit(&r);
}
