/* The hard memory limit (option limit; run with a 256 MiB limit): requests
 * that would cross it first purge what can be purged, then fail with NULL and
 * ENOMEM; committed memory never exceeds the limit; after frees, allocation
 * works again. Each allocation entry point is driven to the limit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "limit.h"
#include "stats.h"
#include "xa_test.h"

#define MIB ((size_t)1 << 20)
#define MAXB 3000000
static void* blocks[MAXB];

static void check_committed(void) {
  size_t limit = xa__commit_limit();
  CHECK_MSG(xa__committed() <= limit, "committed %zu > limit %zu", xa__committed(), limit);
}

/* Allocate blocks of `size` with `how` until the limit refuses; returns the
 * count. Every refusal must be NULL + ENOMEM. */
static size_t fill(size_t size, int how, size_t first) {
  size_t n = first;
  for (;;) {
    CHECK(n < MAXB);
    errno = 0;
    void* p = NULL;
    switch (how) {
      case 0: p = xa_malloc(size); break;
      case 1: p = xa_calloc(1, size); break;
      case 2: p = xa_malloc_aligned(size, 4096); break;
      case 3: p = xa_realloc(NULL, size); break;
    }
    if (p == NULL) {
      CHECK_MSG(errno == ENOMEM, "errno %d after a refused allocation", errno);
      break;
    }
    memset(p, 0x3c, size);
    blocks[n++] = p;
    check_committed();
  }
  check_committed();
  return n - first;
}

static void free_range(size_t from, size_t to, size_t step) {
  for (size_t i = from; i < to; i += step) {
    xa_free(blocks[i]);
    blocks[i] = NULL;
  }
}

int main(void) {
  size_t limit = xa__commit_limit();
  CHECK_MSG(limit == 256 * MIB, "run with a limit of 256 MiB (limit %zu)", limit);

  /* 1 MiB blocks: the limit is reached near 256 MiB, not far below. */
  size_t n = fill(MIB, 0, 0);
  fprintf(stderr, "1 MiB blocks: %zu before the limit (committed %zu MiB)\n", n, xa__committed() >> 20);
  CHECK(n >= 240 && n <= 256);
  /* Half freed: as many fit again. */
  free_range(0, n, 2);
  size_t again = fill(MIB, 0, n);
  fprintf(stderr, "after freeing %zu: %zu more\n", (n + 1) / 2, again);
  CHECK(again + 2 >= (n + 1) / 2);
  /* A realloc that cannot grow reports ENOMEM and keeps the block. */
  void* keep = blocks[1];
  errno = 0;
  CHECK(xa_realloc(keep, 8 * MIB) == NULL && errno == ENOMEM);
  CHECK(((unsigned char*)keep)[MIB - 1] == 0x3c);
  for (size_t i = 0; i < MAXB; i++) {
    if (blocks[i] != NULL) xa_free(blocks[i]);
    blocks[i] = NULL;
  }

  /* Small, medium and large blocks, and the other entry points. */
  static const size_t sizes[] = {100, 1000, 20000, 200000};
  for (int how = 0; how < 4; how++) {
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
      if (how != 0 && (s == 0 || s == 2)) continue;  /* every size once, every entry point twice */
      size_t count = fill(sizes[s], how, 0);
      size_t bytes = count * (how == 2 && sizes[s] < 4096 ? 4096 : sizes[s]);
      fprintf(stderr, "entry %d, %zu-byte blocks: %zu MiB before the limit\n", how, sizes[s], bytes >> 20);
      CHECK(bytes >= 160 * MIB);  /* metadata and page rounding cost something, not most */
      free_range(0, count, 1);
    }
  }
  CHECK(xa__stat_current(XA_STAT_limit_failures) > 0);
  /* Everything freed: a big block fits again. */
  fprintf(stderr, "committed %zu MiB before the big block\n", xa__committed() >> 20);
  void* big = xa_malloc(200 * MIB);
  CHECK(big != NULL);
  memset(big, 1, 200 * MIB);
  xa_free(big);
  check_committed();
  return 0;
}
