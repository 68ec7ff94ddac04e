/* Output files replaced all or nothing, through stdio (file_replace.h). */
#include "core/file_replace.h"

#include <errno.h>

FILE *oomkit__fopen_replace(oomkit__file_replace *r, const char *path)
{
    int err = oomkit__file_replace_open(r, path);
    if (err != 0) {
        errno = -err;
        return NULL;
    }
    FILE *f = fdopen(r->fd, "w");
    if (f == NULL) {
        err = errno;
        oomkit__file_replace_abort(r);
        errno = err;
        return NULL;
    }
    /* So that a failed write leaves its own errno for fclose_replace. */
    errno = 0;
    return f;
}

int oomkit__fclose_replace(oomkit__file_replace *r, FILE *f, int keep)
{
    int err = 0;
    if (ferror(f))
        err = errno != 0 ? -errno : -EIO;
    /* fclose closes r->fd; a failed flush there is a failed write. */
    if (fclose(f) != 0 && err == 0)
        err = -errno;
    r->fd = -1;
    if (!keep || err != 0) {
        oomkit__file_replace_abort(r);
        return keep ? err : 0;
    }
    return oomkit__file_replace_commit(r);
}
