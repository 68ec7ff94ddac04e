/* Stack capture for samples.
 *
 * Two unwinders: libunwind's unw_backtrace (DWARF CFI, correct through
 * libraries built without frame pointers, the default) and a frame-pointer
 * walk (unwind=fp), several times faster but only right when every frame on
 * the path keeps %rbp as a frame pointer. The walk is bounded by the
 * thread's stack (learned once per thread with pthread_getattr_np) and
 * stops at the first pointer that does not move strictly up the stack, so a
 * garbage %rbp ends the walk instead of faulting.
 *
 * Frames that belong to liboomkit_prof.so itself are dropped from the top
 * of the stack, so the leaf of a sample is the return address into the
 * program's call to malloc (or into libstdc++'s operator new). */
#include "prof/prof_internal.h"

#include <dlfcn.h>
#include <link.h>
#include <pthread.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

static uintptr_t self_lo, self_hi;

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    uintptr_t me = (uintptr_t)data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr, hi = lo + ph->p_memsz;
        if (me >= lo && me < hi) {
            self_lo = lo;
            self_hi = hi;
            return 1;
        }
    }
    return 0;
}

void oomkit__prof_unwind_init(void)
{
    dl_iterate_phdr(find_self, (void *)(uintptr_t)&oomkit__prof_unwind_init);
    /* libunwind's default cache is global and lock-protected; a per-thread
     * cache keeps unwinding threads from serialising on it. */
    unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
}

struct stack_bounds {
    uintptr_t lo, hi;
    bool known;
};
static PROF_TLS struct stack_bounds bounds;

static __attribute__((noinline)) void learn_bounds(void)
{
    pthread_attr_t a;
    void *addr;
    size_t size;
    bounds.known = true;
    if (pthread_getattr_np(pthread_self(), &a) != 0)
        return;
    if (pthread_attr_getstack(&a, &addr, &size) == 0) {
        bounds.lo = (uintptr_t)addr;
        bounds.hi = (uintptr_t)addr + size;
    }
    pthread_attr_destroy(&a);
}

static uint32_t unwind_fp(uintptr_t *frames, uint32_t max)
{
    if (PROF_UNLIKELY(!bounds.known))
        learn_bounds();
    uintptr_t *fp = __builtin_frame_address(0);
    uint32_t n = 0;
    while (n < max) {
        uintptr_t f = (uintptr_t)fp;
        if (f < bounds.lo || f + 16 > bounds.hi || (f & 7) != 0)
            break;
        uintptr_t ret = fp[1], next = fp[0];
        if (ret < 4096)
            break;
        frames[n++] = ret;
        if (next <= f)
            break;
        fp = (uintptr_t *)next;
    }
    return n;
}

uint32_t oomkit__prof_unwind(uintptr_t *frames, uint32_t max)
{
    uintptr_t raw[PROF_MAX_FRAMES + 8];
    uint32_t cap = max + 8 > PROF_MAX_FRAMES + 8 ? PROF_MAX_FRAMES + 8 : max + 8;
    uint32_t n;
    if (oomkit__prof_cfg.unwind == PROF_UNWIND_FP) {
        n = unwind_fp(raw, cap);
    } else {
        int got = unw_backtrace((void **)raw, (int)cap);
        n = got > 0 ? (uint32_t)got : 0;
    }
    uint32_t skip = 0;
    while (skip < n && raw[skip] >= self_lo && raw[skip] < self_hi)
        skip++;
    uint32_t out = 0;
    for (uint32_t i = skip; i < n && out < max; i++)
        frames[out++] = raw[i];
    return out;
}
