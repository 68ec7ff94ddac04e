/* The registry of oomkit-bench, the benchmark program behind `oomkit bench`.
 *
 * Each benchmark lives in bench/<comp>/ and registers itself, so adding one
 * never edits a shared table:
 *
 *   static int bench_mph(int argc, char **argv) { ... }
 *   OOMKIT_BENCH(mph, "minimal perfect hashing against cmph", bench_mph)
 *
 * and adds its sources to the program from bench/<comp>/CMakeLists.txt with
 * oomkit_bench_sources(...). The function gets argv[0] = its own name and
 * returns the exit code; the codes of src/cli/cli.h apply (2 for a bad
 * command line or unreadable input, 3 when the benchmark could not run).
 * bench_probe.h offers the allocation counter and heap-size probe. */
#ifndef OOMKIT_BENCH_REGISTRY_H
#define OOMKIT_BENCH_REGISTRY_H

#include "cli/cli.h"

/* Adds b (static storage, never freed) to the list; called from the
 * constructors that OOMKIT_BENCH emits. Thread safety: start-up only. */
void oomkit__bench_register(struct oomkit_cli_command *b);

#define OOMKIT_BENCH(bname, bsummary, fn)                                      \
    static struct oomkit_cli_command bench_entry_##bname = { #bname, bsummary, fn, 0 }; \
    __attribute__((constructor)) static void bench_register_##bname(void)      \
    {                                                                          \
        oomkit__bench_register(&bench_entry_##bname);                          \
    }

#endif
