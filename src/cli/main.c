/* The oomkit command: dispatches to the subcommands that registered
 * themselves through OOMKIT_COMMAND (see cli.h). */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static struct oomkit_cli_command *commands;

void oomkit__cli_register(struct oomkit_cli_command *cmd)
{
    /* Keep the list sorted by name so `oomkit --help` reads well. */
    struct oomkit_cli_command **at = &commands;
    while (*at != NULL && strcmp((*at)->name, cmd->name) < 0)
        at = &(*at)->next;
    cmd->next = *at;
    *at = cmd;
}

int oomkit__cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
            return 1;
    }
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: oomkit COMMAND [ARGS...]\n\n"
                 "Keeps long-running services from dying of memory, and shows why when they do.\n\n"
                 "commands:\n");
    for (struct oomkit_cli_command *c = commands; c != NULL; c = c->next)
        fprintf(out, "  %-10s %s\n", c->name, c->summary);
    fprintf(out, "\n`oomkit COMMAND --help` describes each command.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return OOMKIT_EXIT_USAGE;
    }
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return OOMKIT_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("oomkit %s\n", OOMKIT_VERSION);
        return OOMKIT_EXIT_OK;
    }
    for (struct oomkit_cli_command *c = commands; c != NULL; c = c->next) {
        if (strcmp(c->name, argv[1]) == 0)
            return c->run(argc - 1, argv + 1);
    }
    fprintf(stderr, "oomkit: unknown command '%s' (see oomkit --help)\n", argv[1]);
    return OOMKIT_EXIT_USAGE;
}
