/* `oomkit report --leaks`: memory still in use when the profile was taken
 * (at exit, for an exit dump), grouped by allocation site: the leaf frame's
 * function and line, with object count, bytes and the calling chain. Heap
 * and anonymous mappings are listed separately. */
#include "cli/report.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

struct site {
    char *key; /* function \t file \t line */
    char *chain;
    int64_t bytes, objs;
};

struct leak_ctx {
    int bytes_type, objs_type;
    struct site *sites;
    size_t n, cap;
};

static int add_leak(void *ctx, const struct oomkit__pprof_sample *s,
                    const struct oomkit__pprof_frame *frames, size_t n)
{
    struct leak_ctx *c = ctx;
    int64_t b = s->values[c->bytes_type];
    if (b <= 0)
        return 0;
    char key[768];
    if (n == 0)
        snprintf(key, sizeof(key), "(no frames)\t\t0");
    else
        snprintf(key, sizeof(key), "%s\t%s\t%lld", frames[0].function, frames[0].file,
                 (long long)frames[0].line);
    for (size_t i = 0; i < c->n; i++) {
        if (strcmp(c->sites[i].key, key) == 0) {
            c->sites[i].bytes += b;
            c->sites[i].objs += c->objs_type >= 0 ? s->values[c->objs_type] : 0;
            return 0;
        }
    }
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 32;
        void *ns = realloc(c->sites, nc * sizeof(*c->sites));
        if (ns == NULL)
            return -1;
        c->sites = ns;
        c->cap = nc;
    }
    char chain[1024] = "";
    size_t used = 0;
    for (size_t i = 1; i < n && i < 6; i++) {
        int w = snprintf(chain + used, sizeof(chain) - used, "%s%s", i > 1 ? " <- " : "",
                         frames[i].function);
        if (w < 0 || (size_t)w >= sizeof(chain) - used)
            break;
        used += (size_t)w;
    }
    struct site *st = &c->sites[c->n++];
    st->key = strdup(key);
    st->chain = strdup(chain);
    st->bytes = b;
    st->objs = c->objs_type >= 0 ? s->values[c->objs_type] : 0;
    return st->key && st->chain ? 0 : -1;
}

static int cmp_site(const void *a, const void *b)
{
    const struct site *x = a, *y = b;
    return x->bytes == y->bytes ? strcmp(x->key, y->key) : (x->bytes > y->bytes ? -1 : 1);
}

int report_leaks_print(FILE *out, const struct oomkit__pprof_profile *p, bool json)
{
    static const char *const kinds[][3] = { { "inuse_space", "inuse_objects", "heap" },
                                            { "mmap_inuse_space", "mmap_inuse_objects", "mmap" } };
    json_object *root = json ? json_object_new_array() : NULL;
    int found = 0;
    for (int k = 0; k < 2; k++) {
        struct leak_ctx c = { oomkit__pprof_find_sample_type(p, kinds[k][0]),
                              oomkit__pprof_find_sample_type(p, kinds[k][1]), NULL, 0, 0 };
        if (c.bytes_type < 0)
            continue;
        if (oomkit__pprof_walk(p, add_leak, &c) != 0)
            return -1;
        if (c.n > 0)
            qsort(c.sites, c.n, sizeof(*c.sites), cmp_site);
        int64_t total = 0;
        for (size_t i = 0; i < c.n; i++)
            total += c.sites[i].bytes;
        if (!json && c.n > 0) {
            char t[32];
            report_human(t, sizeof(t), total, "bytes");
            fprintf(out, "%s still in use: %s at %zu site%s%s\n", kinds[k][2], t, c.n,
                    c.n == 1 ? "" : "s", p->period > 1 && k == 0 ? " (sampled estimate)" : "");
        }
        for (size_t i = 0; i < c.n; i++) {
            char *fn = c.sites[i].key, *file = strchr(fn, '\t');
            *file++ = '\0';
            char *line = strchr(file, '\t');
            *line++ = '\0';
            const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
            double lo = 0, hi = 0;
            if (k == 0)
                report_ci95(c.sites[i].bytes, c.sites[i].objs, p->period, &lo, &hi);
            if (json) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "kind", json_object_new_string(kinds[k][2]));
                json_object_object_add(o, "function", json_object_new_string(fn));
                json_object_object_add(o, "file", json_object_new_string(file));
                json_object_object_add(o, "line", json_object_new_int64(atoll(line)));
                json_object_object_add(o, "bytes", json_object_new_int64(c.sites[i].bytes));
                json_object_object_add(o, "objects", json_object_new_int64(c.sites[i].objs));
                json_object_object_add(o, "callers", json_object_new_string(c.sites[i].chain));
                if (hi > 0) {
                    json_object_object_add(o, "bytes_ci95_lo", json_object_new_int64((int64_t)lo));
                    json_object_object_add(o, "bytes_ci95_hi", json_object_new_int64((int64_t)hi));
                }
                json_object_array_add(root, o);
            } else {
                char b[32], ci[80] = "";
                report_human(b, sizeof(b), c.sites[i].bytes, "bytes");
                if (hi > 0) {
                    char l[32], h[32];
                    report_human(l, sizeof(l), (int64_t)lo, "bytes");
                    report_human(h, sizeof(h), (int64_t)hi, "bytes");
                    snprintf(ci, sizeof(ci), " [95%% CI %s, %s]", l, h);
                }
                fprintf(out, "  %12s%s in %8lld objects  %s (%s:%s)%s%s\n", b, ci,
                        (long long)c.sites[i].objs, fn, base[0] ? base : "-", line,
                        c.sites[i].chain[0] ? "  <- " : "", c.sites[i].chain);
            }
            free(c.sites[i].key);
            free(c.sites[i].chain);
            found++;
        }
        free(c.sites);
    }
    if (json) {
        fprintf(out, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY));
        json_object_put(root);
    } else if (found == 0) {
        fprintf(out, "no memory in use: nothing leaked\n");
    }
    return found;
}
