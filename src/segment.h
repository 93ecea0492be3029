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
/* p lies in the huge segment's own mapping (the block's interior included);
 * beyond it the chunk is somebody else's. */
XA_INLINE bool xa__segment_huge_covers(const xa_segment_t* seg, const void* p) {
  return (uintptr_t)p - (uintptr_t)seg < __atomic_load_n(&seg->size, __ATOMIC_RELAXED);
}

XA_INLINE bool xa__segment_huge_block_is(const xa_segment_t* seg, const void* p) {
  return (const uint8_t*)p == seg->pages[0].start;
}

/* A thread freeing another thread's huge block purges the block's memory
 * (all but its first OS page) before it hands the block over: the owner may
 * not look at it for a long time. */
XA_INTERNAL void xa__segment_huge_purge_block(xa_segment_t* seg, const xa_page_t* page);
/* Give back the memory of [start, start + size) (page multiples) of a free
 * block, counted in the purge statistics; the range stays usable. */
XA_INTERNAL void xa__segment_purge_range(uint8_t* start, size_t size);

/* ---- giving memory back (purge.c drives these) ---- */

/* Ask for a purge pass at clock `when` (ms); the earliest request wins. */
XA_INTERNAL void xa__purge_schedule(uint64_t when);
/* The earliest requested pass (UINT64_MAX: none). */
XA_INTERNAL uint64_t xa__purge_due(void);
/* Take the pass requested for `due`: true for exactly one caller. */
XA_INTERNAL bool xa__purge_claim(uint64_t due);

/* Limit what the next timed pass purges (SIZE_MAX: no limit). */
XA_INTERNAL void xa__purge_budget(size_t bytes);
/* The running pass only: whether it may still purge (then bytes are taken
 * from its budget; the last one may overshoot it). */
XA_INTERNAL bool xa__purge_budget_take(size_t bytes);

/* Purge tld's free pages that are due at now (all with force) and age out its
 * segment cache; any thread may call it (it takes tld->lock; without wait it
 * only tries). Returns the earliest deadline left (UINT64_MAX: none). */
XA_INTERNAL uint64_t xa__segments_purge_due(xa_tld_t* tld, uint64_t now, bool force, bool wait);
/* Purge every free page of tld's segments and release its segment cache. */
XA_INTERNAL void xa__segments_purge(xa_tld_t* tld);
/* At thread exit: tld's cached segments go to the shared cache (or the OS). */
XA_INTERNAL void xa__segment_cache_release(xa_tld_t* tld);
/* Age out the process-wide caches of huge and of standard segments (all of
 * them with force); returns the earliest deadline left. */
XA_INTERNAL uint64_t xa__shared_cache_age(uint64_t now, bool force);

/* Abandoned segments left unreclaimed for the delay: collect what other
 * threads freed into them (collect: xa__page_collect, and the freed big
 * blocks' memory; it returns when the page wants another look), free their
 * empty pages, purge due free pages, give back empty segments. Returns the
 * earliest deadline left. */
typedef uint64_t(xa_page_collect_fun)(xa_page_t* page, uint64_t now, bool force);
XA_INTERNAL uint64_t xa__abandoned_sweep(uint64_t now, bool force, xa_page_collect_fun* collect);

/* Abandon: seg has no page linked in a heap any more; it leaves tld and goes
 * on the process-wide abandoned list with owner 0. */
XA_INTERNAL void xa__segment_abandon(xa_tld_t* tld, xa_segment_t* seg);
/* What a thread that needs a page would take from an abandoned segment. */
typedef struct xa_reclaim_want_s {
  xa_kind_t kind;     /* segment kind of the page */
  size_t block_size;  /* its blocks */
  bool free_page;     /* a free page of kind will do (else only a page of block_size with room) */
} xa_reclaim_want_t;
/* Take one abandoned segment into tld (owner = tld). Its in-use pages are
 * detached; the caller queues or frees them. With want, the first among the
 * first XA_RECLAIM_SCAN of want's kind that has a page of want's blocks with
 * free blocks or room (or, with want->free_page, a free page); without, the
 * most recently abandoned one of the first kind that has one. NULL when none
 * (or contended and !wait). */
XA_INTERNAL xa_segment_t* xa__segment_reclaim(xa_tld_t* tld, bool wait, const xa_reclaim_want_t* want);
XA_INTERNAL bool xa__abandoned_any(void);
XA_INTERNAL bool xa__abandoned_of(xa_kind_t kind);  /* of that kind */
/* Whether one of tld's own segments of kind has a free page (owner). */
XA_INTERNAL bool xa__segment_free_page_any(const xa_tld_t* tld, xa_kind_t kind);

/* Visit abandoned segments under the lock (debug checker). */
typedef void(xa_segment_visit_fun)(xa_segment_t* seg, void* arg);
XA_INTERNAL void xa__abandoned_visit(xa_segment_visit_fun* fn, void* arg);

XA_INTERNAL void xa__segment_fork_child(void);

#endif
