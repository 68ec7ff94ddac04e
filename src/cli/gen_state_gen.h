/* The Kubernetes-shaped state generator behind `oomkit gen-state`, the demo
 * and the store benchmark (bench/store/, which compiles this file into
 * oomkit-bench too).
 *
 * It writes the workload format (docs/architecture.md), TSV lines
 * "namespace<TAB>name<TAB>key<TAB>value", in the same shape as the shared
 * reference generator gen_state.py: a fixed namespace list extended with
 * team-env[-n] names, Zipf-like namespace weights 1/(i+1), pod-style names
 * app-role-<10 hex>-<5 alnum>, a triangular(min, max, mode 7) number of keys
 * per object drawn without replacement from a shared key vocabulary, and
 * uniform signed 64-bit values. The random stream is its own (not Python's
 * Mersenne Twister), so the bytes differ from gen_state.py while every
 * distribution matches; the same options always give the same bytes. */
#ifndef OOMKIT_CLI_GEN_STATE_GEN_H
#define OOMKIT_CLI_GEN_STATE_GEN_H

#include <stdint.h>
#include <stdio.h>

struct oomkit_gen_opts {
    uint64_t objects;    /* number of distinct (namespace, name) objects, >= 1 */
    uint64_t seed;       /* any value; equal seeds give equal output */
    uint32_t namespaces; /* >= 1 and at most OOMKIT_GEN_MAX_NAMESPACES */
    uint32_t min_keys;   /* 1 <= min_keys <= max_keys <= oomkit__gen_key_count() */
    uint32_t max_keys;
};

/* The reference generator's defaults: 100k objects, 200 namespaces, 4..16
 * keys per object, seed 1. */
#define OOMKIT_GEN_DEFAULT_OPTS { 100000, 1, 200, 4, 16 }

/* How many distinct namespace names the vocabulary can form: the four
 * fixed ones plus team-env and team-env-1..39. */
#define OOMKIT_GEN_MAX_NAMESPACES (4u + 14u * 5u * 40u)

/* Size of the shared key vocabulary. Thread safety: any thread. */
uint32_t oomkit__gen_key_count(void);

/* Checks the options: 0, or -EINVAL with a static one-line reason in *why
 * (why may be NULL). Thread safety: any thread. */
int oomkit__gen_check(const struct oomkit_gen_opts *o, const char **why);

/* Writes the whole state to out (borrowed, left open). Returns 0, -EINVAL for
 * bad options, -ENOMEM, or the negative errno of a write to out that failed
 * (-EIO if it left none).
 * Thread safety: any thread; out must not be shared during the call. */
int oomkit__gen_state_write(const struct oomkit_gen_opts *o, FILE *out);

#endif
