/* Reads what the incident replay's summary needs from a pprof heap
 * profile written by liboomkit_prof.so: the top allocation sites in the
 * operator's own source (src/demo/op_*.c) by in-use bytes, and the
 * allocations counted under the reconcile function. */
#ifndef OOMKIT_DEMO_INCIDENT_PROFILE_H
#define OOMKIT_DEMO_INCIDENT_PROFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define DEMO_MAX_SITES 16

struct demo_site {
    char function[96];
    char file[64];
    int64_t line;
    int64_t bytes; /* in-use bytes (estimate) attributed to this site */
};

struct demo_profile_sites {
    struct demo_site sites[DEMO_MAX_SITES]; /* largest first */
    size_t n_sites;
    int64_t inuse_total_bytes;       /* all samples */
    int64_t reconcile_alloc_objects; /* alloc_objects under *_reconcile */
    double time_s;                   /* when the profile was written (unix) */
};

/* Reads path (borrowed). 0, or a negative errno (-EINVAL for a profile
 * without inuse_space). Thread safety: any thread. */
int demo_profile_sites_read(const char *path, struct demo_profile_sites *r);

#endif
