/* oomkit-bench: dispatches to the benchmarks registered with OOMKIT_BENCH
 * (bench_registry.h). Usually started by `oomkit bench NAME ...`. */
#include "bench/bench_registry.h"

#include <stdio.h>
#include <string.h>

static struct oomkit_bench *benches;

void oomkit__bench_register(struct oomkit_bench *b)
{
    /* Sorted by name so the usage text reads well. */
    struct oomkit_bench **at = &benches;
    while (*at != NULL && strcmp((*at)->name, b->name) < 0)
        at = &(*at)->next;
    b->next = *at;
    *at = b;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: oomkit bench BENCHMARK [ARGS...]\n\n"
                 "Measures an oomkit component against its peers on the same input.\n\n"
                 "benchmarks:\n");
    for (struct oomkit_bench *b = benches; b != NULL; b = b->next)
        fprintf(out, "  %-8s %s\n", b->name, b->summary);
    fprintf(out, "\n`oomkit bench BENCHMARK --help` describes each one.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return OOMKIT_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return OOMKIT_EXIT_OK;
    }
    for (struct oomkit_bench *b = benches; b != NULL; b = b->next) {
        if (strcmp(b->name, argv[1]) == 0)
            return b->run(argc - 1, argv + 1);
    }
    fprintf(stderr, "oomkit bench: unknown benchmark '%s' (see oomkit bench --help)\n", argv[1]);
    return OOMKIT_EXIT_USAGE;
}
