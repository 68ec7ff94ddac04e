/* The helpers of bench_test_util.h. */
#include "bench_test_util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static char tmpdir[PATH_MAX];

const char *bt_oomkit(void)
{
    static char path[PATH_MAX];
    const char *dir = getenv("OOMKIT_BINARY_DIR");
    if (dir == NULL) {
        fprintf(stderr, "OOMKIT_BINARY_DIR is not set (run the test through ctest)\n");
        abort();
    }
    snprintf(path, sizeof(path), "%s/oomkit", dir);
    return path;
}

const char *bt_tmpdir(void)
{
    if (tmpdir[0] == '\0') {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof(tmpdir), "%s/oomkit-bench-test-XXXXXX", base ? base : "/tmp");
        if (mkdtemp(tmpdir) == NULL) {
            perror("mkdtemp");
            abort();
        }
    }
    return tmpdir;
}

void bt_cleanup(void)
{
    if (tmpdir[0] == '\0')
        return;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    tmpdir[0] = '\0';
}

char *bt_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n < 2) {
            char *grown = realloc(buf, cap * 2);
            if (grown == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf == NULL)
        return NULL;
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

int bt_run(const char *cmd, char **out, char **err)
{
    const char *dir = bt_tmpdir();
    char out_path[PATH_MAX], err_path[PATH_MAX];
    if (snprintf(out_path, sizeof(out_path), "%s/.stdout", dir) >= (int)sizeof(out_path) ||
        snprintf(err_path, sizeof(err_path), "%s/.stderr", dir) >= (int)sizeof(err_path))
        return -1;
    size_t need = strlen(cmd) + strlen(out_path) + strlen(err_path) + 16;
    char *full = malloc(need);
    if (full == NULL)
        return -1;
    /* A group, so redirections inside cmd keep their own targets. */
    snprintf(full, need, "{ %s; } >'%s' 2>'%s'", cmd, out_path, err_path);
    int ws = system(full);
    free(full);
    if (out != NULL)
        *out = bt_read_file(out_path, NULL);
    if (err != NULL)
        *err = bt_read_file(err_path, NULL);
    if (ws == -1 || !WIFEXITED(ws))
        return -1;
    return WEXITSTATUS(ws);
}
