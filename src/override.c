/* The libc malloc family, routed to xalloc. Compiled into libxalloc.so
 * (LD_PRELOAD) and, unless XALLOC_STATIC_OVERRIDE=OFF, into libxalloc.a.
 * Semantics follow glibc where glibc and the xa_ API differ (noted below). */
#include "xalloc.h"
#include "alloc_fast.h"
#include "stats.h"
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define XA_EXPORT __attribute__((visibility("default")))

/* The fast paths are inlined here: no call through the PLT to xa_malloc. */
XA_EXPORT void* malloc(size_t size) { return xa__heap_malloc_fast(xa__tls_heap_get(), size); }
XA_EXPORT void free(void* p) { xa__free_fast(p); }
XA_EXPORT void cfree(void* p) { xa__free_fast(p); }
XA_EXPORT void* calloc(size_t n, size_t size) { return xa__heap_calloc_fast(xa__tls_heap_get(), n, size); }

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
   * direct tables (up to XA_MID_MAX: posix_memalign(4096, 4096) too),
   * cannot fail and leaves errno alone without saving it.
   * Every block is at least 16-aligned. */
  size_t bs = 0;
  if (align <= 16) bs = size;
  else if (align <= XA_SEGMENT_HEADER && size <= XA_MID_MAX) bs = xa__aligned_class_size(size, align);
  if (bs - 1 < XA_MID_MAX) {  /* 0 < bs <= XA_MID_MAX */
    void* p = xa__heap_pop_sized(xa__tls_heap_get(), bs);
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

/* ---- glibc's introspection calls (docs/stats.md, "glibc's malloc
 * introspection"). Our own struct types with glibc's layout: <malloc.h> is
 * not included, so nothing here depends on which glibc declares what. */

typedef struct {  /* struct mallinfo2 */
  size_t arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
} xa_mallinfo2_t;

typedef struct {  /* struct mallinfo */
  int arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost;
} xa_mallinfo_t;

static size_t nonneg(int64_t v) { return v > 0 ? (size_t)v : 0; }
static int saturate(size_t v) { return v > INT_MAX ? INT_MAX : (int)v; }

/* Free block slots in pages in use, and their bytes. */
static void free_slots(const xa_stats_snapshot_t* s, size_t* count, size_t* bytes) {
  *count = *bytes = 0;
  for (size_t i = 1; i < XA_BIN_HUGE; i++) {
    size_t n = nonneg(s->bins[i].slots - s->bins[i].blocks);
    *count += n;
    *bytes += n * xa__bin_size(i);
  }
}

static xa_mallinfo2_t info2(void) {
  xa_stats_snapshot_t s;
  xa__stats_snapshot(&s);
  xa_mallinfo2_t m;
  memset(&m, 0, sizeof(m));
  m.arena = nonneg(s.current[XA_STAT_os_bytes]);
  size_t bytes;
  free_slots(&s, &m.ordblks, &bytes);
  m.hblks = nonneg(s.bins[XA_BIN_HUGE].blocks);
  m.hblkhd = nonneg(s.bins[XA_BIN_HUGE].bytes);
  m.uordblks = nonneg(s.live);
  m.fordblks = m.arena > m.uordblks ? m.arena - m.uordblks : 0;
  return m;
}

XA_EXPORT xa_mallinfo2_t mallinfo2(void) { return info2(); }

XA_EXPORT xa_mallinfo_t mallinfo(void) {
  xa_mallinfo2_t m2 = info2();
  xa_mallinfo_t m;
  m.arena = saturate(m2.arena);
  m.ordblks = saturate(m2.ordblks);
  m.smblks = saturate(m2.smblks);
  m.hblks = saturate(m2.hblks);
  m.hblkhd = saturate(m2.hblkhd);
  m.usmblks = saturate(m2.usmblks);
  m.fsmblks = saturate(m2.fsmblks);
  m.uordblks = saturate(m2.uordblks);
  m.fordblks = saturate(m2.fordblks);
  m.keepcost = saturate(m2.keepcost);
  return m;
}

/* glibc's parameters (<malloc.h>). */
enum {
  XA_M_MXFAST = 1, XA_M_TRIM_THRESHOLD = -1, XA_M_TOP_PAD = -2, XA_M_MMAP_THRESHOLD = -3,
  XA_M_MMAP_MAX = -4, XA_M_CHECK_ACTION = -5, XA_M_PERTURB = -6, XA_M_ARENA_TEST = -7, XA_M_ARENA_MAX = -8
};

/* glibc's parameters are accepted (1) and have no effect: xalloc has no
 * fastbins, top chunk, mmap threshold or arenas to tune. M_MXFAST keeps
 * glibc's range check; anything else is refused with 0. */
XA_EXPORT int mallopt(int param, int value) {
  switch (param) {
    case XA_M_MXFAST:
      return value >= 0 && (size_t)value <= 80 * sizeof(size_t) / 4;
    case XA_M_TRIM_THRESHOLD:
    case XA_M_TOP_PAD:
    case XA_M_MMAP_THRESHOLD:
    case XA_M_MMAP_MAX:
    case XA_M_CHECK_ACTION:
    case XA_M_PERTURB:
    case XA_M_ARENA_TEST:
    case XA_M_ARENA_MAX:
      return 1;
    default:
      return 0;
  }
}

/* Frees pages now rather than after purge_delay; pad is not needed (xalloc
 * has no top chunk). 1 if memory went back to the OS, else 0. Cheap when
 * nothing became free since the last call (xa__trim). */
XA_EXPORT int malloc_trim(size_t pad) {
  (void)pad;
  return xa__trim() ? 1 : 0;
}

/* glibc's report shape on stderr (stats.c). */
XA_EXPORT void malloc_stats(void) { xa__stats_print_glibc(); }

/* glibc's XML: one heap; a <size> per size class with free slots in pages
 * in use ("rest"), huge blocks as "mmap". options must be 0: else EINVAL
 * is returned (and set in errno), as glibc returns it. */
XA_EXPORT int malloc_info(int options, FILE* fp) {
  if (options != 0) {
    errno = EINVAL;
    return EINVAL;
  }
  xa_stats_snapshot_t s;
  xa__stats_snapshot(&s);
  size_t free_count, free_bytes;
  free_slots(&s, &free_count, &free_bytes);
  size_t sys = nonneg(s.current[XA_STAT_os_bytes]), sys_max = nonneg(s.peak[XA_STAT_os_bytes]);
  size_t committed = nonneg(s.current[XA_STAT_committed]);
  size_t huge_n = nonneg(s.bins[XA_BIN_HUGE].blocks), huge_bytes = nonneg(s.bins[XA_BIN_HUGE].bytes);
  fputs("<malloc version=\"1\">\n<heap nr=\"0\">\n<sizes>\n", fp);
  for (size_t i = 1; i < XA_BIN_HUGE; i++) {
    size_t n = nonneg(s.bins[i].slots - s.bins[i].blocks), bs = xa__bin_size(i);
    if (n == 0) continue;
    fprintf(fp, "<size from=\"%zu\" to=\"%zu\" total=\"%zu\" count=\"%zu\"/>\n", bs, bs, n * bs, n);
  }
  fputs("</sizes>\n", fp);
  for (int total = 0; total < 2; total++) {
    if (total == 1) fputs("</heap>\n", fp);
    fprintf(fp, "<total type=\"fast\" count=\"0\" size=\"0\"/>\n");
    fprintf(fp, "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n", free_count, free_bytes);
    if (total == 1) fprintf(fp, "<total type=\"mmap\" count=\"%zu\" size=\"%zu\"/>\n", huge_n, huge_bytes);
    fprintf(fp, "<system type=\"current\" size=\"%zu\"/>\n<system type=\"max\" size=\"%zu\"/>\n", sys, sys_max);
    fprintf(fp, "<aspace type=\"total\" size=\"%zu\"/>\n<aspace type=\"mprotect\" size=\"%zu\"/>\n", sys, committed);
  }
  fputs("</malloc>\n", fp);
  return 0;
}
