/* Size grammars the linter reads: Kubernetes resource quantities, Go's
 * GOMEMLIMIT, the JVM's -Xmx style sizes, oomkit's own OOMKIT_PROF sizes,
 * and plain decimals for percentages and ratios. All results are bytes as
 * exact integers; none of these functions allocate. */
#ifndef OOMKIT_LINT_QUANTITY_H
#define OOMKIT_LINT_QUANTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lint/lint.h"

/* Parses a Kubernetes quantity: [+-] digits with an optional decimal point,
 * then a binary suffix (Ki Mi Gi Ti Pi Ei), a decimal suffix (n u m "" k M G
 * T P E) or a decimal exponent (e3, E-2). *bytes_out receives the value
 * rounded up to a whole byte, as Kubernetes rounds memory; *whole_out tells
 * whether no rounding was needed. Arithmetic is exact on up to 38
 * significant digits; only an exponent that pushes the scale below 10^-38
 * falls back to long double.
 * Returns 0; -EINVAL for a string outside the grammar; -EDOM for a negative
 * value; -ERANGE above INT64_MAX bytes or past 38 significant digits.
 * Thread safety: reentrant. */
int oomkit__lint_quantity_parse(const char *s, size_t len, uint64_t *bytes_out, bool *whole_out);

/* Parses GOMEMLIMIT as the Go runtime does (runtime.parseByteCount): decimal
 * digits, then nothing, B, KiB, MiB, GiB or TiB. "off" is not accepted here;
 * callers handle it. Returns 0, -EINVAL or -ERANGE. Thread safety: reentrant. */
int oomkit__lint_go_bytes_parse(const char *s, size_t len, uint64_t *bytes_out);

/* Parses a HotSpot size argument (-Xmx512m, MaxDirectMemorySize=1g): decimal
 * digits, then nothing (bytes) or one of k K m M g G t T (binary).
 * Returns 0, -EINVAL or -ERANGE. Thread safety: reentrant. */
int oomkit__lint_jvm_bytes_parse(const char *s, size_t len, uint64_t *bytes_out);

/* Parses an OOMKIT_PROF size: digits with an optional fraction, then an
 * optional binary unit written k, K, Ki, KiB, KB (likewise M, G, T) or B.
 * Rounds up to a whole byte. Returns 0, -EINVAL or -ERANGE.
 * Thread safety: reentrant. */
int oomkit__lint_prof_bytes_parse(const char *s, size_t len, uint64_t *bytes_out);

/* Parses a non-negative decimal ("1.3", "90", "92.5", at most 9 fraction
 * digits) into an exact ratio. Returns 0, -EINVAL or -ERANGE.
 * Thread safety: reentrant. */
int oomkit__lint_decimal_parse(const char *s, size_t len, struct oomkit__lint_ratio *out);

/* Writes bytes as an exact Kubernetes quantity that reads well: binary
 * units from Mi up ("2Gi", "1536Mi"), then decimal from M up ("2G"), then
 * Ki, k, or plain bytes. Returns buf.
 * Thread safety: reentrant. */
char *oomkit__lint_format_bytes(uint64_t bytes, char *buf, size_t size);

/* As above but rounded to whole MiB, up (round_up) or down, when the value
 * is at least 1 MiB, so suggested fixes read like what people write.
 * Thread safety: reentrant. */
char *oomkit__lint_format_bytes_mib(uint64_t bytes, bool round_up, char *buf, size_t size);

/* Writes a ratio as a decimal rounded to at most 2 fraction digits ("1.3",
 * "2.05") into buf; r.den must not be 0. Returns buf.
 * Thread safety: reentrant. */
char *oomkit__lint_format_ratio(struct oomkit__lint_ratio r, char *buf, size_t size);

/* floor(a * r.num / r.den / scale), saturating at INT64_MAX; scale is 1 for
 * ratios and 100 for percentages. Exact on 128-bit integers for a below
 * 2^63, r.num below 2^60, r.den and scale below 2^32.
 * Thread safety: reentrant (as are the two below). */
uint64_t oomkit__lint_scale_floor(uint64_t a, struct oomkit__lint_ratio r, uint64_t scale);
/* ceil(a * scale * r.den / r.num) saturating; r.num must be non-zero. */
uint64_t oomkit__lint_unscale_ceil(uint64_t a, struct oomkit__lint_ratio r, uint64_t scale);
/* True when a * scale * r.den > b * r.num, exactly: a exceeds r/scale of b. */
bool oomkit__lint_exceeds(uint64_t a, uint64_t b, struct oomkit__lint_ratio r, uint64_t scale);

#endif
