/* OOMKIT_BENCH_CPU=N pins a benchmark's measuring thread to CPU N, so that
 * every structure of a side-by-side run is timed on the same core. The
 * vCPUs of a virtual machine can differ by 2x for memory-bound work (the
 * host shares their cores differently), and a ratio between two programs
 * that each landed on either one says nothing. Reader thread i of a
 * concurrent run takes CPU (N + i) mod the CPUs online. Unset or empty: no
 * pinning. bench/store/run.sh and bench/peers/run.sh set it for every
 * program they run; the C, C++ and Go peers read the same variable.
 * Header-only: the C peers are built apart from oomkit-bench. */
#ifndef OOMKIT_BENCH_CPU_H
#define OOMKIT_BENCH_CPU_H

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

/* The CPU OOMKIT_BENCH_CPU names: 0 with *cpu = -1 when unset or empty, 0
 * with the CPU, or -EINVAL when it is not a CPU number of this machine. */
static inline int bench_cpu_from_env(int *cpu)
{
    const char *v = getenv("OOMKIT_BENCH_CPU");
    *cpu = -1;
    if (v == NULL || *v == '\0')
        return 0;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    if (errno != 0 || *end != '\0' || n < 0 || n >= CPU_SETSIZE || (online > 0 && n >= online))
        return -EINVAL;
    *cpu = (int)n;
    return 0;
}

/* Pins the calling thread to CPU (cpu + offset) mod the CPUs online; does
 * nothing when cpu < 0. 0 or a negative errno. */
static inline int bench_pin_thread(int cpu, unsigned offset)
{
    if (cpu < 0)
        return 0;
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET((int)(((unsigned long)cpu + offset) % (unsigned long)(online > 0 ? online : 1)),
            &set);
    return sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : -errno;
}

#endif
