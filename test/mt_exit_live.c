/* Threads that exit with live blocks: their blocks (default heap and an
 * undeleted user heap) must stay valid after the thread is gone, be readable
 * and writable from other threads, and be freeable by any thread later.
 *
 * Then other threads create user heaps, allocate a lot (so abandoned memory
 * gets reclaimed), destroy those heaps and allocate and write more: if a
 * destroyed heap had taken in a dead thread's pages and freed them
 * (lifecycle-pitfalls.md 2), the dead thread's blocks would be handed out
 * again and overwritten, which the final content check catches.
 *
 * Some threads call xa_thread_done() before exiting and allocate again
 * afterwards. Deterministic outcome; work scales with XA_TEST_SCALE.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "xalloc.h"
#include "api_util.h"

enum { NT1 = 8, K = 300, KH = 60, KAFTER = 20, NT2 = 4, NOWN = 1500 };

typedef struct {
  unsigned char* p;
  size_t size;
  uint64_t salt;
  bool live;
} blk;

typedef struct {
  int id;
  blk b[K + KH + KAFTER];
  size_t n;
} table;

static table g_tab[NT1];

static void make(table* t, xa_heap_t* h, size_t size, size_t align) {
  blk* b = &t->b[t->n];
  if (align != 0) {
    b->p = h != NULL ? xa_heap_malloc_aligned(h, size, align) : xa_malloc_aligned(size, align);
  } else {
    b->p = h != NULL ? xa_heap_malloc(h, size) : xa_malloc(size);
  }
  CHECK(b->p != NULL);
  if (align != 0) CHECK(xt_aligned(b->p, align));
  b->size = size;
  b->salt = ((uint64_t)t->id << 32) ^ t->n;
  b->live = true;
  xt_fill(b->p, size, b->salt);
  t->n++;
}

static void verify(const blk* b, const char* when) {
  CHECK_MSG(xt_check(b->p, b->size, b->salt), "%s: block %p (%zu bytes) damaged", when, (void*)b->p, b->size);
}

static void* dying_thread(void* arg) {
  table* t = arg;
  xt_rng r = {(uint64_t)t->id * 31337 + 11};
  t->n = 0;
  make(t, NULL, xt_range(&r, (size_t)1 << 20, (size_t)3 << 20), 0); /* huge */
  make(t, NULL, (size_t)64 << 10, (size_t)64 << 10);                 /* aligned */
  while (t->n < K) make(t, NULL, xt_logsize(&r, 1, (size_t)128 << 10), 0);
  /* A user heap the thread never deletes: thread exit deletes it. */
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  while (t->n < K + KH) make(t, h, xt_logsize(&r, 1, (size_t)32 << 10), 0);
  for (size_t i = K; i < K + KH; i++) CHECK(xa_heap_contains(h, t->b[i].p));
  if (t->id % 2 == 1) {
    /* Hand over now; the thread may then allocate again. */
    xa_thread_done();
    for (size_t i = 0; i < t->n; i++) verify(&t->b[i], "after xa_thread_done");
    while (t->n < K + KH + KAFTER) make(t, NULL, xt_logsize(&r, 1, 4096), 0);
  }
  return NULL;
}

typedef struct {
  int id;
} second;

static void* second_thread(void* arg) {
  second* me = arg;
  xt_rng r = {(uint64_t)me->id * 65537 + 5};
  unsigned char** own = xa_malloc(NOWN * sizeof(*own));
  size_t* own_sz = xa_malloc(NOWN * sizeof(*own_sz));
  CHECK(own != NULL && own_sz != NULL);

  /* Allocate a lot from a user heap and the default heap. */
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  for (size_t i = 0; i < NOWN; i++) {
    own_sz[i] = xt_logsize(&r, 8, (size_t)48 << 10);
    own[i] = (i % 2 == 0) ? xa_heap_malloc(h, own_sz[i]) : xa_malloc(own_sz[i]);
    CHECK(own[i] != NULL);
    memset(own[i], 0xC3, own_sz[i]);
  }
  /* Free (cross-thread) the dead threads' blocks i % 3 == 1 of our tables. */
  for (int t = me->id; t < NT1; t += NT2) {
    for (size_t i = 0; i < g_tab[t].n; i++) {
      blk* b = &g_tab[t].b[i];
      if (i % 3 == 1 && b->live) {
        verify(b, "second thread, before free");
        xa_free(b->p);
        b->live = false;
      }
    }
  }
  /* Destroy the user heap: frees exactly the blocks it allocated. */
  xa_heap_destroy(h);
  for (size_t i = 1; i < NOWN; i += 2) CHECK(xt_all_bytes(own[i], own_sz[i], 0xC3));
  for (size_t i = 1; i < NOWN; i += 2) xa_free(own[i]);
  /* Reuse whatever was freed, writing all of it. */
  for (size_t i = 0; i < NOWN; i++) {
    own_sz[i] = xt_logsize(&r, 8, (size_t)48 << 10);
    own[i] = xa_malloc(own_sz[i]);
    CHECK(own[i] != NULL);
    memset(own[i], 0x3C, own_sz[i]);
  }
  for (size_t i = 0; i < NOWN; i++) {
    CHECK(xt_all_bytes(own[i], own_sz[i], 0x3C));
    xa_free(own[i]);
  }
  xa_free(own);
  xa_free(own_sz);
  return NULL;
}

static void one_cycle(void) {
  pthread_t ts[NT1];
  for (int t = 0; t < NT1; t++) {
    g_tab[t].id = t;
    CHECK(pthread_create(&ts[t], NULL, dying_thread, &g_tab[t]) == 0);
  }
  for (int t = 0; t < NT1; t++) CHECK(pthread_join(ts[t], NULL) == 0);

  /* All blocks of the exited threads are intact, ours to use. */
  for (int t = 0; t < NT1; t++) {
    CHECK(g_tab[t].n == (t % 2 ? (size_t)(K + KH + KAFTER) : (size_t)(K + KH)));
    for (size_t i = 0; i < g_tab[t].n; i++) {
      blk* b = &g_tab[t].b[i];
      verify(b, "after the owner exited");
      CHECK(xa_is_in_heap_region(b->p));
      CHECK(xa_usable_size(b->p) >= b->size);
    }
  }
  /* Free a third from the main thread. */
  for (int t = 0; t < NT1; t++)
    for (size_t i = 0; i < g_tab[t].n; i += 3) {
      xa_free(g_tab[t].b[i].p);
      g_tab[t].b[i].live = false;
    }
  xa_collect(false);
  for (int t = 0; t < NT1; t++)
    for (size_t i = 0; i < g_tab[t].n; i++)
      if (g_tab[t].b[i].live) verify(&g_tab[t].b[i], "after main freed a third");

  pthread_t ss[NT2];
  second sc[NT2];
  for (int j = 0; j < NT2; j++) {
    sc[j].id = j;
    CHECK(pthread_create(&ss[j], NULL, second_thread, &sc[j]) == 0);
  }
  for (int j = 0; j < NT2; j++) CHECK(pthread_join(ss[j], NULL) == 0);

  /* The last third survived everything: check, rewrite, collect, check. */
  for (int t = 0; t < NT1; t++)
    for (size_t i = 0; i < g_tab[t].n; i++) {
      blk* b = &g_tab[t].b[i];
      CHECK((i % 3 == 2) == b->live);
      if (!b->live) continue;
      verify(b, "after heaps of other threads were destroyed");
      b->salt ^= 0xABCDEFull;
      xt_fill(b->p, b->size, b->salt);
    }
  xa_collect(true);
  for (int t = 0; t < NT1; t++)
    for (size_t i = 0; i < g_tab[t].n; i++) {
      blk* b = &g_tab[t].b[i];
      if (!b->live) continue;
      verify(b, "after xa_collect(true)");
      xa_free(b->p);
      b->live = false;
    }
  xa_collect(true);
}

int main(void) {
  size_t cycles = xt_scaled(3, 1);
  for (size_t c = 0; c < cycles; c++) one_cycle();
  void* p = xa_malloc(100);
  CHECK(p != NULL);
  memset(p, 1, 100);
  xa_free(p);
  return 0;
}
