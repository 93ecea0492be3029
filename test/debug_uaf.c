/* Debug builds fill a freed block (past its link and mark) with a pattern
 * and check it when the block is handed out again (page.h): a write after
 * free is reported and counted, the program goes on. Checked here: a write
 * into a block its owner freed, one into a block another thread freed, and
 * no report at all in a long run of correct use. Not checked: a block
 * whose page became wholly free meanwhile (the page is reset and carves its
 * blocks anew). Release builds have no fill: skipped (77). */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "stats.h"
#include "xalloc.h"
#include "xa_test.h"

#if XA_DEBUG
enum { SIZE = 96, MANY = 20000 };

static int64_t reported(void) { return xa__stat_current(XA_STAT_writes_after_free); }

/* Allocate SIZE blocks until `want` comes back (it is reused at some
 * point: the page hands out its freed blocks); free them all again. */
static void allocate_until(const void* want) {
  static void* got[MANY];
  int n = 0;
  bool found = false;
  while (n < MANY && !found) {
    got[n] = xa_malloc(SIZE);
    CHECK(got[n] != NULL);
    volatile uintptr_t g = (uintptr_t)got[n], w = (uintptr_t)want;
    found = g == w;
    n++;
  }
  CHECK_MSG(found, "the freed block never came back in %d allocations", MANY);
  for (int i = 0; i < n; i++) xa_free(got[i]);
}

static void* free_it(void* p) {
  xa_free(p);
  return NULL;
}
#endif

int main(void) {
#if !XA_DEBUG
  printf("skip: only debug builds fill freed blocks\n");
  return 77;
#else
  /* Correct use: no report. */
  for (int round = 0; round < 50; round++) {
    static void* live[1000];
    for (int i = 0; i < 1000; i++) {
      live[i] = xa_malloc(16 + (size_t)(i % 40) * 24);
      memset(live[i], 0x5a, 16 + (size_t)(i % 40) * 24);
    }
    for (int i = 0; i < 1000; i += 2) xa_free(live[i]);
    for (int i = 1; i < 1000; i += 2) xa_free(live[i]);
  }
  CHECK_MSG(reported() == 0, "%lld writes after free reported in correct use", (long long)reported());

  /* The owner frees a block, then writes into it. */
  unsigned char* p = xa_malloc(SIZE);
  CHECK(p != NULL);
  xa_free(p);
  p[40] = 7;  /* the write after free */
  allocate_until(p);
  CHECK_MSG(reported() == 1, "owner's block: %lld reports, 1 expected", (long long)reported());

  /* Another thread frees it, then the program writes into it. A second
   * block keeps the page in use: a page whose blocks are all free is
   * reset, and its blocks are carved anew unchecked. */
  unsigned char* keep = xa_malloc(SIZE);
  unsigned char* q = xa_malloc(SIZE);
  CHECK(q != NULL && keep != NULL);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, free_it, q) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  q[SIZE - 1] = 9;
  xa_collect(false);  /* take the cross-thread free back */
  allocate_until(q);
  CHECK_MSG(reported() == 2, "cross-thread freed block: %lld reports, 2 expected", (long long)reported());
  xa_free(keep);
  printf("debug_uaf: 2 writes after free reported, none in 50 rounds of correct use\n");
  return 0;
#endif
}
