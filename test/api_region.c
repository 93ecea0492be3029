/* xa_is_in_heap_region: true for blocks of every size kind (and their
 * interior), false for memory xalloc does not manage — never a crash.
 */
#include <stdint.h>
#include <string.h>
#include "xa_test_os.h"

#include "xalloc.h"
#include "api_util.h"

static int g_zero_global;            /* .bss */
static int g_data_global = 5;        /* .data */
static const int g_rodata_global = 9; /* .rodata */

static void check_block_in_region(const unsigned char* p, size_t size) {
  CHECK_MSG(xa_is_in_heap_region(p), "size %zu", size);
  CHECK_MSG(xa_is_in_heap_region(p + size / 2), "size %zu: p+size/2", size);
  CHECK_MSG(xa_is_in_heap_region(p + size - 1), "size %zu: p+size-1", size);
}

int main(void) {
  static const size_t sizes[] = {8, 20 << 10, 200 << 10, (size_t)8 << 20, 1, 100, 3000, (size_t)600 << 10};
  enum { N = sizeof sizes / sizeof sizes[0] };
  unsigned char* ps[N];
  for (size_t i = 0; i < N; i++) {
    ps[i] = xa_malloc(sizes[i]);
    CHECK(ps[i] != NULL);
    memset(ps[i], 0x42, sizes[i]);
    check_block_in_region(ps[i], sizes[i]);
  }
  /* Blocks from other entry points and a user heap. */
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  unsigned char* a = xa_malloc_aligned(5000, (size_t)1 << 20);
  unsigned char* c = xa_calloc(3, 7000);
  unsigned char* hb = xa_heap_malloc(h, 90000);
  char* s = xa_strdup("region");
  CHECK(a != NULL && c != NULL && hb != NULL && s != NULL);
  check_block_in_region(a, 5000);
  check_block_in_region(c, 21000);
  check_block_in_region(hb, 90000);
  CHECK(xa_is_in_heap_region(s));

  /* Not ours. */
  int local = 3;
  CHECK(!xa_is_in_heap_region(NULL));
  CHECK(!xa_is_in_heap_region(&local));
  CHECK(!xa_is_in_heap_region(&g_zero_global));
  CHECK(!xa_is_in_heap_region(&g_data_global));
  CHECK(!xa_is_in_heap_region(&g_rodata_global));
  CHECK(!xa_is_in_heap_region("a string literal"));
  CHECK(!xa_is_in_heap_region((void*)1));
  CHECK(!xa_is_in_heap_region((void*)(uintptr_t)-1));
  CHECK(!xa_is_in_heap_region((void*)(uintptr_t)-4096));
  CHECK(!xa_is_in_heap_region((void*)(uintptr_t)0x10000));
  CHECK(!xa_is_in_heap_region((void*)((uintptr_t)1 << 62)));

  size_t len = (size_t)16 << 20;
  unsigned char* m = xt_os_map(len, 0);
  CHECK(m != NULL);
  CHECK(!xa_is_in_heap_region(m));
  CHECK(!xa_is_in_heap_region(m + ((size_t)4 << 20)));
  CHECK(!xa_is_in_heap_region(m + len - 1));
  CHECK(xt_os_unmap(m, len) == 0);
  /* Unmapped now; asking must still not crash. */
  CHECK(!xa_is_in_heap_region(m + 12345));
  unsigned char* ro = xt_os_map(4096, 1);
  CHECK(ro != NULL);
  CHECK(!xa_is_in_heap_region(ro));
  CHECK(xt_os_unmap(ro, 4096) == 0);

  /* The answers did not disturb anything. */
  CHECK(local == 3 && g_zero_global == 0 && g_data_global == 5);
  for (size_t i = 0; i < N; i++) {
    CHECK(xt_all_bytes(ps[i], sizes[i], 0x42));
    xa_free(ps[i]);
  }
  xa_free(a);
  xa_free(c);
  xa_free(hb);
  xa_free(s);
  xa_heap_delete(h);
  return 0;
}
