/* Types and conventions shared by every oomkit component.
 *
 * Every public function returns 0 on success or a negative errno-style code
 * (-EINVAL, -ENOMEM, -ENOENT, -E2BIG for a memory budget, ...) and passes
 * results through out-parameters. oomkit_strerror() names any such code.
 * Strings cross the API as pointer + length and need not be NUL-terminated;
 * their bytes may be anything, NUL included. */
#ifndef OOMKIT_COMMON_H
#define OOMKIT_COMMON_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A borrowed byte string: the callee reads len bytes at ptr during the call
 * and keeps no pointer to them unless its comment says otherwise. ptr may be
 * NULL only when len is 0. */
typedef struct oomkit_str {
    const char *ptr;
    size_t len;
} oomkit_str;

/* OOMKIT_STR("literal") and oomkit_cstr(s) build an oomkit_str. */
#define OOMKIT_STR(lit) ((oomkit_str){ (lit), sizeof(lit) - 1 })
static inline oomkit_str oomkit_cstr(const char *s)
{
    oomkit_str r = { s, s ? strlen(s) : 0 };
    return r;
}

/* A static description of an oomkit return code (0 or negative errno).
 * Never NULL. Thread safety: safe from any thread. */
const char *oomkit_strerror(int code);

/* Allocation hooks for the whole library. Every allocation liboomkit makes
 * goes through these, so a test can count allocations or fail the Nth one.
 * Passing NULL, or a set missing any of the three, restores
 * malloc/realloc/free. Set them before creating any
 * object; memory must be freed by the hooks that allocated it.
 * Thread safety: not thread safe; call once at start-up. */
typedef struct oomkit_allocator {
    void *(*malloc_fn)(size_t size, void *ctx);
    void *(*realloc_fn)(void *ptr, size_t size, void *ctx);
    void (*free_fn)(void *ptr, void *ctx);
    void *ctx;
} oomkit_allocator;
void oomkit_set_allocator(const oomkit_allocator *a);

#ifdef __cplusplus
}
#endif
#endif
