/* Parsers for /proc/PID/maps, smaps and smaps_rollup.
 *
 * Hand-written because no Debian library parses smaps (procps' libproc2
 * reads only the rollup totals and allocates per field), and because this
 * is the hot path of inspect and of the watchdog's captures: a process with
 * 50 000 mappings produces ~1.3 million smaps lines, each parsed here with
 * one scan for the key, a length/first-byte table lookup and one decimal
 * conversion. Line framing and buffering live in maps.c. */
#include "mem/mem_internal.h"

#include <stddef.h>

#define SKB(str, field) OOMKIT__KV(str, OOMKIT__KV_KB, oomkit_mem_smaps_fields, field)
/* In the order the kernel prints them (fs/proc/task_mmu.c; Pss_Anon/File/
 * Shmem only in smaps_rollup), so the key after the last one matched is
 * almost always the next line's: oomkit__smaps_key tries it first. */
static const struct oomkit__kv_key smaps_keys[] = {
    SKB("Size", size_bytes), SKB("KernelPageSize", kernel_page_size_bytes),
    SKB("MMUPageSize", mmu_page_size_bytes), SKB("Rss", rss_bytes),
    SKB("Pss", pss_bytes), SKB("Pss_Dirty", pss_dirty_bytes),
    SKB("Pss_Anon", pss_anon_bytes), SKB("Pss_File", pss_file_bytes),
    SKB("Pss_Shmem", pss_shmem_bytes),
    SKB("Shared_Clean", shared_clean_bytes), SKB("Shared_Dirty", shared_dirty_bytes),
    SKB("Private_Clean", private_clean_bytes), SKB("Private_Dirty", private_dirty_bytes),
    SKB("Referenced", referenced_bytes), SKB("Anonymous", anonymous_bytes),
    SKB("KSM", ksm_bytes), SKB("LazyFree", lazyfree_bytes),
    SKB("AnonHugePages", anon_huge_pages_bytes),
    SKB("ShmemPmdMapped", shmem_pmd_mapped_bytes),
    SKB("FilePmdMapped", file_pmd_mapped_bytes),
    SKB("Shared_Hugetlb", shared_hugetlb_bytes),
    SKB("Private_Hugetlb", private_hugetlb_bytes),
    SKB("Swap", swap_bytes), SKB("SwapPss", swap_pss_bytes),
    SKB("Locked", locked_bytes),
};
#define N_SMAPS_KEYS (sizeof smaps_keys / sizeof smaps_keys[0])
#undef SKB

const struct oomkit__kv_key *oomkit__smaps_key(const char *name, size_t len, unsigned *cursor)
{
    unsigned c = *cursor;
    if (c < N_SMAPS_KEYS && smaps_keys[c].name_len == len &&
        memcmp(smaps_keys[c].name, name, len) == 0) {
        *cursor = c + 1;
        return &smaps_keys[c];
    }
    const struct oomkit__kv_key *key = oomkit__kv_find(smaps_keys, N_SMAPS_KEYS, name, len);
    if (key)
        *cursor = (unsigned)(key - smaps_keys) + 1;
    return key;
}

void oomkit__smaps_fields_clear(oomkit_mem_smaps_fields *f)
{
    memset(f, 0xff, sizeof *f);
}

int oomkit__parse_smaps_key(const char *line, size_t len, oomkit_mem_smaps_fields *f)
{
    size_t k = 0;
    while (k < len && line[k] != ':' && line[k] != ' ' && line[k] != '\t')
        k++;
    if (k == 0 || k >= len || line[k] != ':')
        return 0;
    unsigned cursor = 0;
    const struct oomkit__kv_key *key = oomkit__smaps_key(line, k, &cursor);
    if (!key)
        return 1; /* VmFlags, THPeligible, ProtectionKey, future keys */
    size_t j = k + 1;
    uint64_t v;
    if (oomkit__parse_u64(line, len, &j, &v) == 0) {
        uint64_t *field = (uint64_t *)(void *)((char *)f + key->offset);
        *field = oomkit__mul_sat(v, 1024);
    }
    return 1;
}

int oomkit__parse_maps_header(const char *line, size_t len, oomkit_mem_mapping *m,
                              oomkit_str *path)
{
    size_t i = 0;
    if (oomkit__parse_hex(line, len, &i, &m->start) < 0 || i >= len || line[i] != '-')
        return -EINVAL;
    i++;
    if (oomkit__parse_hex(line, len, &i, &m->end) < 0 || i >= len || line[i] != ' ')
        return -EINVAL;
    if (m->end < m->start)
        return -EINVAL;
    i++;
    if (len - i < 5 || line[i + 4] != ' ')
        return -EINVAL;
    memcpy(m->perms, line + i, 4);
    m->perms[4] = '\0';
    i += 5;
    if (oomkit__parse_hex(line, len, &i, &m->offset) < 0 || i >= len || line[i] != ' ')
        return -EINVAL;
    i++;
    uint64_t maj, min;
    if (oomkit__parse_hex(line, len, &i, &maj) < 0 || i >= len || line[i] != ':')
        return -EINVAL;
    i++;
    if (oomkit__parse_hex(line, len, &i, &min) < 0)
        return -EINVAL;
    m->dev_major = maj > UINT32_MAX ? UINT32_MAX : (uint32_t)maj;
    m->dev_minor = min > UINT32_MAX ? UINT32_MAX : (uint32_t)min;
    if (oomkit__parse_u64(line, len, &i, &m->inode) < 0)
        return -EINVAL;
    /* The kernel pads the path to a column with spaces; a path itself may
     * start with spaces only if the file name does, which is ambiguous in
     * the format anyway. */
    while (i < len && line[i] == ' ')
        i++;
    size_t e = len;
    while (e > i && (line[e - 1] == '\n' || line[e - 1] == '\r'))
        e--;
    path->ptr = line + i;
    path->len = e - i;
    return 0;
}

int oomkit__parse_smaps_rollup(const char *s, size_t len, oomkit_mem_smaps_fields *out)
{
    oomkit__smaps_fields_clear(out);
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(s + i, '\n', len - i);
        size_t eol = nl ? (size_t)(nl - s) : len;
        oomkit__parse_smaps_key(s + i, eol - i, out);
        i = eol + 1;
    }
    return out->rss_bytes == OOMKIT_MEM_ABSENT ? -EINVAL : 0;
}
