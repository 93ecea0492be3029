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
#include "segmap.h"
#include "segment.h"
#include "stats.h"
#include <string.h>

static _Atomic(xa_block_t*) orphan_inbox;
static _Atomic(int) foreign_reported;

void xa__report_foreign(const char* what, const void* p) {
  xa__stat_add(XA_STAT_foreign_frees, 1);
  /* Once per process, or every time with XALLOC_VERBOSE. */
  if (atomic_exchange_explicit(&foreign_reported, 1, memory_order_relaxed) && !xa__option(XA_OPT_VERBOSE)) return;
  char msg[160];
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
  const char* tail = " (not allocated by xalloc; ignored)\n";
  while (*tail && n < sizeof(msg) - 1) msg[n++] = *tail++;
  xa__os_write_err(msg, n);
}

static void inbox_push(_Atomic(xa_block_t*)* inbox, xa_block_t* b) {
  xa_block_t* head = atomic_load_explicit(inbox, memory_order_relaxed);
  do {
    b->next = head;
  } while (!atomic_compare_exchange_weak_explicit(inbox, &head, b, memory_order_release,
                                                  memory_order_relaxed));
}

static XA_NOINLINE void free_xthread(xa_segment_t* seg, xa_page_t* page, void* p) {
  /* An arena chunk that holds no segment reads as zero and lands here. */
  if (xa_unlikely(!xa__segmap_is_segment((uintptr_t)seg))) {
    xa__report_foreign("free of pointer", p);
    return;
  }
  xa_block_t* b = p;
  if (xa_unlikely(xa__page_flags(page) & XA_PF_ALIGNED)) b = (xa_block_t*)xa__page_block_of(page, p);
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
  b->next = page->local_free;
  page->local_free = b;
  page->used--;
  if (flags & XA_PF_UNQUEUED) xa__heap_page_unqueued_free(page->heap, page);
  else if (page->used == 0) xa__heap_page_retire(page->heap, page);
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
    xa_free(b);
    b = next;
  }
}

void xa__orphans_drain(void) { xa__inbox_drain(&orphan_inbox); }
