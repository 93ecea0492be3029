/* OS layer: aligned allocation, purge (memory reads as zero afterwards and
 * leaves the RSS), reservation made usable in parts, page size. */
#include <string.h>
#include "os.h"
#include "xa_test.h"

int main(void) {
  size_t ps = xa__os_page_size();
  CHECK(ps >= 4096 && (ps & (ps - 1)) == 0);
  for (size_t align = ps; align <= ((size_t)64 << 20); align *= 4) {
    size_t size = align + 3 * ps;
    unsigned char* p = xa__os_alloc_aligned(size, align);
    CHECK_MSG(p != NULL, "align %zu", align);
    CHECK(((uintptr_t)p & (align - 1)) == 0);
    for (size_t i = 0; i < size; i += ps) CHECK(p[i] == 0);
    memset(p, 0xAB, size);
    xa__os_free(p, size);
  }
  /* purge: contents dropped, RSS falls */
  size_t size = (size_t)32 << 20;
  unsigned char* p = xa__os_alloc_aligned(size, ps);
  CHECK(p != NULL);
  size_t rss0 = xa__os_rss();
  memset(p, 0x5A, size);
  size_t rss1 = xa__os_rss();
  CHECK_MSG(rss1 >= rss0 + size / 2, "touching 32 MiB moved the RSS from %zu to %zu", rss0, rss1);
  CHECK(xa__os_purge(p, size));
  size_t rss2 = xa__os_rss();
  CHECK_MSG(rss2 + size / 2 <= rss1, "purge left the RSS at %zu (was %zu)", rss2, rss1);
  for (size_t i = 0; i < size; i += ps) CHECK(p[i] == 0);
  CHECK(xa__os_commit(p, size));
  p[0] = 1;
  xa__os_free(p, size);
  /* a reservation becomes usable piece by piece */
  unsigned char* r = xa__os_reserve((size_t)1 << 30, XA_SEGMENT_SIZE);
  CHECK(r != NULL && ((uintptr_t)r & XA_SEGMENT_MASK) == 0);
  CHECK(xa__os_make_usable(r, XA_SEGMENT_SIZE));
  memset(r, 1, XA_SEGMENT_SIZE);
  CHECK(xa__os_make_usable(r + XA_SEGMENT_SIZE, XA_SEGMENT_SIZE));
  CHECK(r[XA_SEGMENT_SIZE] == 0);
  xa__os_free(r, (size_t)1 << 30);
  /* nonsense sizes are refused, not crashed on */
  CHECK(xa__os_alloc_aligned(0, ps) == NULL);
  CHECK(xa__os_alloc_aligned(SIZE_MAX - ps, ps) == NULL);
  return 0;
}
