/* A thread that starts after another ended reuses the empty segments the
 * ended thread had cached, instead of mapping and faulting in fresh ones
 * (thread churn: servers with worker threads that come and go); and those
 * segments still go back to the OS once nobody reused them for the purge
 * delay, like every cache.
 *
 * Thread A fills about 12 MiB of 2 KiB blocks and frees them (its emptied
 * segments go to its segment cache), then exits. Thread B then allocates as
 * much: every segment it needs comes from the shared cache (segment cache
 * hits grow, no segment is mapped, the bytes mapped from the OS stay the
 * same). Then A runs again, B's turn is skipped, and the delay passes: the
 * cached segments are unmapped at the next slow path. */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "xalloc.h"
#include "config.h"
#include "os.h"
#include "stats.h"
#include "xa_test.h"

enum { N = 6000 };  /* 2 KiB blocks: about 12 MiB, three or four segments */
static void* blocks[N];

/* Fills about 12 MiB of 2 KiB blocks; frees them again when and_free is not NULL. */
static void* fill(void* and_free) {
  for (int i = 0; i < N; i++) {
    blocks[i] = xa_malloc(2048);
    CHECK(blocks[i] != NULL);
    memset(blocks[i], 0x33, 2048);
  }
  if (and_free != NULL) {
    for (int i = 0; i < N; i++) xa_free(blocks[i]);
  }
  return NULL;
}

static void run(bool and_free) {
  static int yes;
  pthread_t t;
  CHECK(pthread_create(&t, NULL, fill, and_free ? &yes : NULL) == 0);
  CHECK(pthread_join(t, NULL) == 0);
}

static void wait_ms(uint64_t ms) {
  uint64_t end = xa__os_clock_ms() + ms;
  while (xa__os_clock_ms() < end) {
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

int main(void) {
  void* warm = xa_malloc(64);  /* the main thread's own segment, mapped first */
  CHECK(warm != NULL);
  run(true);
  int64_t hits = xa__stat_current(XA_STAT_cache_hits);
  int64_t mapped = xa__stat_current(XA_STAT_os_bytes);
  int64_t unmapped = xa__stat_current(XA_STAT_unmapped_bytes);
  run(false);
  int64_t hits2 = xa__stat_current(XA_STAT_cache_hits);
  int64_t mapped2 = xa__stat_current(XA_STAT_os_bytes);
  printf("second thread: %lld segment cache hits, mapped bytes %lld -> %lld, unmapped %lld -> %lld\n",
         (long long)(hits2 - hits), (long long)mapped, (long long)mapped2, (long long)unmapped,
         (long long)xa__stat_current(XA_STAT_unmapped_bytes));
  CHECK_MSG(hits2 - hits >= 3, "the second thread took %lld segments from the shared cache",
            (long long)(hits2 - hits));
  CHECK_MSG(mapped2 <= mapped, "the second thread mapped fresh segments (%lld -> %lld bytes)", (long long)mapped,
            (long long)mapped2);
  for (int i = 0; i < N; i++) xa_free(blocks[i]);  /* another thread's blocks */

  /* Aged out: a thread fills and frees, exits, nobody reuses its segments. */
  xa_collect(true);
  run(true);
  size_t rss_cached = xa__os_rss();
  int64_t mapped_cached = xa__stat_current(XA_STAT_os_bytes);
  wait_ms(XA_CACHE_DELAY_MS + 50);
  void* p = xa_malloc(30000);  /* a slow path: a size class this thread never used */
  CHECK(p != NULL);
  size_t rss_aged = xa__os_rss();
  int64_t mapped_aged = xa__stat_current(XA_STAT_os_bytes);
  printf("after the delay: RSS %zu -> %zu KiB, mapped %lld -> %lld bytes\n", rss_cached >> 10, rss_aged >> 10,
         (long long)mapped_cached, (long long)mapped_aged);
  CHECK_MSG(rss_aged + 8 * ((size_t)1 << 20) <= rss_cached, "the shared cache stayed resident: RSS %zu -> %zu",
            rss_cached, rss_aged);
  CHECK(mapped_aged < mapped_cached);
  xa_free(p);
  xa_free(warm);
  return 0;
}
