/* Option values checked the same way by every command (cli.h). */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int oomkit__cli_number(const char *cmd, const char *what, const char *s, uint64_t min,
                       uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    /* strtoull would take "-1" as 2^64 - 1, and skips leading blanks. */
    unsigned long long v = s[0] >= '0' && s[0] <= '9' ? strtoull(s, &end, 10) : 0;
    if (end == NULL || *end != '\0' || errno != 0 || v < min || v > max) {
        fprintf(stderr, "oomkit %s: %s wants a whole number from %" PRIu64 " to %" PRIu64
                        ", not '%s'\n",
                cmd, what, min, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

int oomkit__cli_read_fd(int fd, char **out, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    int err = buf == NULL ? -ENOMEM : 0;
    while (err == 0) {
        if (n + 1 == cap) { /* room for the NUL */
            char *b = realloc(buf, cap * 2);
            if (b == NULL) {
                err = -ENOMEM;
                break;
            }
            buf = b;
            cap *= 2;
        }
        ssize_t k = read(fd, buf + n, cap - n - 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            err = -errno;
        else if (k == 0)
            break;
        else
            n += (size_t)k;
    }
    if (err != 0) {
        free(buf);
        return err;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int oomkit__cli_read_all(const char *path, char **out, size_t *len)
{
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int err = oomkit__cli_read_fd(fd, out, len);
    if (fd != 0)
        close(fd);
    return err;
}
