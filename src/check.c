/* The invariant checker (check.h). Reads only structures the calling thread
 * owns, plus the abandoned list under its lock. */
#include "check.h"
#include "bin.h"
#include "lock.h"
#include "free.h"
#include "heap.h"
#include "os.h"
#include "page.h"
#include "segmap.h"
#include "segment.h"
#include <stdio.h>
#include <stdlib.h>

static void fail(const char* what, const void* where, unsigned line) {
  char msg[256];
  int n = snprintf(msg, sizeof(msg), "xalloc: invariant broken (check.c:%u): %s [%p]\n", line, what, where);
  xa__os_write_err(msg, n > 0 ? (size_t)n : 0);
  abort();
}
#define REQUIRE(cond, where) do { if (!(cond)) fail(#cond, (where), __LINE__); } while (0)

static size_t list_count(const xa_page_t* page, const xa_block_t* b, size_t limit) {
  size_t n = 0;
  for (; b != NULL; b = xa__block_next(page, b)) {
    const uint8_t* p = (const uint8_t*)b;
    REQUIRE(p >= page->start && p < page->start + (size_t)page->capacity * page->block_size, b);
    REQUIRE((size_t)(p - page->start) % page->block_size == 0, b);
    REQUIRE(++n <= limit, b);  /* no cycle */
  }
  return n;
}

static bool segment_is_mine(const xa_tld_t* tld, const xa_segment_t* seg) {
  for (const xa_segment_t* s = tld->segments; s != NULL; s = s->all_next) if (s == seg) return true;
  return false;
}

static void check_page(const xa_tld_t* tld, const xa_heap_t* heap, const xa_page_t* page, size_t q) {
  xa_segment_t* seg = xa__page_segment(page);
  REQUIRE(segment_is_mine(tld, seg), page);
  REQUIRE(page->in_use, page);
  REQUIRE(page->heap == heap, page);
  REQUIRE(page->queue == q, page);
  REQUIRE(page->capacity <= page->reserved, page);
  REQUIRE(page->used <= page->capacity, page);
  uint8_t flags = xa__page_flags(page);
  REQUIRE(page->local_limit == (flags == 0 && !xa__tracking() ? page->capacity : 0), page);
  if (flags & XA_PF_CORRUPT) {
    /* Found damaged (and reported): lists dropped, blocks leaked. */
    REQUIRE(page->free == NULL && page->local_free == NULL, page);
  } else {
    size_t nfree = list_count(page, page->free, page->capacity);
    size_t nlocal = list_count(page, page->local_free, page->capacity);
    REQUIRE(page->used + nfree + nlocal == page->capacity, page);
  }
  if (seg->kind != XA_KIND_HUGE) {
    uint64_t odd = page->block_size >> page->block_shift;  /* the geometry of xa__page_block_index */
    REQUIRE((odd & 1) == 1 && (odd << page->block_shift) == page->block_size && odd * page->block_inv == 1, page);
  }
  bool unqueued = (xa__page_flags(page) & XA_PF_UNQUEUED) != 0;
  bool special = q == XA_QUEUE_FULL || q == XA_QUEUE_ADOPTED || q == XA_BIN_HUGE;
  REQUIRE(unqueued == special, page);
  if (q < XA_BIN_HUGE) REQUIRE(xa__bin_of(page->block_size) == q, page);
  /* kept_alone: the only page of a bin queue (free's fast path trusts it) */
  if (page->kept_alone) REQUIRE(q < XA_BIN_HUGE && heap->queues[q].first == page && heap->queues[q].last == page, page);
  if (q == XA_BIN_HUGE) REQUIRE(seg->kind == XA_KIND_HUGE && page->used == 1, page);
  if (seg->kind != XA_KIND_HUGE) {
    size_t area;
    uint8_t* start = xa__segment_page_area(seg, page, &area);
    REQUIRE(page->start == start, page);
    REQUIRE(page->reserved == area / page->block_size, page);
  }
}

static void check_heap(const xa_tld_t* tld, const xa_heap_t* heap) {
  REQUIRE(heap->tld == tld, heap);
  size_t pages = 0;
  for (size_t q = 0; q < XA_QUEUE_COUNT; q++) {
    const xa_page_queue_t* pq = &heap->queues[q];
    REQUIRE((pq->first == NULL) == (pq->last == NULL), heap);
    const xa_page_t* prev = NULL;
    for (const xa_page_t* page = pq->first; page != NULL; page = page->next) {
      REQUIRE(page->prev == prev, page);
      check_page(tld, heap, page, q);
      prev = page;
      pages++;
    }
    REQUIRE(pq->last == prev, heap);
  }
  REQUIRE(pages == heap->page_count, heap);
  for (size_t i = 0; i < XA_DIRECT_COUNT; i++) {
    const xa_page_t* first = heap->queues[xa__bin_of(i * 8)].first;
    REQUIRE(heap->direct[i] == (first != NULL && !xa__tracking() ? first : &xa__page_empty), heap);
  }
  for (size_t i = 0; i < XA_MID_COUNT; i++) {  /* sizes 128*i+1 .. 128*(i+1), one bin */
    const xa_page_t* first = NULL;
    if (i * 128 >= XA_DIRECT_MAX) {
      size_t bin = xa__bin_of(i * 128 + 1);
      REQUIRE(xa__bin_of((i + 1) * 128) == bin, heap);
      first = heap->queues[bin].first;
    }
    REQUIRE(heap->direct_mid[i] == (first != NULL && !xa__tracking() ? first : &xa__page_empty), heap);
  }
}

static void check_segment_common(const xa_segment_t* seg) {
  REQUIRE(xa__segmap_is_segment((uintptr_t)seg), seg);
  uint32_t used = 0;
  for (uint32_t i = 0; i < seg->page_count; i++) used += seg->pages[i].in_use;
  REQUIRE(used == seg->used_pages, seg);
}

static void check_abandoned(xa_segment_t* seg, void* arg) {
  (void)arg;
  REQUIRE(atomic_load(&seg->owner) == 0, seg);
  check_segment_common(seg);
  REQUIRE(seg->used_pages > 0, seg);
  for (uint32_t i = 0; i < seg->page_count; i++) REQUIRE(seg->pages[i].heap == NULL, seg);
}

static void validate(void);

bool xa__validate(void) {
  xa__track_quiet_begin();  /* it counts the free lists, in freed blocks (track.h) */
  validate();
  xa__track_quiet_end();
  return true;
}

static void validate(void) {
  xa_tld_t* tld = xa__tls_tld_get();
  if (tld != &xa__tld_empty) {
    xa__lock(&tld->lock);  /* a purge pass may be ageing the cache or purging free pages */
    bool has_original = false;
    for (const xa_heap_t* h = tld->heaps; h != NULL; h = h->next) {
      check_heap(tld, h);
      if (h == tld->heap_original) has_original = true;
    }
    REQUIRE(has_original && tld->heap_original->is_original, tld);
    for (const xa_segment_t* seg = tld->segments; seg != NULL; seg = seg->all_next) {
      REQUIRE(atomic_load(&seg->owner) == (uintptr_t)tld, seg);
      REQUIRE(seg->all_next == NULL || seg->all_next->all_prev == seg, seg);
      check_segment_common(seg);
      REQUIRE(seg->used_pages > 0, seg);
      bool has_free = seg->kind <= XA_KIND_MEDIUM && seg->used_pages < seg->page_count;
      REQUIRE((bool)seg->in_free_list == has_free, seg);
      for (uint32_t i = 0; i < seg->page_count; i++) {
        const xa_page_t* page = &seg->pages[i];
        if (!page->in_use) continue;
        bool found = false;
        for (const xa_heap_t* h = tld->heaps; h != NULL; h = h->next) found |= page->heap == h;
        REQUIRE(found, page);
      }
    }
    for (int k = 0; k < 2; k++) {
      for (const xa_segment_t* seg = tld->free_segments[k]; seg != NULL; seg = seg->free_next) {
        REQUIRE(seg->in_free_list && (int)seg->kind == k && segment_is_mine(tld, seg), seg);
      }
    }
    for (size_t i = 0; i < tld->cache_count; i++) {
      const xa_segment_t* seg = tld->cache[i];
      REQUIRE(xa__segmap_is_segment((uintptr_t)seg), seg);
      REQUIRE(!segment_is_mine(tld, seg), seg);
    }
    xa__unlock(&tld->lock);
  }
  xa__abandoned_visit(check_abandoned, NULL);
}
