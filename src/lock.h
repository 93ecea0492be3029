/* A small spinlock for the few process-wide structures (abandoned list,
 * metadata free lists, thread-data pool). It never allocates, can be
 * reinitialised in a fork child, and yields when contended. Every lock
 * needs a fork-child rule (xa__lock_fork_child). */
#ifndef XA_LOCK_H
#define XA_LOCK_H

#include "config.h"
#include "os.h"
#include <stdatomic.h>

typedef struct xa_lock_s { _Atomic(int) held; } xa_lock_t;
#define XA_LOCK_INIT { 0 }

XA_INLINE bool xa__lock_try(xa_lock_t* l) {
  int expect = 0;
  return atomic_load_explicit(&l->held, memory_order_relaxed) == 0 &&
         atomic_compare_exchange_strong_explicit(&l->held, &expect, 1, memory_order_acquire,
                                                 memory_order_relaxed);
}

XA_INLINE void xa__lock(xa_lock_t* l) {
  for (unsigned spins = 0; !xa__lock_try(l); spins++) {
    if (spins > 64) xa__os_yield();
  }
}

XA_INLINE void xa__unlock(xa_lock_t* l) { atomic_store_explicit(&l->held, 0, memory_order_release); }

/* In a fork child: free the lock and tell whether it was held when the
 * process forked. Nothing is locked across fork (design.md, "fork"): a held
 * lock belonged to a thread that does not exist in the child (or to a frame
 * the fork interrupted), so the structure it protects may be half changed
 * and the caller discards it. */
XA_INLINE bool xa__lock_fork_child(xa_lock_t* l) {
  bool held = atomic_load_explicit(&l->held, memory_order_relaxed) != 0;
  atomic_store_explicit(&l->held, 0, memory_order_relaxed);
  return held;
}

#endif
