/* `oomkit report PROFILE.pb.gz`: reads a pprof heap profile (ours or any
 * other producer's) and prints a top table, a flame graph SVG, a diff
 * against a base profile, the leaks, or JSON.
 * Exit codes: 0 ok; 1 with --leaks when something is still in use;
 * 2 usage or unreadable profile; 3 when an output cannot be written. */
#include "cli/cli.h"
#include "cli/report.h"
#include "oomkit/common.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: oomkit report PROFILE.pb.gz [--type TYPE] [--top N] [--svg OUT.svg]\n"
            "                     [--diff BASE.pb.gz] [--leaks] [--json]\n\n"
            "Reads a pprof heap profile and shows where memory went.\n"
            "  --type TYPE     sample type: inuse_space (default), inuse_objects,\n"
            "                  alloc_space, alloc_objects, mmap_inuse_space, ...\n"
            "  --top N         rows to print (default 20)\n"
            "  --svg OUT.svg   write a self-contained interactive flame graph\n"
            "  --diff BASE     show what grew since BASE (same sample type)\n"
            "  --leaks         memory still in use, by allocation site (exit 1 if any);\n"
            "                  takes only --json\n"
            "  --json          machine-readable output\n"
            "In sampled profiles each site's 95%% confidence interval is printed.\n");
}

static int load(const char *path, struct oomkit__pprof_profile *p)
{
    int err = oomkit__pprof_read_file(path, p);
    if (err != 0) {
        /* The codec says -EINVAL for anything it cannot decode. */
        const char *why = err == -EINVAL   ? "not a pprof profile (gzip-compressed protobuf), "
                                             "or a truncated or corrupt one"
                          : err == -E2BIG  ? "larger than the 1 GiB a profile may decode to"
                          : err == -ENOMEM ? "out of memory"
                                           : strerror(-err);
        fprintf(stderr, "oomkit report: cannot read profile %s: %s\n", path, why);
        return OOMKIT_EXIT_USAGE;
    }
    return 0;
}

static int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {
        { "type", required_argument, NULL, 't' }, { "top", required_argument, NULL, 'n' },
        { "svg", required_argument, NULL, 's' },  { "diff", required_argument, NULL, 'd' },
        { "leaks", no_argument, NULL, 'l' },      { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },       { NULL, 0, NULL, 0 },
    };
    const char *type = NULL, *svg = NULL, *diff = NULL;
    bool leaks = false, json = false, top_given = false;
    uint64_t top = 20;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:n:s:d:ljh", opts, NULL)) != -1) {
        switch (c) {
        case 't': type = optarg; break;
        case 'n':
            if (oomkit__cli_number("report", "--top", optarg, 1, 1000000000, &top) != 0)
                return OOMKIT_EXIT_USAGE;
            top_given = true;
            break;
        case 's': svg = optarg; break;
        case 'd': diff = optarg; break;
        case 'l': leaks = true; break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return OOMKIT_EXIT_OK;
        default: usage(stderr); return OOMKIT_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "oomkit report: expected exactly one PROFILE (see --help)\n");
        return OOMKIT_EXIT_USAGE;
    }
    /* The leak list has its own columns and lists every site. */
    if (leaks && (type != NULL || svg != NULL || diff != NULL || top_given)) {
        fprintf(stderr, "oomkit report: --leaks takes only --json (not --type, --top, --svg or "
                        "--diff)\n");
        return OOMKIT_EXIT_USAGE;
    }
    struct oomkit__pprof_profile p;
    int rc = load(argv[optind], &p);
    if (rc != 0)
        return rc;
    if (leaks) {
        int found = report_leaks_print(stdout, &p, json);
        oomkit__pprof_free(&p);
        if (found < 0) {
            fprintf(stderr, "oomkit report: out of memory\n");
            return OOMKIT_EXIT_FAIL;
        }
        return found > 0 ? OOMKIT_EXIT_FINDINGS : OOMKIT_EXIT_OK;
    }
    int t = report_pick_type(&p, type);
    if (t < 0) {
        fprintf(stderr, "oomkit report: the profile has no sample type '%s'\n", type ? type : "");
        oomkit__pprof_free(&p);
        return OOMKIT_EXIT_USAGE;
    }
    if (svg != NULL) {
        int err = report_svg_write(svg, &p, t);
        if (err != 0) {
            fprintf(stderr, "oomkit report: cannot write %s: %s\n", svg, oomkit_strerror(err));
            oomkit__pprof_free(&p);
            return OOMKIT_EXIT_FAIL;
        }
    }
    struct report_model m;
    if (report_model_build(&m, &p, t) != 0) {
        fprintf(stderr, "oomkit report: out of memory\n");
        oomkit__pprof_free(&p);
        return OOMKIT_EXIT_FAIL;
    }
    rc = OOMKIT_EXIT_OK;
    if (diff != NULL) {
        struct oomkit__pprof_profile b;
        rc = load(diff, &b);
        if (rc == 0) {
            int bt = oomkit__pprof_find_sample_type(&b, m.type_name);
            struct report_model bm;
            if (bt < 0) {
                fprintf(stderr, "oomkit report: %s has no sample type %s\n", diff, m.type_name);
                rc = OOMKIT_EXIT_USAGE;
            } else if (report_model_build(&bm, &b, bt) != 0) {
                rc = OOMKIT_EXIT_FAIL;
            } else {
                report_diff_print(stdout, &m, &bm, (size_t)top);
                report_model_free(&bm);
            }
            oomkit__pprof_free(&b);
        }
    } else if (json) {
        report_json_print(stdout, &m, (size_t)top);
    } else {
        report_top_print(stdout, &m, (size_t)top);
        if (svg != NULL)
            printf("flame graph: %s\n", svg);
    }
    report_model_free(&m);
    oomkit__pprof_free(&p);
    return rc;
}

OOMKIT_COMMAND(report, "top table, flame graph, diff and leaks of a heap profile", cmd_report)
