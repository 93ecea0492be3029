/* xa_realloc: NULL acts as malloc, content is kept across growth and
 * shrinking (whether or not the block moves), and realloc(p, 0) frees p and
 * returns what xa_malloc(0) returns (a unique non-NULL pointer).
 */
#include <stdint.h>
#include <string.h>

#include "xalloc.h"
#include "api_util.h"

static void test_null_is_malloc(void) {
  static const size_t sizes[] = {0, 1, 15, 16, 100, 5000, 100000, (size_t)700 << 10, (size_t)2 << 20};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    unsigned char* p = xa_realloc(NULL, sizes[i]);
    CHECK_MSG(p != NULL, "realloc(NULL, %zu)", sizes[i]);
    size_t u = xa_usable_size(p);
    CHECK(u >= sizes[i]);
    xt_fill(p, u, i);
    CHECK(xt_check(p, u, i));
    CHECK(xa_heap_contains(xa_heap_get_default(), p));
    xa_free(p);
  }
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    unsigned char* p = xa_heap_realloc(h, NULL, sizes[i]);
    CHECK(p != NULL);
    CHECK(xa_usable_size(p) >= sizes[i]);
    CHECK(xa_heap_contains(h, p));
    xa_free(p);
  }
  xa_heap_delete(h);
}

/* Grow from 1 byte to `limit` in steps, checking the kept prefix after each
 * step. With `blockers`, a small block is allocated after every step so the
 * block often cannot grow in place and has to move. */
static void grow_and_shrink(size_t limit, bool blockers, unsigned seed) {
  void* blk[512];
  size_t nblk = 0;
  size_t cur = 1;
  unsigned char* p = xa_realloc(NULL, cur);
  CHECK(p != NULL);
  xt_fill_pos(p, 0, cur, seed);
  while (cur < limit) {
    size_t ns = cur + cur / 6 + 1;
    if (ns > limit) ns = limit;
    unsigned char* q = xa_realloc(p, ns);
    CHECK_MSG(q != NULL, "grow %zu -> %zu", cur, ns);
    CHECK(xa_usable_size(q) >= ns);
    size_t bad = xt_check_pos(q, cur, seed);
    CHECK_MSG(bad == cur, "grow %zu -> %zu (%s): byte %zu differs", cur, ns, q == p ? "in place" : "moved", bad);
    xt_fill_pos(q, cur, ns, seed);
    p = q;
    cur = ns;
    if (blockers && nblk < sizeof blk / sizeof blk[0]) {
      blk[nblk] = xa_malloc(24);
      CHECK(blk[nblk] != NULL);
      memset(blk[nblk], 0x3C, 24);
      nblk++;
    }
  }
  CHECK(xt_check_pos(p, cur, seed) == cur);
  /* Shrink back down: the prefix stays. */
  while (cur > 1) {
    size_t ns = cur - cur / 5 - 1;
    if (ns < 1) ns = 1;
    unsigned char* q = xa_realloc(p, ns);
    CHECK_MSG(q != NULL, "shrink %zu -> %zu", cur, ns);
    CHECK(xa_usable_size(q) >= ns);
    size_t bad = xt_check_pos(q, ns, seed);
    CHECK_MSG(bad == ns, "shrink %zu -> %zu: byte %zu differs", cur, ns, bad);
    p = q;
    cur = ns;
  }
  xa_free(p);
  for (size_t i = 0; i < nblk; i++) {
    CHECK(xt_all_bytes(blk[i], 24, 0x3C));
    xa_free(blk[i]);
  }
}

static void test_content(void) {
  grow_and_shrink((size_t)1 << 20, false, 1);
  grow_and_shrink((size_t)1 << 20, true, 2);
  grow_and_shrink((size_t)6 << 20, true, 3);

  /* Direct jumps between size kinds (small <-> medium <-> large <-> huge). */
  static const size_t seq[] = {5,      40000,  8,      (size_t)1 << 20, 300,   (size_t)5 << 20, 70000,
                               (size_t)600 << 10, 17, (size_t)3 << 20, 9000,  1,    200000, 64};
  size_t cur = 3000;
  unsigned char* p = xa_malloc(cur);
  CHECK(p != NULL);
  xt_fill_pos(p, 0, cur, 4);
  for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
    size_t ns = seq[i];
    unsigned char* q = xa_realloc(p, ns);
    CHECK_MSG(q != NULL, "%zu -> %zu", cur, ns);
    size_t keep = cur < ns ? cur : ns;
    CHECK_MSG(xt_check_pos(q, keep, 4) == keep, "%zu -> %zu: content", cur, ns);
    xt_fill_pos(q, keep, ns, 4);
    p = q;
    cur = ns;
  }
  xa_free(p);

  /* xa_reallocarray without overflow behaves like realloc(count*size). */
  p = xa_reallocarray(NULL, 10, 10);
  CHECK(p != NULL);
  xt_fill_pos(p, 0, 100, 6);
  unsigned char* q = xa_reallocarray(p, 1000, 10);
  CHECK(q != NULL && xa_usable_size(q) >= 10000);
  CHECK(xt_check_pos(q, 100, 6) == 100);
  xa_free(q);
}

static int cmp_ptr(const void* a, const void* b) {
  uintptr_t x = (uintptr_t)*(void* const*)a, y = (uintptr_t)*(void* const*)b;
  return x < y ? -1 : x > y;
}

static void test_realloc_zero(void) {
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  xa_heap_t* def = xa_heap_get_default();
  CHECK(def != h);

  enum { N = 100 };
  void* zs[N];
  static const size_t from[] = {0, 1, 24, 1000, 20000, 300000, (size_t)2 << 20};
  for (int i = 0; i < N; i++) {
    size_t s = from[(size_t)i % (sizeof from / sizeof from[0])];
    unsigned char* p = xa_heap_malloc(h, s);
    CHECK(p != NULL);
    CHECK(xa_heap_contains(h, p));
    memset(p, 0x77, s);
    void* z = xa_realloc(p, 0);
    /* Like xa_malloc(0): non-NULL, from the default heap. */
    CHECK_MSG(z != NULL, "realloc(%zu-byte block, 0)", s);
    CHECK(xa_heap_contains(def, z));
    CHECK(!xa_heap_contains(h, z));
    /* p was freed: once h has taken in its frees, p is no live block of it. */
    xa_heap_collect(h, true);
    CHECK_MSG(!xa_heap_contains(h, p), "block of %zu bytes still live after realloc(p, 0)", s);
    zs[i] = z;
  }
  /* The zero-size results are unique. */
  void* sorted[N];
  memcpy(sorted, zs, sizeof sorted);
  qsort(sorted, N, sizeof(void*), cmp_ptr);
  for (int i = 1; i < N; i++) CHECK(sorted[i] != sorted[i - 1]);
  /* h holds nothing any more. */
  for (int i = 0; i < N; i++) xa_free(zs[i]);
  xa_heap_destroy(h);

  /* realloc of a zero-size block to 0 and back up. */
  void* z = xa_malloc(0);
  CHECK(z != NULL);
  void* z2 = xa_realloc(z, 0);
  CHECK(z2 != NULL);
  unsigned char* g = xa_realloc(z2, 50);
  CHECK(g != NULL && xa_usable_size(g) >= 50);
  memset(g, 1, 50);
  xa_free(g);
}

int main(void) {
  test_null_is_malloc();
  test_content();
  test_realloc_zero();
  return 0;
}
