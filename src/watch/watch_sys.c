/* OS access of `oomkit watch` beyond the mem readers (see watch_sys.h). */
#include "watch/watch_sys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char root[1024];
int (*oomkit__wsys_fault)(const char *sys_path);

void oomkit__wsys_set_root(const char *r)
{
    if (r == NULL || strcmp(r, "/") == 0)
        r = "";
    snprintf(root, sizeof root, "%s", r);
    size_t n = strlen(root);
    while (n > 0 && root[n - 1] == '/')
        root[--n] = '\0';
}

int oomkit__wsys_path(const char *sys_path, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s%s", root, sys_path);
    if (n < 0 || (size_t)n >= cap)
        return -ENAMETOOLONG;
    return 0;
}

static int open_sys(const char *sys_path, int flags)
{
    char p[4096];
    int rc = oomkit__wsys_path(sys_path, p, sizeof p);
    if (rc == 0 && oomkit__wsys_fault)
        rc = oomkit__wsys_fault(sys_path);
    if (rc < 0)
        return rc;
    int fd = open(p, flags | O_CLOEXEC);
    return fd < 0 ? -errno : fd;
}

static long read_all(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -errno;
        if (r == 0)
            break;
        n += (size_t)r;
    }
    return (long)n;
}

int oomkit__wsys_read(const char *sys_path, char *buf, size_t cap, size_t *len)
{
    if (cap == 0)
        return -EINVAL;
    int fd = open_sys(sys_path, O_RDONLY);
    if (fd < 0)
        return fd;
    long r = read_all(fd, buf, cap - 1);
    close(fd);
    if (r < 0)
        return (int)r;
    buf[r] = '\0';
    *len = (size_t)r;
    return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int oomkit__wsys_copy(const char *sys_path, int dirfd, const char *name, uint64_t max_bytes,
                      char *buf, size_t cap, uint64_t *written)
{
    *written = 0;
    int in = open_sys(sys_path, O_RDONLY);
    if (in < 0)
        return in;
    int out = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) {
        int e = -errno;
        close(in);
        return e;
    }
    int rc = 0;
    for (;;) {
        size_t want = cap;
        if (max_bytes - *written < want)
            want = (size_t)(max_bytes - *written);
        if (want == 0)
            break;
        ssize_t r = read(in, buf, want);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            /* /proc files of a process that exited read as ESRCH. */
            rc = -errno;
            break;
        }
        if (r == 0)
            break;
        rc = write_all(out, buf, (size_t)r);
        if (rc < 0)
            break;
        *written += (uint64_t)r;
    }
    if (fsync(out) != 0 && rc == 0)
        rc = -errno;
    if (close(out) != 0 && rc == 0)
        rc = -errno;
    close(in);
    return rc;
}

int oomkit__wsys_write(int dirfd, const char *name, const char *data, size_t len)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int rc = write_all(fd, data, len);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    return rc;
}

int oomkit__wsys_cgroup_pids(const char *dir, pid_t *pids, size_t cap, size_t *count)
{
    char path[4096], buf[65536];
    size_t len;
    snprintf(path, sizeof path, "%s/cgroup.procs", dir);
    int rc = oomkit__wsys_read(path, buf, sizeof buf, &len);
    if (rc < 0)
        return rc;
    size_t n = 0;
    char *p = buf, *end;
    for (;;) {
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p)
            break;
        if (v > 0 && errno == 0) {
            if (n < cap)
                pids[n] = (pid_t)v;
            n++;
        }
        p = end;
    }
    *count = n;
    return 0;
}

static int register_event(const char *dir, const char *file, const char *args)
{
    char p[4096];
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0)
        return -errno;
    snprintf(p, sizeof p, "%s/%s", dir, file);
    int tfd = open_sys(p, O_RDONLY);
    snprintf(p, sizeof p, "%s/cgroup.event_control", dir);
    int cfd = tfd < 0 ? tfd : open_sys(p, O_WRONLY);
    int rc = tfd < 0 ? tfd : cfd;
    if (rc >= 0) {
        char line[128];
        int n = snprintf(line, sizeof line, "%d %d %s", efd, tfd, args);
        rc = write(cfd, line, (size_t)n) == n ? 0 : -errno;
    }
    if (tfd >= 0)
        close(tfd);
    if (cfd >= 0)
        close(cfd);
    if (rc < 0) {
        close(efd);
        return rc;
    }
    return efd;
}

int oomkit__wsys_v1_threshold(const char *dir, uint64_t bytes)
{
    char args[32];
    snprintf(args, sizeof args, "%llu", (unsigned long long)bytes);
    return register_event(dir, "memory.usage_in_bytes", args);
}

int oomkit__wsys_v1_pressure(const char *dir, const char *level)
{
    return register_event(dir, "memory.pressure_level", level);
}

int oomkit__wsys_v2_psi_trigger(const char *dir, unsigned stall_us, unsigned window_us)
{
    char p[4096], line[64];
    snprintf(p, sizeof p, "%s/memory.pressure", dir);
    int fd = open_sys(p, O_RDWR | O_NONBLOCK);
    if (fd < 0)
        return fd;
    int n = snprintf(line, sizeof line, "some %u %u", stall_us, window_us);
    /* The kernel wants the trailing NUL written too. */
    if (write(fd, line, (size_t)n + 1) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

int oomkit__wsys_v2_events_watch(int inotify_fd, const char *dir)
{
    char sp[4096], p[4096];
    snprintf(sp, sizeof sp, "%s/memory.events", dir);
    int rc = oomkit__wsys_path(sp, p, sizeof p);
    if (rc < 0)
        return rc;
    int wd = inotify_add_watch(inotify_fd, p, IN_MODIFY);
    return wd < 0 ? -errno : wd;
}

int oomkit__wsys_protect_self(int want, int *got)
{
    /* Not behind the root: this is the daemon's own process. Unprivileged
     * processes may only raise the value, so walk up from `want` until one
     * is accepted. */
    int rc = -EPERM;
    for (int v = want; v <= 0; v += 100) {
        int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return -errno;
        char s[16];
        int n = snprintf(s, sizeof s, "%d", v);
        ssize_t w = write(fd, s, (size_t)n);
        int e = errno;
        close(fd);
        if (w == n) {
            *got = v;
            return 0;
        }
        rc = -e;
    }
    return rc;
}

int oomkit__wsys_kill(pid_t pid, int sig)
{
    if (oomkit__wsys_fault) {
        char p[64];
        snprintf(p, sizeof p, "/proc/%d", (int)pid);
        int rc = oomkit__wsys_fault(p);
        if (rc < 0)
            return rc;
    }
    return kill(pid, sig) == 0 ? 0 : -errno;
}

int oomkit__wsys_write_control(const char *sys_path, const char *text)
{
    int fd = open_sys(sys_path, O_WRONLY);
    if (fd < 0)
        return fd;
    int rc = write_all(fd, text, strlen(text));
    close(fd);
    return rc;
}

int oomkit__wsys_run_to_file(char *const argv[], int dirfd, const char *name,
                             unsigned timeout_ms, uint64_t *written)
{
    *written = 0;
    int out = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0)
        return -errno;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out, 1);
    posix_spawn_file_actions_adddup2(&fa, out, 2);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        close(out);
        unlinkat(dirfd, name, 0);
        return -rc;
    }
    int st = 0, done = 0;
    for (unsigned waited = 0; waited < timeout_ms; waited += 10) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            done = 1;
            break;
        }
        struct timespec ts = { 0, 10 * 1000000L };
        nanosleep(&ts, NULL);
    }
    if (!done) {
        kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
    }
    struct stat sb;
    if (fstat(out, &sb) == 0)
        *written = (uint64_t)sb.st_size;
    fsync(out);
    close(out);
    if (!done)
        return -ETIMEDOUT;
    /* posix_spawnp reports a missing program as exit 127 from the child. */
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
        return -ENOENT;
    return 0;
}

static uint64_t du_total;
static int du_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)p;
    (void)ftw;
    if (flag == FTW_F)
        du_total += (uint64_t)sb->st_blocks * 512u;
    return 0;
}

uint64_t oomkit__wsys_du(const char *path)
{
    /* nftw keeps no context pointer; the daemon is single-threaded where it
     * calls this, and the total is reset per call. */
    du_total = 0;
    nftw(path, du_cb, 8, FTW_PHYS);
    return du_total;
}
