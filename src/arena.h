/* The arena: one reserved address range from which standard (4 MiB)
 * segments are carved. Chunks of it that were ever handed out stay readable
 * for the life of the process (released segments are purged, not unmapped),
 * so free's fast path can tell "one of our segments, safe to read its header"
 * with a single range compare. Segments outside the arena (huge ones, or all
 * of them if the reservation failed) are still found through the segmap. */
#ifndef XA_ARENA_H
#define XA_ARENA_H

#include "config.h"
#include <stdatomic.h>

XA_INTERNAL extern _Atomic(uintptr_t) xa__arena_base;      /* set once, before readable grows */
XA_INTERNAL extern _Atomic(size_t) xa__arena_readable;     /* bytes from base; only grows */

/* p lies in the readable part of the arena (a header there may be read).
 * readable is loaded first (acquire): a non-zero value guarantees the base
 * that goes with it (with readable 0 nothing is inside, whatever the base). */
XA_INLINE bool xa__in_arena(const void* p) {
  size_t readable = atomic_load_explicit(&xa__arena_readable, memory_order_acquire);
  return (uintptr_t)p - atomic_load_explicit(&xa__arena_base, memory_order_relaxed) < readable;
}

/* A zeroed, usable 4 MiB segment from the arena, or NULL (no arena, full). */
XA_INTERNAL void* xa__arena_segment_alloc(bool* zeroed);
/* Give a segment back: purged, stays readable. False if not arena memory. */
XA_INTERNAL bool xa__arena_segment_free(void* seg);

/* Bytes of address space reserved for the arena (0: none, or not yet). */
XA_INTERNAL size_t xa__arena_reserved(void);

XA_INTERNAL void xa__arena_fork_child(void);

#endif
