/* Helpers shared by the tests of the oomkit bench, gen-state and demo
 * commands: locating the built binaries, running a command line with its
 * output captured, reading files, and a scratch directory. */
#ifndef OOMKIT_TESTS_BENCH_UTIL_H
#define OOMKIT_TESTS_BENCH_UTIL_H

#include <stddef.h>

/* $OOMKIT_BINARY_DIR/oomkit (aborts the test run if the variable is unset). */
const char *bt_oomkit(void);

/* A fresh scratch directory, removed by bt_cleanup(). */
const char *bt_tmpdir(void);
void bt_cleanup(void);

/* Runs `cmd` with /bin/sh; stdout and stderr are captured into malloc'ed
 * strings (either pointer may be NULL). Returns the exit code, or -1. */
int bt_run(const char *cmd, char **out, char **err);

/* The whole file as a malloc'ed NUL-terminated string (NULL if unreadable);
 * *len gets its size when len is not NULL. */
char *bt_read_file(const char *path, size_t *len);

#endif
