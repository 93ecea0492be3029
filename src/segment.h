/* Segments: OS-mapped regions split into pages of one kind (design.md).
 * All functions except the pointer lookups are called by the owner thread. */
#ifndef XA_SEGMENT_H
#define XA_SEGMENT_H

#include "config.h"
#include "types.h"

XA_INLINE xa_segment_t* xa__ptr_segment(const void* p) {
  return (xa_segment_t*)((uintptr_t)p & ~(uintptr_t)XA_SEGMENT_MASK);
}

XA_INLINE xa_page_t* xa__segment_page_of(xa_segment_t* seg, const void* p) {
  return &seg->pages[((uintptr_t)p - (uintptr_t)seg) >> seg->page_shift];
}

XA_INLINE xa_segment_t* xa__page_segment(const xa_page_t* page) { return xa__ptr_segment(page); }

/* Where the blocks of a (non-huge) page may go: [start, start + size). */
XA_INTERNAL uint8_t* xa__segment_page_area(const xa_segment_t* seg, const xa_page_t* page, size_t* size);

/* A free page of the given kind (small, medium or large), in use and reset,
 * from one of tld's segments or a new one. NULL when the OS refuses. */
XA_INTERNAL xa_page_t* xa__segment_page_alloc(xa_tld_t* tld, xa_kind_t kind);

/* Return a page whose blocks are all free (the caller detached it from its
 * heap). Returns true when this released the segment: the caller must not
 * touch the segment, or any page of it, afterwards. */
XA_INTERNAL bool xa__segment_page_free(xa_tld_t* tld, xa_page_t* page);

/* A huge segment whose single page holds one block of at least size bytes
 * aligned to align (power of two <= XA_ALIGN_MAX_HUGE). *fresh tells whether
 * the block is known to read as zero. */
XA_INTERNAL xa_page_t* xa__segment_huge_alloc(xa_tld_t* tld, size_t size, size_t align, bool* fresh);

/* Bytes a huge block may grow to in place. */
XA_INTERNAL size_t xa__segment_huge_room(const xa_segment_t* seg, const xa_page_t* page);

/* Resize the block of a huge page (owned by tld; the caller holds its one
 * block and took the page out of its heap queue, see xa__heap_page_moving)
 * to hold size bytes without copying: a shrink gives back the pages past
 * the new end; a growth extends the mapping in place or moves its pages to
 * a new 4 MiB-aligned address (the block keeps its offset, hence its
 * alignment). Returns the page, at its new address when the segment moved
 * (the old one must not be touched any more); *done tells whether the block
 * now holds size bytes. It may have moved without growing: the content is
 * intact either way. */
XA_INTERNAL xa_page_t* xa__segment_huge_resize(xa_tld_t* tld, xa_page_t* page, size_t size, bool* done);

/* p is the block of the huge segment seg (not some other address in its
 * chunk: a huge mapping may end before its last 4 MiB chunk does, and the
 * rest of that chunk belongs to somebody else). */
XA_INLINE bool xa__segment_huge_block_is(const xa_segment_t* seg, const void* p) {
  return (const uint8_t*)p == seg->pages[0].start;
}

/* Purge free pages of tld's segments and release its segment cache. */
XA_INTERNAL void xa__segments_purge(xa_tld_t* tld);
XA_INTERNAL void xa__segment_cache_release(xa_tld_t* tld);
/* Give the process-wide cache of huge segments back to the OS. */
XA_INTERNAL void xa__huge_cache_release(void);

/* Abandon: seg has no page linked in a heap any more; it leaves tld and goes
 * on the process-wide abandoned list with owner 0. */
XA_INTERNAL void xa__segment_abandon(xa_tld_t* tld, xa_segment_t* seg);
/* Take one abandoned segment into tld (owner = tld). Its in-use pages are
 * detached; the caller queues or frees them. NULL when none (or contended
 * and !wait). */
XA_INTERNAL xa_segment_t* xa__segment_reclaim(xa_tld_t* tld, bool wait);
XA_INTERNAL bool xa__abandoned_any(void);

/* Visit abandoned segments under the lock (debug checker). */
typedef void(xa_segment_visit_fun)(xa_segment_t* seg, void* arg);
XA_INTERNAL void xa__abandoned_visit(xa_segment_visit_fun* fn, void* arg);

XA_INTERNAL void xa__segment_fork_prepare(void);
XA_INTERNAL void xa__segment_fork_parent(void);
XA_INTERNAL void xa__segment_fork_child(void);

#endif
