/* Pages: one size class each; sharded free lists (design.md). Called by the
 * page's owner thread unless stated otherwise. */
#ifndef XA_PAGE_H
#define XA_PAGE_H

#include "config.h"
#include "types.h"

extern XA_INTERNAL xa_page_t xa__page_empty;

XA_INLINE uint8_t xa__page_flags(const xa_page_t* page) {
  return atomic_load_explicit(&((xa_page_t*)page)->flags, memory_order_relaxed);
}
XA_INLINE void xa__page_flags_set(xa_page_t* page, uint8_t f) {
  atomic_store_explicit(&page->flags, (uint8_t)(xa__page_flags(page) | f), memory_order_relaxed);
}
XA_INLINE void xa__page_flags_clear(xa_page_t* page, uint8_t f) {
  atomic_store_explicit(&page->flags, (uint8_t)(xa__page_flags(page) & ~f), memory_order_relaxed);
}

/* Start of the block that contains p (p inside the page's block area). */
XA_INLINE uint8_t* xa__page_block_of(const xa_page_t* page, const void* p) {
  size_t off = (size_t)((const uint8_t*)p - page->start);
  return page->start + (off - off % page->block_size);
}

/* Prepare a fresh page (in_use, start set) for blocks of bin / block_size. */
XA_INTERNAL void xa__page_init(xa_page_t* page, size_t bin, size_t block_size, size_t area_size);

/* Carve more never-used blocks into page->free. */
XA_INTERNAL void xa__page_extend(xa_page_t* page);

/* Move local_free and the blocks other threads freed into free; used drops by
 * the number of cross-thread blocks taken. */
XA_INTERNAL void xa__page_collect(xa_page_t* page);

/* Ask (on) or stop asking (off) for the next cross-thread free to be delivered
 * through the owner's inbox. Returns true if cross-thread frees are pending. */
XA_INTERNAL bool xa__page_notify(xa_page_t* page, bool on);

/* True if block b is on the page's free or local_free list. */
XA_INTERNAL bool xa__page_block_is_free(const xa_page_t* page, const void* b);

#endif
