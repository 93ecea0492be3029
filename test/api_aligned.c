/* xa_malloc_aligned / xa_heap_malloc_aligned: every power of two from 1 to
 * 1 MiB with sizes around the alignment; runs of many blocks whose size equals
 * their alignment (lifecycle-pitfalls.md 4: small pages starting at an offset
 * that is not a multiple of the block size gave 256-byte blocks only 128-byte
 * alignment). Realloc of aligned blocks: api_aligned_realloc.c.
 */
#include <stdint.h>
#include <string.h>

#include "xalloc.h"
#include "api_util.h"

static void check_aligned_block(void* p, size_t size, size_t align, uint64_t salt) {
  CHECK_MSG(p != NULL, "size %zu align %zu", size, align);
  CHECK_MSG(xt_aligned(p, align), "size %zu align %zu: %p", size, align, p);
  size_t u = xa_usable_size(p);
  CHECK_MSG(u >= size, "size %zu align %zu: usable %zu", size, align, u);
  CHECK(xa_is_in_heap_region(p));
  xt_fill(p, u, salt);
}

static void test_all_alignments(void) {
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  for (unsigned sh = 0; sh <= 20; sh++) {
    size_t a = (size_t)1 << sh;
    const size_t sizes[] = {a, 1, a - 1, a + 1, 3 * a, 7, 100, 1003, 12345, 2 * a + 24, 0};
    const size_t nsizes = sizeof sizes / sizeof sizes[0];
    enum { PER = 3 };
    void* ps[sizeof sizes / sizeof sizes[0]][PER];
    for (size_t i = 0; i < nsizes; i++) {
      for (int k = 0; k < PER; k++) {
        ps[i][k] = xa_malloc_aligned(sizes[i], a);
        check_aligned_block(ps[i][k], sizes[i], a, (uint64_t)(i * PER + (size_t)k));
        CHECK_MSG(xa_heap_contains(xa_heap_get_default(), ps[i][k]), "size %zu align %zu: %p (usable %zu)",
                  sizes[i], a, ps[i][k], xa_usable_size(ps[i][k]));
      }
    }
    /* All still intact after the neighbours were written. */
    for (size_t i = 0; i < nsizes; i++)
      for (int k = 0; k < PER; k++)
        CHECK_MSG(xt_check(ps[i][k], xa_usable_size(ps[i][k]), (uint64_t)(i * PER + (size_t)k)),
                  "align %zu size %zu", a, sizes[i]);
    for (size_t i = 0; i < nsizes; i++)
      for (int k = 0; k < PER; k++) xa_free(ps[i][k]);

    /* Same from a user heap. */
    for (size_t i = 0; i < nsizes; i++) {
      void* p = xa_heap_malloc_aligned(h, sizes[i], a);
      check_aligned_block(p, sizes[i], a, 77);
      CHECK(xa_heap_contains(h, p));
      CHECK(xt_check(p, xa_usable_size(p), 77));
      xa_free(p);
    }
  }
  xa_heap_delete(h);
}

static int cmp_ptr(const void* a, const void* b) {
  uintptr_t x = (uintptr_t)*(void* const*)a, y = (uintptr_t)*(void* const*)b;
  return x < y ? -1 : x > y;
}

/* n blocks of `size` aligned to `align` in a row: all aligned, none
 * overlapping, all content intact. heap NULL means xa_malloc_aligned. */
static void run_of_aligned(xa_heap_t* heap, size_t n, size_t size, size_t align) {
  void** ps = xa_malloc(n * sizeof(void*));
  void** sorted = xa_malloc(n * sizeof(void*));
  CHECK(ps != NULL && sorted != NULL);
  for (size_t i = 0; i < n; i++) {
    ps[i] = heap != NULL ? xa_heap_malloc_aligned(heap, size, align) : xa_malloc_aligned(size, align);
    CHECK_MSG(ps[i] != NULL, "block %zu of size %zu align %zu", i, size, align);
    CHECK_MSG(xt_aligned(ps[i], align), "block %zu of size %zu align %zu: %p", i, size, align, ps[i]);
    if (heap != NULL) CHECK(xa_heap_contains(heap, ps[i]));
    xt_fill(ps[i], size, (uint64_t)i);
  }
  memcpy(sorted, ps, n * sizeof(void*));
  qsort(sorted, n, sizeof(void*), cmp_ptr);
  for (size_t i = 1; i < n; i++)
    CHECK_MSG((uintptr_t)sorted[i - 1] + size <= (uintptr_t)sorted[i], "overlap %p %p size %zu", sorted[i - 1],
              sorted[i], size);
  for (size_t i = 0; i < n; i++) CHECK_MSG(xt_check(ps[i], size, (uint64_t)i), "block %zu size %zu", i, size);
  for (size_t i = 0; i < n; i++) xa_free(ps[i]);
  xa_free(ps);
  xa_free(sorted);
}

static void test_runs(void) {
  /* The exact shape of the pitfall: 200 blocks of 256 bytes aligned to 256. */
  run_of_aligned(NULL, 200, 256, 256);
  /* Size == alignment for every power of two up to 64 KiB, and twice it. */
  for (size_t a = 8; a <= ((size_t)64 << 10); a *= 2) {
    size_t n = a <= 4096 ? 200 : 40;
    run_of_aligned(NULL, n, a, a);
    run_of_aligned(NULL, n / 2, 2 * a, a);
    run_of_aligned(NULL, n / 2, a / 2 + 8, a);
  }
  /* Interleaved with plain allocations of the same size, so aligned
   * requests are served from pages that plain blocks also use. */
  for (size_t a = 16; a <= 4096; a *= 2) {
    void* plain[50];
    for (int i = 0; i < 50; i++) {
      plain[i] = xa_malloc(a);
      CHECK(plain[i] != NULL);
    }
    run_of_aligned(NULL, 100, a, a);
    for (int i = 0; i < 50; i++) xa_free(plain[i]);
  }
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  run_of_aligned(h, 200, 256, 256);
  for (size_t a = 8; a <= ((size_t)64 << 10); a *= 4) run_of_aligned(h, a <= 4096 ? 200 : 40, a, a);
  run_of_aligned(h, 20, (size_t)1 << 20, (size_t)1 << 20);
  xa_heap_destroy(h);
}

int main(void) {
  test_all_alignments();
  test_runs();
  return 0;
}
