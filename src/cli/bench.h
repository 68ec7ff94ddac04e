/* Finding oomkit-bench, the benchmark program that `oomkit bench` and
 * `oomkit demo` run (see bench/CMakeLists.txt for why it is a program of
 * its own). */
#ifndef OOMKIT_CLI_BENCH_H
#define OOMKIT_CLI_BENCH_H

#include <stddef.h>

/* Writes the path of oomkit-bench beside the running oomkit executable
 * into buf. 0, or -1 with a one-line reason in buf when it cannot be found
 * or run. Thread safety: any thread. */
int oomkit__cli_bench_path(char *buf, size_t cap);

#endif
