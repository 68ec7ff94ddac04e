/* `oomkit profile [options] -- CMD ARGS...`: runs a command with the heap
 * profiler (liboomkit_prof.so) preloaded, waits for it, then prints a short
 * top table and the path of the profile written at exit.
 * The library is looked up next to the oomkit binary (build tree), then in
 * ../lib or ../lib64 relative to it, and in the install libdir
 * (OOMKIT_PROF_LIBDIR).
 * Exit codes: the command's own exit status (128 + signal if killed);
 * 2 usage; 3 when the library or the command cannot be started, or when
 * the command succeeded but no profile was written. */
#include "cli/cli.h"
#include "cli/report.h"
#include "cli/sibling.h"
#include "core/file_replace.h"
#include "prof/prof_internal.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef OOMKIT_PROF_LIBDIR
#define OOMKIT_PROF_LIBDIR "/usr/local/lib"
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "usage: oomkit profile [--sample SIZE | --all] [--out PREFIX] [--interval S]\n"
            "                      [--signal SIG] [--inuse SIZE] [--unwind fp|dwarf]\n"
            "                      [--follow-exec] -- CMD ARGS...\n\n"
            "Runs CMD with the oomkit heap profiler preloaded and summarises its heap at exit.\n"
            "  --sample SIZE   mean bytes between samples (default 512k)\n"
            "  --all           record every allocation (exact, for leak hunting)\n"
            "  --out PREFIX    profiles go to PREFIX.<pid>.<seq>.pb.gz (default ./oomkit-prof)\n"
            "  --interval S    also dump every S seconds\n"
            "  --signal SIG    dump when the process gets SIG (default USR2)\n"
            "  --inuse SIZE    dump once when the in-use heap first reaches SIZE\n"
            "  --unwind MODE   dwarf (libunwind, default: right everywhere) or fp (frame\n"
            "                  pointers: cheaper with --all, but only right when the program\n"
            "                  and its libraries keep frame pointers)\n"
            "  --follow-exec   keep profiling programs that CMD executes (by default only\n"
            "                  CMD itself is profiled, so name the program, not a shell)\n"
            "The summary goes to stderr; `oomkit report PROFILE` shows more.\n");
}

/* The newest exit profile of pid: the highest sequence number. */
static int find_profile(const char *prefix, long pid, char *out, size_t cap)
{
    char dir[PATH_MAX], base[PATH_MAX + 64];
    const char *slash = strrchr(prefix, '/');
    int w1, w2;
    if (slash != NULL) {
        w1 = snprintf(dir, sizeof(dir), "%.*s", (int)(slash - prefix), prefix);
        if (dir[0] == '\0')
            strcpy(dir, "/");
        w2 = snprintf(base, sizeof(base), "%s.%ld.", slash + 1, pid);
    } else {
        w1 = snprintf(dir, sizeof(dir), ".");
        w2 = snprintf(base, sizeof(base), "%s.%ld.", prefix, pid);
    }
    if (w1 < 0 || (size_t)w1 >= sizeof(dir) || w2 < 0 || (size_t)w2 >= sizeof(base))
        return -ENAMETOOLONG;
    DIR *d = opendir(dir);
    if (d == NULL)
        return -errno;
    long best = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t bl = strlen(base);
        if (strncmp(e->d_name, base, bl) != 0 || strstr(e->d_name, ".tmp.") != NULL)
            continue;
        char *end;
        long seq = strtol(e->d_name + bl, &end, 10);
        if (strcmp(end, ".pb.gz") == 0 && seq > best) {
            int w = snprintf(out, cap, "%s/%s", dir, e->d_name);
            if (w > 0 && (size_t)w < cap)
                best = seq;
        }
    }
    closedir(d);
    return best >= 0 ? 0 : -ENOENT;
}

static int append(char *buf, size_t cap, const char *key, const char *val)
{
    size_t used = strlen(buf);
    int n = snprintf(buf + used, cap - used, "%s%s=%s", used ? "," : "", key, val);
    return n < 0 || (size_t)n >= cap - used ? -1 : 0;
}

/* Checks one setting with the profiler's own parser (prof_config.c), so a
 * bad value stops here, named by its option, instead of being warned about
 * by the library inside the command and replaced by the default. */
static int check_setting(const char *option, const char *key, const char *value)
{
    char one[1024];
    struct prof_config cfg;
    const char *bad;
    int n = snprintf(one, sizeof(one), "%s=%s", key, value);
    if (n > 0 && (size_t)n < sizeof(one) && oomkit__prof_config_parse(one, &cfg, &bad) == 0)
        return 0;
    fprintf(stderr, "oomkit profile: bad value '%s' for %s (see --help)\n", value, option);
    return -1;
}

/* Appends key=value to env once check_setting accepts it. 0, or an exit code. */
static int add_setting(char *env, size_t cap, const char *option, const char *key,
                       const char *value)
{
    if (check_setting(option, key, value) != 0)
        return OOMKIT_EXIT_USAGE;
    if (append(env, cap, key, value) != 0) {
        fprintf(stderr, "oomkit profile: options too long\n");
        return OOMKIT_EXIT_USAGE;
    }
    return 0;
}

static int cmd_profile(int argc, char **argv)
{
    char env[2048] = "", dump[64] = "exit+signal";
    const char *prefix = "oomkit-prof";
    const char *sampling = NULL; /* --sample or --all, whichever came */
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return OOMKIT_EXIT_OK;
        } else if (strcmp(a, "--all") == 0 || (v != NULL && strcmp(a, "--sample") == 0)) {
            if (sampling != NULL) {
                fprintf(stderr, "oomkit profile: give one of --sample and --all, once\n");
                return OOMKIT_EXIT_USAGE;
            }
            sampling = a;
            int all = strcmp(a, "--all") == 0;
            bad = add_setting(env, sizeof(env), a, "sample", all ? "all" : v);
            i += !all;
        } else if (strcmp(a, "--follow-exec") == 0) {
            bad = add_setting(env, sizeof(env), a, "exec", "follow");
        } else if (v != NULL && strcmp(a, "--out") == 0) {
            if (v[0] == '\0') {
                fprintf(stderr, "oomkit profile: --out needs a file name prefix\n");
                return OOMKIT_EXIT_USAGE;
            }
            prefix = v, i++;
        } else if (v != NULL && strcmp(a, "--interval") == 0) {
            char s[64];
            size_t vl = strlen(v);
            /* --interval 30 means seconds; 30s, 500ms, 2m pass through. */
            snprintf(s, sizeof(s), "%s%s", v, vl > 0 && v[vl - 1] >= '0' && v[vl - 1] <= '9' ? "s" : "");
            bad = add_setting(env, sizeof(env), a, "interval", s), i++;
            strcat(dump, "+interval");
        } else if (v != NULL && strcmp(a, "--signal") == 0) {
            bad = add_setting(env, sizeof(env), a, "signal", v), i++;
        } else if (v != NULL && strcmp(a, "--inuse") == 0) {
            bad = add_setting(env, sizeof(env), a, "inuse", v), i++;
            strcat(dump, "+inuse");
        } else if (v != NULL && strcmp(a, "--unwind") == 0) {
            bad = add_setting(env, sizeof(env), a, "unwind", v), i++;
        } else {
            fprintf(stderr, "oomkit profile: unknown or incomplete option '%s' (see --help)\n", a);
            return OOMKIT_EXIT_USAGE;
        }
        if (bad)
            return bad;
    }
    if (i >= argc) {
        fprintf(stderr, "oomkit profile: no command given (oomkit profile [options] -- CMD ARGS...)\n");
        return OOMKIT_EXIT_USAGE;
    }
    char lib[PATH_MAX];
    if (oomkit_cli_sibling_path("liboomkit_prof.so", lib, sizeof(lib)) != 0) {
        fprintf(stderr, "oomkit profile: cannot find liboomkit_prof.so next to oomkit or in %s\n",
                OOMKIT_PROF_LIBDIR);
        return OOMKIT_EXIT_FAIL;
    }
    /* Make the prefix absolute so a command that changes directory still
     * writes where we look. */
    char abs_prefix[PATH_MAX + 256];
    if (prefix[0] != '/') {
        char cwd[PATH_MAX];
        if (getcwd(cwd, sizeof(cwd)) == NULL) {
            fprintf(stderr, "oomkit profile: cannot read the current directory\n");
            return OOMKIT_EXIT_FAIL;
        }
        int w = snprintf(abs_prefix, sizeof(abs_prefix), "%s/%s", cwd, prefix);
        if (w < 0 || (size_t)w >= sizeof(abs_prefix)) {
            fprintf(stderr, "oomkit profile: --out path too long\n");
            return OOMKIT_EXIT_USAGE;
        }
    } else {
        snprintf(abs_prefix, sizeof(abs_prefix), "%s", prefix);
    }
    /* Refused before the command runs, not found out after it. */
    char probe[sizeof(abs_prefix) + 16];
    snprintf(probe, sizeof(probe), "%s.0.pb.gz", abs_prefix);
    int werr = oomkit__file_replace_check(probe);
    if (werr != 0) {
        fprintf(stderr, "oomkit profile: cannot write profiles as %s: %s\n", abs_prefix,
                strerror(-werr));
        return OOMKIT_EXIT_USAGE;
    }
    if (append(env, sizeof(env), "out", abs_prefix) || append(env, sizeof(env), "dump", dump)) {
        fprintf(stderr, "oomkit profile: options too long\n");
        return OOMKIT_EXIT_USAGE;
    }
    char preload[PATH_MAX * 3];
    const char *old = getenv("LD_PRELOAD");
    snprintf(preload, sizeof(preload), "%s%s%s", lib, old && *old ? ":" : "", old ? old : "");

    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "oomkit profile: fork: %s\n", strerror(errno));
        return OOMKIT_EXIT_FAIL;
    }
    if (pid == 0) {
        setenv("LD_PRELOAD", preload, 1);
        setenv("OOMKIT_PROF", env, 1);
        execvp(argv[i], argv + i);
        fprintf(stderr, "oomkit profile: cannot run %s: %s\n", argv[i], strerror(errno));
        _exit(127);
    }
    /* The command owns the terminal's signals; we only wait for it. */
    signal(SIGINT, SIG_IGN);
    signal(SIGQUIT, SIG_IGN);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (WIFEXITED(status) && rc == 127)
        return OOMKIT_EXIT_FAIL;

    char path[PATH_MAX + 512];
    if (find_profile(abs_prefix, (long)pid, path, sizeof(path)) != 0) {
        /* The profiler says why above when it could not write; a command
         * killed outright (SIGKILL, the OOM killer) gets no exit dump. */
        fprintf(stderr, "oomkit profile: no profile was written as %s.%ld.*.pb.gz%s\n", abs_prefix,
                (long)pid,
                WIFSIGNALED(status) ? " (the command was killed before its exit dump)" : "");
        return rc != 0 ? rc : OOMKIT_EXIT_FAIL;
    }
    struct oomkit__pprof_profile p;
    int err = oomkit__pprof_read_file(path, &p);
    if (err == 0) {
        int t = report_pick_type(&p, NULL);
        struct report_model m;
        if (t >= 0 && report_model_build(&m, &p, t) == 0) {
            fputs("\n", stderr);
            report_top_print(stderr, &m, 10);
            report_model_free(&m);
        }
        oomkit__pprof_free(&p);
    }
    fprintf(stderr, "profile: %s\n(oomkit report %s --leaks | --svg flame.svg; go tool pprof -top %s)\n",
            path, path, path);
    return rc;
}

OOMKIT_COMMAND(profile, "run a command under the heap profiler (pprof output)", cmd_profile)
