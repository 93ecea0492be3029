/* Pointer -> segment -> page lookups for every page kind, the address map
 * (interior pointers of huge blocks, foreign addresses), the arena range
 * check, and the page free lists (extend, local free, cross-thread collect)
 * checked through the invariant checker. */
#include "xa_test_os.h"
#include "arena.h"
#include "check.h"
#include "page.h"
#include "segmap.h"
#include "segment.h"
#include "xalloc.h"
#include "xa_test.h"

static int global_var;

static void* xfree_thread(void* arg) {
  void** blocks = arg;
  for (int i = 0; i < 100; i++) xa_free(blocks[i]);
  return NULL;
}

#include <pthread.h>

int main(void) {
  const size_t sizes[] = {8, 100, 1000, 8192, 9000, 65536, 70000, 500000, (size_t)1 << 20, (size_t)9 << 20};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    unsigned char* p = xa_malloc(sizes[i]);
    CHECK(p != NULL);
    xa_segment_t* seg = xa__ptr_segment(p);
    CHECK(xa__segmap_is_segment((uintptr_t)seg));
    xa_page_t* page = xa__segment_page_of(seg, p);
    CHECK(page->in_use);
    CHECK(p >= page->start && p < page->start + (size_t)page->capacity * page->block_size);
    CHECK(page->block_size >= sizes[i]);
    /* every byte of the block maps back to the same segment (via the map) and page */
    for (size_t off = 0; off < sizes[i]; off += 4093) {
      CHECK(xa__segmap_find(p + off) == (uintptr_t)seg);
      if (seg->kind != XA_KIND_HUGE) CHECK(xa__segment_page_of(seg, p + off) == page);
    }
    CHECK(xa__segmap_find(p + sizes[i] - 1) == (uintptr_t)seg);
    if (sizes[i] <= XA_LARGE_MAX) CHECK(xa__in_arena(p));  /* standard segments come from the arena */
    xa_free(p);
  }
  int local = 0;
  CHECK(xa__segmap_find(&local) == 0);
  CHECK(xa__segmap_find(&global_var) == 0);
  CHECK(!xa__in_arena(&local) && !xa__in_arena(NULL));
  void* m = xt_os_map(1 << 20, 0);
  CHECK(m != NULL && !xa_is_in_heap_region(m));
  /* The map itself knows chunks: m may lie in the last chunk of a huge
   * segment whose mapping ends before that chunk does, never inside it. */
  uintptr_t in = xa__segmap_find(m);
  CHECK(in == 0 || (uintptr_t)m - in >= ((xa_segment_t*)in)->size);
  xt_os_unmap(m, 1 << 20);

  /* free lists: a page fills by extension, local frees and cross-thread
   * frees come back through collection */
  void* blocks[200];
  for (int i = 0; i < 200; i++) blocks[i] = xa_malloc(48);
  xa_page_t* page = xa__segment_page_of(xa__ptr_segment(blocks[0]), blocks[0]);
  CHECK(xa__validate());
  uint32_t used = page->used;
  for (int i = 100; i < 200; i++) xa_free(blocks[i]);
  CHECK(xa__validate());
  pthread_t t;
  CHECK(pthread_create(&t, NULL, xfree_thread, blocks) == 0);
  pthread_join(t, NULL);
  CHECK(page->used == used - 100);  /* the cross-thread frees are not collected yet */
  CHECK(xa__validate());
  xa_heap_collect(xa_heap_get_default(), false);
  CHECK(xa__validate());
  return 0;
}
