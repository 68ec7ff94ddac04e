/* Internals of liboomkit_prof.so, the LD_PRELOAD heap profiler.
 *
 * Split by concern (heaptrack's record / symbolise / encode):
 *   prof_hooks.c    the interposed malloc family and mmap, the bootstrap
 *                   pool for dlsym, the per-thread sampling counter;
 *   prof_table.c    the stack table (lock-free insert) and the sampled
 *                   pointer set (striped, behind a cache-resident filter);
 *   prof_mmap.c     anonymous mappings, tracked exactly;
 *   prof_unwind.c   stack capture (libunwind or frame pointers);
 *   prof_dump.c     symbolisation with libdw and the pprof profile;
 *   prof_control.c  configuration, the dump thread, signals, fork, exit,
 *                   and the public control API of include/oomkit/prof.h.
 *
 * Everything here is hidden (-fvisibility=hidden) except the interposed
 * libc symbols and oomkit_prof_*, so a process that also links liboomkit
 * never binds to our internal copies of its functions. */
#ifndef OOMKIT_PROF_INTERNAL_H
#define OOMKIT_PROF_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROF_EXPORT __attribute__((visibility("default")))
#define PROF_LIKELY(x) __builtin_expect(!!(x), 1)
#define PROF_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define PROF_TLS __thread __attribute__((tls_model("initial-exec")))

enum { PROF_MAX_FRAMES = 64 };

/* The functions we forward to, resolved with dlsym(RTLD_NEXT). */
struct prof_real {
    void *(*malloc)(size_t);
    void (*free)(void *);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
    void *(*memalign)(size_t, size_t);
    int (*posix_memalign)(void **, size_t, size_t);
    void *(*aligned_alloc)(size_t, size_t);
    void *(*valloc)(size_t);
    void *(*pvalloc)(size_t);
    size_t (*malloc_usable_size)(void *);
    void *(*mmap)(void *, size_t, int, int, int, off_t);
    int (*munmap)(void *, size_t);
    void *(*mremap)(void *, size_t, size_t, int, ...);
};
extern struct prof_real oomkit__prof_real;

/* Settings, fixed after start-up (the dump thread reads them). */
enum { PROF_DUMP_EXIT = 1, PROF_DUMP_SIGNAL = 2, PROF_DUMP_INTERVAL = 4, PROF_DUMP_INUSE = 8 };
enum { PROF_UNWIND_LIBUNWIND = 0, PROF_UNWIND_FP = 1 };
struct prof_config {
    uint64_t sample_bytes; /* mean bytes between samples; 1 = every allocation */
    unsigned dump;         /* PROF_DUMP_* */
    uint64_t interval_ms;
    int signal;
    uint64_t inuse_bytes; /* dump when the in-use estimate first reaches this */
    int unwind;
    bool follow_exec;
    bool lines_all; /* DWARF lines for system libraries too */
    char out[512]; /* output prefix */
};
extern struct prof_config oomkit__prof_cfg;

/* Parses an OOMKIT_PROF value into *cfg (defaults first). Returns 0, or
 * -EINVAL with *bad naming the first bad setting (cfg keeps defaults for
 * it). Pure: used by tests through the CLI as well. */
int oomkit__prof_config_parse(const char *s, struct prof_config *cfg, const char **bad);
void oomkit__prof_config_defaults(struct prof_config *cfg);

/* Per-stack statistics; estimates are already un-sampled. */
enum {
    PROF_V_ALLOC_OBJS, PROF_V_ALLOC_BYTES, PROF_V_INUSE_OBJS, PROF_V_INUSE_BYTES,
    PROF_V_MMAP_ALLOC_OBJS, PROF_V_MMAP_ALLOC_BYTES, PROF_V_MMAP_INUSE_OBJS,
    PROF_V_MMAP_INUSE_BYTES, PROF_NVALUES
};
/* Statistics are sharded by thread (each shard one cache line) so that
 * threads allocating from the same stack do not bounce one line between
 * cores on every allocation; a dump sums the shards. */
enum { PROF_SHARDS = 4 };
struct prof_stack {
    _Atomic uint64_t hash;
    uint32_t nframes;
    uint32_t frames_off; /* index into the frame pool */
    char pad[48];
    _Alignas(64) _Atomic int64_t v[PROF_SHARDS][PROF_NVALUES];
};
_Static_assert(PROF_NVALUES * sizeof(int64_t) == 64, "one shard is one cache line");

/* Adds delta to value k of stack s in the calling thread's shard. */
void oomkit__prof_stack_add(struct prof_stack *s, int k, int64_t delta);
/* Sum of value k over all shards. */
int64_t oomkit__prof_stack_value(struct prof_stack *s, int k);

/* prof_table.c */
int oomkit__prof_table_init(void);
/* Returns the id (>= 1) of the stack, inserting it; 0 when the table is
 * full (the caller attributes the sample to the id-0 overflow stack). */
uint32_t oomkit__prof_stack_intern(const uintptr_t *frames, uint32_t n);
struct prof_stack *oomkit__prof_stack_get(uint32_t id);
const uintptr_t *oomkit__prof_stack_frames(const struct prof_stack *s);
uint32_t oomkit__prof_stack_count(void);
void oomkit__prof_ptr_insert(void *p, uint64_t size, uint32_t stack_id);
/* Removes p if it is tracked; returns true and fills *size and *stack_id. */
bool oomkit__prof_ptr_remove(void *p, uint64_t *size, uint32_t *stack_id);
/* The counting filter in front of the pointer set (prof_table.c). */
enum { PROF_FILTER_BITS = 14 };
extern _Atomic uint8_t oomkit__prof_filter[1u << PROF_FILTER_BITS];
extern bool oomkit__prof_exact;
/* Fibonacci hashing of a pointer without its always-zero low bits. */
static inline uint64_t oomkit__prof_ptr_hash(const void *p)
{
    return ((uint64_t)(uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ULL;
}
/* A cheap filter: false means p is certainly not tracked. Inline because
 * it runs on every free(). */
static inline bool oomkit__prof_ptr_maybe(const void *p)
{
    return atomic_load_explicit(&oomkit__prof_filter[oomkit__prof_ptr_hash(p) >>
                                                     (64 - PROF_FILTER_BITS)],
                                memory_order_relaxed) != 0;
}
void oomkit__prof_table_lock_all(void);
void oomkit__prof_table_unlock_all(void);
extern _Atomic int64_t oomkit__prof_inuse_total;

/* prof_hooks.c */
extern _Atomic int oomkit__prof_on;
void oomkit__prof_guard_enter(void);
void oomkit__prof_guard_leave(void);
void oomkit__prof_resolve_real(void);
/* Un-sampling weight of one sampled allocation of `size` bytes. */
double oomkit__prof_weight(uint64_t size);

/* prof_mmap.c */
void oomkit__prof_mmap_record(void *addr, size_t len, uint32_t stack_id);
void oomkit__prof_mmap_unmap(void *addr, size_t len);
void oomkit__prof_mmap_remap(void *old_addr, size_t old_len, void *new_addr, size_t new_len);
void oomkit__prof_mmap_atfork(int phase);

/* prof_unwind.c: captures the caller's stack without our own frames. */
uint32_t oomkit__prof_unwind(uintptr_t *frames, uint32_t max);
void oomkit__prof_unwind_init(void);

/* prof_dump.c: writes one profile to path. Returns 0 or -errno. Caller
 * holds the dump lock and the recursion guard. */
int oomkit__prof_write(const char *path);

/* prof_control.c */
void oomkit__prof_inuse_crossed(void);

#endif
