/* `oomkit watch`: the watchdog daemon's command line. Parses options (and
 * an optional config file, command line winning) into the daemon's config
 * and runs it; log lines go to stderr with a UTC timestamp. */
#include "cli/cli.h"
#include "watch/daemon.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void usage(FILE *out)
{
    fprintf(out,
"usage: oomkit watch (--pid PID | --cgroup PATH | --cgroups-under ROOT) [options]\n"
"\n"
"Watches memory against its limit, predicts the OOM kill, and writes a capture\n"
"bundle (smaps, stacks, cgroup stats, heap profile, verdict, timeline) before the\n"
"kernel kills the target. Exports Prometheus metrics and posts Alertmanager alerts.\n"
"\n"
"targets (exactly one; on the command line it replaces the config file's):\n"
"  --pid PID             one process; followed across restarts (a new process with\n"
"                        the same command line, in its cgroup or anywhere)\n"
"  --cgroup PATH         one memory cgroup: a directory (/sys/fs/cgroup/memory/app)\n"
"                        or a path in the hierarchy (/app); cgroup v1 or v2\n"
"  --cgroups-under ROOT  every cgroup below ROOT (e.g. kubepods); new cgroups are\n"
"                        picked up every --discover-every (default 5s), vanished\n"
"                        ones dropped\n"
"\n"
"settings (also valid as `key = value` lines in --config FILE):\n"
"  --interval DUR        sampling interval (default 1s; also 250ms, 2m). Kernel\n"
"                        notifications (v1 usage thresholds and pressure_level,\n"
"                        v2 PSI trigger and memory.events) wake it in between\n"
"  --listen ADDR         Prometheus endpoint HOST:PORT (default 127.0.0.1:9464,\n"
"                        loopback); 'off' disables it\n"
"  --alertmanager URL    post alerts to URL/api/v2/alerts (default: no alerts);\n"
"                        URL is http://HOST[:PORT] or https://HOST[:PORT]\n"
"  --capture-dir DIR     where bundles go, outside the watched cgroup\n"
"                        (default /var/lib/oomkit/captures); created at start-up\n"
"                        if missing, and must be a writable directory\n"
"  --capture-max SIZE    total size of DIR; oldest bundles are removed first\n"
"                        (default 256M)\n"
"  --warn PCT            warn when working set / limit reaches PCT, written 80%% or\n"
"                        0.8 (default 80%%); must be below --critical\n"
"  --critical PCT        critical at PCT (default 90%%); critical captures\n"
"  --predict DUR         'predicted' when the trend reaches the limit within DUR\n"
"                        (default 60s; 0 disables); predicted captures\n"
"  --cooldown DUR        at most one capture per target per DUR (default 300s)\n"
"  --window N            samples in the Theil-Sen trend window (2..120, default 60)\n"
"  --buy-time            off by default. When capturing: on cgroup v2 set\n"
"                        memory.high to 97%% of memory.max so the kernel throttles\n"
"                        instead of killing (reset to max when the target is ok);\n"
"                        on v1 SIGSTOP the process for the length of the capture\n"
"  --dry-run             log captures, alerts and buy-time actions, do none\n"
"  --prof-wait DUR       wait for a liboomkit_prof.so heap dump, 0 to 60s\n"
"                        (default 2s)\n"
"  --no-user-stacks      do not run eu-stack on the target\n"
"  --max-targets N       bound on watched targets (1..100000, default 256)\n"
"  --discover-every DUR  how often --cgroups-under looks for new cgroups (5s)\n"
"  --config FILE         read settings from FILE first\n"
"  --once                sample once and exit (with --print-metrics: show them)\n"
"  --print-metrics       print the Prometheus exposition on exit\n"
"  --duration DUR        exit after DUR; 0, the default, runs until SIGINT/SIGTERM\n"
"  --root DIR            read /proc and /sys under DIR (fixture trees, tests)\n"
"\n"
"Rules enter at once and clear after 3 samples beyond a margin (5 points, or 1.5x\n"
"the prediction horizon), so states do not flap. The daemon lowers its own\n"
"oom_score_adj (-900, or the lowest allowed) and keeps running when a target, a\n"
"file or Alertmanager misbehaves, with one log line per problem.\n"
"\n"
"exit status: 0 ok, 2 bad usage or settings, 3 could not start\n");
}

static void log_line(void *ctx, const char *line)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "oomkit watch: %s.%03ldZ %s\n", when, ts.tv_nsec / 1000000L, line);
    fflush(stderr);
}

static int cmd_watch(int argc, char **argv)
{
    if (oomkit__cli_wants_help(argc, argv)) {
        usage(stdout);
        return OOMKIT_EXIT_OK;
    }
    static struct oomkit__watch_config cfg;
    char err[512];
    oomkit__watch_config_default(&cfg);
    /* The config file first, so the command line overrides it. */
    for (int i = 1; i < argc; i++) {
        const char *file = NULL;
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            file = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            file = argv[i] + 9;
        if (file && oomkit__watch_config_load(&cfg, file, err, sizeof err) != 0) {
            fprintf(stderr, "oomkit watch: %s\n", err);
            return OOMKIT_EXIT_USAGE;
        }
    }
    int cli_target = 0;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2) != 0) {
            fprintf(stderr, "oomkit watch: unexpected argument '%s' (see --help)\n", argv[i]);
            return OOMKIT_EXIT_USAGE;
        }
        char key[64];
        const char *val = NULL;
        const char *eq = strchr(argv[i] + 2, '=');
        size_t klen = eq ? (size_t)(eq - argv[i] - 2) : strlen(argv[i] + 2);
        if (klen >= sizeof key) {
            fprintf(stderr, "oomkit watch: unknown option '%s' (see --help)\n", argv[i]);
            return OOMKIT_EXIT_USAGE;
        }
        memcpy(key, argv[i] + 2, klen);
        key[klen] = '\0';
        int takes = oomkit__watch_config_takes_value(key);
        if (takes < 0) {
            fprintf(stderr, "oomkit watch: unknown option '%s' (see --help)\n", argv[i]);
            return OOMKIT_EXIT_USAGE;
        }
        if (eq)
            val = eq + 1;
        else if (takes) {
            if (i + 1 >= argc) {
                fprintf(stderr, "oomkit watch: %s needs a value (see --help)\n", argv[i]);
                return OOMKIT_EXIT_USAGE;
            }
            val = argv[++i];
        }
        /* The first target on the command line replaces the config
         * file's; a second one is a conflict (oomkit__watch_config_set). */
        if (!cli_target && oomkit__watch_config_is_target(key)) {
            cfg.mode = OOMKIT__WATCH_NONE;
            cli_target = 1;
        }
        if (oomkit__watch_config_set(&cfg, key, val, err, sizeof err) != 0) {
            fprintf(stderr, "oomkit watch: %s\n", err);
            return OOMKIT_EXIT_USAGE;
        }
    }
    if (cfg.mode == OOMKIT__WATCH_NONE) {
        fprintf(stderr, "oomkit watch: give --pid, --cgroup or --cgroups-under (see --help)\n");
        return OOMKIT_EXIT_USAGE;
    }
    /* Everything is checked before the daemon touches its own process
     * (oom_score_adj, signal handlers). */
    if (oomkit__watch_config_check(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "oomkit watch: %s\n", err);
        return OOMKIT_EXIT_USAGE;
    }
    int rc = oomkit__watch_run(&cfg, log_line, NULL, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "oomkit watch: %s\n", err);
        return OOMKIT_EXIT_FAIL;
    }
    return OOMKIT_EXIT_OK;
}

OOMKIT_COMMAND(watch, "see the OOM coming, keep the evidence, tell Prometheus", cmd_watch)
