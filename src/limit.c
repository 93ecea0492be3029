/* Committed memory and the hard limit (limit.h). */
#include "limit.h"
#include "options.h"
#include "stats.h"
#include <stdatomic.h>

static _Atomic(size_t) committed;

size_t xa__commit_limit(void) {
  int64_t limit = xa__option_get(XA_OPT_LIMIT);
  return limit > 0 ? (size_t)limit : 0;
}

bool xa__commit_charge(size_t n) {
  size_t limit = xa__commit_limit();
  if (limit == 0) {
    atomic_fetch_add_explicit(&committed, n, memory_order_relaxed);
  } else {
    size_t cur = atomic_load_explicit(&committed, memory_order_relaxed);
    do {
      if (cur + n > limit || cur + n < cur) return false;
    } while (!atomic_compare_exchange_weak_explicit(&committed, &cur, cur + n, memory_order_relaxed,
                                                    memory_order_relaxed));
  }
  xa__stat_add(XA_STAT_committed, (int64_t)n);
  return true;
}

void xa__commit_release(size_t n) {
  atomic_fetch_sub_explicit(&committed, n, memory_order_relaxed);
  xa__stat_add(XA_STAT_committed, -(int64_t)n);
}

size_t xa__committed(void) { return atomic_load_explicit(&committed, memory_order_relaxed); }
