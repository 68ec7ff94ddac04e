/* Helpers for the preload profiler tests: run a target program under
 * liboomkit_prof.so, find the profiles it wrote, learn a site's line from
 * its `SITE:<name>` marker, and sum a sample type by leaf site. */
#ifndef OOMKIT_TESTS_PROF_UTIL_H
#define OOMKIT_TESTS_PROF_UTIL_H

#include "pprof/pprof.h"

#include <stddef.h>
#include <stdint.h>

/* A fresh directory for one test's profiles; returns its path (static). */
const char *pt_tmpdir(const char *name);
/* Path of a built target program or library under the build tree. */
const char *pt_target(const char *name);
/* Runs argv with LD_PRELOAD=liboomkit_prof.so and OOMKIT_PROF=prof_env
 * (NULL: unset); stderr is captured into err_out (cap bytes) when given.
 * Returns the exit status, or -1 when it did not exit normally. */
int pt_run(char *const argv[], const char *prof_env, char *err_out, size_t cap);
/* Lists files under dir whose name starts with prefix, sorted; returns the
 * count (up to max), names in out[i] (static storage). */
size_t pt_list(const char *dir, const char *prefix, char out[][512], size_t max);
/* Line of `SITE:name` in tests/targets/<file>, or -1. */
int pt_site_line(const char *file, const char *name);

/* Per-site totals of one sample type: leaf frame function and line. */
struct pt_site {
    char function[128];
    char file[256];
    int64_t line;
    int64_t value;
};
/* Sums sample type `type` by leaf frame (after drop_frames). Returns the
 * number of sites (up to max). */
size_t pt_sum_by_leaf(const struct oomkit__pprof_profile *p, const char *type,
                      struct pt_site *out, size_t max);
/* Total of type over sites whose leaf function equals fn (0 if none); the
 * leaf line of the largest such site goes to *line when line is non-NULL. */
int64_t pt_site_value(const struct pt_site *s, size_t n, const char *fn, int64_t *line);

#endif
