/* The malloc and free fast paths, inline, so that both the xa_ API and the
 * libc overrides (override.c) contain them without an extra call. Anything
 * unusual leaves through one noinline call. */
#ifndef XA_ALLOC_FAST_H
#define XA_ALLOC_FAST_H

#include "config.h"
#include "arena.h"
#include "free.h"
#include "segmap.h"
#include "thread.h"
#include "types.h"

XA_INTERNAL void* xa__malloc_generic(xa_heap_t* heap, size_t size);
XA_INTERNAL void xa__free_slow(xa_segment_t* seg, void* p);
XA_INTERNAL void xa__free_outside_arena(void* p);
XA_INTERNAL void xa__heap_page_retire(xa_heap_t* heap, xa_page_t* page);

XA_INLINE void* xa__heap_malloc_fast(xa_heap_t* heap, size_t size) {
  if (xa_likely(size <= XA_DIRECT_MAX)) {
    xa_page_t* page = heap->direct[(size + 7) >> 3];
    xa_block_t* b = page->free;
    if (xa_likely(b != NULL)) {
      page->free = b->next;
      page->used++;
      b->freed = 0;
      return b;
    }
  }
  return xa__malloc_generic(heap, size);
}

/* Free p, a pointer into segment seg whose header may be read. */
XA_INLINE void xa__free_in_segment(xa_segment_t* seg, void* p) {
  xa_page_t* page = &seg->pages[((uintptr_t)p - (uintptr_t)seg) >> seg->page_shift];
#if defined(__GNUC__)
  __asm__("" : "+r"(page));  /* one page pointer; gcc otherwise recomputes it per field */
#endif
  xa_block_t* b = p;
  if (xa_likely(atomic_load_explicit(&seg->owner, memory_order_relaxed) == (uintptr_t)xa__tls_tld_get() &&
                atomic_load_explicit(&page->flags, memory_order_relaxed) == 0 && b->freed != XA_FREED_MARK)) {
    b->freed = XA_FREED_MARK;
    b->next = page->local_free;
    page->local_free = b;
    if (xa_unlikely(--page->used == 0)) xa__heap_page_retire(page->heap, page);
    return;
  }
  xa__free_slow(seg, p);  /* recomputes the page; checks a marked block for a double free */
}

XA_INLINE void xa__free_fast(void* p) {
  /* Inside the arena every chunk's header is readable (a released chunk
   * reads as zero: owner 0, so the slow path checks it). NULL, huge blocks
   * and foreign pointers go to the slow path. */
  if (xa_unlikely(!xa__in_arena(p))) {
    xa__free_outside_arena(p);
    return;
  }
  xa__free_in_segment((xa_segment_t*)((uintptr_t)p & ~(uintptr_t)XA_SEGMENT_MASK), p);
}

#endif
