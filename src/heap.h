/* Heaps: page queues per size class and the direct size -> page tables.
 * Every function here is called by the heap's owner thread. */
#ifndef XA_HEAP_H
#define XA_HEAP_H

#include "config.h"
#include "types.h"

extern XA_INTERNAL xa_heap_t xa__heap_empty;

/* A huge page: the single page of a huge segment (whatever its block size;
 * an aligned huge block may be smaller than the largest size class). */
XA_INLINE bool xa__page_is_huge(const xa_page_t* page) {
  return ((const xa_segment_t*)((uintptr_t)page & ~(uintptr_t)XA_SEGMENT_MASK))->kind == XA_KIND_HUGE;
}

XA_INTERNAL void xa__heap_init(xa_heap_t* heap, xa_tld_t* tld, bool original);

/* On the owner's slow paths: note the time, once per purge delay collect the
 * pages other threads emptied, and run the process-wide purge pass when one
 * is due (purge.h). Call where a nested malloc is harmless. */
XA_INTERNAL void xa__heap_tick(xa_tld_t* tld);

/* The owner freed b, a block of a XA_PF_BIG page: stamp it and schedule the
 * look below. */
XA_INTERNAL void xa__heap_big_freed(xa_tld_t* tld, xa_block_t* b);
/* Give back the memory of the free big blocks in tld's heaps that are due at
 * now (all of them with force), but for each one's first OS page. */
XA_INTERNAL void xa__heap_purge_big(xa_tld_t* tld, uint64_t now, bool force);

/* A page of bin with a free block, at the front of its queue (reclaims,
 * extends or creates pages as needed). NULL when out of memory. */
XA_INTERNAL xa_page_t* xa__heap_find_page(xa_heap_t* heap, size_t bin);

/* A new huge page holding one block, linked in the heap (used == 1). */
XA_INTERNAL xa_page_t* xa__heap_huge_page(xa_heap_t* heap, size_t size, size_t align, bool* fresh);

/* A huge page's descriptor (in its segment header) is about to move with
 * its segment, or has moved: its queue neighbours point at it, so it leaves
 * its queue before and comes back after (same queue, same heap; the page
 * count does not change). Nothing else may run on the heap in between. */
XA_INTERNAL void xa__heap_page_moving(xa_heap_t* heap, xa_page_t* page);
XA_INTERNAL void xa__heap_page_moved(xa_heap_t* heap, xa_page_t* page);

/* After a local free made page->used == 0 on a queued page (free's fast
 * path does not call it for a page marked kept_alone: it would keep it). */
XA_INTERNAL void xa__heap_page_retire(xa_heap_t* heap, xa_page_t* page);
/* After a local free into a page flagged XA_PF_UNQUEUED. */
XA_INTERNAL void xa__heap_page_unqueued_free(xa_heap_t* heap, xa_page_t* page);

/* Collect every page; free pages without live blocks; full pages with room
 * go back to their bin queue. */
XA_INTERNAL void xa__heap_collect_pages(xa_heap_t* heap);

/* xa_heap_delete: move live pages of from into to (see design.md). */
XA_INTERNAL void xa__heap_move_pages(xa_heap_t* from, xa_heap_t* to);

/* xa_heap_destroy: free every page allocated by heap; adopted pages move to
 * the thread's original heap. */
XA_INTERNAL void xa__heap_free_own_pages(xa_heap_t* heap);

/* Queue the live pages of a just-reclaimed segment in the original heap and
 * free its empty pages (the segment may be released). */
XA_INTERNAL void xa__heap_reclaim_segment(xa_heap_t* original, xa_segment_t* seg);

/* Thread exit: unlink every page from heap (for abandonment). */
XA_INTERNAL void xa__heap_detach_all(xa_heap_t* heap);

#endif
