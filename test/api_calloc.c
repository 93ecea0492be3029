/* calloc must return zeroed memory also when it reuses blocks that were
 * written and freed before (the allocator may not assume freed or recycled
 * memory is still zero). Each round dirties every block it gets with 0xAA
 * before freeing it, so whatever calloc reuses is dirty.
 */
#include <stdint.h>
#include <string.h>

#include "xalloc.h"
#include "api_util.h"

enum { ROUNDS = 4 };

static size_t count_for(size_t size) {
  if (size <= 4096) return 64;
  if (size <= ((size_t)64 << 10)) return 16;
  return 4;
}

/* A NULL heap here means the plain xa_calloc / xa_malloc entry points. */
static void* do_calloc(xa_heap_t* heap, size_t count, size_t size) {
  return heap != NULL ? xa_heap_calloc(heap, count, size) : xa_calloc(count, size);
}

static void* do_malloc(xa_heap_t* heap, size_t size) {
  return heap != NULL ? xa_heap_malloc(heap, size) : xa_malloc(size);
}

static void zero_after_reuse(xa_heap_t* heap, size_t size) {
  size_t n = count_for(size);
  void* ps[64];
  /* Dirty a batch with malloc. */
  for (size_t i = 0; i < n; i++) {
    ps[i] = do_malloc(heap, size);
    CHECK(ps[i] != NULL);
    memset(ps[i], 0xAA, xa_usable_size(ps[i]));
  }
  for (size_t i = 0; i < n; i++) xa_free(ps[i]);

  for (int r = 0; r < ROUNDS; r++) {
    for (size_t i = 0; i < n; i++) {
      /* Alternate the split of count * size. */
      size_t count = 1, each = size;
      if ((i + (size_t)r) % 3 == 1 && size % 8 == 0) {
        count = size / 8;
        each = 8;
      } else if ((i + (size_t)r) % 3 == 2 && size % 2 == 0) {
        count = 2;
        each = size / 2;
      }
      ps[i] = do_calloc(heap, count, each);
      CHECK_MSG(ps[i] != NULL, "calloc(%zu, %zu)", count, each);
      CHECK(xa_usable_size(ps[i]) >= size);
      CHECK_MSG(xt_all_bytes(ps[i], size, 0), "calloc(%zu, %zu) round %d block %zu not zeroed", count, each, r, i);
    }
    /* Dirty them again (whole usable size) before they are reused. */
    for (size_t i = 0; i < n; i++) memset(ps[i], 0xAA, xa_usable_size(ps[i]));
    for (size_t i = 0; i < n; i++) xa_free(ps[i]);
  }
}

static void test_sizes(xa_heap_t* heap) {
  for (size_t s = 8; s <= ((size_t)1 << 20); s *= 2) {
    zero_after_reuse(heap, s);
    zero_after_reuse(heap, s + s / 2);
    zero_after_reuse(heap, s - 1);
  }
  for (size_t s = 1; s <= 300; s += 7) zero_after_reuse(heap, s);
  zero_after_reuse(heap, (size_t)4 << 20);
}

/* Reuse across kinds: memory of a big freed block comes back as many
 * smaller calloc'd blocks and vice versa. */
static void test_mixed(void) {
  for (int r = 0; r < 3; r++) {
    unsigned char* big = xa_malloc((size_t)2 << 20);
    CHECK(big != NULL);
    memset(big, 0xAA, (size_t)2 << 20);
    xa_free(big);
    xa_collect(false);
    void* ps[256];
    for (int i = 0; i < 256; i++) {
      size_t s = 1000 + (size_t)i * 97;
      ps[i] = xa_calloc(s, 1);
      CHECK(ps[i] != NULL);
      CHECK(xt_all_bytes(ps[i], s, 0));
      memset(ps[i], 0xAA, s);
    }
    for (int i = 0; i < 256; i++) xa_free(ps[i]);
    xa_collect(true);
    unsigned char* z = xa_calloc(1, (size_t)2 << 20);
    CHECK(z != NULL);
    CHECK(xt_all_bytes(z, (size_t)2 << 20, 0));
    xa_free(z);
  }
}

int main(void) {
  test_sizes(NULL);
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  test_sizes(h);
  xa_heap_delete(h);
  test_mixed();
  return 0;
}
