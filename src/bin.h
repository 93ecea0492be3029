/* Size classes. Bins 1..8: 16, 32, 48, ..., 128 bytes (16-byte steps keep
 * every block 16-aligned; no block is smaller than 16 bytes because a free
 * block carries its list link and the double-free mark, see types.h).
 * Bins 9..104: 8 bins per doubling from 144 B to 512 KiB, so internal waste
 * stays under 12.5%. Bin 105 (XA_BIN_HUGE) holds huge blocks, one per
 * segment. */
#ifndef XA_BIN_H
#define XA_BIN_H

#include "config.h"
#include "types.h"

XA_INLINE size_t xa__bin_of(size_t size) {
  if (size <= 16) return 1;
  if (size <= 128) return (size + 15) >> 4;
  if (size > XA_LARGE_MAX) return XA_BIN_HUGE;
  size_t w = size - 1;
  size_t b = 63 - (size_t)__builtin_clzll(w);        /* 7 .. 18 */
  return 9 + (b - 7) * 8 + ((w >> (b - 3)) & 7);
}

XA_INLINE size_t xa__bin_size(size_t bin) {
  if (bin <= 8) return bin <= 1 ? 16 : bin * 16;
  size_t k = bin - 9;
  return (9 + (k % 8)) << (k / 8 + 4);
}

XA_INLINE xa_kind_t xa__bin_kind(size_t bin) {
  size_t bs = xa__bin_size(bin);
  if (bin >= XA_BIN_HUGE) return XA_KIND_HUGE;
  if (bs <= XA_SMALL_MAX) return XA_KIND_SMALL;
  if (bs <= XA_MEDIUM_MAX) return XA_KIND_MEDIUM;
  return XA_KIND_LARGE;
}

#endif
