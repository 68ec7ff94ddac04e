/* oomkit mem: typed readers for /proc and cgroup (v1, v2, hybrid) memory
 * files, and a classification of a process's mappings into categories.
 *
 * Layering: every file read goes through one small seam (src/mem/mem_sys.c)
 * that prefixes the context's root, so tests point the readers at a fixture
 * tree (tests/fixtures/proc, tests/fixtures/cgroup) instead of "/". The
 * parsers (src/mem/parse_*.c) turn kernel text into the structs below; the
 * readers glue the two. The watchdog and the `inspect` and `top` commands
 * are built on these readers only.
 *
 * Units: every size is in bytes (kB and page counts are converted), every
 * time in microseconds or clock ticks as the name says.
 *
 * Absent values: a field the kernel did not report (older kernel, other
 * cgroup version, file missing) is OOMKIT_MEM_ABSENT, never 0. Unknown keys
 * in key/value files are ignored. A limit of "max", or any limit at or
 * above OOMKIT_MEM_HUGE_LIMIT_BYTES (cgroup v1 reports "unlimited" as
 * 9223372036854771712), is OOMKIT_MEM_NO_LIMIT. oomkit_mem_has() and
 * oomkit_mem_is_limited() test these markers.
 *
 * Errors: 0, or a negative errno code (oomkit_strerror names it).
 * -ESRCH     the process does not exist (or exited while it was read);
 * -ENOENT    a file or cgroup does not exist (a cgroup removed mid-read);
 * -EACCES    permission denied: oomkit_mem_ctx_last_path() names the file;
 * -EINVAL    bad arguments, or file content that is not the expected format;
 * -ENOMEM    allocation failure;
 * -ENAMETOOLONG a path does not fit OOMKIT_MEM_PATH_MAX.
 * On failure the out-parameter holds no meaningful value unless the
 * function says otherwise.
 *
 * Derived figures (exact definitions, as cAdvisor and the kubelet compute
 * them; see docs/architecture.md "## mem"):
 *   working_set = usage - inactive_file, clamped at 0, where usage is
 *                 memory.usage_in_bytes (v1) / memory.current (v2) and
 *                 inactive_file is total_inactive_file (v1) / inactive_file
 *                 (v2) from memory.stat. Absent if usage is absent; equal to
 *                 usage if inactive_file is absent.
 *   rss         = total_rss (v1; rss if total_rss is absent) / anon (v2).
 *   cache       = total_cache (v1; cache if absent) / file (v2).
 *   headroom    = limit - working_set, clamped at 0; OOMKIT_MEM_NO_LIMIT if
 *                 there is no limit; absent if the working set is absent.
 *   oom_kills   = oom_kill from memory.oom_control (v1, kernel >= 4.13) /
 *                 memory.events (v2).
 */
#ifndef OOMKIT_MEM_H
#define OOMKIT_MEM_H

#include "oomkit/common.h"

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* Markers and limits                                                  */

/* A value the kernel did not report. */
#define OOMKIT_MEM_ABSENT UINT64_MAX
/* A limit that is "max" / unlimited. Distinct from OOMKIT_MEM_ABSENT. */
#define OOMKIT_MEM_NO_LIMIT (UINT64_MAX - 1)
/* Limits at or above 2^62 bytes (4 EiB) are "no limit": v1 writes
 * PAGE_COUNTER_MAX * PAGE_SIZE (about 2^63) for an unlimited cgroup. */
#define OOMKIT_MEM_HUGE_LIMIT_BYTES (UINT64_C(1) << 62)
/* Longest path the readers build or return, NUL included. */
#define OOMKIT_MEM_PATH_MAX 4096

/* True if v is a reported value (neither absent nor the no-limit marker).
 * Thread safety: pure, any thread. */
static inline int oomkit_mem_has(uint64_t v)
{
    return v != OOMKIT_MEM_ABSENT && v != OOMKIT_MEM_NO_LIMIT;
}
/* True if a limit value is a real, finite limit. Thread safety: pure. */
static inline int oomkit_mem_is_limited(uint64_t limit)
{
    return oomkit_mem_has(limit);
}

/* ------------------------------------------------------------------ */
/* Context                                                             */

/* A reading context: the root every path is resolved under, a reusable
 * read buffer, and the path of the last file that failed. One context per
 * thread; it allocates only when a read needs a bigger buffer. */
typedef struct oomkit_mem_ctx oomkit_mem_ctx;

typedef struct oomkit_mem_options {
    /* Directory that stands for "/": every /proc and /sys path is read
     * under it. NULL or "" or "/" reads the live system. Tests pass a
     * fixture tree. Copied; the caller keeps ownership. */
    const char *root;
    /* Initial read buffer size in bytes (a hint; 0 for the default of
     * 256 KiB, at most 64 MiB). The buffer grows when a file (or a smaps
     * chunk) needs it. */
    size_t buffer_bytes;
} oomkit_mem_options;

/* Creates a context. opts may be NULL (live system, defaults). A root that
 * does not exist or is not a directory fails here (-ENOENT, -ENOTDIR). On
 * success *out is owned by the caller until oomkit_mem_ctx_close.
 * Thread safety: any thread. */
int oomkit_mem_ctx_open(const oomkit_mem_options *opts, oomkit_mem_ctx **out);

/* Frees a context and its buffers; NULL is a no-op. Thread safety: the
 * context must not be in use by another thread. */
void oomkit_mem_ctx_close(oomkit_mem_ctx *ctx);

/* The path (as seen by the target system, without the root prefix) of the
 * last file whose open or read failed, or whose content could not be
 * parsed, in this context, "" if none. Owned by ctx; valid until the next
 * call that uses ctx.
 * Thread safety: same thread as the context's other calls. */
const char *oomkit_mem_ctx_last_path(const oomkit_mem_ctx *ctx);

/* The root this context reads under ("/" for the live system). Owned by
 * ctx, valid until close. Thread safety: as above. */
const char *oomkit_mem_ctx_root(const oomkit_mem_ctx *ctx);

/* ------------------------------------------------------------------ */
/* Process readers                                                     */

/* /proc/PID/status (sizes from "kB" lines). */
typedef struct oomkit_mem_status {
    char name[64];           /* Name:, NUL-terminated, truncated to fit */
    char state;              /* State: first letter (R S D Z T t X I), 0 absent */
    int64_t tgid, pid, ppid; /* -1 absent */
    uint64_t uid_real;       /* Uid: first field */
    uint64_t threads;        /* Threads: */
    uint64_t vm_peak_bytes, vm_size_bytes, vm_lck_bytes, vm_pin_bytes;
    uint64_t vm_hwm_bytes, vm_rss_bytes;
    uint64_t rss_anon_bytes, rss_file_bytes, rss_shmem_bytes; /* 4.5+ */
    uint64_t vm_data_bytes, vm_stk_bytes, vm_exe_bytes, vm_lib_bytes;
    uint64_t vm_pte_bytes, vm_swap_bytes;
    uint64_t huge_tlb_pages_bytes;
} oomkit_mem_status;

/* Reads /proc/PID/status. -ESRCH if the process does not exist.
 * Thread safety: one thread per ctx. */
int oomkit_mem_status_read(oomkit_mem_ctx *ctx, pid_t pid, oomkit_mem_status *out);

/* /proc/PID/statm, converted from pages to bytes with the page size. */
typedef struct oomkit_mem_statm {
    uint64_t size_bytes, resident_bytes, shared_bytes, text_bytes, data_bytes;
} oomkit_mem_statm;

/* Reads /proc/PID/statm. Thread safety: one thread per ctx. */
int oomkit_mem_statm_read(oomkit_mem_ctx *ctx, pid_t pid, oomkit_mem_statm *out);

/* /proc/PID/stat and /proc/PID/task/TID/stat (the fields oomkit uses). */
typedef struct oomkit_mem_pstat {
    int64_t pid;
    char comm[64];       /* between the outer parentheses, truncated */
    char state;
    int64_t ppid;
    uint64_t minflt, majflt;
    uint64_t utime_ticks, stime_ticks;
    int64_t num_threads;
    uint64_t starttime_ticks;
    uint64_t vsize_bytes;
    uint64_t rss_bytes;  /* rss pages * page size */
    uint64_t kstkesp;    /* 0 unless the task is dumping core (kernel 4.x+) */
    uint64_t kstkeip;
} oomkit_mem_pstat;

/* Reads /proc/PID/stat (tid <= 0) or /proc/PID/task/TID/stat.
 * Thread safety: one thread per ctx. */
int oomkit_mem_pstat_read(oomkit_mem_ctx *ctx, pid_t pid, pid_t tid,
                          oomkit_mem_pstat *out);

/* Fields of one smaps entry or of smaps_rollup. Absent keys are
 * OOMKIT_MEM_ABSENT (e.g. Pss_Anon outside smaps_rollup, Pss_Dirty before
 * 6.0). */
typedef struct oomkit_mem_smaps_fields {
    uint64_t size_bytes, kernel_page_size_bytes, mmu_page_size_bytes;
    uint64_t rss_bytes, pss_bytes, pss_dirty_bytes;
    uint64_t pss_anon_bytes, pss_file_bytes, pss_shmem_bytes; /* rollup */
    uint64_t shared_clean_bytes, shared_dirty_bytes;
    uint64_t private_clean_bytes, private_dirty_bytes;
    uint64_t referenced_bytes, anonymous_bytes, ksm_bytes, lazyfree_bytes;
    uint64_t anon_huge_pages_bytes, shmem_pmd_mapped_bytes, file_pmd_mapped_bytes;
    uint64_t shared_hugetlb_bytes, private_hugetlb_bytes;
    uint64_t swap_bytes, swap_pss_bytes, locked_bytes;
} oomkit_mem_smaps_fields;

/* Reads /proc/PID/smaps_rollup (kernel 4.14+). -ENOENT if the kernel has
 * none. A zombie or kernel thread (no address space) gives 0 with every
 * field absent. Thread safety: one thread per ctx. */
int oomkit_mem_smaps_rollup_read(oomkit_mem_ctx *ctx, pid_t pid,
                                 oomkit_mem_smaps_fields *out);

/* Mapping categories. */
typedef enum oomkit_mem_category {
    OOMKIT_MEM_CAT_HEAP = 0,  /* [heap] and glibc malloc arenas */
    OOMKIT_MEM_CAT_STACKS,    /* [stack], each thread's stack and its guard */
    OOMKIT_MEM_CAT_ANON_MMAP, /* other private anonymous mappings */
    OOMKIT_MEM_CAT_FILE,      /* file-backed code and data */
    OOMKIT_MEM_CAT_SHMEM,     /* /dev/shm, memfd:, SYSV, shared anonymous */
    OOMKIT_MEM_CAT_OTHER,     /* [vdso], [vvar], [vsyscall] and the like */
    OOMKIT_MEM_CAT_COUNT
} oomkit_mem_category;

/* Short lower-case name of a category ("heap", "stacks", "anon_mmap",
 * "file", "shmem", "other"); "?" if out of range. Static storage.
 * Thread safety: any thread. */
const char *oomkit_mem_category_name(oomkit_mem_category cat);

/* One mapping from /proc/PID/maps or smaps. */
typedef struct oomkit_mem_mapping {
    uint64_t start, end;     /* [start, end) virtual addresses */
    uint64_t offset;         /* file offset */
    uint64_t inode;
    uint32_t dev_major, dev_minor;
    char perms[5];           /* "rw-p", NUL-terminated */
    uint8_t category;        /* oomkit_mem_category, set by classify */
    /* Path or pseudo-name ("[heap]", "/memfd:x (deleted)"); len 0 for an
     * anonymous mapping. Borrowed from the maps object; valid until
     * oomkit_mem_maps_free. Not NUL-terminated. */
    oomkit_str path;
    /* smaps fields; all OOMKIT_MEM_ABSENT when read from maps. */
    oomkit_mem_smaps_fields f;
} oomkit_mem_mapping;

/* The mappings of one process; opaque, owns its entries and names. */
typedef struct oomkit_mem_maps oomkit_mem_maps;

enum {
    OOMKIT_MEM_MAPS_PLAIN = 0, /* read /proc/PID/maps: addresses only */
    OOMKIT_MEM_MAPS_SMAPS = 1, /* read /proc/PID/smaps: sizes too */
};

/* Reads all mappings of pid. flags: OOMKIT_MEM_MAPS_PLAIN or _SMAPS.
 * -ESRCH if the process is gone or a zombie after the read (a process that
 * exits mid-read leaves a partial file, never returned as a success). On
 * success *out is owned by the caller until oomkit_mem_maps_free. Every
 * mapping's category is OOMKIT_MEM_CAT_OTHER until classified.
 * Thread safety: one thread per ctx; the result may be read from any
 * thread once returned. */
int oomkit_mem_maps_read(oomkit_mem_ctx *ctx, pid_t pid, unsigned flags,
                         oomkit_mem_maps **out);

/* Number of mappings, and the i-th in address order (NULL if out of
 * range). The pointer is owned by maps and valid until
 * oomkit_mem_maps_free. Thread safety: read-only, any thread. */
size_t oomkit_mem_maps_count(const oomkit_mem_maps *maps);
const oomkit_mem_mapping *oomkit_mem_maps_get(const oomkit_mem_maps *maps, size_t i);

/* Frees maps; NULL is a no-op. Thread safety: not while others read it. */
void oomkit_mem_maps_free(oomkit_mem_maps *maps);

/* Thread ids of pid from /proc/PID/task. Writes up to cap ids to tids
 * (which may be NULL when cap is 0) and the total count to *count; the
 * caller retries with a bigger buffer if *count > cap.
 * Thread safety: one thread per ctx. */
int oomkit_mem_threads_list(oomkit_mem_ctx *ctx, pid_t pid, pid_t *tids,
                            size_t cap, size_t *count);

/* A thread's user stack pointer: the second-to-last field of
 * /proc/PID/task/TID/syscall (needs ptrace access), or else kstkesp from
 * its stat file when non-zero. -EINVAL for a NULL ctx or sp or pid <= 0;
 * -ESRCH if the process is gone; -ENODATA if neither file gives one (for
 * example the thread is running, so syscall says "running", or a file
 * cannot be read).
 * Thread safety: one thread per ctx. */
int oomkit_mem_thread_sp(oomkit_mem_ctx *ctx, pid_t pid, pid_t tid, uint64_t *sp);

/* Per-category sums. */
typedef struct oomkit_mem_cat_totals {
    uint64_t size_bytes;   /* virtual size */
    uint64_t rss_bytes, pss_bytes, swap_bytes; /* 0 when read from maps */
    uint64_t mappings;     /* number of mappings */
} oomkit_mem_cat_totals;

typedef struct oomkit_mem_breakdown {
    oomkit_mem_cat_totals cat[OOMKIT_MEM_CAT_COUNT];
    oomkit_mem_cat_totals total;
    uint64_t stacks_by_sp;    /* thread stacks found from a stack pointer */
    uint64_t stacks_by_guard; /* found by the guard-page shape instead */
    uint64_t arenas;          /* glibc arena heaps recognised */
} oomkit_mem_breakdown;

/* Classifies every mapping of maps (sets mapping->category) and sums the
 * categories into *out. sps holds the known thread stack pointers (may be
 * NULL when n_sps is 0); a mapping holding one is a stack. When
 * guess_stacks is non-zero, an anonymous rw mapping directly above a
 * PROT_NONE guard that holds no known stack pointer is also taken as a
 * thread stack (for threads whose pointer could not be read). Rules, in
 * order: [heap] -> heap; [stack] or holds a stack pointer -> stacks (and
 * its guard just below); /dev/shm/, /memfd:, /SYSV, or a shared anonymous
 * mapping -> shmem; [vdso] [vvar] [vsyscall] and other [..] -> other; a
 * path -> file; anonymous, 64 MiB-aligned and either exactly 64 MiB or
 * followed by its ---p remainder up to the 64 MiB boundary -> heap (glibc
 * arena, HEAP_MAX_SIZE on 64-bit); other anonymous -> anon_mmap.
 * Thread safety: maps must not be read by others meanwhile. */
int oomkit_mem_classify(oomkit_mem_maps *maps, const uint64_t *sps, size_t n_sps,
                        int guess_stacks, oomkit_mem_breakdown *out);

/* Convenience: reads smaps and the thread stack pointers of pid and
 * classifies. On success *maps_out (if not NULL) receives the maps, owned
 * by the caller; *threads_out (if not NULL) the thread count.
 * Thread safety: one thread per ctx. */
int oomkit_mem_breakdown_read(oomkit_mem_ctx *ctx, pid_t pid,
                              oomkit_mem_breakdown *out,
                              oomkit_mem_maps **maps_out, uint64_t *threads_out);

/* Process ids from /proc, as for threads_list. Thread safety: one thread
 * per ctx. */
int oomkit_mem_pids_list(oomkit_mem_ctx *ctx, pid_t *pids, size_t cap, size_t *count);

/* ------------------------------------------------------------------ */
/* System readers                                                      */

/* /proc/meminfo, kB lines in bytes; HugePages_* are counts. */
typedef struct oomkit_mem_meminfo {
    uint64_t mem_total_bytes, mem_free_bytes, mem_available_bytes;
    uint64_t buffers_bytes, cached_bytes, swap_cached_bytes;
    uint64_t active_bytes, inactive_bytes;
    uint64_t active_anon_bytes, inactive_anon_bytes;
    uint64_t active_file_bytes, inactive_file_bytes;
    uint64_t unevictable_bytes, mlocked_bytes;
    uint64_t swap_total_bytes, swap_free_bytes;
    uint64_t dirty_bytes, writeback_bytes;
    uint64_t anon_pages_bytes, mapped_bytes, shmem_bytes;
    uint64_t kreclaimable_bytes, slab_bytes, sreclaimable_bytes, sunreclaim_bytes;
    uint64_t kernel_stack_bytes, page_tables_bytes;
    uint64_t commit_limit_bytes, committed_as_bytes;
    uint64_t anon_huge_pages_bytes;
    uint64_t huge_pages_total, huge_pages_free, hugepagesize_bytes;
} oomkit_mem_meminfo;

/* Reads /proc/meminfo. Thread safety: one thread per ctx. */
int oomkit_mem_meminfo_read(oomkit_mem_ctx *ctx, oomkit_mem_meminfo *out);

/* One PSI line ("some" or "full"). */
typedef struct oomkit_mem_psi_line {
    int present;                          /* 0 if the line was missing */
    double avg10_pct, avg60_pct, avg300_pct;
    uint64_t total_us;
} oomkit_mem_psi_line;

typedef struct oomkit_mem_psi {
    oomkit_mem_psi_line some, full;
} oomkit_mem_psi;

/* Reads /proc/pressure/memory. -ENOENT without PSI (kernel < 4.20 or
 * psi=0); -EOPNOTSUPP where the file exists but PSI is disabled.
 * Thread safety: one thread per ctx. */
int oomkit_mem_psi_read(oomkit_mem_ctx *ctx, oomkit_mem_psi *out);

/* ------------------------------------------------------------------ */
/* Cgroups                                                             */

typedef enum oomkit_mem_cgroup_mode {
    OOMKIT_MEM_CGROUP_MODE_NONE = 0,   /* no memory cgroup found */
    OOMKIT_MEM_CGROUP_MODE_LEGACY,     /* v1 only */
    OOMKIT_MEM_CGROUP_MODE_HYBRID,     /* v1 controllers and a cgroup2 mount */
    OOMKIT_MEM_CGROUP_MODE_UNIFIED,    /* v2 only */
} oomkit_mem_cgroup_mode;

/* Where the hierarchies are mounted (paths as seen by the target system,
 * without the context root). Empty string: not mounted. */
typedef struct oomkit_mem_cgroup_layout {
    oomkit_mem_cgroup_mode mode;
    /* Which hierarchy holds the memory controller: 1, 2, or 0 if none. */
    int memory_version;
    char v1_memory_mount[OOMKIT_MEM_PATH_MAX];
    char v2_mount[OOMKIT_MEM_PATH_MAX];
    int v2_has_memory;       /* "memory" listed in cgroup.controllers */
    /* The hierarchy path each mount shows at its mount point (mountinfo's
     * 4th field; "/" normally, a sub-path inside a container). A cgroup
     * path from /proc/PID/cgroup is made relative to it. */
    char v1_memory_root[OOMKIT_MEM_PATH_MAX];
    char v2_root[OOMKIT_MEM_PATH_MAX];
} oomkit_mem_cgroup_layout;

/* Detects the mounts from /proc/self/mountinfo (the reading process's
 * view). Thread safety: one thread per ctx. */
int oomkit_mem_cgroup_detect(oomkit_mem_ctx *ctx, oomkit_mem_cgroup_layout *out);

/* A memory cgroup. */
typedef struct oomkit_mem_cgroup_ref {
    int version;                       /* 1 or 2 */
    char path[OOMKIT_MEM_PATH_MAX];    /* in the hierarchy, e.g. "/kubepods/pod1" */
    char dir[OOMKIT_MEM_PATH_MAX];     /* directory, e.g. "/sys/fs/cgroup/memory/kubepods/pod1" */
} oomkit_mem_cgroup_ref;

/* Finds pid's memory cgroup from /proc/PID/cgroup and the layout (NULL:
 * detect it here). v1 "N:...memory...:/path" lines win when the v1 memory
 * controller is mounted; otherwise the "0::/path" line under the v2 mount.
 * -ENOENT if pid has no memory cgroup. Thread safety: one thread per ctx. */
int oomkit_mem_cgroup_of_pid(oomkit_mem_ctx *ctx, pid_t pid,
                             const oomkit_mem_cgroup_layout *layout,
                             oomkit_mem_cgroup_ref *out);

/* A ref for a cgroup named either way a user writes one: a directory
 * ("/sys/fs/cgroup/memory/kubepods") or a path inside the memory
 * hierarchy ("/kubepods", as /proc/PID/cgroup and `oomkit top` print it),
 * looked for under the memory controller's mount of layout. -ENOENT if
 * neither is a memory cgroup.
 * Thread safety: one thread per ctx. */
int oomkit_mem_cgroup_ref_resolve(oomkit_mem_ctx *ctx, const oomkit_mem_cgroup_layout *layout,
                                  const char *path, oomkit_mem_cgroup_ref *out);

/* Builds a ref for a cgroup directory (target-system path), detecting the
 * version from its files (memory.current: 2; memory.usage_in_bytes: 1).
 * path is set to dir. -ENOENT if dir has neither.
 * Thread safety: one thread per ctx. */
int oomkit_mem_cgroup_ref_from_dir(oomkit_mem_ctx *ctx, const char *dir,
                                   oomkit_mem_cgroup_ref *out);

/* Memory figures of one cgroup. Fields the version does not have are
 * OOMKIT_MEM_ABSENT. */
typedef struct oomkit_mem_cgroup_stats {
    int version;
    /* Counters files. */
    uint64_t usage_bytes;      /* v1 memory.usage_in_bytes / v2 memory.current */
    uint64_t limit_bytes;      /* v1 memory.limit_in_bytes / v2 memory.max; NO_LIMIT */
    uint64_t high_bytes;       /* v2 memory.high; NO_LIMIT; absent on v1 */
    uint64_t max_usage_bytes;  /* v1 memory.max_usage_in_bytes / v2 memory.peak (5.19+) */
    uint64_t failcnt;          /* v1 memory.failcnt */
    uint64_t swap_bytes;       /* v2 memory.swap.current / v1 stat total_swap */
    /* memory.stat (v1: total_* when present, else the flat key). */
    uint64_t anon_bytes;           /* v2 anon / v1 rss */
    uint64_t file_bytes;           /* v2 file / v1 cache */
    uint64_t shmem_bytes;
    uint64_t file_mapped_bytes;    /* v2 file_mapped / v1 mapped_file */
    uint64_t file_dirty_bytes, file_writeback_bytes;
    uint64_t active_anon_bytes, inactive_anon_bytes;
    uint64_t active_file_bytes, inactive_file_bytes;
    uint64_t unevictable_bytes;
    uint64_t kernel_bytes, slab_reclaimable_bytes, slab_unreclaimable_bytes; /* v2 */
    uint64_t pgfault, pgmajfault;
    uint64_t hierarchical_limit_bytes; /* v1 hierarchical_memory_limit; NO_LIMIT */
    /* Events. */
    uint64_t events_low, events_high, events_max, events_oom; /* v2 memory.events */
    uint64_t oom_kill;         /* v1 oom_control oom_kill / v2 events oom_kill */
    uint64_t oom_group_kill;   /* v2 */
    int oom_kill_disable;      /* v1 oom_control; -1 absent */
    int under_oom;             /* v1 oom_control; -1 absent */
    /* Pressure: v2 memory.pressure (psi_present 0 elsewhere). */
    int psi_present;
    oomkit_mem_psi psi;
    /* Derived (see the top of this file). */
    uint64_t working_set_bytes;
    uint64_t rss_bytes;        /* = anon_bytes */
    uint64_t cache_bytes;      /* = file_bytes */
    uint64_t headroom_bytes;
} oomkit_mem_cgroup_stats;

/* Reads every file of ref's cgroup (missing optional files leave their
 * fields absent) and fills the derived figures. -ENOENT if the cgroup
 * vanished (its usage file is gone). Thread safety: one thread per ctx. */
int oomkit_mem_cgroup_read(oomkit_mem_ctx *ctx, const oomkit_mem_cgroup_ref *ref,
                           oomkit_mem_cgroup_stats *out);

/* Computes working_set, rss, cache and headroom from the raw fields of s
 * (as described at the top). Pure. Thread safety: any thread. */
void oomkit_mem_cgroup_derive(oomkit_mem_cgroup_stats *s);

/* Calls fn for dir and every cgroup directory below it, depth first,
 * parents before children. fn gets the directory (target-system path,
 * NUL-terminated, borrowed for the call) and arg; a non-zero return stops
 * the walk and is returned. Directories that vanish meanwhile are skipped.
 * Thread safety: one thread per ctx; fn may use ctx. */
int oomkit_mem_cgroup_walk(oomkit_mem_ctx *ctx, const char *dir,
                           int (*fn)(const char *dir, void *arg), void *arg);

#ifdef __cplusplus
}
#endif
#endif
