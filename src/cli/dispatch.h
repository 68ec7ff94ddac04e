/* A list of named subcommands and the dispatcher over it, shared by the
 * oomkit command (cli.h) and the oomkit-bench program (bench_registry.h). */
#ifndef OOMKIT_CLI_DISPATCH_H
#define OOMKIT_CLI_DISPATCH_H

struct oomkit_cli_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    struct oomkit_cli_command *next;
};

/* Inserts cmd (static storage, never freed) into *head, kept sorted by name
 * so the usage text reads well. Thread safety: start-up only. */
void oomkit__cli_list_add(struct oomkit_cli_command **head, struct oomkit_cli_command *cmd);

/* Runs the command named argv[1] with argv shifted by one, or prints the
 * usage ("usage: <usage_line>", the intro, the list) for help and errors.
 * Returns the exit code. what names a command in messages ("command",
 * "benchmark"); prog prefixes error lines. */
int oomkit__cli_dispatch(struct oomkit_cli_command *head, int argc, char **argv,
                         const char *prog, const char *what, const char *usage_line,
                         const char *intro);

#endif
