/* The blob format's guard and its file I/O: validates a header and its
 * sections before anything reads them, seals built blobs with their
 * checksums, maps files read-only and writes them atomically. Every other
 * mph file trusts a view only after oomkit__mph_view_init accepted it.
 */
#include "mph/mph_internal.h"

#include "core/file_replace.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_SUM_BYTES 120u

void oomkit__mph_seal(void *blob)
{
    struct mph_header hd;
    memcpy(&hd, blob, sizeof(hd));
    const uint8_t *b = blob;
    hd.body_checksum = XXH3_64bits(b + MPH_HEADER_BYTES, hd.file_bytes - MPH_HEADER_BYTES);
    memcpy(blob, &hd, sizeof(hd));
    hd.header_checksum = XXH3_64bits(blob, HEADER_SUM_BYTES);
    memcpy(blob, &hd, sizeof(hd));
}

int oomkit__mph_view_init(struct mph_handle *h, const void *buf, size_t len, int check_sums)
{
    if (buf == NULL || ((uintptr_t)buf & 7) != 0)
        return -EINVAL;
    if (len < MPH_HEADER_BYTES)
        return -EBADMSG;
    struct mph_header hd;
    memcpy(&hd, buf, sizeof(hd));
    if (memcmp(hd.magic, MPH_MAGIC, 8) != 0 || hd.version != MPH_VERSION ||
        hd.header_bytes != MPH_HEADER_BYTES || hd.file_bytes != len)
        return -EBADMSG;
    if (check_sums && XXH3_64bits(buf, HEADER_SUM_BYTES) != hd.header_checksum)
        return -EBADMSG;
    if (hd.kind != MPH_KIND_FUNCTION && hd.kind != MPH_KIND_MAP)
        return -EBADMSG;
    if ((hd.flags & ~(MPH_FLAG_KEYS | MPH_FLAG_LINEAR)) != 0 ||
        (hd.kind == MPH_KIND_FUNCTION && ((hd.flags & MPH_FLAG_KEYS) || hd.fp_bits != 0)) ||
        (!(hd.flags & MPH_FLAG_KEYS) && hd.key_bytes != 0))
        return -EBADMSG;
    if ((hd.n == 0) != (hd.parts == 0) || (hd.parts != 0 && hd.bpp == 0) ||
        (hd.parts == 0 && (hd.bpp != 0 || hd.slots_total != 0)))
        return -EBADMSG;
    struct mph_layout L;
    if (oomkit__mph_layout(&hd, &L) != 0 || L.total != len)
        return -EBADMSG;
    const uint8_t *b = buf;
    if (check_sums &&
        XXH3_64bits(b + MPH_HEADER_BYTES, len - MPH_HEADER_BYTES) != hd.body_checksum)
        return -EBADMSG;

    /* Structure the lookups rely on, checked whatever the checksums say: a
     * blob can be well-formed in checksum and still lie. */
    const struct mph_part *pt = (const struct mph_part *)(b + L.parts_off);
    uint64_t sum = 0;
    for (uint32_t p = 0; p < hd.parts; p++) {
        if (pt[p].base != sum || pt[p].slots == 0)
            return -EBADMSG;
        sum += pt[p].slots;
    }
    if (sum != hd.slots_total)
        return -EBADMSG;
    const uint32_t *remap = (const uint32_t *)(b + L.remap_off);
    for (uint64_t i = 0; i < hd.slots_total - hd.n; i++)
        if (remap[i] >= hd.n)
            return -EBADMSG;

    memset(h, 0, sizeof(*h));
    struct mph_view *v = &h->v;
    v->base = b;
    v->n = hd.n;
    v->hash_seed = hd.hash_seed;
    v->parts = hd.parts;
    v->bpp = hd.bpp;
    v->linear = (hd.flags & MPH_FLAG_LINEAR) != 0;
    v->part = pt;
    v->pilots = b + L.pilots_off;
    v->remap = remap;
    if (hd.kind == MPH_KIND_MAP) {
        v->values = (const int64_t *)(b + L.values_off);
        v->fp_bits = hd.fp_bits;
        v->fp = hd.fp_bits ? b + L.fp_off : NULL;
        if (hd.flags & MPH_FLAG_KEYS) {
            v->koff = (const uint64_t *)(b + L.koff_off);
            v->kbytes = b + L.kbytes_off;
            v->key_bytes = hd.key_bytes;
        }
    }
    h->blob = buf;
    h->blob_len = len;
    return 0;
}

int oomkit__mph_map_file(const char *path, const void **buf, size_t *len)
{
    if (path == NULL)
        return -EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
    }
    if (st.st_size < (off_t)MPH_HEADER_BYTES) {
        close(fd);
        return -EBADMSG;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return -errno;
    *buf = p;
    *len = (size_t)st.st_size;
    return 0;
}

void oomkit__mph_unmap_file(const void *buf, size_t len)
{
    munmap((void *)(uintptr_t)buf, len);
}

int oomkit__mph_write_file(const char *path, const void *buf, size_t len)
{
    if (path == NULL)
        return -EINVAL;
    /* Replaced whole (core/file_replace.h): readers that mapped the old
     * file keep their pages, new readers see the whole new file. */
    return oomkit__file_replace_write(path, buf, len);
}
