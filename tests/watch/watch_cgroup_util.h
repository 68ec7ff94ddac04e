/* Real memory cgroups for the tests/watch integration tests: create one
 * with a limit (cgroup v1 memory controller, else cgroup v2 with the
 * memory controller), start a child inside it, read its OOM-kill counter,
 * remove it. When neither can be created the caller prints a loud SKIP. */
#ifndef OOMKIT_TESTS_WATCH_CGROUP_UTIL_H
#define OOMKIT_TESTS_WATCH_CGROUP_UTIL_H

#include "watch_test_util.h"

struct tcg {
    int version;
    char dir[1024];
};

static inline int tcg_write(const char *dir, const char *file, const char *text)
{
    char p[1200];
    snprintf(p, sizeof p, "%.1024s/%.100s", dir, file);
    int fd = open(p, O_WRONLY);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -e;
}

/* Finds a cgroup2 mount whose cgroup.controllers lists memory. */
static inline int tcg_v2_root(char *out, size_t cap)
{
    FILE *f = fopen("/proc/mounts", "r");
    char dev[256], mnt[512], type[64], rest[512];
    int found = 0;
    while (f && !found && fscanf(f, "%255s %511s %63s %511[^\n]", dev, mnt, type, rest) == 4) {
        if (strcmp(type, "cgroup2") != 0)
            continue;
        char p[600];
        snprintf(p, sizeof p, "%s/cgroup.controllers", mnt);
        char *c = tu_slurp(p);
        if (c && strstr(c, "memory")) {
            snprintf(out, cap, "%s", mnt);
            found = 1;
        }
        free(c);
    }
    if (f)
        fclose(f);
    return found;
}

/* Creates a cgroup named `name` with a limit; 0 or a negative errno with
 * the reason in why. */
static inline int tcg_create(struct tcg *cg, const char *name, unsigned long long limit_bytes,
                             char *why, size_t why_len)
{
    char lim[32];
    snprintf(lim, sizeof lim, "%llu", limit_bytes);
    const char *v1 = "/sys/fs/cgroup/memory";
    char p[600];
    snprintf(p, sizeof p, "%s/memory.limit_in_bytes", v1);
    if (access(p, F_OK) == 0) {
        snprintf(cg->dir, sizeof cg->dir, "%s/%.64s", v1, name);
        rmdir(cg->dir);
        if (mkdir(cg->dir, 0755) == 0) {
            cg->version = 1;
            /* No swap here, but be explicit: the limit is the whole limit. */
            tcg_write(cg->dir, "memory.swappiness", "0");
            if (tcg_write(cg->dir, "memory.limit_in_bytes", lim) == 0)
                return 0;
            rmdir(cg->dir);
        }
        snprintf(why, why_len, "cannot create a v1 memory cgroup at %.200s: %s", cg->dir, strerror(errno));
    }
    char root[512];
    if (tcg_v2_root(root, sizeof root)) {
        snprintf(cg->dir, sizeof cg->dir, "%.512s/%.64s", root, name);
        rmdir(cg->dir);
        if (mkdir(cg->dir, 0755) == 0) {
            cg->version = 2;
            tcg_write(cg->dir, "memory.swap.max", "0");
            if (tcg_write(cg->dir, "memory.max", lim) == 0)
                return 0;
            rmdir(cg->dir);
        }
        snprintf(why, why_len, "cannot create a v2 memory cgroup at %.200s: %s", cg->dir, strerror(errno));
        return -EPERM;
    }
    if (why[0] == '\0')
        snprintf(why, why_len, "no writable memory cgroup (v1 memory controller or v2 with memory)");
    return -ENOENT;
}

/* Starts argv inside the cgroup; stdout/stderr to /dev/null. */
static inline pid_t tcg_spawn(const struct tcg *cg, char *const argv[])
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    char me[32];
    snprintf(me, sizeof me, "%d", (int)getpid());
    if (tcg_write(cg->dir, "cgroup.procs", me) != 0)
        _exit(126);
    int fd = open("/dev/null", O_WRONLY);
    dup2(fd, 1);
    dup2(fd, 2);
    execv(argv[0], argv);
    _exit(127);
}

/* The kernel's count of OOM kills in the cgroup (the truth for "before"). */
static inline long tcg_oom_kills(const struct tcg *cg)
{
    char p[1200];
    snprintf(p, sizeof p, "%.1024s/%s", cg->dir, cg->version == 1 ? "memory.oom_control" : "memory.events");
    char *s = tu_slurp(p);
    long v = -1;
    const char *k = s ? strstr(s, "oom_kill ") : NULL;
    if (k)
        v = atol(k + 9);
    free(s);
    return v;
}

/* Kills whatever is left in the cgroup and removes it. */
static inline void tcg_destroy(struct tcg *cg)
{
    char p[1200];
    snprintf(p, sizeof p, "%.1024s/cgroup.procs", cg->dir);
    for (int round = 0; round < 50; round++) {
        char *s = tu_slurp(p);
        int any = 0;
        for (char *q = s; q && *q;) {
            long pid = strtol(q, &q, 10);
            if (pid > 0) {
                kill((pid_t)pid, SIGKILL);
                any = 1;
            }
            while (*q == '\n')
                q++;
        }
        free(s);
        if (!any)
            break;
        tu_sleep_ms(20);
    }
    for (int i = 0; i < 50 && rmdir(cg->dir) != 0; i++)
        tu_sleep_ms(20);
}

#endif
