/* Writing an output file all or nothing. The bytes go to a temporary in
 * the target's directory that is renamed over the target only once all of
 * them are written, so a reader (or a user after a failure or a kill) sees
 * the old file or the whole new one, never half of one.
 *
 * The target is what the path names, not the path itself: a symbolic link
 * stays, and the file it points to is replaced. An existing regular file
 * keeps its permission bits, and one the caller may not write is refused
 * (-EACCES), as a shell's '>' refuses it. A path to something that is not a regular
 * file (a device such as /dev/stdout, a FIFO) is written in place, as the
 * user asked, since it cannot be replaced; a directory is refused
 * (-EISDIR).
 *
 * No stdio and no allocation: the heap profiler writes through this from
 * inside the process it profiles. */
#ifndef OOMKIT_CORE_FILE_REPLACE_H
#define OOMKIT_CORE_FILE_REPLACE_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

typedef struct oomkit__file_replace {
    int fd;                /* write here; -1 once closed by the caller */
    int in_place;          /* 1: fd is the target itself, no rename */
    char target[PATH_MAX]; /* the file replaced (links resolved) */
    char tmp[PATH_MAX];    /* the temporary, while one exists */
} oomkit__file_replace;

/* Opens the output for path. 0 or a negative errno (the target is left as
 * it was). */
int oomkit__file_replace_open(oomkit__file_replace *r, const char *path);
/* Closes the output (unless the caller closed r->fd and set it to -1) and
 * renames the temporary over the target. 0 or a negative errno; on error
 * the temporary is removed and the target left as it was. */
int oomkit__file_replace_commit(oomkit__file_replace *r);
/* Gives up: closes the output and removes the temporary. */
void oomkit__file_replace_abort(oomkit__file_replace *r);

/* Whether path could be written now, checked by creating and removing the
 * temporary: for a command to refuse an unwritable output before a long
 * run rather than after it. 0 or a negative errno. */
int oomkit__file_replace_check(const char *path);

/* The three above for one buffer: writes len bytes of buf as path. */
int oomkit__file_replace_write(const char *path, const void *buf, size_t len);

/* The same through stdio, for the command-line tools (file_replace_stdio.c;
 * not for the profiler). oomkit__fopen_replace: a stream over the output
 * of path, or NULL with errno set. oomkit__fclose_replace: closes f and,
 * when keep is set and every write succeeded, puts the file in place; else
 * the target stays as it was. 0 or a negative errno. */
FILE *oomkit__fopen_replace(oomkit__file_replace *r, const char *path);
int oomkit__fclose_replace(oomkit__file_replace *r, FILE *f, int keep);

#endif
