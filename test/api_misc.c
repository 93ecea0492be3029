/* Version, statistics output, and the process/thread calls (xa_collect,
 * xa_thread_done, xa_process_done) run between allocation steps without
 * losing live blocks.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"
#include "api_util.h"

typedef struct {
  unsigned char* p;
  size_t size;
  uint64_t salt;
} blk;

enum { NB = 500 };
static blk g_blocks[NB];
static size_t g_n;

static void add_blocks(size_t n, uint64_t salt, xt_rng* r) {
  for (size_t i = 0; i < n && g_n < NB; i++) {
    size_t s = xt_logsize(r, 1, (size_t)1 << 20);
    if (i % 50 == 7) s = (size_t)3 << 20;
    blk* b = &g_blocks[g_n++];
    b->p = xa_malloc(s);
    CHECK(b->p != NULL);
    b->size = s;
    b->salt = salt + i;
    xt_fill(b->p, s, b->salt);
  }
}

static void check_all(const char* step) {
  for (size_t i = 0; i < g_n; i++)
    CHECK_MSG(xt_check(g_blocks[i].p, g_blocks[i].size, g_blocks[i].salt), "after %s: block %zu (size %zu)", step, i,
              g_blocks[i].size);
}

/* Free every k-th remaining block (compacting the array). */
static void free_some(size_t k) {
  size_t w = 0;
  for (size_t i = 0; i < g_n; i++) {
    if (i % k == 0) {
      xa_free(g_blocks[i].p);
    } else {
      g_blocks[w++] = g_blocks[i];
    }
  }
  g_n = w;
}

static void test_version(void) {
  CHECK(XALLOC_VERSION == 100);
  CHECK(xa_version() == XALLOC_VERSION);
  CHECK(xa_version() == 100);
}

/* xa_stats_print writes something to stderr. */
static void test_stats_print(void) {
#if defined(_WIN32)
  /* xalloc writes to the process's standard error handle, which a CRT-level
   * dup2 of descriptor 2 does not redirect: just check that it runs. */
  xa_stats_print();
  return;
#endif
  FILE* tmp = tmpfile();
  CHECK(tmp != NULL);
  fflush(stderr);
  int saved = dup(STDERR_FILENO);
  CHECK(saved >= 0);
  CHECK(dup2(fileno(tmp), STDERR_FILENO) == STDERR_FILENO);
  xa_stats_print();
  fflush(stderr);
  CHECK(dup2(saved, STDERR_FILENO) == STDERR_FILENO);
  close(saved);
  long len = ftell(tmp);
  if (len <= 0) {
    CHECK(fseek(tmp, 0, SEEK_END) == 0);
    len = ftell(tmp);
  }
  CHECK_MSG(len > 0, "xa_stats_print wrote nothing to stderr");
  fclose(tmp);
  /* And once more straight to the real stderr. */
  xa_stats_print();
}

static void test_collect_steps(void) {
  xt_rng r = {12345};
  add_blocks(100, 1, &r);
  xa_collect(false);
  check_all("collect(false)");
  free_some(3);
  xa_collect(true);
  check_all("collect(true)");
  add_blocks(100, 1000, &r);
  check_all("allocating after collect(true)");
  free_some(2);
  xa_collect(true);
  xa_collect(true);
  check_all("collect(true) twice");

  /* Collecting explicit heaps. */
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  unsigned char* hp[64];
  for (int i = 0; i < 64; i++) {
    hp[i] = xa_heap_malloc(h, 100 + (size_t)i * 300);
    CHECK(hp[i] != NULL);
    xt_fill(hp[i], 100 + (size_t)i * 300, (uint64_t)i);
  }
  for (int i = 0; i < 64; i += 2) xa_free(hp[i]);
  xa_heap_collect(h, false);
  xa_heap_collect(h, true);
  xa_heap_collect(xa_heap_get_default(), true);
  xa_collect(true);
  for (int i = 1; i < 64; i += 2) {
    CHECK(xt_check(hp[i], 100 + (size_t)i * 300, (uint64_t)i));
    CHECK(xa_heap_contains(h, hp[i]));
  }
  for (int i = 1; i < 64; i += 2) xa_free(hp[i]);
  xa_heap_delete(h);
  check_all("heap collects");
}

/* After xa_thread_done the thread allocates again with a fresh default
 * heap; blocks from before stay valid and freeable. */
static void test_thread_done(void) {
  xt_rng r = {777};
  add_blocks(50, 5000, &r);
  xa_thread_done();
  check_all("xa_thread_done");
  void* p = xa_malloc(100);
  CHECK(p != NULL);
  memset(p, 1, 100);
  xa_heap_t* now = xa_heap_get_default();
  CHECK(now != NULL);
  CHECK(xa_heap_contains(now, p));
  add_blocks(50, 6000, &r);
  check_all("allocating after xa_thread_done");
  free_some(2);
  xa_free(p);
  xa_collect(true);
  check_all("collect after xa_thread_done");
}

/* xa_process_done is idempotent and allocation keeps working after it. */
static void test_process_done(void) {
  xa_process_done();
  check_all("xa_process_done");
  xa_process_done();
  check_all("xa_process_done twice");
  xt_rng r = {99};
  add_blocks(50, 9000, &r);
  check_all("allocating after xa_process_done");
  free_some(1);
  CHECK(g_n == 0);
  void* p = xa_calloc(10, 10);
  CHECK(p != NULL && xt_all_bytes(p, 100, 0));
  xa_free(p);
  xa_process_done();
}

int main(void) {
  test_version();
  test_stats_print();
  test_collect_steps();
  test_thread_done();
  test_process_done();
  return 0;
}
