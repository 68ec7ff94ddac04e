/* Capture bundles of `oomkit watch`: the evidence written before the OOM
 * kill destroys it.
 *
 * One capture is one directory under the capture root, named
 * `<UTC time>-<target>`, built as `.partial-<name>` and renamed into place
 * last, so a reader (or a test racing the OOM killer) sees either no
 * bundle or a complete one. Every file is 0600 and fsync'd. Contents:
 *   manifest.json      target, trigger, captured_at (RFC 3339, us), limit,
 *                      working set, predicted_oom_s, files, verdict, problems
 *   smaps_rollup, status, smaps (raw, bounded), smaps_categorised.tsv,
 *   memory.stat        the cgroup's, when there is one
 *   kernel_stacks.txt  /proc/PID/task/STAR/stack, where readable (root)
 *   user_stacks.txt    `eu-stack -p PID`, when elfutils is installed
 *   heap.pb.gz         when the target runs under liboomkit_prof.so
 *   samples.csv        the recent samples
 *   report.md, timeline.svg
 * A file that cannot be read (the process exited mid-capture, permission)
 * is listed under "problems" in the manifest and the rest is still
 * written. The total size of the root is bounded: before writing, the
 * oldest bundles are removed until the budget leaves room. */
#ifndef OOMKIT_WATCH_CAPTURE_H
#define OOMKIT_WATCH_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "oomkit/mem.h"
#include "watch/verdict.h"

struct oomkit__capture_sample {
    double t_unix_s;
    double working_set_bytes, usage_bytes, limit_bytes, tto_s;
};

struct oomkit__capture_mark {
    double t_unix_s;
    const char *what; /* borrowed, e.g. "warn", "predicted" */
};

struct oomkit__capture_request {
    const char *root_dir;        /* capture root (real path); created if missing */
    oomkit_mem_ctx *ctx;         /* mem readers, for the categorised smaps */
    const char *target;          /* label: cgroup path or "pid:N" */
    pid_t pid;                   /* 0 when the target has no process */
    const char *cgroup_dir;      /* sys path of the cgroup dir, or NULL */
    const char *trigger;         /* rule that fired */
    double limit_bytes, working_set_bytes, predicted_oom_s; /* tto may be +Inf */
    const struct oomkit__verdict *verdict;
    const struct oomkit__capture_sample *samples; /* oldest first */
    size_t n_samples;
    const struct oomkit__capture_mark *marks;
    size_t n_marks;
    uint64_t max_total_bytes;    /* budget for the whole root; 0 = 256 MiB */
    uint64_t max_file_bytes;     /* per copied file; 0 = 16 MiB */
    int user_stacks;             /* run eu-stack when installed */
    double prof_wait_s;          /* how long to wait for a heap profile */
    char *buf;                   /* borrowed scratch, pre-allocated by the caller */
    size_t buf_len;
};

struct oomkit__capture_result {
    char path[OOMKIT_MEM_PATH_MAX]; /* final bundle directory */
    uint64_t bytes;
    unsigned files;
    unsigned problems;
    unsigned removed_old;           /* bundles removed by retention */
    char first_problem[256];
};

/* Writes one bundle. Returns 0 when the bundle (at least its manifest)
 * was written, even if some files were missing (see result->problems);
 * a negative errno when nothing usable could be written (the partial
 * directory is removed). Thread safety: one capture at a time per root. */
int oomkit__capture_write(const struct oomkit__capture_request *req,
                          struct oomkit__capture_result *res);

/* Makes root_dir ready for bundles before the first capture needs it:
 * with create, makes it and its missing parents (mkdir -p; 0700 for
 * root_dir itself) and checks it is a directory this process can write;
 * without (dry runs), creates nothing and only refuses an existing
 * non-directory. Returns 0 or a negative errno with a reason in why
 * ("cannot create /a/b: Permission denied"). Directories created before
 * a failure are left. Thread safety: touches only the file system. */
int oomkit__capture_root_check(const char *root_dir, int create, char *why, size_t why_len);

/* Removes the oldest bundles under root_dir until its total size plus
 * reserve_bytes fits max_total_bytes; nothing but bundles (by their names)
 * is ever removed, and none when the other files alone are past that
 * (removing them all would not make the room). Returns the number removed.
 * Thread safety: as above. */
int oomkit__capture_retention(const char *root_dir, uint64_t max_total_bytes,
                              uint64_t reserve_bytes);

/* Writes the timeline SVG for the samples/marks into a malloc'd string
 * (oomkit__free). NULL on allocation failure. Thread safety: pure. */
char *oomkit__capture_svg(const struct oomkit__capture_sample *s, size_t n,
                          const struct oomkit__capture_mark *marks, size_t n_marks,
                          double predicted_oom_s);

#endif
