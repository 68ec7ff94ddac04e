/* Option values checked the same way by every command (cli.h). */
#include "cli/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
