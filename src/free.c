/* Free (free.h).
 *
 * Local free (the calling thread owns the segment): push on the page's
 * local_free; a page flag, a pointer that is not a block start, a marked
 * block or the page becoming empty (unless it is the kept last page of its
 * queue, kept_alone) leaves the fast path. Cross-thread free:
 * one CAS on page->xthread_free, or, when the owner set NOTIFY on a full
 * page, clear NOTIFY and push the block on the owner's inbox. Neither
 * touches a heap, and nothing is read after the push. Misuse (foreign and
 * interior pointers, double frees, damaged lists) is reported and ignored:
 * design.md, "Double frees" to "Damaged lists". */
#include "xalloc.h"
#include "alloc_fast.h"
#include "free.h"
#include "heap.h"
#include "page.h"
#include "prof.h"
#include "options.h"
#include "os.h"
#include "purge.h"
#include "report.h"
#include "segmap.h"
#include "segment.h"
#include "stats.h"
#include "track.h"
#include <string.h>

static _Atomic(xa_block_t*) orphan_inbox;

/* p, inside one of our segments, is not a block the page can take back:
 * a double free if it is a freed block of a page that no longer holds blocks
 * (16-aligned, so its second word lies inside the segment), else a pointer
 * that was never handed out (an interior pointer, say). */
static void report_stale(void* p) {
  if (((uintptr_t)p & 15) == 0 && ((xa_block_t*)p)->freed == XA_FREED_MARK) xa__report_double_free(p);
  else xa__report_not_block("free of pointer", p);
}

static void inbox_push(_Atomic(xa_block_t*)* inbox, xa_block_t* b) {
  xa_block_t* head = atomic_load_explicit(inbox, memory_order_relaxed);
  do {
    xa__inbox_set_next(b, head);
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
  /* The owner may be carving more blocks: only `reserved` may be read. */
  xa_block_t* b = xa__page_block_at(page, p, page->reserved);
  if (xa_unlikely(b == NULL)) {
    report_stale(p);
    return;
  }
  if (xa_unlikely(xa__page_flags(page) & XA_PF_CORRUPT)) return;  /* leaked with the page */
  /* Another thread's lists cannot be searched: trust the mark. (User data
   * that equals it by chance costs one leaked block and a report; in the
   * secure build the mark is secret.) The secure build sets it with one
   * exchange, so that of two threads freeing the block at once exactly one
   * goes on; the normal build may let both through, and the page's walk
   * then finds the damaged list. */
#if XA_SECURE
  if (xa_unlikely(__atomic_exchange_n(&b->freed, XA_FREED_MARK, __ATOMIC_RELAXED) == XA_FREED_MARK)) {
    xa__report_double_free(p);
    return;
  }
#else
  if (xa_unlikely(b->freed == XA_FREED_MARK)) {
    xa__report_double_free(p);
    return;
  }
  /* (The secure build has no heap profile: nothing to tell prof.c.) */
  if (xa_unlikely(xa__page_flags(page) & XA_PF_SAMPLED)) xa__prof_free(page, b, false);  /* before the push */
  b->freed = XA_FREED_MARK;
#endif
  xa_tld_t* self = xa__tls_tld_get();
  xa__stats_xthread_free(self);
  uint64_t now = 0;
  bool huge = seg->kind == XA_KIND_HUGE;
  bool big = !huge && (xa__page_flags(page) & XA_PF_BIG);
  if (huge || big) {
    /* A huge block (one per segment) or a big one: its memory can go back
     * now, while the block still keeps the segment mapped. Unless the owner
     * is active (it then frees the block, or gives back a big one, within
     * the delay itself), do so: an owner that sleeps or only takes fast
     * paths would keep it resident indefinitely. A big block the owner will
     * look at is stamped instead (heap.c, "Big blocks"), and so is one of an
     * abandoned segment: the thread that reclaims it soon would fault it in
     * again (xa-mstress at 16 threads: 6,400 such give-backs, 280 MB), and
     * the purge pass's sweep gives it back after the delay otherwise. */
    now = xa__os_clock_ms();
    xa_tld_t* owner = (xa_tld_t*)atomic_load_explicit(&seg->owner, memory_order_acquire);
    int64_t delay = xa__option_get(XA_OPT_PURGE_DELAY);
    bool owner_busy = owner != NULL && delay > 0 &&
                      now - atomic_load_explicit(&owner->active_ms, memory_order_relaxed) < xa__owner_idle_ms(now);
    bool for_sweep = big && owner == NULL && delay > 0;
    bool give_back = !owner_busy && !for_sweep && delay >= 0;
    if (huge && give_back) xa__segment_huge_purge_block(seg, page);
    if (big && give_back) {
      xa__page_big_give_back(page, b);  /* ours until the push */
    } else if (big) {
      xa__big_stamp_set(b, now | 1);
      if (for_sweep) xa__purge_schedule((now | 1) + (uint64_t)delay);  /* when the stamp is due */
    }
  } else if (self == &xa__tld_empty || (++self->slow_count & 63) == 0) {
    now = xa__os_clock_ms();
  }
  if (XA_DEBUG) xa__debug_fill(page, b);  /* (debug builds have no big pages) */
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
        if (live) {
          /* The owner may have ended since `active` was read, its last drain
           * and the pass its end scheduled done before this push: look
           * again. (Against init.c's store of active = false and the
           * seq_cst exchange of a pass's drain: if this load still sees it
           * active, that drain comes later in the total order and sees the
           * block. Found by the model, docs/model.) */
          atomic_thread_fence(memory_order_seq_cst);
          live = atomic_load_explicit(&owner->active, memory_order_relaxed);
        }
        if (!live) {  /* drained by the next purge pass if no allocation comes first */
          xa__stats_free_event();
          int64_t delay = xa__option_get(XA_OPT_PURGE_DELAY);
          if (delay >= 0) xa__purge_schedule(xa__os_clock_ms() + (uint64_t)delay);
        }
        return;
      }
    } else {
      xa__block_set_next(page, b, (xa_block_t*)tagged);
      if (atomic_compare_exchange_weak_explicit(&page->xthread_free, &tagged, (uintptr_t)b,
                                                memory_order_release, memory_order_relaxed)) {
        return;
      }
    }
  }
}

static void free_slow(xa_segment_t* seg, void* p, bool drained);

/* Blocks in transit through the caller's inbox or the orphans look live (they
 * are on none of the page's lists) but are free: hand them to their pages,
 * then judge p again, from its segment on (the page may be gone). */
static XA_NOINLINE void free_after_drain(xa_tld_t* tld, void* p) {
  xa__inbox_drain(&tld->inbox);
  xa__orphans_drain();
  uintptr_t segaddr = (uintptr_t)p & ~(uintptr_t)XA_SEGMENT_MASK;
  if (!xa__in_arena(p) && !xa__segmap_is_segment(segaddr)) {
    xa__report_foreign("free of pointer", p);  /* its segment was released meanwhile */
    return;
  }
  free_slow((xa_segment_t*)segaddr, p, true);
}

static XA_NOINLINE void free_local(xa_page_t* page, void* p, bool drained) {
  if (xa_unlikely(!page->in_use)) {
    report_stale(p);
    return;
  }
  uint8_t flags = xa__page_flags(page);
  if (xa_unlikely(flags & XA_PF_CORRUPT)) return;  /* leaked with the page (reported when found) */
  xa_block_t* b = xa__page_block_at(page, p, page->capacity);
  if (xa_unlikely(b == NULL)) {
    xa__report_not_block("free of pointer", p);
    return;
  }
  if (xa_unlikely(b->freed == XA_FREED_MARK)) {
    xa_block_state_t state = xa__page_block_state(page, b);
    if (state == XA_BLOCK_FREE) {
      xa__report_double_free(p);
      return;
    }
    if (state == XA_BLOCK_CORRUPT) return;
    /* Marked but on no list: live (user data equal to the mark), or freed by
     * another thread and waiting in an inbox. Look there once. */
    xa_tld_t* tld = xa__tls_tld_get();
    if (!drained && (atomic_load_explicit(&tld->inbox, memory_order_relaxed) != NULL ||
                     atomic_load_explicit(&orphan_inbox, memory_order_relaxed) != NULL)) {
      free_after_drain(tld, p);
      return;
    }
  }
  if (xa_unlikely(flags & XA_PF_SAMPLED)) xa__prof_free(page, b, true);
  b->freed = XA_FREED_MARK;
  if (XA_DEBUG) xa__debug_fill(page, b);
  /* A big block goes to the front of `free`, the next one malloc takes
   * (nothing but the slow path allocates from such a page): the blocks
   * reused are the few freed last, and the rest stay free long enough for
   * their memory to go back (heap.c, "Big blocks"). While profiling,
   * `free` is counted out (prof.c): local_free then. */
  xa_block_t** list = (flags & XA_PF_BIG) && !xa__option(XA_OPT_PROFILE) ? &page->free : &page->local_free;
  xa__block_set_next(page, b, *list);
  *list = b;
  page->used--;
  xa_heap_t* heap = page->heap;
  if (flags & XA_PF_BIG) xa__heap_big_freed(heap->tld, b);
  if (flags & XA_PF_UNQUEUED) xa__heap_page_unqueued_free(heap, page);
  else if (page->used == 0) xa__heap_page_retire(heap, page);
  /* The page may be gone now; the tick looks at the thread's heaps only. */
  if ((++heap->tld->slow_count & 15) == 0) xa__heap_tick(heap->tld);
}

/* Blocks outside the arena: huge segments, segments mapped when the arena
 * was unavailable, and pointers that are not ours (NULL included). */
void xa__free_outside_arena(void* p) {
  uintptr_t segaddr = (uintptr_t)p & ~(uintptr_t)XA_SEGMENT_MASK;
  xa_segment_t* seg = (xa_segment_t*)segaddr;
  /* A huge mapping may end before its last 4 MiB chunk does: past its end
   * the chunk may be anybody's (inside it, a pointer that is not the block's
   * start is reported as such by the checks of the free path). */
  if (!xa__segmap_is_segment(segaddr) || (seg->kind == XA_KIND_HUGE && !xa__segment_huge_covers(seg, p))) {
    if (p != NULL) xa__report_foreign("free of pointer", p);
    return;
  }
  xa__free_in_segment(seg, p);
}

static void free_slow(xa_segment_t* seg, void* p, bool drained) {
  xa_page_t* page = xa__segment_page_of(seg, p);
  if (atomic_load_explicit(&seg->owner, memory_order_relaxed) == (uintptr_t)xa__tls_tld_get()) free_local(page, p, drained);
  else free_xthread(seg, page, p);
}

/* Every free while tracking (track.h): a live block's canary is checked and
 * valgrind told, before the block can be handed out again; then the free
 * proceeds (and judges p) as without tracking, where valgrind does not look.
 * A block whose trailer says freed is a double free: only the free that
 * untagged it goes on (of two at once, exactly one). The blocks a tracked
 * allocation frees itself were never tracked. */
static XA_NOINLINE void free_tracked(xa_segment_t* seg, void* p) {
  xa_tld_t* tld = xa__tls_tld_get();
  xa_page_t* page = xa__segment_page_of(seg, p);
  if (!tld->track_inner && xa__segmap_is_segment((uintptr_t)seg)) {
    if (xa__page_block_checked(seg, page, p) == NULL || (xa__page_flags(page) & XA_PF_CORRUPT)) {
      xa__track_invalid_free(p);  /* the free path reports it */
    } else if (!xa__track_release(page, p)) {
      xa__track_invalid_free(p);
      /* The owner's free path walks the page's lists (and finds them
       * damaged, if they are); another thread's would only trust the mark,
       * which the racing freer may not have set yet. */
      if (atomic_load_explicit(&seg->owner, memory_order_relaxed) != (uintptr_t)tld) {
        xa__report_double_free(p);
        return;
      }
    }
  }
  xa__track_quiet_begin();
  free_slow(seg, p, false);
  xa__track_quiet_end();
}

/* A block an inbox held: freed by its freer, who tracked it. */
static void free_drained(xa_block_t* b) {
  if (xa_likely(!xa__tracking())) {
    xa_free(b);
    return;
  }
  xa__track_quiet_begin();
  free_slow((xa_segment_t*)((uintptr_t)b & ~(uintptr_t)XA_SEGMENT_MASK), b, false);
  xa__track_quiet_end();
}

/* Everything but a plain local free of a block start: flagged pages, blocks
 * that carry the mark, pointers that are not block starts, and frees into
 * segments another thread (or nobody) owns. */
void xa__free_slow(xa_segment_t* seg, void* p) {
  if (xa_unlikely(xa__tracking())) {
    free_tracked(seg, p);
    return;
  }
  xa_page_t* page = xa__segment_page_of(seg, p);
  /* A page of the caller's whose only flag says that the heap profile holds
   * one of its blocks (about one small page in eight at the default rate):
   * a block it does not hold is freed as the fast path would. */
  if (!XA_SECURE && xa__page_flags(page) == XA_PF_SAMPLED &&  /* secure: no profile, prof_mask is the key */
      atomic_load_explicit(&seg->owner, memory_order_relaxed) == (uintptr_t)xa__tls_tld_get()) {
    xa_block_t* b = p;
    uint64_t i = xa__page_block_index(page, p);
    if (page->in_use && i < page->capacity && b->freed != XA_FREED_MARK &&
        (atomic_load_explicit(&page->prof_mask, memory_order_relaxed) & ((uint64_t)1 << (i & 63))) == 0) {
      if (atomic_load_explicit(&page->prof_live, memory_order_relaxed) == 0) {
        xa__prof_free(page, b, true);  /* other threads freed its samples: the flag goes */
      }
      b->freed = XA_FREED_MARK;
      if (XA_DEBUG) xa__debug_fill(page, b);
      xa__block_set_next(page, b, page->local_free);
      page->local_free = b;
      if (--page->used == 0 && !page->kept_alone) xa__heap_page_retire(page->heap, page);
      return;
    }
  }
  free_slow(seg, p, false);
}

XA_API void xa_free(void* p) { xa__free_fast(p); }

/* A block taken from an inbox: 16 bytes of it may be read (in the arena, or
 * in a segment of the address map: in-transit blocks keep theirs mapped),
 * it carries the mark free_xthread set, and it is a block start. */
static bool inbox_block_ok(const xa_block_t* b) {
  uintptr_t segaddr = (uintptr_t)b & ~(uintptr_t)XA_SEGMENT_MASK;
  if (((uintptr_t)b & 15) != 0 || (!xa__in_arena(b) && !xa__segmap_is_segment(segaddr))) return false;
  if (b->freed != XA_FREED_MARK) return false;
  xa_segment_t* seg = (xa_segment_t*)segaddr;
  xa_page_t* page = xa__segment_page_of(seg, b);
  return xa__page_block_at(page, b, page->reserved) == b;
}

void xa__inbox_drain(_Atomic(xa_block_t*)* inbox) {
  if (atomic_load_explicit(inbox, memory_order_relaxed) == NULL) return;
  /* seq_cst: ordered after a pass's load of a pooled tld's `active` (see
   * xthread_push). An exchange is a full barrier on x86 anyway. */
  xa_block_t* list = atomic_exchange_explicit(inbox, NULL, memory_order_seq_cst);
  xa__track_quiet_begin();  /* the links are in freed blocks (track.h) */
  /* First check every link and take every block (a second mark): a block
   * that fails, or one met again (a cycle through a damaged link), ends the
   * list there; the rest is leaked. Bounded: each block is taken once. */
  xa_block_t* prev = NULL;
  for (xa_block_t* b = list; b != NULL; prev = b, b = xa__inbox_next(b)) {
    if (!inbox_block_ok(b)) {
      xa__report_corruption(b);
      if (prev == NULL) list = NULL;
      else xa__inbox_set_next(prev, NULL);
      break;
    }
    b->freed = XA_DRAIN_MARK;
  }
  while (list != NULL) {
    xa_block_t* next = xa__inbox_next(list);
    if (XA_DEBUG) {  /* before xa_free fills it again */
      xa_segment_t* seg = (xa_segment_t*)((uintptr_t)list & ~(uintptr_t)XA_SEGMENT_MASK);
      xa__debug_fill_check(xa__segment_page_of(seg, list), list);
    }
    list->freed = 0;  /* free_xthread checked it: this is the block's one free */
    free_drained(list);
    list = next;
  }
  xa__track_quiet_end();
}

void xa__orphans_drain(void) { xa__inbox_drain(&orphan_inbox); }
