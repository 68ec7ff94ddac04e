/* Reading /proc/PID/maps and smaps into an oomkit_mem_maps.
 *
 * smaps of a big process is tens of megabytes of text (about 1 KiB per
 * mapping), so it is never read whole: the context's buffer is filled in
 * large read(2)s (the kernel's seq_file emits as many whole entries as fit
 * in each), complete lines are parsed in place, and the unfinished tail is
 * moved to the front before the next read. The result lives in two
 * geometrically grown arrays (mappings and names), so a read of N mappings
 * costs O(log N) allocations. */
#include "mem/mem_internal.h"

#include "core/alloc.h"

#include <stdio.h>
#include <unistd.h>

struct oomkit_mem_maps {
    /* Mappings live in blocks that never move: block 0 holds FIRST_BLOCK
     * entries (most processes), every later one BLOCK entries. Growing
     * never copies, and each big block is populated in one madvise
     * instead of page by page (see oomkit__mem_prefault). */
    oomkit_mem_mapping **blk;
    size_t nblk, blk_cap;
    size_t n;
    char *names;
    size_t names_len, names_cap;
};

#define FIRST_BLOCK ((size_t)256)
#define BLOCK_SHIFT 12
#define BLOCK ((size_t)1 << BLOCK_SHIFT)

static oomkit_mem_mapping *at(const oomkit_mem_maps *m, size_t i)
{
    if (i < FIRST_BLOCK)
        return &m->blk[0][i];
    i -= FIRST_BLOCK;
    return &m->blk[1 + (i >> BLOCK_SHIFT)][i & (BLOCK - 1)];
}

static size_t capacity(const oomkit_mem_maps *m)
{
    return m->nblk ? FIRST_BLOCK + (m->nblk - 1) * BLOCK : 0;
}

struct oomkit__maps_builder {
    oomkit_mem_maps *m;
    int smaps;
    unsigned cursor; /* next expected smaps key (see oomkit__smaps_key) */
};

/* Chunk size of each smaps read: large enough that syscall overhead is
 * negligible (~250 entries per read), small enough to stay in L2. */
#define SMAPS_CHUNK_BYTES (256 * 1024)

/* Makes room for one more mapping and for len more name bytes. */
static int reserve(oomkit_mem_maps *m, size_t len)
{
    if (m->n == capacity(m)) {
        if (m->nblk == m->blk_cap) {
            size_t ncap = m->blk_cap ? m->blk_cap * 2 : 8;
            oomkit_mem_mapping **nb = oomkit__realloc(m->blk, ncap * sizeof *nb);
            if (!nb)
                return -ENOMEM;
            m->blk = nb;
            m->blk_cap = ncap;
        }
        size_t cnt = m->nblk ? BLOCK : FIRST_BLOCK;
        oomkit_mem_mapping *b = oomkit__malloc(cnt * sizeof *b);
        if (!b)
            return -ENOMEM;
        /* The block will be written in full as the list grows. */
        if (cnt == BLOCK)
            oomkit__mem_prefault(b, cnt * sizeof *b);
        m->blk[m->nblk++] = b;
    }
    if (m->names_cap - m->names_len < len) {
        size_t ncap = m->names_cap ? m->names_cap : 16384;
        while (ncap - m->names_len < len)
            ncap *= 2;
        char *nn = oomkit__realloc(m->names, ncap);
        if (!nn)
            return -ENOMEM;
        m->names = nn;
        m->names_cap = ncap;
    }
    return 0;
}

int oomkit__maps_builder_line(struct oomkit__maps_builder *b, const char *line, size_t len)
{
    if (len == 0)
        return 0;
    oomkit_mem_maps *m = b->m;
    /* Key lines ("Rss:  4 kB") belong to the last header; anything whose
     * first token ends in ':' is a key, known or not. */
    int hex = (line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f');
    if (!hex && m->n > 0 && oomkit__parse_smaps_key(line, len, &at(m, m->n - 1)->f))
        return 0;
    /* The header is parsed straight into the next slot (a path is never
     * longer than its line, so reserving len name bytes is enough); the
     * slot only counts once the line parsed. */
    int rc = reserve(m, len);
    if (rc < 0)
        return rc;
    oomkit_mem_mapping *d = at(m, m->n);
    oomkit_str path;
    if (oomkit__parse_maps_header(line, len, d, &path) < 0)
        return -EINVAL;
    oomkit__smaps_fields_clear(&d->f);
    d->category = OOMKIT_MEM_CAT_OTHER;
    if (path.len)
        memcpy(m->names + m->names_len, path.ptr, path.len);
    /* While building, path.ptr holds the offset into names (the array may
     * still move); finish() turns it into a pointer at the end. */
    d->path.ptr = (const char *)(uintptr_t)m->names_len;
    d->path.len = path.len;
    m->names_len += path.len;
    m->n++;
    b->cursor = 0;
    return 0;
}

static void finish(oomkit_mem_maps *m)
{
    for (size_t i = 0; i < m->n; i++) {
        oomkit_mem_mapping *e = at(m, i);
        uintptr_t off = (uintptr_t)e->path.ptr;
        e->path.ptr = e->path.len ? m->names + off : NULL;
    }
}

/* The fast path for a smaps key line at p[0..rem): "Key:   123 kB\n".
 * Returns the line's length including '\n', 0 if the line is incomplete
 * (more input needed), or -1 if it is not a key line the fast path takes.
 * This is where an inspect of a big process spends its user time, so it
 * avoids a memchr per line: the key's own scan and the digits lead to the
 * " kB\n" tail, and only unusual lines (VmFlags) search for the newline. */
static long key_line(struct oomkit__maps_builder *b, const char *p, size_t rem, int eof)
{
    size_t k = 1;
    while (k < rem && p[k] != ':' && p[k] != '\n' && p[k] != ' ')
        k++;
    if (k >= rem)
        return eof ? -1 : 0;
    if (p[k] != ':')
        return -1;
    const struct oomkit__kv_key *key = oomkit__smaps_key(p, k, &b->cursor);
    size_t j = k + 1;
    while (j < rem && p[j] == ' ')
        j++;
    size_t d = j;
    uint64_t v = 0;
    while (d < rem && p[d] >= '0' && p[d] <= '9') {
        v = v * 10 + (uint64_t)(p[d] - '0');
        d++;
    }
    size_t eol;
    if (rem - d >= 4 && memcmp(p + d, " kB\n", 4) == 0) {
        eol = d + 3;
    } else {
        const char *nl = memchr(p + d, '\n', rem - d);
        if (!nl)
            return eof ? -1 : 0;
        eol = (size_t)(nl - p);
    }
    if (key && d > j) {
        /* More than 15 digits of kB cannot be real; saturate below the
         * absent/no-limit markers instead of wrapping. */
        uint64_t bytes = (d - j > 15) ? UINT64_MAX - 2 : v << 10;
        uint64_t *field = (uint64_t *)(void *)((char *)&at(b->m, b->m->n - 1)->f + key->offset);
        *field = bytes;
    }
    return (long)(eol + 1);
}

/* Feeds every complete line of buf[0..len) to the builder; returns the
 * number of bytes consumed (the rest is an unfinished line). */
static long feed(struct oomkit__maps_builder *b, const char *buf, size_t len, int eof)
{
    size_t i = 0;
    while (i < len) {
        if (buf[i] >= 'A' && buf[i] <= 'Z' && b->m->n > 0) {
            long n = key_line(b, buf + i, len - i, eof);
            if (n > 0) {
                i += (size_t)n;
                continue;
            }
            if (n == 0)
                break;
        }
        const char *nl = memchr(buf + i, '\n', len - i);
        if (!nl) {
            if (!eof)
                break;
            int rc = oomkit__maps_builder_line(b, buf + i, len - i);
            if (rc < 0)
                return rc;
            return (long)len;
        }
        size_t eol = (size_t)(nl - buf);
        int rc = oomkit__maps_builder_line(b, buf + i, eol - i);
        if (rc < 0)
            return rc;
        i = eol + 1;
    }
    return (long)i;
}

int oomkit_mem_maps_read(oomkit_mem_ctx *ctx, pid_t pid, unsigned flags,
                         oomkit_mem_maps **out)
{
    if (!ctx || !out || pid <= 0 || flags > OOMKIT_MEM_MAPS_SMAPS)
        return -EINVAL;
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid,
             (flags & OOMKIT_MEM_MAPS_SMAPS) ? "smaps" : "maps");
    int fd = oomkit__mem_open(ctx, path);
    if (fd < 0)
        return oomkit__mem_proc_err(ctx, pid, fd);
    oomkit_mem_maps *m = oomkit__calloc(1, sizeof *m);
    if (!m) {
        close(fd);
        return -ENOMEM;
    }
    struct oomkit__maps_builder b = { m, (flags & OOMKIT_MEM_MAPS_SMAPS) != 0, 0 };
    int rc = oomkit__mem_reserve(ctx, SMAPS_CHUNK_BYTES);
    size_t carry = 0;
    while (rc == 0) {
        if (ctx->buf_cap - carry < 4096) {
            /* One line longer than the buffer: only a pathological path. */
            rc = oomkit__mem_reserve(ctx, ctx->buf_cap * 2);
            if (rc < 0)
                break;
        }
        long n = oomkit__mem_read_fd(fd, ctx->buf + carry, ctx->buf_cap - carry);
        if (n < 0) {
            rc = (int)n;
            snprintf(ctx->last_path, sizeof ctx->last_path, "%s", path);
            break;
        }
        size_t have = carry + (size_t)n;
        long used = feed(&b, ctx->buf, have, n == 0);
        if (used < 0) {
            rc = oomkit__mem_failed(ctx, path, (int)used);
            break;
        }
        carry = have - (size_t)used;
        if (carry)
            memmove(ctx->buf, ctx->buf + used, carry);
        if (n == 0)
            break;
    }
    close(fd);
    /* A process that exits mid-read ends its smaps early: each read(2)
     * re-takes a reference on the mm and returns EOF once the mm is gone.
     * The task drops its mm (statm turns to zeros) before that, so a
     * process that is gone, a zombie, or has mappings but no mm any more
     * may have given a partial list: report the exit instead. A kernel
     * thread has neither mm nor mappings and stays a success. */
    if (rc == 0 && (!oomkit__mem_proc_alive(ctx, pid) ||
                    (m->n > 0 && !oomkit__mem_has_mm(ctx, pid))))
        rc = -ESRCH;
    if (rc < 0) {
        oomkit_mem_maps_free(m);
        return rc == -ENOENT ? oomkit__mem_proc_err(ctx, pid, rc) : rc;
    }
    finish(m);
    *out = m;
    return 0;
}

size_t oomkit_mem_maps_count(const oomkit_mem_maps *maps)
{
    return maps ? maps->n : 0;
}

const oomkit_mem_mapping *oomkit_mem_maps_get(const oomkit_mem_maps *maps, size_t i)
{
    return (maps && i < maps->n) ? at(maps, i) : NULL;
}

void oomkit_mem_maps_free(oomkit_mem_maps *maps)
{
    if (!maps)
        return;
    for (size_t i = 0; i < maps->nblk; i++)
        oomkit__free(maps->blk[i]);
    oomkit__free(maps->blk);
    oomkit__free(maps->names);
    oomkit__free(maps);
}

oomkit_mem_mapping *oomkit__maps_at(oomkit_mem_maps *maps, size_t i)
{
    return at(maps, i);
}

int oomkit__maps_parse_buffer(const char *s, size_t len, oomkit_mem_maps **out)
{
    oomkit_mem_maps *m = oomkit__calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    struct oomkit__maps_builder b = { m, 1, 0 };
    long used = feed(&b, s, len, 1);
    if (used < 0) {
        oomkit_mem_maps_free(m);
        return (int)used;
    }
    finish(m);
    *out = m;
    return 0;
}
