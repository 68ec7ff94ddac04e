/* The workload reader of the concurrent peers: the whole TSV file in one
 * buffer, one peer_key per line pointing into it, and every "ns/name/key"
 * composed once into an arena, as the Go peer prebuilds its key strings. */
#include "peer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int read_all(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        fclose(f);
        return -ENOMEM;
    }
    size_t got;
    while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                fclose(f);
                return -ENOMEM;
            }
            buf = nb;
            cap *= 2;
        }
    }
    int err = ferror(f) ? -EIO : 0;
    fclose(f);
    if (err) {
        free(buf);
        return err;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int peer_input_load(const char *path, struct peer_input *in, size_t *bad_line)
{
    memset(in, 0, sizeof *in);
    size_t len = 0;
    int rc = read_all(path, &in->buf, &len);
    if (rc)
        return rc;
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += in->buf[i] == '\n';
    lines++;
    in->keys = calloc(lines, sizeof *in->keys);
    /* A flat key is its line minus the value field plus a NUL: the line
     * length bounds it. */
    in->flat_arena = malloc(len + lines + 1);
    if (!in->keys || !in->flat_arena) {
        peer_input_free(in);
        return -ENOMEM;
    }
    char *arena = in->flat_arena;
    size_t line_no = 0;
    for (char *p = in->buf, *end = in->buf + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        line_no++;
        if (eol == p) {
            p = eol + 1;
            continue;
        }
        char *f[4];
        size_t flen[4];
        char *q = p;
        int i;
        for (i = 0; i < 3; i++) {
            char *tab = memchr(q, '\t', (size_t)(eol - q));
            if (!tab)
                break;
            f[i] = q;
            flen[i] = (size_t)(tab - q);
            q = tab + 1;
        }
        if (i < 3 || q == eol) {
            *bad_line = line_no;
            peer_input_free(in);
            return -EINVAL;
        }
        char *vend;
        errno = 0;
        long long v = strtoll(q, &vend, 10);
        if (errno || vend != eol) {
            *bad_line = line_no;
            peer_input_free(in);
            return -EINVAL;
        }
        struct peer_key *k = &in->keys[in->n++];
        k->ns = f[0];
        k->ns_len = (uint32_t)flen[0];
        k->name = f[1];
        k->name_len = (uint32_t)flen[1];
        k->key = f[2];
        k->key_len = (uint32_t)flen[2];
        k->value = v;
        k->flat = arena;
        size_t flat_len = flen[0] + 1 + flen[1] + 1 + flen[2];
        memcpy(arena, f[0], flen[0]);
        arena[flen[0]] = '/';
        memcpy(arena + flen[0] + 1, f[1], flen[1]);
        arena[flen[0] + 1 + flen[1]] = '/';
        memcpy(arena + flen[0] + flen[1] + 2, f[2], flen[2]);
        arena[flat_len] = '\0';
        k->flat_len = (uint32_t)flat_len;
        arena += flat_len + 1;
        p = eol + 1;
    }
    if (in->n == 0) {
        *bad_line = 0;
        peer_input_free(in);
        return -EINVAL;
    }
    return 0;
}

void peer_input_free(struct peer_input *in)
{
    free(in->buf);
    free(in->flat_arena);
    free(in->keys);
    memset(in, 0, sizeof *in);
}
