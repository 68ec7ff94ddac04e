/* The operating-system side of the incident replay (see incident_sys.h):
 * cgroup files, fork/exec, executable lookup. */
#include "demo/incident_sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef OOMKIT_PROF_LIBDIR
#define OOMKIT_PROF_LIBDIR "/usr/local/lib"
#endif

double demo_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_file(const char *dir, const char *file, const char *text)
{
    char p[OOMKIT_MEM_PATH_MAX + 64];
    snprintf(p, sizeof(p), "%s/%s", dir, file);
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int e = n < 0 ? errno : EIO;
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -e;
}

static int make_in(oomkit_mem_ctx *ctx, const char *parent, const char *name, int version,
                   uint64_t limit_bytes, struct demo_cgroup *cg)
{
    char lim[32];
    snprintf(lim, sizeof(lim), "%llu", (unsigned long long)limit_bytes);
    int w = snprintf(cg->dir, sizeof(cg->dir), "%s/%s", parent, name);
    if (w < 0 || (size_t)w >= sizeof(cg->dir))
        return -ENAMETOOLONG;
    rmdir(cg->dir); /* a leftover of an interrupted run with this name */
    if (mkdir(cg->dir, 0755) != 0)
        return -errno;
    int rc;
    if (version == 1) {
        write_file(cg->dir, "memory.swappiness", "0");
        rc = write_file(cg->dir, "memory.limit_in_bytes", lim);
    } else {
        write_file(cg->dir, "memory.swap.max", "0");
        rc = write_file(cg->dir, "memory.max", lim);
    }
    if (rc == 0)
        rc = oomkit_mem_cgroup_ref_from_dir(ctx, cg->dir, &cg->ref);
    if (rc != 0) {
        rmdir(cg->dir);
        return rc;
    }
    cg->version = version;
    return 0;
}

int demo_cgroup_create(oomkit_mem_ctx *ctx, const char *name, uint64_t limit_bytes,
                       struct demo_cgroup *cg, char *why, size_t why_len)
{
    memset(cg, 0, sizeof(*cg));
    oomkit_mem_cgroup_layout lay;
    int rc = oomkit_mem_cgroup_detect(ctx, &lay);
    if (rc != 0 || lay.memory_version == 0) {
        snprintf(why, why_len, "no memory cgroup controller is mounted");
        return -ENOENT;
    }
    if (lay.v1_memory_mount[0] != '\0') {
        rc = make_in(ctx, lay.v1_memory_mount, name, 1, limit_bytes, cg);
        if (rc == 0)
            return 0;
        snprintf(why, why_len, "cannot create a v1 memory cgroup under %s: %s",
                 lay.v1_memory_mount, strerror(-rc));
    }
    if (lay.v2_mount[0] != '\0' && lay.v2_has_memory) {
        /* Children get the memory controller only if the parent hands it
         * down; at the root this is allowed when nothing else forbids it. */
        write_file(lay.v2_mount, "cgroup.subtree_control", "+memory");
        rc = make_in(ctx, lay.v2_mount, name, 2, limit_bytes, cg);
        if (rc == 0)
            return 0;
        snprintf(why, why_len, "cannot create a v2 memory cgroup under %s: %s", lay.v2_mount,
                 strerror(-rc));
    }
    return rc != 0 ? rc : -ENOENT;
}

void demo_cgroup_destroy(struct demo_cgroup *cg)
{
    if (cg->version == 0)
        return;
    char p[OOMKIT_MEM_PATH_MAX + 32];
    snprintf(p, sizeof(p), "%s/cgroup.procs", cg->dir);
    for (int round = 0; round < 100; round++) {
        FILE *f = fopen(p, "re");
        int any = 0;
        long pid;
        while (f != NULL && fscanf(f, "%ld", &pid) == 1) {
            kill((pid_t)pid, SIGKILL);
            any = 1;
        }
        if (f != NULL)
            fclose(f);
        if (!any && rmdir(cg->dir) == 0)
            break;
        struct timespec ts = { 0, 20 * 1000000L };
        nanosleep(&ts, NULL);
    }
    cg->version = 0;
}

pid_t demo_spawn(char *const argv[], int out_fd, const char *err_path,
                 const struct demo_cgroup *cg, char *const env[])
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return pid < 0 ? -errno : pid;
    /* Child: join the cgroup before exec, so everything the program
     * allocates (the profiler included) is charged to it. */
    if (cg != NULL && cg->version != 0) {
        char me[32];
        snprintf(me, sizeof(me), "%d", (int)getpid());
        if (write_file(cg->dir, "cgroup.procs", me) != 0)
            _exit(126);
    }
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    dup2(out_fd >= 0 ? out_fd : null_fd, STDOUT_FILENO);
    int err_fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    dup2(err_fd >= 0 ? err_fd : null_fd, STDERR_FILENO);
    dup2(null_fd, STDIN_FILENO);
    for (size_t i = 0; env != NULL && env[i] != NULL; i++)
        putenv(env[i]);
    execv(argv[0], argv);
    _exit(127);
}
