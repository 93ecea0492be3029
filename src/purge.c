/* Giving free memory back on time (purge.h). */
#include "purge.h"
#include "options.h"
#include "os.h"
#include "page.h"
#include "segment.h"
#include "tls.h"

static _Atomic(xa_tld_t*) registry;
static xa_ended_threads_fun* _Atomic ended_threads;
static _Atomic(int) purge_thread_state;  /* 0 none, 1 running, 2 the OS refused */

void xa__purge_register(xa_tld_t* tld) {
  xa_tld_t* head = atomic_load_explicit(&registry, memory_order_relaxed);
  do {
    tld->all_next = head;
  } while (!atomic_compare_exchange_weak_explicit(&registry, &head, tld, memory_order_release,
                                                  memory_order_relaxed));
}

xa_tld_t* xa__purge_registry(void) { return atomic_load_explicit(&registry, memory_order_acquire); }

void xa__purge_set_ended_threads(xa_ended_threads_fun* fn) { atomic_store(&ended_threads, fn); }

static _Atomic(uint64_t) idle_counted_at;  /* clock (ms) of the last count; 0: never */
static _Atomic(uint64_t) idle_factor = 1;

uint64_t xa__owner_idle_ms(uint64_t now) {
  uint64_t delay = (uint64_t)xa__option_get(XA_OPT_PURGE_DELAY);
  uint64_t at = atomic_load_explicit(&idle_counted_at, memory_order_relaxed);
  if (at == 0 || now - at >= delay) {
    /* Racing counters each store a count of about the same moment. The
     * registry only grows, and is as long as the most threads that ever
     * ran at once (thread data is pooled). */
    size_t busy = 0;
    for (xa_tld_t* t = xa__purge_registry(); t != NULL; t = t->all_next) {
      if (!atomic_load_explicit(&t->active, memory_order_relaxed)) continue;
      uint64_t last = atomic_load_explicit(&t->active_ms, memory_order_relaxed);
      if (last > now || now - last < delay) busy++;  /* (its clock read a moment after ours) */
    }
    size_t cpus = xa__os_cpu_count();
    atomic_store_explicit(&idle_factor, busy > cpus ? busy / cpus : 1, memory_order_relaxed);
    atomic_store_explicit(&idle_counted_at, now == 0 ? 1 : now, memory_order_relaxed);
  }
  return delay * atomic_load_explicit(&idle_factor, memory_order_relaxed);
}

/* The sweep's look at a page of an abandoned segment: take in what other
 * threads freed, give back the memory of freed big blocks. */
static uint64_t collect_abandoned_page(xa_page_t* page, uint64_t now, bool force) {
  xa__page_collect(page);
  return page->used != 0 ? xa__page_purge_big(page, now, force, true) : UINT64_MAX;
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

static _Atomic(int) pass_running;
static _Atomic(uintptr_t) pass_thread;  /* thread data of the thread running the pass */

/* Claim the pass. A caller that must see it done (an allocation about to
 * fail for want of memory) waits for another thread's pass, never for its
 * own (a pass's frees may reach here). */
static bool pass_claim(bool wait) {
  while (atomic_exchange_explicit(&pass_running, 1, memory_order_acquire)) {
    /* Threads without thread data share xa__tld_empty: such a waiter may
     * take another's pass for its own and not wait (no harm but a missed
     * retry); a thread inside its own pass never waits for itself. */
    if (!wait || atomic_load_explicit(&pass_thread, memory_order_relaxed) == (uintptr_t)xa__tls_tld_get()) return false;
    xa__os_yield();
  }
  atomic_store_explicit(&pass_thread, (uintptr_t)xa__tls_tld_get(), memory_order_relaxed);
  return true;
}

uint64_t xa__purge_run(uint64_t now, bool force) {
  /* One pass at a time: a pass frees blocks (late thread data), and those
   * frees must not start another pass inside it. A forced pass waits for a
   * running one and then runs itself. */
  if (!pass_claim(force)) return now + XA_PURGE_RETRY_MS;
  xa__purge_budget(force ? SIZE_MAX : XA_PURGE_PASS_BYTES);
  uint64_t next = UINT64_MAX;
  /* First: blocks it frees and segments it abandons are then seen below. */
  xa_ended_threads_fun* ended = atomic_load(&ended_threads);
  if (ended != NULL) next = ended(now);
  for (xa_tld_t* t = xa__purge_registry(); t != NULL; t = t->all_next) {
    next = min_u64(next, xa__segments_purge_due(t, now, force, false));
  }
  next = min_u64(next, xa__abandoned_sweep(now, force, collect_abandoned_page));
  next = min_u64(next, xa__shared_cache_age(now, force));
  xa__purge_budget(SIZE_MAX);
  atomic_store_explicit(&pass_thread, 0, memory_order_relaxed);
  atomic_store_explicit(&pass_running, 0, memory_order_release);
  return next;
}

void xa__purge_tick(uint64_t now) {
  uint64_t due = xa__purge_due();
  if (xa_likely(now < due) || !xa__purge_claim(due)) return;
  uint64_t next = xa__purge_run(now, false);
  if (next != UINT64_MAX) xa__purge_schedule(next <= now ? now + 1 : next);
}

/* ---- the purge thread (option purge_thread) ------------------------------------ */

static void purge_thread_main(void) {
  while (xa__option(XA_OPT_PURGE_THREAD)) {
    uint64_t now = xa__os_clock_ms();
    uint64_t due = xa__purge_due();
    if (due <= now) {
      xa__purge_tick(now);
      continue;
    }
    int64_t delay = xa__option_get(XA_OPT_PURGE_DELAY);
    uint64_t nap = delay > 0 ? (uint64_t)delay : XA_CACHE_DELAY_MS;
    xa__os_sleep_ms(min_u64(due - now, nap));
  }
  atomic_store(&purge_thread_state, 0);
}

void xa__purge_thread_maybe_start(void) {
  if (!xa__option(XA_OPT_PURGE_THREAD) || atomic_load_explicit(&purge_thread_state, memory_order_relaxed) != 0) return;
  int expect = 0;
  if (!atomic_compare_exchange_strong(&purge_thread_state, &expect, 1)) return;
  if (!xa__os_thread_start(purge_thread_main)) {
    atomic_store(&purge_thread_state, 2);
    xa__verbose("the purge thread could not be started; error", 0);
  }
}

/* The thread does not exist in a fork child: the next safe point starts one. */
void xa__purge_fork_child(void) {
  atomic_store(&purge_thread_state, 0);
  atomic_store(&pass_thread, 0);
  atomic_store(&pass_running, 0);
}
