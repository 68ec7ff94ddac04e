/* Helpers for the preload profiler tests; see prof_test_util.h. */
#include "prof_test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

const char *pt_tmpdir(const char *name)
{
    static char dir[512];
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/oomkit-prof-%s-%ld", base ? base : "/tmp", name, (long)getpid());
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return NULL;
    mkdir(dir, 0700);
    return dir;
}

const char *pt_target(const char *name)
{
    static char path[4][512];
    static int next;
    char *p = path[next++ & 3];
    const char *bin = getenv("OOMKIT_BINARY_DIR");
    snprintf(p, 512, "%s/tests/targets/%s", bin ? bin : ".", name);
    return p;
}

int pt_run(char *const argv[], const char *prof_env, char *err_out, size_t cap)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        return -1;
    char preload[600];
    const char *bin = getenv("OOMKIT_BINARY_DIR");
    snprintf(preload, sizeof(preload), "%s/liboomkit_prof.so", bin ? bin : ".");
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pfd[1], 2);
        close(pfd[0]);
        close(pfd[1]);
        setenv("LD_PRELOAD", preload, 1);
        if (prof_env != NULL)
            setenv("OOMKIT_PROF", prof_env, 1);
        else
            unsetenv("OOMKIT_PROF");
        execv(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    size_t got = 0;
    char buf[4096];
    ssize_t r;
    while ((r = read(pfd[0], buf, sizeof(buf))) > 0) {
        if (err_out != NULL && got + 1 < cap) {
            size_t k = (size_t)r < cap - 1 - got ? (size_t)r : cap - 1 - got;
            memcpy(err_out + got, buf, k);
            got += k;
        }
    }
    if (err_out != NULL)
        err_out[got] = '\0';
    close(pfd[0]);
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int cmp_names(const void *a, const void *b) { return strcmp(a, b); }

size_t pt_list(const char *dir, const char *prefix, char out[][512], size_t max)
{
    DIR *d = opendir(dir);
    size_t n = 0;
    if (d == NULL)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0 || strstr(e->d_name, ".tmp.") != NULL)
            continue;
        snprintf(out[n++], 512, "%s/%s", dir, e->d_name);
    }
    closedir(d);
    qsort(out, n, 512, cmp_names);
    return n;
}

int pt_site_line(const char *file, const char *name)
{
    char path[512], marker[128], line[1024];
    const char *src = getenv("OOMKIT_SOURCE_DIR");
    snprintf(path, sizeof(path), "%s/tests/targets/%s", src ? src : ".", file);
    snprintf(marker, sizeof(marker), "SITE:%s ", name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    int n = 0, found = -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        n++;
        char *m = strstr(line, "SITE:");
        if (m != NULL && strncmp(m, marker, strlen(marker) - 1) == 0 &&
            (m[strlen(marker) - 1] == ' ' || m[strlen(marker) - 1] == '\n' ||
             m[strlen(marker) - 1] == '*')) {
            found = n;
            break;
        }
    }
    fclose(f);
    return found;
}

struct sum_ctx {
    int type;
    struct pt_site *out;
    size_t n, max;
};

static int sum_one(void *ctx, const struct oomkit__pprof_sample *s,
                   const struct oomkit__pprof_frame *frames, size_t n)
{
    struct sum_ctx *c = ctx;
    int64_t v = s->values[c->type];
    if (v == 0)
        return 0;
    const char *fn = n ? frames[0].function : "(no frames)";
    const char *file = n ? frames[0].file : "";
    int64_t line = n ? frames[0].line : 0;
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->out[i].function, fn) == 0 && c->out[i].line == line &&
            strcmp(c->out[i].file, file) == 0) {
            c->out[i].value += v;
            return 0;
        }
    }
    if (c->n == c->max)
        return 0;
    struct pt_site *e = &c->out[c->n++];
    snprintf(e->function, sizeof(e->function), "%s", fn);
    snprintf(e->file, sizeof(e->file), "%s", file);
    e->line = line;
    e->value = v;
    return 0;
}

size_t pt_sum_by_leaf(const struct oomkit__pprof_profile *p, const char *type,
                      struct pt_site *out, size_t max)
{
    struct sum_ctx c = { oomkit__pprof_find_sample_type(p, type), out, 0, max };
    if (c.type < 0)
        return 0;
    oomkit__pprof_walk(p, sum_one, &c);
    return c.n;
}

int64_t pt_site_value(const struct pt_site *s, size_t n, const char *fn, int64_t *line)
{
    int64_t total = 0, best = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s[i].function, fn) != 0)
            continue;
        total += s[i].value;
        if (line != NULL && (s[i].value > best || best == 0)) {
            best = s[i].value;
            *line = s[i].line;
        }
    }
    return total;
}
