/* The single allocation seam of liboomkit (see oomkit_set_allocator). */
#include "core/alloc.h"

#include <stdlib.h>

static void *default_malloc(size_t size, void *ctx) { (void)ctx; return malloc(size); }
static void *default_realloc(void *p, size_t size, void *ctx) { (void)ctx; return realloc(p, size); }
static void default_free(void *p, void *ctx) { (void)ctx; free(p); }

static oomkit_allocator current = { default_malloc, default_realloc, default_free, NULL };

void oomkit_set_allocator(const oomkit_allocator *a)
{
    /* A set missing a hook is refused whole: the store would call the
     * missing free at close. */
    if (a == NULL || a->malloc_fn == NULL || a->realloc_fn == NULL || a->free_fn == NULL) {
        current = (oomkit_allocator){ default_malloc, default_realloc, default_free, NULL };
        return;
    }
    current = *a;
}

void *oomkit__malloc(size_t size)
{
    return current.malloc_fn(size ? size : 1, current.ctx);
}

void *oomkit__calloc(size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        return NULL;
    void *p = oomkit__malloc(n * size);
    if (p != NULL)
        memset(p, 0, n * size);
    return p;
}

void *oomkit__realloc(void *ptr, size_t size)
{
    return current.realloc_fn(ptr, size ? size : 1, current.ctx);
}

void oomkit__free(void *ptr)
{
    if (ptr != NULL)
        current.free_fn(ptr, current.ctx);
}

size_t oomkit__alloc_footprint(size_t size)
{
    /* glibc (2.26+ on 64-bit): chunk = max(32, round16(size + 8)); requests at
     * or above the mmap threshold (128 KiB by default, it may rise
     * dynamically) are mmapped whole pages plus a 16-byte header. */
    if (size >= 128 * 1024)
        return (size + 16 + 4095) & ~(size_t)4095;
    size_t chunk = (size + 8 + 15) & ~(size_t)15;
    return chunk < 32 ? 32 : chunk;
}
