/* Anonymous mappings made by the program, tracked exactly.
 *
 * Mappings are few (an allocator's arenas, a JIT, a buffer pool), so a
 * mutex-protected array of [start, len, stack) regions scanned linearly is
 * enough; munmap may cut any part of a region (head, tail or middle), so
 * regions are trimmed or split as the kernel would. mmap_inuse_* values of
 * a stack are the bytes still mapped; mmap_alloc_* count every mapping. The
 * array grows with the real mmap, never malloc, so it works at any time. */
#include "prof/prof_internal.h"

#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

struct region {
    uintptr_t start;
    size_t len;
    uint32_t stack_id;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct region *regions; /* protected by lock */
static size_t n_regions, cap_regions; /* protected by lock */

static bool reserve_locked(size_t need)
{
    if (need <= cap_regions)
        return true;
    size_t cap = cap_regions ? cap_regions * 2 : 256;
    while (cap < need)
        cap *= 2;
    void *p = oomkit__prof_real.mmap(NULL, cap * sizeof(struct region), PROT_READ | PROT_WRITE,
                                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return false;
    if (regions != NULL) {
        memcpy(p, regions, n_regions * sizeof(struct region));
        oomkit__prof_real.munmap(regions, cap_regions * sizeof(struct region));
    }
    regions = p;
    cap_regions = cap;
    return true;
}

static void account(uint32_t id, int64_t objs, int64_t bytes)
{
    struct prof_stack *s = oomkit__prof_stack_get(id);
    oomkit__prof_stack_add(s, PROF_V_MMAP_INUSE_OBJS, objs);
    oomkit__prof_stack_add(s, PROF_V_MMAP_INUSE_BYTES, bytes);
}

void oomkit__prof_mmap_record(void *addr, size_t len, uint32_t stack_id)
{
    struct prof_stack *s = oomkit__prof_stack_get(stack_id);
    oomkit__prof_stack_add(s, PROF_V_MMAP_ALLOC_OBJS, 1);
    oomkit__prof_stack_add(s, PROF_V_MMAP_ALLOC_BYTES, (int64_t)len);
    pthread_mutex_lock(&lock);
    if (reserve_locked(n_regions + 1)) {
        regions[n_regions++] = (struct region){ (uintptr_t)addr, len, stack_id };
        account(stack_id, 1, (int64_t)len);
    }
    pthread_mutex_unlock(&lock);
}

void oomkit__prof_mmap_unmap(void *addr, size_t len)
{
    uintptr_t lo = (uintptr_t)addr;
    /* The kernel unmaps whole pages. */
    uintptr_t hi = lo + ((len + 4095) & ~(size_t)4095);
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_regions;) {
        struct region *r = &regions[i];
        uintptr_t rlo = r->start, rhi = r->start + r->len;
        if (rhi <= lo || rlo >= hi) {
            i++;
            continue;
        }
        if (lo <= rlo && hi >= rhi) { /* whole region */
            account(r->stack_id, -1, -(int64_t)r->len);
            regions[i] = regions[--n_regions];
            continue;
        }
        if (lo > rlo && hi < rhi) { /* a hole in the middle: split */
            if (!reserve_locked(n_regions + 1)) {
                i++;
                continue;
            }
            r = &regions[i];
            account(r->stack_id, 1, -(int64_t)(hi - lo));
            regions[n_regions++] = (struct region){ hi, rhi - hi, r->stack_id };
            r->len = lo - rlo;
        } else if (lo <= rlo) { /* head */
            account(r->stack_id, 0, -(int64_t)(hi - rlo));
            r->start = hi;
            r->len = rhi - hi;
        } else { /* tail */
            account(r->stack_id, 0, -(int64_t)(rhi - lo));
            r->len = lo - rlo;
        }
        i++;
    }
    pthread_mutex_unlock(&lock);
}

void oomkit__prof_mmap_remap(void *old_addr, size_t old_len, void *new_addr, size_t new_len)
{
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n_regions; i++) {
        struct region *r = &regions[i];
        if (r->start != (uintptr_t)old_addr)
            continue;
        int64_t delta = (int64_t)new_len - (int64_t)(old_len < r->len ? old_len : r->len);
        account(r->stack_id, 0, delta);
        struct prof_stack *s = oomkit__prof_stack_get(r->stack_id);
        if (delta > 0)
            oomkit__prof_stack_add(s, PROF_V_MMAP_ALLOC_BYTES, delta);
        r->start = (uintptr_t)new_addr;
        r->len = new_len;
        break;
    }
    pthread_mutex_unlock(&lock);
}

void oomkit__prof_mmap_atfork(int phase)
{
    if (phase == 0)
        pthread_mutex_lock(&lock);
    else
        pthread_mutex_unlock(&lock);
}
