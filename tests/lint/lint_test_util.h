/* Helpers shared by the linter's tests: lint a YAML string, count and find
 * findings, run the oomkit binary. */
#ifndef OOMKIT_TESTS_LINT_UTIL_H
#define OOMKIT_TESTS_LINT_UTIL_H

#include <stddef.h>

#include "lint/lint.h"

/* Lints text (NUL-terminated) with cfg (defaults when NULL) as "t.yaml".
 * *rc_out, when not NULL, receives oomkit__lint_buffer's return value.
 * The report is sorted; free it with oomkit__lint_report_free. */
struct oomkit__lint_report *lint_text(const struct oomkit__lint_config *cfg, const char *text,
                                      int *rc_out);

/* Number of findings of rule (any rule when rule < 0). */
size_t count_rule(const struct oomkit__lint_report *rep, int rule);

/* The first finding of rule on line (any line when line == 0), or NULL. */
const struct oomkit__lint_finding *find_rule(const struct oomkit__lint_report *rep, int rule,
                                             unsigned line);

/* Prints every finding to stderr, so a failing assertion shows context. */
void dump_report(const struct oomkit__lint_report *rep);

/* Reads a whole file into a NUL-terminated buffer (free() it), or NULL. */
char *read_file(const char *path, size_t *len_out);

/* Runs "$OOMKIT_BINARY_DIR/oomkit" with argv (argv[0] ignored, NULL
 * terminated), stdin from stdin_path (or /dev/null), and returns its exit
 * status, or -1 if it could not run. Its stdout and stderr are returned as
 * malloc'd strings. */
int run_oomkit(const char *const *argv, const char *stdin_path, char **out, char **err);

/* "$OOMKIT_SOURCE_DIR/rel" in a static buffer. */
const char *source_path(const char *rel);

#endif
