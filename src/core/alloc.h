/* Internal allocation entry points: all of liboomkit allocates through
 * these, which forward to the hooks set by oomkit_set_allocator(). */
#ifndef OOMKIT_CORE_ALLOC_H
#define OOMKIT_CORE_ALLOC_H

#include "oomkit/common.h"

void *oomkit__malloc(size_t size);
void *oomkit__calloc(size_t n, size_t size);
void *oomkit__realloc(void *ptr, size_t size);
void oomkit__free(void *ptr);

/* Bytes the C allocator really holds for a block of `size` requested bytes
 * obtained through oomkit__malloc: glibc rounds to 16 and adds an 8-byte
 * header, and serves large blocks from whole pages. Used for exact
 * memory accounting without calling malloc_usable_size on every block. */
size_t oomkit__alloc_footprint(size_t size);

#endif
