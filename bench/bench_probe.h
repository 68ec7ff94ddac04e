/* Measuring probes of oomkit-bench: a heap-allocation counter, the bytes the
 * C allocator has handed out, and a monotonic clock. Any benchmark in
 * oomkit-bench may use them (see bench_registry.h). */
#ifndef OOMKIT_BENCH_PROBE_H
#define OOMKIT_BENCH_PROBE_H

#include <stddef.h>
#include <stdint.h>

/* Calls to malloc, calloc, realloc and the aligned allocators made by every
 * thread of the process so far (free is not counted). Take the difference
 * around the code being measured. Thread safety: any thread. */
uint64_t oomkit__bench_allocs(void);

/* Bytes of heap currently in use: mallinfo2() uordblks + hblkhd (glibc
 * rounding and chunk headers included), or under a sanitizer the
 * sanitizer's own count of live user bytes. Thread safety: any thread. */
uint64_t oomkit__bench_heap_bytes(void);

/* Checks that both probes see an allocation made inside a shared library
 * (pass, say, g_malloc and g_free): that needs the interposed malloc to be
 * exported from the executable. 0, or -1 with a static reason in *why.
 * Thread safety: any thread. */
int oomkit__bench_probe_check(void *(*lib_alloc)(size_t), void (*lib_free)(void *),
                              const char **why);

/* "glibc mallinfo2 + interposed malloc", or the sanitizer variant. */
const char *oomkit__bench_probe_kind(void);

/* The clock benchmarks time with, in nanoseconds: CLOCK_MONOTONIC (wall
 * time, the default) or, after oomkit__bench_set_cpu_clock(1), the
 * process's CPU time, which leaves out the time a busy shared machine kept
 * the benchmark waiting for a CPU. Thread safety: any thread. */
uint64_t oomkit__bench_now_ns(void);

/* Selects the clock of oomkit__bench_now_ns. Thread safety: set it before
 * measuring. */
void oomkit__bench_set_cpu_clock(int cpu);

/* CLOCK_MONOTONIC in nanoseconds, whatever the selected clock. */
uint64_t oomkit__bench_wall_ns(void);

/* CPU time of the whole process (all threads) in nanoseconds: compared with
 * the wall clock it shows how long a run waited for a CPU on a shared
 * machine. Thread safety: any thread. */
uint64_t oomkit__bench_cpu_ns(void);

#endif
