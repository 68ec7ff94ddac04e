/* The oomkit command's subcommand registry.
 *
 * Each subcommand lives in its own file and registers itself with
 * OOMKIT_COMMAND, so adding one never edits a shared table:
 *
 *   static int cmd_inspect(int argc, char **argv) { ... }
 *   OOMKIT_COMMAND(inspect, "where is a process's memory?", cmd_inspect)
 *
 * A command's function gets argv[0] = its full name ("oomkit inspect", as
 * getopt's messages then say) and returns the process exit code. Exit
 * codes shared by all commands are below; a command may document more of
 * its own from 10 up. */
#ifndef OOMKIT_CLI_H
#define OOMKIT_CLI_H

#include "cli/dispatch.h"

#include <stddef.h>
#include <stdint.h>

enum {
    OOMKIT_EXIT_OK = 0,
    OOMKIT_EXIT_FINDINGS = 1, /* the command ran and found what it reports */
    OOMKIT_EXIT_USAGE = 2,    /* bad command line or unreadable input */
    OOMKIT_EXIT_FAIL = 3,     /* the command could not do its job */
};

void oomkit__cli_register(struct oomkit_cli_command *cmd);

#define OOMKIT_COMMAND(cname, csummary, fn)                                  \
    static struct oomkit_cli_command cli_cmd_##cname = { #cname, csummary,   \
                                                         fn, 0 };            \
    __attribute__((constructor)) static void cli_register_##cname(void)      \
    {                                                                        \
        oomkit__cli_register(&cli_cmd_##cname);                              \
    }

/* True when argv holds -h or --help anywhere before a "--". */
int oomkit__cli_wants_help(int argc, char **argv);

/* Parses s, all of it, as a whole decimal number from min to max into
 * *out. 0, or -1 after telling stderr which value of which option (what,
 * e.g. "--objects" or "RUNS") of `oomkit CMD` was wrong and what it takes:
 * "1e9" or "12x" is refused, not read as 1 or 12. */
int oomkit__cli_number(const char *cmd, const char *what, const char *s, uint64_t min,
                       uint64_t max, uint64_t *out);

/* Reads all of fd into a malloc'd buffer, NUL-terminated after its *len
 * bytes. 0 or a negative errno (EISDIR for a directory: it opens, and the
 * read says what it is). */
int oomkit__cli_read_fd(int fd, char **out, size_t *len);
/* The same for the file at path ("-": standard input). */
int oomkit__cli_read_all(const char *path, char **out, size_t *len);

#endif
