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
#include "segmap.h"
#include "segment.h"
#include "stats.h"
#include "thread.h"
#include <string.h>

xa_tld_t xa__tld_empty;  /* owns nothing: a free from an uninitialised thread is cross-thread */

static _Atomic(int) process_state;  /* 0 none, 1 initialising, 2 ready */
static _Atomic(int) stats_printed;
/* Thread data is recycled, never unmapped (design.md rule 3). */
static xa_lock_t pool_lock = XA_LOCK_INIT;
static xa_tld_t* tld_pool;
static _Atomic(xa_tld_t*) tld_all;

/* ---- fork ----------------------------------------------------------------------- */

void xa__on_fork_prepare(void) {
  xa__lock(&pool_lock);
  xa__segment_fork_prepare();
  xa__arena_fork_prepare();
  xa__meta_fork_prepare();
}
void xa__on_fork_parent(void) {
  xa__meta_fork_parent();
  xa__arena_fork_parent();
  xa__segment_fork_parent();
  xa__unlock(&pool_lock);
}
void xa__on_fork_child(void) {
  /* Only the forking thread exists in the child: locks held by others at the
   * fork were taken by fork_prepare on its behalf, so just reset them. */
  xa__meta_fork_child();
  xa__arena_fork_child();
  xa__segment_fork_child();
  xa__lock_reset(&pool_lock);
  xa__segmap_fork_child();
}

/* ---- process --------------------------------------------------------------------- */

static void process_init(void) {
  if (xa_likely(atomic_load_explicit(&process_state, memory_order_acquire) == 2)) return;
  int expect = 0;
  if (atomic_compare_exchange_strong(&process_state, &expect, 1)) {
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
    xa_tld_t* head = atomic_load(&tld_all);
    do {
      tld->all_next = head;
    } while (!atomic_compare_exchange_weak(&tld_all, &head, tld));
  }
  tld->pool_next = NULL;
  return tld;
}

static void tld_release(xa_tld_t* tld) {
  xa__lock(&pool_lock);
  tld->pool_next = tld_pool;
  tld_pool = tld;
  xa__unlock(&pool_lock);
}

xa_heap_t* xa__thread_init(void) {
  if (xa__tls_tld_get() != &xa__tld_empty) return xa__tls_heap_get();
  process_init();
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
  tld->segments = NULL;
  tld->free_segments[0] = tld->free_segments[1] = NULL;
  tld->cache_count = 0;
  tld->active = true;
  xa__tls_tld_set(tld);
  xa__tls_heap_set(heap);
  /* Arm the exit destructor. Re-armed for a thread that allocates again
   * after its exit path ran (other libraries' TLS destructors). */
  xa__hooks_thread_arm(tld);
  xa__stat_add(XA_STAT_threads, 1);
  xa__stat_add(XA_STAT_heaps, 1);
  /* A recycled tld may hold blocks pushed by late freers. */
  xa__inbox_drain(&tld->inbox);
  return heap;
}

void xa__thread_set_default(xa_tld_t* tld, xa_heap_t* heap) {
  tld->heap_default = heap;
  xa__tls_heap_set(heap);
}

/* ---- collection ------------------------------------------------------------------- */

static void drain_idle_inboxes(void) {
  xa__orphans_drain();
  for (xa_tld_t* t = atomic_load(&tld_all); t != NULL; t = t->all_next) {
    if (!t->active) xa__inbox_drain(&t->inbox);
  }
}

void xa__thread_collect(xa_tld_t* tld, bool abandoned, bool force) {
  xa__inbox_drain(&tld->inbox);
  for (xa_heap_t* h = tld->heaps; h != NULL; h = h->next) xa__heap_collect_pages(h);
  if (abandoned) {
    drain_idle_inboxes();
    xa_segment_t* seg;
    while ((seg = xa__segment_reclaim(tld, true)) != NULL) xa__heap_reclaim_segment(tld->heap_original, seg);
  }
  if (force) {
    xa__segments_purge(tld);
    xa__huge_cache_release();
  }
  if (XA_DEBUG) xa__validate();
}

/* ---- thread exit ------------------------------------------------------------------- */

static void heap_unlink_free(xa_tld_t* tld, xa_heap_t* heap) {
  for (xa_heap_t** link = &tld->heaps; *link != NULL; link = &(*link)->next) {
    if (*link == heap) {
      *link = heap->next;
      break;
    }
  }
  xa__meta_free(heap, sizeof(xa_heap_t));
  xa__stat_add(XA_STAT_heaps, -1);
}

static void thread_done(xa_tld_t* tld) {
  xa_heap_t* original = tld->heap_original;
  xa__thread_set_default(tld, original);
  /* 1. blocks other threads handed back */
  xa__inbox_drain(&tld->inbox);
  /* 2. user heaps: live pages move to the original heap (as xa_heap_delete) */
  while (tld->heaps != original || original->next != NULL) {
    xa_heap_t* h = tld->heaps != original ? tld->heaps : original->next;
    xa__heap_move_pages(h, original);
    heap_unlink_free(tld, h);
  }
  /* 3. free what is free */
  xa__heap_collect_pages(original);
  if (XA_DEBUG) xa__validate();
  /* 4. hand the rest over: pages leave the heap, segments the thread */
  xa__heap_detach_all(original);
  while (tld->segments != NULL) xa__segment_abandon(tld, tld->segments);
  /* 5. blocks that arrived meanwhile are freed by their new rules */
  xa__inbox_drain(&tld->inbox);
  xa__segment_cache_release(tld);
  heap_unlink_free(tld, original);
  tld->heap_original = tld->heap_default = NULL;
  tld->active = false;
  xa__tls_heap_set(&xa__heap_empty);
  xa__tls_tld_set(&xa__tld_empty);
  xa__stat_add(XA_STAT_threads, -1);
  tld_release(tld);
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

XA_API void xa_process_done(void) {
  /* Collect this thread and all abandoned memory; purge. Other threads'
   * heaps are never touched. Allocation keeps working afterwards. */
  if (xa__thread_init() != NULL) xa__thread_collect(xa__tls_tld_get(), true, true);
  if (xa__option(XA_OPT_SHOW_STATS) && atomic_exchange(&stats_printed, 1) == 0) xa__stats_print_at_exit();
}

XA_API void xa_stats_print(void) { xa__stats_print_to_stderr(); }
