/* Debug builds put a canary after each block's requested size, checked at
 * free, realloc and heap destruction (docs/debugging.md, src/track.h): a
 * write past the end is reported with the block, the size asked for and the
 * bytes found, and counted; the program goes on. Checked here:
 *   - no report in correct use that writes every usable byte (all size
 *     classes, aligned, calloc, realloc in place and moved, huge blocks,
 *     heaps, cross-thread frees), and malloc_usable_size is the size asked for;
 *   - one byte past the end, found by free (own and another thread's), by
 *     realloc and by xa_heap_destroy; the report names block, size and byte;
 *   - an overflow that runs past the canary into the size record;
 *   - the block is freed all the same (it comes back).
 * Release builds do not track blocks (outside valgrind): skipped (77). */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stats.h"
#include "xalloc.h"
#include "xa_test.h"

#if XA_DEBUG
static int64_t reported(void) { return xa__stat_current(XA_STAT_overflows); }

static void* free_it(void* p) {
  xa_free(p);
  return NULL;
}

/* Allocate `size`, overflow by one byte, free it through `how`; one report. */
static void overflow_once(size_t size, int how) {
  int64_t before = reported();
  uint8_t* p = xa_malloc(size);
  CHECK(p != NULL);
  CHECK_MSG(xa_usable_size(p) == size, "usable %zu, asked %zu", xa_usable_size(p), size);
  memset(p, 0x11, size + 1);  /* one byte too many */
  if (how == 0) {
    xa_free(p);
  } else if (how == 1) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, free_it, p) == 0);
    CHECK(pthread_join(t, NULL) == 0);
  } else {
    p = xa_realloc(p, size * 3 + 100);
    CHECK(p != NULL);
    xa_free(p);
  }
  CHECK_MSG(reported() == before + 1, "size %zu, way %d: %lld reports, expected 1", size, how,
            (long long)(reported() - before));
}
#endif

int main(void) {
#if !XA_DEBUG
  printf("skip: only debug builds put canaries after blocks\n");
  return 77;
#else
  /* Correct use, every usable byte written: no report. */
  for (int round = 0; round < 3; round++) {
    static void* live[600];
    for (int i = 0; i < 600; i++) {
      size_t n = (size_t)(i * 37 % 9000);
      if (i % 100 == 99) n = ((size_t)1 << 20) + (size_t)i;  /* huge */
      live[i] = i % 7 == 3 ? xa_malloc_aligned(n, (size_t)64 << (i % 6)) : xa_malloc(n);
      CHECK(live[i] != NULL);
      size_t u = xa_usable_size(live[i]);
      CHECK_MSG(u == n, "usable size %zu of a block of %zu", u, n);
      memset(live[i], 0x5a, u);
    }
    for (int i = 0; i < 600; i += 3) {
      size_t n = xa_usable_size(live[i]);
      live[i] = xa_realloc(live[i], n / 2 + 1);  /* in place */
      memset(live[i], 0x5b, xa_usable_size(live[i]));
      live[i] = xa_realloc(live[i], n * 2 + 10);  /* grows: in place or moved */
      memset(live[i], 0x5c, xa_usable_size(live[i]));
    }
    uint8_t* c = xa_calloc(333, 3);
    for (int i = 0; i < 999; i++) CHECK(c[i] == 0);
    xa_free(c);
    for (int i = 0; i < 600; i += 2) xa_free(live[i]);
    pthread_t t;
    for (int i = 1; i < 600; i += 2) {
      CHECK(pthread_create(&t, NULL, free_it, live[i]) == 0);
      CHECK(pthread_join(t, NULL) == 0);
    }
    xa_heap_t* h = xa_heap_new();
    for (int i = 0; i < 100; i++) memset(xa_heap_malloc(h, (size_t)i * 13), 1, (size_t)i * 13);
    xa_heap_destroy(h);
  }
  CHECK_MSG(reported() == 0, "%lld overflows reported in correct use", (long long)reported());

  /* One byte past the end, each size class kind, each way of noticing. */
  size_t sizes[] = {1, 8, 24, 100, 1000, 5000, 40000, 300000, (size_t)3 << 20};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    for (int how = 0; how < 3; how++) overflow_once(sizes[i], how);
  }

  /* Through the canary into the size record: still reported, block freed. */
  int64_t before = reported();
  uint8_t* p = xa_malloc(40);
  memset(p, 0x22, 40 + 20);  /* 40 + 24 fills its 64-byte block: canary and trailer, not the neighbour */
  xa_free(p);
  CHECK_MSG(reported() == before + 1, "a long overflow: %lld reports", (long long)(reported() - before));

  /* xa_heap_destroy checks the blocks it frees. */
  xa_heap_t* h = xa_heap_new();
  uint8_t* q = xa_heap_malloc(h, 77);
  q[77] = 1;
  before = reported();
  xa_heap_destroy(h);
  CHECK_MSG(reported() == before + 1, "heap destroy: %lld reports", (long long)(reported() - before));

  /* The report (every one is printed: XALLOC_VERBOSE=1, test/misuse.cmake):
   * block, size asked for, the bytes found. */
  char path[] = "/tmp/xa_canary_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  int saved = dup(2);
  CHECK(saved >= 0 && dup2(fd, 2) == 2);
  uint8_t* r = xa_malloc(100);
  r[100] = 0x41;
  r[101] = 0x42;
  xa_free(r);
  CHECK(dup2(saved, 2) == 2);
  char buf[4096];
  ssize_t got = pread(fd, buf, sizeof(buf) - 1, 0);
  CHECK(got > 0);
  buf[got] = 0;
  close(fd);
  unlink(path);
  char want[128];
  snprintf(want, sizeof(want), "block 0x%016llx (size 100): 0 bytes after its end hold 0x41 0x42",
           (unsigned long long)(uintptr_t)r);
  CHECK_MSG(strstr(buf, want) != NULL, "report: %s", buf);
  printf("canary: %lld overflows reported, none in correct use\n", (long long)reported());
  return 0;
#endif
}
