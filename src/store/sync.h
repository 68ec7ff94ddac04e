/* Read-side helpers of the store: atomic accessors with explicit orders and
 * the RCU read section (liburcu "bulletproof" flavour). Every structure of
 * src/store reads shared fields only through these, so the memory-order
 * contract of the whole store is in one place.
 *
 * _LGPL_SOURCE is deliberately not defined: urcu_bp_read_lock() stays a
 * library call, which TSan does not instrument. TSan cannot see RCU grace
 * periods either, so under OOMKIT_TSAN a read section ends with
 * __tsan_release() on the store and a writer calls __tsan_acquire() on it
 * after synchronize: that teaches TSan the ordering the grace period gives. */
#ifndef OOMKIT_STORE_SYNC_H
#define OOMKIT_STORE_SYNC_H

#include <urcu-bp.h>

#define LOAD_ACQ(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define LOAD_RLX(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define STORE_REL(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define STORE_RLX(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)

#ifdef OOMKIT_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define OOMKIT_TSAN_RELEASE(a) __tsan_release((void *)(a))
#define OOMKIT_TSAN_ACQUIRE(a) __tsan_acquire((void *)(a))
#else
#define OOMKIT_TSAN_RELEASE(a) ((void)(a))
#define OOMKIT_TSAN_ACQUIRE(a) ((void)(a))
#endif

/* Enters a read section: pointers loaded inside stay valid until rd_unlock.
 * Sections nest. */
static inline void oomkit__rd_lock(void)
{
    urcu_bp_read_lock();
}

/* Leaves a read section; `token` is the address TSan uses as the
 * synchronisation point (the store's rcu_sync byte; never a mutex's address,
 * whose unlock would overwrite the readers' releases). */
static inline void oomkit__rd_unlock(const void *token)
{
    OOMKIT_TSAN_RELEASE(token);
    urcu_bp_read_unlock();
}

/* Waits until every read section that began before the call has ended. */
static inline void oomkit__rcu_wait(const void *token)
{
    urcu_bp_synchronize_rcu();
    OOMKIT_TSAN_ACQUIRE(token);
}

#endif
