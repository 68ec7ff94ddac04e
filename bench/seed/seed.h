/* The tables of `oomkit bench seed`: each one re-measures on this machine a
 * table of the incident postmortem. A table is a small grid of
 * figures plus a verdict the code derives from them; bench_seed.c prints
 * the grids as markdown or JSON. One file per table, seed_<table>.c, and
 * seed_data.c for the generated cluster state they share. */
#ifndef OOMKIT_BENCH_SEED_H
#define OOMKIT_BENCH_SEED_H

#include "oomkit/common.h"

#include <stddef.h>
#include <stdint.h>

#define SEED_MAX_ROWS 8
#define SEED_MAX_COLS 5

struct seed_row {
    char label[80];
    double v[SEED_MAX_COLS];
};

struct seed_table {
    int number;                       /* the postmortem's table number */
    const char *key;                  /* JSON name, e.g. "reconcile" */
    const char *title;
    char measured[640];               /* what was measured, one paragraph */
    const char *cols[SEED_MAX_COLS];  /* column names, JSON keys too */
    int ncols;
    struct seed_row rows[SEED_MAX_ROWS];
    int nrows;
    int ran;                          /* 0: the table could not run */
    int holds;                        /* 1 the claim holds, 0 this machine disagrees */
    char verdict[640];
};

struct seed_opts {
    int quick;
};

/* Appends a row; v holds t->ncols figures. */
void seed_row_add(struct seed_table *t, const char *label, const double *v);

/* A generated cluster: n_ns namespaces of n_obj objects each with n_keys
 * fields. Strings are NUL-terminated and carry their lengths, so the
 * GLib peers (C strings) and the store (oomkit_str) read the same bytes. */
struct seed_state {
    size_t n_ns, n_obj, n_keys;     /* n_obj objects per namespace */
    oomkit_str *ns;                 /* [n_ns] */
    oomkit_str *name;               /* [n_ns * n_obj], "pod-<ns>-<i>" */
    oomkit_str *key;                /* [n_keys] label keys */
    char *text;                     /* backing bytes of every string */
};

int seed_state_make(size_t n_ns, size_t n_obj, size_t n_keys, struct seed_state *st);
void seed_state_free(struct seed_state *st);

/* A small fast generator for benchmark indexes (not for anything else). */
static inline uint64_t seed_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Each fills *t (always: a table that cannot run says why in verdict). */
void seed_table_reconcile(const struct seed_opts *o, struct seed_table *t);
void seed_table_depth(const struct seed_opts *o, struct seed_table *t);
void seed_table_sparse(const struct seed_opts *o, struct seed_table *t);
void seed_table_keys(const struct seed_opts *o, struct seed_table *t);
void seed_table_mph(const struct seed_opts *o, struct seed_table *t);
void seed_table_concurrent(const struct seed_opts *o, struct seed_table *t);
void seed_table_chase(const struct seed_opts *o, struct seed_table *t);

/* The chase of table 1 alone at one depth, small enough for cachegrind:
 * what `oomkit bench seed --chase-sim DEPTH` runs. Returns an exit code. */
int seed_chase_sim(int depth);

#endif
