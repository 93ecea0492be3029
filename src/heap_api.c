/* Public heap API: creation, delete/destroy with migration, collection,
 * block visiting and membership queries (docs/design.md, "Heaps and
 * migration"). Only the owner thread changes a heap. */
#include "xalloc.h"
#include "check.h"
#include "free.h"
#include "heap.h"
#include "meta.h"
#include "page.h"
#include "segmap.h"
#include "segment.h"
#include "stats.h"
#include "thread.h"
#include <errno.h>
#include <string.h>

/* The heap is a live heap of the calling thread (and not a stray pointer). */
static bool heap_is_mine(const xa_heap_t* heap) {
  if (heap == NULL || xa__tls_tld_get() == &xa__tld_empty) return false;
  for (const xa_heap_t* h = xa__tls_tld_get()->heaps; h != NULL; h = h->next) {
    if (h == heap) return true;
  }
  return false;
}

XA_API xa_heap_t* xa_heap_new(void) {
  xa_heap_t* def = xa__thread_init();
  xa_heap_t* heap = def != NULL ? xa__meta_alloc(sizeof(xa_heap_t)) : NULL;
  if (heap == NULL) {
    errno = ENOMEM;
    return NULL;
  }
  xa_tld_t* tld = def->tld;
  xa__heap_init(heap, tld, false);
  heap->next = tld->heaps;
  tld->heaps = heap;
  xa__stat_add(XA_STAT_heaps, 1);
  return heap;
}

XA_API void xa_heap_delete(xa_heap_t* heap) {
  if (!heap_is_mine(heap) || heap->is_original) return;
  xa_tld_t* tld = heap->tld;
  xa__inbox_drain(&tld->inbox);
  xa_heap_t* target = tld->heap_default;
  if (target == heap) {
    target = tld->heap_original;
    xa__thread_set_default(tld, target);
  }
  xa__heap_move_pages(heap, target);
  xa__thread_heap_release(tld, heap);
  if (XA_DEBUG) xa__validate();
}

#define VISIT_BITS (((size_t)64 << 10) / 8)  /* most blocks any page holds */

/* Tracking: the live blocks of the pages a destroyed heap frees with it are
 * released one by one (canaries checked, valgrind told); adopted pages go
 * to the original heap with their blocks. */
static void track_destroy(xa_heap_t* heap) {
  uint64_t bits[VISIT_BITS / 64];
  xa__track_quiet_begin();
  for (size_t q = 0; q < XA_QUEUE_COUNT; q++) {
    if (q == XA_QUEUE_ADOPTED) continue;
    for (xa_page_t* page = heap->queues[q].first; page != NULL; page = page->next) {
      xa__page_collect(page);  /* blocks other threads freed are not live */
      if (page->used == 0) continue;
      memset(bits, 0, ((page->capacity + 63) / 64) * sizeof(uint64_t));
      if (!xa__page_free_map(page, bits)) continue;
      for (size_t i = 0; i < page->capacity; i++) {
        if (!(bits[i / 64] & ((uint64_t)1 << (i % 64)))) xa__track_destroyed(page, page->start + i * page->block_size);
      }
    }
  }
  xa__track_quiet_end();
}

XA_API void xa_heap_destroy(xa_heap_t* heap) {
  if (!heap_is_mine(heap) || heap->is_original) return;
  xa_tld_t* tld = heap->tld;
  /* The inbox may hold blocks of this heap's pages: free them while the
   * pages still exist. */
  xa__inbox_drain(&tld->inbox);
  if (tld->heap_default == heap) xa__thread_set_default(tld, tld->heap_original);
  if (xa__tracking()) track_destroy(heap);
  xa__heap_free_own_pages(heap);
  xa__thread_heap_release(tld, heap);
  if (XA_DEBUG) xa__validate();
}

XA_API xa_heap_t* xa_heap_get_default(void) {
  xa_heap_t* heap = xa__thread_init();
  return heap;
}

XA_API xa_heap_t* xa_heap_set_default(xa_heap_t* heap) {
  xa_heap_t* prev = xa__thread_init();
  if (prev == NULL || heap == NULL || !heap_is_mine(heap)) return prev;
  xa__thread_set_default(heap->tld, heap);
  return prev;
}

XA_API void xa_heap_collect(xa_heap_t* heap, bool force) {
  if (!heap_is_mine(heap)) return;
  xa__inbox_drain(&heap->tld->inbox);
  xa__heap_collect_pages(heap);
  if (force) xa__segments_purge(heap->tld);
  if (XA_DEBUG) xa__validate();
}

/* ---- visiting --------------------------------------------------------------------- */

XA_API bool xa_heap_visit_blocks(const xa_heap_t* heap, xa_block_visit_fun* visitor, void* arg) {
  if (visitor == NULL || !heap_is_mine(heap)) return true;
  uint64_t bits[VISIT_BITS / 64];
  for (size_t q = 0; q < XA_QUEUE_COUNT; q++) {
    for (xa_page_t* page = heap->queues[q].first; page != NULL; page = page->next) {
      if (page->used == 0) continue;
      memset(bits, 0, ((page->capacity + 63) / 64) * sizeof(uint64_t));
      /* A page whose lists turn out damaged is left alone: which of its
       * blocks are live is unknown. */
      if (!xa__page_free_map(page, bits)) continue;
      for (size_t i = 0; i < page->capacity; i++) {
        if (bits[i / 64] & ((uint64_t)1 << (i % 64))) continue;
        uint8_t* block = page->start + i * page->block_size;
        void* p = block;
        size_t size = page->block_size;
        if (xa__tracking() && !xa__track_visit(page, block, &p, &size)) continue;
        if (!visitor(heap, p, size, arg)) return false;
      }
    }
  }
  return true;
}

/* ---- membership ---------------------------------------------------------------------- */

XA_API bool xa_is_in_heap_region(const void* p) {
  if (p == NULL) return false;
  /* A huge segment's mapping may end before its last chunk does: look at
   * its size, inside a read section (its owner may release it). */
  xa__segmap_read_begin();
  uintptr_t seg = xa__segmap_find(p);
  bool in = seg != 0 && (uintptr_t)p - seg < __atomic_load_n(&((xa_segment_t*)seg)->size, __ATOMIC_RELAXED);
  xa__segmap_read_end();
  return in;
}

XA_API bool xa_heap_contains(const xa_heap_t* heap, const void* p) {
  if (heap == NULL || p == NULL || heap->tld == NULL) return false;
  bool mine = heap_is_mine(heap);
  bool result = false;
  /* The segment may belong to another thread that could release it under
   * us: look at it only inside a segmap read section, and only after its
   * owner (acquire) shows it belongs to the heap's thread. */
  xa__segmap_read_begin();
  xa_segment_t* seg = (xa_segment_t*)xa__segmap_find(p);
  if (seg != NULL && atomic_load_explicit(&seg->owner, memory_order_acquire) == (uintptr_t)heap->tld) {
    xa_page_t* page = xa__segment_page_of(seg, p);
    const uint8_t* b = p;
    if (mine) {
      if (page->in_use && page->heap == heap && b >= page->start &&
          b < page->start + (size_t)page->capacity * page->block_size) {
        result = xa__page_block_state(page, (xa_block_t*)xa__page_block_of(page, p)) == XA_BLOCK_LIVE;
      }
    } else {
      /* Asked from another thread: the owner keeps changing the page, so
       * read a snapshot (relaxed) and skip the free lists it owns. */
      uint8_t* start = __atomic_load_n(&page->start, __ATOMIC_RELAXED);
      size_t span = (size_t)__atomic_load_n(&page->capacity, __ATOMIC_RELAXED) *
                    __atomic_load_n(&page->block_size, __ATOMIC_RELAXED);
      result = __atomic_load_n(&page->in_use, __ATOMIC_RELAXED) &&
               __atomic_load_n(&page->heap, __ATOMIC_RELAXED) == heap && b >= start && b < start + span;
    }
  }
  xa__segmap_read_end();
  return result;
}
