/* The OS seam of `oomkit watch`: every file, signal and notification call
 * the watchdog makes beyond the mem readers goes through here, with the
 * same root prefix as the mem context, so tests can point the daemon at a
 * fixture tree and make any file misbehave. Paths named `sys_path` are as
 * the target system sees them ("/proc/42/status"); the seam prefixes the
 * root ("" for the live system). All functions return 0 or a negative
 * errno and never print. Thread safety: each call is independent; the
 * root is set once at start-up. */
#ifndef OOMKIT_WATCH_SYS_H
#define OOMKIT_WATCH_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Sets the root prefix (copied; NULL or "/" for the live system). */
void oomkit__wsys_set_root(const char *root);

/* Test hook: when set, called with every sys_path before it is opened; a
 * negative return fails the call with that code. */
extern int (*oomkit__wsys_fault)(const char *sys_path);

/* root + sys_path into out (cap bytes); -ENAMETOOLONG if it does not fit. */
int oomkit__wsys_path(const char *sys_path, char *out, size_t cap);

/* Reads up to cap-1 bytes of sys_path into buf, NUL-terminated; *len set. */
int oomkit__wsys_read(const char *sys_path, char *buf, size_t cap, size_t *len);

/* Copies sys_path into a new 0600 file `name` under dirfd, at most
 * max_bytes (truncating), through buf (borrowed scratch). *written gets the
 * bytes written; the file is fsync'd. Partial copies are kept and reported
 * with the error (e.g. -ENOSPC, -ESRCH when a /proc file's process left). */
int oomkit__wsys_copy(const char *sys_path, int dirfd, const char *name, uint64_t max_bytes,
                      char *buf, size_t cap, uint64_t *written);

/* Writes data to a new 0600 file `name` under dirfd and fsyncs it. */
int oomkit__wsys_write(int dirfd, const char *name, const char *data, size_t len);

/* Process ids in a cgroup directory's cgroup.procs (sys path of the dir).
 * Writes up to cap; *count gets the total. */
int oomkit__wsys_cgroup_pids(const char *dir, pid_t *pids, size_t cap, size_t *count);

/* Registers a v1 usage threshold: an eventfd bound to memory.usage_in_bytes
 * through cgroup.event_control. Returns the eventfd (caller closes). */
int oomkit__wsys_v1_threshold(const char *dir, uint64_t bytes);

/* Registers a v1 memory.pressure_level listener ("low", "medium",
 * "critical"). Returns the eventfd. */
int oomkit__wsys_v1_pressure(const char *dir, const char *level);

/* Registers a v2 PSI trigger on memory.pressure ("some STALL_US WINDOW_US").
 * Returns the fd to poll for POLLPRI. */
int oomkit__wsys_v2_psi_trigger(const char *dir, unsigned stall_us, unsigned window_us);

/* Adds an inotify watch (IN_MODIFY) for dir/memory.events to inotify_fd. */
int oomkit__wsys_v2_events_watch(int inotify_fd, const char *dir);

/* Lowers this process's oom_score_adj to want, or to the lowest value the
 * kernel allows; *got receives the value in effect. */
int oomkit__wsys_protect_self(int want, int *got);

/* kill(2) behind the seam (sig 0 probes). */
int oomkit__wsys_kill(pid_t pid, int sig);

/* Writes text to a cgroup control file such as memory.high. */
int oomkit__wsys_write_control(const char *sys_path, const char *text);

/* Runs argv (argv[0] searched on PATH) with stdout+stderr into a new 0600
 * file `name` under dirfd, killing it after timeout_ms. -ENOENT if the
 * program is not installed; -ETIMEDOUT if it had to be killed. */
int oomkit__wsys_run_to_file(char *const argv[], int dirfd, const char *name,
                             unsigned timeout_ms, uint64_t *written);

/* Bytes used by regular files under path (a real path, not a sys path),
 * counted in 4 KiB blocks as the disk sees them. */
uint64_t oomkit__wsys_du(const char *path);

#endif
