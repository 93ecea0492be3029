/* The malloc and free fast paths, inline, so that both the xa_ API and the
 * libc overrides (override.c) contain them without an extra call. Anything
 * unusual leaves through one noinline call. */
#ifndef XA_ALLOC_FAST_H
#define XA_ALLOC_FAST_H

#include "config.h"
#include "arena.h"
#include "bin.h"
#include "free.h"
#include "page.h"
#include "segmap.h"
#include "thread.h"
#include "types.h"
#include <string.h>

XA_INTERNAL void* xa__malloc_generic(xa_heap_t* heap, size_t size);
XA_INTERNAL void* xa__calloc_generic(xa_heap_t* heap, size_t count, size_t size);
XA_INTERNAL void xa__free_slow(xa_segment_t* seg, void* p);
XA_INTERNAL void xa__free_outside_arena(void* p);
XA_INTERNAL void xa__heap_page_retire(xa_heap_t* heap, xa_page_t* page);

/* A block from page's free list, or NULL when it has none (nothing else is
 * tried, errno is not touched). */
XA_INLINE void* xa__page_pop(xa_page_t* page) {
  xa_block_t* b = page->free;
#if XA_SECURE
  /* Returning what xa__page_take returns keeps its damaged-link call a
   * tail call: no stack frame on the fast path. */
  if (xa_likely(b != NULL)) return xa__page_take(page, b);
#else
  if (xa_likely(b != NULL)) xa__page_take(page, b);
#endif
  return b;
}

/* A block of the given size from the page of the direct tables, or NULL
 * (that page has no free block, or size is above XA_MID_MAX). Buffers of a
 * few KiB (4096, sqlite's 4104, 8192) pay one more compare than small
 * blocks, not the generic path's size class computation. */
XA_INLINE void* xa__heap_pop_sized(xa_heap_t* heap, size_t size) {
  if (xa_likely(size <= XA_DIRECT_MAX)) return xa__page_pop(heap->direct[(size + 7) >> 3]);
  if (size <= XA_MID_MAX) return xa__page_pop(heap->direct_mid[(size - 1) >> 7]);
  return NULL;
}

XA_INLINE void* xa__heap_malloc_fast(xa_heap_t* heap, size_t size) {
  void* b = xa__heap_pop_sized(heap, size);
  if (xa_likely(b != NULL)) return b;
  return xa__malloc_generic(heap, size);
}

/* calloc: a block of the direct tables is cleared by a tail call to memset
 * (no stack frame); an overflow, a huge block, tracking and a miss go to
 * xa__calloc_generic. */
XA_INLINE void* xa__heap_calloc_fast(xa_heap_t* heap, size_t count, size_t size) {
  size_t total;
  if (xa_likely(!__builtin_mul_overflow(count, size, &total))) {
    void* b = xa__heap_pop_sized(heap, total);
    if (xa_likely(b != NULL)) return memset(b, 0, total);
  }
  return xa__calloc_generic(heap, count, size);
}

/* For an alignment 16 < align <= XA_SEGMENT_HEADER and size <= XA_LARGE_MAX:
 * the size of the smallest size class that holds size and whose blocks are
 * all aligned to align (pages start 8 KiB-aligned, so every block of a class
 * that is a multiple of align is aligned), or 0 if that class is not such a
 * multiple. A plain allocation of that size is then an aligned one. */
XA_INLINE size_t xa__aligned_class_size(size_t size, size_t align) {
  size_t need = xa_align_up(size < align ? align : size, align);
  if (need <= 128) return need;  /* classes of 16..128 bytes step by 16: need is one */
  size_t bs = xa__bin_size(xa__bin_of(need));
  return (bs & (align - 1)) == 0 ? bs : 0;
}

/* Free p, a pointer into segment seg whose header may be read. The fast
 * path takes a block start of a page without flags that the calling thread
 * owns and whose block is not marked free: local_limit is 0 when the page
 * has a flag, so one bound checks the flags, the block boundary and that
 * the block was carved (xa__page_block_index). */
XA_INLINE void xa__free_in_segment(xa_segment_t* seg, void* p) {
  xa_page_t* page = &seg->pages[((uintptr_t)p - (uintptr_t)seg) >> seg->page_shift];
#if defined(__GNUC__)
  __asm__("" : "+r"(page));  /* one page pointer; gcc otherwise recomputes it per field */
#endif
  xa_block_t* b = p;
  if (xa_likely(atomic_load_explicit(&seg->owner, memory_order_relaxed) == (uintptr_t)xa__tls_tld_get() &&
                xa__page_block_index(page, p) < page->local_limit && b->freed != XA_FREED_MARK)) {
    b->freed = XA_FREED_MARK;
    if (XA_DEBUG) xa__debug_fill(page, b);
    xa__block_set_next(page, b, page->local_free);
    page->local_free = b;
    if (xa_unlikely(--page->used == 0) && !page->kept_alone) xa__heap_page_retire(page->heap, page);
    return;
  }
  xa__free_slow(seg, p);  /* recomputes the page; checks the pointer and the mark */
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
