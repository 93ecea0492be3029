/* lifecycle-pitfalls 2: thread A allocates and exits with live blocks; its
 * memory is abandoned. Thread B creates heap H and allocates from it enough
 * to reclaim A's segments; then B destroys H. A's blocks must survive. */
#include "lc_util.h"

#define N 4000
static void* ablocks[N];
static size_t asize[N];

static void* thread_a(void* arg) {
  (void)arg;
  for (int i = 0; i < N; i++) {
    asize[i] = 16 + (size_t)(i % 50) * 24;
    ablocks[i] = xa_malloc(asize[i]);
    lc_fill(ablocks[i], asize[i], (uint32_t)i);
  }
  /* Free every other block so A's pages have room: tempting to reuse. */
  for (int i = 0; i < N; i += 2) { xa_free(ablocks[i]); ablocks[i] = NULL; }
  return NULL;  /* exits with N/2 live blocks */
}

static void* thread_b(void* arg) {
  (void)arg;
  xa_heap_t* h = xa_heap_new();
  void* mine[N];
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < N; i++) {
      mine[i] = xa_heap_malloc(h, 16 + (size_t)(i % 50) * 24);
      CHECK(mine[i] != NULL);
      memset(mine[i], 0x5A, 16);
    }
    for (int i = 0; i < N; i++) CHECK(xa_heap_contains(h, mine[i]));
    xa_heap_collect(h, false);
    VALIDATE();
  }
  xa_collect(false);  /* reclaims every abandoned segment (into the original heap) */
  VALIDATE();
  for (int i = 0; i < N; i++) {
    if (ablocks[i] != NULL) CHECK(!xa_heap_contains(h, ablocks[i]));
  }
  xa_heap_destroy(h);
  VALIDATE();
  /* Reuse lots of memory: if A's blocks had been freed they get overwritten. */
  void* fill[N];
  for (int i = 0; i < N; i++) { fill[i] = xa_malloc(16 + (size_t)(i % 50) * 24); memset(fill[i], 0xC3, 16 + (size_t)(i % 50) * 24); }
  for (int i = 0; i < N; i++) {
    if (ablocks[i] == NULL) continue;
    CHECK_MSG(lc_check(ablocks[i], asize[i], (uint32_t)i), "dead thread's block %d was freed by destroy", i);
  }
  for (int i = 0; i < N; i++) xa_free(fill[i]);
  for (int i = 0; i < N; i++) if (ablocks[i] != NULL) { xa_free(ablocks[i]); ablocks[i] = NULL; }
  VALIDATE();
  return NULL;
}

int main(void) {
  pthread_join(lc_spawn(thread_a, NULL), NULL);
  pthread_join(lc_spawn(thread_b, NULL), NULL);
  VALIDATE();
  return 0;
}
