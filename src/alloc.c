/* Allocation entry points: malloc family of the public API.
 * The fast path (sizes <= 1 KiB with a free block on the direct page) is
 * inline: a TLS load, a table lookup, a list pop. Everything else goes
 * through malloc_generic, which also initialises the thread on first use. */
#include "xalloc.h"
#include "alloc_fast.h"
#include "bin.h"
#include "free.h"
#include "heap.h"
#include "os.h"
#include "page.h"
#include "segmap.h"
#include "segment.h"
#include "thread.h"
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
  return page->start;
}

void* xa__malloc_generic(xa_heap_t* heap, size_t size) {
  heap = heap_ready(heap);
  if (xa_unlikely(heap == NULL || size > PTRDIFF_MAX)) {
    errno = ENOMEM;
    return NULL;
  }
  if (size > XA_LARGE_MAX) {
    xa__inbox_drain(&heap->tld->inbox);
    xa__orphans_drain();
    return huge_alloc(heap, size, 0, false);
  }
  size_t bin = xa__bin_of(size);
  /* Sizes above the direct table, and a direct page whose free list ran dry
   * while the owner's own frees wait in local_free: take from the front page
   * without a search (the common case for malloc/free pairs). */
  xa_page_t* page = heap->queues[bin].first;
  if (page != NULL) {
    xa_block_t* b = page->free;
    if (b == NULL && page->local_free != NULL) {
      b = page->local_free;
      page->local_free = NULL;
    }
    if (b != NULL) {
      page->free = b->next;
      page->used++;
      b->freed = 0;
      return b;
    }
  }
  xa__heap_tick(heap->tld);
  xa__inbox_drain(&heap->tld->inbox);
  xa__orphans_drain();  /* one load when empty */
  page = xa__heap_find_page(heap, bin);
  if (xa_unlikely(page == NULL)) {
    errno = ENOMEM;
    return NULL;
  }
  xa_block_t* b = page->free;
  page->free = b->next;
  page->used++;
  b->freed = 0;
  return b;
}

XA_INLINE void* heap_malloc(xa_heap_t* heap, size_t size) { return xa__heap_malloc_fast(heap, size); }

XA_API void* xa_malloc(size_t size) { return heap_malloc(xa__tls_heap_get(), size); }

XA_API void* xa_heap_malloc(xa_heap_t* heap, size_t size) {
  return heap_malloc(heap != NULL ? heap : xa__tls_heap_get(), size);
}

static void* heap_calloc(xa_heap_t* heap, size_t count, size_t size) {
  size_t total;
  if (xa_unlikely(__builtin_mul_overflow(count, size, &total) || total > PTRDIFF_MAX)) {
    errno = ENOMEM;
    return NULL;
  }
  if (total > XA_LARGE_MAX) {
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

XA_API void* xa_calloc(size_t count, size_t size) { return heap_calloc(xa__tls_heap_get(), count, size); }

XA_API void* xa_heap_calloc(xa_heap_t* heap, size_t count, size_t size) {
  return heap_calloc(heap != NULL ? heap : xa__tls_heap_get(), count, size);
}

/* ---- usable size and realloc ------------------------------------------------ */

/* The page of a block pointer, or NULL (after reporting) if it is not ours. */
static xa_page_t* block_page(const void* p, const char* what) {
  uintptr_t segaddr = (uintptr_t)p & ~(uintptr_t)XA_SEGMENT_MASK;
  if (xa_unlikely(!xa__segmap_is_segment(segaddr))) {
    if (what != NULL) xa__report_foreign(what, p);
    return NULL;
  }
  return xa__segment_page_of((xa_segment_t*)segaddr, p);
}

static size_t page_usable(const xa_page_t* page, const void* p) {
  const uint8_t* block = p;
  if (xa__page_flags(page) & XA_PF_ALIGNED) block = xa__page_block_of(page, p);
  return page->block_size - (size_t)((const uint8_t*)p - block);
}

XA_API size_t xa_usable_size(const void* p) {
  if (p == NULL) return 0;
  xa_page_t* page = block_page(p, NULL);
  return page != NULL ? page_usable(page, p) : 0;
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
  if (newsize == 0) {
    xa_free(p);
    return heap_malloc(heap, 0);
  }
  size_t usable = page_usable(page, p);
  bool huge = xa__page_is_huge(page);
  if (newsize <= usable && (newsize >= usable / 2 || huge)) return p;  /* fits: stay in place */
  xa_segment_t* seg = xa__page_segment(page);
  if (huge && newsize > usable &&
      atomic_load_explicit(&seg->owner, memory_order_relaxed) == (uintptr_t)xa__tls_tld_get()) {
    /* Grow in place into the rest of the huge segment (mapped, untouched).
     * Only the owner writes block_size (it also reads it in visit/collect). */
    size_t offset = (size_t)((uint8_t*)p - page->start);
    size_t room = xa__segment_huge_room(seg, page) - offset;
    if (newsize <= room) {
      size_t grown = offset + xa_align_up(newsize, xa__os_page_size());
      if (grown - offset > room) grown = offset + room;
      if (xa__segment_huge_grow(seg, page, grown)) {
        page->block_size = grown;
        return p;
      }
    }
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
  void* q = heap_malloc(heap, want);
  if (q == NULL && want != newsize) q = heap_malloc(heap, newsize);
  if (q == NULL) return NULL;
  memcpy(q, p, usable < newsize ? usable : newsize);
  xa_free(p);
  return q;
}

XA_API void* xa_realloc(void* p, size_t newsize) { return heap_realloc(xa__tls_heap_get(), p, newsize); }

XA_API void* xa_heap_realloc(xa_heap_t* heap, void* p, size_t newsize) {
  return heap_realloc(heap != NULL ? heap : xa__tls_heap_get(), p, newsize);
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
  return heap_malloc_aligned(heap != NULL ? heap : xa__tls_heap_get(), size, alignment);
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
