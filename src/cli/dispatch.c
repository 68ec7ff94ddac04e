/* Subcommand lists and their dispatcher (see dispatch.h). */
#include "cli/dispatch.h"

#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

void oomkit__cli_list_add(struct oomkit_cli_command **head, struct oomkit_cli_command *cmd)
{
    struct oomkit_cli_command **at = head;
    while (*at != NULL && strcmp((*at)->name, cmd->name) < 0)
        at = &(*at)->next;
    cmd->next = *at;
    *at = cmd;
}

static void usage(FILE *out, struct oomkit_cli_command *head, const char *prog, const char *what,
                  const char *usage_line, const char *intro)
{
    fprintf(out, "usage: %s\n\n%s\n\n%ss:\n", usage_line, intro, what);
    for (struct oomkit_cli_command *c = head; c != NULL; c = c->next)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out, "\n`%s <%s> --help` describes each one.\n", prog, what);
}

int oomkit__cli_dispatch(struct oomkit_cli_command *head, int argc, char **argv,
                         const char *prog, const char *what, const char *usage_line,
                         const char *intro)
{
    if (argc < 2) {
        usage(stderr, head, prog, what, usage_line, intro);
        return OOMKIT_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout, head, prog, what, usage_line, intro);
        return OOMKIT_EXIT_OK;
    }
    for (struct oomkit_cli_command *c = head; c != NULL; c = c->next) {
        if (strcmp(c->name, argv[1]) == 0) {
            /* getopt names argv[0] in its messages: "oomkit report: ...". */
            static char full[128];
            snprintf(full, sizeof(full), "%s %s", prog, c->name);
            argv[1] = full;
            return c->run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "%s: unknown %s '%s' (see %s --help)\n", prog, what, argv[1], prog);
    return OOMKIT_EXIT_USAGE;
}
