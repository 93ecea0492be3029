/* Pages: one size class each; sharded free lists (design.md). Called by the
 * page's owner thread unless stated otherwise. */
#ifndef XA_PAGE_H
#define XA_PAGE_H

#include "config.h"
#include "secure.h"
#include "track.h"
#include "types.h"
#include <string.h>

extern XA_INTERNAL xa_page_t xa__page_empty;

XA_INLINE uint8_t xa__page_flags(const xa_page_t* page) {
  return atomic_load_explicit(&((xa_page_t*)page)->flags, memory_order_relaxed);
}

/* The local free fast path's bound: any flag sends a free to the slow path,
 * and so does tracking (track.h). */
XA_INLINE void xa__page_limit_update(xa_page_t* page) {
  page->local_limit = xa__page_flags(page) == 0 && !xa__tracking() ? page->capacity : 0;
}
XA_INLINE void xa__page_flags_set(xa_page_t* page, uint8_t f) {
  atomic_store_explicit(&page->flags, (uint8_t)(xa__page_flags(page) | f), memory_order_relaxed);
  xa__page_limit_update(page);
}
XA_INLINE void xa__page_flags_clear(xa_page_t* page, uint8_t f) {
  atomic_store_explicit(&page->flags, (uint8_t)(xa__page_flags(page) & ~f), memory_order_relaxed);
  xa__page_limit_update(page);
}

/* If p is the start of a block of the page, its index; otherwise a number
 * larger than any block count. p - start is multiplied by the inverse of the
 * odd part of block_size and rotated right by its trailing zeros: that is
 * the exact quotient when block_size divides p - start, and above
 * UINT64_MAX / block_size when it does not (Hacker's Delight, 10-17), also
 * for p below start. One compare against a block count checks both the
 * boundary and the range. Only for pages that are not huge. */
XA_INLINE uint64_t xa__page_block_index(const xa_page_t* page, const void* p) {
  uint64_t x = ((uintptr_t)p - (uintptr_t)page->start) * page->block_inv;
  unsigned k = page->block_shift;
  return (x >> k) | (x << ((64 - k) & 63));
}

/* Start of the block that contains p (p inside the page's block area). */
XA_INLINE uint8_t* xa__page_block_of(const xa_page_t* page, const void* p) {
  size_t off = (size_t)((const uint8_t*)p - page->start);
  return page->start + (off - off % page->block_size);
}

/* A freed block of a XA_PF_BIG page carries in its third word the clock
 * (ms, made odd) when it was freed, and 0 once its memory went back (heap.c,
 * "Big blocks"). Blocks of such pages are at least 32 KiB. */
XA_INLINE uint64_t xa__big_stamp(const xa_block_t* b) {
  uint64_t v;
  memcpy(&v, (const uint8_t*)b + 2 * sizeof(void*), sizeof v);
  return v;
}
XA_INLINE void xa__big_stamp_set(xa_block_t* b, uint64_t v) { memcpy((uint8_t*)b + 2 * sizeof(void*), &v, sizeof v); }

/* Big blocks were freed (stamped) at freed_at or before: make sure tld's
 * owner looks at its big pages a purge delay after that (heap.c, "Big
 * blocks"). Owner only. */
XA_INTERNAL void xa__page_big_plan(struct xa_tld_s* tld, uint64_t freed_at);

/* Give back the memory of b, a free block of a XA_PF_BIG page that only the
 * caller can reach, but for its first OS page; its stamp becomes 0. */
XA_INTERNAL void xa__page_big_give_back(xa_page_t* page, xa_block_t* b);

/* Give back the memory of the page's free big blocks (XA_PF_BIG) that were
 * freed a purge delay before now (all with force), but for each one's first
 * OS page. Returns when the next one is due (UINT64_MAX: none). Whoever may
 * walk the page's lists (its owner; the sweep for an abandoned segment).
 * in_pass (the sweep): the blocks count against the pass's budget, and those
 * over it are due at once, for the next pass. */
XA_INTERNAL uint64_t xa__page_purge_big(xa_page_t* page, uint64_t now, bool force, bool in_pass);

/* The owner can allocate from the page without carving: a block on `free`,
 * or on local_free (collected there while profiling, see below). */
XA_INLINE bool xa__page_has_free(const xa_page_t* page) {
  return page->free != NULL || page->local_free != NULL;
}

/* Prepare a fresh page (in_use, start set) for blocks of bin / block_size. */
XA_INTERNAL void xa__page_init(xa_page_t* page, size_t bin, size_t block_size, size_t area_size);

/* Carve more never-used blocks into page->free (while profiling: onto
 * local_free, which only the profiling slow path hands to the fast path). */
XA_INTERNAL void xa__page_extend(xa_page_t* page);

/* Move local_free and the blocks other threads freed into free; used drops by
 * the number of cross-thread blocks taken. A damaged list marks the page
 * corrupt (xa__page_corrupt). */
XA_INTERNAL void xa__page_collect(xa_page_t* page);

/* Ask (on) or stop asking (off) for the next cross-thread free to be delivered
 * through the owner's inbox. Returns true if cross-thread frees are pending. */
XA_INTERNAL bool xa__page_notify(xa_page_t* page, bool on);

/* The block that p designates, or NULL when p is not a pointer the page
 * handed out among its first `limit` blocks: p must be a block's start; in a
 * page with aligned blocks also an aligned point within a block's first
 * alignment bytes (a pointer below its own lowest set bit from the block
 * start); in a huge page the block itself. Any thread may ask (it reads
 * start and the geometry only); the owner passes capacity, others reserved. */
XA_INTERNAL xa_block_t* xa__page_block_at(const xa_page_t* page, const void* p, uint64_t limit);

/* As xa__page_block_at for any caller: NULL also when the caller owns seg
 * and the page is not in use. */
XA_INTERNAL xa_block_t* xa__page_block_checked(const xa_segment_t* seg, const xa_page_t* page, const void* p);

/* Where block b (a block of the calling thread's page) is. Every list walk is
 * bounded by the page's capacity and checks each link before it follows
 * it; a damaged list marks the page corrupt. */
typedef enum xa_block_state_e {
  XA_BLOCK_LIVE,     /* on no list: handed out, or in transit through an inbox */
  XA_BLOCK_FREE,     /* on free, local_free or xthread_free */
  XA_BLOCK_CORRUPT,  /* a list was damaged: the page is now corrupt */
} xa_block_state_t;
XA_INTERNAL xa_block_state_t xa__page_block_state(xa_page_t* page, const xa_block_t* b);

/* Set bit i of bits (capacity bits, cleared by the caller) for every block i
 * on free or local_free. False (the page is now corrupt) if a list was
 * damaged. */
XA_INTERNAL bool xa__page_free_map(xa_page_t* page, uint64_t* bits);

/* A list of the page failed a check at `where`: report it, drop every free
 * list (their blocks leak) and never allocate from the page again. Its live
 * blocks stay valid; frees into it are ignored. */
XA_INTERNAL void xa__page_corrupt(xa_page_t* page, const void* where);

/* ---- while profiling (prof.c; alloc.c's profiling slow path) ----------------
 * `free` then holds only prof_run blocks that the fast path may pop; every
 * other free block of the page waits on local_free. */

/* How many of the blocks the last xa__page_prof_expose left on `free` were
 * popped since; prof_run becomes what is left there. A list longer than
 * prof_run (profiling was just turned on) counts as nothing popped. */
XA_INTERNAL uint32_t xa__page_prof_settle(xa_page_t* page);

/* One block for the profiling slow path: from `free` (it leaves the run), else
 * from local_free; NULL when both are empty. Counted as used, mark cleared. */
XA_INTERNAL xa_block_t* xa__page_prof_take(xa_page_t* page);

/* Leave exactly min(want, free blocks on both lists) blocks on `free` (the
 * rest on local_free) and remember the number in prof_run. */
XA_INTERNAL void xa__page_prof_expose(xa_page_t* page, uint32_t want);


/* Debug builds: a freed block of a page that is not huge is filled with a
 * pattern past its link and mark (xa__debug_fill), checked when the block is
 * handed out again; a change is a write after free, reported. */
#define XA_DEBUG_FILL 0xEB
XA_INTERNAL void xa__debug_fill(const xa_page_t* page, xa_block_t* b);
XA_INTERNAL void xa__debug_fill_check(const xa_page_t* page, const xa_block_t* b);

/* Hand out b, the first block of page->free: the one sequence every
 * allocation path pops with. The secure build checks the link it follows
 * (secure.h: a changed link fails its tag) and on failure takes the page
 * out of use instead of following it. */
#if XA_SECURE
/* xa__page_take when the link failed its check (a tail call: the fast
 * path keeps no stack frame). */
#if defined(__GNUC__)
__attribute__((returns_nonnull))  /* b: malloc's fast path then needs no NULL test after the call */
#endif
XA_INTERNAL xa_block_t* xa__page_take_damaged(xa_page_t* page, xa_block_t* b, const xa_block_t* next);
#endif
XA_INLINE xa_block_t* xa__page_take(xa_page_t* page, xa_block_t* b) {
#if XA_SECURE
  xa_block_t* next;
  if (xa_unlikely(!xa__link_check(page->key, b, (uintptr_t)b->next, &next))) {
    return xa__page_take_damaged(page, b, next);
  }
#else
  xa_block_t* next = xa__block_next(page, b);
#endif
  page->free = next;
#if defined(__GNUC__)
  /* The next pop reads next's link and writes its mark: a block freed long
   * ago (or by another thread) is cold, and the program usually runs long
   * enough between two mallocs for the line to arrive. No fault on NULL. */
  __builtin_prefetch(next, 1);
#endif
  page->used++;
  if (XA_DEBUG && b->freed == XA_FREED_MARK) xa__debug_fill_check(page, b);
  b->freed = 0;
  return b;
}

#endif

