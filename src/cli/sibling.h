/* Where the oomkit binary's companions live: the profiler library and the
 * demo's operator program sit next to it in a build tree, and in the
 * libdir or libexec dir of an install. Shared by `oomkit profile` and
 * `oomkit demo`. */
#ifndef OOMKIT_CLI_SIBLING_H
#define OOMKIT_CLI_SIBLING_H

#include <stddef.h>

/* Writes the path of the regular file `name` found beside the running
 * binary (or in ../lib, ../lib64, ../lib/x86_64-linux-gnu,
 * ../libexec/oomkit, then the configured libdir) into out. 0, or -ENOENT
 * when it is nowhere (or the path does not fit cap). */
int oomkit_cli_sibling_path(const char *name, char *out, size_t cap);

#endif
