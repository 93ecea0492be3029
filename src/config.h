/* Constants and compiler helpers shared by every module. */
#ifndef XA_CONFIG_H
#define XA_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#if UINTPTR_MAX != 0xFFFFFFFFFFFFFFFFu
#error "xalloc currently supports 64-bit targets only"
#endif

#if defined(__GNUC__)
#define XA_INLINE     static inline __attribute__((always_inline))
#define XA_NOINLINE   __attribute__((noinline))
#define xa_likely(x)   __builtin_expect(!!(x), 1)
#define xa_unlikely(x) __builtin_expect(!!(x), 0)
#if defined(_WIN32)
#define XA_INTERNAL   /* PE: only dllexport'ed symbols leave the DLL */
#else
#define XA_INTERNAL   __attribute__((visibility("hidden")))
#endif
#else
#define XA_INLINE     static inline
#define XA_NOINLINE
#define xa_likely(x)   (x)
#define xa_unlikely(x) (x)
#define XA_INTERNAL
#endif

#ifndef XA_DEBUG
#define XA_DEBUG 0
#endif

/* The secure build (libxalloc-secure, secure.h). */
#ifndef XA_SECURE
#define XA_SECURE 0
#endif

/* Segments: 4 MiB, aligned to 4 MiB, so pointer -> segment is a mask. */
#define XA_SEGMENT_SHIFT   22
#define XA_SEGMENT_SIZE    ((size_t)1 << XA_SEGMENT_SHIFT)
#define XA_SEGMENT_MASK    (XA_SEGMENT_SIZE - 1)

/* Header at the start of every segment: segment fields plus page descriptors
 * (XA_SEGMENT_META). 8 KiB so that page 0 starts 8 KiB-aligned (power-of-two
 * blocks stay naturally aligned). The secure build follows the descriptors
 * with a guard (8 KiB, inaccessible: an underflow of page 0's first block
 * faults instead of rewriting them), so its page 0 starts at 16 KiB. */
#define XA_SEGMENT_META    ((size_t)8 << 10)
#if XA_SECURE
#define XA_SEGMENT_HEADER  ((size_t)16 << 10)
#else
#define XA_SEGMENT_HEADER  XA_SEGMENT_META
#endif

#define XA_SMALL_PAGE_SHIFT  16                         /* 64 KiB */
#define XA_MEDIUM_PAGE_SHIFT 19                         /* 512 KiB */
#define XA_SMALL_PAGES   (XA_SEGMENT_SIZE >> XA_SMALL_PAGE_SHIFT)   /* 64 */
#define XA_MEDIUM_PAGES  (XA_SEGMENT_SIZE >> XA_MEDIUM_PAGE_SHIFT)  /* 8 */
#define XA_MAX_PAGES     XA_SMALL_PAGES

/* Largest block of each page kind. */
#define XA_SMALL_MAX   ((size_t)8 << 10)     /* 8 KiB: >= 8 blocks per 64 KiB page */
#define XA_MEDIUM_MAX  ((size_t)64 << 10)    /* 64 KiB: >= 8 blocks per 512 KiB page */
#define XA_LARGE_MAX   ((size_t)512 << 10)   /* 512 KiB: >= 7 blocks per 4 MiB page */

/* Sizes served through the heap's direct size -> page tables: up to
 * XA_DIRECT_MAX in 8-byte steps, then up to XA_MID_MAX in 128-byte steps
 * (every size class between them is a multiple of 128). */
#define XA_DIRECT_MAX     1024
#define XA_DIRECT_COUNT   (XA_DIRECT_MAX / 8 + 1)
#define XA_MID_MAX        ((size_t)16 << 10)
#define XA_MID_COUNT      (XA_MID_MAX / 128)  /* index (size - 1) / 128 */

/* Size classes (bins). Bin 0 is unused, 1..8 = 16..128 B by 16, then 8 bins
 * per doubling up to XA_LARGE_MAX. */
#define XA_BIN_HUGE    (9 + 8 * 12)    /* 105: first bin after 512 KiB */
#define XA_BIN_COUNT   (XA_BIN_HUGE + 1)

/* Largest alignment served by placing a block inside a segment. */
#define XA_ALIGN_MAX_HUGE  (XA_SEGMENT_SIZE / 2)

/* How much of a page's free list is carved at once (keeps RSS low for pages
 * that are only partly used). */
#define XA_EXTEND_BYTES  ((size_t)4 << 10)

/* The shared segment caches (segment.c): released huge segments up to
 * XA_HUGE_CACHE_SEGMENT, and the standard segments exiting threads had
 * cached, each pool at most XA_SHARED_CACHE_BYTES in XA_SHARED_CACHE_SLOTS
 * segments; emptied by xa_collect(true) and at process exit, and aged out
 * after the purge delay. */
#define XA_SHARED_CACHE_SLOTS  32
#define XA_HUGE_CACHE_SEGMENT  ((size_t)64 << 20)
#define XA_SHARED_CACHE_BYTES  ((size_t)128 << 20)

/* Abandoned segments a thread that needs a page looks at (under the list's
 * lock) for one that can give it that page. */
#define XA_RECLAIM_SCAN 16

/* Empty segments a thread may keep for reuse (option segment_cache; the
 * purge delay bounds how long they stay). */
#define XA_SEGMENT_CACHE 64

/* The default purge delay (option purge_delay): free pages, cached segments
 * and abandoned memory go back to the OS after this long. The caches are for
 * memory freed and needed again soon, not a place where it stays resident
 * for good; 100 ms is long enough that a working set freed and reallocated
 * in a loop is not purged and refaulted each round. */
#define XA_CACHE_DELAY_MS 100

/* Blocks of at least this size (medium and large pages) give their memory
 * back one by one once freed for the purge delay, while their page stays in
 * use (heap.c, "Big blocks"): 600 blocks of 8-512 KiB in random turnover
 * otherwise keep every block slot ever touched resident. */
#define XA_BIG_BLOCK ((size_t)32 << 10)

/* A timed purge pass runs inside some thread's malloc or free: it gives back
 * at most this much of free pages per call (about 2 ms of madvise) and leaves
 * the rest to the next slow path. */
#define XA_PURGE_PASS_BYTES ((size_t)16 << 20)

/* A purge pass that found a lock busy tries again this much later. */
#define XA_PURGE_RETRY_MS 10

XA_INLINE size_t xa_align_up(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }
XA_INLINE bool xa_is_pow2(size_t x) { return x != 0 && (x & (x - 1)) == 0; }

#endif
