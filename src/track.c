/* Tracked blocks (track.h): trailers, canaries and valgrind's client
 * requests. Runs only while tracking, on slow paths. */
#include "track.h"
#include "heap.h"
#include "page.h"
#include "report.h"
#include "segment.h"
#include <string.h>

#if XA_VALGRIND
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
bool xa__track_valgrind;
#define ON_VALGRIND xa__track_valgrind
#else
#define ON_VALGRIND false
#endif

#define XA_CANARY 0xCA  /* the bytes between a block's requested size and its trailer */

void xa__track_init(void) {
#if XA_VALGRIND
  /* Memcheck only (it answers -1 to this request; callgrind, cachegrind,
   * helgrind... leave it at 0): the other tools measure or watch the
   * program as it runs outside valgrind, fast paths included. */
  static uint64_t probe;
  xa__track_valgrind = RUNNING_ON_VALGRIND != 0 && (long)VALGRIND_MAKE_MEM_DEFINED(&probe, sizeof(probe)) == -1;
#endif
}

void xa__track_quiet_begin_now(void) {
#if XA_VALGRIND
  if (ON_VALGRIND) VALGRIND_DISABLE_ERROR_REPORTING;
#endif
}

void xa__track_quiet_end_now(void) {
#if XA_VALGRIND
  if (ON_VALGRIND) VALGRIND_ENABLE_ERROR_REPORTING;
#endif
}

/* The block that holds p and its end. */
static uint8_t* block_bounds(const xa_page_t* page, const void* p, uint8_t** end) {
  uint8_t* block = xa__page_is_huge(page) ? page->start : xa__page_block_of(page, p);
  *end = block + page->block_size;
  return block;
}

size_t xa__track_room(const xa_page_t* page, const void* p) {
  uint8_t* end;
  block_bounds(page, p, &end);
  size_t room = (size_t)(end - (const uint8_t*)p);
  return room > XA_TRACK_PAD ? room - XA_TRACK_PAD : 0;
}

/* The trailer's second word: the offset of p in its block, with this tag
 * while the block is live. The state lives here, in bytes only xalloc
 * writes, and not in the block's free mark: that word is the program's
 * while the block is live, and valgrind would take a test of it for a
 * use of an unwritten value. */
#define LIVE_TAG ((uint64_t)0x7a11 << 48)

static void trailer_write(const xa_page_t* page, void* p, size_t n, bool live) {
  uint8_t* end;
  uint8_t* block = block_bounds(page, p, &end);
  uint64_t trailer[2] = {n, (uint64_t)((uint8_t*)p - block) | (live ? LIVE_TAG : 0)};
  uint8_t* t = end - XA_TRACK_TRAILER;
  xa__track_quiet_begin();
  memcpy(t, trailer, sizeof(trailer));
  if (live) memset((uint8_t*)p + n, XA_CANARY, (size_t)(t - ((uint8_t*)p + n)));
  xa__track_quiet_end();
}

void xa__track_handout(const xa_page_t* page, void* p, size_t n, bool zeroed) {
  trailer_write(page, p, n, true);
#if XA_VALGRIND
  if (ON_VALGRIND) {
    /* The whole block, trailer included, is off limits but for its n bytes. */
    uint8_t* end;
    uint8_t* block = block_bounds(page, p, &end);
    VALGRIND_MAKE_MEM_NOACCESS(block, (size_t)(end - block));
    VALGRIND_MALLOCLIKE_BLOCK(p, n, 0, zeroed);
  }
#else
  (void)zeroed;
#endif
}

/* What the trailer of the block holding p says; *n is the size asked for
 * when live. */
static xa_track_state_t trailer_state(const xa_page_t* page, const void* p, size_t* n) {
  uint8_t* end;
  uint8_t* block = block_bounds(page, p, &end);
  uint8_t* t = end - XA_TRACK_TRAILER;
  uint64_t trailer[2];
  xa__track_quiet_begin();
  memcpy(trailer, t, sizeof(trailer));
  xa__track_quiet_end();
  uint64_t off = (uint64_t)((const uint8_t*)p - block);
  size_t room = (size_t)(t - (const uint8_t*)p);
  *n = (size_t)trailer[0];
  if (trailer[1] == (off | LIVE_TAG) && room >= 8 && trailer[0] <= room - 8) return XA_TRACK_LIVE;
  if (trailer[1] == off) return XA_TRACK_FREED;
  return XA_TRACK_DAMAGED;
}

static void report_damaged(const xa_page_t* page, const void* p) {
  uint8_t* end;
  block_bounds(page, p, &end);
  xa__track_quiet_begin();
  xa__report_overflow(p, SIZE_MAX, end - XA_TRACK_TRAILER, XA_TRACK_TRAILER);
  xa__track_quiet_end();
}

xa_track_state_t xa__track_state(const xa_page_t* page, const void* p, size_t* n) {
  xa_track_state_t s = trailer_state(page, p, n);
  if (s == XA_TRACK_DAMAGED) report_damaged(page, p);
  return s;
}

/* The canary of a live block of n bytes at p: false (reported) if damaged. */
static bool canary_ok(const xa_page_t* page, const void* p, size_t n) {
  uint8_t* end;
  block_bounds(page, p, &end);
  const uint8_t* canary_end = end - XA_TRACK_TRAILER;
  xa__track_quiet_begin();
  const uint8_t* c = (const uint8_t*)p + n;
  while (c < canary_end && *c == XA_CANARY) c++;
  if (c < canary_end) xa__report_overflow(p, n, c, (size_t)(canary_end - c));
  xa__track_quiet_end();
  return c == canary_end;
}

void xa__track_check(const xa_page_t* page, const void* p) {
  size_t n;
  if (trailer_state(page, p, &n) != XA_TRACK_LIVE) return;  /* reported by xa__track_state */
  if (!canary_ok(page, p, n)) trailer_write(page, (void*)p, n, true);  /* reported once */
}

bool xa__track_release(const xa_page_t* page, void* p) {
  uint8_t* end;
  uint8_t* block = block_bounds(page, p, &end);
  uint64_t off = (uint64_t)((uint8_t*)p - block);
  /* One freer wins the untagging: of two threads freeing the block at once,
   * the other sees it freed (the free path then reports the double free). */
  uint64_t* tag = (uint64_t*)(end - sizeof(uint64_t));
  uint64_t expect = off | LIVE_TAG;
  xa__track_quiet_begin();
  bool won = __atomic_compare_exchange_n(tag, &expect, off, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
  uint64_t n;
  memcpy(&n, end - XA_TRACK_TRAILER, sizeof(n));
  xa__track_quiet_end();
  if (!won && expect == off) return false;
  size_t room = (size_t)(end - XA_TRACK_TRAILER - (uint8_t*)p);
  if (!won || room < 8 || n > room - 8) report_damaged(page, p);
  else canary_ok(page, p, (size_t)n);
  xa__track_invalid_free(p);  /* for valgrind, a valid one */
  return true;
}

void xa__track_invalid_free(void* p) {
#if XA_VALGRIND
  if (ON_VALGRIND) VALGRIND_FREELIKE_BLOCK(p, 0);
#else
  (void)p;
#endif
}

void xa__track_moved(const xa_page_t* page, void* was, void* p, size_t n, size_t newsize) {
  trailer_write(page, p, newsize, true);
#if XA_VALGRIND
  if (ON_VALGRIND && was == p) {
    VALGRIND_RESIZEINPLACE_BLOCK(p, n, newsize, 0);
  } else if (ON_VALGRIND) {
    /* The pages kept their content (and valgrind their state): only the
     * block moves. What was kept counts as written. */
    uint8_t* end;
    uint8_t* block = block_bounds(page, p, &end);
    VALGRIND_FREELIKE_BLOCK(was, 0);
    VALGRIND_MAKE_MEM_NOACCESS(block, (size_t)(end - block));
    VALGRIND_MALLOCLIKE_BLOCK(p, newsize, 0, 0);
    VALGRIND_MAKE_MEM_DEFINED(p, n < newsize ? n : newsize);
  }
#else
  (void)was;
  (void)n;
#endif
}

bool xa__track_visit(const xa_page_t* page, const uint8_t* block, void** p, size_t* n) {
  uint64_t off;
  xa__track_quiet_begin();
  memcpy(&off, block + page->block_size - sizeof(uint64_t), sizeof(off));
  xa__track_quiet_end();
  off &= ~LIVE_TAG;
  if (off >= page->block_size) return false;
  *p = (void*)(block + off);
  return trailer_state(page, *p, n) == XA_TRACK_LIVE;
}

void xa__track_destroyed(const xa_page_t* page, const uint8_t* block) {
  void* p;
  size_t n;
  if (xa__track_visit(page, block, &p, &n)) (void)xa__track_release(page, p);
}

void xa__track_header_hide(void* seg, size_t header) {
#if XA_VALGRIND
  if (ON_VALGRIND) {
    VALGRIND_DISABLE_ADDR_ERROR_REPORTING_IN_RANGE(seg, header);
    VALGRIND_MAKE_MEM_NOACCESS(seg, header);
  }
#else
  (void)seg;
  (void)header;
#endif
}

void xa__track_header_unhide(void* seg, size_t header) {
#if XA_VALGRIND
  if (ON_VALGRIND) VALGRIND_ENABLE_ADDR_ERROR_REPORTING_IN_RANGE(seg, header);
#else
  (void)seg;
  (void)header;
#endif
}
