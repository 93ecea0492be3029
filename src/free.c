/* Free (free.h).
 *
 * Local free (the calling thread owns the segment): push on the page's
 * local_free; only a page flag or the page becoming empty leaves the fast
 * path. Cross-thread free: one CAS on page->xthread_free, or, when the owner
 * set NOTIFY on a full page, clear NOTIFY and push the block on the owner's
 * inbox. Neither touches a heap, and nothing is read after the push. */
#include "xalloc.h"
#include "alloc_fast.h"
#include "free.h"
#include "heap.h"
#include "options.h"
#include "os.h"
#include "page.h"
#include "purge.h"
#include "segmap.h"
#include "segment.h"
#include "stats.h"
#include <string.h>

static _Atomic(xa_block_t*) orphan_inbox;
static _Atomic(int) misuse_reported;

/* Report a misuse once per process (every time with XALLOC_VERBOSE). Never
 * allocates: it may run inside free. */
static void report_misuse(const char* what, const void* p, const char* verdict) {
  if (atomic_exchange_explicit(&misuse_reported, 1, memory_order_relaxed) && !xa__option(XA_OPT_VERBOSE)) return;
  char msg[200];
  static const char hex[] = "0123456789abcdef";
  size_t n = 0;
  const char* head = "xalloc: ";
  while (*head) msg[n++] = *head++;
  while (*what && n < 100) msg[n++] = *what++;
  msg[n++] = ' ';
  msg[n++] = '0';
  msg[n++] = 'x';
  uintptr_t v = (uintptr_t)p;
  for (int shift = 60; shift >= 0; shift -= 4) msg[n++] = hex[(v >> shift) & 15];
  while (*verdict && n < sizeof(msg) - 1) msg[n++] = *verdict++;
  xa__os_write_err(msg, n);
}

void xa__report_foreign(const char* what, const void* p) {
  xa__stat_add(XA_STAT_foreign_frees, 1);
  report_misuse(what, p, " (not allocated by xalloc; ignored)\n");
}

static void report_double_free(const void* p) {
  xa__stat_add(XA_STAT_double_frees, 1);
  report_misuse("double free of pointer", p, " (already free; ignored)\n");
}

/* Is b, a block of the calling thread's page, on one of the page's free
 * lists? Only the owner may ask: it alone takes blocks off these lists, and
 * blocks pushed on xthread_free are not changed until the owner takes them.
 * Every walk is bounded, so a list a racy double free made cyclic cannot hang
 * us. A block still in transit through an inbox is not found (it counts as
 * live until the inbox is drained). */
static bool block_on_free_lists(const xa_page_t* page, const xa_block_t* b) {
  if (!page->in_use) return true;  /* the page was freed: none of its blocks is live */
  const xa_block_t* lists[3] = {
    page->free, page->local_free,
    (const xa_block_t*)(atomic_load_explicit(&((xa_page_t*)page)->xthread_free, memory_order_acquire) &
                        ~XA_XF_NOTIFY),
  };
  for (int i = 0; i < 3; i++) {
    uint32_t limit = page->capacity;
    for (const xa_block_t* f = lists[i]; f != NULL && limit-- > 0; f = f->next) {
      if (f == b) return true;
    }
  }
  return false;
}

static void inbox_push(_Atomic(xa_block_t*)* inbox, xa_block_t* b) {
  xa_block_t* head = atomic_load_explicit(inbox, memory_order_relaxed);
  do {
    b->next = head;
  } while (!atomic_compare_exchange_weak_explicit(inbox, &head, b, memory_order_release,
                                                  memory_order_relaxed));
}

static void xthread_push(xa_segment_t* seg, xa_page_t* page, xa_block_t* b);

static XA_NOINLINE void free_xthread(xa_segment_t* seg, xa_page_t* page, void* p) {
  /* An arena chunk that holds no segment reads as zero and lands here. */
  if (xa_unlikely(!xa__segmap_is_segment((uintptr_t)seg))) {
    xa__report_foreign("free of pointer", p);
    return;
  }
  xa_block_t* b = p;
  if (xa_unlikely(xa__page_flags(page) & XA_PF_ALIGNED)) b = (xa_block_t*)xa__page_block_of(page, p);
  /* Another thread's lists cannot be searched: trust the mark. (User data
   * that equals it by chance costs one leaked block and a report.) */
  if (xa_unlikely(b->freed == XA_FREED_MARK)) {
    report_double_free(p);
    return;
  }
  b->freed = XA_FREED_MARK;
  xa_tld_t* self = xa__tls_tld_get();
  uint64_t now = 0;
  if (seg->kind == XA_KIND_HUGE) {
    /* One block per segment: its memory can go back now, while the block
     * still keeps the segment mapped. Unless the owner is active (it then
     * frees the block within the delay itself), do so: an owner that sleeps
     * or only takes fast paths would keep it resident indefinitely. */
    now = xa__os_clock_ms();
    xa_tld_t* owner = (xa_tld_t*)atomic_load_explicit(&seg->owner, memory_order_acquire);
    int64_t delay = xa__option_get(XA_OPT_PURGE_DELAY);
    bool owner_busy = owner != NULL && delay != 0 &&
                      now - atomic_load_explicit(&owner->active_ms, memory_order_relaxed) < (uint64_t)delay;
    if (!owner_busy && delay >= 0) xa__segment_huge_purge_block(seg, page);
  } else if (self == &xa__tld_empty || (++self->slow_count & 63) == 0) {
    now = xa__os_clock_ms();
  }
  xthread_push(seg, page, b);
  /* Nothing of the segment is read after the push; the pass is global. */
  if (now != 0) xa__purge_tick(now);
}

static void xthread_push(xa_segment_t* seg, xa_page_t* page, xa_block_t* b) {
  uintptr_t tagged = atomic_load_explicit(&page->xthread_free, memory_order_relaxed);
  for (;;) {
    if (tagged & XA_XF_NOTIFY) {
      /* We clear NOTIFY, so we alone tell the owner: the block stays live
       * (it keeps the segment mapped) until the owner frees it. */
      if (atomic_compare_exchange_weak_explicit(&page->xthread_free, &tagged, tagged & ~XA_XF_NOTIFY,
                                                memory_order_acq_rel, memory_order_relaxed)) {
        xa_tld_t* owner = (xa_tld_t*)atomic_load_explicit(&seg->owner, memory_order_acquire);
        /* An owner that has exited (pooled thread data) would not drain its
         * inbox soon: hand the block to the orphans, drained by every
         * allocation slow path. Either inbox is memory-safe (rule 3). */
        bool live = owner != NULL && atomic_load_explicit(&owner->active, memory_order_relaxed);
        inbox_push(live ? &owner->inbox : &orphan_inbox, b);
        return;
      }
    } else {
      b->next = (xa_block_t*)tagged;
      if (atomic_compare_exchange_weak_explicit(&page->xthread_free, &tagged, (uintptr_t)b,
                                                memory_order_release, memory_order_relaxed)) {
        return;
      }
    }
  }
}

static XA_NOINLINE void free_local_slow(xa_page_t* page, void* p) {
  uint8_t flags = xa__page_flags(page);
  xa_block_t* b = p;
  if (flags & XA_PF_ALIGNED) b = (xa_block_t*)xa__page_block_of(page, p);
  if (xa_unlikely(b->freed == XA_FREED_MARK) && block_on_free_lists(page, b)) {
    report_double_free(p);
    return;
  }
  b->freed = XA_FREED_MARK;
  b->next = page->local_free;
  page->local_free = b;
  page->used--;
  xa_heap_t* heap = page->heap;
  if (flags & XA_PF_UNQUEUED) xa__heap_page_unqueued_free(heap, page);
  else if (page->used == 0) xa__heap_page_retire(heap, page);
  /* The page may be gone now; the tick looks at the thread's heaps only. */
  if ((++heap->tld->slow_count & 15) == 0) xa__heap_tick(heap->tld);
}

/* Blocks outside the arena: huge segments, segments mapped when the arena
 * was unavailable, and pointers that are not ours (NULL included). */
void xa__free_outside_arena(void* p) {
  uintptr_t segaddr = (uintptr_t)p & ~(uintptr_t)XA_SEGMENT_MASK;
  if (!xa__segmap_is_segment(segaddr)) {
    if (p != NULL) xa__report_foreign("free of pointer", p);
    return;
  }
  xa__free_in_segment((xa_segment_t*)segaddr, p);
}

/* Everything but a local free into a plain page: aligned or unqueued pages,
 * and frees into segments another thread (or nobody) owns. */
void xa__free_slow(xa_segment_t* seg, void* p) {
  xa_page_t* page = xa__segment_page_of(seg, p);
  if (atomic_load_explicit(&seg->owner, memory_order_relaxed) == (uintptr_t)xa__tls_tld_get()) free_local_slow(page, p);
  else free_xthread(seg, page, p);
}

XA_API void xa_free(void* p) { xa__free_fast(p); }

void xa__inbox_drain(_Atomic(xa_block_t*)* inbox) {
  if (atomic_load_explicit(inbox, memory_order_relaxed) == NULL) return;
  xa_block_t* b = atomic_exchange_explicit(inbox, NULL, memory_order_acquire);
  while (b != NULL) {
    xa_block_t* next = b->next;
    b->freed = 0;  /* free_xthread checked it: this is the block's one free */
    xa_free(b);
    b = next;
  }
}

void xa__orphans_drain(void) { xa__inbox_drain(&orphan_inbox); }
