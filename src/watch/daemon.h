/* The `oomkit watch` daemon: configuration and the sampling loop.
 *
 * The loop samples every target each interval and also when the kernel
 * says memory moved (v1 usage thresholds and pressure_level eventfds, v2
 * PSI triggers and memory.events inotify), feeds the predictor and the
 * rules, and on a rule firing writes a capture, posts alerts and publishes
 * the metrics. Parse (config.c) / decide (predict.c, verdict.c) / act
 * (capture.c, alert.c, exporter.c) stay in their own files; this one wires
 * them and owns the targets. */
#ifndef OOMKIT_WATCH_DAEMON_H
#define OOMKIT_WATCH_DAEMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "oomkit/mem.h"

enum oomkit__watch_mode {
    OOMKIT__WATCH_NONE = 0,
    OOMKIT__WATCH_PID,
    OOMKIT__WATCH_CGROUP,
    OOMKIT__WATCH_UNDER,
};

struct oomkit__watch_config {
    enum oomkit__watch_mode mode;
    pid_t pid;
    char path[OOMKIT_MEM_PATH_MAX]; /* cgroup, or the root of --cgroups-under */
    double interval_s;
    char listen[128];               /* "" disables the exporter */
    char alertmanager[512];         /* "" disables alerts */
    char capture_dir[1024];
    double warn_ratio, critical_ratio, predict_s, cooldown_s;
    int buy_time, dry_run, once;
    double duration_s;              /* 0: until SIGINT/SIGTERM */
    uint64_t capture_max_bytes;
    unsigned window;                /* samples in the prediction window */
    unsigned max_targets;
    char sys_root[1024];            /* read /proc and /sys under this (tests) */
    int user_stacks;
    double prof_wait_s;
    int print_metrics;              /* print the exposition on exit */
    double discover_s;              /* --cgroups-under rescan period */
};

/* Fills the defaults documented in `oomkit watch --help`.
 * Thread safety: pure. */
void oomkit__watch_config_default(struct oomkit__watch_config *c);

/* 1 if key names a target (pid, cgroup, cgroups-under): one per daemon. */
int oomkit__watch_config_is_target(const char *key);

/* Applies one setting by its long-option name (without "--"); value may be
 * NULL for flags. Returns 0 or -EINVAL with a reason in err.
 * Thread safety: pure. */
int oomkit__watch_config_set(struct oomkit__watch_config *c, const char *key,
                             const char *value, char *err, size_t err_len);

/* Reads a config file: one `key = value` (or `key value`) per line, the
 * same keys as the long options, `#` comments. Returns 0, -ENOENT/-EACCES
 * for an unreadable file, -EINVAL with "FILE:LINE: reason" in err.
 * Thread safety: pure. */
int oomkit__watch_config_load(struct oomkit__watch_config *c, const char *path,
                              char *err, size_t err_len);

/* The same, from text[0..len) (borrowed; need not be NUL-terminated);
 * name labels the errors. Thread safety: pure. */
int oomkit__watch_config_parse(struct oomkit__watch_config *c, const char *text, size_t len,
                               const char *name, char *err, size_t err_len);

/* Checks what no single setting can, once all are applied: warn below
 * critical, and a capture directory that exists or can be created and is
 * writable. Unless dry_run is set this creates capture_dir and its
 * missing parents (mkdir -p); nothing else changes. Returns 0 or a
 * negative errno with a reason naming the setting in err.
 * Thread safety: touches only the file system. */
int oomkit__watch_config_check(const struct oomkit__watch_config *c, char *err, size_t err_len);

/* True if the option takes a value. -1 for an unknown option. */
int oomkit__watch_config_takes_value(const char *key);

/* Runs the daemon until a signal, --duration or --once. log receives one
 * line per event (borrowed for the call). Returns 0 or a negative errno
 * for a start-up failure, with a reason in err.
 * Thread safety: call once per process (it installs signal handlers). */
int oomkit__watch_run(const struct oomkit__watch_config *c,
                      void (*log)(void *ctx, const char *line), void *log_ctx,
                      char *err, size_t err_len);

#endif
