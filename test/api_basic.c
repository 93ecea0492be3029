/* Plain allocation basics: zero-size blocks, usable size, writability of the
 * whole usable size, and the alignment of plain blocks.
 */
#include <stdint.h>
#include <string.h>

#include "xalloc.h"
#include "api_util.h"

static int cmp_ptr(const void* a, const void* b) {
  uintptr_t x = (uintptr_t)*(void* const*)a, y = (uintptr_t)*(void* const*)b;
  return x < y ? -1 : x > y;
}

/* All n pointers non-NULL and pairwise distinct. */
static void check_distinct(void** ps, size_t n) {
  void** sorted = xa_malloc(n * sizeof(void*));
  CHECK(sorted != NULL);
  memcpy(sorted, ps, n * sizeof(void*));
  qsort(sorted, n, sizeof(void*), cmp_ptr);
  for (size_t i = 0; i < n; i++) CHECK(sorted[i] != NULL);
  for (size_t i = 1; i < n; i++) CHECK_MSG(sorted[i] != sorted[i - 1], "duplicate pointer %p", sorted[i]);
  xa_free(sorted);
}

/* xa_malloc(0) and xa_heap_malloc(h, 0): unique non-NULL pointers that must
 * be freed; whatever usable size they report is writable without touching
 * the other zero-size blocks. */
static void test_zero_size(void) {
  enum { N = 100 };
  void* ps[N];
  for (int i = 0; i < N; i++) {
    ps[i] = xa_malloc(0);
    CHECK(ps[i] != NULL);
    CHECK(xt_aligned(ps[i], 8));
  }
  check_distinct(ps, N);
  /* Writing the usable bytes of one zero-size block must not disturb
   * the others. */
  for (int i = 0; i < N; i++) {
    size_t u = xa_usable_size(ps[i]);
    memset(ps[i], (unsigned char)i, u);
  }
  for (int i = 0; i < N; i++) {
    CHECK(xt_all_bytes(ps[i], xa_usable_size(ps[i]), (unsigned char)i));
  }
  for (int i = 0; i < N; i++) xa_free(ps[i]);

  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  for (int i = 0; i < N; i++) {
    ps[i] = xa_heap_malloc(h, 0);
    CHECK(ps[i] != NULL);
    CHECK(xa_heap_contains(h, ps[i]));
  }
  check_distinct(ps, N);
  for (int i = 0; i < N; i++) xa_free(ps[i]);

  /* A NULL heap is the default heap. */
  for (int i = 0; i < N; i++) {
    ps[i] = xa_heap_malloc(NULL, 0);
    CHECK(ps[i] != NULL);
    CHECK(xa_heap_contains(xa_heap_get_default(), ps[i]));
  }
  check_distinct(ps, N);
  for (int i = 0; i < N; i++) xa_free(ps[i]);
  xa_heap_delete(h);

  xa_free(NULL); /* ignored */
}

static void test_usable_size(void) {
  CHECK(xa_usable_size(NULL) == 0);

  /* Every size up to 4 KiB + a bit, then growing steps up to 4 MiB, plus
   * the sizes around powers of two. */
  size_t sizes[2600];
  size_t n = 0;
  for (size_t s = 0; s <= 4200; s++) {
    if (s <= 2100 || s % 7 == 0) sizes[n++] = s;
  }
  for (size_t s = 4201; s <= ((size_t)4 << 20); s += s / 9 + 13) sizes[n++] = s;
  for (unsigned b = 12; b <= 22; b++) {
    size_t p = (size_t)1 << b;
    sizes[n++] = p - 1;
    sizes[n++] = p;
    sizes[n++] = p + 1;
  }
  CHECK(n <= sizeof sizes / sizeof sizes[0]);

  for (size_t i = 0; i < n; i++) {
    size_t s = sizes[i];
    unsigned char* p = xa_malloc(s);
    CHECK_MSG(p != NULL, "size %zu", s);
    size_t u = xa_usable_size(p);
    CHECK_MSG(u >= s, "size %zu: usable %zu", s, u);
    /* The whole usable size is ours to write. */
    xt_fill(p, u, 0x11);
    CHECK_MSG(xt_check(p, u, 0x11), "size %zu usable %zu: content", s, u);
    CHECK(xa_usable_size(p) == u);
    xa_free(p);
  }

  /* Keep a batch live at once so neighbours exist: writing one block's full
   * usable size must not touch its neighbours. */
  enum { K = 64 };
  void* live[K];
  size_t us[K];
  for (size_t base = 1; base <= ((size_t)1 << 18); base *= 3) {
    for (int k = 0; k < K; k++) {
      size_t s = base + (size_t)k * 5;
      live[k] = xa_malloc(s);
      CHECK(live[k] != NULL);
      us[k] = xa_usable_size(live[k]);
      CHECK(us[k] >= s);
      xt_fill(live[k], us[k], (uint64_t)k);
    }
    for (int k = 0; k < K; k++) CHECK_MSG(xt_check(live[k], us[k], (uint64_t)k), "base %zu k %d", base, k);
    for (int k = 0; k < K; k++) xa_free(live[k]);
  }
}

static void check_plain_alignment(const void* p, size_t size) {
  size_t want;
  if (size >= 16) {
    want = 16;
  } else {
    want = 8; /* largest power of two <= size, but at least 8 */
    while (want * 2 <= size) want *= 2;
  }
  CHECK_MSG(xt_aligned(p, want), "size %zu: %p not %zu-aligned", size, p, want);
}

static void test_plain_alignment(void) {
  /* Several live blocks per size so that blocks at various offsets inside a
   * page are looked at, not just the first one. */
  enum { PER = 5 };
  void* ps[PER];
  for (size_t s = 1; s <= 4096; s++) {
    for (int k = 0; k < PER; k++) {
      ps[k] = xa_malloc(s);
      CHECK(ps[k] != NULL);
      check_plain_alignment(ps[k], s);
    }
    for (int k = 0; k < PER; k++) xa_free(ps[k]);
  }
  static const size_t large[] = {
      (size_t)64 << 10, ((size_t)64 << 10) + 1, ((size_t)64 << 10) + 24, (size_t)100000,
      (size_t)200 << 10, ((size_t)512 << 10) - 8, (size_t)512 << 10, ((size_t)512 << 10) + 40,
      (size_t)1 << 20, ((size_t)1 << 20) + 8, (size_t)3000000, (size_t)4 << 20,
      ((size_t)4 << 20) + 24, (size_t)8 << 20};
  for (size_t i = 0; i < sizeof large / sizeof large[0]; i++) {
    for (int k = 0; k < 3; k++) {
      ps[k] = xa_malloc(large[i]);
      CHECK(ps[k] != NULL);
      check_plain_alignment(ps[k], large[i]);
      CHECK(xa_usable_size(ps[k]) >= large[i]);
    }
    for (int k = 0; k < 3; k++) xa_free(ps[k]);
  }
  /* The same through a user heap and calloc. */
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  for (size_t s = 1; s <= 300; s++) {
    void* a = xa_heap_malloc(h, s);
    void* c = xa_calloc(1, s);
    void* d = xa_heap_calloc(h, s, 1);
    CHECK(a != NULL && c != NULL && d != NULL);
    check_plain_alignment(a, s);
    check_plain_alignment(c, s);
    check_plain_alignment(d, s);
    xa_free(a);
    xa_free(c);
    xa_free(d);
  }
  xa_heap_delete(h);
}

int main(void) {
  test_zero_size();
  test_usable_size();
  test_plain_alignment();
  return 0;
}
