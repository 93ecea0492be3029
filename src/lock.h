/* A small spinlock for the few process-wide structures (abandoned list,
 * metadata free lists, thread-data pool). It never allocates, can be
 * reinitialised in a fork child, and yields when contended. */
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

/* Only in a fork child, where the holder no longer exists. */
XA_INLINE void xa__lock_reset(xa_lock_t* l) { atomic_store_explicit(&l->held, 0, memory_order_relaxed); }

#endif
