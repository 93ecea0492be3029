/* The libc malloc family, routed to xalloc. Compiled into libxalloc.so
 * (LD_PRELOAD) and, unless XALLOC_STATIC_OVERRIDE=OFF, into libxalloc.a.
 * Semantics follow glibc where glibc and the xa_ API differ (noted below). */
#include "xalloc.h"
#include "alloc_fast.h"
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#define XA_EXPORT __attribute__((visibility("default")))

/* The fast paths are inlined here: no call through the PLT to xa_malloc. */
XA_EXPORT void* malloc(size_t size) { return xa__heap_malloc_fast(xa__tls_heap_get(), size); }
XA_EXPORT void free(void* p) { xa__free_fast(p); }
XA_EXPORT void cfree(void* p) { xa__free_fast(p); }
XA_EXPORT void* calloc(size_t n, size_t size) { return xa_calloc(n, size); }

/* glibc: realloc(p, 0) with p != NULL frees p and returns NULL. */
XA_EXPORT void* realloc(void* p, size_t size) {
  if (p != NULL && size == 0) {
    xa_free(p);
    return NULL;
  }
  return xa_realloc(p, size);
}

XA_EXPORT void* reallocarray(void* p, size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc(p, total);
}

/* posix_memalign on any path that may fail. As glibc's: success leaves
 * errno alone (it is saved and restored around the allocation); failure
 * returns ENOMEM and leaves errno set to ENOMEM too (programs read it). */
static XA_NOINLINE int posix_memalign_slow(void** out, size_t align, size_t size) {
  int* errp = &errno;  /* one lookup of errno's address */
  int saved = *errp;
  void* p = xa_malloc_aligned(size, align);
  if (p == NULL) {
    *errp = ENOMEM;
    return ENOMEM;
  }
  *errp = saved;
  *out = p;
  return 0;
}

/* Returns the error; errno changes only when memory runs out (ENOMEM). An
 * invalid alignment returns EINVAL with errno untouched, as in glibc. */
XA_EXPORT int posix_memalign(void** out, size_t align, size_t size) {
  if (align % sizeof(void*) != 0 || (align & (align - 1)) != 0 || align == 0) return EINVAL;
  /* Fast path: a size class that meets the alignment, served from the
   * direct page, cannot fail and leaves errno alone without saving it.
   * Every block is at least 16-aligned. */
  size_t bs = 0;
  if (align <= 16) bs = size;
  else if (align <= XA_SEGMENT_HEADER && size <= XA_DIRECT_MAX) bs = xa__aligned_class_size(size, align);
  if (bs - 1 < XA_DIRECT_MAX) {  /* 0 < bs <= XA_DIRECT_MAX */
    void* p = xa__heap_pop_direct(xa__tls_heap_get(), bs);
    if (xa_likely(p != NULL)) {
      *out = p;
      return 0;
    }
  }
  return posix_memalign_slow(out, align, size);
}

XA_EXPORT void* aligned_alloc(size_t align, size_t size) { return xa_malloc_aligned(size, align); }

/* glibc's memalign rounds a non-power-of-two alignment up. */
XA_EXPORT void* memalign(size_t align, size_t size) {
  if (align > ((size_t)1 << 62)) {
    errno = EINVAL;
    return NULL;
  }
  if (align == 0) align = 1;
  if ((align & (align - 1)) != 0) align = (size_t)1 << (64 - __builtin_clzll(align));
  return xa_malloc_aligned(size, align);
}

XA_EXPORT void* valloc(size_t size) { return xa_malloc_aligned(size, (size_t)sysconf(_SC_PAGESIZE)); }

XA_EXPORT void* pvalloc(size_t size) {
  size_t ps = (size_t)sysconf(_SC_PAGESIZE);
  size_t rounded = (size + ps - 1) & ~(ps - 1);
  if (rounded < size) {
    errno = ENOMEM;
    return NULL;
  }
  return xa_malloc_aligned(rounded == 0 ? ps : rounded, ps);
}

XA_EXPORT size_t malloc_usable_size(void* p) { return xa_usable_size(p); }

XA_EXPORT void free_sized(void* p, size_t size) {
  (void)size;
  xa_free(p);
}

XA_EXPORT void free_aligned_sized(void* p, size_t align, size_t size) {
  (void)align;
  (void)size;
  xa_free(p);
}

/* Returns 1: memory may have been released (we always try). */
XA_EXPORT int malloc_trim(size_t pad) {
  (void)pad;
  xa_collect(true);
  return 1;
}

XA_EXPORT void malloc_stats(void) { xa_stats_print(); }
