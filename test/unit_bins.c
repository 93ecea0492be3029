/* Size classes: every size maps to a bin whose block holds it; block sizes
 * grow strictly; blocks are multiples of 16 (16-byte alignment);
 * above 128 bytes the internal waste stays under 12.5%; page kinds hold at
 * least 7 blocks. */
#include "bin.h"
#include "xa_test.h"

int main(void) {
  size_t prev = 0;
  for (size_t b = 1; b < XA_BIN_HUGE; b++) {
    size_t bs = xa__bin_size(b);
    CHECK_MSG(bs > prev, "bin %zu size %zu after %zu", b, bs, prev);
    CHECK_MSG(xa__bin_of(bs) == b, "bin_of(bin_size(%zu)) = %zu", b, xa__bin_of(bs));
    CHECK_MSG(bs % 16 == 0, "bin %zu size %zu not a multiple of 16", b, bs);
    prev = bs;
  }
  CHECK(xa__bin_size(XA_BIN_HUGE - 1) == XA_LARGE_MAX);
  CHECK(xa__bin_of(XA_LARGE_MAX + 1) == XA_BIN_HUGE);
  /* No block is smaller than 16 bytes: a free block holds a link and the
   * double-free mark. */
  CHECK(xa__bin_size(1) == 16);
  CHECK(xa__bin_of(0) == 1 && xa__bin_of(1) == 1 && xa__bin_of(16) == 1 && xa__bin_of(17) == 2);
  CHECK(xa__bin_of(128) == 8 && xa__bin_of(129) == 9 && xa__bin_size(9) == 144);
  for (size_t size = 0; size <= XA_LARGE_MAX; size += (size < 4096 ? 1 : 97)) {
    size_t b = xa__bin_of(size);
    size_t bs = xa__bin_size(b);
    CHECK_MSG(bs >= size, "size %zu in bin %zu of %zu", size, b, bs);
    CHECK_MSG(b == 1 || xa__bin_size(b - 1) < size || size == 0, "size %zu not in the smallest bin", size);
    if (size > 128) CHECK_MSG((bs - size) * 8 < size, "size %zu wastes %zu of %zu", size, bs - size, bs);
    /* the direct table groups sizes by 8: all sizes of a group share a bin */
    if (size <= XA_DIRECT_MAX) CHECK(xa__bin_of((size + 7) / 8 * 8) == b || size == 0);
  }
  /* kinds: enough blocks per page */
  for (size_t b = 1; b < XA_BIN_HUGE; b++) {
    size_t bs = xa__bin_size(b);
    xa_kind_t k = xa__bin_kind(b);
    size_t page = k == XA_KIND_SMALL ? ((size_t)1 << XA_SMALL_PAGE_SHIFT)
                : k == XA_KIND_MEDIUM ? ((size_t)1 << XA_MEDIUM_PAGE_SHIFT) : XA_SEGMENT_SIZE;
    CHECK_MSG((page - XA_SEGMENT_HEADER) / bs >= 7, "bin %zu: %zu-byte blocks in %zu-byte pages", b, bs, page);
  }
  CHECK(xa__bin_kind(XA_BIN_HUGE) == XA_KIND_HUGE);
  return 0;
}
