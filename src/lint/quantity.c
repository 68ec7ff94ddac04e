/* Size grammars for the manifest linter (see quantity.h).
 *
 * Written by hand because no Debian C library parses Kubernetes quantities:
 * the grammar is the one in k8s.io/apimachinery's resource.Quantity
 * (sign, digits with an optional point, then a binary SI suffix, a decimal
 * SI suffix or a decimal exponent). Values are carried as an integer
 * mantissa M, a power of ten E and a power of two B, and turned into bytes
 * as ceil(M * 10^E * 2^B) on unsigned 128-bit integers, so "1.5Gi", "0.1e1"
 * and "1288490188800m" all land on the exact byte Kubernetes would use. */
#include "lint/quantity.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef unsigned __int128 u128;

#define MAX_BYTES ((uint64_t)INT64_MAX)
#define MAX_SIG_DIGITS 38 /* 10^38 < 2^127: any such mantissa fits a u128 */

static u128 pow10_u128(int k)
{
    u128 v = 1;
    for (int i = 0; i < k; i++)
        v *= 10;
    return v;
}

/* Maps a quantity suffix to (power of ten, power of two); -EINVAL if the
 * suffix is not one Kubernetes knows. */
static int quantity_suffix(const char *s, size_t n, long *e10, int *e2)
{
    *e10 = 0;
    *e2 = 0;
    if (n == 0)
        return 0;
    if (n == 2 && s[1] == 'i') {
        static const char bin[] = "KMGTPE";
        const char *p = memchr(bin, s[0], 6);
        if (p == NULL)
            return -EINVAL;
        *e2 = (int)(p - bin + 1) * 10;
        return 0;
    }
    if (n == 1) {
        switch (s[0]) {
        case 'n': *e10 = -9; return 0;
        case 'u': *e10 = -6; return 0;
        case 'm': *e10 = -3; return 0;
        case 'k': *e10 = 3; return 0;
        case 'M': *e10 = 6; return 0;
        case 'G': *e10 = 9; return 0;
        case 'T': *e10 = 12; return 0;
        case 'P': *e10 = 15; return 0;
        case 'E': *e10 = 18; return 0;
        default: return -EINVAL;
        }
    }
    /* A decimal exponent: e or E, an optional sign, at least one digit. */
    if (s[0] != 'e' && s[0] != 'E')
        return -EINVAL;
    size_t i = 1;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    if (i == n)
        return -EINVAL;
    long v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        /* Clamp: any exponent past 10^6 already decides the outcome
         * (out of range, or below one byte). */
        if (v < 1000000)
            v = v * 10 + (s[i] - '0');
    }
    *e10 = neg ? -v : v;
    return 0;
}

int oomkit__lint_quantity_parse(const char *s, size_t n, uint64_t *bytes_out, bool *whole_out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    /* Mantissa digits. Zeros after the last non-zero digit are held back
     * (pend) so that "1.500000" or "1000000000000000000000000000000000000000"
     * do not count against the 38-digit budget. */
    u128 m = 0;
    int sig = 0;
    long frac = 0;   /* digits of m after the point */
    long pend = 0;   /* held-back zeros */
    long pend_frac = 0; /* of which after the point */
    bool dot = false, any = false;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (dot)
                return -EINVAL;
            dot = true;
            continue;
        }
        if (c < '0' || c > '9')
            break;
        any = true;
        if (c == '0') {
            if (m == 0) {
                if (dot)
                    frac++;
            } else {
                pend++;
                if (dot)
                    pend_frac++;
            }
            continue;
        }
        if (sig + pend + 1 > MAX_SIG_DIGITS)
            return -ERANGE;
        for (long z = 0; z < pend; z++)
            m *= 10;
        m = m * 10 + (u128)(c - '0');
        sig += (int)pend + 1;
        frac += pend_frac + (dot ? 1 : 0);
        pend = pend_frac = 0;
    }
    if (!any)
        return -EINVAL;
    long e10;
    int e2;
    if (quantity_suffix(s + i, n - i, &e10, &e2) != 0)
        return -EINVAL;
    if (m == 0) {
        *bytes_out = 0;
        *whole_out = true;
        return 0;
    }
    if (neg)
        return -EDOM;
    long e = e10 + (pend - pend_frac) - frac;

    if (e >= 0) {
        if (e > 19)
            return -ERANGE;
        for (long k = 0; k < e; k++) {
            m *= 10;
            if (m > MAX_BYTES)
                return -ERANGE;
        }
        if (m > MAX_BYTES || (e2 > 0 && m > (MAX_BYTES >> e2)))
            return -ERANGE;
        *bytes_out = (uint64_t)(m << e2);
        *whole_out = true;
        return 0;
    }
    long k = -e;
    if (k > MAX_SIG_DIGITS) {
        /* The mantissa is below 10^38, so the value is below 2^e2 / 10:
         * it cannot overflow, and exact integers would need more than 128
         * bits. long double keeps 64 bits of it, enough to round up. */
        long double v = (long double)m * ldexpl(1.0L, e2) / powl(10.0L, (long double)k);
        long double c = ceill(v);
        *bytes_out = c < 1.0L ? 1 : (uint64_t)c;
        *whole_out = false;
        return 0;
    }
    /* ceil(m * 2^e2 / 10^k) by long division, doubling quotient and
     * remainder e2 times: r stays below d <= 10^38, so 2r fits. */
    u128 d = pow10_u128((int)k);
    u128 q = m / d, r = m % d;
    if (q > MAX_BYTES)
        return -ERANGE;
    for (int b = 0; b < e2; b++) {
        q *= 2;
        r *= 2;
        if (r >= d) {
            r -= d;
            q++;
        }
        if (q > MAX_BYTES)
            return -ERANGE;
    }
    if (r != 0)
        q++;
    if (q > MAX_BYTES)
        return -ERANGE;
    *bytes_out = (uint64_t)q;
    *whole_out = r == 0;
    return 0;
}

/* Decimal digits only, no sign, into *v; -EINVAL when empty or not digits,
 * -ERANGE above INT64_MAX. */
static int parse_digits(const char *s, size_t n, uint64_t *v)
{
    if (n == 0)
        return -EINVAL;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        if (x > (MAX_BYTES - (uint64_t)(s[i] - '0')) / 10)
            return -ERANGE;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *v = x;
    return 0;
}

static int shift_checked(uint64_t v, int shift, uint64_t *out)
{
    if (shift > 0 && v > (MAX_BYTES >> shift))
        return -ERANGE;
    *out = v << shift;
    return 0;
}

int oomkit__lint_go_bytes_parse(const char *s, size_t n, uint64_t *bytes_out)
{
    if (n == 0)
        return -EINVAL;
    char last = s[n - 1];
    if (last >= '0' && last <= '9')
        return parse_digits(s, n, bytes_out);
    if (last != 'B' || n < 2)
        return -EINVAL;
    char c = s[n - 2];
    if (c >= '0' && c <= '9')
        return parse_digits(s, n - 1, bytes_out);
    if (c != 'i' || n < 4)
        return -EINVAL;
    static const char units[] = "KMGT";
    const char *p = memchr(units, s[n - 3], 4);
    if (p == NULL)
        return -EINVAL;
    uint64_t v;
    int rc = parse_digits(s, n - 3, &v);
    if (rc != 0)
        return rc;
    return shift_checked(v, (int)(p - units + 1) * 10, bytes_out);
}

int oomkit__lint_jvm_bytes_parse(const char *s, size_t n, uint64_t *bytes_out)
{
    if (n == 0)
        return -EINVAL;
    int shift = 0;
    switch (s[n - 1]) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: break;
    }
    uint64_t v;
    int rc = parse_digits(s, shift ? n - 1 : n, &v);
    if (rc != 0)
        return rc;
    return shift_checked(v, shift, bytes_out);
}

int oomkit__lint_prof_bytes_parse(const char *s, size_t n, uint64_t *bytes_out)
{
    /* Split number and unit. */
    size_t i = 0;
    while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
        i++;
    const char *u = s + i;
    size_t un = n - i;
    int shift = 0;
    if (un > 0 && !(un == 1 && (u[0] == 'B' || u[0] == 'b'))) {
        switch (u[0]) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        case 't': case 'T': shift = 40; break;
        default: return -EINVAL;
        }
        /* After the letter: nothing, "i", "iB" or "B" ("KiB", "KB"). */
        const char *t = u + 1;
        size_t tn = un - 1;
        if (tn > 0 && t[0] == 'i') {
            t++;
            tn--;
        }
        if (tn > 1 || (tn == 1 && t[0] != 'B' && t[0] != 'b'))
            return -EINVAL;
    }
    /* Reuse the quantity arithmetic for the number: a plain decimal times
     * 2^shift, rounded up. */
    if (i == 0)
        return -EINVAL;
    char tmp[64];
    if (i + 2 >= sizeof(tmp))
        return -ERANGE;
    memcpy(tmp, s, i);
    size_t tn = i;
    if (shift) {
        tmp[tn++] = "KMGT"[shift / 10 - 1];
        tmp[tn++] = 'i';
    }
    bool whole;
    int rc = oomkit__lint_quantity_parse(tmp, tn, bytes_out, &whole);
    return rc == -EDOM ? -EINVAL : rc;
}

int oomkit__lint_decimal_parse(const char *s, size_t n, struct oomkit__lint_ratio *out)
{
    uint64_t num = 0, den = 1;
    bool dot = false, any = false;
    int frac = 0, ints = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.' && !dot) {
            dot = true;
            continue;
        }
        if (c < '0' || c > '9')
            return -EINVAL;
        any = true;
        if (dot) {
            if (++frac > 9)
                return -ERANGE;
            den *= 10;
        } else if (num != 0 && ++ints > 9) {
            return -ERANGE;
        }
        num = num * 10 + (uint64_t)(c - '0');
    }
    if (!any)
        return -EINVAL;
    out->num = num;
    out->den = den;
    return 0;
}

char *oomkit__lint_format_bytes(uint64_t bytes, char *buf, size_t size)
{
    /* Prefer binary units from Mi up, then decimal units from M up (so
     * 2e9 reads "2G", not "1953125Ki"), then Ki or k, then bytes. */
    static const struct {
        uint64_t unit;
        const char *name;
    } units[] = {
        { (uint64_t)1 << 60, "Ei" }, { (uint64_t)1 << 50, "Pi" }, { (uint64_t)1 << 40, "Ti" },
        { (uint64_t)1 << 30, "Gi" }, { (uint64_t)1 << 20, "Mi" },
        { 1000000000000000000ull, "E" }, { 1000000000000000ull, "P" },
        { 1000000000000ull, "T" }, { 1000000000ull, "G" }, { 1000000ull, "M" },
        { 1024, "Ki" }, { 1000, "k" },
    };
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        if (bytes != 0 && bytes % units[u].unit == 0) {
            snprintf(buf, size, "%" PRIu64 "%s", bytes / units[u].unit, units[u].name);
            return buf;
        }
    }
    snprintf(buf, size, "%" PRIu64, bytes);
    return buf;
}

char *oomkit__lint_format_bytes_mib(uint64_t bytes, bool round_up, char *buf, size_t size)
{
    const uint64_t mib = (uint64_t)1 << 20;
    if (bytes >= mib) {
        uint64_t v = round_up ? (bytes + mib - 1) / mib : bytes / mib;
        return oomkit__lint_format_bytes(v * mib, buf, size);
    }
    return oomkit__lint_format_bytes(bytes, buf, size);
}

char *oomkit__lint_format_ratio(struct oomkit__lint_ratio r, char *buf, size_t size)
{
    u128 hundredths = ((u128)r.num * 100 + r.den / 2) / r.den;
    uint64_t ip = (uint64_t)(hundredths / 100), fp = (uint64_t)(hundredths % 100);
    if (fp == 0)
        snprintf(buf, size, "%" PRIu64, ip);
    else if (fp % 10 == 0)
        snprintf(buf, size, "%" PRIu64 ".%" PRIu64, ip, fp / 10);
    else
        snprintf(buf, size, "%" PRIu64 ".%02" PRIu64, ip, fp);
    return buf;
}

uint64_t oomkit__lint_scale_floor(uint64_t a, struct oomkit__lint_ratio r, uint64_t scale)
{
    u128 v = (u128)a * r.num / ((u128)r.den * scale);
    return v > MAX_BYTES ? MAX_BYTES : (uint64_t)v;
}

uint64_t oomkit__lint_unscale_ceil(uint64_t a, struct oomkit__lint_ratio r, uint64_t scale)
{
    u128 top = (u128)a * scale * r.den;
    u128 v = (top + r.num - 1) / r.num;
    return v > MAX_BYTES ? MAX_BYTES : (uint64_t)v;
}

bool oomkit__lint_exceeds(uint64_t a, uint64_t b, struct oomkit__lint_ratio r, uint64_t scale)
{
    return (u128)a * scale * r.den > (u128)b * r.num;
}
