/* Tracked blocks: every block records the size its caller asked for, so
 * that what lies past that size can be checked. On in debug builds (a
 * canary after each block, checked at free) and, in any build compiled
 * with valgrind's headers, when the process runs under valgrind (memcheck
 * learns which bytes are blocks: docs/debugging.md).
 *
 * A tracked block of requested size n, handed out at p (its block start,
 * or an aligned point inside it):
 *
 *   block ... p [n bytes] [canary bytes ...] [trailer: n, p - block] end
 *
 * Allocations ask for n + XA_TRACK_PAD bytes, so there are always at least
 * 8 canary bytes. While tracking, the fast paths are never taken: the
 * direct tables (direct, direct_mid) stay empty (heap.c; the local_free
 * swap of xa__malloc_generic relies on it) and every page's local_limit is 0
 * (page.h), so each malloc reaches alloc.c's generic path and each free
 * xa__free_slow, where the tracking happens. Nothing of this is on the
 * fast paths of a process that does not track. */
#ifndef XA_TRACK_H
#define XA_TRACK_H

#include "config.h"
#include "types.h"

#ifndef XA_VALGRIND
#define XA_VALGRIND 0
#endif

#define XA_TRACK_TRAILER 16
#define XA_TRACK_PAD     24  /* trailer + at least 8 canary bytes */

#if XA_VALGRIND
extern XA_INTERNAL bool xa__track_valgrind;  /* running under memcheck: set once at process start */
#define xa__tracking() (XA_DEBUG || xa__track_valgrind)
#else
#define xa__tracking() XA_DEBUG
#endif

/* At process start, before the first page is set up. */
XA_INTERNAL void xa__track_init(void);

/* p (n bytes asked for) was just handed out from page: write its trailer
 * and canary, then tell valgrind (zeroed: its n bytes are known to be 0). */
XA_INTERNAL void xa__track_handout(const xa_page_t* page, void* p, size_t n, bool zeroed);

/* What a tracked block's trailer says of the block at p. Damaged (an
 * overflow reached the trailer) is reported. */
typedef enum xa_track_state_e {
  XA_TRACK_LIVE,     /* handed out at p; *n is the size asked for */
  XA_TRACK_FREED,    /* freed (a double free, or a block in transit); debug fills spare the trailer */
  XA_TRACK_DAMAGED,  /* unknown: the trailer was overwritten */
} xa_track_state_t;
XA_INTERNAL xa_track_state_t xa__track_state(const xa_page_t* page, const void* p, size_t* n);

/* Check the canary of the live block at p: a damaged one is reported with
 * the block, the size asked for and the bytes found. */
XA_INTERNAL void xa__track_check(const xa_page_t* page, const void* p);

/* p is about to be freed (the free path judges it again): if its trailer
 * says live, it is untagged (atomically: one of two racing freers wins),
 * its canary checked and valgrind told, before the block can be handed out
 * again; also for a damaged trailer (reported). False when the block was
 * freed already. */
XA_INTERNAL bool xa__track_release(const xa_page_t* page, void* p);

/* The live tracked block of n bytes at was is now at now (the same address
 * when resized in place, newsize <= xa__track_room, or grown in place by a
 * huge realloc; pages moved by one otherwise) and holds newsize bytes:
 * trailer and canary are written at its (new) end. Check the canary before
 * the block changes (xa__track_check). */
XA_INTERNAL void xa__track_moved(const xa_page_t* page, void* was, void* now, size_t n, size_t newsize);

/* xa_heap_visit_blocks while tracking: the pointer handed out and the size
 * asked for of block, when live. */
XA_INTERNAL bool xa__track_visit(const xa_page_t* page, const uint8_t* block, void** p, size_t* n);

/* block, a tracked block of page that goes away with its heap
 * (xa_heap_destroy): released like a freed one when live. */
XA_INTERNAL void xa__track_destroyed(const xa_page_t* page, const uint8_t* block);

/* p is freed but is no live block (a double or invalid free, which the free
 * path reports): valgrind hears of it too. */
XA_INTERNAL void xa__track_invalid_free(void* p);

/* Bytes a tracked block at p of page could hold in place (for realloc). */
XA_INTERNAL size_t xa__track_room(const xa_page_t* page, const void* p);

/* Valgrind only: xalloc's own accesses to freed blocks and to the bytes past
 * a block are its business, not the program's errors. Nestable; nothing
 * happens outside valgrind. */
XA_INTERNAL void xa__track_quiet_begin_now(void);
XA_INTERNAL void xa__track_quiet_end_now(void);
XA_INLINE void xa__track_quiet_begin(void) {
  if (xa__tracking()) xa__track_quiet_begin_now();
}
XA_INLINE void xa__track_quiet_end(void) {
  if (xa__tracking()) xa__track_quiet_end_now();
}

/* Valgrind only: a segment's header holds pointers to blocks
 * (page->start): hidden from the leak checker, which would otherwise take
 * every page's first block as reachable, while xalloc's own reads of it
 * (on the fast paths too) are not reported. Set each time the segment is
 * laid out (the same range again changes nothing), undone when it goes
 * back to the OS. */
XA_INTERNAL void xa__track_header_hide(void* seg, size_t header);
XA_INTERNAL void xa__track_header_unhide(void* seg, size_t header);

#endif
