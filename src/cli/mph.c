/* `oomkit mph`: builds, queries and describes minimal perfect hash files
 * (include/oomkit/mph.h).
 *
 *   oomkit mph build INPUT -o FILE [options]   a function or a static map
 *   oomkit mph query FILE KEY...               slot, or value / not found
 *   oomkit mph stats FILE [--json]             keys, bits per key by part,
 *                                              seed, build time
 *
 * Exit codes (as for the other commands, bad input is the usage class):
 * 0 done; 1 (query) some key was not found; 2 bad command line or bad input
 * (unreadable, a line that does not parse, a duplicate key, not an mph
 * file); 3 internal failure (out of memory, no function found, the output
 * could not be written). */
#include "cli/cli.h"
#include "oomkit/mph.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: oomkit mph build INPUT -o FILE [--mph] [--fingerprint-bits N] [--exact]\n"
            "                        [--seed S] [--keys-per-bucket L] [--load-factor A]\n"
            "                        [--reproducible]\n"
            "       oomkit mph query FILE KEY...\n"
            "       oomkit mph stats FILE [--json]\n\n"
            "Minimal perfect hashing for fixed key sets: every key gets its own slot in\n"
            "0..n-1 for about 2.5 bits per key, and a static map stores an int64 per key.\n\n"
            "build  INPUT has one entry per line (\"-\" reads stdin). A line without a TAB\n"
            "       is a key. A line with TABs is fields, the last one a signed 64-bit\n"
            "       value and the others, joined with '/', the key: \"key<TAB>value\" and\n"
            "       the workload's \"namespace<TAB>name<TAB>key<TAB>value\" both work. Keys\n"
            "       only give a function; keys with values a static map, unless --mph.\n"
            "       Empty lines and lines starting with '#' are skipped.\n"
            "  -o, --output FILE        where to write (replaced atomically)\n"
            "  --mph                    a function over the keys, values ignored\n"
            "  --fingerprint-bits N     static map: 0..32 bits per key to reject keys\n"
            "                           outside the set (default 16: 1 in 65536 slips)\n"
            "  --exact                  static map: keep the keys, answers are exact\n"
            "                           (--exact and --fingerprint-bits are refused\n"
            "                           when the build gives a function)\n"
            "  --seed S                 hash seed (default 0)\n"
            "  --keys-per-bucket L      lambda, 1 to 32, default 3.5 (8/L bits per key\n"
            "                           of pilots; larger is smaller, slower to build)\n"
            "  --load-factor A          alpha, above 0.5 and below 1, default 0.995\n"
            "  --reproducible           do not record the build time in the file, so the\n"
            "                           same input always gives the same bytes\n"
            "query  prints KEY<TAB>SLOT for a function, KEY<TAB>VALUE or KEY<TAB>(not found)\n"
            "       for a map; exits 1 when a key was not found. A function built from\n"
            "       no keys has no slot to give: every key is (not found).\n"
            "stats  describes a file; --json prints one JSON object.\n\n"
            "exit status: 0 done; 1 (query) a key was not found; 2 bad command line or\n"
            "bad input (unreadable, a line that does not parse, a duplicate key, not an\n"
            "mph file); 3 internal failure (out of memory, no function found with these\n"
            "parameters, FILE could not be written).\n");
}

/* Splits text into keys for a function: whole lines, or for lines with
 * TABs the fields before the last joined with '/' (rewritten in place). */
static int split_keys(char *text, size_t len, oomkit_str **keys, size_t **lines, size_t *count)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    n++;
    oomkit_str *k = malloc(n * sizeof(*k));
    size_t *ln = malloc(n * sizeof(*ln));
    if (k == NULL || ln == NULL) {
        free(k);
        free(ln);
        return -ENOMEM;
    }
    size_t c = 0, line = 0;
    for (char *p = text, *end = text + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        line++;
        if (le > p && le[-1] == '\r')
            le--;
        if (le > p && *p != '#') {
            char *tab = NULL;
            for (char *q = le; q > p; q--)
                if (q[-1] == '\t') {
                    tab = q - 1;
                    break;
                }
            char *ke = tab ? tab : le;
            for (char *q = p; q < ke; q++)
                if (*q == '\t')
                    *q = '/';
            k[c] = (oomkit_str){ p, (size_t)(ke - p) };
            ln[c++] = line;
        }
        p = nl ? nl + 1 : end;
    }
    *keys = k;
    *lines = ln;
    *count = c;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0' || *s == '-')
        return -1;
    *out = v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int cmd_build(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "output", required_argument, 0, 'o' },
        { "mph", no_argument, 0, 'm' },
        { "fingerprint-bits", required_argument, 0, 'f' },
        { "exact", no_argument, 0, 'x' },
        { "seed", required_argument, 0, 's' },
        { "keys-per-bucket", required_argument, 0, 'l' },
        { "load-factor", required_argument, 0, 'a' },
        { "reproducible", no_argument, 0, 'r' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    const char *output = NULL;
    int fn_only = 0, exact = 0, reproducible = 0, fp_given = 0;
    uint64_t fp_bits = 16;
    oomkit_static_map_options mo;
    memset(&mo, 0, sizeof(mo));
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': output = optarg; break;
        case 'm': fn_only = 1; break;
        case 'x': exact = 1; break;
        case 'r': reproducible = 1; break;
        case 'f':
            if (parse_u64(optarg, &fp_bits) != 0 || fp_bits > 32) {
                fprintf(stderr, "oomkit mph build: --fingerprint-bits wants 0..32, not '%s'\n",
                        optarg);
                return OOMKIT_EXIT_USAGE;
            }
            fp_given = 1;
            break;
        case 's':
            if (parse_u64(optarg, &mo.mph.seed) != 0) {
                fprintf(stderr, "oomkit mph build: --seed wants an unsigned integer\n");
                return OOMKIT_EXIT_USAGE;
            }
            break;
        /* The library's ranges (check_options in src/mph/build.c), checked
         * here so that a bad value is named rather than failing the build
         * as if no function existed. The library's "0 means the default"
         * serves zeroed option structs; here the default is to leave the
         * option out, so 0 is refused too. Each check is written so that
         * NaN fails it. */
        case 'l':
            if (parse_double(optarg, &mo.mph.keys_per_bucket) != 0 ||
                !(mo.mph.keys_per_bucket >= 1.0 && mo.mph.keys_per_bucket <= 32.0)) {
                fprintf(stderr, "oomkit mph build: --keys-per-bucket wants a number from 1 to "
                                "32 (default 3.5), not '%s'\n", optarg);
                return OOMKIT_EXIT_USAGE;
            }
            break;
        case 'a':
            if (parse_double(optarg, &mo.mph.load_factor) != 0 ||
                !(mo.mph.load_factor > 0.5 && mo.mph.load_factor < 1.0)) {
                fprintf(stderr, "oomkit mph build: --load-factor wants a number above 0.5 and "
                                "below 1 (default 0.995), not '%s'\n", optarg);
                return OOMKIT_EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return OOMKIT_EXIT_OK;
        case ':':
            fprintf(stderr, "oomkit mph build: %s needs a value\n", argv[optind - 1]);
            return OOMKIT_EXIT_USAGE;
        default:
            fprintf(stderr, "oomkit mph build: unknown option '%s'\n", argv[optind - 1]);
            return OOMKIT_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc || output == NULL) {
        fprintf(stderr, "oomkit mph build: want one INPUT and -o FILE (see --help)\n");
        return OOMKIT_EXIT_USAGE;
    }
    const char *input = argv[optind];
    char *text = NULL;
    size_t len = 0;
    int rc = oomkit__cli_read_all(input, &text, &len);
    if (rc != 0) {
        fprintf(stderr, "oomkit mph build: cannot read %s: %s\n", input, strerror(-rc));
        return OOMKIT_EXIT_USAGE;
    }
    int is_map = !fn_only && memchr(text, '\t', len) != NULL;
    /* Ignoring them would write a file that is not what was asked for. */
    if (!is_map && (exact || fp_given)) {
        fprintf(stderr, "oomkit mph build: %s is for static maps, and %s builds a function\n",
                exact ? "--exact" : "--fingerprint-bits",
                fn_only ? "--mph" : "keys-only input (no line has a TAB)");
        free(text);
        return OOMKIT_EXIT_USAGE;
    }
    mo.fingerprint_bits = (uint32_t)fp_bits;
    mo.keep_keys = exact;
    mo.mph.record_build_time = !reproducible;
    size_t err_at = 0;
    mo.mph.error_index = &err_at;
    uint64_t n = 0;
    if (is_map) {
        oomkit_static_map *m = NULL;
        rc = oomkit_static_map_build_tsv((oomkit_str){ text, len }, &mo, &m);
        if (rc == 0) {
            n = oomkit_mph_size(oomkit_static_map_mph(m));
            rc = oomkit_static_map_save(m, output);
            if (rc != 0) {
                fprintf(stderr, "oomkit mph build: cannot write %s: %s\n", output,
                        oomkit_strerror(rc));
                oomkit_static_map_close(m);
                free(text);
                return OOMKIT_EXIT_FAIL;
            }
            oomkit_static_map_close(m);
        } else if (rc == -EEXIST) {
            fprintf(stderr, "oomkit mph build: %s:%zu: duplicate key\n", input, err_at);
        } else if (rc == -EINVAL && err_at > 0) {
            fprintf(stderr, "oomkit mph build: %s:%zu: not fields<TAB>value (a signed 64-bit "
                            "value)\n", input, err_at);
        }
    } else {
        oomkit_str *keys;
        size_t *lines, count;
        rc = split_keys(text, len, &keys, &lines, &count);
        if (rc == 0) {
            oomkit_mph *m = NULL;
            rc = oomkit_mph_build(keys, count, &mo.mph, &m);
            if (rc == -EEXIST)
                fprintf(stderr, "oomkit mph build: %s:%zu: duplicate key\n", input,
                        lines[err_at]);
            if (rc == 0) {
                n = count;
                rc = oomkit_mph_save(m, output);
                if (rc != 0) {
                    fprintf(stderr, "oomkit mph build: cannot write %s: %s\n", output,
                            oomkit_strerror(rc));
                    oomkit_mph_close(m);
                    free(keys);
                    free(lines);
                    free(text);
                    return OOMKIT_EXIT_FAIL;
                }
                oomkit_mph_close(m);
            }
            free(keys);
            free(lines);
        }
    }
    free(text);
    /* Bad input (named above with its line) is the usage class, as in
     * `oomkit lint`; only what is not the input's fault exits 3. */
    if (rc == -EEXIST || (rc == -EINVAL && err_at > 0))
        return OOMKIT_EXIT_USAGE;
    if (rc == -E2BIG) {
        fprintf(stderr, "oomkit mph build: %s: more keys than one file holds (%" PRIu64 ")\n",
                input, OOMKIT_MPH_MAX_KEYS);
        return OOMKIT_EXIT_USAGE;
    }
    if (rc != 0) {
        fprintf(stderr, "oomkit mph build: %s\n",
                rc == -EINVAL ? "no function found with these parameters (try a smaller "
                                "--keys-per-bucket or --load-factor)"
                              : oomkit_strerror(rc));
        return OOMKIT_EXIT_FAIL;
    }
    printf("%s: %" PRIu64 " keys, %s\n", output, n, is_map ? "static map" : "function");
    return OOMKIT_EXIT_OK;
}

/* Opens FILE as a static map, or as a function when it holds only one.
 * Returns an exit code: a file that cannot be read or is not an mph file is
 * bad input (2); only running out of memory is a failure (3). */
static int open_any(const char *path, oomkit_static_map **map, oomkit_mph **fn)
{
    *map = NULL;
    *fn = NULL;
    int rc = oomkit_static_map_open(path, map);
    if (rc == -EINVAL)
        rc = oomkit_mph_open(path, fn);
    if (rc != 0)
        fprintf(stderr, "oomkit mph: cannot open %s: %s\n", path,
                rc == -EBADMSG ? "not an mph file, or corrupt or truncated" : strerror(-rc));
    if (rc == -ENOMEM)
        return OOMKIT_EXIT_FAIL;
    return rc != 0 ? OOMKIT_EXIT_USAGE : OOMKIT_EXIT_OK;
}

static int cmd_query(int argc, char **argv)
{
    if (oomkit__cli_wants_help(argc, argv)) {
        usage(stdout);
        return OOMKIT_EXIT_OK;
    }
    if (argc < 3) {
        fprintf(stderr, "oomkit mph query: want FILE KEY... (see --help)\n");
        return OOMKIT_EXIT_USAGE;
    }
    oomkit_static_map *map;
    oomkit_mph *fn;
    int rc = open_any(argv[1], &map, &fn);
    if (rc != OOMKIT_EXIT_OK)
        return rc;
    int missing = 0;
    for (int i = 2; i < argc; i++) {
        oomkit_str key = oomkit_cstr(argv[i]);
        /* oomkit_mph_index gives 0 for the empty function, which has no
         * slot 0: no key can be in an empty set. */
        if (fn != NULL && oomkit_mph_size(fn) > 0) {
            printf("%s\t%" PRIu64 "\n", argv[i], oomkit_mph_index(fn, key));
            continue;
        }
        int64_t v;
        if (map != NULL && oomkit_static_map_get(map, key, &v) == 0) {
            printf("%s\t%" PRId64 "\n", argv[i], v);
        } else {
            printf("%s\t(not found)\n", argv[i]);
            missing = 1;
        }
    }
    oomkit_static_map_close(map);
    oomkit_mph_close(fn);
    return missing ? OOMKIT_EXIT_FINDINGS : OOMKIT_EXIT_OK;
}

static double bits(uint64_t bytes, uint64_t n)
{
    return n ? (double)bytes * 8.0 / (double)n : 0.0;
}

static int cmd_stats(int argc, char **argv)
{
    if (oomkit__cli_wants_help(argc, argv)) {
        usage(stdout);
        return OOMKIT_EXIT_OK;
    }
    int json = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (path == NULL && argv[i][0] != '-')
            path = argv[i];
        else {
            fprintf(stderr, "oomkit mph stats: unexpected '%s' (see --help)\n", argv[i]);
            return OOMKIT_EXIT_USAGE;
        }
    }
    if (path == NULL) {
        fprintf(stderr, "oomkit mph stats: want FILE (see --help)\n");
        return OOMKIT_EXIT_USAGE;
    }
    oomkit_static_map *map;
    oomkit_mph *fn;
    int rc = open_any(path, &map, &fn);
    if (rc != OOMKIT_EXIT_OK)
        return rc;
    oomkit_mph_stats st;
    oomkit_mph_stats_get(fn ? fn : oomkit_static_map_mph(map), &st);
    uint64_t n = st.keys;
    if (json) {
        printf("{\"kind\": \"%s\", \"version\": %u, \"keys\": %" PRIu64 ", \"seed\": %" PRIu64
               ", \"hash_seed\": %" PRIu64 ", \"attempts\": %u, \"parts\": %u, \"buckets\": %" PRIu64
               ", \"slots\": %" PRIu64 ", \"remap_entries\": %" PRIu64
               ", \"build_s\": %.6f, \"bits_per_key\": %.4f, \"bits_per_key_by_part\": "
               "{\"header\": %.4f, \"parts\": %.4f, \"pilots\": %.4f, \"remap\": %.4f, "
               "\"values\": %.4f, \"fingerprints\": %.4f, \"keys\": %.4f}, \"fingerprint_bits\": %u"
               ", \"exact\": %s, \"file_bytes\": %" PRIu64 "}\n",
               st.kind == 2 ? "static map" : "function", st.version, n, st.seed, st.hash_seed,
               st.attempts, st.parts, st.buckets, st.slots, st.remap_entries,
               (double)st.build_ns / 1e9, st.bits_per_key, bits(st.bytes_header, n),
               bits(st.bytes_parts, n), bits(st.bytes_pilots, n), bits(st.bytes_remap, n),
               bits(st.bytes_values, n), bits(st.bytes_fingerprints, n), bits(st.bytes_keys, n),
               st.fingerprint_bits, st.has_keys ? "true" : "false", st.bytes_total);
    } else {
        printf("file          %s (format version %u, %" PRIu64 " bytes)\n", path, st.version,
               st.bytes_total);
        printf("kind          %s\n", st.kind == 2 ? "static map" : "function");
        printf("keys          %" PRIu64 "\n", n);
        printf("seed          %" PRIu64 " (hash seed %" PRIu64 ", %u attempt%s)\n", st.seed,
               st.hash_seed, st.attempts, st.attempts == 1 ? "" : "s");
        printf("parts         %u, %" PRIu64 " buckets, %" PRIu64 " slots, %" PRIu64
               " remapped\n", st.parts, st.buckets, st.slots, st.remap_entries);
        if (st.build_ns)
            printf("build time    %.3f s\n", (double)st.build_ns / 1e9);
        else
            printf("build time    not recorded (reproducible build)\n");
        printf("bits per key  %.3f function: pilots %.3f, remap %.3f, part table %.3f, "
               "header %.3f\n", st.bits_per_key, bits(st.bytes_pilots, n),
               bits(st.bytes_remap, n), bits(st.bytes_parts, n), bits(st.bytes_header, n));
        if (st.kind == 2)
            printf("map           values %.1f, fingerprints %.1f (%u-bit), keys %.1f "
                   "bits per key%s\n", bits(st.bytes_values, n),
                   bits(st.bytes_fingerprints, n), st.fingerprint_bits,
                   bits(st.bytes_keys, n), st.has_keys ? " (exact)" : "");
    }
    oomkit_static_map_close(map);
    oomkit_mph_close(fn);
    return OOMKIT_EXIT_OK;
}

static int cmd_mph(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? OOMKIT_EXIT_USAGE : OOMKIT_EXIT_OK;
    }
    if (strcmp(argv[1], "build") == 0)
        return cmd_build(argc - 1, argv + 1);
    if (strcmp(argv[1], "query") == 0)
        return cmd_query(argc - 1, argv + 1);
    if (strcmp(argv[1], "stats") == 0)
        return cmd_stats(argc - 1, argv + 1);
    fprintf(stderr, "oomkit mph: unknown subcommand '%s' (build, query, stats)\n", argv[1]);
    return OOMKIT_EXIT_USAGE;
}

OOMKIT_COMMAND(mph, "minimal perfect hash files: build, query, stats", cmd_mph)
