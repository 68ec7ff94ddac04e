/* A Prometheus text-format (0.0.4) builder for `oomkit watch`.
 *
 * The daemon renders all its series into one buffer after each sample,
 * family by family: oomkit__metrics_family() writes the HELP and TYPE lines,
 * then oomkit__metrics_sample() writes one line per label set. The builder
 * escapes label values (backslash, double quote, newline) and HELP text
 * (backslash, newline), writes NaN and +Inf the way Prometheus spells them,
 * and refuses a second sample with the same name and labels (-EEXIST), so
 * the endpoint never serves a duplicate series even if two targets end up
 * with identical labels. Memory: the text buffer and the seen-set grow to
 * the largest exposition and are reused after oomkit__metrics_reset(). */
#ifndef OOMKIT_WATCH_METRICS_H
#define OOMKIT_WATCH_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct oomkit__metrics {
    char *text;        /* owned; NUL-terminated after every call */
    size_t len, cap;
    uint64_t *seen;    /* owned open-addressing set of series hashes, 0 = empty */
    size_t seen_n, seen_cap;
    const char *family; /* borrowed name of the current family */
    int error;          /* first -ENOMEM, sticky until reset */
};

/* A label pair; both strings borrowed, NUL-terminated. */
struct oomkit__label {
    const char *name;
    const char *value;
};

/* Zero-initialise the struct, then use it: _reset empties it keeping its
 * buffers (owned by m), _free releases them. Thread safety: one thread
 * owns m. */
void oomkit__metrics_reset(struct oomkit__metrics *m);
void oomkit__metrics_free(struct oomkit__metrics *m);

/* Starts a family: type is "gauge" or "counter" (or "untyped"). name must
 * be a valid metric name; -EINVAL otherwise, nothing written.
 * Thread safety: one thread owns m. */
int oomkit__metrics_family(struct oomkit__metrics *m, const char *name,
                           const char *type, const char *help);

/* Writes one sample of the current family. labels (borrowed) may be NULL
 * when n is 0; a label with a NULL or empty value is left out, which is how
 * Prometheus treats it anyway. Returns 0, -EEXIST for a duplicate series
 * (nothing written), -EINVAL without a family or for a bad label name,
 * -ENOMEM. Thread safety: one thread owns m. */
int oomkit__metrics_sample(struct oomkit__metrics *m, const struct oomkit__label *labels,
                           size_t n, double value);

/* True if s is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or, with
 * label != 0, a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not "__"-prefixed).
 * Thread safety: pure. */
int oomkit__metrics_valid_name(const char *s, int label);

#endif
