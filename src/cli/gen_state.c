/* `oomkit gen-state`: writes a Kubernetes-shaped controller state as TSV
 * (docs/architecture.md, "Workload format"), the input of the store benchmark and the demo. The
 * generator itself is gen_state_gen.c; this file only parses the command
 * line and opens the output. */
#include "cli/cli.h"
#include "cli/gen_state_gen.h"
#include "core/file_replace.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: oomkit gen-state [--objects N] [--seed S] [--namespaces K]\n"
            "                        [--min-keys A --max-keys B] [-o FILE]\n\n"
            "Writes a deterministic Kubernetes-shaped state, one entry per line:\n"
            "  namespace<TAB>name<TAB>key<TAB>value   (value: signed 64-bit)\n"
            "The shape follows gen_state.py (skewed namespaces, pod-style names,\n"
            "about 8.5 keys per object from a shared vocabulary); the same options\n"
            "always give the same bytes.\n\n"
            "  --objects N     objects to generate (default 100000)\n"
            "  --seed S        random seed (default 1)\n"
            "  --namespaces K  namespaces (default 200, at most %u)\n"
            "  --min-keys A    fewest keys per object (default 4)\n"
            "  --max-keys B    most keys per object (default 16, at most %u)\n"
            "  -o FILE         write to FILE instead of standard output\n",
            OOMKIT_GEN_MAX_NAMESPACES, oomkit__gen_key_count());
}

static int cmd_gen_state(int argc, char **argv)
{
    if (oomkit__cli_wants_help(argc, argv)) {
        usage(stdout);
        return OOMKIT_EXIT_OK;
    }
    struct oomkit_gen_opts o = OOMKIT_GEN_DEFAULT_OPTS;
    const char *path = NULL;
    int max_keys_given = 0;
    static const struct option longopts[] = {
        { "objects", required_argument, NULL, 'n' },  { "seed", required_argument, NULL, 's' },
        { "namespaces", required_argument, NULL, 'k' }, { "min-keys", required_argument, NULL, 'a' },
        { "max-keys", required_argument, NULL, 'b' }, { "output", required_argument, NULL, 'o' },
        { NULL, 0, NULL, 0 },
    };
    optind = 1;
    opterr = 0;
    int c;
    uint64_t v;
    while ((c = getopt_long(argc, argv, ":o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            if (oomkit__cli_number("gen-state", "--objects", optarg, 1, UINT64_MAX / 4,
                                   &o.objects) != 0)
                return OOMKIT_EXIT_USAGE;
            break;
        case 's':
            if (oomkit__cli_number("gen-state", "--seed", optarg, 0, UINT64_MAX, &o.seed) != 0)
                return OOMKIT_EXIT_USAGE;
            break;
        case 'k':
            if (oomkit__cli_number("gen-state", "--namespaces", optarg, 1,
                                   OOMKIT_GEN_MAX_NAMESPACES, &v) != 0)
                return OOMKIT_EXIT_USAGE;
            o.namespaces = (uint32_t)v;
            break;
        case 'a':
        case 'b':
            if (oomkit__cli_number("gen-state", c == 'a' ? "--min-keys" : "--max-keys", optarg, 1,
                                   oomkit__gen_key_count(), &v) != 0)
                return OOMKIT_EXIT_USAGE;
            *(c == 'a' ? &o.min_keys : &o.max_keys) = (uint32_t)v;
            max_keys_given |= c == 'b';
            break;
        case 'o':
            path = optarg;
            break;
        case ':':
            fprintf(stderr, "oomkit gen-state: %s needs a value (see --help)\n", argv[optind - 1]);
            return OOMKIT_EXIT_USAGE;
        default:
            fprintf(stderr, "oomkit gen-state: unknown option '%s' (see --help)\n",
                    argv[optind - 1]);
            return OOMKIT_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "oomkit gen-state: unexpected argument '%s' (see --help)\n", argv[optind]);
        return OOMKIT_EXIT_USAGE;
    }
    if (o.min_keys > o.max_keys) {
        fprintf(stderr, "oomkit gen-state: --min-keys %u is above --max-keys %u (%s)\n",
                o.min_keys, o.max_keys,
                max_keys_given ? "give a smaller --min-keys" : "the default; give --max-keys");
        return OOMKIT_EXIT_USAGE;
    }
    const char *why;
    if (oomkit__gen_check(&o, &why) != 0) {
        fprintf(stderr, "oomkit gen-state: %s\n", why);
        return OOMKIT_EXIT_USAGE;
    }
    /* A file is replaced only once whole (core/file_replace.h): a failed
     * or killed run leaves the old one, not half a workload. */
    FILE *out = stdout;
    oomkit__file_replace r;
    int to_file = path != NULL && strcmp(path, "-") != 0;
    if (to_file) {
        out = oomkit__fopen_replace(&r, path);
        if (out == NULL) {
            fprintf(stderr, "oomkit gen-state: cannot write %s: %s\n", path, strerror(errno));
            return OOMKIT_EXIT_USAGE;
        }
    }
    /* A large stdio buffer: the output is tens of megabytes of short lines. */
    static char buf[1 << 16];
    setvbuf(out, buf, _IOFBF, sizeof(buf));
    /* The generator flushes its stream and reports that failure too. */
    int rc = oomkit__gen_state_write(&o, out);
    if (to_file) {
        int close_rc = oomkit__fclose_replace(&r, out, rc == 0);
        if (rc == 0)
            rc = close_rc;
    }
    if (rc != 0) {
        fprintf(stderr, "oomkit gen-state: cannot write %s: %s\n", to_file ? path : "stdout",
                strerror(-rc));
        return OOMKIT_EXIT_FAIL;
    }
    return OOMKIT_EXIT_OK;
}

/* Registered by hand rather than with OOMKIT_COMMAND, whose name argument
 * must also be a C identifier and so cannot hold the '-' of "gen-state". */
static struct oomkit_cli_command gen_state_command = {
    "gen-state", "write a Kubernetes-shaped state as TSV (benchmark input)", cmd_gen_state, 0
};
__attribute__((constructor)) static void register_gen_state(void)
{
    oomkit__cli_register(&gen_state_command);
}
