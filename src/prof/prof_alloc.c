/* liboomkit's allocation seam (src/core/alloc.h), re-implemented for the
 * preload library: the pprof codec it shares with liboomkit allocates
 * through oomkit__malloc, and inside the profiler those allocations must
 * go straight to the real allocator, never through our own hooks. */
#include "core/alloc.h"
#include "prof/prof_internal.h"

void *oomkit__malloc(size_t size) { return oomkit__prof_real.malloc(size ? size : 1); }

void *oomkit__calloc(size_t n, size_t size) { return oomkit__prof_real.calloc(n ? n : 1, size ? size : 1); }

void *oomkit__realloc(void *ptr, size_t size)
{
    return oomkit__prof_real.realloc(ptr, size ? size : 1);
}

void oomkit__free(void *ptr)
{
    if (ptr != NULL)
        oomkit__prof_real.free(ptr);
}
