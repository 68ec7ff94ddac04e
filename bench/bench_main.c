/* oomkit-bench: dispatches to the benchmarks registered with OOMKIT_BENCH
 * (bench_registry.h). Usually started by `oomkit bench NAME ...`. */
#include "bench/bench_registry.h"


static struct oomkit_cli_command *benches;

void oomkit__bench_register(struct oomkit_cli_command *b)
{
    oomkit__cli_list_add(&benches, b);
}

int main(int argc, char **argv)
{
    return oomkit__cli_dispatch(benches, argc, argv, "oomkit bench", "benchmark",
                                "oomkit bench BENCHMARK [ARGS...]",
                                "Measures an oomkit component against its peers on the same "
                                "input.");
}
