/* peers-concurrent: runs one concurrent-read peer on a TSV workload and
 * prints one JSON object per reader count:
 *   {"name": .., "readers": k, "reads_per_s": .., "worst_write_us": .., ...}
 *
 * Usage: peers-concurrent BACKEND TSV_FILE [READERS_CSV [SECONDS [WRITES_PER_S]]]
 *   BACKEND: glib-rwlock | urcu-lfht | ideal | ideal-batched | oomkit-store |
 *            oomkit-store-batched (the last two when built with the store;
 *            ideal is the ceiling no structure can pass, backend_ideal.c)
 * OOMKIT_BENCH_CPU=N pins reader i to CPU N + i (bench/bench_cpu.h).
 * Exit: 0 ok, 2 bad usage or unreadable input, 3 the run failed or a reader
 * missed a key that is always present. */
#include "peer.h"

#include "../../bench_cpu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct peer_backend *const backends[] = {
    &peer_backend_glib_rwlock,
    &peer_backend_urcu_lfht,
    &peer_backend_ideal,
    &peer_backend_ideal_batched,
#ifdef PEERS_WITH_STORE
    &peer_backend_oomkit_store,
    &peer_backend_oomkit_store_batched,
#endif
};

static int usage(void)
{
    fprintf(stderr, "usage: peers-concurrent BACKEND TSV_FILE [READERS_CSV [SECONDS "
                    "[WRITES_PER_S]]]\nbackends:");
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        fprintf(stderr, " %.*s", (int)(strlen(backends[i]->name) - strlen("-concurrent")),
                backends[i]->name);
    fprintf(stderr, "\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 6)
        return usage();
    const struct peer_backend *b = NULL;
    size_t blen = strlen(argv[1]);
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (strncmp(backends[i]->name, argv[1], blen) == 0 &&
            strcmp(backends[i]->name + blen, "-concurrent") == 0)
            b = backends[i];
    if (!b)
        return usage();
    const char *readers_csv = argc > 3 ? argv[3] : "1,2";
    double seconds = argc > 4 ? strtod(argv[4], NULL) : 3.0;
    long wps = argc > 5 ? strtol(argv[5], NULL, 10) : 10000;
    if (!(seconds > 0) || wps < 1 || wps > 10000000)
        return usage();

    int cpu;
    if (bench_cpu_from_env(&cpu) != 0) {
        fprintf(stderr, "peers-concurrent: OOMKIT_BENCH_CPU='%s' is not a CPU of this machine\n",
                getenv("OOMKIT_BENCH_CPU"));
        return 2;
    }
    struct peer_input in;
    size_t bad_line = 0;
    int rc = peer_input_load(argv[2], &in, &bad_line);
    if (rc) {
        fprintf(stderr, "peers-concurrent: %s: %s (line %zu)\n", argv[2], strerror(-rc),
                bad_line);
        return 2;
    }
    void *h = b->open(&in);
    if (!h) {
        fprintf(stderr, "peers-concurrent: %s: cannot build the structure\n", b->name);
        peer_input_free(&in);
        return 3;
    }
    int status = 0;
    char *csv = strdup(readers_csv), *save = NULL;
    for (char *tok = strtok_r(csv, ",", &save); tok && !status;
         tok = strtok_r(NULL, ",", &save)) {
        long k = strtol(tok, NULL, 10);
        if (k < 1 || k > 256) {
            status = usage();
            break;
        }
        struct peer_result r;
        rc = peer_run(b, h, &in, (unsigned)k, seconds, (unsigned)wps, cpu, &r);
        if (rc) {
            fprintf(stderr, "peers-concurrent: %s: %s\n", b->name, strerror(-rc));
            status = 3;
            break;
        }
        if (r.missed_reads || r.write_errors) {
            fprintf(stderr, "peers-concurrent: %s: %llu reads missed a present key, "
                            "%d writes failed\n",
                    b->name, (unsigned long long)r.missed_reads, r.write_errors);
            status = 3;
        }
        printf("{\"name\":\"%s\",\"readers\":%u,\"reads_per_s\":%.0f,"
               "\"reads_per_s_per_reader\":%.0f,\"worst_write_us\":%.1f,"
               "\"writes_per_s\":%.0f,\"seconds\":%.2f,\"entries\":%zu}\n",
               b->name, r.readers, r.reads_per_s, r.reads_per_s / r.readers,
               r.worst_write_us, r.writes_per_s, r.seconds, in.n);
        fflush(stdout);
    }
    free(csv);
    b->close(h);
    peer_input_free(&in);
    return status;
}
