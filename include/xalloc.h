/* xalloc — a general-purpose memory allocator.
 *
 * Public API. Every function is thread-safe. Sizes are size_t. On failure the
 * allocation functions return NULL and set errno (ENOMEM, or EINVAL for an
 * invalid alignment); they never abort.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef XALLOC_H
#define XALLOC_H

#include <stdbool.h>
#include <stddef.h>

#define XALLOC_VERSION 100 /* 0.1.0 */

/* Windows: only the build of xalloc.dll defines XALLOC_BUILDING and marks
 * its exports. Users define nothing: a plain declaration links against
 * libxalloc.a and, through the import library, against xalloc.dll alike
 * (functions need no dllimport). XALLOC_STATIC is accepted and changes
 * nothing. */
#if defined(_WIN32)
#  if defined(XALLOC_BUILDING)
#    define XA_API __declspec(dllexport)
#  else
#    define XA_API
#  endif
#elif defined(__GNUC__)
#  define XA_API __attribute__((visibility("default")))
#else
#  define XA_API
#endif

#if defined(__GNUC__)
#  define XA_ATTR_MALLOC __attribute__((malloc))
#  define XA_ATTR_ALLOC_SIZE(n) __attribute__((alloc_size(n)))
#  define XA_ATTR_ALLOC_SIZE2(n, m) __attribute__((alloc_size(n, m)))
#else
#  define XA_ATTR_MALLOC
#  define XA_ATTR_ALLOC_SIZE(n)
#  define XA_ATTR_ALLOC_SIZE2(n, m)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * Plain allocation
 * ------------------------------------------------------------------------- */

/* Allocate `size` bytes from the calling thread's default heap.
 * size 0 returns a unique non-NULL pointer (a minimal block) that must be freed.
 * Blocks are 16-byte aligned when size >= 16, otherwise aligned to the largest
 * power of two <= size (at least 8). size > PTRDIFF_MAX -> NULL, errno=ENOMEM. */
XA_API void* xa_malloc(size_t size) XA_ATTR_MALLOC XA_ATTR_ALLOC_SIZE(1);

/* Allocate count*size zeroed bytes. Overflow of count*size -> NULL, ENOMEM. */
XA_API void* xa_calloc(size_t count, size_t size) XA_ATTR_MALLOC XA_ATTR_ALLOC_SIZE2(1, 2);

/* Resize p to newsize bytes, keeping min(old, new) bytes of content.
 * p == NULL behaves like xa_malloc(newsize). newsize == 0 frees p and returns
 * what xa_malloc(0) returns. On failure returns NULL (ENOMEM) and p is untouched;
 * a p that xalloc did not hand out (a pointer into the middle of a block
 * included) is reported on stderr and gives NULL, EINVAL.
 * Growing within xa_usable_size(p), or shrinking to at least half of it, stays
 * in place; otherwise the block may move, and a copied block has the plain
 * alignment of its new size (as with libc realloc), not that of an earlier
 * xa_malloc_aligned. On Linux a huge block (above 512 KiB) that the calling
 * thread owns is resized without copying (mremap): it keeps its alignment. */
XA_API void* xa_realloc(void* p, size_t newsize) XA_ATTR_ALLOC_SIZE(2);

/* xa_realloc(p, count*size) with overflow detection (NULL, ENOMEM; p untouched). */
XA_API void* xa_reallocarray(void* p, size_t count, size_t size) XA_ATTR_ALLOC_SIZE2(2, 3);

/* Free a block. NULL is ignored. Any thread may free any block, including
 * blocks of heaps that were deleted and of threads that have exited.
 * A pointer that xalloc did not hand out (a pointer into the middle of a
 * block included), and a block that is already free (double free), are
 * reported once on stderr and ignored. A free list found overwritten (use
 * after free, overflow into a free block) is reported and dropped: its
 * blocks are leaked, the program goes on. */
XA_API void xa_free(void* p);

/* Allocate size bytes aligned to `alignment`, which must be a power of two.
 * Every power of two from 1 to 2 MiB succeeds (given memory); larger powers
 * of two fail with NULL and errno=ENOMEM. alignment 0 or not a power of two
 * -> NULL, errno=EINVAL. */
XA_API void* xa_malloc_aligned(size_t size, size_t alignment) XA_ATTR_MALLOC XA_ATTR_ALLOC_SIZE(1);

/* Number of bytes usable in the block p (>= the size requested); 0 for NULL,
 * for pointers xalloc did not hand out and for pointers into the middle of a
 * block. */
XA_API size_t xa_usable_size(const void* p);

/* Duplicate a string into a new block (NULL, ENOMEM on failure; NULL s -> NULL). */
XA_API char* xa_strdup(const char* s) XA_ATTR_MALLOC;

/* Duplicate at most n bytes of s (stops at the first NUL, never reads s[n])
 * and NUL-terminates the copy. */
XA_API char* xa_strndup(const char* s, size_t n) XA_ATTR_MALLOC;

/* ---------------------------------------------------------------------------
 * Heaps
 *
 * A heap is owned by the thread that created it: only that thread allocates
 * from it and calls delete/destroy/collect/visit on it. Blocks of a heap may
 * be freed by any thread. Every thread starts with its own "original" heap,
 * which is its default heap until xa_heap_set_default changes that.
 * ------------------------------------------------------------------------- */
typedef struct xa_heap_s xa_heap_t;

/* Create a new heap owned by the calling thread. NULL, ENOMEM on failure. */
XA_API xa_heap_t* xa_heap_new(void);

/* Release heap. Blocks still live in it stay valid (they may be freed later by
 * any thread) and are migrated to the calling thread's *current* default
 * heap; when heap is itself the default, they go to the thread's original
 * heap, which becomes the default again. Pages without live blocks are
 * returned. Deleting the thread's original heap (or NULL) does nothing. */
XA_API void xa_heap_delete(xa_heap_t* heap);

/* Free every block that was allocated from heap at once, then release heap.
 * Blocks the heap holds but did not allocate (blocks migrated into it from a
 * deleted heap) are not freed: they move to the thread's original heap.
 * If heap was the default, the original heap becomes the default again.
 * Destroying the thread's original heap (or NULL) does nothing. */
XA_API void xa_heap_destroy(xa_heap_t* heap);

/* The calling thread's default heap (the one xa_malloc allocates from). */
XA_API xa_heap_t* xa_heap_get_default(void);

/* Make heap (owned by the calling thread) the default; returns the previous
 * default. NULL leaves the default unchanged and returns it. */
XA_API xa_heap_t* xa_heap_set_default(xa_heap_t* heap);

/* Like xa_malloc / xa_calloc / xa_realloc / xa_malloc_aligned, from heap.
 * xa_heap_malloc(h, 0) behaves like xa_malloc(0). xa_heap_realloc moves the
 * block into heap when it has to move it. A NULL heap means the default heap.
 * A heap of another thread gives NULL with errno=EINVAL (nothing is
 * allocated, xa_heap_realloc leaves p untouched). */
XA_API void* xa_heap_malloc(xa_heap_t* heap, size_t size) XA_ATTR_MALLOC XA_ATTR_ALLOC_SIZE(2);
XA_API void* xa_heap_calloc(xa_heap_t* heap, size_t count, size_t size) XA_ATTR_MALLOC XA_ATTR_ALLOC_SIZE2(2, 3);
XA_API void* xa_heap_realloc(xa_heap_t* heap, void* p, size_t newsize) XA_ATTR_ALLOC_SIZE(3);
XA_API void* xa_heap_malloc_aligned(xa_heap_t* heap, size_t size, size_t alignment) XA_ATTR_MALLOC XA_ATTR_ALLOC_SIZE(2);

/* True iff p points inside a live block (interior pointers count) of a page
 * owned by heap. False for anything else — NULL, stack, globals, other heaps,
 * memory xalloc never managed — and never a crash. Exact when called by the
 * heap's owner thread; from another thread it tells whether p lies inside
 * the used part of one of heap's pages (block liveness is not checked) and
 * may be stale by the time it returns. */
XA_API bool xa_heap_contains(const xa_heap_t* heap, const void* p);

/* Return free pages of heap and take in the frees other threads made to it.
 * force additionally purges (decommits) free memory that can be purged. */
XA_API void xa_heap_collect(xa_heap_t* heap, bool force);

/* Visit every live block of heap with its block size (for a block handed out
 * by xa_malloc_aligned: the start and size of the underlying block, which
 * contains the aligned pointer). Returns true when the
 * walk completed (an empty heap included), false when the visitor returned
 * false. Blocks freed by other threads but not yet collected may still be
 * visited; after xa_heap_collect(heap, true) they are not. The visitor must
 * not allocate from or free into heap. */
typedef bool(xa_block_visit_fun)(const xa_heap_t* heap, void* block, size_t block_size, void* arg);
XA_API bool xa_heap_visit_blocks(const xa_heap_t* heap, xa_block_visit_fun* visitor, void* arg);

/* ---------------------------------------------------------------------------
 * Process and threads
 * ------------------------------------------------------------------------- */

/* Collect the calling thread's heaps and the memory abandoned by exited
 * threads; force also purges free memory back to the OS. */
XA_API void xa_collect(bool force);

/* Do now what thread exit does: delete the calling thread's heaps (live blocks
 * stay valid) and hand its memory over for other threads to reclaim. The
 * thread may allocate again afterwards; it then gets a fresh default heap. */
XA_API void xa_thread_done(void);

/* Do what the process-exit hook does: collect the calling thread's heaps and
 * all abandoned memory, purge free memory, print statistics if
 * XALLOC_SHOW_STATS is set. Idempotent; allocation keeps working afterwards.
 * Never touches heaps of other threads that are still running. */
XA_API void xa_process_done(void);

/* True iff p points into memory xalloc manages (any heap, any thread). */
XA_API bool xa_is_in_heap_region(const void* p);

/* Write the heap profile (option `profile`, docs/profile.md): the sampled
 * allocations that are still live, scaled to estimated counts and bytes, to
 * `path` in pprof's legacy heap-profile text form (with the process's
 * mappings, for symbols), and the same as folded stacks for flame graphs to
 * `path` + ".folded". Replaces both files. 0, or -1 with errno (EINVAL for
 * a NULL or empty path, ENAMETOOLONG, or the error of opening or writing a
 * file). Without `profile` the profile is empty. Never allocates through
 * malloc. */
XA_API int xa_profile_dump(const char* path);

/* ---------------------------------------------------------------------------
 * Options (docs/options.md lists them: show_stats, verbose, purge_delay,
 * purge_mode, purge_thread, segment_cache, arena_reserve, limit, thp,
 * profile, profile_rate)
 *
 * Set at start-up by XALLOC_CONF="name:value,..." and XALLOC_<NAME>
 * variables (which override XALLOC_CONF); at run time by xa_option_set.
 * Names are matched without regard to case.
 * ------------------------------------------------------------------------- */

/* Store the current value of option `name` in *value and return true.
 * Values: bool 0/1; ms (purge_delay, -1 = never); count; size in bytes
 * (arena_reserve -1 = automatic; limit 0 = none, and limit:cgroup reads as the
 * bytes found); a choice's index (show_stats off=0 text=1 json=2, purge_mode
 * dontneed=0 free=1, thp never=0 madvise=1 always=2).
 * Unknown name, NULL name or NULL value -> false, errno=EINVAL. */
XA_API bool xa_option_get(const char* name, long long* value);

/* Set option `name` from the same text its environment variable takes
 * ("50", "2G", "64MiB", "on", "free", "cgroup"; a choice also takes its
 * index, so what xa_option_get answers can be set back) and return true.
 * The new value holds from then on, also over a later re-read of the
 * environment. Errors, with the option left as it was: unknown name, NULL,
 * or a value that does not parse or is out of range -> false, errno=EINVAL;
 * limit "cgroup" without a readable cgroup memory limit -> false, ENOENT;
 * arena_reserve and thp once xalloc has initialised (at the latest in its
 * library constructor, before main) -> false, EPERM: set them in the
 * environment. Nothing is written on stderr. */
XA_API bool xa_option_set(const char* name, const char* value);

/* Print human-readable statistics on stderr. */
XA_API void xa_stats_print(void);

/* The statistics as one JSON object (docs/stats.md: schema_version 1) written
 * into buf like snprintf: never more than size bytes, NUL-terminated when
 * size > 0; returns the length the whole text needs (without the NUL), so a
 * return >= size means it was cut. buf may be NULL when size is 0. Does not
 * call malloc. */
XA_API size_t xa_stats_json(char* buf, size_t size);

/* Version as major*10000 + minor*100 + patch (100 for 0.1.0). */
XA_API int xa_version(void);

#ifdef __cplusplus
}
#endif

#endif /* XALLOC_H */
