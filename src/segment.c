/* Segments (segment.h).
 *
 * Invariants:
 * - A segment in tld->segments is owned by tld and has used_pages > 0, except
 *   transiently inside these functions; a segment with no used page is either
 *   in tld->cache or released.
 * - tld->free_segments[kind] holds exactly the owned small/medium segments
 *   with a free page (in_free_list mirrors membership).
 * - Releasing a segment removes it from every list in the same function that
 *   unmaps it, and reports it to the caller (pitfall 1 in lifecycle-pitfalls).
 * - tld->lock covers tld->segments, the cache and the state of free pages
 *   (in_use, dirty, purge_at): the owner holds it while it changes them, a
 *   purging thread while it reads them (it only purges free, due pages and
 *   ages out the cache).
 * - seg->committed = bytes of the segment counted as committed: the header
 *   (or, for huge segments, everything up to the end of the block) plus every
 *   dirty page.
 */
#include "segment.h"
#include "arena.h"
#include "limit.h"
#include "lock.h"
#include "options.h"
#include "os.h"
#include "segmap.h"
#include "stats.h"
#include "track.h"
#include <string.h>

_Static_assert(sizeof(xa_segment_t) + XA_MAX_PAGES * sizeof(xa_page_t) <= XA_SEGMENT_META,
               "segment header must fit in XA_SEGMENT_META");

/* ---- lists of the owner ---------------------------------------------------- */

static void all_link(xa_tld_t* tld, xa_segment_t* seg) {
  seg->all_prev = NULL;
  seg->all_next = tld->segments;
  if (tld->segments != NULL) tld->segments->all_prev = seg;
  tld->segments = seg;
}

static void all_unlink(xa_tld_t* tld, xa_segment_t* seg) {
  if (seg->all_prev != NULL) seg->all_prev->all_next = seg->all_next;
  else tld->segments = seg->all_next;
  if (seg->all_next != NULL) seg->all_next->all_prev = seg->all_prev;
  seg->all_next = seg->all_prev = NULL;
}

static void free_link(xa_tld_t* tld, xa_segment_t* seg) {
  if (seg->in_free_list || seg->kind > XA_KIND_MEDIUM) return;
  xa_segment_t** head = &tld->free_segments[seg->kind];
  seg->free_prev = NULL;
  seg->free_next = *head;
  if (*head != NULL) (*head)->free_prev = seg;
  *head = seg;
  seg->in_free_list = 1;
}

static void free_unlink(xa_tld_t* tld, xa_segment_t* seg) {
  if (!seg->in_free_list) return;
  if (seg->free_prev != NULL) seg->free_prev->free_next = seg->free_next;
  else tld->free_segments[seg->kind] = seg->free_next;
  if (seg->free_next != NULL) seg->free_next->free_prev = seg->free_prev;
  seg->free_next = seg->free_prev = NULL;
  seg->in_free_list = 0;
}

/* ---- creation and release ---------------------------------------------------- */

static uint64_t deadline_after(uint64_t now);

static size_t page_bytes(const xa_segment_t* seg, uint32_t i) {
  size_t size;
  xa__segment_page_area(seg, &seg->pages[i], &size);
  return size;
}

static void purge_range(uint8_t* start, size_t size) {
  xa__track_quiet_begin();  /* the purge writes a marker into freed memory (os.h) */
  if (xa__option_get(XA_OPT_PURGE_MODE) == XA_PURGE_FREE) xa__os_purge_lazy(start, size);
  else xa__os_purge(start, size);
  xa__track_quiet_end();
  xa__stat_add(XA_STAT_purged_bytes, (int64_t)size);
  xa__stat_add(XA_STAT_purges, 1);
}

/* Bytes a timed (not forced) purge pass may still give back: a pass runs
 * inside some thread's malloc or free, so it stops after this much and the
 * rest is due at once, for the next slow path (keeps each call short). Only
 * one pass runs at a time (purge.c), and only passes purge without force. */
static size_t pass_budget = SIZE_MAX;

void xa__purge_budget(size_t bytes) { pass_budget = bytes; }

bool xa__purge_budget_take(size_t bytes) {
  if (pass_budget == 0) return false;
  if (pass_budget != SIZE_MAX) pass_budget = pass_budget > bytes ? pass_budget - bytes : 0;
  return true;
}

/* Purge seg's free, dirty pages that are due at `now` (all of them with
 * force), one call per run of neighbours; returns the earliest deadline left
 * (UINT64_MAX: none). Caller holds what guards the pages' state. */
static uint64_t segment_purge_pages(xa_segment_t* seg, uint64_t now, bool force) {
  uint64_t next = UINT64_MAX;
  if (seg->kind == XA_KIND_HUGE) return next;
  uint8_t* run = NULL;
  size_t run_size = 0;
  for (uint32_t i = 0; i <= seg->page_count; i++) {
    xa_page_t* page = i < seg->page_count ? &seg->pages[i] : NULL;
    if (page != NULL && !page->in_use && page->dirty) {
      if (!force && page->purge_at <= now && pass_budget < run_size + ((size_t)1 << seg->page_shift)) {
        if (now < next) next = now;  /* over budget: the next pass takes it */
      } else if (force || page->purge_at <= now) {
        size_t size;
        uint8_t* start = xa__segment_page_area(seg, page, &size);
        if (run == NULL) run = start;
        run_size = (size_t)(start + size - run);
        page->dirty = 0;
        atomic_fetch_sub_explicit(&seg->committed, size, memory_order_relaxed);
        xa__commit_release(size);
        continue;
      }
      if (page->purge_at < next) next = page->purge_at;
    }
    if (run != NULL) {
      purge_range(run, run_size);
      if (!force && pass_budget != SIZE_MAX) pass_budget = pass_budget > run_size ? pass_budget - run_size : 0;
      run = NULL;
      run_size = 0;
    }
  }
  return next;
}

/* The segment's own fields and page descriptors (a huge segment's fit in
 * the 4 KiB below its block). */
static size_t header_bytes(const xa_segment_t* seg) {
  return seg->kind == XA_KIND_HUGE ? 4096 : XA_SEGMENT_HEADER;
}

/* Lay out seg for pages of `kind`. A reused segment of the same kind keeps
 * its pages' dirty state (the memory is still touched); one of another kind
 * is purged first, so that dirty pages and seg->committed stay exact. */
static void segment_format(xa_segment_t* seg, xa_kind_t kind, bool fresh) {
  bool keep_dirty = !fresh && seg->kind == kind && kind != XA_KIND_HUGE;
  if (!fresh && !keep_dirty && seg->kind != XA_KIND_HUGE) segment_purge_pages(seg, 0, true);
  uint8_t dirty[XA_MAX_PAGES];
  if (keep_dirty) for (uint32_t i = 0; i < seg->page_count; i++) dirty[i] = seg->pages[i].dirty;
  seg->kind = kind;
  switch (kind) {
    case XA_KIND_SMALL:  seg->page_shift = XA_SMALL_PAGE_SHIFT;  seg->page_count = XA_SMALL_PAGES;  break;
    case XA_KIND_MEDIUM: seg->page_shift = XA_MEDIUM_PAGE_SHIFT; seg->page_count = XA_MEDIUM_PAGES; break;
    case XA_KIND_LARGE:  seg->page_shift = XA_SEGMENT_SHIFT;     seg->page_count = 1;               break;
    case XA_KIND_HUGE:   seg->page_shift = 63;                   seg->page_count = 1;               break;
  }
  seg->used_pages = 0;
  seg->all_next = seg->all_prev = seg->free_next = seg->free_prev = NULL;
  seg->in_free_list = 0;
  seg->abandoned_next = NULL;
  memset(seg->pages, 0, seg->page_count * sizeof(xa_page_t));
  if (keep_dirty) {
    /* Reused from the cache: its pages count as freed now, not when they
     * were freed before the segment was cached (a pass would otherwise purge
     * them just before the allocations that reuse them). */
    uint64_t due = deadline_after(xa__os_clock_ms());
    for (uint32_t i = 0; i < seg->page_count; i++) {
      seg->pages[i].dirty = dirty[i];
      seg->pages[i].purge_at = due;
    }
    if (due != UINT64_MAX) xa__purge_schedule(due);
  }
  if (xa__tracking()) xa__track_header_hide(seg, header_bytes(seg));
}

static void segment_unmap_raw(xa_segment_t* seg, size_t size) {
  if (!xa__arena_segment_free(seg)) xa__os_free(seg, size);
}

/* ---- guard pages (secure build) ----------------------------------------------
 * Inaccessible OS pages: in a standard segment, [XA_SEGMENT_META,
 * XA_SEGMENT_HEADER) between the page descriptors and page 0; in a huge one,
 * the last OS page of its mapping, right after the block (so seg->size
 * counts it). They are set when a segment is mapped and stay until it is
 * unmapped: purges only madvise, the thread's cache keeps segments as they
 * are, a released arena chunk keeps its guard (every standard segment has
 * it at the same place, and huge segments never come from the arena in this
 * build), and a huge segment's guard moves only where its end moves
 * (huge_shrink, xa__segment_huge_resize). */

/* Bytes at the end of a huge segment's mapping that a new one needs for its
 * guard. */
static size_t huge_guard(void) { return XA_SECURE ? xa__os_page_size() : 0; }

/* Bytes at the end of a huge segment's mapping that its block does not
 * reach: in the secure build the guard page and, after the segment was
 * reused for a smaller block, the room past it, inaccessible but still
 * mapped (a later growth opens it with one mprotect instead of the three
 * system calls of a remap). */
static size_t huge_tail(const xa_segment_t* seg) {
#if XA_SECURE
  return seg->tail;
#else
  (void)seg;
  return 0;
#endif
}

/* A huge segment whose guard page is readable: setting it after a remap
 * failed (another thread took the mapping slot). The block does not reach
 * that page; the next resize sets the guard again, and the segment is
 * unmapped rather than cached when freed. */
static bool seg_unguarded(const xa_segment_t* seg) {
#if XA_SECURE
  return seg->unguarded != 0;
#else
  (void)seg;
  return false;
#endif
}

#if XA_SECURE
static bool segment_guard_set(xa_segment_t* seg, size_t size, bool huge) {
  size_t ps = xa__os_page_size();
  if (huge) return xa__os_protect((uint8_t*)seg + size - ps, ps, false);
  size_t from = xa_align_up(XA_SEGMENT_META, ps);
  if (from >= XA_SEGMENT_HEADER) return true;  /* OS pages above 8 KiB: no room for one */
  return xa__os_protect((uint8_t*)seg + from, XA_SEGMENT_HEADER - from, false);
}
#endif

/* A new segment of size bytes: standard ones from the arena when possible.
 * *fresh tells whether it reads as zero. */
static xa_segment_t* segment_map(size_t size, bool huge, bool* fresh) {
  xa_segment_t* seg = NULL;
  *fresh = true;
  /* (The secure build keeps huge segments out of the arena: their guard
   * would be inside a chunk that a standard segment may use next.) */
  if (size == XA_SEGMENT_SIZE && !(XA_SECURE && huge)) seg = xa__arena_segment_alloc(fresh);
  if (seg == NULL) {
    *fresh = true;
    seg = xa__os_alloc_aligned(size, XA_SEGMENT_SIZE);
  }
  if (seg == NULL) {
    xa__verbose("the OS refused a segment of bytes:", size);
    return NULL;
  }
#if XA_SECURE
  seg->unguarded = 0;
  seg->tail = huge ? huge_guard() : 0;
  if (!segment_guard_set(seg, size, huge)) {  /* vm.max_map_count reached: fail like a refused mapping */
    xa__verbose("the OS refused a guard page (mprotect) for a segment at:", (uintptr_t)seg);
    segment_unmap_raw(seg, size);
    return NULL;
  }
#else
  (void)huge;
#endif
  if (!xa__segmap_add((uintptr_t)seg, size)) {  /* beyond the address map: not usable */
    segment_unmap_raw(seg, size);
    return NULL;
  }
  seg->size = size;
  seg->kind = XA_KIND_SMALL;
  atomic_store_explicit(&seg->committed, 0, memory_order_relaxed);
  int thp = (int)xa__option_get(XA_OPT_THP);
  if (thp != XA_THP_MADVISE) xa__os_advise_thp(seg, size, thp);
  xa__stat_add(XA_STAT_os_bytes, (int64_t)size);
  xa__stat_add(XA_STAT_segments, 1);
  return seg;
}

static void segment_unmap(xa_segment_t* seg) {
  size_t size = seg->size;
  size_t header = header_bytes(seg);
  xa__commit_release(atomic_load_explicit(&seg->committed, memory_order_relaxed));
  if (seg->kind == XA_KIND_HUGE) xa__stat_add(XA_STAT_huge_segments, -1);
  xa__segmap_remove((uintptr_t)seg, size);
  /* A chunk of the arena stays the arena's (its header is read again, and
   * hidden again when reused); other memory goes back to the OS. */
  if (xa__tracking() && !xa__in_arena(seg)) xa__track_header_unhide(seg, header);
  segment_unmap_raw(seg, size);
  xa__stat_add(XA_STAT_os_bytes, -(int64_t)size);
  xa__stat_add(XA_STAT_unmapped_bytes, (int64_t)size);
  xa__stat_add(XA_STAT_segments, -1);
}

/* ---- when free memory goes back --------------------------------------------- */

/* Earliest clock (ms) at which something is due to be purged or aged out;
 * UINT64_MAX when nothing is (purge.c runs the sweep). */
static _Atomic(uint64_t) purge_due = UINT64_MAX;

void xa__purge_schedule(uint64_t when) {
  uint64_t cur = atomic_load_explicit(&purge_due, memory_order_relaxed);
  while (when < cur && !atomic_compare_exchange_weak_explicit(&purge_due, &cur, when, memory_order_relaxed,
                                                              memory_order_relaxed)) {
  }
}

uint64_t xa__purge_due(void) { return atomic_load_explicit(&purge_due, memory_order_relaxed); }

bool xa__purge_claim(uint64_t due) {
  return atomic_compare_exchange_strong_explicit(&purge_due, &due, UINT64_MAX, memory_order_relaxed,
                                                 memory_order_relaxed);
}

/* The clock (ms) from which memory freed at `now` may go back; UINT64_MAX
 * with purge_delay -1 (never). */
static uint64_t deadline_after(uint64_t now) {
  int64_t delay = xa__option_get(XA_OPT_PURGE_DELAY);
  return delay < 0 ? UINT64_MAX : now + (uint64_t)delay;
}

static size_t cache_capacity(void) {
  int64_t n = xa__option_get(XA_OPT_SEGMENT_CACHE);
  if (n < 0) n = 0;
  if (xa__option_get(XA_OPT_PURGE_DELAY) == 0) n = 0;  /* nothing stays */
  return n > XA_SEGMENT_CACHE ? XA_SEGMENT_CACHE : (size_t)n;
}

/* ---- shared segment caches (process-wide) --------------------------------------
 * Released huge segments, and the empty standard segments that an exiting
 * thread had cached, kept for any thread to reuse until the purge delay has
 * passed since they became free (a thread that starts reuses what one that
 * ended left, resident, instead of faulting fresh pages in). Two pools: a
 * huge segment never becomes a standard one (its guard, in the secure build,
 * is elsewhere), nor the other way round. */
typedef struct {
  xa_segment_t* seg[XA_SHARED_CACHE_SLOTS];
  uint64_t since[XA_SHARED_CACHE_SLOTS];  /* clock (ms) when it became free */
  size_t bytes;                           /* cache_lock; read without it to skip an empty pool */
} seg_pool_t;

static xa_lock_t cache_lock = XA_LOCK_INIT;
static seg_pool_t huge_pool, standard_pool;

/* The smallest segment of at least need bytes (and not wastefully larger),
 * the most recently cached of equal ones, removed from the pool; NULL if none. */
static xa_segment_t* pool_take(seg_pool_t* pool, size_t need) {
  if (__atomic_load_n(&pool->bytes, __ATOMIC_RELAXED) == 0) return NULL;
  xa_segment_t* best = NULL;
  size_t best_i = 0;
  xa__lock(&cache_lock);
  for (size_t i = 0; i < XA_SHARED_CACHE_SLOTS; i++) {
    xa_segment_t* s = pool->seg[i];
    if (s == NULL || s->size < need || s->size > need + need / 2 + XA_SEGMENT_SIZE) continue;
    if (best == NULL || s->size < best->size || (s->size == best->size && pool->since[i] > pool->since[best_i])) {
      best = s;
      best_i = i;
    }
  }
  if (best != NULL) {
    pool->seg[best_i] = NULL;
    __atomic_store_n(&pool->bytes, pool->bytes - best->size, __ATOMIC_RELAXED);
  }
  xa__unlock(&cache_lock);
  return best;
}

/* Keep seg, free since `since`, if there is room and it is not yet due. */
static bool pool_put(seg_pool_t* pool, xa_segment_t* seg, uint64_t since) {
  int64_t delay = xa__option_get(XA_OPT_PURGE_DELAY);
  if (seg->size > XA_HUGE_CACHE_SEGMENT || delay == 0) return false;
  if (delay > 0 && since + (uint64_t)delay <= xa__os_clock_ms()) return false;
  bool put = false;
  xa__lock(&cache_lock);
  if (pool->bytes + seg->size <= XA_SHARED_CACHE_BYTES) {
    for (size_t i = 0; i < XA_SHARED_CACHE_SLOTS; i++) {
      if (pool->seg[i] == NULL) {
        pool->seg[i] = seg;
        pool->since[i] = since;
        __atomic_store_n(&pool->bytes, pool->bytes + seg->size, __ATOMIC_RELAXED);
        put = true;
        break;
      }
    }
  }
  xa__unlock(&cache_lock);
  if (put) xa__purge_schedule(deadline_after(since));
  return put;
}

/* Unmap what is due (everything with force); the next deadline. */
static uint64_t pool_age(seg_pool_t* pool, uint64_t now, bool force) {
  if (__atomic_load_n(&pool->bytes, __ATOMIC_RELAXED) == 0) return UINT64_MAX;
  int64_t delay = xa__option_get(XA_OPT_PURGE_DELAY);
  for (;;) {
    xa_segment_t* seg = NULL;
    uint64_t next = UINT64_MAX;
    xa__lock(&cache_lock);
    for (size_t i = 0; i < XA_SHARED_CACHE_SLOTS && seg == NULL; i++) {
      if (pool->seg[i] == NULL) continue;
      uint64_t due = delay < 0 ? UINT64_MAX : pool->since[i] + (uint64_t)delay;
      if (force || due <= now) {
        seg = pool->seg[i];
        pool->seg[i] = NULL;
        __atomic_store_n(&pool->bytes, pool->bytes - seg->size, __ATOMIC_RELAXED);
      } else if (due < next) {
        next = due;
      }
    }
    xa__unlock(&cache_lock);
    if (seg == NULL) return next;
    segment_unmap(seg);  /* outside the lock: munmap may take a while */
  }
}

uint64_t xa__shared_cache_age(uint64_t now, bool force) {
  uint64_t a = pool_age(&huge_pool, now, force), b = pool_age(&standard_pool, now, force);
  return a < b ? a : b;
}

/* ---- segments of a thread ------------------------------------------------------ */

static xa_segment_t* segment_alloc(xa_tld_t* tld, xa_kind_t kind) {
  xa_segment_t* seg = NULL;
  bool fresh = false;
  xa__lock(&tld->lock);
  if (tld->cache_count > 0) seg = tld->cache[--tld->cache_count];
  xa__unlock(&tld->lock);
  if (seg == NULL) seg = pool_take(&standard_pool, XA_SEGMENT_SIZE);
  if (seg != NULL) {
    xa__stat_add(XA_STAT_cache_hits, 1);
  } else {
    if (!xa__commit_charge(XA_SEGMENT_HEADER)) return NULL;
    seg = segment_map(XA_SEGMENT_SIZE, false, &fresh);
    if (seg == NULL) {
      xa__commit_release(XA_SEGMENT_HEADER);
      return NULL;
    }
    atomic_store_explicit(&seg->committed, XA_SEGMENT_HEADER, memory_order_relaxed);
  }
  segment_format(seg, kind, fresh);
  atomic_store_explicit(&seg->owner, (uintptr_t)tld, memory_order_release);
  xa__lock(&tld->lock);
  all_link(tld, seg);
  xa__unlock(&tld->lock);
  return seg;
}

/* The segment has no used page: cache it or give it back to the OS. The
 * caller holds tld->lock. */
static void segment_release(xa_tld_t* tld, xa_segment_t* seg) {
  free_unlink(tld, seg);
  all_unlink(tld, seg);
  if (seg->kind == XA_KIND_HUGE) {
    /* Owned by nobody while cached (a stale free is a cross-thread free). */
    atomic_store_explicit(&seg->owner, 0, memory_order_release);
    if (!(XA_SECURE && seg_unguarded(seg)) && pool_put(&huge_pool, seg, xa__os_clock_ms())) return;
  } else if (seg->size == XA_SEGMENT_SIZE && tld->cache_count < cache_capacity()) {
    /* Owned by nobody while cached: a stale free into it takes the
     * cross-thread path and cannot disturb the owner's bookkeeping. */
    atomic_store_explicit(&seg->owner, 0, memory_order_release);
    uint64_t now = xa__os_clock_ms();
    tld->cache_since[tld->cache_count] = now;
    tld->cache[tld->cache_count++] = seg;
    xa__purge_schedule(deadline_after(now));
    return;
  }
  segment_unmap(seg);
}

/* At thread exit: the cached segments go to the shared cache, with the time
 * they became free (their deadline does not move), or back to the OS. */
void xa__segment_cache_release(xa_tld_t* tld) {
  xa__lock(&tld->lock);
  while (tld->cache_count > 0) {
    tld->cache_count--;
    xa_segment_t* seg = tld->cache[tld->cache_count];
    if (!pool_put(&standard_pool, seg, tld->cache_since[tld->cache_count])) segment_unmap(seg);
  }
  xa__unlock(&tld->lock);
}

/* ---- pages --------------------------------------------------------------------- */

uint8_t* xa__segment_page_area(const xa_segment_t* seg, const xa_page_t* page, size_t* size) {
  size_t idx = (size_t)(page - seg->pages);
  size_t psize = seg->kind == XA_KIND_LARGE ? XA_SEGMENT_SIZE : ((size_t)1 << seg->page_shift);
  uint8_t* start = (uint8_t*)seg + idx * psize;
  if (idx == 0) {
    start += XA_SEGMENT_HEADER;
    psize -= XA_SEGMENT_HEADER;
  }
  if (size != NULL) *size = psize;
  return start;
}

bool xa__segment_free_page_any(const xa_tld_t* tld, xa_kind_t kind) {
  return kind <= XA_KIND_MEDIUM && tld->free_segments[kind] != NULL;
}

xa_page_t* xa__segment_page_alloc(xa_tld_t* tld, xa_kind_t kind) {
  xa_segment_t* seg = kind <= XA_KIND_MEDIUM ? tld->free_segments[kind] : NULL;
  if (seg == NULL) {
    seg = segment_alloc(tld, kind);
    if (seg == NULL) return NULL;
  }
  xa__lock(&tld->lock);
  /* A dirty free page first: its memory is resident already. */
  xa_page_t* page = NULL;
  for (uint32_t i = 0; i < seg->page_count; i++) {
    xa_page_t* p = &seg->pages[i];
    if (p->in_use) continue;
    if (page == NULL || (p->dirty && !page->dirty)) page = p;
    if (page->dirty) break;
  }
  /* free_segments only holds segments with a free page */
  if (page == NULL) {
    xa__unlock(&tld->lock);
    return NULL;
  }
  if (!page->dirty) {
    size_t size = page_bytes(seg, (uint32_t)(page - seg->pages));
    if (!xa__commit_charge(size)) {
      if (seg->used_pages == 0) segment_release(tld, seg);  /* the segment was new for this page */
      xa__unlock(&tld->lock);
      return NULL;
    }
    atomic_fetch_add_explicit(&seg->committed, size, memory_order_relaxed);
  }
  memset(page, 0, sizeof(*page));
  page->dirty = 1;
  page->in_use = 1;
  page->start = xa__segment_page_area(seg, page, NULL);
  seg->used_pages++;
  if (seg->used_pages < seg->page_count) free_link(tld, seg);
  else free_unlink(tld, seg);
  xa__unlock(&tld->lock);
  xa__stat_add(XA_STAT_pages, 1);
  return page;
}

bool xa__segment_page_free(xa_tld_t* tld, xa_page_t* page) {
  xa_segment_t* seg = xa__page_segment(page);
  uint64_t now = xa__os_clock_ms();
  uint64_t due = deadline_after(now);
  xa__stat_add(XA_STAT_pages, -1);
  xa__stats_page_gone(page);
  xa__stats_free_event();
  xa__lock(&tld->lock);
  memset(page, 0, sizeof(*page));
  page->dirty = 1;
  page->purge_at = due;
  seg->used_pages--;
  if (seg->used_pages == 0) {
    segment_release(tld, seg);
    xa__unlock(&tld->lock);
    return true;
  }
  free_link(tld, seg);
  if (due <= now) segment_purge_pages(seg, now, true);  /* purge_delay 0: everything free goes */
  xa__unlock(&tld->lock);
  if (due > now && due != UINT64_MAX) xa__purge_schedule(due);
  return false;
}

/* Where the block of a huge segment starts when aligned to align: after a
 * header of one OS page (8 KiB where OS pages are larger), so a plain huge
 * block starts 4 KiB into its segment. */
static size_t huge_offset(size_t align) {
  size_t header = xa__os_page_size();
  if (header > XA_SEGMENT_HEADER) header = XA_SEGMENT_HEADER;
  return xa_align_up(header, align);
}
_Static_assert(sizeof(xa_segment_t) + sizeof(xa_page_t) <= 4096, "a huge segment's header fits in 4 KiB");
_Static_assert(sizeof(void*) != 8 || sizeof(xa_page_t) == 120, "page descriptors stay at 120 bytes (types.h)");

/* A huge block's usable size in its segment: size rounded up to the OS page
 * size, within the mapping. In the secure build all that precedes the tail:
 * p[usable size] is the guard. */
static size_t huge_block_size(const xa_segment_t* seg, size_t offset, size_t size) {
  size_t bs = xa_align_up(size, xa__os_page_size());
  size_t room = seg->size - offset - huge_tail(seg);
  return bs < room && !XA_SECURE ? bs : room;
}

#if XA_SECURE
/* Make the block of huge segment seg end `end` bytes into the mapping, with
 * the guard and the rest of the mapping after it (end + the guard <=
 * seg->size): what the block gains is opened, what it loses is closed. The
 * mapping keeps its size, and closed pages keep their memory, like the room
 * past a block in the normal build (a cached segment is unmapped when its
 * delay has passed; a shrink by realloc unmaps, huge_shrink). False when the
 * OS refuses: the block then ends where it did. One mprotect. */
static bool huge_tail_move(xa_segment_t* seg, size_t end) {
  uint8_t* base = (uint8_t*)seg;
  size_t now = seg->size - seg->tail;
  if (end > now && !xa__os_protect(base + now, end - now, true)) return false;
  if (end < now && !xa__os_protect(base + end, now - end, false)) return false;
  seg->tail = seg->size - end;
  return true;
}
#endif

xa_page_t* xa__segment_huge_alloc(xa_tld_t* tld, size_t size, size_t align, bool* fresh) {
  if (align < 16) align = 16;
  if (size == 0) size = 1;  /* a zero-size block is still a distinct, non-empty block */
  size_t offset = huge_offset(align);
  if (size > PTRDIFF_MAX - offset - XA_SEGMENT_SIZE) return NULL;
  /* Only what the block needs is mapped (the start is still 4 MiB-aligned):
   * under an address-space limit every page of it counts. The rest of the
   * last 4 MiB chunk is not ours; nothing takes a pointer there for one. */
  size_t seg_size = xa_align_up(offset + size, xa__os_page_size()) + huge_guard();
  size_t need = seg_size;  /* what the block may touch, header (and guard) included */
  bool zeroed = false;
  xa_segment_t* seg = pool_take(&huge_pool, seg_size);
#if XA_SECURE
  /* The guard goes right after the block: what a larger cached segment has
   * past it joins the tail. */
  if (seg != NULL && !huge_tail_move(seg, seg_size - huge_guard())) {
    segment_unmap(seg);
    seg = NULL;
  }
#endif
  if (seg != NULL) {
    size_t had = atomic_load_explicit(&seg->committed, memory_order_relaxed);
    if (need > had) {
      if (!xa__commit_charge(need - had)) {
        segment_unmap(seg);
        return NULL;
      }
      atomic_store_explicit(&seg->committed, need, memory_order_relaxed);
    }
    xa__stat_add(XA_STAT_cache_hits, 1);
  } else {
    if (!xa__commit_charge(need)) return NULL;
    seg = segment_map(seg_size, true, &zeroed);
    if (seg == NULL) {
      xa__commit_release(need);
      return NULL;
    }
    atomic_store_explicit(&seg->committed, need, memory_order_relaxed);
    xa__stat_add(XA_STAT_huge_segments, 1);
  }
  segment_format(seg, XA_KIND_HUGE, zeroed);
  xa_page_t* page = &seg->pages[0];
  page->in_use = 1;
  page->dirty = 1;
  page->start = (uint8_t*)seg + offset;
  page->block_size = huge_block_size(seg, offset, size);
  page->reserved = 1;
  seg->used_pages = 1;
  atomic_store_explicit(&seg->owner, (uintptr_t)tld, memory_order_release);
  xa__lock(&tld->lock);
  all_link(tld, seg);
  xa__unlock(&tld->lock);
  xa__stat_add(XA_STAT_pages, 1);
  *fresh = zeroed;
  return page;
}

size_t xa__segment_huge_room(const xa_segment_t* seg, const xa_page_t* page) {
  return seg->size - (size_t)(page->start - (const uint8_t*)seg) - huge_tail(seg);
}

/* Shrink: give back the whole pages past the block's new end. The header
 * stays where it is, so readers in other threads (xa_is_in_heap_region)
 * need not be waited for; they compare with the size, stored first.
 * False only in the secure build, when the guard at the new end could not
 * be set: the mapping then stays as it was. */
static bool huge_shrink(xa_segment_t* seg, size_t new_size) {
  size_t old_size = seg->size;
  if (XA_SECURE && new_size == old_size && seg_unguarded(seg)) {
#if XA_SECURE
    if (!xa__os_protect((uint8_t*)seg + new_size - huge_guard(), huge_guard(), false)) return false;
    seg->unguarded = 0;
#endif
  }
  if (new_size >= old_size || xa__in_arena(seg)) return true;  /* an arena chunk stays whole */
  /* The new guard first: the pages before it stay valid either way. */
  if (XA_SECURE && !xa__os_protect((uint8_t*)seg + new_size - huge_guard(), huge_guard(), false)) return false;
#if XA_SECURE
  seg->unguarded = 0;  /* a readable old guard page goes with the tail */
  size_t old_tail = seg->tail;
  seg->tail = huge_guard();
#endif
  xa__segmap_shrink((uintptr_t)seg, old_size, new_size);
  __atomic_store_n(&seg->size, new_size, __ATOMIC_RELAXED);
  if (!xa__os_shrink(seg, old_size, new_size)) {  /* not supported here: keep it all */
    __atomic_store_n(&seg->size, old_size, __ATOMIC_RELAXED);
    xa__segmap_add((uintptr_t)seg, old_size);
#if XA_SECURE
    seg->tail = old_tail;
    if (new_size - huge_guard() < old_size - old_tail) xa__os_protect((uint8_t*)seg + new_size - huge_guard(), huge_guard(), true);
#endif
    return true;
  }
  xa__stat_add(XA_STAT_os_bytes, -(int64_t)(old_size - new_size));
  xa__stat_add(XA_STAT_unmapped_bytes, (int64_t)(old_size - new_size));
  return true;
}

xa_page_t* xa__segment_huge_resize(xa_tld_t* tld, xa_page_t* page, size_t size, bool* done) {
  xa_segment_t* seg = xa__page_segment(page);
  size_t offset = (size_t)(page->start - (uint8_t*)seg);
  size_t ps = xa__os_page_size();
  *done = false;
  if (size == 0 || size > PTRDIFF_MAX - offset - XA_SEGMENT_SIZE) return page;
  size_t old_size = seg->size;
  size_t new_size = xa_align_up(offset + size, ps) + huge_guard();
#if XA_SECURE
  size_t end = new_size - huge_guard();
  if (new_size <= old_size && end > old_size - seg->tail) {  /* grows into its tail */
    size_t had = atomic_load_explicit(&seg->committed, memory_order_relaxed);
    if (new_size > had) {
      if (!xa__commit_charge(new_size - had)) return page;
      atomic_store_explicit(&seg->committed, new_size, memory_order_relaxed);
    }
    if (!huge_tail_move(seg, end)) {
      if (new_size > had) {
        atomic_store_explicit(&seg->committed, had, memory_order_relaxed);
        xa__commit_release(new_size - had);
      }
      return page;
    }
    size_t old_bs = page->block_size;
    __atomic_store_n(&page->block_size, huge_block_size(seg, offset, size), __ATOMIC_RELAXED);
    xa__stats_huge_resized(page, old_bs);
    *done = true;
    return page;
  }
#endif
  if (new_size <= old_size) {
    if (!huge_shrink(seg, new_size)) {  /* secure: no guard at the new end, so nothing changes */
      *done = page->block_size >= size;
      return page;
    }
    size_t had = atomic_load_explicit(&seg->committed, memory_order_relaxed);
    if (had > new_size) {  /* the pages past the end went back */
      atomic_store_explicit(&seg->committed, new_size, memory_order_relaxed);
      xa__commit_release(had - new_size);
    }
    /* Atomic: xa_heap_contains may read it from another thread. */
    size_t old_bs = page->block_size;
    __atomic_store_n(&page->block_size, huge_block_size(seg, offset, size), __ATOMIC_RELAXED);
    xa__stats_huge_resized(page, old_bs);
    *done = true;
    return page;
  }
  /* An arena chunk cannot leave the arena (which must stay readable). */
  if (xa__in_arena(seg)) return page;
  /* The growth counts as committed (the memory limit may refuse it). */
  size_t had = atomic_load_explicit(&seg->committed, memory_order_relaxed);
  if (new_size > had) {
    if (!xa__commit_charge(new_size - had)) return page;
    atomic_store_explicit(&seg->committed, new_size, memory_order_relaxed);
  }
#if XA_SECURE
  /* mremap takes one mapping: open the tail, which merges back into the
   * block's (a new guard is set at the end below). */
  if (!xa__os_protect((uint8_t*)seg + old_size - seg->tail, seg->tail, true)) {
    if (new_size > had) {
      atomic_store_explicit(&seg->committed, had, memory_order_relaxed);
      xa__commit_release(new_size - had);
    }
    return page;
  }
#endif
  /* The header may move with the pages: take the segment out of the owner's
   * list (its neighbours point at it) and out of the address map, which
   * waits until no reader in another thread (xa_heap_contains, ...) looks at
   * the header any more. Frees of other blocks never touch this segment
   * (it holds one block, which the caller holds). */
  xa__lock(&tld->lock);  /* a purge pass walks tld->segments */
  all_unlink(tld, seg);
  xa__unlock(&tld->lock);
  xa__segmap_remove((uintptr_t)seg, old_size);
  size_t mapped;
  xa_segment_t* now = xa__os_remap(seg, old_size, new_size, XA_SEGMENT_SIZE, &mapped);
  /* seg may be gone: from here on only `now`. Its header holds the same
   * fields; the absolute pointer into it is recomputed. */
  page = &now->pages[0];
  page->start = (uint8_t*)now + offset;
  __atomic_store_n(&now->size, mapped, __ATOMIC_RELAXED);
  /* The guard at the (new) end. Opening the old one gave back the mapping
   * slot this takes, so only another thread mapping meanwhile at
   * vm.max_map_count makes it fail: the block then keeps its old size (the
   * caller copies it, or fails with ENOMEM), without a guard until a later
   * resize sets one (seg_unguarded). */
  bool guarded = !XA_SECURE || xa__os_protect((uint8_t*)now + mapped - huge_guard(), huge_guard(), false);
#if XA_SECURE
  now->unguarded = !guarded;
  now->tail = huge_guard();
#endif
  if (!guarded) xa__verbose("the OS refused a guard page (mprotect) after a moved huge block at:", (uintptr_t)now);
  /* mmap never hands out addresses beyond the map's 48 bits unless asked
   * to (nothing here asks). The one way this can fail is a new leaf of the
   * map (8 KiB, once per 128 GiB of address space) that the OS refuses:
   * then the block still works, but free does not recognise it (reported
   * once, leaked), which is still better than losing the content. */
  if (!xa__segmap_add((uintptr_t)now, mapped)) xa__verbose("a moved huge segment is not in the address map:", (uintptr_t)now);
  xa__lock(&tld->lock);
  all_link(tld, now);
  xa__unlock(&tld->lock);
  if (mapped < new_size) {  /* it moved but could not grow: give the charge back */
    size_t extra = atomic_load_explicit(&now->committed, memory_order_relaxed);
    if (extra > mapped) {
      atomic_store_explicit(&now->committed, mapped, memory_order_relaxed);
      xa__commit_release(extra - mapped);
    }
  }
  if (mapped != old_size || now != seg) xa__stat_add(XA_STAT_huge_remaps, 1);
  xa__stat_add(XA_STAT_os_bytes, (int64_t)mapped - (int64_t)old_size);
  if (mapped >= new_size && guarded) {
    size_t old_bs = page->block_size;
    __atomic_store_n(&page->block_size, huge_block_size(now, offset, size), __ATOMIC_RELAXED);
    xa__stats_huge_resized(page, old_bs);
    *done = true;
  }
#if XA_SECURE
  /* It did not grow: the tail it had was opened, so close what the block
   * does not reach again (p[usable size] is the guard), or say it is not. */
  else if (guarded && !huge_tail_move(now, offset + page->block_size)) {
    now->unguarded = 1;
  }
#endif
  return page;
}

void xa__segment_purge_range(uint8_t* start, size_t size) { purge_range(start, size); }

void xa__segment_huge_purge_block(xa_segment_t* seg, const xa_page_t* page) {
  /* Keep the block's first OS page: it holds the free-list link and mark. */
  size_t ps = xa__os_page_size();
  uint8_t* from = page->start + ps;
  uint8_t* to = page->start + page->block_size;
  if (to <= from) return;
  size_t bytes = (size_t)(to - from);
  purge_range(from, bytes);
  atomic_fetch_sub_explicit(&seg->committed, bytes, memory_order_relaxed);
  xa__commit_release(bytes);
#if XA_SECURE
  /* The closed room past the guard (a reused larger segment) may still hold
   * the memory an earlier block touched; madvise works on closed pages. */
  if (seg->tail > huge_guard()) purge_range((uint8_t*)seg + seg->size - seg->tail + huge_guard(), seg->tail - huge_guard());
#endif
}

uint64_t xa__segments_purge_due(xa_tld_t* tld, uint64_t now, bool force, bool wait) {
  if (wait) xa__lock(&tld->lock);
  else if (!xa__lock_try(&tld->lock)) return now + XA_PURGE_RETRY_MS;
  uint64_t next = UINT64_MAX;
  for (xa_segment_t* seg = tld->segments; seg != NULL; seg = seg->all_next) {
    uint64_t due = segment_purge_pages(seg, now, force);
    if (due < next) next = due;
  }
  /* Cached segments nobody took for the delay go back to the OS. */
  int64_t delay = xa__option_get(XA_OPT_PURGE_DELAY);
  size_t kept = 0;
  for (size_t i = 0; i < tld->cache_count; i++) {
    uint64_t due = delay < 0 ? UINT64_MAX : tld->cache_since[i] + (uint64_t)delay;
    if (force || due <= now) {
      segment_unmap(tld->cache[i]);
      continue;
    }
    if (due < next) next = due;
    tld->cache[kept] = tld->cache[i];
    tld->cache_since[kept] = tld->cache_since[i];
    kept++;
  }
  tld->cache_count = kept;
  xa__unlock(&tld->lock);
  return next;
}

void xa__segments_purge(xa_tld_t* tld) { xa__segments_purge_due(tld, 0, true, true); }

/* ---- abandoned segments ------------------------------------------------------ */

static xa_lock_t abandoned_lock = XA_LOCK_INIT;
/* One list per kind, most recently abandoned first: a thread looking for a
 * page of one kind scans only segments that can have it (a list shared by
 * all kinds hid the few medium segments behind many small ones, and threads
 * mapped new ones while those piled up). */
#define XA_KINDS (XA_KIND_HUGE + 1)
static xa_segment_t* abandoned_head[XA_KINDS];
static _Atomic(size_t) abandoned_count[XA_KINDS];  /* read without the lock */

bool xa__abandoned_of(xa_kind_t kind) { return atomic_load_explicit(&abandoned_count[kind], memory_order_relaxed) != 0; }

bool xa__abandoned_any(void) {
  for (size_t kind = 0; kind < XA_KINDS; kind++) {
    if (xa__abandoned_of((xa_kind_t)kind)) return true;
  }
  return false;
}

void xa__segment_abandon(xa_tld_t* tld, xa_segment_t* seg) {
  xa__lock(&tld->lock);
  free_unlink(tld, seg);
  all_unlink(tld, seg);
  xa__unlock(&tld->lock);
  uint64_t now = xa__os_clock_ms();
  seg->abandoned_at = now;
  /* From here on every free into this segment is a cross-thread free. */
  atomic_store_explicit(&seg->owner, 0, memory_order_release);
  xa__lock(&abandoned_lock);
  seg->abandoned_next = abandoned_head[seg->kind];
  abandoned_head[seg->kind] = seg;
  atomic_fetch_add_explicit(&abandoned_count[seg->kind], 1, memory_order_relaxed);
  xa__unlock(&abandoned_lock);
  xa__stat_add(XA_STAT_abandoned, 1);
  xa__stats_free_event();
  xa__purge_schedule(deadline_after(now));
}

/* Segments abandoned for the delay and not reclaimed since: nobody allocates
 * from them until a thread reclaims them, which may be never. Under the list
 * lock the sweeper is their only bookkeeper (frees into them only push on
 * xthread_free): it takes in what other threads freed, frees the pages left
 * without live blocks, purges free pages that are due and gives back the
 * segments left empty. (Doing this at abandonment would cost thread churn
 * dearly: exiting threads' segments are usually reclaimed soon.) */
uint64_t xa__abandoned_sweep(uint64_t now, bool force, xa_page_collect_fun* collect) {
  if (!xa__abandoned_any()) return UINT64_MAX;
  if (!xa__lock_try(&abandoned_lock)) return now + XA_PURGE_RETRY_MS;
  int64_t delay = xa__option_get(XA_OPT_PURGE_DELAY);
  uint64_t next = UINT64_MAX;
  xa_segment_t* empty = NULL;
  xa_segment_t* seg;
  for (size_t kind = 0; kind < XA_KINDS; kind++) {
    xa_segment_t** link = &abandoned_head[kind];
    while ((seg = *link) != NULL) {
      uint64_t due = delay < 0 ? UINT64_MAX : seg->abandoned_at + (uint64_t)delay;
      if (!force && due > now) {
        if (due < next) next = due;
        link = &seg->abandoned_next;
        continue;
      }
      for (uint32_t i = 0; i < seg->page_count; i++) {
        xa_page_t* page = &seg->pages[i];
        if (!page->in_use) continue;
        uint64_t page_next = collect(page, now, force);
        if (page_next < next) next = page_next;
        if (page->used != 0) continue;
        /* Every block of it was freed: the page is free, and due now (it
         * emptied some time after the segment was abandoned). */
        xa__stats_page_gone(page);
        memset(page, 0, sizeof(*page));
        page->dirty = 1;
        page->purge_at = now;
        seg->used_pages--;
        xa__stat_add(XA_STAT_pages, -1);
      }
      if (seg->used_pages == 0) {
        *link = seg->abandoned_next;
        atomic_fetch_sub_explicit(&abandoned_count[kind], 1, memory_order_relaxed);
        xa__stat_add(XA_STAT_abandoned, -1);
        seg->abandoned_next = empty;
        empty = seg;
        continue;
      }
      uint64_t page_due = segment_purge_pages(seg, now, force);
      if (page_due < next) next = page_due;
      /* Live blocks remain: look again for frees from other threads later. */
      if (delay >= 0 && now + (uint64_t)delay < next) next = now + (uint64_t)(delay > 0 ? delay : 1);
      link = &seg->abandoned_next;
    }
  }
  xa__unlock(&abandoned_lock);
  while (empty != NULL) {  /* no block of these is live: nobody can reach them */
    seg = empty;
    empty = seg->abandoned_next;
    segment_unmap(seg);
  }
  return next;
}

/* Whether an abandoned segment can give what want asks for: an in-use page
 * of its block size with free blocks or room not yet carved, or (free_page)
 * a free page of its kind. Read under abandoned_lock: the list's only other
 * bookkeeper (the sweep) holds it too, and other threads only push on
 * xthread_free. */
static bool reclaim_fits(const xa_segment_t* seg, const xa_reclaim_want_t* want) {
  if (seg->kind != want->kind) return false;
  if (want->free_page) return seg->used_pages < seg->page_count;
  for (uint32_t i = 0; i < seg->page_count && i < XA_MAX_PAGES; i++) {
    xa_page_t* page = (xa_page_t*)&seg->pages[i];
    if (!page->in_use || page->block_size != want->block_size) continue;
    if (page->free != NULL || page->local_free != NULL || page->capacity < page->reserved) return true;
    if ((atomic_load_explicit(&page->xthread_free, memory_order_relaxed) & ~XA_XF_NOTIFY) != 0) return true;
  }
  return false;
}

xa_segment_t* xa__segment_reclaim(xa_tld_t* tld, bool wait, const xa_reclaim_want_t* want) {
  if (!xa__abandoned_any()) return NULL;
  if (wait) xa__lock(&abandoned_lock);
  else if (!xa__lock_try(&abandoned_lock)) return NULL;
  /* With a want, the first of the first XA_RECLAIM_SCAN segments that can
   * give it (the lock is held meanwhile), or none: a segment taken for
   * nothing would stay with this thread, its free pages purged and faulted
   * in again by the next owner. Without, the most recently abandoned one
   * of the first kind that has one: its pages are the likeliest to be
   * resident. */
  xa_segment_t** at = NULL;
  for (size_t kind = 0; want == NULL && at == NULL && kind < XA_KINDS; kind++) {
    if (abandoned_head[kind] != NULL) at = &abandoned_head[kind];
  }
  if (want != NULL) {
    xa_segment_t** scan = &abandoned_head[want->kind];
    for (size_t n = 0; *scan != NULL && n < XA_RECLAIM_SCAN; n++) {
      if (reclaim_fits(*scan, want)) {
        at = scan;
        break;
      }
      scan = &(*scan)->abandoned_next;
    }
  }
  xa_segment_t* seg = at != NULL ? *at : NULL;
  if (seg != NULL) {
    *at = seg->abandoned_next;
    seg->abandoned_next = NULL;
    atomic_fetch_sub_explicit(&abandoned_count[seg->kind], 1, memory_order_relaxed);
    atomic_store_explicit(&seg->owner, (uintptr_t)tld, memory_order_release);
  }
  xa__unlock(&abandoned_lock);
  if (seg == NULL) return NULL;
  xa__stat_add(XA_STAT_abandoned, -1);
  xa__stat_add(XA_STAT_reclaimed, 1);
  xa__lock(&tld->lock);
  all_link(tld, seg);
  if (seg->used_pages < seg->page_count) free_link(tld, seg);
  xa__unlock(&tld->lock);
  /* Its free pages keep their deadlines: make sure someone looks. */
  xa__purge_schedule(deadline_after(xa__os_clock_ms()));
  return seg;
}

void xa__abandoned_visit(xa_segment_visit_fun* fn, void* arg) {
  xa__lock(&abandoned_lock);
  for (size_t kind = 0; kind < XA_KINDS; kind++) {
    for (xa_segment_t* seg = abandoned_head[kind]; seg != NULL; seg = seg->abandoned_next) fn(seg, arg);
  }
  xa__unlock(&abandoned_lock);
}

/* A list whose lock was held at the fork is forgotten: its segments stay
 * mapped and in the address map (frees into them still work) but are never
 * reused in the child. */
void xa__segment_fork_child(void) {
  if (xa__lock_fork_child(&cache_lock)) {
    memset(&huge_pool, 0, sizeof(huge_pool));
    memset(&standard_pool, 0, sizeof(standard_pool));
  }
  if (xa__lock_fork_child(&abandoned_lock)) {
    memset(abandoned_head, 0, sizeof(abandoned_head));
    for (size_t kind = 0; kind < XA_KINDS; kind++) atomic_store_explicit(&abandoned_count[kind], 0, memory_order_relaxed);
  }
  atomic_store_explicit(&purge_due, UINT64_MAX, memory_order_relaxed);
  xa__purge_schedule(deadline_after(xa__os_clock_ms()));
}
