/* The operating-system side of the incident replay: memory cgroups made
 * for one run, child processes (the operator under the profiler, the
 * watchdog), and finding the programs that sit next to the oomkit binary.
 * Kept apart from incident.c, which only decides and prints. */
#ifndef OOMKIT_DEMO_INCIDENT_SYS_H
#define OOMKIT_DEMO_INCIDENT_SYS_H

#include "oomkit/mem.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct demo_cgroup {
    int version;                    /* 1 or 2; 0 when none */
    char dir[OOMKIT_MEM_PATH_MAX];  /* directory made for this run */
    oomkit_mem_cgroup_ref ref;
};

/* Makes a memory cgroup named name with limit_bytes, v1 or v2, whichever
 * this machine offers writable. 0, or a negative errno with a one-line
 * reason in why. */
int demo_cgroup_create(oomkit_mem_ctx *ctx, const char *name, uint64_t limit_bytes,
                       struct demo_cgroup *cg, char *why, size_t why_len);
/* Kills whatever is left in the cgroup and removes it. */
void demo_cgroup_destroy(struct demo_cgroup *cg);

/* Starts argv[0] with stdout to out_fd (-1: /dev/null) and stderr to the
 * file err_path, moved first into cgroup cg (may be NULL), with the
 * environment variables env (NULL-terminated "K=V" list, may be NULL)
 * added. Returns the pid or a negative errno. */
pid_t demo_spawn(char *const argv[], int out_fd, const char *err_path,
                 const struct demo_cgroup *cg, char *const env[]);

/* Wall-clock seconds since the epoch, as a double. */
double demo_now_s(void);

#endif
