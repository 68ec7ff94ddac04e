/* Finding the oomkit binary's companion files (see sibling.h). */
#include "cli/sibling.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int oomkit_cli_sibling_path(const char *name, char *out, size_t cap)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash != NULL)
            *slash = '\0';
        /* The build tree keeps everything side by side; an install puts
         * the profiler in the libdir and the operator in libexec. */
        static const char *const rel[] = { "", "/../lib", "/../lib64",
                                           "/../lib/x86_64-linux-gnu", "/../libexec/oomkit" };
        for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
            int w = snprintf(out, cap, "%s%s/%s", exe, rel[i], name);
            if (w > 0 && (size_t)w < cap && is_file(out))
                return 0;
        }
    }
    int w = snprintf(out, cap, "%s/%s", OOMKIT_PROF_LIBDIR, name);
    return w > 0 && (size_t)w < cap && is_file(out) ? 0 : -ENOENT;
}
