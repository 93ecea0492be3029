/* Realloc of aligned blocks: the content is kept across moves between size
 * kinds. xalloc.h: a block that stays in place keeps its address (and so its
 * alignment); a moved block has the plain alignment of its new size, as with
 * libc realloc.
 */
#include <stdint.h>
#include <string.h>

#include "xalloc.h"
#include "api_util.h"

static void test_realloc_aligned(void) {
  static const size_t aligns[] = {32, 64, 256, 4096, (size_t)64 << 10, (size_t)1 << 20};
  static const size_t targets[] = {10, 200, 5000, 70000, (size_t)600 << 10, (size_t)3 << 20, 48};
  for (size_t ai = 0; ai < sizeof aligns / sizeof aligns[0]; ai++) {
    size_t a = aligns[ai];
    size_t cur = 100;
    unsigned char* p = xa_malloc_aligned(cur, a);
    CHECK(p != NULL && xt_aligned(p, a));
    xt_fill_pos(p, 0, cur, (unsigned)ai);
    int moved = 0;
    for (size_t ti = 0; ti < sizeof targets / sizeof targets[0]; ti++) {
      size_t ns = targets[ti];
      unsigned char* q = xa_realloc(p, ns);
      CHECK_MSG(q != NULL, "align %zu realloc %zu -> %zu", a, cur, ns);
      size_t keep = cur < ns ? cur : ns;
      CHECK_MSG(xt_check_pos(q, keep, (unsigned)ai) == keep, "align %zu realloc %zu -> %zu: content", a, cur, ns);
      moved |= q != p;
      if (!moved) CHECK_MSG(xt_aligned(q, a), "align %zu realloc %zu -> %zu in place: %p", a, cur, ns, (void*)q);
      else CHECK_MSG(xt_aligned(q, ns >= 16 ? 16 : 8), "align %zu realloc %zu -> %zu: %p", a, cur, ns, (void*)q);
      CHECK(xa_usable_size(q) >= ns);
      xt_fill_pos(q, keep, ns, (unsigned)ai);
      p = q;
      cur = ns;
    }
    xa_free(p);
  }

  /* Through a user heap: the content survives and the block lands in it. */
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  unsigned char* p = xa_heap_malloc_aligned(h, 300, 512);
  CHECK(p != NULL && xt_aligned(p, 512));
  xt_fill_pos(p, 0, 300, 5);
  unsigned char* q = xa_heap_realloc(h, p, 90000);
  CHECK(q != NULL);
  CHECK(xt_check_pos(q, 300, 5) == 300);
  CHECK(xa_heap_contains(h, q));
  CHECK(xt_aligned(q, 512));
  xa_free(q);
  xa_heap_delete(h);
}

int main(void) {
  test_realloc_aligned();
  return 0;
}
