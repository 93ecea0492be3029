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
#include "tls.h"

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

void xa__page_init(xa_page_t* page, size_t bin, size_t block_size, size_t area_size) {
  page->queue = (uint8_t)bin;
  page->block_size = block_size;
  unsigned shift = (unsigned)__builtin_ctzll(block_size);
  page->block_shift = (uint8_t)shift;
  page->block_inv = inverse_odd(block_size >> shift);
  page->reserved = (uint32_t)(area_size / block_size);
  page->capacity = 0;
  page->used = 0;
  page->free = NULL;
  page->local_free = NULL;
  page->prof_run = 0;
  atomic_store_explicit(&page->xthread_free, 0, memory_order_relaxed);
  atomic_store_explicit(&page->flags, 0, memory_order_relaxed);
  xa__page_limit_update(page);
}

void xa__page_extend(xa_page_t* page) {
  uint32_t left = page->reserved - page->capacity;
  if (left == 0 || (xa__page_flags(page) & XA_PF_CORRUPT)) return;
  /* Carve about XA_EXTEND_BYTES at a time so that a page that is only partly
   * used only touches (and keeps resident) what it uses. */
  size_t n = XA_EXTEND_BYTES / page->block_size;
  if (n < 4) n = 4;  /* large blocks: a few at a time, not one slow path per block */
  if (n > left) n = left;
  uint8_t* first = page->start + (size_t)page->capacity * page->block_size;
  uint8_t* b = first;
  for (size_t i = 1; i < n; i++) {
    ((xa_block_t*)b)->next = (xa_block_t*)(b + page->block_size);
    b += page->block_size;
  }
  /* While profiling, only the profiling slow path fills `free`. */
  xa_block_t** dst = xa__option(XA_OPT_PROFILE) ? &page->local_free : &page->free;
  ((xa_block_t*)b)->next = *dst;
  *dst = (xa_block_t*)first;
  page->capacity += (uint32_t)n;
  xa__page_limit_update(page);
}

static bool page_is_huge(const xa_page_t* page) { return xa__page_segment(page)->kind == XA_KIND_HUGE; }

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

void xa__page_collect(xa_page_t* page) {
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
      for (uint32_t n = 1; tail->next != NULL; n++) {
        if (n >= page->capacity || !holds_block(page, huge, tail->next, page->capacity)) {
          xa__page_corrupt(page, tail->next);
          return;
        }
        tail = tail->next;
      }
      tail->next = page->free;
      page->free = page->local_free;
    }
    page->local_free = NULL;
  }
  uintptr_t tagged = atomic_load_explicit(&page->xthread_free, memory_order_relaxed);
  if ((tagged & ~XA_XF_NOTIFY) == 0) return;
  /* Take the whole list, keep the NOTIFY bit as it is. */
  while (!atomic_compare_exchange_weak_explicit(&page->xthread_free, &tagged, tagged & XA_XF_NOTIFY,
                                                memory_order_acquire, memory_order_relaxed)) {
  }
  xa_block_t* list = (xa_block_t*)(tagged & ~XA_XF_NOTIFY);
  /* Each block on it is live until taken: more blocks than `used` means a
   * cycle (two threads freed one block at once) or a damaged link. */
  uint32_t count = 0;
  xa_block_t* tail = NULL;
  for (xa_block_t* b = list; b != NULL; b = b->next) {
    if (count >= page->used || !holds_block(page, huge, b, page->capacity)) {
      xa__page_corrupt(page, b);
      return;
    }
    count++;
    tail = b;
  }
  xa_block_t** dst = hide ? &page->local_free : &page->free;
  tail->next = *dst;
  *dst = list;
  page->used -= count;
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
  for (const xa_block_t* f = list; f != NULL; f = f->next) {
    if (n++ >= page->capacity || !holds_block(page, huge, f, page->capacity)) {
      xa__page_corrupt(page, f);
      return XA_BLOCK_CORRUPT;
    }
    if (f == b) return XA_BLOCK_FREE;
  }
  return XA_BLOCK_LIVE;
}

xa_block_state_t xa__page_block_state(xa_page_t* page, const xa_block_t* b) {
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

bool xa__page_free_map(xa_page_t* page, uint64_t* bits) {
  if (xa__page_flags(page) & XA_PF_CORRUPT) return false;
  bool huge = page_is_huge(page);
  const xa_block_t* lists[2] = {page->free, page->local_free};
  for (int i = 0; i < 2; i++) {
    for (const xa_block_t* f = lists[i]; f != NULL; f = f->next) {
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

/* ---- while profiling ------------------------------------------------------------ */

uint32_t xa__page_prof_settle(xa_page_t* page) {
  uint32_t run = page->prof_run, left = 0;
  for (const xa_block_t* b = page->free; b != NULL && left < page->capacity; b = b->next) left++;
  page->prof_run = left;  /* exact from here on (xa__page_prof_expose relies on it) */
  return left <= run ? run - left : 0;  /* more than was counted out: profiling was just turned on */
}

xa_block_t* xa__page_prof_take(xa_page_t* page) {
  xa_block_t* b = page->free;
  if (b != NULL) {
    page->free = b->next;
    page->prof_run--;
  } else {
    b = page->local_free;
    if (b == NULL) return NULL;
    page->local_free = b->next;
  }
  page->used++;
  b->freed = 0;
  return b;
}

/* The last of n >= 1 blocks from b on. */
static xa_block_t* list_nth(xa_block_t* b, uint32_t n) {
  while (--n > 0) b = b->next;
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
  if (want >= avail) {  /* everything */
    if (page->local_free != NULL) {
      if (page->free == NULL) page->free = page->local_free;
      else list_nth(page->free, on_free)->next = page->local_free;
      page->local_free = NULL;
    }
    page->prof_run = avail;
  } else if (on_free > want) {  /* too many: the rest goes in front of local_free */
    xa_block_t** link = want == 0 ? &page->free : &list_nth(page->free, want)->next;
    xa_block_t* rest = *link;
    list_nth(rest, on_free - want)->next = page->local_free;
    page->local_free = rest;
    *link = NULL;
    page->prof_run = want;
  } else if (on_free < want) {  /* too few: more from local_free, appended */
    xa_block_t* first = page->local_free;
    xa_block_t* last = list_nth(first, want - on_free);
    page->local_free = last->next;
    last->next = NULL;
    if (page->free == NULL) page->free = first;
    else list_nth(page->free, on_free)->next = first;
    page->prof_run = want;
  }
}
