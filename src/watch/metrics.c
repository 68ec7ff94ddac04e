/* Prometheus text exposition builder (see metrics.h). The format is small
 * and fixed (https://prometheus.io/docs/instrumenting/exposition_formats/),
 * and no Debian C library writes it, so it is written here by hand. */
#include "watch/metrics.h"

#include "core/alloc.h"
#include "core/hash.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

void oomkit__metrics_reset(struct oomkit__metrics *m)
{
    m->len = 0;
    if (m->text)
        m->text[0] = '\0';
    if (m->seen)
        memset(m->seen, 0, m->seen_cap * sizeof m->seen[0]);
    m->seen_n = 0;
    m->family = NULL;
    m->error = 0;
}

void oomkit__metrics_free(struct oomkit__metrics *m)
{
    oomkit__free(m->text);
    oomkit__free(m->seen);
    memset(m, 0, sizeof *m);
}

static int reserve(struct oomkit__metrics *m, size_t more)
{
    if (m->error)
        return m->error;
    if (m->len + more + 1 <= m->cap)
        return 0;
    size_t cap = m->cap ? m->cap : 4096;
    while (cap < m->len + more + 1)
        cap *= 2;
    char *p = oomkit__realloc(m->text, cap);
    if (p == NULL)
        return m->error = -ENOMEM;
    m->text = p;
    m->cap = cap;
    return 0;
}

static void put(struct oomkit__metrics *m, const char *s, size_t n)
{
    if (reserve(m, n) != 0)
        return;
    memcpy(m->text + m->len, s, n);
    m->len += n;
    m->text[m->len] = '\0';
}

static void puts_(struct oomkit__metrics *m, const char *s) { put(m, s, strlen(s)); }

/* Escapes for a label value (quote too) or a HELP text (quote kept). */
static void put_escaped(struct oomkit__metrics *m, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            put(m, "\\\\", 2);
        else if (*s == '\n')
            put(m, "\\n", 2);
        else if (*s == '"' && quote)
            put(m, "\\\"", 2);
        else
            put(m, s, 1);
    }
}

int oomkit__metrics_valid_name(const char *s, int label)
{
    if (s == NULL || *s == '\0')
        return 0;
    if (label && s[0] == '_' && s[1] == '_')
        return 0;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                 (!label && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return 0;
    }
    return 1;
}

int oomkit__metrics_family(struct oomkit__metrics *m, const char *name,
                           const char *type, const char *help)
{
    if (!oomkit__metrics_valid_name(name, 0) || type == NULL)
        return -EINVAL;
    puts_(m, "# HELP ");
    puts_(m, name);
    puts_(m, " ");
    put_escaped(m, help ? help : "", 0);
    puts_(m, "\n# TYPE ");
    puts_(m, name);
    puts_(m, " ");
    puts_(m, type);
    puts_(m, "\n");
    m->family = name;
    return m->error;
}

/* Inserts h into the seen-set; 1 if it was new, 0 if present, <0 on OOM. */
static int seen_insert(struct oomkit__metrics *m, uint64_t h)
{
    if (h == 0)
        h = 1; /* 0 marks an empty slot */
    if ((m->seen_n + 1) * 2 > m->seen_cap) {
        size_t cap = m->seen_cap ? m->seen_cap * 2 : 256;
        uint64_t *t = oomkit__calloc(cap, sizeof *t);
        if (t == NULL)
            return m->error = -ENOMEM;
        for (size_t i = 0; i < m->seen_cap; i++) {
            if (m->seen[i] == 0)
                continue;
            size_t j = (size_t)m->seen[i] & (cap - 1);
            while (t[j] != 0)
                j = (j + 1) & (cap - 1);
            t[j] = m->seen[i];
        }
        oomkit__free(m->seen);
        m->seen = t;
        m->seen_cap = cap;
    }
    size_t j = (size_t)h & (m->seen_cap - 1);
    while (m->seen[j] != 0) {
        if (m->seen[j] == h)
            return 0;
        j = (j + 1) & (m->seen_cap - 1);
    }
    m->seen[j] = h;
    m->seen_n++;
    return 1;
}

int oomkit__metrics_sample(struct oomkit__metrics *m, const struct oomkit__label *labels,
                           size_t n, double value)
{
    if (m->family == NULL)
        return -EINVAL;
    if (m->error)
        return m->error;
    /* A series' identity is its name and its non-empty labels in order;
     * hash them with separators that cannot occur in a name. */
    uint64_t h = oomkit__hash(m->family, strlen(m->family), 0x6f6f6d6b6974ull);
    for (size_t i = 0; i < n; i++) {
        if (!oomkit__metrics_valid_name(labels[i].name, 1))
            return -EINVAL;
        if (labels[i].value == NULL || labels[i].value[0] == '\0')
            continue;
        h = oomkit__hash(labels[i].name, strlen(labels[i].name), h ^ 0x3d);
        h = oomkit__hash(labels[i].value, strlen(labels[i].value) + 1, h);
    }
    int fresh = seen_insert(m, h);
    if (fresh < 0)
        return fresh;
    if (fresh == 0)
        return -EEXIST;
    puts_(m, m->family);
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if (labels[i].value == NULL || labels[i].value[0] == '\0')
            continue;
        puts_(m, first ? "{" : ",");
        first = 0;
        puts_(m, labels[i].name);
        puts_(m, "=\"");
        put_escaped(m, labels[i].value, 1);
        puts_(m, "\"");
    }
    if (!first)
        puts_(m, "}");
    char num[40];
    if (isnan(value))
        snprintf(num, sizeof num, " NaN\n");
    else if (isinf(value))
        snprintf(num, sizeof num, value > 0 ? " +Inf\n" : " -Inf\n");
    else
        snprintf(num, sizeof num, " %.17g\n", value);
    puts_(m, num);
    return m->error;
}
