/* Helpers shared by the linter's tests (see lint_test_util.h). */
#include "lint_test_util.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

struct oomkit__lint_report *lint_text(const struct oomkit__lint_config *cfg, const char *text,
                                      int *rc_out)
{
    struct oomkit__lint_config def;
    if (cfg == NULL) {
        oomkit__lint_config_default(&def);
        cfg = &def;
    }
    struct oomkit__lint_report *rep = oomkit__lint_report_new();
    if (rep == NULL)
        return NULL;
    int rc = oomkit__lint_buffer(cfg, rep, "t.yaml", text, strlen(text));
    if (rc_out != NULL)
        *rc_out = rc;
    oomkit__lint_report_sort(rep);
    return rep;
}

size_t count_rule(const struct oomkit__lint_report *rep, int rule)
{
    size_t n = 0;
    for (size_t i = 0; i < rep->n_findings; i++) {
        if (rule < 0 || (int)rep->findings[i].rule == rule)
            n++;
    }
    return n;
}

const struct oomkit__lint_finding *find_rule(const struct oomkit__lint_report *rep, int rule,
                                             unsigned line)
{
    for (size_t i = 0; i < rep->n_findings; i++) {
        const struct oomkit__lint_finding *f = &rep->findings[i];
        if ((int)f->rule == rule && (line == 0 || f->line == line))
            return f;
    }
    return NULL;
}

void dump_report(const struct oomkit__lint_report *rep)
{
    for (size_t i = 0; i < rep->n_findings; i++) {
        const struct oomkit__lint_finding *f = &rep->findings[i];
        fprintf(stderr, "  finding %s:%u:%u %s: %s | fix: %s\n", f->file, f->line, f->column,
                oomkit__lint_rules[f->rule].id, f->message, f->fix);
    }
    for (size_t i = 0; i < rep->n_errors; i++)
        fprintf(stderr, "  error %s:%u:%u: %s\n", rep->errors[i].file, rep->errors[i].line,
                rep->errors[i].column, rep->errors[i].message);
}

char *read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf != NULL && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf == NULL)
        return NULL;
    buf[n] = '\0';
    if (len_out != NULL)
        *len_out = n;
    return buf;
}

const char *source_path(const char *rel)
{
    static char buf[4096];
    const char *root = getenv("OOMKIT_SOURCE_DIR");
    snprintf(buf, sizeof(buf), "%s/%s", root ? root : ".", rel);
    return buf;
}

int run_oomkit(const char *const *argv, const char *stdin_path, char **out, char **err)
{
    const char *bin_dir = getenv("OOMKIT_BINARY_DIR");
    char bin[4096];
    snprintf(bin, sizeof(bin), "%s/oomkit", bin_dir ? bin_dir : ".");
    char out_path[] = "/tmp/oomkit-lint-test-out-XXXXXX";
    char err_path[] = "/tmp/oomkit-lint-test-err-XXXXXX";
    int ofd = mkstemp(out_path), efd = mkstemp(err_path);
    if (ofd < 0 || efd < 0)
        return -1;
    size_t argc = 0;
    while (argv[argc] != NULL)
        argc++;
    char **args = calloc(argc + 1, sizeof(char *));
    args[0] = bin;
    for (size_t i = 1; i < argc; i++)
        args[i] = (char *)argv[i];
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, stdin_path ? stdin_path : "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, ofd, 1);
    posix_spawn_file_actions_adddup2(&fa, efd, 2);
    pid_t pid;
    int rc = posix_spawn(&pid, bin, &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    free(args);
    close(ofd);
    close(efd);
    int status = -1;
    if (rc == 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
        status = WEXITSTATUS(status);
    else
        status = -1;
    *out = read_file(out_path, NULL);
    *err = read_file(err_path, NULL);
    unlink(out_path);
    unlink(err_path);
    return status;
}
