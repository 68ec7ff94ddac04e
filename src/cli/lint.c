/* `oomkit lint`: memory compliance checks for Kubernetes manifests, for CI.
 *
 * This file is the command line: options, walking files and directories,
 * reading input, exit codes. The checks themselves live in src/lint/.
 * Exit codes: 0 clean (no finding at or above --fail-on), 1 findings at or
 * above --fail-on, 2 bad usage, unreadable input, invalid or refused YAML
 * (the file and line are printed) or a directory without YAML files, 3 out
 * of memory or an output error. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lint/lint.h"
#include "lint/ynode.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: oomkit lint [--config FILE] [--format text|json|sarif]\n"
            "                   [--fail-on info|warning|error] PATH...\n\n"
            "Checks Kubernetes manifests for memory settings that end in OOM kills: every\n"
            "container's memory request and limit, their ratio, valid quantities, and runtime\n"
            "caps (GOMEMLIMIT, JVM heap + direct memory, OOMKIT_PROF threshold) that must fit\n"
            "inside the limit. PATH is a file, a directory (its *.yaml and *.yml files,\n"
            "recursively, following symlinks; a file or directory reached twice is read\n"
            "once) or - for stdin; multi-document streams, List kinds and `helm template`\n"
            "output are read as they are. A directory without YAML files is an error; a\n"
            "file without Kubernetes workloads is not.\n\n"
            "options:\n"
            "  --config FILE    YAML file that disables or re-tunes rules (see docs/lint.md)\n"
            "  --format FMT     text (default), json, or sarif (SARIF 2.1.0)\n"
            "  --fail-on SEV    lowest severity that makes the exit code 1 (default info)\n\n"
            "rules:\n");
    for (int r = 0; r < OOMKIT__RULE_COUNT; r++)
        fprintf(out, "  %-28s %s\n", oomkit__lint_rules[r].id, oomkit__lint_rules[r].summary);
    fprintf(out,
            "\nexit status: 0 clean, 1 findings at or above --fail-on, 2 bad usage,\n"
            "unreadable input, invalid YAML or YAML refused as too costly (nesting deeper\n"
            "than %d, an alias bomb), with file and line, or a directory without YAML\n"
            "files, 3 internal failure.\n",
            OOMKIT__YNODE_DEPTH_MAX);
}

struct run {
    const struct oomkit__lint_config *cfg;
    struct oomkit__lint_report *rep;
    int fatal;  /* -ENOMEM once anything failed to allocate */
    void *seen; /* tsearch tree of struct seen: what was already read */
};

/* A directory or file already read. Symlinks can reach one twice, or loop
 * (dir/self -> ..): each is read once, under the first path that reaches
 * it. */
struct seen {
    dev_t dev;
    ino_t ino;
    size_t found; /* YAML files found below a directory (so far, if open) */
};

static int cmp_seen(const void *pa, const void *pb)
{
    const struct seen *a = pa, *b = pb;
    if (a->dev != b->dev)
        return a->dev < b->dev ? -1 : 1;
    return a->ino < b->ino ? -1 : (a->ino > b->ino);
}

/* The record of st's file, *is_new telling whether it was just added;
 * NULL when out of memory. */
static struct seen *remember(struct run *run, const struct stat *st, bool *is_new)
{
    struct seen *s = malloc(sizeof(*s));
    if (s == NULL)
        return NULL;
    *s = (struct seen){ st->st_dev, st->st_ino, 0 };
    struct seen **slot = tsearch(s, &run->seen, cmp_seen);
    if (slot == NULL || *slot != s)
        free(s);
    *is_new = slot != NULL && *slot == s;
    return slot != NULL ? *slot : NULL;
}

static void lint_fd(struct run *run, const char *name, int fd)
{
    char *buf;
    size_t len;
    int rc = oomkit__cli_read_fd(fd, &buf, &len);
    if (rc != 0) {
        if (oomkit__lint_report_error(run->rep, name, 0, 0, strerror(-rc)) != 0 || rc == -ENOMEM)
            run->fatal = -ENOMEM;
        return;
    }
    rc = oomkit__lint_buffer(run->cfg, run->rep, name, buf, len);
    if (rc == -ENOMEM)
        run->fatal = rc;
    free(buf);
}

static bool yaml_name(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int cmp_names(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static void add_error(struct run *run, const char *path, const char *message)
{
    if (oomkit__lint_report_error(run->rep, path, 0, 0, message) != 0)
        run->fatal = -ENOMEM;
}

static size_t lint_path(struct run *run, const char *path, bool explicit);

/* Lints the YAML files below directory path; returns how many it found. */
static size_t lint_dir(struct run *run, const char *path)
{
    struct dirent **names;
    int n = scandir(path, &names, NULL, cmp_names);
    if (n < 0) {
        add_error(run, path, strerror(errno));
        return 0;
    }
    size_t found = 0;
    for (int i = 0; i < n; i++) {
        const char *d = names[i]->d_name;
        /* Hidden entries (.git, .helm caches) are not manifests. */
        if (d[0] != '.') {
            size_t plen = strlen(path);
            char *child = malloc(plen + strlen(d) + 2);
            if (child == NULL) {
                run->fatal = -ENOMEM;
            } else {
                sprintf(child, "%s%s%s", path, plen && path[plen - 1] == '/' ? "" : "/", d);
                struct stat cst;
                if (stat(child, &cst) == 0) {
                    if (S_ISDIR(cst.st_mode) || (S_ISREG(cst.st_mode) && yaml_name(d)))
                        found += lint_path(run, child, false);
                } else if (yaml_name(d)) {
                    /* A manifest that cannot be reached (a dangling link) is
                     * not lint-clean: say so. */
                    add_error(run, child, strerror(errno));
                }
                free(child);
            }
        }
        free(names[i]);
    }
    free(names);
    return found;
}

/* Lints a file, a directory or - (stdin); returns how many YAML files were
 * found there, counting those read before through another path. */
static size_t lint_path(struct run *run, const char *path, bool explicit)
{
    if (run->fatal)
        return 0;
    if (strcmp(path, "-") == 0 && explicit) {
        lint_fd(run, "<stdin>", STDIN_FILENO);
        return 1;
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        add_error(run, path, strerror(errno));
        return 0;
    }
    /* Pipes and devices (<(helm template ...)) are read every time. */
    bool is_new = true;
    struct seen *rec = NULL;
    if (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode)) {
        rec = remember(run, &st, &is_new);
        if (rec == NULL) {
            run->fatal = -ENOMEM;
            return 0;
        }
    }
    if (S_ISDIR(st.st_mode)) {
        if (!is_new)
            return rec->found;
        size_t errors = run->rep->n_errors;
        rec->found = lint_dir(run, path);
        /* A typo'd or empty directory must not pass CI silently (unless an
         * error below it already fails the run). */
        if (explicit && rec->found == 0 && run->rep->n_errors == errors && run->fatal == 0)
            add_error(run, path, "no *.yaml or *.yml files in this directory or below");
        return rec->found;
    }
    if (!is_new)
        return 1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        add_error(run, path, strerror(errno));
        return 0;
    }
    lint_fd(run, path, fd);
    close(fd);
    return 1;
}

static int load_config(struct oomkit__lint_config *cfg, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "oomkit lint: cannot read config %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *buf;
    size_t len;
    int rc = oomkit__cli_read_fd(fd, &buf, &len);
    close(fd);
    if (rc != 0) {
        fprintf(stderr, "oomkit lint: cannot read config %s: %s\n", path, strerror(-rc));
        return -1;
    }
    char err[400];
    rc = oomkit__lint_config_load(cfg, buf, len, err, sizeof(err));
    free(buf);
    if (rc != 0) {
        fprintf(stderr, "oomkit lint: %s:%s\n", path, err);
        return -1;
    }
    return 0;
}

/* "--name VALUE" or "--name=VALUE": the value, advancing *i; NULL if argv[*i]
 * is not this option. Sets *missing when the value is absent. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

static int cmd_lint(int argc, char **argv)
{
    if (oomkit__cli_wants_help(argc, argv)) {
        usage(stdout);
        return OOMKIT_EXIT_OK;
    }
    struct oomkit__lint_config cfg;
    oomkit__lint_config_default(&cfg);
    const char *format = "text", *config = NULL;
    enum oomkit__lint_severity fail_on = OOMKIT__LINT_INFO;
    char **paths = calloc((size_t)argc, sizeof(char *));
    int n_paths = 0;
    if (paths == NULL) {
        fprintf(stderr, "oomkit lint: out of memory\n");
        return OOMKIT_EXIT_FAIL;
    }
    bool opts_done = false;
    for (int i = 1; i < argc; i++) {
        const char *v;
        bool missing = false;
        if (opts_done || argv[i][0] != '-' || strcmp(argv[i], "-") == 0) {
            paths[n_paths++] = argv[i];
        } else if (strcmp(argv[i], "--") == 0) {
            opts_done = true;
        } else if ((v = opt_value(argc, argv, &i, "--config", &missing)) != NULL) {
            config = v;
        } else if ((v = opt_value(argc, argv, &i, "--format", &missing)) != NULL) {
            if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0 && strcmp(v, "sarif") != 0) {
                fprintf(stderr, "oomkit lint: --format must be text, json or sarif, not '%s'\n", v);
                free(paths);
                return OOMKIT_EXIT_USAGE;
            }
            format = v;
        } else if ((v = opt_value(argc, argv, &i, "--fail-on", &missing)) != NULL) {
            if (oomkit__lint_severity_parse(v, strlen(v), &fail_on) != 0) {
                fprintf(stderr,
                        "oomkit lint: --fail-on must be info, warning or error, not '%s'\n", v);
                free(paths);
                return OOMKIT_EXIT_USAGE;
            }
        } else {
            fprintf(stderr, missing ? "oomkit lint: %s needs a value\n"
                                    : "oomkit lint: unknown option '%s' (see oomkit lint --help)\n",
                    argv[i]);
            free(paths);
            return OOMKIT_EXIT_USAGE;
        }
    }
    if (n_paths == 0) {
        fprintf(stderr, "oomkit lint: no PATH given (a file, a directory, or - for stdin)\n");
        free(paths);
        return OOMKIT_EXIT_USAGE;
    }
    if (config != NULL && load_config(&cfg, config) != 0) {
        free(paths);
        return OOMKIT_EXIT_USAGE;
    }

    struct run run = { &cfg, oomkit__lint_report_new(), 0, NULL };
    if (run.rep == NULL) {
        fprintf(stderr, "oomkit lint: out of memory\n");
        free(paths);
        return OOMKIT_EXIT_FAIL;
    }
    for (int i = 0; i < n_paths; i++)
        lint_path(&run, paths[i], true);
    free(paths);
    tdestroy(run.seen, free);
    if (run.fatal != 0) {
        fprintf(stderr, "oomkit lint: out of memory\n");
        oomkit__lint_report_free(run.rep);
        return OOMKIT_EXIT_FAIL;
    }
    oomkit__lint_report_sort(run.rep);
    for (size_t i = 0; i < run.rep->n_errors; i++) {
        const struct oomkit__lint_error *e = &run.rep->errors[i];
        if (e->line > 0)
            fprintf(stderr, "oomkit lint: %s:%u:%u: %s\n", e->file, e->line, e->column,
                    e->message);
        else
            fprintf(stderr, "oomkit lint: %s: %s\n", e->file, e->message);
    }
    int rc = strcmp(format, "json") == 0    ? oomkit__lint_write_json(stdout, &cfg, run.rep)
             : strcmp(format, "sarif") == 0 ? oomkit__lint_write_sarif(stdout, &cfg, run.rep)
                                            : oomkit__lint_write_text(stdout, &cfg, run.rep);
    if (fflush(stdout) != 0 && rc == 0)
        rc = -EIO;
    int exit_code = OOMKIT_EXIT_OK;
    if (rc != 0) {
        fprintf(stderr, "oomkit lint: cannot write the report: %s\n", strerror(-rc));
        exit_code = OOMKIT_EXIT_FAIL;
    } else if (run.rep->n_errors > 0) {
        exit_code = OOMKIT_EXIT_USAGE;
    } else if (oomkit__lint_report_max_severity(run.rep) >= (int)fail_on) {
        exit_code = OOMKIT_EXIT_FINDINGS;
    }
    oomkit__lint_report_free(run.rep);
    return exit_code;
}

OOMKIT_COMMAND(lint, "check Kubernetes manifests' memory settings", cmd_lint)
