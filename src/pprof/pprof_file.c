/* gzip framing (zlib) and file I/O for pprof profiles.
 *
 * pprof files are gzip-compressed protobufs. A file is replaced whole
 * (core/file_replace.h), so a reader (or `oomkit profile` waiting for the
 * exit dump) never sees a torn one. This code runs inside the preload
 * profiler's dump thread too, so it uses no stdio streams and allocates
 * through oomkit__malloc. */
#include "pprof/pprof.h"

#include "core/alloc.h"
#include "core/file_replace.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* 16 + MAX_WBITS selects the gzip wrapper in deflateInit2; 32 + MAX_WBITS
 * makes inflate detect gzip or zlib headers automatically (zlib.h). */
enum { GZIP_WBITS = 16 + MAX_WBITS, AUTO_WBITS = 32 + MAX_WBITS };

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return oomkit__calloc(items, size);
}

static void z_free(voidpf opaque, voidpf addr)
{
    (void)opaque;
    oomkit__free(addr);
}

int oomkit__pprof_gzip(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    z.zalloc = z_alloc;
    z.zfree = z_free;
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, GZIP_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return -ENOMEM;
    size_t cap = deflateBound(&z, (uLong)len) + 32;
    uint8_t *dst = oomkit__malloc(cap);
    if (dst == NULL) {
        deflateEnd(&z);
        return -ENOMEM;
    }
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = dst;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    size_t n = cap - z.avail_out;
    deflateEnd(&z);
    if (rc != Z_STREAM_END) {
        oomkit__free(dst);
        return -EIO;
    }
    *out = dst;
    *out_len = n;
    return 0;
}

int oomkit__pprof_gunzip(const uint8_t *in, size_t len, size_t max_out, uint8_t **out,
                         size_t *out_len)
{
    if (len < 2 || in[0] != 0x1f || in[1] != 0x8b) {
        if (len > max_out)
            return -E2BIG;
        uint8_t *copy = oomkit__malloc(len ? len : 1);
        if (copy == NULL)
            return -ENOMEM;
        if (len > 0)
            memcpy(copy, in, len);
        *out = copy;
        *out_len = len;
        return 0;
    }
    z_stream z;
    memset(&z, 0, sizeof(z));
    z.zalloc = z_alloc;
    z.zfree = z_free;
    if (inflateInit2(&z, AUTO_WBITS) != Z_OK)
        return -ENOMEM;
    size_t cap = len * 4 + 1024, n = 0;
    if (cap > max_out)
        cap = max_out + 1;
    uint8_t *dst = oomkit__malloc(cap);
    int err = dst ? 0 : -ENOMEM;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    while (err == 0) {
        if (n == cap) {
            if (cap > max_out) {
                err = -E2BIG;
                break;
            }
            size_t nc = cap * 2 > max_out + 1 ? max_out + 1 : cap * 2;
            uint8_t *nd = oomkit__realloc(dst, nc);
            if (nd == NULL) {
                err = -ENOMEM;
                break;
            }
            dst = nd;
            cap = nc;
        }
        z.next_out = dst + n;
        z.avail_out = (uInt)(cap - n);
        int rc = inflate(&z, Z_NO_FLUSH);
        n = cap - z.avail_out;
        if (rc == Z_STREAM_END)
            break;
        if (rc == Z_BUF_ERROR && z.avail_in == 0)
            err = -EINVAL; /* truncated stream */
        else if (rc != Z_OK && rc != Z_BUF_ERROR)
            err = rc == Z_MEM_ERROR ? -ENOMEM : -EINVAL;
    }
    inflateEnd(&z);
    if (err == 0 && n > max_out)
        err = -E2BIG;
    if (err != 0) {
        oomkit__free(dst);
        return err;
    }
    *out = dst;
    *out_len = n;
    return 0;
}

/* Profiles above this size are refused on read: a real heap profile is a
 * few MB; this bounds what a hostile gzip bomb can make us allocate. */
#define MAX_PROFILE_BYTES ((size_t)1 << 30)

int oomkit__pprof_read_file(const char *path, struct oomkit__pprof_profile *p)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    int e = fstat(fd, &st) != 0 ? -errno : 0;
    if (e == 0 && (st.st_size < 0 || (uint64_t)st.st_size > MAX_PROFILE_BYTES))
        e = -E2BIG;
    if (e != 0) {
        close(fd);
        return e;
    }
    size_t len = (size_t)st.st_size, got = 0;
    uint8_t *raw = oomkit__malloc(len ? len : 1);
    if (raw == NULL) {
        close(fd);
        return -ENOMEM;
    }
    while (got < len) {
        ssize_t r = read(fd, raw + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            /* EISDIR for a directory, EIO for a bad disk: not a profile. */
            e = -errno;
            close(fd);
            oomkit__free(raw);
            return e;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    uint8_t *pb = NULL;
    size_t pb_len = 0;
    int err = oomkit__pprof_gunzip(raw, got, MAX_PROFILE_BYTES, &pb, &pb_len);
    oomkit__free(raw);
    if (err != 0)
        return err;
    err = oomkit__pprof_decode(pb, pb_len, p);
    oomkit__free(pb);
    return err;
}

int oomkit__pprof_write_file(const struct oomkit__pprof_profile *p, const char *path)
{
    uint8_t *pb = NULL, *gz = NULL;
    size_t pb_len = 0, gz_len = 0;
    int err = oomkit__pprof_encode(p, &pb, &pb_len);
    if (err != 0)
        return err;
    err = oomkit__pprof_gzip(pb, pb_len, &gz, &gz_len);
    oomkit__free(pb);
    if (err != 0)
        return err;
    err = oomkit__file_replace_write(path, gz, gz_len);
    oomkit__free(gz);
    return err;
}
