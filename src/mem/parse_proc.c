/* Parsers for per-process and system /proc files: status, statm, stat,
 * syscall, meminfo and pressure/memory.
 *
 * Formats follow Documentation/filesystems/proc.rst and
 * Documentation/accounting/psi.rst. Key/value files go through a key table
 * (unknown keys ignored, missing keys left absent); positional files are
 * walked field by field. Pure functions: no allocation, no I/O. */
#include "mem/mem_internal.h"

#include <stddef.h>

#define KB(str, field) OOMKIT__KV(str, OOMKIT__KV_KB, oomkit_mem_status, field)
#define CNT(str, field) OOMKIT__KV(str, OOMKIT__KV_COUNT, oomkit_mem_status, field)
static const struct oomkit__kv_key status_keys[] = {
    CNT("Threads", threads),
    KB("VmPeak", vm_peak_bytes), KB("VmSize", vm_size_bytes),
    KB("VmLck", vm_lck_bytes), KB("VmPin", vm_pin_bytes),
    KB("VmHWM", vm_hwm_bytes), KB("VmRSS", vm_rss_bytes),
    KB("RssAnon", rss_anon_bytes), KB("RssFile", rss_file_bytes),
    KB("RssShmem", rss_shmem_bytes), KB("VmData", vm_data_bytes),
    KB("VmStk", vm_stk_bytes), KB("VmExe", vm_exe_bytes),
    KB("VmLib", vm_lib_bytes), KB("VmPTE", vm_pte_bytes),
    KB("VmSwap", vm_swap_bytes), KB("HugetlbPages", huge_tlb_pages_bytes),
    CNT("Uid", uid_real),
};
#undef KB
#undef CNT

/* Finds "key:" at the start of a line; returns the index after the colon
 * or len if absent. */
static size_t find_line_key(const char *s, size_t len, const char *key, size_t klen)
{
    size_t i = 0;
    while (i < len) {
        if (len - i > klen && memcmp(s + i, key, klen) == 0 && s[i + klen] == ':')
            return i + klen + 1;
        while (i < len && s[i] != '\n')
            i++;
        i++;
    }
    return len;
}

int oomkit__parse_status(const char *s, size_t len, oomkit_mem_status *out)
{
    memset(out, 0xff, sizeof *out); /* every uint64_t becomes ABSENT */
    out->name[0] = '\0';
    out->state = 0;
    out->tgid = out->pid = out->ppid = -1;
    oomkit__parse_kv(s, len, ':', status_keys,
                     sizeof status_keys / sizeof status_keys[0], out);

    size_t i = find_line_key(s, len, "Name", 4);
    if (i < len) {
        while (i < len && (s[i] == '\t' || s[i] == ' '))
            i++;
        size_t n = 0;
        /* The kernel escapes '\n' and '\\' in the name, so a line ends it. */
        while (i < len && s[i] != '\n' && n + 1 < sizeof out->name)
            out->name[n++] = s[i++];
        out->name[n] = '\0';
    }
    i = find_line_key(s, len, "State", 5);
    if (i < len) {
        while (i < len && (s[i] == '\t' || s[i] == ' '))
            i++;
        if (i < len && s[i] >= 'A' && s[i] <= 'z')
            out->state = s[i];
    }
    static const char *const ids[] = { "Tgid", "Pid", "PPid" };
    int64_t *dst[] = { &out->tgid, &out->pid, &out->ppid };
    for (int k = 0; k < 3; k++) {
        i = find_line_key(s, len, ids[k], strlen(ids[k]));
        int64_t v;
        if (i < len && oomkit__parse_i64(s, len, &i, &v) == 0)
            *dst[k] = v;
    }
    /* A status file without Name or State is not a status file. */
    return (out->name[0] || out->state) ? 0 : -EINVAL;
}

int oomkit__parse_statm(const char *s, size_t len, uint64_t page_size,
                        oomkit_mem_statm *out)
{
    uint64_t v[7];
    size_t i = 0;
    for (int k = 0; k < 7; k++) {
        if (oomkit__parse_u64(s, len, &i, &v[k]) < 0)
            return -EINVAL;
    }
    out->size_bytes = oomkit__mul_sat(v[0], page_size);
    out->resident_bytes = oomkit__mul_sat(v[1], page_size);
    out->shared_bytes = oomkit__mul_sat(v[2], page_size);
    out->text_bytes = oomkit__mul_sat(v[3], page_size);
    /* v[4] (lib) is always 0 since Linux 2.6; v[5] is data + stack. */
    out->data_bytes = oomkit__mul_sat(v[5], page_size);
    return 0;
}

int oomkit__parse_pstat(const char *s, size_t len, uint64_t page_size,
                        oomkit_mem_pstat *out)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    if (oomkit__parse_i64(s, len, &i, &out->pid) < 0)
        return -EINVAL;
    /* comm may contain spaces and ')' itself: it ends at the last ')'. */
    size_t open = i;
    while (open < len && s[open] != '(')
        open++;
    size_t close = len;
    while (close > open && s[close - 1] != ')')
        close--;
    if (open >= len || close <= open + 1)
        return -EINVAL;
    close--; /* index of the last ')' */
    size_t n = close - open - 1;
    if (n >= sizeof out->comm)
        n = sizeof out->comm - 1;
    memcpy(out->comm, s + open + 1, n);
    out->comm[n] = '\0';
    i = close + 1;
    while (i < len && s[i] == ' ')
        i++;
    if (i >= len)
        return -EINVAL;
    out->state = s[i++];
    /* Fields 4.. by number (proc(5)); collect up to field 30. Most are
     * unsigned, a few (ppid, rss, num_threads) signed. */
    uint64_t f[31];
    int64_t sf[31];
    memset(f, 0, sizeof f);
    memset(sf, 0, sizeof sf);
    int got = 3;
    for (int k = 4; k <= 30; k++) {
        while (i < len && s[i] == ' ')
            i++;
        if (i < len && s[i] == '-') {
            if (oomkit__parse_i64(s, len, &i, &sf[k]) < 0)
                break;
            f[k] = (uint64_t)sf[k];
        } else {
            if (oomkit__parse_u64(s, len, &i, &f[k]) < 0)
                break;
            sf[k] = f[k] > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)f[k];
        }
        got = k;
    }
    if (got < 24)
        return -EINVAL;
    out->ppid = sf[4];
    out->minflt = f[10];
    out->majflt = f[12];
    out->utime_ticks = f[14];
    out->stime_ticks = f[15];
    out->num_threads = sf[20];
    out->starttime_ticks = f[22];
    out->vsize_bytes = f[23];
    out->rss_bytes = sf[24] > 0 ? oomkit__mul_sat((uint64_t)sf[24], page_size) : 0;
    out->kstkesp = got >= 29 ? f[29] : OOMKIT_MEM_ABSENT;
    out->kstkeip = got >= 30 ? f[30] : OOMKIT_MEM_ABSENT;
    return 0;
}

#define MKB(str, field) OOMKIT__KV(str, OOMKIT__KV_KB, oomkit_mem_meminfo, field)
#define MCNT(str, field) OOMKIT__KV(str, OOMKIT__KV_COUNT, oomkit_mem_meminfo, field)
static const struct oomkit__kv_key meminfo_keys[] = {
    MKB("MemTotal", mem_total_bytes), MKB("MemFree", mem_free_bytes),
    MKB("MemAvailable", mem_available_bytes), MKB("Buffers", buffers_bytes),
    MKB("Cached", cached_bytes), MKB("SwapCached", swap_cached_bytes),
    MKB("Active", active_bytes), MKB("Inactive", inactive_bytes),
    MKB("Active(anon)", active_anon_bytes), MKB("Inactive(anon)", inactive_anon_bytes),
    MKB("Active(file)", active_file_bytes), MKB("Inactive(file)", inactive_file_bytes),
    MKB("Unevictable", unevictable_bytes), MKB("Mlocked", mlocked_bytes),
    MKB("SwapTotal", swap_total_bytes), MKB("SwapFree", swap_free_bytes),
    MKB("Dirty", dirty_bytes), MKB("Writeback", writeback_bytes),
    MKB("AnonPages", anon_pages_bytes), MKB("Mapped", mapped_bytes),
    MKB("Shmem", shmem_bytes), MKB("KReclaimable", kreclaimable_bytes),
    MKB("Slab", slab_bytes), MKB("SReclaimable", sreclaimable_bytes),
    MKB("SUnreclaim", sunreclaim_bytes), MKB("KernelStack", kernel_stack_bytes),
    MKB("PageTables", page_tables_bytes), MKB("CommitLimit", commit_limit_bytes),
    MKB("Committed_AS", committed_as_bytes), MKB("AnonHugePages", anon_huge_pages_bytes),
    MCNT("HugePages_Total", huge_pages_total), MCNT("HugePages_Free", huge_pages_free),
    MKB("Hugepagesize", hugepagesize_bytes),
};

int oomkit__parse_meminfo(const char *s, size_t len, oomkit_mem_meminfo *out)
{
    memset(out, 0xff, sizeof *out);
    oomkit__parse_kv(s, len, ':', meminfo_keys,
                     sizeof meminfo_keys / sizeof meminfo_keys[0], out);
    return out->mem_total_bytes == OOMKIT_MEM_ABSENT ? -EINVAL : 0;
}

/* Parses a decimal like "12.34" (PSI averages); -EINVAL without digits. */
static int parse_decimal(const char *s, size_t len, size_t *i, double *out)
{
    uint64_t ip;
    if (oomkit__parse_u64(s, len, i, &ip) < 0)
        return -EINVAL;
    double v = (double)ip, scale = 0.1;
    if (*i < len && s[*i] == '.') {
        (*i)++;
        while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
            v += (s[*i] - '0') * scale;
            scale /= 10;
            (*i)++;
        }
    }
    *out = v;
    return 0;
}

static int parse_psi_line(const char *s, size_t len, oomkit_mem_psi_line *l)
{
    /* "avg10=0.00 avg60=0.00 avg300=0.00 total=0" in any order. */
    size_t i = 0;
    int seen = 0;
    memset(l, 0, sizeof *l);
    while (i < len) {
        while (i < len && s[i] == ' ')
            i++;
        size_t k = i;
        while (k < len && s[k] != '=' && s[k] != ' ')
            k++;
        if (k >= len || s[k] != '=')
            break;
        size_t j = k + 1;
        if (k - i == 5 && memcmp(s + i, "total", 5) == 0) {
            if (oomkit__parse_u64(s, len, &j, &l->total_us) == 0)
                seen |= 8;
        } else {
            double v;
            if (parse_decimal(s, len, &j, &v) == 0) {
                if (k - i == 5 && memcmp(s + i, "avg10", 5) == 0) {
                    l->avg10_pct = v;
                    seen |= 1;
                } else if (k - i == 5 && memcmp(s + i, "avg60", 5) == 0) {
                    l->avg60_pct = v;
                    seen |= 2;
                } else if (k - i == 6 && memcmp(s + i, "avg300", 6) == 0) {
                    l->avg300_pct = v;
                    seen |= 4;
                }
            }
        }
        while (j < len && s[j] != ' ')
            j++;
        i = j;
    }
    l->present = seen == 15;
    return l->present ? 0 : -EINVAL;
}

int oomkit__parse_psi(const char *s, size_t len, oomkit_mem_psi *out)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    while (i < len) {
        size_t eol = i;
        while (eol < len && s[eol] != '\n')
            eol++;
        if (eol - i > 5 && memcmp(s + i, "some ", 5) == 0)
            parse_psi_line(s + i + 5, eol - i - 5, &out->some);
        else if (eol - i > 5 && memcmp(s + i, "full ", 5) == 0)
            parse_psi_line(s + i + 5, eol - i - 5, &out->full);
        i = eol + 1;
    }
    return out->some.present ? 0 : -EINVAL;
}

int oomkit__parse_syscall_sp(const char *s, size_t len, uint64_t *sp)
{
    /* "nr a1 a2 a3 a4 a5 a6 sp pc" in a syscall, "-1 sp pc" when blocked
     * outside one, "running" otherwise. sp and pc are 0x-prefixed hex. */
    uint64_t vals[10];
    size_t n = 0, i = 0;
    while (i < len && n < 10) {
        while (i < len && (s[i] == ' ' || s[i] == '\n'))
            i++;
        if (i >= len)
            break;
        if (len - i >= 2 && s[i] == '0' && s[i + 1] == 'x') {
            i += 2;
            if (oomkit__parse_hex(s, len, &i, &vals[n]) < 0)
                return -EINVAL;
        } else {
            int64_t v;
            if (oomkit__parse_i64(s, len, &i, &v) < 0)
                return -ENODATA; /* "running" */
            vals[n] = (uint64_t)v;
        }
        n++;
        if (i < len && s[i] != ' ' && s[i] != '\n')
            return -EINVAL;
    }
    if (n != 3 && n != 9)
        return -ENODATA;
    if (vals[n - 2] == 0)
        return -ENODATA;
    *sp = vals[n - 2];
    return 0;
}
