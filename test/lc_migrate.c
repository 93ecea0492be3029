/* Where xa_heap_delete puts live blocks (lifecycle-pitfalls 3) and what
 * xa_heap_destroy may free (pitfall 2), checked with a non-original default. */
#include <stdlib.h>
#include "lc_util.h"

#define N 200
static void* blocks[N];
static size_t bsize[N];

static void* free_thread(void* arg) {
  (void)arg;
  for (int i = 0; i < N; i++) {
    if (blocks[i] == NULL) continue;
    CHECK(lc_check_ends(blocks[i], bsize[i], (uint32_t)i + 7));
    xa_free(blocks[i]);
    blocks[i] = NULL;
  }
  return NULL;
}

static void alloc_into(xa_heap_t* h) {
  for (int i = 0; i < N; i++) {
    bsize[i] = lc_sizes[(size_t)i % LC_NSIZES] + (size_t)i;
    blocks[i] = xa_heap_malloc(h, bsize[i]);
    CHECK(blocks[i] != NULL);
    lc_fill_ends(blocks[i], bsize[i], (uint32_t)i + 7);
  }
}

static void* scenario(void* arg) {
  (void)arg;
  xa_heap_t* original = xa_heap_get_default();

  /* 1. Default is the original heap: delete migrates to it. */
  xa_heap_t* h1 = xa_heap_new();
  alloc_into(h1);
  xa_heap_delete(h1);
  VALIDATE();
  for (int i = 0; i < N; i++) {
    CHECK(xa_heap_contains(original, blocks[i]));
    CHECK(lc_check_ends(blocks[i], bsize[i], (uint32_t)i + 7));
    lc_fill_ends(blocks[i], bsize[i], (uint32_t)i + 7);  /* writable */
  }
  for (int i = 0; i < N; i++) { xa_free(blocks[i]); blocks[i] = NULL; }
  VALIDATE();

  /* 2. Another heap is the default: delete migrates to *it*, not the original. */
  xa_heap_t* h2 = xa_heap_new();
  CHECK(xa_heap_set_default(h2) == original);
  CHECK(xa_heap_get_default() == h2);
  xa_heap_t* h3 = xa_heap_new();
  alloc_into(h3);
  xa_heap_delete(h3);
  VALIDATE();
  CHECK(xa_heap_get_default() == h2);
  for (int i = 0; i < N; i++) {
    CHECK(xa_heap_contains(h2, blocks[i]));
    CHECK(!xa_heap_contains(original, blocks[i]));
  }
  /* h2 allocates on its own; destroying it frees those, never the migrated. */
  void* own[50];
  for (int i = 0; i < 50; i++) own[i] = xa_heap_malloc(h2, 64 + (size_t)i * 100);
  xa_heap_destroy(h2);
  VALIDATE();
  CHECK(xa_heap_get_default() == original);
  for (int i = 0; i < N; i++) {
    CHECK(lc_check_ends(blocks[i], bsize[i], (uint32_t)i + 7));
    CHECK(xa_heap_contains(original, blocks[i]));
  }
  /* Memory of h2's own blocks is reusable: allocate a lot and check the
   * migrated blocks stay intact. */
  void* more[400];
  for (int i = 0; i < 400; i++) { more[i] = xa_malloc(64 + (size_t)i * 10); memset(more[i], 0xEE, 64); }
  for (int i = 0; i < N; i++) CHECK(lc_check_ends(blocks[i], bsize[i], (uint32_t)i + 7));
  for (int i = 0; i < 400; i++) xa_free(more[i]);
  (void)own;

  /* 3. Deleting the default user heap reverts the default to the original. */
  xa_heap_t* h4 = xa_heap_new();
  xa_heap_set_default(h4);
  void* p = xa_malloc(300);
  CHECK(xa_heap_contains(h4, p));
  xa_heap_delete(h4);
  CHECK(xa_heap_get_default() == original);
  CHECK(xa_heap_contains(original, p));
  xa_free(p);

  /* 4. Deleting or destroying the original heap is a no-op. */
  void* q = xa_malloc(100);
  xa_heap_delete(original);
  xa_heap_destroy(original);
  xa_heap_delete(NULL);
  xa_heap_destroy(NULL);
  CHECK(xa_heap_get_default() == original);
  CHECK(xa_heap_contains(original, q));
  xa_free(q);
  VALIDATE();
  /* Leave the blocks of step 2 live: another thread frees them after this
   * thread has exited. */
  return NULL;
}

int main(void) {
  pthread_join(lc_spawn(scenario, NULL), NULL);
  pthread_join(lc_spawn(free_thread, NULL), NULL);
  xa_collect(true);
  VALIDATE();
  return 0;
}
