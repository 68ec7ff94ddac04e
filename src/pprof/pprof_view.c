/* Walking a decoded profile as stacks of named frames.
 *
 * A sample's locations are expanded into frames (a location with inlined
 * functions yields several, innermost first), then pruned as pprof prunes
 * with drop_frames: from the root towards the leaf, the first frame whose
 * function name fully matches the regular expression is removed together
 * with everything it called. That is how C++ samples end at the code that
 * wrote `new` instead of inside libstdc++. Used by `oomkit report`,
 * `oomkit profile` and the profiler's tests. */
#include "pprof/pprof.h"

#include "core/alloc.h"

#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

struct id_index {
    uint64_t id;
    size_t pos;
};

static int cmp_id(const void *a, const void *b)
{
    uint64_t x = ((const struct id_index *)a)->id, y = ((const struct id_index *)b)->id;
    return x < y ? -1 : x > y;
}

static struct id_index *build_index(size_t n, const void *arr, size_t elem)
{
    struct id_index *ix = oomkit__calloc(n ? n : 1, sizeof(*ix));
    if (ix == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        ix[i].id = *(const uint64_t *)((const char *)arr + i * elem); /* id is the first field */
        ix[i].pos = i;
    }
    qsort(ix, n, sizeof(*ix), cmp_id);
    return ix;
}

static long find(const struct id_index *ix, size_t n, uint64_t id)
{
    struct id_index key = { id, 0 };
    const struct id_index *hit = bsearch(&key, ix, n, sizeof(*ix), cmp_id);
    return hit ? (long)hit->pos : -1;
}

int oomkit__pprof_walk(const struct oomkit__pprof_profile *p, oomkit__pprof_walk_fn fn, void *ctx)
{
    struct id_index *locs = build_index(p->n_locations, p->locations, sizeof(*p->locations));
    struct id_index *fns = build_index(p->n_functions, p->functions, sizeof(*p->functions));
    size_t cap = 64;
    struct oomkit__pprof_frame *frames = oomkit__malloc(cap * sizeof(*frames));
    regex_t drop;
    bool have_drop = false;
    int err = (locs && fns && frames) ? 0 : -ENOMEM;
    const char *drop_src = oomkit__pprof_str(p, p->drop_frames);
    if (err == 0 && drop_src[0] != '\0') {
        size_t n = strlen(drop_src);
        char *anchored = oomkit__malloc(n + 8);
        if (anchored != NULL) {
            memcpy(anchored, "^(", 2);
            memcpy(anchored + 2, drop_src, n);
            memcpy(anchored + 2 + n, ")$", 3);
            have_drop = regcomp(&drop, anchored, REG_EXTENDED | REG_NOSUB) == 0;
            oomkit__free(anchored);
        }
    }
    for (size_t i = 0; err == 0 && i < p->n_samples; i++) {
        const struct oomkit__pprof_sample *s = &p->samples[i];
        size_t n = 0;
        for (size_t j = 0; err == 0 && j < s->n_location_ids; j++) {
            long li = find(locs, p->n_locations, s->location_ids[j]);
            const struct oomkit__pprof_location *loc = li >= 0 ? &p->locations[li] : NULL;
            size_t nl = loc && loc->n_lines ? loc->n_lines : 1;
            if (n + nl > cap) {
                size_t nc = (n + nl) * 2;
                void *nf = oomkit__realloc(frames, nc * sizeof(*frames));
                if (nf == NULL) {
                    err = -ENOMEM;
                    break;
                }
                frames = nf;
                cap = nc;
            }
            for (size_t k = 0; k < nl; k++) {
                struct oomkit__pprof_frame *f = &frames[n++];
                f->function = "??";
                f->file = "";
                f->line = 0;
                f->address = loc ? loc->address : 0;
                if (loc == NULL || loc->n_lines == 0)
                    continue;
                long fi = find(fns, p->n_functions, loc->lines[k].function_id);
                if (fi >= 0) {
                    f->function = oomkit__pprof_str(p, p->functions[fi].name);
                    f->file = oomkit__pprof_str(p, p->functions[fi].filename);
                }
                f->line = loc->lines[k].line;
            }
        }
        if (err != 0)
            break;
        size_t keep = n;
        if (have_drop) {
            /* frames[n-1] is the root; the first match from the root cuts. */
            for (size_t r = n; r-- > 0;) {
                if (regexec(&drop, frames[r].function, 0, NULL, 0) == 0) {
                    keep = n - r - 1;
                    break;
                }
            }
        }
        err = fn(ctx, s, frames + (n - keep), keep);
    }
    if (have_drop)
        regfree(&drop);
    oomkit__free(frames);
    oomkit__free(locs);
    oomkit__free(fns);
    return err;
}
