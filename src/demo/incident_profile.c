/* Reading a heap profile for the incident replay's summary: the top
 * allocation sites in the operator's own code (the innermost frame of each
 * sample that lies in src/demo/op_*.c, so malloc and GLib internals do
 * not hide who called them), and the allocations made under the reconcile
 * function, for "allocations per reconcile". */
#include "demo/incident_profile.h"

#include "pprof/pprof.h"

#include <errno.h>
#include <string.h>

static const struct oomkit__pprof_location *location(const struct oomkit__pprof_profile *p,
                                                     uint64_t id)
{
    if (id >= 1 && id <= p->n_locations && p->locations[id - 1].id == id)
        return &p->locations[id - 1];
    for (size_t i = 0; i < p->n_locations; i++)
        if (p->locations[i].id == id)
            return &p->locations[i];
    return NULL;
}

static const struct oomkit__pprof_function *function(const struct oomkit__pprof_profile *p,
                                                     uint64_t id)
{
    if (id >= 1 && id <= p->n_functions && p->functions[id - 1].id == id)
        return &p->functions[id - 1];
    for (size_t i = 0; i < p->n_functions; i++)
        if (p->functions[i].id == id)
            return &p->functions[i];
    return NULL;
}

static void add_site(struct demo_profile_sites *r, const char *name, const char *file,
                     int64_t line, int64_t bytes)
{
    size_t i = 0;
    while (i < r->n_sites && strcmp(r->sites[i].function, name) != 0)
        i++;
    if (i == r->n_sites) {
        if (r->n_sites == DEMO_MAX_SITES)
            return;
        r->n_sites++;
        snprintf(r->sites[i].function, sizeof(r->sites[i].function), "%s", name);
        const char *base = strrchr(file, '/');
        snprintf(r->sites[i].file, sizeof(r->sites[i].file), "%s", base ? base + 1 : file);
        r->sites[i].line = line;
        r->sites[i].bytes = 0;
    }
    r->sites[i].bytes += bytes;
}

int demo_profile_sites_read(const char *path, struct demo_profile_sites *r)
{
    memset(r, 0, sizeof(*r));
    struct oomkit__pprof_profile p;
    int rc = oomkit__pprof_read_file(path, &p);
    if (rc != 0)
        return rc;
    int inuse = oomkit__pprof_find_sample_type(&p, "inuse_space");
    int allocs = oomkit__pprof_find_sample_type(&p, "alloc_objects");
    if (inuse < 0) {
        oomkit__pprof_free(&p);
        return -EINVAL;
    }
    r->time_s = (double)p.time_nanos / 1e9;
    for (size_t s = 0; s < p.n_samples; s++) {
        const struct oomkit__pprof_sample *smp = &p.samples[s];
        int64_t bytes = (size_t)inuse < smp->n_values ? smp->values[inuse] : 0;
        int64_t objs = allocs >= 0 && (size_t)allocs < smp->n_values ? smp->values[allocs] : 0;
        r->inuse_total_bytes += bytes;
        int sited = 0, in_reconcile = 0;
        for (size_t k = 0; k < smp->n_location_ids; k++) {
            const struct oomkit__pprof_location *loc = location(&p, smp->location_ids[k]);
            for (size_t l = 0; loc != NULL && l < loc->n_lines; l++) {
                const struct oomkit__pprof_function *fn = function(&p, loc->lines[l].function_id);
                if (fn == NULL)
                    continue;
                const char *name = oomkit__pprof_str(&p, fn->name);
                const char *file = oomkit__pprof_str(&p, fn->filename);
                size_t nl = strlen(name);
                if (nl >= 10 && strcmp(name + nl - 10, "_reconcile") == 0)
                    in_reconcile = 1;
                if (!sited && strstr(file, "demo/op_") != NULL) {
                    add_site(r, name, file, loc->lines[l].line, bytes);
                    sited = 1;
                }
            }
        }
        if (in_reconcile)
            r->reconcile_alloc_objects += objs;
    }
    oomkit__pprof_free(&p);
    /* Largest first. */
    for (size_t i = 1; i < r->n_sites; i++)
        for (size_t j = i; j > 0 && r->sites[j].bytes > r->sites[j - 1].bytes; j--) {
            struct demo_site t = r->sites[j];
            r->sites[j] = r->sites[j - 1];
            r->sites[j - 1] = t;
        }
    return 0;
}
