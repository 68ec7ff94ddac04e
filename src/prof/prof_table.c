/* The profiler's two tables: stacks and sampled pointers.
 *
 * Stack table. Stacks are deduplicated by their XXH3 hash and frames:
 *
 *   index[1 << 19]  u32 stack id + 0, open addressing, linear probing
 *   stacks[1 << 18] struct prof_stack, handed out by an atomic bump counter
 *   frames[1 << 23] uintptr_t, each stack's frames, bump-allocated
 *
 * Insertion is lock-free: a thread fills a fresh stack record (bump index),
 * then publishes it with a CAS on an empty index slot (release); a reader
 * that loads a nonzero slot (acquire) sees a complete record. A thread that
 * loses the CAS race for the same stack re-reads the slot and uses the
 * winner, wasting one record: rare, and bounded by the number of threads.
 * Records are never removed, so ids stay valid for the life of the process.
 * When the stack or frame arrays are full, samples go to stack 0 (an
 * "overflow" stack with no frames) rather than failing. All three arrays
 * are MAP_NORESERVE mappings: only the pages used cost memory.
 *
 * Pointer set. 64 stripes, each a spinlock-protected open-addressing table of
 * (pointer, size << 24 | stack id), doubled at 50 % load and cleaned with
 * backward-shift deletion (no tombstones). In front of it sits a counting
 * filter of 16 Ki 8-bit counters (16 KiB, stays in L1/L2): free() reads
 * one counter (inline, prof_internal.h) and only on a nonzero one takes a
 * stripe lock. A counter that reaches 255 sticks there (it then only costs
 * false positives); perf showed the 64 KiB 16-bit version at 3 % of the
 * benchmark, mostly cache misses. In sampled mode a
 * few thousand pointers are live, so the filter answers "no" for nearly
 * every free; in exact mode the filter is skipped. The stripe locks are
 * spinlocks that yield after a short spin: critical sections are a few
 * probes, and an uncontended pthread mutex measured at ~15 % of exact-mode
 * time (perf, 4 threads) against one exchange for the spinlock. */
#include "prof/prof_internal.h"

#include "core/hash.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>

enum {
    INDEX_BITS = 19,
    MAX_STACKS = 1 << 18,
    MAX_FRAME_WORDS = 1 << 23,
    STRIPES = 64,
};

static _Atomic uint32_t *stack_index;
static struct prof_stack *stacks;
static uintptr_t *frame_pool;
static _Atomic uint32_t n_stacks = 1; /* 0 is the overflow stack */
static _Atomic uint32_t n_frame_words;
_Atomic int64_t oomkit__prof_inuse_total;

struct ptr_slot {
    uintptr_t ptr; /* 0 = empty */
    uint64_t size_id;
};
struct spin {
    _Atomic int held;
};

static inline void spin_lock(struct spin *l)
{
    unsigned spins = 0;
    while (atomic_exchange_explicit(&l->held, 1, memory_order_acquire)) {
        while (atomic_load_explicit(&l->held, memory_order_relaxed)) {
            if (++spins > 100)
                sched_yield();
#if defined(__x86_64__) || defined(__i386__)
            else
                __builtin_ia32_pause();
#endif
        }
    }
}

static inline void spin_unlock(struct spin *l)
{
    atomic_store_explicit(&l->held, 0, memory_order_release);
}

struct stripe {
    struct spin lock;
    struct ptr_slot *slots; /* protected by lock */
    size_t cap;             /* power of two; protected by lock */
    size_t used;            /* protected by lock */
    char pad[32];
};
static struct stripe stripes[STRIPES];
_Atomic uint8_t oomkit__prof_filter[1u << PROF_FILTER_BITS];

static void filter_inc(uint64_t h)
{
    if (oomkit__prof_exact)
        return; /* exact mode never consults the filter */
    _Atomic uint8_t *c = &oomkit__prof_filter[h >> (64 - PROF_FILTER_BITS)];
    uint8_t v = atomic_load_explicit(c, memory_order_relaxed);
    while (v != 255 && !atomic_compare_exchange_weak_explicit(c, &v, (uint8_t)(v + 1),
                                                               memory_order_relaxed,
                                                               memory_order_relaxed))
        ;
}

static void filter_dec(uint64_t h)
{
    if (oomkit__prof_exact)
        return;
    _Atomic uint8_t *c = &oomkit__prof_filter[h >> (64 - PROF_FILTER_BITS)];
    uint8_t v = atomic_load_explicit(c, memory_order_relaxed);
    while (v != 255 && v != 0 &&
           !atomic_compare_exchange_weak_explicit(c, &v, (uint8_t)(v - 1), memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

static void *map_zeroed(size_t bytes)
{
    void *p = oomkit__prof_real.mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int oomkit__prof_table_init(void)
{
    stack_index = map_zeroed(sizeof(uint32_t) << INDEX_BITS);
    stacks = map_zeroed(sizeof(struct prof_stack) * MAX_STACKS);
    frame_pool = map_zeroed(sizeof(uintptr_t) * MAX_FRAME_WORDS);
    if (stack_index == NULL || stacks == NULL || frame_pool == NULL)
        return -ENOMEM;
    return 0;
}

static uint64_t frames_hash(const uintptr_t *f, uint32_t n)
{
    uint64_t h = oomkit__hash(f, n * sizeof(*f), 0x6f6f6d6b6974ULL);
    return h ? h : 1; /* 0 marks "not yet published" */
}

uint32_t oomkit__prof_stack_intern(const uintptr_t *frames, uint32_t n)
{
    uint64_t h = frames_hash(frames, n);
    const uint32_t mask = (1u << INDEX_BITS) - 1;
    uint32_t fresh = 0;
    for (uint32_t i = (uint32_t)h & mask, probes = 0; probes <= mask; i = (i + 1) & mask, probes++) {
        uint32_t id = atomic_load_explicit(&stack_index[i], memory_order_acquire);
        if (id == 0) {
            if (fresh == 0) {
                uint32_t off = atomic_fetch_add_explicit(&n_frame_words, n, memory_order_relaxed);
                if (off + n > MAX_FRAME_WORDS || off + n < off)
                    return 0;
                fresh = atomic_fetch_add_explicit(&n_stacks, 1, memory_order_relaxed);
                if (fresh >= MAX_STACKS)
                    return 0;
                memcpy(frame_pool + off, frames, n * sizeof(*frames));
                stacks[fresh].nframes = n;
                stacks[fresh].frames_off = off;
                atomic_store_explicit(&stacks[fresh].hash, h, memory_order_relaxed);
            }
            uint32_t expected = 0;
            if (atomic_compare_exchange_strong_explicit(&stack_index[i], &expected, fresh,
                                                        memory_order_release,
                                                        memory_order_acquire))
                return fresh;
            id = expected;
        }
        struct prof_stack *s = &stacks[id];
        if (atomic_load_explicit(&s->hash, memory_order_relaxed) == h && s->nframes == n &&
            memcmp(frame_pool + s->frames_off, frames, n * sizeof(*frames)) == 0)
            return id;
    }
    return 0;
}

struct prof_stack *oomkit__prof_stack_get(uint32_t id) { return &stacks[id]; }

const uintptr_t *oomkit__prof_stack_frames(const struct prof_stack *s)
{
    return frame_pool + s->frames_off;
}

uint32_t oomkit__prof_stack_count(void)
{
    uint32_t n = atomic_load(&n_stacks);
    return n > MAX_STACKS ? MAX_STACKS : n;
}

static inline uint64_t ptr_hash(const void *p) { return oomkit__prof_ptr_hash(p); }

static bool grow(struct stripe *st)
{
    size_t cap = st->cap ? st->cap * 2 : 1024;
    struct ptr_slot *ns = oomkit__prof_real.calloc(cap, sizeof(*ns));
    if (ns == NULL)
        return false;
    for (size_t i = 0; i < st->cap; i++) {
        if (st->slots[i].ptr == 0)
            continue;
        size_t j = (size_t)(ptr_hash((void *)st->slots[i].ptr) >> 20) & (cap - 1);
        while (ns[j].ptr != 0)
            j = (j + 1) & (cap - 1);
        ns[j] = st->slots[i];
    }
    oomkit__prof_real.free(st->slots);
    st->slots = ns;
    st->cap = cap;
    return true;
}

static struct stripe *stripe_of(uint64_t h) { return &stripes[h >> (64 - 6)]; }

void oomkit__prof_ptr_insert(void *p, uint64_t size, uint32_t stack_id)
{
    uint64_t h = ptr_hash(p);
    struct stripe *st = stripe_of(h);
    spin_lock(&st->lock);
    if ((st->used + 1) * 2 > st->cap && !grow(st)) {
        spin_unlock(&st->lock);
        return; /* untracked: its free will simply not be subtracted */
    }
    size_t mask = st->cap - 1, j = (size_t)(h >> 20) & mask;
    while (st->slots[j].ptr != 0 && st->slots[j].ptr != (uintptr_t)p)
        j = (j + 1) & mask;
    if (st->slots[j].ptr == 0) {
        st->used++;
        filter_inc(h);
    }
    if (size > (UINT64_MAX >> 24))
        size = UINT64_MAX >> 24;
    st->slots[j].ptr = (uintptr_t)p;
    st->slots[j].size_id = size << 24 | (stack_id & 0xffffff);
    spin_unlock(&st->lock);
}

bool oomkit__prof_ptr_remove(void *p, uint64_t *size, uint32_t *stack_id)
{
    uint64_t h = ptr_hash(p);
    struct stripe *st = stripe_of(h);
    spin_lock(&st->lock);
    if (st->cap == 0) {
        spin_unlock(&st->lock);
        return false;
    }
    size_t mask = st->cap - 1, j = (size_t)(h >> 20) & mask;
    while (st->slots[j].ptr != 0 && st->slots[j].ptr != (uintptr_t)p)
        j = (j + 1) & mask;
    if (st->slots[j].ptr == 0) {
        spin_unlock(&st->lock);
        return false;
    }
    *size = st->slots[j].size_id >> 24;
    *stack_id = (uint32_t)(st->slots[j].size_id & 0xffffff);
    /* Backward-shift deletion keeps every probe chain unbroken. */
    size_t hole = j;
    for (size_t k = (j + 1) & mask; st->slots[k].ptr != 0; k = (k + 1) & mask) {
        size_t home = (size_t)(ptr_hash((void *)st->slots[k].ptr) >> 20) & mask;
        if (((k - home) & mask) >= ((k - hole) & mask)) {
            st->slots[hole] = st->slots[k];
            hole = k;
        }
    }
    st->slots[hole].ptr = 0;
    st->used--;
    filter_dec(h);
    spin_unlock(&st->lock);
    return true;
}

void oomkit__prof_table_lock_all(void)
{
    for (int i = 0; i < STRIPES; i++)
        spin_lock(&stripes[i].lock);
}

void oomkit__prof_table_unlock_all(void)
{
    for (int i = STRIPES - 1; i >= 0; i--)
        spin_unlock(&stripes[i].lock);
}
