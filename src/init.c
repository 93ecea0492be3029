/* Thread and process lifecycle: thread data (tld), thread start and exit,
 * process start and exit, fork. The order of thread exit is the one
 * docs/design.md gives; every step keeps the ownership rules. */
#include "xalloc.h"
#include "check.h"
#include "arena.h"
#include "free.h"
#include "heap.h"
#include "hooks.h"
#include "lock.h"
#include "meta.h"
#include "options.h"
#include "os.h"
#include "prof.h"
#include "purge.h"
#include "segmap.h"
#include "secure.h"
#include "segment.h"
#include "stats.h"
#include "track.h"
#include "thread.h"
#include <string.h>

xa_tld_t xa__tld_empty;  /* owns nothing: a free from an uninitialised thread is cross-thread */

static _Atomic(int) process_state;  /* 0 none, 1 initialising, 2 ready */
static _Atomic(int) stats_printed;
/* Thread data is recycled, never unmapped (design.md rule 3). */
static xa_lock_t pool_lock = XA_LOCK_INIT;
static xa_tld_t* tld_pool;
static _Atomic(size_t) late_count;  /* tlds made after their thread's exit hook ran */

/* ---- fork ----------------------------------------------------------------------- */

/* No lock is taken before fork (design.md, "fork"): a fork-prepare handler
 * that waits for our locks deadlocks with stdio (a thread holding a FILE
 * lock waits in malloc while fork waits for that FILE) and with a fork from
 * a signal handler that interrupted a fork or a malloc. Instead, in the
 * child every lock is freed, and a structure whose lock was held at the fork
 * is discarded (its memory leaks) rather than trusted. */
void xa__on_fork_child(void) {
  if (xa__lock_fork_child(&pool_lock)) tld_pool = NULL;  /* pooled thread data leaks */
  xa_tld_t* self = xa__tls_tld_get();
  /* Another thread's purge pass may have held our lock while it aged out
   * our cache: the cache may be torn, so forget it (a bounded leak). */
  if (self != &xa__tld_empty && xa__lock_fork_child(&self->lock)) self->cache_count = 0;
  xa__purge_fork_child();
  xa__meta_fork_child();
  xa__arena_fork_child();
  xa__segment_fork_child();
  xa__segmap_fork_child();
  xa__prof_fork_child();
  /* A thread of the parent was setting the process up: finish it here. */
  int expect = 1;
  if (atomic_compare_exchange_strong(&process_state, &expect, 2)) {
    xa__secure_init();  /* does nothing if the parent got as far */
    xa__options_read();
  }
}

/* ---- process --------------------------------------------------------------------- */

static uint64_t ended_threads_pass(uint64_t now);

static void process_init(void) {
  if (xa_likely(atomic_load_explicit(&process_state, memory_order_acquire) == 2)) return;
  int expect = 0;
  if (atomic_compare_exchange_strong(&process_state, &expect, 1)) {
    xa__secure_init();  /* before any block is freed: the mark is one of its keys */
    xa__track_init();   /* before the first page */
    xa__purge_set_ended_threads(ended_threads_pass);
    xa__hooks_init();
    xa__options_read();
    atomic_store_explicit(&process_state, 2, memory_order_release);
  } else {
    while (atomic_load_explicit(&process_state, memory_order_acquire) != 2) xa__os_yield();
  }
}

void xa__on_process_start(void) {
  process_init();
  xa__options_read();  /* the environment may not have been set up at an earlier first malloc */
}

void xa__on_process_exit(void) { xa_process_done(); }

/* ---- thread start ------------------------------------------------------------------- */

static xa_tld_t* tld_acquire(void) {
  xa__lock(&pool_lock);
  xa_tld_t* tld = tld_pool;
  if (tld != NULL) tld_pool = tld->pool_next;
  xa__unlock(&pool_lock);
  if (tld == NULL) {
    tld = xa__meta_alloc(sizeof(xa_tld_t));
    if (tld == NULL) return NULL;
    xa__purge_register(tld);
  }
  tld->pool_next = NULL;
  return tld;
}

static void tld_release(xa_tld_t* tld) {
  xa__lock(&pool_lock);
  tld->pool_next = tld_pool;
  tld_pool = tld;
  xa__unlock(&pool_lock);
  xa__stats_free_event();
  /* A late push into its inbox is drained by the next pass: make sure one comes. */
  int64_t delay = xa__option_get(XA_OPT_PURGE_DELAY);
  if (delay >= 0) xa__purge_schedule(xa__os_clock_ms() + (uint64_t)delay);
}

xa_heap_t* xa__thread_init(void) {
  if (xa__tls_tld_get() != &xa__tld_empty) return xa__tls_heap_get();
  process_init();
  bool late = xa__hooks_thread_exit_ran();
  xa_tld_t* tld = tld_acquire();
  if (tld == NULL) return NULL;
  xa_heap_t* heap = xa__meta_alloc(sizeof(xa_heap_t));
  if (heap == NULL) {
    tld_release(tld);
    return NULL;
  }
  xa__heap_init(heap, tld, true);
  tld->heap_original = heap;
  tld->heap_default = heap;
  tld->heaps = heap;
  xa__lock(&tld->lock);  /* a purge pass may be looking at the recycled tld */
  tld->segments = NULL;
  tld->cache_count = 0;
  xa__unlock(&tld->lock);
  tld->free_segments[0] = tld->free_segments[1] = NULL;
  tld->collect_at = 0;
  tld->tid = xa__os_thread_id();
  tld->active = true;
  if (late) {
    /* Allocating in a late thread-local destructor: the exit hook may not run
     * again for it, so someone else hands this over once the thread is gone. */
    atomic_store(&tld->late, 1);
    atomic_fetch_add(&late_count, 1);
    xa__purge_schedule(xa__os_clock_ms() + XA_CACHE_DELAY_MS);
  }
  xa__tls_tld_set(tld);
  xa__tls_heap_set(heap);
  /* Arm the exit destructor. Re-armed for a thread that allocates again
   * after its exit path ran (other libraries' TLS destructors). */
  xa__hooks_thread_arm(tld);
  xa__stat_add(XA_STAT_threads, 1);
  xa__stat_add(XA_STAT_heaps, 1);
  /* A recycled tld may hold blocks pushed by late freers. */
  xa__inbox_drain(&tld->inbox);
  xa__purge_thread_maybe_start();
  return heap;
}

void xa__thread_set_default(xa_tld_t* tld, xa_heap_t* heap) {
  tld->heap_default = heap;
  xa__tls_heap_set(heap);
}

/* ---- collection ------------------------------------------------------------------- */

static void drain_idle_inboxes(void) {
  xa__orphans_drain();
  for (xa_tld_t* t = xa__purge_registry(); t != NULL; t = t->all_next) {
    if (!t->active) xa__inbox_drain(&t->inbox);
  }
}

void xa__thread_collect(xa_tld_t* tld, bool abandoned, bool force) {
  xa__inbox_drain(&tld->inbox);
  for (xa_heap_t* h = tld->heaps; h != NULL; h = h->next) xa__heap_collect_pages(h);
  if (abandoned) {
    drain_idle_inboxes();
    xa_segment_t* seg;
    while ((seg = xa__segment_reclaim(tld, true, NULL)) != NULL) xa__heap_reclaim_segment(tld->heap_original, seg);
  }
  if (force) {
    xa__heap_purge_big(tld, xa__os_clock_ms(), true);
    xa__segments_purge(tld);
    xa__purge_run(xa__os_clock_ms(), true);
  } else if (abandoned) {
    ended_threads_pass(xa__os_clock_ms());
  }
  if (XA_DEBUG) xa__validate();
}

/* ---- thread exit ------------------------------------------------------------------- */

void xa__thread_heap_release(xa_tld_t* tld, xa_heap_t* heap) {
  for (xa_heap_t** link = &tld->heaps; *link != NULL; link = &(*link)->next) {
    if (*link == heap) {
      *link = heap->next;
      break;
    }
  }
  xa__meta_free(heap, sizeof(xa_heap_t));
  xa__stat_add(XA_STAT_heaps, -1);
}

/* Hand over everything tld holds. `self`: the calling thread is tld's own
 * (its TLS is reset); otherwise tld's thread has ended and the caller acts
 * for it (late thread data, see ended_threads_pass). */
static void tld_done(xa_tld_t* tld, bool self) {
  int was_late = atomic_exchange(&tld->late, 0);
  if (was_late) atomic_fetch_sub(&late_count, 1);
  xa_heap_t* original = tld->heap_original;
  if (self) xa__thread_set_default(tld, original);
  else tld->heap_default = original;
  /* 1. blocks other threads handed back */
  xa__inbox_drain(&tld->inbox);
  /* 2. user heaps: live pages move to the original heap (as xa_heap_delete) */
  while (tld->heaps != original || original->next != NULL) {
    xa_heap_t* h = tld->heaps != original ? tld->heaps : original->next;
    xa__heap_move_pages(h, original);
    xa__thread_heap_release(tld, h);
  }
  /* 3. free what is free */
  xa__heap_collect_pages(original);
  if (XA_DEBUG && self) xa__validate();
  /* 4. hand the rest over: pages leave the heap, segments the thread */
  xa__heap_detach_all(original);
  while (tld->segments != NULL) xa__segment_abandon(tld, tld->segments);
  /* 5. blocks that arrived meanwhile are freed by their new rules */
  xa__inbox_drain(&tld->inbox);
  xa__segment_cache_release(tld);
  xa__thread_heap_release(tld, original);
  tld->heap_original = tld->heap_default = NULL;
  tld->active = false;
  if (self) {
    xa__tls_heap_set(&xa__heap_empty);
    xa__tls_tld_set(&xa__tld_empty);
  }
  xa__stat_add(XA_STAT_threads, -1);
  tld_release(tld);
}

static void thread_done(xa_tld_t* tld) { tld_done(tld, true); }

/* What ended threads left where nobody looks, for every purge pass:
 * - blocks in the orphan inbox and in pooled thread data's inboxes (a freer
 *   that read its owner as active just before the owner's last drain pushes
 *   there afterwards);
 * - thread data made after its thread's exit hook ran (a thread that
 *   allocates in the last round of thread-local destructors), handed over
 *   once the OS says its thread has ended. Exactly one caller wins the tld
 *   (late: 1 -> 2); its own thread cannot be running. */
static uint64_t ended_threads_pass(uint64_t now) {
  drain_idle_inboxes();
  if (atomic_load_explicit(&late_count, memory_order_relaxed) == 0) return UINT64_MAX;
  xa_tld_t* me = xa__tls_tld_get();
  for (xa_tld_t* t = xa__purge_registry(); t != NULL; t = t->all_next) {
    if (t == me || atomic_load_explicit(&t->late, memory_order_acquire) != 1) continue;
    if (xa__os_thread_alive(t->tid)) continue;
    int expect = 1;
    if (!atomic_compare_exchange_strong(&t->late, &expect, 2)) continue;
    tld_done(t, false);  /* counts it out of late_count */
    xa__stat_add(XA_STAT_late_handovers, 1);
  }
  return atomic_load_explicit(&late_count, memory_order_relaxed) != 0 ? now + XA_CACHE_DELAY_MS : UINT64_MAX;
}

void xa__on_thread_exit(xa_tld_t* tld) {
  if (tld != NULL && tld == xa__tls_tld_get()) thread_done(tld);
}

XA_API void xa_thread_done(void) {
  xa_tld_t* tld = xa__tls_tld_get();
  if (tld == &xa__tld_empty) return;
  xa__hooks_thread_arm(NULL);
  thread_done(tld);
}

/* ---- public process functions ------------------------------------------------------ */

XA_API void xa_collect(bool force) {
  xa_heap_t* heap = xa__thread_init();
  if (heap == NULL) return;
  xa__thread_collect(xa__tls_tld_get(), true, force);
}

/* Free events counted when the last full trim ended; UINT64_MAX: none yet.
 * Read at the end, not the start: the trim's own collection frees pages
 * (the empty page each size class keeps), and counting those would make
 * every next trim a full one (a program calling malloc_trim every few
 * allocations, as stress-ng does). The price: memory another thread frees
 * while a trim runs, and that the trim missed, waits for the next event. */
static _Atomic(uint64_t) trim_seen = UINT64_MAX;

bool xa__trim(void) {
  if (xa__stats_free_events() == atomic_load_explicit(&trim_seen, memory_order_relaxed)) return false;
  int64_t before = xa__stat_current(XA_STAT_purged_bytes) + xa__stat_current(XA_STAT_unmapped_bytes);
  xa_collect(true);
  atomic_store_explicit(&trim_seen, xa__stats_free_events(), memory_order_relaxed);
  return xa__stat_current(XA_STAT_purged_bytes) + xa__stat_current(XA_STAT_unmapped_bytes) != before;
}

XA_API void xa_process_done(void) {
  /* Collect this thread and all abandoned memory; purge. Other threads'
   * heaps are never touched. Allocation keeps working afterwards. */
  if (xa__thread_init() != NULL) xa__thread_collect(xa__tls_tld_get(), true, true);
  if (xa__option(XA_OPT_SHOW_STATS) && atomic_exchange(&stats_printed, 1) == 0) xa__stats_print_at_exit();
  xa__prof_at_exit();  /* XALLOC_PROFILE_FILE, once */
}

XA_API void xa_stats_print(void) { xa__stats_print_to_stderr(); }
