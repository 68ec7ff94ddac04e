/* The incident replay of `oomkit demo`: runs the simulated operator
 * (oomkit-demo-operator) twice, the nested variant and the store variant,
 * side by side, each in its own memory cgroup with a limit, under the heap
 * profiler (liboomkit_prof.so) and watched by `oomkit watch`, then prints a
 * summary, a verdict and the paths of the evidence. Without memory cgroups
 * it runs both against a soft budget the demo enforces by signal.
 * CLI-only code (it prints); see incident.c for the sequence. */
#ifndef OOMKIT_DEMO_INCIDENT_H
#define OOMKIT_DEMO_INCIDENT_H

#include <stdint.h>

struct oomkit__demo_incident_opts {
    uint64_t pods;         /* 0: 50000 (20000 with quick) */
    uint64_t limit_bytes;  /* 0: 256 MiB (160 MiB with quick) */
    uint64_t churn;        /* pods replaced per reconcile; 0: a share of pods */
    int quick;             /* smaller cluster, faster climb: under 30 s */
    int force_soft;        /* skip cgroups, use the soft budget */
    const char *out_dir;   /* borrowed; NULL: a fresh directory under TMPDIR */
};

/* Runs the replay and prints it to stdout (problems to stderr). Returns an
 * OOMKIT_EXIT_* code: OK when both variants ran and the summary was
 * printed (whatever the outcome, which the summary states), FAIL when a
 * part needed to run them is missing or could not be started.
 * Thread safety: once per process at a time (forks, waits for children). */
int oomkit__demo_incident_run(const struct oomkit__demo_incident_opts *o);

#endif
