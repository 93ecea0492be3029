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
 */
#include "segment.h"
#include "arena.h"
#include "lock.h"
#include "options.h"
#include "os.h"
#include "segmap.h"
#include "stats.h"
#include <string.h>

_Static_assert(sizeof(xa_segment_t) + XA_MAX_PAGES * sizeof(xa_page_t) <= XA_SEGMENT_HEADER,
               "segment header must fit in XA_SEGMENT_HEADER");

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

static void segment_format(xa_segment_t* seg, xa_kind_t kind, bool fresh) {
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
  for (uint32_t i = 0; i < seg->page_count; i++) seg->pages[i].dirty = fresh ? 0 : 1;
}

static void segment_unmap_raw(xa_segment_t* seg, size_t size) {
  if (!xa__arena_segment_free(seg)) xa__os_free(seg, size);
}

/* A new segment of size bytes: standard ones from the arena when possible.
 * *fresh tells whether it reads as zero. */
static xa_segment_t* segment_map(size_t size, bool* fresh) {
  xa_segment_t* seg = NULL;
  *fresh = true;
  if (size == XA_SEGMENT_SIZE) seg = xa__arena_segment_alloc(fresh);
  if (seg == NULL) {
    *fresh = true;
    seg = xa__os_alloc_aligned(size, XA_SEGMENT_SIZE);
  }
  if (seg == NULL) {
    xa__verbose("the OS refused a segment of bytes:", size);
    return NULL;
  }
  if (!xa__segmap_add((uintptr_t)seg, size)) {  /* beyond the address map: not usable */
    segment_unmap_raw(seg, size);
    return NULL;
  }
  seg->size = size;
  xa__stat_add(XA_STAT_os_bytes, (int64_t)size);
  xa__stat_add(XA_STAT_segments, 1);
  return seg;
}

static void segment_unmap(xa_segment_t* seg) {
  size_t size = seg->size;
  if (seg->kind == XA_KIND_HUGE) xa__stat_add(XA_STAT_huge_segments, -1);
  xa__segmap_remove((uintptr_t)seg, size);
  segment_unmap_raw(seg, size);
  xa__stat_add(XA_STAT_os_bytes, -(int64_t)size);
  xa__stat_add(XA_STAT_segments, -1);
}

static xa_segment_t* segment_alloc(xa_tld_t* tld, xa_kind_t kind) {
  xa_segment_t* seg;
  bool fresh;
  if (tld->cache_count > 0) {
    seg = tld->cache[--tld->cache_count];
    fresh = false;
    xa__stat_add(XA_STAT_cache_hits, 1);
  } else {
    seg = segment_map(XA_SEGMENT_SIZE, &fresh);
    if (seg == NULL) return NULL;
  }
  segment_format(seg, kind, fresh);
  atomic_store_explicit(&seg->owner, (uintptr_t)tld, memory_order_release);
  all_link(tld, seg);
  return seg;
}

/* ---- huge segment cache (process-wide) --------------------------------------- */

static xa_lock_t huge_lock = XA_LOCK_INIT;
static xa_segment_t* huge_cache[XA_HUGE_CACHE_SLOTS];
static uint64_t huge_cache_since[XA_HUGE_CACHE_SLOTS];  /* clock (ms) when cached */
static size_t huge_cache_bytes;

/* The smallest cached huge segment of at least need bytes (and not wastefully
 * larger), removed from the cache; NULL if none. */
static xa_segment_t* huge_cache_take(size_t need) {
  if (__atomic_load_n(&huge_cache_bytes, __ATOMIC_RELAXED) == 0) return NULL;
  xa_segment_t* best = NULL;
  size_t best_i = 0;
  xa__lock(&huge_lock);
  for (size_t i = 0; i < XA_HUGE_CACHE_SLOTS; i++) {
    xa_segment_t* s = huge_cache[i];
    if (s == NULL || s->size < need || s->size > need + need / 2 + XA_SEGMENT_SIZE) continue;
    if (best == NULL || s->size < best->size) { best = s; best_i = i; }
  }
  if (best != NULL) {
    huge_cache[best_i] = NULL;
    __atomic_store_n(&huge_cache_bytes, huge_cache_bytes - best->size, __ATOMIC_RELAXED);
  }
  xa__unlock(&huge_lock);
  return best;
}

static bool huge_cache_put(xa_segment_t* seg) {
  if (seg->size > XA_HUGE_CACHE_SEGMENT) return false;
  bool put = false;
  xa__lock(&huge_lock);
  if (huge_cache_bytes + seg->size <= XA_HUGE_CACHE_BYTES) {
    for (size_t i = 0; i < XA_HUGE_CACHE_SLOTS; i++) {
      if (huge_cache[i] == NULL) {
        huge_cache[i] = seg;
        huge_cache_since[i] = xa__os_clock_ms();
        __atomic_store_n(&huge_cache_bytes, huge_cache_bytes + seg->size, __ATOMIC_RELAXED);
        put = true;
        break;
      }
    }
  }
  xa__unlock(&huge_lock);
  return put;
}

/* Unmap the cached segments that were cached at or before `before` (ms). */
static void huge_cache_release_since(uint64_t before) {
  for (;;) {
    xa_segment_t* seg = NULL;
    xa__lock(&huge_lock);
    for (size_t i = 0; i < XA_HUGE_CACHE_SLOTS && seg == NULL; i++) {
      if (huge_cache[i] != NULL && huge_cache_since[i] <= before) {
        seg = huge_cache[i];
        huge_cache[i] = NULL;
        __atomic_store_n(&huge_cache_bytes, huge_cache_bytes - seg->size, __ATOMIC_RELAXED);
      }
    }
    xa__unlock(&huge_lock);
    if (seg == NULL) return;
    segment_unmap(seg);  /* outside the lock: munmap may take a while */
  }
}

void xa__huge_cache_release(void) { huge_cache_release_since(UINT64_MAX); }

static void abandoned_age(uint64_t before);
static bool abandoned_sweep_due(uint64_t now);

/* Give back what sat in tld's cache and in the huge cache for longer than
 * XA_CACHE_DELAY_MS, and purge the free pages of segments that stayed
 * abandoned that long. Called on allocation slow paths (new pages, huge
 * blocks); three loads when there is nothing to age. */
static void caches_age(xa_tld_t* tld) {
  bool huge = __atomic_load_n(&huge_cache_bytes, __ATOMIC_RELAXED) != 0;
  bool abandoned = xa__abandoned_any();
  if (tld->cache_count == 0 && !huge && !abandoned) return;
  uint64_t now = xa__os_clock_ms();
  if (now < XA_CACHE_DELAY_MS) return;
  uint64_t before = now - XA_CACHE_DELAY_MS;
  while (tld->cache_count > 0 && tld->cache_since[0] <= before) {
    segment_unmap(tld->cache[0]);
    tld->cache_count--;
    for (size_t i = 0; i < tld->cache_count; i++) {
      tld->cache[i] = tld->cache[i + 1];
      tld->cache_since[i] = tld->cache_since[i + 1];
    }
  }
  if (huge) huge_cache_release_since(before);
  if (abandoned && abandoned_sweep_due(now)) abandoned_age(before);
}

/* The segment has no used page: cache it or give it back to the OS. */
static void segment_release(xa_tld_t* tld, xa_segment_t* seg) {
  free_unlink(tld, seg);
  all_unlink(tld, seg);
  if (seg->kind == XA_KIND_HUGE) {
    /* Owned by nobody while cached (a stale free is a cross-thread free). */
    atomic_store_explicit(&seg->owner, 0, memory_order_release);
    if (huge_cache_put(seg)) return;
  } else if (seg->size == XA_SEGMENT_SIZE && tld->cache_count < XA_SEGMENT_CACHE) {
    /* Owned by nobody while cached: a stale free into it takes the
     * cross-thread path and cannot disturb the owner's bookkeeping. */
    atomic_store_explicit(&seg->owner, 0, memory_order_release);
    tld->cache_since[tld->cache_count] = xa__os_clock_ms();
    tld->cache[tld->cache_count++] = seg;
    return;
  }
  segment_unmap(seg);
}

void xa__segment_cache_release(xa_tld_t* tld) {
  while (tld->cache_count > 0) segment_unmap(tld->cache[--tld->cache_count]);
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

xa_page_t* xa__segment_page_alloc(xa_tld_t* tld, xa_kind_t kind) {
  caches_age(tld);
  xa_segment_t* seg = kind <= XA_KIND_MEDIUM ? tld->free_segments[kind] : NULL;
  if (seg == NULL) {
    seg = segment_alloc(tld, kind);
    if (seg == NULL) return NULL;
  }
  xa_page_t* page = NULL;
  for (uint32_t i = 0; i < seg->page_count; i++) {
    if (!seg->pages[i].in_use) { page = &seg->pages[i]; break; }
  }
  /* free_segments only holds segments with a free page */
  if (page == NULL) return NULL;
  uint8_t dirty = page->dirty;
  memset(page, 0, sizeof(*page));
  page->dirty = dirty;
  page->in_use = 1;
  page->start = xa__segment_page_area(seg, page, NULL);
  if (!xa__os_commit(page->start, 0)) return NULL;
  seg->used_pages++;
  if (seg->used_pages < seg->page_count) free_link(tld, seg);
  else free_unlink(tld, seg);
  xa__stat_add(XA_STAT_pages, 1);
  return page;
}

bool xa__segment_page_free(xa_tld_t* tld, xa_page_t* page) {
  xa_segment_t* seg = xa__page_segment(page);
  memset(page, 0, sizeof(*page));
  page->dirty = 1;
  seg->used_pages--;
  xa__stat_add(XA_STAT_pages, -1);
  if (seg->used_pages == 0) {
    segment_release(tld, seg);
    return true;
  }
  free_link(tld, seg);
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

/* A huge block's usable size in its segment: size rounded up to the OS page
 * size, within the mapping. */
static size_t huge_block_size(const xa_segment_t* seg, size_t offset, size_t size) {
  size_t bs = xa_align_up(size, xa__os_page_size());
  return bs < seg->size - offset ? bs : seg->size - offset;
}

xa_page_t* xa__segment_huge_alloc(xa_tld_t* tld, size_t size, size_t align, bool* fresh) {
  if (align < 16) align = 16;
  if (size == 0) size = 1;  /* a zero-size block is still a distinct, non-empty block */
  size_t offset = huge_offset(align);
  if (size > PTRDIFF_MAX - offset - XA_SEGMENT_SIZE) return NULL;
  /* Only what the block needs is mapped (the start is still 4 MiB-aligned):
   * under an address-space limit every page of it counts. The rest of the
   * last 4 MiB chunk is not ours; nothing takes a pointer there for one. */
  size_t seg_size = xa_align_up(offset + size, xa__os_page_size());
  bool zeroed = false;
  caches_age(tld);
  xa_segment_t* seg = huge_cache_take(seg_size);
  if (seg != NULL) {
    xa__stat_add(XA_STAT_cache_hits, 1);
  } else {
    seg = segment_map(seg_size, &zeroed);
    if (seg == NULL) return NULL;
    xa__stat_add(XA_STAT_huge_segments, 1);
  }
  segment_format(seg, XA_KIND_HUGE, zeroed);
  xa_page_t* page = &seg->pages[0];
  page->in_use = 1;
  page->start = (uint8_t*)seg + offset;
  page->block_size = huge_block_size(seg, offset, size);
  page->reserved = 1;
  seg->used_pages = 1;
  atomic_store_explicit(&seg->owner, (uintptr_t)tld, memory_order_release);
  all_link(tld, seg);
  xa__stat_add(XA_STAT_pages, 1);
  *fresh = zeroed;
  return page;
}

size_t xa__segment_huge_room(const xa_segment_t* seg, const xa_page_t* page) {
  return seg->size - (size_t)(page->start - (const uint8_t*)seg);
}

/* Shrink: give back the whole pages past the block's new end. The header
 * stays where it is, so readers in other threads (xa_is_in_heap_region)
 * need not be waited for; they compare with the size, stored first. */
static void huge_shrink(xa_segment_t* seg, size_t new_size) {
  size_t old_size = seg->size;
  if (new_size >= old_size || xa__in_arena(seg)) return;  /* an arena chunk stays whole */
  xa__segmap_shrink((uintptr_t)seg, old_size, new_size);
  __atomic_store_n(&seg->size, new_size, __ATOMIC_RELAXED);
  if (!xa__os_shrink(seg, old_size, new_size)) {  /* not supported here: keep it all */
    __atomic_store_n(&seg->size, old_size, __ATOMIC_RELAXED);
    xa__segmap_add((uintptr_t)seg, old_size);
    return;
  }
  xa__stat_add(XA_STAT_os_bytes, -(int64_t)(old_size - new_size));
}

xa_page_t* xa__segment_huge_resize(xa_tld_t* tld, xa_page_t* page, size_t size, bool* done) {
  xa_segment_t* seg = xa__page_segment(page);
  size_t offset = (size_t)(page->start - (uint8_t*)seg);
  size_t ps = xa__os_page_size();
  *done = false;
  if (size == 0 || size > PTRDIFF_MAX - offset - XA_SEGMENT_SIZE) return page;
  size_t old_size = seg->size;
  size_t new_size = xa_align_up(offset + size, ps);
  if (new_size <= old_size) {
    huge_shrink(seg, new_size);
    /* Atomic: xa_heap_contains may read it from another thread. */
    __atomic_store_n(&page->block_size, huge_block_size(seg, offset, size), __ATOMIC_RELAXED);
    *done = true;
    return page;
  }
  /* An arena chunk cannot leave the arena (which must stay readable). */
  if (xa__in_arena(seg)) return page;
  /* The header may move with the pages: take the segment out of the owner's
   * list (its neighbours point at it) and out of the address map, which
   * waits until no reader in another thread (xa_heap_contains, ...) looks at
   * the header any more. Frees of other blocks never touch this segment
   * (it holds one block, which the caller holds). */
  all_unlink(tld, seg);
  xa__segmap_remove((uintptr_t)seg, old_size);
  size_t mapped;
  xa_segment_t* now = xa__os_remap(seg, old_size, new_size, XA_SEGMENT_SIZE, &mapped);
  /* seg may be gone: from here on only `now`. Its header holds the same
   * fields; the absolute pointer into it is recomputed. */
  page = &now->pages[0];
  page->start = (uint8_t*)now + offset;
  __atomic_store_n(&now->size, mapped, __ATOMIC_RELAXED);
  /* mmap never hands out addresses beyond the map's 48 bits unless asked
   * to (nothing here asks). The one way this can fail is a new leaf of the
   * map (8 KiB, once per 128 GiB of address space) that the OS refuses:
   * then the block still works, but free does not recognise it (reported
   * once, leaked), which is still better than losing the content. */
  if (!xa__segmap_add((uintptr_t)now, mapped)) xa__verbose("a moved huge segment is not in the address map:", (uintptr_t)now);
  all_link(tld, now);
  if (mapped != old_size || now != seg) xa__stat_add(XA_STAT_huge_remaps, 1);
  xa__stat_add(XA_STAT_os_bytes, (int64_t)mapped - (int64_t)old_size);
  if (mapped >= new_size) {
    __atomic_store_n(&page->block_size, huge_block_size(now, offset, size), __ATOMIC_RELAXED);
    *done = true;
  }
  return page;
}

/* Give the memory of seg's free, dirty pages back to the OS, one call per run
 * of neighbouring pages. The segment stays mapped and owned as it was. */
static void segment_purge_free_pages(xa_segment_t* seg) {
  if (seg->kind == XA_KIND_HUGE) return;
  uint8_t* run = NULL;
  size_t run_size = 0;
  for (uint32_t i = 0; i <= seg->page_count; i++) {
    xa_page_t* page = i < seg->page_count ? &seg->pages[i] : NULL;
    if (page != NULL && !page->in_use && page->dirty) {
      size_t size;
      uint8_t* start = xa__segment_page_area(seg, page, &size);
      if (run == NULL) run = start;
      run_size = (size_t)(start + size - run);
      page->dirty = 0;
      continue;
    }
    if (run != NULL) {
      xa__os_purge(run, run_size);
      xa__stat_add(XA_STAT_purged_bytes, (int64_t)run_size);
      run = NULL;
    }
  }
}

void xa__segments_purge(xa_tld_t* tld) {
  for (xa_segment_t* seg = tld->segments; seg != NULL; seg = seg->all_next) segment_purge_free_pages(seg);
  xa__segment_cache_release(tld);
}

/* ---- abandoned segments ------------------------------------------------------ */

static xa_lock_t abandoned_lock = XA_LOCK_INIT;
static xa_segment_t* abandoned_head;
static _Atomic(size_t) abandoned_count;

bool xa__abandoned_any(void) { return atomic_load_explicit(&abandoned_count, memory_order_relaxed) != 0; }

void xa__segment_abandon(xa_tld_t* tld, xa_segment_t* seg) {
  free_unlink(tld, seg);
  all_unlink(tld, seg);
  seg->abandoned_at = xa__os_clock_ms();
  /* From here on every free into this segment is a cross-thread free. */
  atomic_store_explicit(&seg->owner, 0, memory_order_release);
  xa__lock(&abandoned_lock);
  seg->abandoned_next = abandoned_head;
  abandoned_head = seg;
  atomic_fetch_add_explicit(&abandoned_count, 1, memory_order_relaxed);
  xa__unlock(&abandoned_lock);
  xa__stat_add(XA_STAT_abandoned, 1);
}

/* At most one sweep of the abandoned list per XA_CACHE_DELAY_MS. */
static _Atomic(uint64_t) abandoned_next_sweep;

static bool abandoned_sweep_due(uint64_t now) {
  uint64_t due = atomic_load_explicit(&abandoned_next_sweep, memory_order_relaxed);
  return now >= due && atomic_compare_exchange_strong_explicit(&abandoned_next_sweep, &due, now + XA_CACHE_DELAY_MS,
                                                               memory_order_relaxed, memory_order_relaxed);
}

/* Segments abandoned at or before `before` and not reclaimed since: nobody
 * allocates from them until a thread reclaims them, which may be never, so
 * their free pages go back to the OS. (Purging at once would cost thread
 * churn dearly: exiting threads' segments are usually reclaimed soon.)
 * Under the list lock nobody else touches their bookkeeping; frees into them
 * only push on xthread_free. Skipped when the lock is busy. A segment purged
 * by an earlier sweep has no dirty free page left: it costs no system call. */
static void abandoned_age(uint64_t before) {
  if (!xa__lock_try(&abandoned_lock)) return;
  for (xa_segment_t* seg = abandoned_head; seg != NULL; seg = seg->abandoned_next) {
    if (seg->abandoned_at <= before) segment_purge_free_pages(seg);
  }
  xa__unlock(&abandoned_lock);
}

xa_segment_t* xa__segment_reclaim(xa_tld_t* tld, bool wait) {
  if (!xa__abandoned_any()) return NULL;
  if (wait) xa__lock(&abandoned_lock);
  else if (!xa__lock_try(&abandoned_lock)) return NULL;
  xa_segment_t* seg = abandoned_head;
  if (seg != NULL) {
    abandoned_head = seg->abandoned_next;
    seg->abandoned_next = NULL;
    atomic_fetch_sub_explicit(&abandoned_count, 1, memory_order_relaxed);
    atomic_store_explicit(&seg->owner, (uintptr_t)tld, memory_order_release);
  }
  xa__unlock(&abandoned_lock);
  if (seg == NULL) return NULL;
  xa__stat_add(XA_STAT_abandoned, -1);
  xa__stat_add(XA_STAT_reclaimed, 1);
  all_link(tld, seg);
  if (seg->used_pages < seg->page_count) free_link(tld, seg);
  return seg;
}

void xa__abandoned_visit(xa_segment_visit_fun* fn, void* arg) {
  xa__lock(&abandoned_lock);
  for (xa_segment_t* seg = abandoned_head; seg != NULL; seg = seg->abandoned_next) fn(seg, arg);
  xa__unlock(&abandoned_lock);
}

void xa__segment_fork_prepare(void) {
  xa__lock(&abandoned_lock);
  xa__lock(&huge_lock);
}
void xa__segment_fork_parent(void) {
  xa__unlock(&huge_lock);
  xa__unlock(&abandoned_lock);
}
void xa__segment_fork_child(void) {
  xa__lock_reset(&huge_lock);
  xa__lock_reset(&abandoned_lock);
}
