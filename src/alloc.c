/* Allocation entry points: malloc family of the public API.
 * The fast path (sizes <= XA_MID_MAX with a free block on the page of the
 * direct tables) is inline: a TLS load, a table lookup, a list pop. Its miss
 * goes to xa__malloc_generic, which swaps local_free in when it can and
 * otherwise calls malloc_slow (which also initialises the thread on first
 * use). */
#include "xalloc.h"
#include "stats.h"
#include "alloc_fast.h"
#include "bin.h"
#include "free.h"
#include "heap.h"
#include "options.h"
#include "os.h"
#include "page.h"
#include "prof.h"
#include "segmap.h"
#include "segment.h"
#include "thread.h"
#include "track.h"
#include <errno.h>
#include <string.h>

static xa_heap_t* heap_ready(xa_heap_t* heap) {
  if (xa_unlikely(heap->tld == NULL)) heap = xa__thread_init();  /* the empty heap */
  return heap;
}

static void* huge_alloc(xa_heap_t* heap, size_t size, size_t align, bool zero) {
  xa__heap_tick(heap->tld);
  bool fresh = false;
  xa_page_t* page = xa__heap_huge_page(heap, size, align, &fresh);
  if (page == NULL) {
    errno = ENOMEM;
    return NULL;
  }
  if (zero && !fresh) memset(page->start, 0, size);
  else if (!fresh) ((xa_block_t*)page->start)->freed = 0;  /* a cached segment may hold the mark */
  if (xa_unlikely(xa__option(XA_OPT_PROFILE))) {
    xa_tld_t* tld = heap->tld;
    xa__prof_thread_ready(tld);
    if (xa__prof_draw_huge(tld, size)) xa__prof_sample(tld, page, page->start, size, size);
  }
  return page->start;
}

static XA_NOINLINE void* malloc_slow(xa_heap_t* heap, size_t size);

/* A countdown of allocations (prof.c) that a run of the fast path may have
 * overshot: blocks it popped beyond the count were not looked at, so the
 * current allocation is sampled (late, rare: see docs/profile.md). */
static void prof_charge(uint32_t* skip, uint32_t popped) { *skip = popped <= *skip ? *skip - popped : 0; }

/* The allocation slow path while profiling. The fast path pops only what
 * xa__page_prof_expose left on a page's `free`: no more blocks than the
 * thread's countdown for the size class. Here that run is counted, the
 * block is taken, sampled when the countdown is at 0, and the next run is
 * counted out. Every path that adds blocks to a page puts them on
 * local_free meanwhile (page.c), so the fast path never sees uncounted ones. */
static XA_NOINLINE void* malloc_profiled(xa_heap_t* heap, size_t bin, size_t size) {
  xa_tld_t* tld = heap->tld;
  if (xa_unlikely(!tld->prof_ready)) xa__prof_thread_ready(tld);
  uint32_t* skip = &tld->prof_skip[bin];
  if (xa_unlikely(((tld->prof_drawn[bin >> 6] >> (bin & 63)) & 1) == 0)) {
    *skip = xa__prof_draw_skip(tld, xa__bin_size(bin));
    tld->prof_drawn[bin >> 6] |= (uint64_t)1 << (bin & 63);
  }
  xa_page_t* page = heap->queues[bin].first;
  if (page != NULL && page->free == NULL && page->local_free != NULL) {
    /* The common case, what the local_free swap is without profiling: the
     * run is used up, and when the countdown reaches past every free block
     * of the page, all of them are the next run. */
    prof_charge(skip, page->prof_run);
    uint32_t avail = page->capacity - page->used;
    if (*skip > avail) {
      page->free = page->local_free;
      page->local_free = NULL;
      xa_block_t* b = xa__page_take(page, page->free);
      page->prof_run = avail - 1;  /* counted when it is used up */
      (*skip)--;                   /* b: not sampled, *skip > 0 */
      return b;
    }
    page->prof_run = 0;
  }
  if (page != NULL) prof_charge(skip, xa__page_prof_settle(page));
  if (page == NULL || !xa__page_has_free(page)) {
    xa__heap_tick(tld);
    xa__inbox_drain(&tld->inbox);
    xa__orphans_drain();
    page = xa__heap_find_page(heap, bin);
    if (xa_unlikely(page == NULL)) {
      errno = ENOMEM;
      return NULL;
    }
    prof_charge(skip, xa__page_prof_settle(page));  /* another page: its own leftover run */
  }
  xa_block_t* b = xa__page_prof_take(page);
  if (xa_unlikely(b == NULL)) return malloc_slow(heap, size);  /* found damaged while counting */
  bool sample = *skip == 0;
  if (sample) *skip = xa__prof_draw_skip(tld, page->block_size);
  else (*skip)--;
  xa__page_prof_expose(page, *skip);
  if (sample) xa__prof_sample(tld, page, b, size, page->block_size);
  return b;
}

static void* tracked_alloc(xa_heap_t* heap, size_t size, size_t align);

/* The miss of malloc's fast path. Most often (malloc/free pairs) the direct
 * page's free list ran dry while the owner's own frees wait in local_free:
 * they become the free list here, without a stack frame or a size class
 * computation. The empty heap's tables and those of a tracking process
 * hold only xa__page_empty, whose lists are NULL. While profiling,
 * local_free is counted out by malloc_profiled. */
void* xa__malloc_generic(xa_heap_t* heap, size_t size) {
  if (xa_likely(size <= XA_MID_MAX)) {
    xa_page_t* page = size <= XA_DIRECT_MAX ? heap->direct[(size + 7) >> 3] : heap->direct_mid[(size - 1) >> 7];
    xa_block_t* b = page->local_free;
    if (b != NULL && page->free == NULL && !xa__option_inline(XA_OPT_PROFILE)) {
      page->local_free = NULL;
      return xa__page_take(page, b);
    }
  }
  return malloc_slow(heap, size);
}

static void* malloc_slow(xa_heap_t* heap, size_t size) {
  heap = heap_ready(heap);
  if (xa_unlikely(heap == NULL || size > PTRDIFF_MAX)) {
    errno = ENOMEM;
    return NULL;
  }
  if (xa_unlikely(xa__tracking()) && !heap->tld->track_inner) return tracked_alloc(heap, size, 0);
  if (size > XA_LARGE_MAX) {
    xa__inbox_drain(&heap->tld->inbox);
    xa__orphans_drain();
    return huge_alloc(heap, size, 0, false);
  }
  size_t bin = xa__bin_of(size);
  /* The front page without a search, its local_free swapped in if need be:
   * for sizes above the direct tables (xa__malloc_generic swaps for the
   * others), a thread's first allocation and allocations inside a tracked
   * one. */
  xa_page_t* page = heap->queues[bin].first;
  if (page != NULL) {
    xa_block_t* b = page->free;
    /* While profiling, local_free is counted out by malloc_profiled. */
    if (b == NULL && page->local_free != NULL && !xa__option_inline(XA_OPT_PROFILE)) {
      b = page->local_free;
      page->local_free = NULL;
    }
    if (b != NULL) return xa__page_take(page, b);
  }
  if (xa_unlikely(xa__option_inline(XA_OPT_PROFILE))) return malloc_profiled(heap, bin, size);
  xa__heap_tick(heap->tld);
  xa__inbox_drain(&heap->tld->inbox);
  xa__orphans_drain();  /* one load when empty */
  page = xa__heap_find_page(heap, bin);
  if (xa_unlikely(page == NULL)) {
    errno = ENOMEM;
    return NULL;
  }
  xa_block_t* b = page->free;
  if (xa_likely(b != NULL)) return xa__page_take(page, b);
  return xa__page_prof_take(page);  /* profiling was on a moment ago: blocks wait on local_free */
}

XA_INLINE void* heap_malloc(xa_heap_t* heap, size_t size) { return xa__heap_malloc_fast(heap, size); }

XA_API void* xa_malloc(size_t size) { return heap_malloc(xa__tls_heap_get(), size); }

/* The heap argument of the xa_heap_* allocation functions: NULL means the
 * default heap; a heap of another thread gets NULL with EINVAL (its owner
 * alone may change it). The empty heap (tld NULL) of a thread that has not
 * allocated yet passes: the slow path sets the thread up. */
static xa_heap_t* heap_arg(xa_heap_t* heap) {
  if (heap == NULL) return xa__tls_heap_get();
  if (xa_unlikely(heap->tld != xa__tls_tld_get() && heap->tld != NULL)) {
    errno = EINVAL;
    return NULL;
  }
  return heap;
}

XA_API void* xa_heap_malloc(xa_heap_t* heap, size_t size) {
  heap = heap_arg(heap);
  return heap != NULL ? heap_malloc(heap, size) : NULL;
}

void* xa__calloc_generic(xa_heap_t* heap, size_t count, size_t size) {
  size_t total;
  if (xa_unlikely(__builtin_mul_overflow(count, size, &total) || total > PTRDIFF_MAX)) {
    errno = ENOMEM;
    return NULL;
  }
  if (total > XA_LARGE_MAX && !xa__tracking()) {  /* tracked: through malloc, which tracks */
    heap = heap_ready(heap);
    if (heap == NULL) {
      errno = ENOMEM;
      return NULL;
    }
    return huge_alloc(heap, total, 0, true);  /* fresh OS memory needs no memset */
  }
  void* p = heap_malloc(heap, total);
  if (p != NULL) memset(p, 0, total);
  return p;
}

XA_INLINE void* heap_calloc(xa_heap_t* heap, size_t count, size_t size) { return xa__heap_calloc_fast(heap, count, size); }

XA_API void* xa_calloc(size_t count, size_t size) { return heap_calloc(xa__tls_heap_get(), count, size); }

XA_API void* xa_heap_calloc(xa_heap_t* heap, size_t count, size_t size) {
  heap = heap_arg(heap);
  return heap != NULL ? heap_calloc(heap, count, size) : NULL;
}

/* ---- usable size and realloc ------------------------------------------------ */

/* The page of a block pointer, or NULL (after reporting) if it is not ours.
 * A huge mapping may end before its last 4 MiB chunk does, and the rest of
 * that chunk is someone else's. */
static xa_page_t* block_page(const void* p, const char* what) {
  uintptr_t segaddr = (uintptr_t)p & ~(uintptr_t)XA_SEGMENT_MASK;
  xa_segment_t* seg = (xa_segment_t*)segaddr;
  if (xa_unlikely(!xa__segmap_is_segment(segaddr) ||
                  (seg->kind == XA_KIND_HUGE && !xa__segment_huge_covers(seg, p)))) {
    if (what != NULL) xa__report_foreign(what, p);
    return NULL;
  }
  return xa__segment_page_of(seg, p);
}

/* ---- tracked blocks (track.h) ---------------------------------------------------------- */

static void* heap_malloc_aligned(xa_heap_t* heap, size_t size, size_t align);
static void* huge_realloc(xa_heap_t* heap, xa_page_t* page, void** pp, size_t newsize, size_t want);

/* A block for a caller that asked for size bytes: the block holds the pad
 * too (the allocation itself is not tracked again). */
static void* tracked_alloc(xa_heap_t* heap, size_t size, size_t align) {
  if (size > PTRDIFF_MAX - XA_TRACK_PAD) {
    errno = ENOMEM;
    return NULL;
  }
  xa_tld_t* tld = heap->tld;
  xa__track_quiet_begin();
  tld->track_inner = true;
  void* p = align == 0 ? xa__malloc_generic(heap, size + XA_TRACK_PAD)
                       : heap_malloc_aligned(heap, size + XA_TRACK_PAD, align);
  tld->track_inner = false;
  xa__track_quiet_end();
  if (p != NULL) xa__track_handout(xa__segment_page_of(xa__ptr_segment(p), p), p, size, false);
  return p;
}

/* realloc while tracking: in place when the block has room and keeps at
 * least half its size, else a new block, a copy and a free, each tracked. */
static void* tracked_realloc(xa_heap_t* heap, xa_page_t* page, void* p, size_t newsize) {
  size_t n = 0;
  if (xa__page_block_checked(xa__page_segment(page), page, p) == NULL ||
      xa__track_state(page, p, &n) != XA_TRACK_LIVE) {
    xa__report_not_block("realloc of pointer", p);
    errno = EINVAL;
    return NULL;
  }
  if (newsize == 0) {
    xa_free(p);
    return heap_malloc(heap, 0);
  }
  xa__track_check(page, p);
  if (xa__page_is_huge(page) && newsize <= PTRDIFF_MAX - XA_TRACK_PAD) {
    /* As without tracking (mremap, in place, the tail given back), the pad
     * included; a shrink to half or more that would be copied stays. */
    void* was = p;
    bool sampled = (xa__page_flags(page) & XA_PF_SAMPLED) != 0;
    xa__track_quiet_begin();
    void* r = huge_realloc(heap, page, &p, newsize + XA_TRACK_PAD, newsize + XA_TRACK_PAD);
    xa__track_quiet_end();
    if (xa_unlikely(sampled && p != was)) xa__prof_moved(was, p);
    page = xa__segment_page_of(xa__ptr_segment(p), p);
    if (r != NULL || (newsize <= n && newsize >= n / 2)) {
      xa__track_moved(page, was, p, n, newsize);
      return p;
    }
    if (p != was) xa__track_moved(page, was, p, n, n);  /* its pages moved without growing */
  } else if (!xa__page_is_huge(page)) {
    size_t room = xa__track_room(page, p);
    if (newsize <= room && newsize >= n / 2) {
      xa__track_moved(page, p, p, n, newsize);
      return p;
    }
  }
  void* q = heap_malloc(heap, newsize);
  if (q == NULL) return NULL;
  memcpy(q, p, n < newsize ? n : newsize);
  xa_free(p);
  return q;
}

/* Bytes usable from p on, or 0 when p is not a block (or aligned block)
 * start that the page handed out. */
static size_t page_usable(const xa_page_t* page, const void* p) {
  const uint8_t* block = (const uint8_t*)xa__page_block_checked(xa__page_segment(page), page, p);
  if (block == NULL) return 0;
  if (xa_unlikely(xa__tracking())) {
    size_t n;
    return xa__track_state(page, p, &n) == XA_TRACK_LIVE ? n : 0;
  }
  return page->block_size - (size_t)((const uint8_t*)p - block);
}

XA_API size_t xa_usable_size(const void* p) {
  if (p == NULL) return 0;
  xa_page_t* page = block_page(p, NULL);
  return page != NULL ? page_usable(page, p) : 0;
}

/* realloc of a huge block (p is its start, see block_page) to newsize, or
 * want (a bit more) when that works. Its owner resizes it where it is:
 * a shrink gives the pages past the new end back, a growth uses the rest of
 * the mapping or extends it, in place or by moving its pages to a new
 * address without copying (mremap; not on Windows). Returns the block, or
 * NULL when it has to be moved by copying; *pp is then where the block is
 * now (its pages may have moved without growing). Another thread cannot
 * touch the bookkeeping: it keeps the block where it is when it can, and
 * copies otherwise. */
static void* huge_realloc(xa_heap_t* heap, xa_page_t* page, void** pp, size_t newsize, size_t want) {
  void* p = *pp;
  size_t usable = page->block_size;
  /* Far smaller and no longer huge: a copy of at most 512 KiB gives the
   * whole segment back. */
  bool stays = newsize > XA_LARGE_MAX || newsize >= usable / 2;
  xa_segment_t* seg = xa__page_segment(page);
  xa_tld_t* tld = xa__tls_tld_get();
  if (atomic_load_explicit(&seg->owner, memory_order_relaxed) != (uintptr_t)tld) {
    return newsize <= usable && stays ? p : NULL;
  }
  if (newsize <= usable && !stays) return NULL;
  /* Less than a quarter to give back: keep it. Mostly this is a block that
   * grows in small steps into the room its last growth gave it; cutting that
   * room off (munmap) would make the next step remap again. */
  if (newsize <= usable && newsize > usable - usable / 4) return p;
  size_t room = xa__segment_huge_room(seg, page);
  if (newsize > usable && newsize <= room) {
    /* The rest of the mapping (a cached segment can be larger): untouched.
     * Only the owner writes block_size (atomic: xa_heap_contains may read it
     * from another thread). */
    size_t bs = xa_align_up(newsize, xa__os_page_size());
    __atomic_store_n(&page->block_size, bs < room ? bs : room, __ATOMIC_RELAXED);
    xa__stats_huge_resized(page, usable);
    return p;
  }
  /* A moved block must come from `heap` (xa_heap_realloc): only a block of
   * that heap's own huge queue is resized, others are copied into `heap`.
   * A shrink stays where it is, whatever the heap. */
  if (newsize > usable && (page->heap != heap || page->queue != XA_BIN_HUGE)) return NULL;
  if (newsize <= usable) want = newsize;
  xa_heap_t* owner_heap = page->heap;
  xa__heap_page_moving(owner_heap, page);
  bool done;
  page = xa__segment_huge_resize(tld, page, want, &done);
  if (!done && want != newsize) page = xa__segment_huge_resize(tld, page, newsize, &done);
  xa__heap_page_moved(owner_heap, page);
  *pp = page->start;
  return done ? page->start : NULL;
}

static void* heap_realloc(xa_heap_t* heap, void* p, size_t newsize) {
  if (p == NULL) return heap_malloc(heap, newsize);
  if (xa_unlikely(newsize > PTRDIFF_MAX)) {
    errno = ENOMEM;
    return NULL;
  }
  xa_page_t* page = block_page(p, "realloc of pointer");
  if (page == NULL) {
    errno = EINVAL;
    return NULL;
  }
  if (xa_unlikely(xa__tracking())) return tracked_realloc(heap, page, p, newsize);
  size_t usable = page_usable(page, p);
  if (xa_unlikely(usable == 0)) {  /* every block has room: p is not a block start */
    xa__report_not_block("realloc of pointer", p);
    errno = EINVAL;
    return NULL;
  }
  if (newsize == 0) {
    xa_free(p);
    return heap_malloc(heap, 0);
  }
  /* A block that grows a little past its usable size tends to keep growing
   * in small steps (buffers, strings, vectors): make it half again as large
   * as it was, so that n steps copy O(log n) times instead of at every size
   * class. A big jump gets exactly what it asked for, and small blocks are
   * cheap to copy and keep exact sizes. */
  size_t want = newsize;
  size_t step = usable + usable / 2;
  if (newsize > usable && newsize < step && newsize >= 1024) {
    want = step;
    if (newsize <= XA_LARGE_MAX && want > XA_LARGE_MAX) want = XA_LARGE_MAX;  /* stay out of huge */
  }
  if (xa__page_is_huge(page)) {
    void* was = p;
    bool sampled = (xa__page_flags(page) & XA_PF_SAMPLED) != 0;
    void* r = huge_realloc(heap, page, &p, newsize, want);
    if (xa_unlikely(sampled && p != was)) xa__prof_moved(was, p);  /* its pages moved (mremap) */
    if (r != NULL) return r;
  } else if (newsize <= usable && newsize >= usable / 2) {
    return p;  /* fits: stay in place */
  }
  void* q = heap_malloc(heap, want);
  if (q == NULL && want != newsize) q = heap_malloc(heap, newsize);
  if (q == NULL) return NULL;
  memcpy(q, p, usable < newsize ? usable : newsize);
  xa_free(p);
  return q;
}

XA_API void* xa_realloc(void* p, size_t newsize) { return heap_realloc(xa__tls_heap_get(), p, newsize); }

XA_API void* xa_heap_realloc(xa_heap_t* heap, void* p, size_t newsize) {
  heap = heap_arg(heap);
  return heap != NULL ? heap_realloc(heap, p, newsize) : NULL;
}

XA_API void* xa_reallocarray(void* p, size_t count, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(count, size, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  return xa_realloc(p, total);
}

/* ---- aligned allocation ------------------------------------------------------ */

static void* heap_malloc_aligned(xa_heap_t* heap, size_t size, size_t align) {
  if (xa_unlikely(!xa_is_pow2(align))) {
    errno = EINVAL;
    return NULL;
  }
  if (xa_unlikely(size > PTRDIFF_MAX)) {
    errno = ENOMEM;
    return NULL;
  }
  if (align <= 8) return heap_malloc(heap, size);
  if (align <= 16) return heap_malloc(heap, size < 16 ? 16 : size);
  if (align > XA_ALIGN_MAX_HUGE) {
    errno = ENOMEM;
    return NULL;
  }
  if (xa_unlikely(xa__tracking())) {
    heap = heap_ready(heap);
    if (heap == NULL) {
      errno = ENOMEM;
      return NULL;
    }
    if (!heap->tld->track_inner) return tracked_alloc(heap, size, align);
  }
  /* Pages start 8 KiB-aligned (page 0 after the 8 KiB header; others at
   * multiples of their page size), so every block of a size class that is a
   * multiple of an alignment <= 8 KiB is aligned: use the smallest such class
   * that holds size. No interior pointer, no flag on the page. */
  if (align <= XA_SEGMENT_HEADER && size <= XA_LARGE_MAX) {
    size_t bs = xa__aligned_class_size(size, align);
    if (bs != 0) return heap_malloc(heap, bs);
  }
  /* Power-of-two block sizes are naturally aligned in most pages. */
  if (size <= align && align <= XA_MEDIUM_MAX) {
    void* p = heap_malloc(heap, align);
    if (p == NULL || ((uintptr_t)p & (align - 1)) == 0) return p;
    xa_free(p);
  }
  /* Over-allocate by less than the alignment and hand out an interior
   * pointer; the page remembers that it holds such pointers. */
  if (size + align - 1 <= XA_LARGE_MAX) {
    uint8_t* p = heap_malloc(heap, size + align - 1);
    if (p == NULL) return NULL;
    uint8_t* q = (uint8_t*)xa_align_up((uintptr_t)p, align);
    if (q != p) xa__page_flags_set(xa__segment_page_of(xa__ptr_segment(p), p), XA_PF_ALIGNED);
    return q;
  }
  heap = heap_ready(heap);
  if (heap == NULL) {
    errno = ENOMEM;
    return NULL;
  }
  return huge_alloc(heap, size, align, false);
}

XA_API void* xa_malloc_aligned(size_t size, size_t alignment) {
  return heap_malloc_aligned(xa__tls_heap_get(), size, alignment);
}

XA_API void* xa_heap_malloc_aligned(xa_heap_t* heap, size_t size, size_t alignment) {
  heap = heap_arg(heap);
  return heap != NULL ? heap_malloc_aligned(heap, size, alignment) : NULL;
}

/* ---- strings ------------------------------------------------------------------- */

XA_API char* xa_strdup(const char* s) {
  if (s == NULL) return NULL;
  size_t n = strlen(s) + 1;
  char* d = xa_malloc(n);
  if (d != NULL) memcpy(d, s, n);
  return d;
}

XA_API char* xa_strndup(const char* s, size_t n) {
  if (s == NULL) return NULL;
  size_t len = strnlen(s, n);  /* never reads s[n] */
  char* d = xa_malloc(len + 1);
  if (d != NULL) {
    memcpy(d, s, len);
    d[len] = 0;
  }
  return d;
}

XA_API int xa_version(void) { return XALLOC_VERSION; }
