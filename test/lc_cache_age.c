/* Caches do not keep memory resident for good: a freed huge block (kept in
 * the huge-segment cache) and a thread's emptied standard segments (kept in
 * its segment cache) go back to the OS once nobody reused them for
 * XA_CACHE_DELAY_MS, at the next allocation slow path, without any
 * xa_collect. Within the delay the huge cache is reused (same address).
 * Likewise the free pages of segments that an exited thread abandoned and
 * nobody reclaimed. */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "xalloc.h"
#include "config.h"
#include "os.h"
#include "xa_test.h"

#define MIB ((size_t)1 << 20)

static void wait_ms(uint64_t ms) {
  uint64_t end = xa__os_clock_ms() + ms;
  while (xa__os_clock_ms() < end) {
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

/* An allocation that needs a fresh page: a size class used for the first
 * time in this thread. */
static void* fresh_page_alloc(size_t* next_size) {
  void* p = xa_malloc(*next_size);
  CHECK(p != NULL);
  *next_size += 4096;  /* the next size class up (8 per doubling) */
  return p;
}

/* Allocates about 24 MiB of 4 KiB blocks, frees all but one block in 500,
 * and exits: its segments are abandoned with few live blocks and many free,
 * resident pages. */
enum { ABANDON_N = 6000 };
static void* abandon_blocks[ABANDON_N];
static void* abandoner(void* arg) {
  (void)arg;
  for (int i = 0; i < ABANDON_N; i++) {
    abandon_blocks[i] = xa_malloc(4000);
    CHECK(abandon_blocks[i] != NULL);
    memset(abandon_blocks[i], 0x44, 4000);
  }
  for (int i = 0; i < ABANDON_N; i++) {
    if (i % 500 != 0) xa_free(abandon_blocks[i]);
  }
  return NULL;
}

int main(void) {
  size_t next_size = 20000;  /* medium classes, each new one needs its own page */
  void* keep[8];
  int nkeep = 0;

  /* Huge cache: reused at once ... */
  size_t big = 32 * MIB;
  unsigned char* p = xa_malloc(big);
  CHECK(p != NULL);
  memset(p, 0x5A, big);
  xa_free(p);
  unsigned char* q = xa_malloc(big);
  CHECK(q == p);  /* taken back from the cache, not mapped anew */
  memset(q, 0x5B, big);
  xa_free(q);

  /* ... and given back after the delay, at the next slow path. */
  size_t rss_cached = xa__os_rss();
  wait_ms(XA_CACHE_DELAY_MS + 50);
  keep[nkeep++] = fresh_page_alloc(&next_size);
  size_t rss_aged = xa__os_rss();
  CHECK_MSG(rss_aged + 24 * MIB <= rss_cached, "huge cache still resident: RSS %zu -> %zu", rss_cached, rss_aged);

  /* Thread segment cache: fill whole segments with 2 KiB blocks, free them
   * all (the emptied segments go to the cache, at most XA_SEGMENT_CACHE),
   * wait, then take a slow path. */
  enum { N = 6000 };  /* about 12 MiB */
  static void* blocks[N];
  for (int i = 0; i < N; i++) {
    blocks[i] = xa_malloc(2048);
    CHECK(blocks[i] != NULL);
    memset(blocks[i], 0x33, 2048);
  }
  for (int i = 0; i < N; i++) xa_free(blocks[i]);
  size_t rss_segs = xa__os_rss();
  wait_ms(XA_CACHE_DELAY_MS + 50);
  keep[nkeep++] = fresh_page_alloc(&next_size);
  size_t rss_segs_aged = xa__os_rss();
  CHECK_MSG(rss_segs_aged + 4 * MIB <= rss_segs, "segment cache still resident: RSS %zu -> %zu", rss_segs,
            rss_segs_aged);

  /* Abandoned segments: their free pages are purged once they stayed
   * abandoned for the delay (one of them may be reclaimed by our slow path
   * instead, and keeps its pages). */
  pthread_t t;
  CHECK(pthread_create(&t, NULL, abandoner, NULL) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  size_t rss_abandoned = xa__os_rss();
  wait_ms(XA_CACHE_DELAY_MS + 50);
  keep[nkeep++] = fresh_page_alloc(&next_size);
  size_t rss_abandoned_aged = xa__os_rss();
  CHECK_MSG(rss_abandoned_aged + 12 * MIB <= rss_abandoned, "abandoned free pages still resident: RSS %zu -> %zu",
            rss_abandoned, rss_abandoned_aged);
  for (int i = 0; i < ABANDON_N; i += 500) xa_free(abandon_blocks[i]);  /* from another thread than their owner's */

  for (int i = 0; i < nkeep; i++) xa_free(keep[i]);
  return 0;
}
