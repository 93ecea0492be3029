/* Regressions found in review:
 *  1. a huge block smaller than the largest size class (aligned huge
 *     allocation) must stay huge through abandon/reclaim and through
 *     adoption by a user heap;
 *  2. adopted pages are returned once other threads free all their blocks,
 *     without an explicit collect;
 *  3. xa_heap_contains asked from another thread sees the heap's blocks. */
#include "lc_util.h"
#include "stats.h"

static void* shared;

static void* leave_aligned_huge(void* arg) {
  (void)arg;
  shared = xa_malloc_aligned((size_t)300 << 10, (size_t)1 << 20);  /* huge, block < 512 KiB */
  CHECK(shared != NULL);
  memset(shared, 0x3C, (size_t)300 << 10);
  return NULL;  /* exits with it live: abandoned */
}

static void* free_shared(void* arg) {
  (void)arg;
  xa_free(shared);
  return NULL;
}

static void* free_all(void* arg) {
  void** blocks = arg;
  for (int i = 0; i < 1000; i++) xa_free(blocks[i]);
  return NULL;
}

static void* ask_contains(void* arg) {
  void** pair = arg;
  return (void*)(uintptr_t)xa_heap_contains((xa_heap_t*)pair[0], pair[1]);
}

int main(void) {
  /* 1a. reclaim keeps the huge page huge */
  pthread_join(lc_spawn(leave_aligned_huge, NULL), NULL);
  xa_collect(false);  /* reclaims it into this thread */
  VALIDATE();
  CHECK(((unsigned char*)shared)[(300 << 10) - 1] == 0x3C);
  xa_free(shared);
  for (int i = 0; i < 20; i++) {
    size_t n = (size_t)310 << 10;
    void* p = xa_malloc(n);
    CHECK_MSG(xa_usable_size(p) >= n, "usable %zu < %zu", xa_usable_size(p), n);
    memset(p, 1, n);
    xa_free(p);
  }
  VALIDATE();

  /* 1b. a huge block adopted by a user heap, then moved on to the original
   * heap, still hears of its cross-thread free */
  xa_heap_t* original = xa_heap_get_default();
  xa_heap_t* u = xa_heap_new();
  xa_heap_t* h = xa_heap_new();
  xa_heap_set_default(u);
  shared = xa_heap_malloc(h, (size_t)64 << 20);
  CHECK(shared != NULL);
  xa_heap_delete(h);   /* -> u's adopted queue */
  CHECK(xa_heap_contains(u, shared));
  xa_heap_delete(u);   /* -> the original heap */
  CHECK(xa_heap_contains(original, shared));
  VALIDATE();
  /* (Bytes given back, not mapped bytes or the count of huge segments: the
   * 2 MiB block may need a segment of its own or reuse a cached one, and the
   * freeing thread may map a segment that it leaves in the shared cache when
   * it exits, as it does under Windows, whose thread start allocates.) */
  int64_t unmapped_before = xa__stat_current(XA_STAT_unmapped_bytes);
  pthread_join(lc_spawn(free_shared, NULL), NULL);
  void* q = xa_malloc((size_t)2 << 20);  /* a slow path: drains the inbox */
  xa_free(q);
  CHECK_MSG(xa__stat_current(XA_STAT_unmapped_bytes) - unmapped_before >= (64 << 20),
            "a freed 64 MiB block was not released");
  VALIDATE();

  /* 2. adopted pages come back without a collect */
  xa_heap_t* keep = xa_heap_new();
  xa_heap_set_default(keep);
  int64_t pages_start = xa__stat_current(XA_STAT_pages);
  for (int round = 0; round < 30; round++) {
    xa_heap_t* t = xa_heap_new();
    void* blocks[1000];
    for (int i = 0; i < 1000; i++) blocks[i] = xa_heap_malloc(t, 200 + (size_t)(i % 7) * 1000);
    xa_heap_delete(t);  /* pages -> keep's adopted queue */
    pthread_join(lc_spawn(free_all, blocks), NULL);
    for (int i = 0; i < 50; i++) xa_free(xa_malloc(3000));  /* slow paths drain the inbox */
  }
  xa_free(xa_malloc((size_t)1 << 20));
  int64_t pages_end = xa__stat_current(XA_STAT_pages);
  CHECK_MSG(pages_end < pages_start + 40, "adopted pages kept: %lld -> %lld", (long long)pages_start,
            (long long)pages_end);
  xa_heap_set_default(original);
  xa_heap_destroy(keep);
  VALIDATE();

  /* 3. contains from another thread */
  xa_heap_t* c = xa_heap_new();
  void* pc = xa_heap_malloc(c, 100);
  void* pair[2] = {c, (char*)pc + 50};
  void* r;
  pthread_join(lc_spawn(ask_contains, pair), &r);
  CHECK((uintptr_t)r == 1);
  int local;
  pair[1] = &local;
  pthread_join(lc_spawn(ask_contains, pair), &r);
  CHECK((uintptr_t)r == 0);
  xa_heap_destroy(c);
  VALIDATE();
  return 0;
}
