/* The interposed allocation functions of liboomkit_prof.so.
 *
 * Fast path (sampled mode): forward to the real function, subtract the size
 * from a per-thread countdown, and return; only when the countdown runs out
 * is the allocation sampled (stack captured, pointer remembered). free()
 * asks a 64 KiB counting filter whether the pointer may be sampled before it
 * touches the pointer set, so the common answer ("no") stays in cache: the
 * research measured +24 % when every free probed a large table, +3 % without.
 *
 * Sampling is Poisson in bytes, as in tcmalloc and Go: the countdown is
 * drawn from an exponential distribution of mean R, so an allocation of s
 * bytes is sampled with probability 1 - exp(-s/R), independently of what
 * came before (memorylessness). Each sample is then weighted by
 * 1 / (1 - exp(-s/R)) with its own s, which makes the totals unbiased even
 * when one stack allocates mixed sizes.
 *
 * Hazards handled here (as heaptrack names them): dlsym(RTLD_NEXT) may call
 * calloc before we know the real calloc, so allocations made while resolving
 * come from a static bootstrap pool that free() recognises and ignores; the
 * unwinder and libdw allocate, so a thread-local guard turns recording off
 * inside the profiler. TLS is initial-exec so that touching it never calls
 * malloc (global-dynamic TLS may, through __tls_get_addr). */
#include "prof/prof_internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

struct prof_real oomkit__prof_real;
_Atomic int oomkit__prof_on;
bool oomkit__prof_exact;

struct prof_tls {
    int guard;
    bool seeded;
    int64_t bytes_until_sample;
    uint64_t rng;
    int shard; /* 1 + shard index, 0 = not yet assigned */
};
static PROF_TLS struct prof_tls tls;

/* Bootstrap pool: serves the few allocations dlsym makes before the real
 * allocator is known. 64 KiB is far more than glibc 2.36's dlsym needs
 * (one small calloc for its error state). Never freed. */
static _Alignas(64) char boot_pool[65536];
static _Atomic size_t boot_used;
static _Atomic int resolving;

static void *boot_alloc(size_t n)
{
    size_t need = (n + 15) & ~(size_t)15;
    size_t at = atomic_fetch_add(&boot_used, need);
    if (at + need > sizeof(boot_pool))
        return NULL;
    return boot_pool + at; /* static storage is zeroed: calloc is served too */
}

static bool is_boot(const void *p)
{
    return (const char *)p >= boot_pool && (const char *)p < boot_pool + sizeof(boot_pool);
}

static _Atomic unsigned next_shard;

void oomkit__prof_stack_add(struct prof_stack *s, int k, int64_t delta)
{
    if (PROF_UNLIKELY(tls.shard == 0))
        tls.shard = 1 + (int)(atomic_fetch_add_explicit(&next_shard, 1, memory_order_relaxed) %
                              PROF_SHARDS);
    atomic_fetch_add_explicit(&s->v[tls.shard - 1][k], delta, memory_order_relaxed);
}

int64_t oomkit__prof_stack_value(struct prof_stack *s, int k)
{
    int64_t sum = 0;
    for (int i = 0; i < PROF_SHARDS; i++)
        sum += atomic_load_explicit(&s->v[i][k], memory_order_relaxed);
    return sum;
}

/* Rounds a non-negative weight; llround is a libm call, this is two ops. */
static inline int64_t round_pos(double x) { return (int64_t)(x + 0.5); }

void oomkit__prof_guard_enter(void) { tls.guard++; }
void oomkit__prof_guard_leave(void) { tls.guard--; }

#define RESOLVE(name) \
    r.name = (__typeof__(r.name))dlsym(RTLD_NEXT, #name)

void oomkit__prof_resolve_real(void)
{
    if (oomkit__prof_real.free != NULL)
        return;
    atomic_store(&resolving, 1);
    struct prof_real r;
    memset(&r, 0, sizeof(r));
    RESOLVE(malloc);
    RESOLVE(free);
    RESOLVE(calloc);
    RESOLVE(realloc);
    RESOLVE(memalign);
    RESOLVE(posix_memalign);
    RESOLVE(aligned_alloc);
    RESOLVE(valloc);
    RESOLVE(pvalloc);
    RESOLVE(malloc_usable_size);
    RESOLVE(mmap);
    RESOLVE(munmap);
    RESOLVE(mremap);
    /* Publish free last: it is the "resolved" flag checked above. */
    void (*f)(void *) = r.free;
    r.free = NULL;
    oomkit__prof_real = r;
    __atomic_store_n(&oomkit__prof_real.free, f, __ATOMIC_RELEASE);
    atomic_store(&resolving, 0);
}

static inline bool ready(void)
{
    if (PROF_LIKELY(__atomic_load_n(&oomkit__prof_real.free, __ATOMIC_ACQUIRE) != NULL))
        return true;
    if (atomic_load(&resolving))
        return false;
    oomkit__prof_resolve_real();
    return oomkit__prof_real.free != NULL;
}

/* xorshift64*: a per-thread generator; quality is ample for drawing sample
 * intervals and it costs a few cycles. */
static uint64_t rng_next(struct prof_tls *t)
{
    uint64_t x = t->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    t->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static int64_t draw_interval(struct prof_tls *t)
{
    /* u in (0, 1]: 53 random bits, never 0 so log(u) is finite. */
    double u = ((double)(rng_next(t) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double d = -log(u) * (double)oomkit__prof_cfg.sample_bytes;
    if (d > 9e18)
        d = 9e18;
    return (int64_t)d + 1;
}

double oomkit__prof_weight(uint64_t size)
{
    if (oomkit__prof_exact || size == 0)
        return 1.0;
    return 1.0 / -expm1(-(double)size / (double)oomkit__prof_cfg.sample_bytes);
}

/* Slow part of the sampling decision: first use in a thread, or the
 * countdown ran out. */
static __attribute__((noinline)) bool sample_slow(struct prof_tls *t, size_t n)
{
    if (!t->seeded) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        t->rng = ((uint64_t)(uintptr_t)t * 0x9E3779B97F4A7C15ULL) ^
                 ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ 0x853c49e6748fea9bULL;
        if (t->rng == 0)
            t->rng = 1;
        t->seeded = true;
        t->bytes_until_sample = draw_interval(t) - (int64_t)n;
        if (t->bytes_until_sample > 0)
            return false;
    }
    t->bytes_until_sample = draw_interval(t);
    return true;
}

static inline bool should_sample(size_t n)
{
    if (PROF_UNLIKELY(!atomic_load_explicit(&oomkit__prof_on, memory_order_relaxed)))
        return false;
    struct prof_tls *t = &tls;
    if (PROF_UNLIKELY(t->guard))
        return false;
    if (oomkit__prof_exact)
        return true;
    t->bytes_until_sample -= (int64_t)n;
    if (PROF_LIKELY(t->bytes_until_sample > 0))
        return false;
    return sample_slow(t, n);
}

static __attribute__((noinline)) void record(void *p, size_t n)
{
    uintptr_t frames[PROF_MAX_FRAMES];
    tls.guard++;
    uint32_t nf = oomkit__prof_unwind(frames, PROF_MAX_FRAMES);
    uint32_t id = oomkit__prof_stack_intern(frames, nf);
    struct prof_stack *s = oomkit__prof_stack_get(id);
    double w = oomkit__prof_weight(n);
    int64_t objs = round_pos(w), bytes = round_pos(w * (double)n);
    oomkit__prof_stack_add(s, PROF_V_ALLOC_OBJS, objs);
    oomkit__prof_stack_add(s, PROF_V_ALLOC_BYTES, bytes);
    oomkit__prof_stack_add(s, PROF_V_INUSE_OBJS, objs);
    oomkit__prof_stack_add(s, PROF_V_INUSE_BYTES, bytes);
    oomkit__prof_ptr_insert(p, n, id);
    if (oomkit__prof_cfg.dump & PROF_DUMP_INUSE) {
        int64_t total = atomic_fetch_add_explicit(&oomkit__prof_inuse_total, bytes,
                                                  memory_order_relaxed) + bytes;
        if ((uint64_t)total >= oomkit__prof_cfg.inuse_bytes)
            oomkit__prof_inuse_crossed();
    }
    tls.guard--;
}

static __attribute__((noinline)) bool forget(void *p, uint64_t *size_out, uint32_t *id_out)
{
    uint64_t size;
    uint32_t id;
    if (!oomkit__prof_ptr_remove(p, &size, &id))
        return false;
    struct prof_stack *s = oomkit__prof_stack_get(id);
    double w = oomkit__prof_weight(size);
    int64_t objs = round_pos(w), bytes = round_pos(w * (double)size);
    oomkit__prof_stack_add(s, PROF_V_INUSE_OBJS, -objs);
    oomkit__prof_stack_add(s, PROF_V_INUSE_BYTES, -bytes);
    if (oomkit__prof_cfg.dump & PROF_DUMP_INUSE)
        atomic_fetch_sub_explicit(&oomkit__prof_inuse_total, bytes, memory_order_relaxed);
    *size_out = size;
    *id_out = id;
    return true;
}

static inline void maybe_forget(void *p)
{
    if (PROF_UNLIKELY(!atomic_load_explicit(&oomkit__prof_on, memory_order_relaxed)))
        return;
    if (PROF_UNLIKELY(tls.guard))
        return;
    uint64_t size;
    uint32_t id;
    if (oomkit__prof_exact || PROF_UNLIKELY(oomkit__prof_ptr_maybe(p)))
        forget(p, &size, &id);
}

#define RECORD_IF_SAMPLED(p, n)                                   \
    do {                                                          \
        if ((p) != NULL && PROF_UNLIKELY(should_sample(n)))       \
            record((p), (n));                                     \
    } while (0)

PROF_EXPORT void *malloc(size_t n)
{
    if (PROF_UNLIKELY(!ready()))
        return boot_alloc(n);
    void *p = oomkit__prof_real.malloc(n);
    RECORD_IF_SAMPLED(p, n);
    return p;
}

PROF_EXPORT void free(void *p)
{
    if (p == NULL || PROF_UNLIKELY(is_boot(p)))
        return;
    maybe_forget(p);
    oomkit__prof_real.free(p);
}

PROF_EXPORT void *calloc(size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    if (PROF_UNLIKELY(!ready()))
        return boot_alloc(total);
    void *p = oomkit__prof_real.calloc(n, size);
    RECORD_IF_SAMPLED(p, total);
    return p;
}

PROF_EXPORT void *realloc(void *old, size_t n)
{
    if (PROF_UNLIKELY(!ready()))
        return boot_alloc(n);
    if (PROF_UNLIKELY(is_boot(old))) {
        /* Move a bootstrap block to the real heap; its size is unknown, but
         * it cannot extend past the pool. */
        void *p = malloc(n);
        if (p != NULL) {
            size_t avail = (size_t)(boot_pool + sizeof(boot_pool) - (char *)old);
            memcpy(p, old, n < avail ? n : avail);
        }
        return p;
    }
    /* The old block is forgotten before the real realloc may free it, and
     * remembered again if realloc fails and leaves it in place. */
    uint64_t old_size = 0;
    uint32_t old_id = 0;
    bool was = false;
    if (old != NULL && atomic_load_explicit(&oomkit__prof_on, memory_order_relaxed) &&
        !tls.guard && (oomkit__prof_exact || oomkit__prof_ptr_maybe(old))) {
        was = forget(old, &old_size, &old_id);
    }
    void *p = oomkit__prof_real.realloc(old, n);
    if (p == NULL && n != 0 && was) {
        struct prof_stack *s = oomkit__prof_stack_get(old_id);
        double w = oomkit__prof_weight(old_size);
        oomkit__prof_stack_add(s, PROF_V_INUSE_OBJS, round_pos(w));
        oomkit__prof_stack_add(s, PROF_V_INUSE_BYTES, round_pos(w * (double)old_size));
        oomkit__prof_ptr_insert(old, old_size, old_id);
        return NULL;
    }
    RECORD_IF_SAMPLED(p, n);
    return p;
}

PROF_EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(old, total);
}

PROF_EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (PROF_UNLIKELY(!ready()))
        return ENOMEM;
    int rc = oomkit__prof_real.posix_memalign(out, align, n);
    if (rc == 0)
        RECORD_IF_SAMPLED(*out, n);
    return rc;
}

PROF_EXPORT void *aligned_alloc(size_t align, size_t n)
{
    if (PROF_UNLIKELY(!ready()))
        return NULL;
    void *p = oomkit__prof_real.aligned_alloc(align, n);
    RECORD_IF_SAMPLED(p, n);
    return p;
}

PROF_EXPORT void *memalign(size_t align, size_t n)
{
    if (PROF_UNLIKELY(!ready()))
        return NULL;
    void *p = oomkit__prof_real.memalign(align, n);
    RECORD_IF_SAMPLED(p, n);
    return p;
}

PROF_EXPORT void *valloc(size_t n)
{
    if (PROF_UNLIKELY(!ready()))
        return NULL;
    void *p = oomkit__prof_real.valloc(n);
    RECORD_IF_SAMPLED(p, n);
    return p;
}

PROF_EXPORT void *pvalloc(size_t n)
{
    if (PROF_UNLIKELY(!ready()))
        return NULL;
    void *p = oomkit__prof_real.pvalloc(n);
    RECORD_IF_SAMPLED(p, n);
    return p;
}

PROF_EXPORT size_t malloc_usable_size(void *p)
{
    if (p == NULL || is_boot(p) || !ready())
        return 0;
    return oomkit__prof_real.malloc_usable_size(p);
}

/* Anonymous mappings are recorded exactly (never sampled): they are rare and
 * large, and "memory outside the malloc heap" is what the incident's
 * off-heap leak was. glibc's own malloc maps through an internal call that
 * does not reach these symbols, so malloc's large blocks are not counted
 * twice. */
static void mmap_note(void *r, size_t len, int flags)
{
    if (r == MAP_FAILED || !(flags & MAP_ANONYMOUS) || tls.guard ||
        !atomic_load_explicit(&oomkit__prof_on, memory_order_relaxed))
        return;
    uintptr_t frames[PROF_MAX_FRAMES];
    tls.guard++;
    uint32_t nf = oomkit__prof_unwind(frames, PROF_MAX_FRAMES);
    oomkit__prof_mmap_record(r, len, oomkit__prof_stack_intern(frames, nf));
    tls.guard--;
}

PROF_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (PROF_UNLIKELY(!ready())) {
        errno = ENOMEM;
        return MAP_FAILED;
    }
    void *r = oomkit__prof_real.mmap(addr, len, prot, flags, fd, off);
    mmap_note(r, len, flags);
    return r;
}

PROF_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return mmap(addr, len, prot, flags, fd, off);
}

PROF_EXPORT int munmap(void *addr, size_t len)
{
    if (PROF_UNLIKELY(!ready())) {
        errno = EINVAL;
        return -1;
    }
    int rc = oomkit__prof_real.munmap(addr, len);
    if (rc == 0 && !tls.guard && atomic_load_explicit(&oomkit__prof_on, memory_order_relaxed))
        oomkit__prof_mmap_unmap(addr, len);
    return rc;
}

PROF_EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    if (PROF_UNLIKELY(!ready())) {
        errno = EINVAL;
        return MAP_FAILED;
    }
    void *new_addr = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        new_addr = va_arg(ap, void *);
        va_end(ap);
    }
    void *r = oomkit__prof_real.mremap(old, old_len, new_len, flags, new_addr);
    if (r != MAP_FAILED && !tls.guard &&
        atomic_load_explicit(&oomkit__prof_on, memory_order_relaxed))
        oomkit__prof_mmap_remap(old, old_len, r, new_len);
    return r;
}
