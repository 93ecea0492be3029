/* Failure answers of the allocation functions: NULL with errno set (ENOMEM for
 * sizes that cannot be served, EINVAL for an invalid alignment), never a crash,
 * and the original block of a failed realloc left untouched.
 * (lifecycle-pitfalls.md 4: errno left at 0 on failure.)
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "xalloc.h"
#include "api_util.h"

/* Sizes go through volatile variables so the compiler neither warns about
 * (alloc_size) nor folds the calls. */
static volatile size_t v_size_max = SIZE_MAX;
static volatile size_t v_ptrdiff_max = (size_t)PTRDIFF_MAX;

static size_t opaque(size_t x) {
  volatile size_t v = x;
  return v;
}

#define EXPECT_FAIL(call, err)                                                   \
  do {                                                                           \
    errno = 0;                                                                   \
    void* r_ = (void*)(call);                                                    \
    int e_ = errno;                                                              \
    CHECK_MSG(r_ == NULL, "%s returned %p, expected NULL", #call, r_);           \
    CHECK_MSG(e_ == (err), "%s: errno %d, expected %d", #call, e_, (err));       \
  } while (0)

static void test_malloc_too_big(void) {
  size_t smax = v_size_max, pmax = v_ptrdiff_max;
  EXPECT_FAIL(xa_malloc(smax), ENOMEM);
  EXPECT_FAIL(xa_malloc(pmax + 1), ENOMEM);
  EXPECT_FAIL(xa_malloc(smax - 4096), ENOMEM);
  /* Within PTRDIFF_MAX but beyond any address space: the OS refuses, and
   * the failure must still be reported as ENOMEM. */
  EXPECT_FAIL(xa_malloc(pmax), ENOMEM);
  EXPECT_FAIL(xa_malloc(pmax / 2 + 1), ENOMEM);

  /* Same through an explicit heap, and the default heap via NULL. */
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  EXPECT_FAIL(xa_heap_malloc(h, smax), ENOMEM);
  EXPECT_FAIL(xa_heap_malloc(h, pmax + 1), ENOMEM);
  EXPECT_FAIL(xa_heap_malloc(NULL, smax), ENOMEM);
  xa_heap_delete(h);

  /* Allocation still works after the failures. */
  void* p = xa_malloc(100);
  CHECK(p != NULL);
  memset(p, 1, 100);
  xa_free(p);
}

static void test_calloc_overflow(void) {
  size_t smax = v_size_max, pmax = v_ptrdiff_max;
  EXPECT_FAIL(xa_calloc(smax / 2 + 1, 2), ENOMEM);
  EXPECT_FAIL(xa_calloc(2, smax / 2 + 1), ENOMEM);
  EXPECT_FAIL(xa_calloc(opaque((size_t)1 << 32), opaque((size_t)1 << 32)), ENOMEM);
  EXPECT_FAIL(xa_calloc(smax, smax), ENOMEM);
  EXPECT_FAIL(xa_calloc(smax, 2), ENOMEM);
  /* No overflow, but the product exceeds PTRDIFF_MAX. */
  EXPECT_FAIL(xa_calloc(pmax / 2 + 1, 2), ENOMEM);
  EXPECT_FAIL(xa_calloc(1, pmax + 1), ENOMEM);

  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  EXPECT_FAIL(xa_heap_calloc(h, smax / 2 + 1, 2), ENOMEM);
  EXPECT_FAIL(xa_heap_calloc(h, opaque((size_t)1 << 33), opaque((size_t)1 << 33)), ENOMEM);
  xa_heap_delete(h);

  /* calloc(0, x) and calloc(x, 0) are not failures. */
  void* a = xa_calloc(0, smax);
  CHECK(a != NULL);
  void* b = xa_calloc(smax, 0);
  CHECK(b != NULL);
  CHECK(a != b);
  xa_free(a);
  xa_free(b);
}

static void test_realloc_fail_keeps_block(void) {
  size_t smax = v_size_max, pmax = v_ptrdiff_max;
  const size_t n = 100;

  unsigned char* p = xa_malloc(n);
  CHECK(p != NULL);
  xt_fill_pos(p, 0, n, 3);

  EXPECT_FAIL(xa_reallocarray(p, smax / 2 + 1, 2), ENOMEM);
  CHECK(xt_check_pos(p, n, 3) == n);
  EXPECT_FAIL(xa_reallocarray(p, opaque((size_t)1 << 32), opaque((size_t)1 << 32)), ENOMEM);
  CHECK(xt_check_pos(p, n, 3) == n);
  EXPECT_FAIL(xa_reallocarray(p, 2, smax), ENOMEM);
  CHECK(xt_check_pos(p, n, 3) == n);
  EXPECT_FAIL(xa_reallocarray(p, pmax / 2 + 1, 2), ENOMEM);
  CHECK(xt_check_pos(p, n, 3) == n);
  EXPECT_FAIL(xa_realloc(p, smax), ENOMEM);
  CHECK(xt_check_pos(p, n, 3) == n);
  EXPECT_FAIL(xa_realloc(p, pmax + 1), ENOMEM);
  CHECK(xt_check_pos(p, n, 3) == n);
  EXPECT_FAIL(xa_realloc(p, pmax), ENOMEM);
  CHECK(xt_check_pos(p, n, 3) == n);

  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  EXPECT_FAIL(xa_heap_realloc(h, p, smax), ENOMEM);
  CHECK(xt_check_pos(p, n, 3) == n);
  EXPECT_FAIL(xa_heap_realloc(h, p, pmax + 1), ENOMEM);
  CHECK(xt_check_pos(p, n, 3) == n);

  /* The block is still a live, usable block: usable size unchanged in
   * meaning, and a valid reallocarray still works on it. */
  CHECK(xa_usable_size(p) >= n);
  unsigned char* q = xa_reallocarray(p, 10, 30);
  CHECK(q != NULL);
  CHECK(xa_usable_size(q) >= 300);
  CHECK(xt_check_pos(q, n, 3) == n);
  xa_free(q);

  /* NULL input with an overflowing count behaves like a failing malloc. */
  EXPECT_FAIL(xa_reallocarray(NULL, smax / 2 + 1, 2), ENOMEM);
  EXPECT_FAIL(xa_realloc(NULL, smax), ENOMEM);

  /* A large block (not only small ones) also survives a failed realloc. */
  const size_t big = (size_t)3 << 20;
  unsigned char* L = xa_malloc(big);
  CHECK(L != NULL);
  xt_fill_pos(L, 0, big, 9);
  EXPECT_FAIL(xa_realloc(L, pmax), ENOMEM);
  EXPECT_FAIL(xa_reallocarray(L, smax / 4, 8), ENOMEM);
  CHECK(xt_check_pos(L, big, 9) == big);
  xa_free(L);

  xa_heap_delete(h);
}

static void test_bad_alignment(void) {
  static const size_t bad[] = {0, 3, 5, 6, 7, 9, 12, 24, 48, 96, 100, 1000, 4097, ((size_t)1 << 20) + 1,
                               ((size_t)1 << 20) * 3, SIZE_MAX};
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t a = bad[i];
    EXPECT_FAIL(xa_malloc_aligned(64, a), EINVAL);
    EXPECT_FAIL(xa_malloc_aligned(1, a), EINVAL);
    EXPECT_FAIL(xa_malloc_aligned(0, a), EINVAL);
    EXPECT_FAIL(xa_heap_malloc_aligned(h, 64, a), EINVAL);
    EXPECT_FAIL(xa_heap_malloc_aligned(NULL, 64, a), EINVAL);
  }
  xa_heap_delete(h);
}

static void test_aligned_too_big(void) {
  size_t smax = v_size_max, pmax = v_ptrdiff_max;
  /* Valid alignment, impossible size. */
  EXPECT_FAIL(xa_malloc_aligned(smax, 16), ENOMEM);
  EXPECT_FAIL(xa_malloc_aligned(pmax + 1, 8), ENOMEM);
  EXPECT_FAIL(xa_malloc_aligned(smax - 100, 4096), ENOMEM);
  /* 2^63 is a power of two far beyond half of any address space. */
  EXPECT_FAIL(xa_malloc_aligned(64, (size_t)1 << 63), ENOMEM);
  EXPECT_FAIL(xa_malloc_aligned(64, (size_t)1 << 62), ENOMEM);

  /* Huge but maybe-possible alignments: success (aligned, usable) or NULL
   * with ENOMEM — never NULL with errno untouched. */
  static const unsigned shifts[] = {30, 34, 40, 46};
  for (size_t i = 0; i < sizeof shifts / sizeof shifts[0]; i++) {
#if XT_UNDER_TSAN
    /* ThreadSanitizer aborts the process when an mmap result lies outside its
     * application ranges, which a multi-TiB reservation does. */
    if (shifts[i] >= 40) continue;
#endif
    size_t a = (size_t)1 << shifts[i];
    errno = 0;
    unsigned char* p = xa_malloc_aligned(64, a);
    int e = errno;
    if (p == NULL) {
      CHECK_MSG(e == ENOMEM, "alignment 2^%u: NULL with errno %d", shifts[i], e);
    } else {
      CHECK_MSG(xt_aligned(p, a), "alignment 2^%u: %p", shifts[i], (void*)p);
      CHECK(xa_usable_size(p) >= 64);
      memset(p, 0x5A, 64);
      CHECK(xt_all_bytes(p, 64, 0x5A));
      CHECK(xa_is_in_heap_region(p));
      xa_free(p);
    }
  }
}

int main(void) {
  test_malloc_too_big();
  test_calloc_overflow();
  test_realloc_fail_keeps_block();
  test_bad_alignment();
  test_aligned_too_big();
  return 0;
}
