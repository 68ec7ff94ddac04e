/* `oomkit bench`: runs a component benchmark. The benchmarks live in the
 * separate program oomkit-bench (bench/, with its own registry of
 * benchmarks), which this command executes from the directory of the
 * running oomkit binary with the same arguments; its output and exit code
 * are the command's. */
#include "cli/bench.h"
#include "cli/cli.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int oomkit__cli_bench_path(char *buf, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        snprintf(buf, cap, "cannot find the oomkit executable: /proc/self/exe: %s",
                 strerror(errno));
        return -1;
    }
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    size_t dir_len = slash ? (size_t)(slash - self) : 0;
    int len = snprintf(buf, cap, "%.*s/oomkit-bench", (int)dir_len, self);
    if (len < 0 || (size_t)len >= cap) {
        snprintf(buf, cap, "the path of oomkit-bench is too long");
        return -1;
    }
    if (access(buf, X_OK) != 0) {
        int e = errno;
        char missing[PATH_MAX + 64];
        snprintf(missing, sizeof(missing), "%s", buf);
        snprintf(buf, cap, "cannot run %s (%s); it is built and installed with oomkit",
                 missing, strerror(e));
        return -1;
    }
    return 0;
}

static int cmd_bench(int argc, char **argv)
{
    char path[PATH_MAX + 128];
    if (oomkit__cli_bench_path(path, sizeof(path)) != 0) {
        fprintf(stderr, "oomkit bench: %s\n", path);
        return OOMKIT_EXIT_FAIL;
    }
    /* argv[0] is "oomkit bench"; oomkit-bench takes the benchmark's name next. */
    argv[0] = path;
    fflush(NULL);
    execv(path, argv);
    fprintf(stderr, "oomkit bench: cannot run %s: %s\n", path, strerror(errno));
    (void)argc;
    return OOMKIT_EXIT_FAIL;
}

OOMKIT_COMMAND(bench, "measure a component against its peers (oomkit bench --help)", cmd_bench)
