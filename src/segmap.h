/* Address map: one bit per 4 MiB chunk of the address space telling whether
 * the chunk starts one of our segments, and one telling whether it lies inside
 * one. free() consults it before reading any segment header, so a foreign
 * pointer is detected instead of dereferenced. */
#ifndef XA_SEGMAP_H
#define XA_SEGMAP_H

#include "config.h"
#include <stdatomic.h>

#define XA_SEGMAP_ADDR_BITS 48
#define XA_SEGMAP_CHUNKS    ((size_t)1 << (XA_SEGMAP_ADDR_BITS - XA_SEGMENT_SHIFT))
#define XA_SEGMAP_WORDS     (XA_SEGMAP_CHUNKS / 64)

XA_INTERNAL extern _Atomic(uint64_t) xa__segmap_start[XA_SEGMAP_WORDS];

/* True when `seg` (4 MiB-aligned) is the base of one of our segments. */
XA_INLINE bool xa__segmap_is_segment(uintptr_t seg) {
  uintptr_t chunk = seg >> XA_SEGMENT_SHIFT;
  if (xa_unlikely(chunk >= XA_SEGMAP_CHUNKS)) return false;
  uint64_t w = atomic_load_explicit(&xa__segmap_start[chunk / 64], memory_order_relaxed);
  return (w >> (chunk % 64)) & 1;
}

/* Register / unregister a segment of `size` bytes at base (4 MiB-aligned).
 * add fails (false) if the range lies beyond the mapped address bits. */
XA_INTERNAL bool xa__segmap_add(uintptr_t base, size_t size);
/* After remove returns, no reader guarded by xa__segmap_read_begin can still
 * be looking at the segment's header: it may be unmapped. */
XA_INTERNAL void xa__segmap_remove(uintptr_t base, size_t size);

/* Base of the segment containing p (any chunk of it, interior pointers of
 * huge segments included), or 0. Call between read_begin/read_end if the
 * caller will read the header of a segment it does not own. */
XA_INTERNAL uintptr_t xa__segmap_find(const void* p);
XA_INTERNAL void xa__segmap_read_begin(void);
XA_INTERNAL void xa__segmap_read_end(void);
/* In a fork child: readers of the parent's other threads do not exist. */
XA_INTERNAL void xa__segmap_fork_child(void);

#endif
