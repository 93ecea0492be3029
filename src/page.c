/* Pages (page.h).
 *
 * The lists of a page live in its free blocks, where a buggy program can
 * overwrite them (use after free, overflow into a free neighbour, two
 * threads freeing one block at once). Every walk here is therefore bounded
 * by the page's capacity and checks that a link is a block of the page
 * before it follows it; a list that fails marks the page corrupt. */
#include "page.h"
#include "options.h"
#include "report.h"
#include "segment.h"
#include "stats.h"
#include "tls.h"
#include <string.h>

/* Every direct entry of an uninitialised heap points here: no free block, so
 * the fast path falls through to the slow path without a separate check. */
xa_page_t xa__page_empty;

/* Inverse of an odd number modulo 2^64 (Newton's iteration: each step
 * doubles the correct low bits, 3 -> 6 -> ... -> 96). */
static uint64_t inverse_odd(uint64_t d) {
  uint64_t x = d;  /* d * d == 1 mod 8 */
  for (int i = 0; i < 5; i++) x *= 2 - d * x;
  return x;
}

_Static_assert(((size_t)1 << XA_SMALL_PAGE_SHIFT) / 16 <= UINT16_MAX && XA_SMALL_MAX >= 16,
               "a page's block counts fit the 16-bit fields of its descriptor");

void xa__page_init(xa_page_t* page, size_t bin, size_t block_size, size_t area_size) {
  page->queue = (uint8_t)bin;
  page->block_size = block_size;
  unsigned shift = (unsigned)__builtin_ctzll(block_size);
  page->block_shift = (uint8_t)shift;
  page->block_inv = inverse_odd(block_size >> shift);
#if XA_SECURE
  page->key = xa__secure_page_key() | 1;  /* odd: the tag's multiplier (secure.h) */
#endif
  page->reserved = (uint32_t)(area_size / block_size);
  page->capacity = 0;
  page->used = 0;
  page->free = NULL;
  page->local_free = NULL;
  page->prof_run = 0;
  atomic_store_explicit(&page->xthread_free, 0, memory_order_relaxed);
  /* (Debug builds fill freed blocks and check the fill on reuse: a block
   * whose memory went back would read as zero.) */
  uint8_t big = !XA_DEBUG && block_size >= XA_BIG_BLOCK ? XA_PF_BIG : 0;
  atomic_store_explicit(&page->flags, big, memory_order_relaxed);
  xa__page_limit_update(page);
  xa__stats_page_init(page);
}

#if XA_SECURE
/* Link the n new blocks from first on in a random order, ahead of
 * page->free: an overflow cannot count on which block comes next. The order
 * is start + k * stride (mod n), a stride coprime with n. */
static uint64_t gcd(uint64_t a, uint64_t b) {
  while (b != 0) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

static void extend_shuffled(xa_page_t* page, uint8_t* first, size_t n) {
  uint64_t r = xa__secure_batch_random(page->key, page->capacity);
  size_t start = (size_t)(r % n), stride = 1;
  if (n > 4) {  /* 2 .. n-2 if one is coprime with n: not plain address order */
    size_t s = (size_t)((r >> 32) % (n - 3)) + 2;
    for (size_t tries = 0; tries < n - 3; tries++, s = s % (n - 3) + 2) {
      if (gcd(s, n) == 1) {
        stride = s;
        break;
      }
    }
  }
  /* Byte offsets, not indices: no multiply per block. The progression
   * visits every block once and is back at its start after n steps. */
  size_t span = n * page->block_size, step = stride * page->block_size;
  size_t off = start * page->block_size, first_off = off;
  uintptr_t key = page->key;
  xa_block_t* head = page->free;
  do {
    xa_block_t* b = (xa_block_t*)(first + off);
    b->next = (xa_block_t*)xa__link_encode(key, b, head);
    head = b;
    off += step;
    if (off >= span) off -= span;
  } while (off != first_off);
  page->free = head;
}
#endif

void xa__page_extend(xa_page_t* page) {
  xa__stats_page_sync(page);  /* a free list runs out: count what was handed out */
  uint32_t left = page->reserved - page->capacity;
  if (left == 0 || (xa__page_flags(page) & XA_PF_CORRUPT)) return;
  /* Carve about XA_EXTEND_BYTES at a time so that a page that is only partly
   * used only touches (and keeps resident) what it uses; small blocks at least four
   * (a malloc+free pair that empties its page then finds three more on
   * `free` instead of taking local_free back through the generic path: 8
   * instructions a pair in pairs-4096), medium and large blocks (above
   * 8 KiB) one at a time. Each carved block is written (its link), which
   * faults in its first OS page when the page is fresh: four 64 KiB blocks
   * at once made one malloc take four faults (bench/tail-latency). The
   * secure build keeps four, which its carve order shuffles. */
  size_t n = XA_EXTEND_BYTES / page->block_size;
  if (n < 4) n = (XA_SECURE || page->block_size <= XA_SMALL_MAX) ? 4 : 1;
  if (n > left) n = left;
  uint8_t* first = page->start + (size_t)page->capacity * page->block_size;
  if (XA_DEBUG) {  /* never freed: whatever a reused page held is no free mark */
    for (size_t i = 0; i < n; i++) ((xa_block_t*)(first + i * page->block_size))->freed = 0;
  }
  if (xa__page_flags(page) & XA_PF_BIG) {  /* no stamp: whatever a reused page held is none */
    for (size_t i = 0; i < n; i++) xa__big_stamp_set((xa_block_t*)(first + i * page->block_size), 0);
  }
#if XA_SECURE
  extend_shuffled(page, first, n);
#else
  uint8_t* b = first;
  for (size_t i = 1; i < n; i++) {
    xa__block_set_next(page, (xa_block_t*)b, (xa_block_t*)(b + page->block_size));
    b += page->block_size;
  }
  /* While profiling, only the profiling slow path fills `free`. */
  xa_block_t** dst = xa__option(XA_OPT_PROFILE) ? &page->local_free : &page->free;
  xa__block_set_next(page, (xa_block_t*)b, *dst);
  *dst = (xa_block_t*)first;
#endif
  page->capacity += (uint32_t)n;
  xa__page_limit_update(page);
}

static bool page_is_huge(const xa_page_t* page) { return xa__page_segment(page)->kind == XA_KIND_HUGE; }


/* The fill spares a tracked block's trailer (track.h): it tells a freed
 * block from a damaged one. */
static size_t fill_end(const xa_page_t* page) {
  return page->block_size - (xa__tracking() ? XA_TRACK_TRAILER : 0);
}

void xa__debug_fill(const xa_page_t* page, xa_block_t* b) {
  if (page_is_huge(page)) return;  /* one block, its memory purged or released: nothing to check */
  memset((uint8_t*)b + sizeof(xa_block_t), XA_DEBUG_FILL, fill_end(page) - sizeof(xa_block_t));
}

void xa__debug_fill_check(const xa_page_t* page, const xa_block_t* b) {
  if (page_is_huge(page)) return;
  const uint8_t* p = (const uint8_t*)b + sizeof(xa_block_t);
  const uint8_t* end = (const uint8_t*)b + fill_end(page);
  for (; p < end; p++) {
    if (*p != XA_DEBUG_FILL) {
      xa__report_write_after_free(b, p);
      return;
    }
  }
}

/* p is the start of one of the first `limit` blocks. A huge page's geometry
 * is not set (its block size can change): its one block is at start. */
static bool holds_block(const xa_page_t* page, bool huge, const void* p, uint64_t limit) {
  if (huge) return p == page->start && limit > 0;
  return xa__page_block_index(page, p) < limit;
}

void xa__page_corrupt(xa_page_t* page, const void* where) {
  xa__report_corruption(where);
  xa__page_flags_set(page, XA_PF_CORRUPT);
  page->free = NULL;
  page->local_free = NULL;
  atomic_fetch_and_explicit(&page->xthread_free, XA_XF_NOTIFY, memory_order_acquire);
}

#if XA_SECURE
xa_block_t* xa__page_take_damaged(xa_page_t* page, xa_block_t* b, const xa_block_t* next) {
  xa__page_corrupt(page, next);  /* b itself passed the check of the link before it */
  page->used++;
  b->freed = 0;
  return b;
}
#endif

static void page_collect(xa_page_t* page) {
  if (xa_unlikely(xa__page_flags(page) & XA_PF_CORRUPT)) {
    /* Keep dropping what other threads push: nothing here is trusted. */
    atomic_fetch_and_explicit(&page->xthread_free, XA_XF_NOTIFY, memory_order_acquire);
    return;
  }
  bool huge = page_is_huge(page);
  /* While profiling, `free` holds what the profiling slow path counted out
   * for the fast path (xa__page_prof_expose): the rest stays on local_free. */
  bool hide = !huge && xa__option(XA_OPT_PROFILE);
  if (page->local_free != NULL && !hide) {
    if (page->free == NULL) {
      page->free = page->local_free;
    } else {
      xa_block_t* tail = page->local_free;
      for (uint32_t n = 1; xa__block_next(page, tail) != NULL; n++) {
        xa_block_t* next = xa__block_next(page, tail);
        if (n >= page->capacity || !holds_block(page, huge, next, page->capacity)) {
          xa__page_corrupt(page, next);
          return;
        }
        tail = next;
      }
      xa__block_set_next(page, tail, page->free);
      page->free = page->local_free;
    }
    page->local_free = NULL;
  }
  uintptr_t tagged = atomic_load_explicit(&page->xthread_free, memory_order_relaxed);
  if ((tagged & ~XA_XF_NOTIFY) == 0) {
    xa__stats_page_sync(page);
    return;
  }
  /* Take the whole list, keep the NOTIFY bit as it is. */
  while (!atomic_compare_exchange_weak_explicit(&page->xthread_free, &tagged, tagged & XA_XF_NOTIFY,
                                                memory_order_acquire, memory_order_relaxed)) {
  }
  xa_block_t* list = (xa_block_t*)(tagged & ~XA_XF_NOTIFY);
  /* Each block on it is live until taken: more blocks than `used` means a
   * cycle (two threads freed one block at once) or a damaged link. */
  uint32_t count = 0;
  xa_block_t* tail = NULL;
  for (xa_block_t* b = list; b != NULL; b = xa__block_next(page, b)) {
    if (count >= page->used || !holds_block(page, huge, b, page->capacity)) {
      xa__page_corrupt(page, b);
      return;
    }
    /* Its line was last written by the freeing thread: a store before the
     * read takes it exclusive in one transfer, where a read would share it
     * and the pop's write of the mark would need a second one. */
    b->freed = XA_FREED_MARK;
    count++;
    tail = b;
  }
  xa_block_t** dst = hide ? &page->local_free : &page->free;
  xa__block_set_next(page, tail, *dst);
  *dst = list;
  page->used -= count;
  /* Their freers stamped them, at the latest now: the owner looks a delay
   * after its last clock reading (heap.c, "Big blocks"), unless it already
   * has a look planned. An abandoned page (no heap) waits for its taker. */
  if ((xa__page_flags(page) & XA_PF_BIG) && page->heap != NULL && page->heap->tld != NULL) {
    xa_tld_t* tld = page->heap->tld;
    xa__page_big_plan(tld, atomic_load_explicit(&tld->active_ms, memory_order_relaxed));
  }
  xa__stats_page_sync(page);
}

void xa__page_big_plan(xa_tld_t* tld, uint64_t freed_at) {
  int64_t delay = xa__option_get(XA_OPT_PURGE_DELAY);
  if (delay < 0) return;
  uint64_t due = freed_at + (uint64_t)delay;
  if (due == 0) due = 1;  /* 0 says "no look planned" */
  if (tld->big_purge_at == 0) xa__stats_free_event();  /* a trim finds something to do */
  if (tld->big_purge_at == 0 || due < tld->big_purge_at) tld->big_purge_at = due;
}

void xa__page_big_give_back(xa_page_t* page, xa_block_t* b) {
  size_t ps = xa__os_page_size();
  uint8_t* from = (uint8_t*)xa_align_up((uintptr_t)b + 3 * sizeof(void*), ps);
  uint8_t* to = (uint8_t*)(((uintptr_t)b + page->block_size) & ~(uintptr_t)(ps - 1));
  if (to > from) xa__segment_purge_range(from, (size_t)(to - from));
  xa__big_stamp_set(b, 0);
}

/* Give back what of b, free since its stamp, is due; the next due time
 * otherwise (UINT64_MAX: nothing to do). */
static uint64_t big_block_purge(xa_page_t* page, xa_block_t* b, uint64_t now, uint64_t delay, bool force,
                                bool in_pass) {
  uint64_t stamp = xa__big_stamp(b);
  if (stamp == 0) return UINT64_MAX;
  /* (A stamp after now is no stamp of ours: due.) */
  if (!force && stamp <= now && stamp + delay > now) return stamp + delay;
  /* The sweep runs inside some thread's malloc or free, under the
   * abandoned-list lock: as for free pages, a pass gives back so much. */
  if (in_pass && !force && !xa__purge_budget_take(page->block_size)) return now;
  xa__page_big_give_back(page, b);
  return UINT64_MAX;
}

uint64_t xa__page_purge_big(xa_page_t* page, uint64_t now, bool force, bool in_pass) {
  uint8_t flags = xa__page_flags(page);
  int64_t delay = xa__option_get(XA_OPT_PURGE_DELAY);
  if (!(flags & XA_PF_BIG) || (flags & XA_PF_CORRUPT) || (delay < 0 && !force)) return UINT64_MAX;
  uint64_t next = UINT64_MAX;
  xa__track_quiet_begin();  /* the links and stamps are in freed blocks (track.h) */
  /* Bounded, and only block starts of the page are read: a link out of the
   * page ends the walk (the allocation paths report it). Only blocks that
   * carry the free mark are given back: a damaged link may lead to a live
   * block (or to a carved one, never used, which has nothing to give). */
  xa_block_t* lists[2] = {page->free, page->local_free};
  for (int l = 0; l < 2; l++) {
    uint32_t n = 0;
    for (xa_block_t* b = lists[l]; b != NULL && n++ < page->capacity; b = xa__block_next(page, b)) {
      if (xa__page_block_index(page, b) >= page->capacity) break;
      if (b->freed != XA_FREED_MARK) continue;
      uint64_t due = big_block_purge(page, b, now, (uint64_t)(delay > 0 ? delay : 0), force, in_pass);
      if (due < next) next = due;
    }
  }
  xa__track_quiet_end();
  return next;
}

/* The walks below read links in freed blocks: xalloc's business, not
 * errors of the program's for valgrind (track.h). */
void xa__page_collect(xa_page_t* page) {
  xa__track_quiet_begin();
  page_collect(page);
  xa__track_quiet_end();
}

bool xa__page_notify(xa_page_t* page, bool on) {
  uintptr_t tagged;
  if (on) tagged = atomic_fetch_or_explicit(&page->xthread_free, XA_XF_NOTIFY, memory_order_acq_rel);
  else tagged = atomic_fetch_and_explicit(&page->xthread_free, ~XA_XF_NOTIFY, memory_order_acq_rel);
  return (tagged & ~XA_XF_NOTIFY) != 0;
}

xa_block_t* xa__page_block_at(const xa_page_t* page, const void* p, uint64_t limit) {
  if (page_is_huge(page)) return p == page->start && limit > 0 ? (xa_block_t*)p : NULL;
  if (xa__page_block_index(page, p) < limit) return (xa_block_t*)p;
  if (!(xa__page_flags(page) & XA_PF_ALIGNED) || (const uint8_t*)p < page->start) return NULL;
  /* An aligned block q = align_up(b, a) lies less than a past its block b,
   * and a divides q: q - b is below q's lowest set bit. */
  size_t off = (size_t)((const uint8_t*)p - page->start);
  if (off / page->block_size >= limit) return NULL;
  uint8_t* b = page->start + (off - off % page->block_size);
  uintptr_t low = (uintptr_t)p & (0 - (uintptr_t)p);
  return (uintptr_t)((const uint8_t*)p - b) < low ? (xa_block_t*)b : NULL;
}

xa_block_t* xa__page_block_checked(const xa_segment_t* seg, const xa_page_t* page, const void* p) {
  if (atomic_load_explicit(&((xa_segment_t*)seg)->owner, memory_order_relaxed) == (uintptr_t)xa__tls_tld_get()) {
    return page->in_use ? xa__page_block_at(page, p, page->capacity) : NULL;
  }
  return xa__page_block_at(page, p, page->reserved);
}

/* Search one list for b; XA_BLOCK_LIVE when it is not there. */
static xa_block_state_t list_search(xa_page_t* page, bool huge, const xa_block_t* list, const xa_block_t* b) {
  uint32_t n = 0;
  for (const xa_block_t* f = list; f != NULL; f = xa__block_next(page, f)) {
    if (n++ >= page->capacity || !holds_block(page, huge, f, page->capacity)) {
      xa__page_corrupt(page, f);
      return XA_BLOCK_CORRUPT;
    }
    if (f == b) return XA_BLOCK_FREE;
  }
  return XA_BLOCK_LIVE;
}

static xa_block_state_t block_state(xa_page_t* page, const xa_block_t* b) {
  if (xa__page_flags(page) & XA_PF_CORRUPT) return XA_BLOCK_CORRUPT;
  bool huge = page_is_huge(page);
  /* Blocks pushed on xthread_free do not change until the owner takes them. */
  const xa_block_t* lists[3] = {
    page->free, page->local_free,
    (const xa_block_t*)(atomic_load_explicit(&page->xthread_free, memory_order_acquire) & ~XA_XF_NOTIFY),
  };
  for (int i = 0; i < 3; i++) {
    xa_block_state_t s = list_search(page, huge, lists[i], b);
    if (s != XA_BLOCK_LIVE) return s;
  }
  return XA_BLOCK_LIVE;
}

static bool free_map(xa_page_t* page, uint64_t* bits) {
  if (xa__page_flags(page) & XA_PF_CORRUPT) return false;
  bool huge = page_is_huge(page);
  const xa_block_t* lists[2] = {page->free, page->local_free};
  for (int i = 0; i < 2; i++) {
    for (const xa_block_t* f = lists[i]; f != NULL; f = xa__block_next(page, f)) {
      /* A block met twice is a cycle: its bit is already set. */
      uint64_t idx = huge ? 0 : xa__page_block_index(page, f);
      if (!holds_block(page, huge, f, page->capacity) || (bits[idx / 64] >> (idx % 64)) & 1) {
        xa__page_corrupt(page, f);
        return false;
      }
      bits[idx / 64] |= (uint64_t)1 << (idx % 64);
    }
  }
  return true;
}

xa_block_state_t xa__page_block_state(xa_page_t* page, const xa_block_t* b) {
  xa__track_quiet_begin();
  xa_block_state_t s = block_state(page, b);
  xa__track_quiet_end();
  return s;
}

bool xa__page_free_map(xa_page_t* page, uint64_t* bits) {
  xa__track_quiet_begin();
  bool ok = free_map(page, bits);
  xa__track_quiet_end();
  return ok;
}

/* ---- while profiling ------------------------------------------------------------ */

uint32_t xa__page_prof_settle(xa_page_t* page) {
  uint32_t run = page->prof_run, left = 0;
  /* Bounded, and every link checked, like every walk here. */
  for (const xa_block_t* b = page->free; b != NULL; b = xa__block_next(page, b)) {
    if (left >= page->capacity || !holds_block(page, false, b, page->capacity)) {
      xa__page_corrupt(page, b);
      left = 0;
      break;
    }
    left++;
  }
  page->prof_run = left;  /* exact from here on (xa__page_prof_expose relies on it) */
  return left <= run ? run - left : 0;  /* more than was counted out: profiling was just turned on */
}

xa_block_t* xa__page_prof_take(xa_page_t* page) {
  xa_block_t* b = page->free;
  if (b != NULL) {
    page->prof_run--;
    return xa__page_take(page, b);
  }
  b = page->local_free;
  if (b == NULL) return NULL;
  /* Taken from local_free: swap the lists around the one pop sequence. */
  page->local_free = page->free;  /* NULL */
  xa_block_t* taken = xa__page_take(page, b);  /* page->free = b's successor */
  page->local_free = page->free;
  page->free = NULL;
  return taken;
}

/* The last of n >= 1 blocks from b (a list head, trusted) on, each link
 * checked: the counts say the list is that long. NULL, the page now corrupt
 * (reported once), when it is shorter or a link fails. */
static xa_block_t* list_nth(xa_page_t* page, xa_block_t* b, uint32_t n) {
  if (n == 0) b = NULL;  /* the counts disagree with the lists */
  for (; b != NULL && --n > 0; b = xa__block_next(page, b)) {
    xa_block_t* next = xa__block_next(page, b);
    if (next != NULL && !holds_block(page, false, next, page->capacity)) {
      b = NULL;
      break;
    }
  }
  if (b == NULL && !(xa__page_flags(page) & XA_PF_CORRUPT)) xa__page_corrupt(page, NULL);
  return b;
}

/* The lists are walked no further than the counts say: the blocks on `free`
 * are prof_run (settled), and those on both lists capacity - used (every
 * other carved block is live or waits on xthread_free, counted as used). A
 * page whose countdown reaches past all its free blocks (the common case at
 * the default rate: 8192 blocks of 64 bytes against at most 1024 in a page)
 * takes O(1); otherwise the walk is as long as the run it counts out. */
void xa__page_prof_expose(xa_page_t* page, uint32_t want) {
  uint32_t on_free = page->prof_run;
  uint32_t avail = page->capacity - page->used;
  if (xa__page_flags(page) & XA_PF_CORRUPT) return;  /* no lists left */
  if (want >= avail) {  /* everything */
    if (page->local_free != NULL) {
      if (page->free == NULL) {
        page->free = page->local_free;
      } else {
        xa_block_t* tail = list_nth(page, page->free, on_free);
        if (tail == NULL) return;
        xa__block_set_next(page, tail, page->local_free);
      }
      page->local_free = NULL;
    }
    page->prof_run = avail;
  } else if (on_free > want) {  /* too many: the rest goes in front of local_free */
    /* before: the last block kept (none when want is 0); rest: the first
     * one moved; every link on the way checked. */
    xa_block_t* before = NULL;
    if (want != 0 && (before = list_nth(page, page->free, want)) == NULL) return;
    xa_block_t* rest = before == NULL ? page->free : list_nth(page, before, 2);
    xa_block_t* rest_tail = list_nth(page, rest, on_free - want);
    if (rest_tail == NULL) return;
    xa__block_set_next(page, rest_tail, page->local_free);
    page->local_free = rest;
    if (before == NULL) page->free = NULL;
    else xa__block_set_next(page, before, NULL);
    page->prof_run = want;
  } else if (on_free < want) {  /* too few: more from local_free, appended */
    xa_block_t* first = page->local_free;
    xa_block_t* last = list_nth(page, first, want - on_free);
    if (last == NULL) return;
    xa_block_t* free_tail = NULL;
    if (page->free != NULL && (free_tail = list_nth(page, page->free, on_free)) == NULL) return;
    page->local_free = xa__block_next(page, last);
    xa__block_set_next(page, last, NULL);
    if (page->free == NULL) page->free = first;
    else xa__block_set_next(page, free_tail, first);
    page->prof_run = want;
  }
}
