/* The oomkit command: dispatches to the subcommands that registered
 * themselves through OOMKIT_COMMAND (see cli.h). */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static struct oomkit_cli_command *commands;

void oomkit__cli_register(struct oomkit_cli_command *cmd)
{
    oomkit__cli_list_add(&commands, cmd);
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

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
        printf("oomkit %s\n", OOMKIT_VERSION);
        return OOMKIT_EXIT_OK;
    }
    return oomkit__cli_dispatch(commands, argc, argv, "oomkit", "command",
                                "oomkit COMMAND [ARGS...]",
                                "Keeps long-running services from dying of memory, and shows why "
                                "when they do.");
}
