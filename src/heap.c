/* Heaps (heap.h): queues, the allocation slow path, page migration.
 *
 * Invariants (checked by check.c):
 * - Every page in a queue of heap h has page->heap == h, page->queue == the
 *   queue's id, and in_use set; queues are proper doubly-linked lists.
 * - Bin queues (1..XA_BIN_HUGE-1) hold pages of that bin without
 *   XA_PF_UNQUEUED; the huge, full and adopted queues hold pages with it.
 * - direct[i] is the first page of the bin of size 8*i, direct_mid[i] that
 *   of size 128*i+1 (above XA_DIRECT_MAX), or xa__page_empty.
 * - Pages in the adopted queue were not allocated from h: never allocated
 *   from, never freed by destroy (lifecycle-pitfalls 2 and 3).
 */
#include "heap.h"
#include "bin.h"
#include "limit.h"
#include "options.h"
#include "os.h"
#include "page.h"
#include "prof.h"
#include "purge.h"
#include "segment.h"
#include "stats.h"
#include <string.h>

#define XA_DIRECT_BINS 32  /* bin of 1024 bytes */
#define XA_MID_BINS    64  /* bin of 16 KiB */
_Static_assert(XA_DIRECT_MAX == 1024 && XA_MID_MAX == 16384, "XA_DIRECT_BINS and XA_MID_BINS assume 1 and 16 KiB");

#define EMPTY_DIRECT_8(i) [i] = &xa__page_empty, [i + 1] = &xa__page_empty, [i + 2] = &xa__page_empty, \
  [i + 3] = &xa__page_empty, [i + 4] = &xa__page_empty, [i + 5] = &xa__page_empty,                      \
  [i + 6] = &xa__page_empty, [i + 7] = &xa__page_empty
#define EMPTY_DIRECT_32(i) EMPTY_DIRECT_8(i), EMPTY_DIRECT_8(i + 8), EMPTY_DIRECT_8(i + 16), EMPTY_DIRECT_8(i + 24)

/* The heap of a thread that has not allocated yet: every lookup misses, so
 * the first allocation takes the slow path, which initialises the thread. */
xa_heap_t xa__heap_empty = {
  .direct = { EMPTY_DIRECT_32(0), EMPTY_DIRECT_32(32), EMPTY_DIRECT_32(64), EMPTY_DIRECT_32(96),
              [128] = &xa__page_empty },
  .direct_mid = { EMPTY_DIRECT_32(0), EMPTY_DIRECT_32(32), EMPTY_DIRECT_32(64), EMPTY_DIRECT_32(96) },
};
_Static_assert(XA_DIRECT_COUNT == 129 && XA_MID_COUNT == 128, "empty heap initialiser covers the tables");

static void direct_clear(xa_heap_t* heap) {
  for (size_t i = 0; i < XA_DIRECT_COUNT; i++) heap->direct[i] = &xa__page_empty;
  for (size_t i = 0; i < XA_MID_COUNT; i++) heap->direct_mid[i] = &xa__page_empty;
}

void xa__heap_init(xa_heap_t* heap, xa_tld_t* tld, bool original) {
  memset(heap, 0, sizeof(*heap));
  direct_clear(heap);
  heap->tld = tld;
  heap->is_original = original;
}

/* ---- queues ------------------------------------------------------------------ */

static void direct_update(xa_heap_t* heap, size_t bin) {
  /* Tracking: the tables stay empty, every malloc takes the slow path. */
  if (bin == 0 || bin > XA_MID_BINS || xa__tracking()) return;
  xa_page_t* page = heap->queues[bin].first;
  if (page == NULL) page = &xa__page_empty;
  if (bin <= XA_DIRECT_BINS) {
    size_t lo = bin == 1 ? 0 : xa__bin_size(bin - 1) / 8 + 1;
    size_t hi = xa__bin_size(bin) / 8;
    for (size_t i = lo; i <= hi; i++) heap->direct[i] = page;
  } else {  /* sizes bin_size(bin - 1) + 1 .. bin_size(bin), both multiples of 128 */
    for (size_t i = xa__bin_size(bin - 1) / 128; i < xa__bin_size(bin) / 128; i++) heap->direct_mid[i] = page;
  }
}

static void queue_push(xa_heap_t* heap, xa_page_t* page, size_t q) {
  xa_page_queue_t* pq = &heap->queues[q];
  if (pq->first != NULL) pq->first->kept_alone = 0;  /* it has company now */
  page->kept_alone = 0;
  page->queue = (uint8_t)q;
  page->prev = NULL;
  page->next = pq->first;
  if (pq->first != NULL) pq->first->prev = page;
  else pq->last = page;
  pq->first = page;
  if (q == XA_QUEUE_FULL || q == XA_QUEUE_ADOPTED || q == XA_BIN_HUGE) xa__page_flags_set(page, XA_PF_UNQUEUED);
  else xa__page_flags_clear(page, XA_PF_UNQUEUED);
  direct_update(heap, q);
}

/* Put a page at the tail of bin queue q, behind the pages allocation uses
 * first: it gathers more frees before allocation comes back to it. */
static void queue_append(xa_heap_t* heap, xa_page_t* page, size_t q) {
  xa_page_queue_t* pq = &heap->queues[q];
  if (pq->first == NULL) {
    queue_push(heap, page, q);
    return;
  }
  pq->first->kept_alone = 0;  /* it has company now */
  page->kept_alone = 0;
  page->queue = (uint8_t)q;
  page->next = NULL;
  page->prev = pq->last;
  pq->last->next = page;
  pq->last = page;
  xa__page_flags_clear(page, XA_PF_UNQUEUED);
}

static void queue_remove(xa_heap_t* heap, xa_page_t* page) {
  xa_page_queue_t* pq = &heap->queues[page->queue];
  bool was_first = pq->first == page;
  if (page->prev != NULL) page->prev->next = page->next;
  else pq->first = page->next;
  if (page->next != NULL) page->next->prev = page->prev;
  else pq->last = page->prev;
  page->next = page->prev = NULL;
  page->kept_alone = 0;
  if (was_first) direct_update(heap, page->queue);
}

static size_t page_bin(const xa_page_t* page) { return xa__bin_of(page->block_size); }

/* Free a page without live blocks; true if its segment was released. */
static bool page_free(xa_heap_t* heap, xa_page_t* page) {
  queue_remove(heap, page);
  heap->page_count--;
  return xa__segment_page_free(heap->tld, page);
}

/* Adopt `page` into heap at queue q (owner already this thread). */
static void page_attach(xa_heap_t* heap, xa_page_t* page, size_t q) {
  page->heap = heap;
  heap->page_count++;
  queue_push(heap, page, q);
}

/* A full page got a block back. At the tail, not the head: at the head
 * every such page would serve one allocation and go back to the full queue,
 * and a large working set replaced at random would take both slow paths on
 * nearly every step. */
static void page_unfull(xa_heap_t* heap, xa_page_t* page) {
  xa__page_notify(page, false);
  queue_remove(heap, page);
  queue_append(heap, page, page_bin(page));
}

/* Move a page without room to the full queue. Returns true if frees from
 * other threads arrived meanwhile: the page went back to its bin queue. */
static bool page_to_full(xa_heap_t* heap, xa_page_t* page) {
  queue_remove(heap, page);
  queue_push(heap, page, XA_QUEUE_FULL);
  if (xa__page_notify(page, true)) {  /* a free slipped in before NOTIFY */
    page_unfull(heap, page);
    return true;
  }
  return false;
}

static xa_page_t* queue_find(xa_heap_t* heap, size_t bin);

/* ---- memory going back ------------------------------------------------------- */

void xa__heap_tick(xa_tld_t* tld) {
  uint64_t now = xa__os_clock_ms();
  atomic_store_explicit(&tld->active_ms, now, memory_order_relaxed);
  if (now >= tld->collect_at) {
    /* Pages whose blocks other threads freed are found only by looking:
     * once per delay, take their frees in and free the pages left empty
     * (their memory then follows the purge delay). */
    int64_t delay = xa__option_get(XA_OPT_PURGE_DELAY);
    tld->collect_at = delay < 0 ? UINT64_MAX : now + (uint64_t)(delay > 0 ? delay : 1);
    for (xa_heap_t* h = tld->heaps; h != NULL; h = h->next) xa__heap_collect_pages(h);
  }
  if (tld->big_purge_at != 0 && now >= tld->big_purge_at) xa__heap_purge_big(tld, now, false);
  xa__purge_tick(now);
  xa__purge_thread_maybe_start();
}

/* ---- big blocks ---------------------------------------------------------------
 * A page of blocks of XA_BIG_BLOCK or more (XA_PF_BIG) may stay in use for
 * good while most of its blocks are free: their memory goes back one block
 * at a time, after the purge delay like the rest. Every free of such a block
 * takes the slow path and stamps the block with the clock (its third word,
 * xa__big_stamp; another thread stamps before its push). The owner's tick
 * walks the free lists of its big pages once something is due
 * (xa__page_purge_big): a block freed that long ago gives back all but its
 * first OS page (link, mark and stamp stay) and its stamp becomes 0. A block
 * taken again is simply written; the OS hands zeroed pages to whatever was
 * given back. Pages in the full queue have no free block; the pages of an
 * abandoned segment get the same walk from the purge pass's sweep. */

void xa__heap_big_freed(xa_tld_t* tld, xa_block_t* b) {
  uint64_t now = xa__os_clock_ms();
  xa__big_stamp_set(b, now | 1);
  xa__page_big_plan(tld, now | 1);  /* due with the stamp, not a moment before */
}

void xa__heap_purge_big(xa_tld_t* tld, uint64_t now, bool force) {
  int64_t delay = xa__option_get(XA_OPT_PURGE_DELAY);
  tld->big_purge_at = 0;
  if (delay < 0 && !force) return;
  uint64_t next = UINT64_MAX;
  size_t first = xa__bin_of(XA_BIG_BLOCK);
  for (xa_heap_t* h = tld->heaps; h != NULL; h = h->next) {
    for (size_t q = first; q < XA_QUEUE_COUNT; q++) {
      if (q == XA_BIN_HUGE || q == XA_QUEUE_FULL) continue;
      for (xa_page_t* page = h->queues[q].first; page != NULL; page = page->next) {
        uint64_t due = xa__page_purge_big(page, now, force, false);
        if (due < next) next = due;
      }
    }
  }
  if (next != UINT64_MAX) tld->big_purge_at = next;
}

/* The memory limit or the OS refused a page or a huge block: collect and
 * purge everything free that can be reached now, and give back every cached
 * segment (other threads' and ended threads' too), so that the retry sees
 * what is really in use. Under an address-space limit (RLIMIT_AS) the caches
 * are what stands in the way: purged memory still holds address space. */
static _Atomic(uint64_t) room_made_at = UINT64_MAX;  /* free events seen by the last make_room */

static void make_room(xa_tld_t* tld) {
  /* Nothing became free since the last time: this would find nothing
   * either. (A program retrying an impossible size, or given sizes by an
   * attacker, must not flush every thread's caches on each try.) */
  if (xa__stats_free_events() == atomic_load_explicit(&room_made_at, memory_order_relaxed)) return;
  for (xa_heap_t* h = tld->heaps; h != NULL; h = h->next) xa__heap_collect_pages(h);
  xa__segments_purge(tld);
  xa__purge_run(xa__os_clock_ms(), true);
  atomic_store_explicit(&room_made_at, xa__stats_free_events(), memory_order_relaxed);
}

static void refused(void) {
  if (xa__commit_limit() == 0) return;  /* the OS refused: segment.c said so */
  xa__stat_add(XA_STAT_limit_failures, 1);
  xa__verbose("the memory limit refused an allocation; committed bytes:", xa__committed());
}

/* ---- allocation slow path ---------------------------------------------------- */

static xa_page_t* page_fresh(xa_heap_t* heap, size_t bin) {
  xa_tld_t* tld = heap->tld;
  xa_page_t* page = xa__segment_page_alloc(tld, xa__bin_kind(bin));
  if (page == NULL) {
    make_room(tld);
    xa_page_t* found = queue_find(heap, bin);  /* the collection may have freed blocks */
    if (found != NULL) return found;
    page = xa__segment_page_alloc(tld, xa__bin_kind(bin));
    if (page == NULL) refused();
  }
  if (page == NULL) return NULL;
  size_t area;
  xa__segment_page_area(xa__page_segment(page), page, &area);
  xa__page_init(page, bin, xa__bin_size(bin), area);
  page_attach(heap, page, bin);
  xa__page_extend(page);
  return page;
}

static xa_page_t* queue_find(xa_heap_t* heap, size_t bin) {
  xa_page_t* page = heap->queues[bin].first;
  while (page != NULL) {
    xa_page_t* next = page->next;
    if (page->free == NULL) xa__page_collect(page);
    /* (Blocks wait on local_free after a collection only while profiling.) */
    if (!xa__page_has_free(page) && page->capacity < page->reserved) xa__page_extend(page);
    if (xa__page_has_free(page)) {
      if (page != heap->queues[bin].first) {  /* make it the fast path's page */
        queue_remove(heap, page);
        queue_push(heap, page, bin);
      }
      return page;
    }
    if (page_to_full(heap, page)) {  /* back in the bin queue, at its tail */
      xa__page_collect(page);
      if (xa__page_has_free(page)) {
        queue_remove(heap, page);
        queue_push(heap, page, bin);  /* the fast path's page, as the callers expect */
        return page;
      }
    }
    page = next;
  }
  return NULL;
}

/* Take an abandoned segment that has what want asks for into the thread's
 * original heap (never a user heap: its live pages are a dead thread's) and
 * look for a page of bin again; NULL if none was taken or it has none. */
static xa_page_t* reclaim_for(xa_heap_t* heap, size_t bin, const xa_reclaim_want_t* want) {
  xa_tld_t* tld = heap->tld;
  xa_segment_t* seg = xa__segment_reclaim(tld, false, want);
  if (seg == NULL) return NULL;
  xa__heap_reclaim_segment(tld->heap_original, seg);
  return heap == tld->heap_original ? queue_find(heap, bin) : NULL;
}

xa_page_t* xa__heap_find_page(xa_heap_t* heap, size_t bin) {
  xa_page_t* page = queue_find(heap, bin);
  if (page != NULL) return page;
  /* Abandoned memory of exited threads, in this order: a page of this class
   * with room (it fills pages that live blocks keep anyway), a free page of
   * the thread's own segments, and only then an abandoned segment's free
   * page before a new or cached segment. Each exited thread's segments are
   * taken by one successor at a time, not one per size class a thread
   * misses. (A large segment's one page is never free while abandoned.) */
  xa_kind_t kind = xa__bin_kind(bin);
  if (xa__abandoned_of(kind)) {
    xa_reclaim_want_t want = {kind, xa__bin_size(bin), false};
    page = reclaim_for(heap, bin, &want);
    if (page != NULL) return page;
    if (kind <= XA_KIND_MEDIUM && !xa__segment_free_page_any(heap->tld, kind)) {
      want.free_page = true;
      page = reclaim_for(heap, bin, &want);
      if (page != NULL) return page;
    }
  }
  /* With purge_delay -1 no sweep frees what nobody takes (emptied pages,
   * empty segments, huge segments of any kind): a miss takes any abandoned
   * segment then, as before the lists were per kind. */
  if (xa__option_get(XA_OPT_PURGE_DELAY) < 0 && xa__abandoned_any()) {
    page = reclaim_for(heap, bin, NULL);
    if (page != NULL) return page;
  }
  return page_fresh(heap, bin);
}

xa_page_t* xa__heap_huge_page(xa_heap_t* heap, size_t size, size_t align, bool* fresh) {
  xa_page_t* page = xa__segment_huge_alloc(heap->tld, size, align, fresh);
  if (page == NULL) {
    make_room(heap->tld);
    page = xa__segment_huge_alloc(heap->tld, size, align, fresh);
    if (page == NULL) refused();
  }
  if (page == NULL) return NULL;
  page->used = 1;
  page->capacity = 1;
  xa__stats_page_init(page);
  xa__stats_page_sync(page);
  page_attach(heap, page, XA_BIN_HUGE);
  xa__page_notify(page, true);  /* its only free may come from another thread */
  return page;
}

void xa__heap_page_moving(xa_heap_t* heap, xa_page_t* page) { queue_remove(heap, page); }

void xa__heap_page_moved(xa_heap_t* heap, xa_page_t* page) { queue_push(heap, page, page->queue); }

/* ---- free slow paths --------------------------------------------------------------- */

/* An adopted page heard of a free (local, or a cross-thread one through the
 * inbox, which cleared NOTIFY): take in what other threads freed, return the
 * page when nothing is live, else ask to be told again. */
static void adopted_settle(xa_heap_t* heap, xa_page_t* page) {
  for (;;) {
    xa__page_collect(page);
    if (page->used == 0) {
      page_free(heap, page);
      return;
    }
    if (!xa__page_notify(page, true)) return;  /* re-armed, nothing slipped in */
  }
}

void xa__heap_page_retire(xa_heap_t* heap, xa_page_t* page) {
  xa_page_queue_t* pq = &heap->queues[page->queue];
  /* Keep the last page of a size class: a program that frees its last block
   * of a size usually allocates that size again soon. Marked, so that the
   * frees that empty it again skip this call (free's fast path tests it). */
  if (pq->first == page && pq->last == page) {
    page->kept_alone = 1;
    return;
  }
  page_free(heap, page);
}

void xa__heap_page_unqueued_free(xa_heap_t* heap, xa_page_t* page) {
  switch (page->queue) {
    case XA_BIN_HUGE:
      if (page->used == 0) page_free(heap, page);
      break;
    case XA_QUEUE_ADOPTED:
      adopted_settle(heap, page);
      break;
    default:  /* full queue: it has room again */
      page_unfull(heap, page);
      if (page->used == 0) xa__heap_page_retire(heap, page);
      break;
  }
}

/* ---- whole-heap operations ---------------------------------------------------------- */

void xa__heap_collect_pages(xa_heap_t* heap) {
  for (size_t q = 0; q < XA_QUEUE_COUNT; q++) {
    xa_page_t* page = heap->queues[q].first;
    while (page != NULL) {
      xa_page_t* next = page->next;  /* a live page: its segment stays mapped */
      xa__page_collect(page);
      if (page->used == 0) page_free(heap, page);
      else if (q == XA_QUEUE_FULL && xa__page_has_free(page)) page_unfull(heap, page);
      page = next;
    }
  }
}

/* Where a live page of another heap goes when `to` takes it over. */
static void page_take_over(xa_heap_t* to, xa_page_t* page) {
  bool huge = xa__page_is_huge(page);
  if (!to->is_original) {
    /* A user heap keeps foreign pages apart: never allocated from, never
     * freed by its destroy. It wants to hear of frees from other threads so
     * that a page whose blocks are all gone is returned (see
     * xa__heap_page_unqueued_free). */
    page_attach(to, page, XA_QUEUE_ADOPTED);
    if (xa__page_notify(page, true)) adopted_settle(to, page);
  } else if (huge) {
    page_attach(to, page, XA_BIN_HUGE);
    if (xa__page_notify(page, true)) {  /* its free slipped in before NOTIFY */
      xa__page_collect(page);
      if (page->used == 0) page_free(to, page);
    }
  } else if (page->queue == XA_QUEUE_FULL) {
    page_attach(to, page, XA_QUEUE_FULL);  /* NOTIFY stays set */
  } else {
    xa__page_notify(page, false);
    page_attach(to, page, page_bin(page));
  }
}

void xa__heap_move_pages(xa_heap_t* from, xa_heap_t* to) {
  for (size_t q = 0; q < XA_QUEUE_COUNT; q++) {
    xa_page_t* page = from->queues[q].first;
    while (page != NULL) {
      xa_page_t* next = page->next;
      xa__page_collect(page);
      if (page->used == 0) {
        page_free(from, page);
      } else {
        queue_remove(from, page);
        from->page_count--;
        page_take_over(to, page);  /* reads page->queue: still the old queue id */
      }
      page = next;
    }
  }
}

void xa__heap_free_own_pages(xa_heap_t* heap) {
  xa_heap_t* original = heap->tld->heap_original;
  for (size_t q = 0; q < XA_QUEUE_COUNT; q++) {
    xa_page_t* page = heap->queues[q].first;
    while (page != NULL) {
      xa_page_t* next = page->next;
      if (q == XA_QUEUE_ADOPTED) {
        xa__page_collect(page);
        queue_remove(heap, page);
        heap->page_count--;
        if (page->used == 0) xa__segment_page_free(heap->tld, page);
        else page_take_over(original, page);
      } else {
        /* Its live blocks go with it: so do their samples in the heap profile. */
        if (atomic_load_explicit(&page->prof_live, memory_order_relaxed) != 0) xa__prof_forget_page(page);
        page_free(heap, page);  /* every block of it was allocated from heap */
      }
      page = next;
    }
  }
}

void xa__heap_reclaim_segment(xa_heap_t* original, xa_segment_t* seg) {
  xa_tld_t* tld = original->tld;
  xa_page_t* empty[XA_MAX_PAGES];
  size_t n_empty = 0;
  uint32_t count = seg->page_count;
  for (uint32_t i = 0; i < count; i++) {
    xa_page_t* page = &seg->pages[i];
    if (!page->in_use) continue;
    xa__page_collect(page);
    if (page->used == 0) {
      empty[n_empty++] = page;
      continue;
    }
    page->queue = xa__page_is_huge(page) ? XA_BIN_HUGE : (uint8_t)page_bin(page);
    /* Its freed big blocks were stamped by whoever freed them, maybe long
     * ago: as if freed at time 0, look at the next tick (which plans on). */
    if (xa__page_flags(page) & XA_PF_BIG) xa__page_big_plan(tld, 0);
    /* May free a huge page whose block was freed meanwhile, releasing its
     * one-page segment: the loop then ends (count is 1) without touching it. */
    page_take_over(original, page);
  }
  /* Free empty pages last: the final one may release the segment, after
   * which neither seg nor its pages may be touched (pitfall 1). */
  for (size_t i = 0; i < n_empty; i++) {
    if (xa__segment_page_free(tld, empty[i])) break;
  }
}

void xa__heap_detach_all(xa_heap_t* heap) {
  for (size_t q = 0; q < XA_QUEUE_COUNT; q++) {
    xa_page_t* page = heap->queues[q].first;
    while (page != NULL) {
      xa_page_t* next = page->next;
      xa__page_notify(page, false);
      page->heap = NULL;
      page->next = page->prev = NULL;
      page->kept_alone = 0;
      page = next;
    }
    heap->queues[q].first = heap->queues[q].last = NULL;
  }
  direct_clear(heap);
  heap->page_count = 0;
}
