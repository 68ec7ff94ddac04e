/* OOMKIT_BENCH_CPU=N pins a benchmark's measuring thread to CPU N, so that
 * every structure of a side-by-side run is timed on the same core. The
 * vCPUs of a virtual machine can differ by 2x for memory-bound work (the
 * host shares their cores differently), and a ratio between two programs
 * that each landed on either one says nothing. N must be a CPU the process
 * may run on; reader thread i of a concurrent run takes the i-th of those
 * after N, cyclically. Unset or empty: no pinning. bench/store/run.sh and bench/peers/run.sh set it for every
 * program they run; the C, C++ and Go peers read the same variable.
 * Header-only: the C peers are built apart from oomkit-bench. */
#ifndef OOMKIT_BENCH_CPU_H
#define OOMKIT_BENCH_CPU_H

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

/* The CPUs this process may run on: its main thread's affinity mask (a
 * container's cpuset, or taskset's), which need not start at CPU 0. Read
 * through the process id, so a thread that has pinned itself still sees
 * the whole set. 0 or a negative errno. */
static inline int bench_cpus_allowed(cpu_set_t *set)
{
    CPU_ZERO(set);
    return sched_getaffinity(getpid(), sizeof(*set), set) == 0 ? 0 : -errno;
}

/* The CPU OOMKIT_BENCH_CPU names: 0 with *cpu = -1 when unset or empty, 0
 * with the CPU, or -EINVAL when it is not a CPU this process may run on. */
static inline int bench_cpu_from_env(int *cpu)
{
    const char *v = getenv("OOMKIT_BENCH_CPU");
    *cpu = -1;
    if (v == NULL || *v == '\0')
        return 0;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    cpu_set_t allowed;
    if (errno != 0 || *end != '\0' || n < 0 || n >= CPU_SETSIZE ||
        bench_cpus_allowed(&allowed) != 0 || !CPU_ISSET((int)n, &allowed))
        return -EINVAL;
    *cpu = (int)n;
    return 0;
}

/* Pins the calling thread to the CPU `offset` places after cpu among those
 * the process may run on, cyclically (offset 0: cpu itself); does nothing
 * when cpu < 0. 0 or a negative errno. */
static inline int bench_pin_thread(int cpu, unsigned offset)
{
    if (cpu < 0)
        return 0;
    cpu_set_t allowed, set;
    int rc = bench_cpus_allowed(&allowed);
    if (rc != 0)
        return rc;
    int count = CPU_COUNT(&allowed);
    if (count == 0)
        return -EINVAL;
    int c = cpu;
    for (unsigned steps = offset % (unsigned)count; steps > 0;) {
        c = (c + 1) % CPU_SETSIZE;
        steps -= CPU_ISSET(c, &allowed) ? 1 : 0;
    }
    CPU_ZERO(&set);
    CPU_SET(c, &set);
    return sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : -errno;
}

#endif
