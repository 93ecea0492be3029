/* The last page of a size class is kept when its last block is freed (a
 * program usually allocates that size again), and only while it is the last
 * one: once another page of the class joins its queue, the kept page is
 * given back at its next emptying. Checked through the page descriptors and
 * the invariant checker. */
#include "check.h"
#include "page.h"
#include "segment.h"
#include "types.h"
#include "xalloc.h"
#include "xa_test.h"

static xa_page_t* page_of(void* p) { return xa__segment_page_of(xa__ptr_segment(p), p); }

int main(void) {
  enum { SIZE = 176, MAX = 8192 };
  static void* blocks[MAX];
  /* A: fill one page until the next block lands on a second page B. */
  size_t n = 0;
  blocks[n++] = xa_malloc(SIZE);
  xa_page_t* a = page_of(blocks[0]);
  for (;;) {
    CHECK(n < MAX);
    blocks[n] = xa_malloc(SIZE);
    CHECK(blocks[n] != NULL);
    if (page_of(blocks[n]) != a) break;
    n++;
  }
  void* on_b = blocks[n];
  xa_page_t* b = page_of(on_b);
  CHECK(b->in_use && b->used == 1 && a->used == n);
  CHECK(xa__validate());

  /* B empties while it is the only page of its queue (A is full): kept. */
  xa_free(on_b);
  CHECK(b->in_use);
  CHECK(xa__validate());
  /* Emptied again and again, it stays. */
  for (int i = 0; i < 1000; i++) {
    void* p = xa_malloc(SIZE);
    CHECK(page_of(p) == b);
    xa_free(p);
  }
  CHECK(b->in_use);

  /* A gets a block back: it joins B's queue, so B is no longer alone. */
  xa_free(blocks[0]);
  CHECK(xa__validate());
  /* B empties once more: now it goes back to its segment. */
  void* p = xa_malloc(SIZE);
  volatile uintptr_t pb = (uintptr_t)page_of(p);
  if (pb == (uintptr_t)b) {
    xa_free(p);
    CHECK(!b->in_use);
  } else {
    /* A was chosen first; B, empty, must not be kept behind it either. */
    xa_free(p);
    CHECK(a->in_use);
  }
  CHECK(xa__validate());
  for (size_t i = 1; i < n; i++) xa_free(blocks[i]);
  CHECK(xa__validate());
  return 0;
}
