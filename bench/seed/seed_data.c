/* The generated cluster state the seed tables share (seed.h): namespace,
 * pod-name and label-key strings laid out in one buffer, so every peer of a
 * table reads the very same bytes. */
#include "bench/seed/seed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void seed_row_add(struct seed_table *t, const char *label, const double *v)
{
    if (t->nrows >= SEED_MAX_ROWS)
        return;
    struct seed_row *r = &t->rows[t->nrows++];
    snprintf(r->label, sizeof r->label, "%s", label);
    for (int i = 0; i < t->ncols; i++)
        r->v[i] = v[i];
}

/* Label keys of a pod as an operator sees them; the last one is the
 * postmortem's batch id, whose value is unique per pod. */
static const char *const label_keys[] = {
    "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version",
    "app.kubernetes.io/component", "app.kubernetes.io/part-of", "batch.example.com/id",
    "tier", "zone",
};

int seed_state_make(size_t n_ns, size_t n_obj, size_t n_keys, struct seed_state *st)
{
    memset(st, 0, sizeof *st);
    if (n_keys > sizeof label_keys / sizeof label_keys[0])
        return -EINVAL;
    size_t names = n_ns * n_obj;
    /* Upper bound per string: 32 bytes for names and namespaces. */
    size_t cap = (n_ns + names) * 32 + 64 * n_keys;
    st->text = malloc(cap);
    st->ns = calloc(n_ns, sizeof *st->ns);
    st->name = calloc(names, sizeof *st->name);
    st->key = calloc(n_keys, sizeof *st->key);
    if (st->text == NULL || st->ns == NULL || st->name == NULL || st->key == NULL) {
        seed_state_free(st);
        return -ENOMEM;
    }
    st->n_ns = n_ns;
    st->n_obj = n_obj;
    st->n_keys = n_keys;
    char *p = st->text;
    for (size_t i = 0; i < n_ns; i++) {
        int len = snprintf(p, 32, "team-%04zu", i);
        st->ns[i] = (oomkit_str){ p, (size_t)len };
        p += len + 1;
    }
    for (size_t i = 0; i < names; i++) {
        int len = snprintf(p, 32, "worker-%04zu-%06zu", i / n_obj, i % n_obj);
        st->name[i] = (oomkit_str){ p, (size_t)len };
        p += len + 1;
    }
    for (size_t i = 0; i < n_keys; i++) {
        size_t len = strlen(label_keys[i]);
        memcpy(p, label_keys[i], len + 1);
        st->key[i] = (oomkit_str){ p, len };
        p += len + 1;
    }
    return 0;
}

void seed_state_free(struct seed_state *st)
{
    free(st->text);
    free(st->ns);
    free(st->name);
    free(st->key);
    memset(st, 0, sizeof *st);
}
