/* The probes of bench_probe.h.
 *
 * Counting allocations: glibc 2.34 removed __malloc_hook, so this program
 * defines malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign,
 * valloc and pvalloc itself; each bumps a counter and forwards to glibc's
 * exported __libc_* entry points, so memory still comes from glibc's
 * allocator and mallinfo2() still sees all of it. free needs no wrapper.
 * The linker exports a symbol of the executable that a linked shared
 * library references, as GLib and json-c reference malloc, so their
 * allocations land here too; oomkit__bench_probe_check proves it at run
 * time.
 *
 * Under ASan or TSan the sanitizer owns malloc and a second definition
 * would clash, so the counter uses the sanitizer's allocation hook and the
 * byte count its live-bytes statistic instead. */
#include "bench/bench_probe.h"

#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t alloc_calls;

static inline void count_one(void)
{
    /* Relaxed: only the total matters, and liburcu's helper thread may
     * allocate beside the measuring thread. */
    __atomic_fetch_add(&alloc_calls, 1, __ATOMIC_RELAXED);
}

uint64_t oomkit__bench_allocs(void)
{
    return __atomic_load_n(&alloc_calls, __ATOMIC_RELAXED);
}

static int use_cpu_clock;

uint64_t oomkit__bench_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void oomkit__bench_set_cpu_clock(int cpu)
{
    use_cpu_clock = cpu;
}

uint64_t oomkit__bench_now_ns(void)
{
    return use_cpu_clock ? oomkit__bench_cpu_ns() : oomkit__bench_wall_ns();
}

uint64_t oomkit__bench_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#if defined(OOMKIT_ASAN) || defined(OOMKIT_TSAN)

/* The sanitizer runtimes export these (compiler-rt's
 * sanitizer/allocator_interface.h, which GCC does not install). */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
size_t __sanitizer_get_current_allocated_bytes(void);

static void on_malloc(const volatile void *p, size_t size)
{
    (void)p;
    (void)size;
    count_one();
}

static void on_free(const volatile void *p)
{
    (void)p;
}

__attribute__((constructor)) static void install_hooks(void)
{
    __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}

uint64_t oomkit__bench_heap_bytes(void)
{
    return __sanitizer_get_current_allocated_bytes();
}

const char *oomkit__bench_probe_kind(void)
{
    return "sanitizer allocator hooks (live user bytes; no allocator overhead)";
}

#else

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);
void *__libc_memalign(size_t align, size_t size);
void *__libc_valloc(size_t size);
void *__libc_pvalloc(size_t size);

__attribute__((visibility("default"))) void *malloc(size_t size)
{
    count_one();
    return __libc_malloc(size);
}

__attribute__((visibility("default"))) void *calloc(size_t n, size_t size)
{
    count_one();
    return __libc_calloc(n, size);
}

__attribute__((visibility("default"))) void *realloc(void *p, size_t size)
{
    count_one();
    return __libc_realloc(p, size);
}

__attribute__((visibility("default"))) void *memalign(size_t align, size_t size)
{
    count_one();
    return __libc_memalign(align, size);
}

__attribute__((visibility("default"))) void *aligned_alloc(size_t align, size_t size)
{
    count_one();
    return __libc_memalign(align, size);
}

__attribute__((visibility("default"))) int posix_memalign(void **out, size_t align, size_t size)
{
    /* posix_memalign's own contract: a power of two multiple of
     * sizeof(void *), and errors returned, not set in errno. */
    if (align % sizeof(void *) != 0 || (align & (align - 1)) != 0)
        return EINVAL;
    count_one();
    void *p = __libc_memalign(align, size);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

__attribute__((visibility("default"))) void *valloc(size_t size)
{
    count_one();
    return __libc_valloc(size);
}

__attribute__((visibility("default"))) void *pvalloc(size_t size)
{
    count_one();
    return __libc_pvalloc(size);
}

uint64_t oomkit__bench_heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}

const char *oomkit__bench_probe_kind(void)
{
    return "glibc mallinfo2 (uordblks + hblkhd) and an interposed malloc";
}

#endif

int oomkit__bench_probe_check(void *(*lib_alloc)(size_t), void (*lib_free)(void *),
                              const char **why)
{
    uint64_t before = oomkit__bench_allocs();
    void *p = lib_alloc(24);
    uint64_t after = oomkit__bench_allocs();
    lib_free(p);
    if (p == NULL || after == before) {
        if (why != NULL)
            *why = "the allocation counter does not see a shared library's malloc calls";
        return -1;
    }
    uint64_t bytes0 = oomkit__bench_heap_bytes();
    void *q = lib_alloc(1 << 16);
    uint64_t bytes1 = oomkit__bench_heap_bytes();
    lib_free(q);
    if (q == NULL || bytes1 <= bytes0) {
        if (why != NULL)
            *why = "the heap-bytes probe does not see a shared library's allocations";
        return -1;
    }
    return 0;
}
