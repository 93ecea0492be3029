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

/* Two levels, so that the map costs address space only where segments are
 * (16 KiB of pointers, and 8 KiB per 128 GiB that holds a segment) instead
 * of 16 MiB up front: under an address-space limit (RLIMIT_AS) every mapped
 * byte counts, untouched or not. A leaf is mapped on first use and never
 * given back, so a reader may use any leaf it sees. */
#define XA_SEGMAP_LEAF_SHIFT 15  /* chunks per leaf: 128 GiB of address space */
#define XA_SEGMAP_LEAF_CHUNKS ((size_t)1 << XA_SEGMAP_LEAF_SHIFT)
#define XA_SEGMAP_LEAVES    (XA_SEGMAP_CHUNKS >> XA_SEGMAP_LEAF_SHIFT)

typedef struct xa_segmap_leaf_s {
  _Atomic(uint64_t) start[XA_SEGMAP_LEAF_CHUNKS / 64];   /* chunk starts a segment */
  _Atomic(uint64_t) inside[XA_SEGMAP_LEAF_CHUNKS / 64];  /* chunk lies in a segment */
} xa_segmap_leaf_t;

XA_INTERNAL extern _Atomic(xa_segmap_leaf_t*) xa__segmap_leaves[XA_SEGMAP_LEAVES];

/* True when `seg` (4 MiB-aligned) is the base of one of our segments. */
XA_INLINE bool xa__segmap_is_segment(uintptr_t seg) {
  uintptr_t chunk = seg >> XA_SEGMENT_SHIFT;
  if (xa_unlikely(chunk >= XA_SEGMAP_CHUNKS)) return false;
  xa_segmap_leaf_t* leaf = atomic_load_explicit(&xa__segmap_leaves[chunk >> XA_SEGMAP_LEAF_SHIFT], memory_order_acquire);
  if (xa_unlikely(leaf == NULL)) return false;
  chunk &= XA_SEGMAP_LEAF_CHUNKS - 1;
  uint64_t w = atomic_load_explicit(&leaf->start[chunk / 64], memory_order_relaxed);
  return (w >> (chunk % 64)) & 1;
}

/* Register / unregister a segment of `size` bytes at base (4 MiB-aligned).
 * add fails (false) if the range lies beyond the mapped address bits, or a
 * leaf of the map cannot be mapped. */
XA_INTERNAL bool xa__segmap_add(uintptr_t base, size_t size);
/* After remove returns, no reader guarded by xa__segmap_read_begin can still
 * be looking at the segment's header: it may be unmapped. */
XA_INTERNAL void xa__segmap_remove(uintptr_t base, size_t size);

/* A segment at base shrank from old_size to new_size bytes (same base): the
 * chunks it no longer reaches are not inside it any more. Its header stays
 * mapped, so readers need not be waited for. */
XA_INTERNAL void xa__segmap_shrink(uintptr_t base, size_t old_size, size_t new_size);

/* Base of the segment whose chunks contain p (any chunk of it, interior
 * pointers of huge segments included), or 0. A huge segment's mapping may
 * end before its last chunk does: compare p with the segment's size where
 * that matters. Call between read_begin/read_end if the caller will read
 * the header of a segment it does not own. */
XA_INTERNAL uintptr_t xa__segmap_find(const void* p);
XA_INTERNAL void xa__segmap_read_begin(void);
XA_INTERNAL void xa__segmap_read_end(void);
/* In a fork child: readers of the parent's other threads do not exist. */
XA_INTERNAL void xa__segmap_fork_child(void);

#endif
