/* The malloc and free fast paths, inline, so that both the xa_ API and the
 * libc overrides (override.c) contain them without an extra call. Anything
 * unusual leaves through one noinline call. */
#ifndef XA_ALLOC_FAST_H
#define XA_ALLOC_FAST_H

#include "config.h"
#include "free.h"
#include "segmap.h"
#include "thread.h"
#include "types.h"

XA_INTERNAL void* xa__malloc_generic(xa_heap_t* heap, size_t size);
XA_INTERNAL void xa__free_slow(xa_segment_t* seg, xa_page_t* page, void* p);
XA_INTERNAL void xa__free_foreign(void* p);
XA_INTERNAL void xa__heap_page_retire(xa_heap_t* heap, xa_page_t* page);

XA_INLINE void* xa__heap_malloc_fast(xa_heap_t* heap, size_t size) {
  if (xa_likely(size <= XA_DIRECT_MAX)) {
    xa_page_t* page = heap->direct[(size + 7) >> 3];
    xa_block_t* b = page->free;
    if (xa_likely(b != NULL)) {
      page->free = b->next;
      page->used++;
      return b;
    }
  }
  return xa__malloc_generic(heap, size);
}

XA_INLINE void xa__free_fast(void* p) {
  uintptr_t segaddr = (uintptr_t)p & ~(uintptr_t)XA_SEGMENT_MASK;
  /* NULL lands here too: chunk 0 is never one of ours. */
  if (xa_unlikely(!xa__segmap_is_segment(segaddr))) {
    xa__free_foreign(p);
    return;
  }
  xa_segment_t* seg = (xa_segment_t*)segaddr;
  xa_page_t* page = &seg->pages[((uintptr_t)p - segaddr) >> seg->page_shift];
  if (xa_likely(atomic_load_explicit(&seg->owner, memory_order_relaxed) == (uintptr_t)xa__tls_tld &&
                atomic_load_explicit(&page->flags, memory_order_relaxed) == 0)) {
    xa_block_t* b = p;
    b->next = page->local_free;
    page->local_free = b;
    if (xa_unlikely(--page->used == 0)) xa__heap_page_retire(page->heap, page);
    return;
  }
  xa__free_slow(seg, page, p);
}

#endif
