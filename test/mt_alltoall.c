/* All-to-all: 8 threads each allocate an array of blocks per round, publish
 * it, and free (after checking) the array another thread published; the
 * partner changes every round so every thread frees every other thread's
 * blocks. Some received blocks are kept for one more round and freed later,
 * so frees reach pages that are being allocated from at the same time.
 *
 * Deterministic outcome: every block is checked and freed exactly once.
 * Work scales with XA_TEST_SCALE.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "xalloc.h"
#include "api_util.h"

enum { NT = 8, PER_ROUND = 400, KEEP = 50 };

typedef struct {
  unsigned char* p;
  size_t size;
  uint64_t salt;
} blk;

static blk* g_slot[NT];
static pthread_barrier_t g_barrier;
static size_t g_rounds;

typedef struct {
  int id;
  size_t freed;
  size_t made;
} thr;

static void check_and_free(blk* b) {
  CHECK_MSG(xt_check(b->p, b->size, b->salt), "block %p (%zu bytes) damaged", (void*)b->p, b->size);
  xa_free(b->p);
}

static void* worker(void* arg) {
  thr* me = arg;
  xt_rng r = {(uint64_t)me->id * 104729 + 3};
  blk kept[KEEP];
  size_t nkept = 0;
  for (size_t round = 0; round < g_rounds; round++) {
    blk* arr = xa_malloc(PER_ROUND * sizeof(blk));
    CHECK(arr != NULL);
    for (size_t i = 0; i < PER_ROUND; i++) {
      size_t s = (i % 199 == 5) ? xt_range(&r, (size_t)100 << 10, (size_t)700 << 10) : xt_logsize(&r, 1, 16384);
      arr[i].p = xa_malloc(s);
      CHECK(arr[i].p != NULL);
      arr[i].size = s;
      arr[i].salt = ((uint64_t)me->id << 40) ^ (round << 20) ^ i;
      xt_fill(arr[i].p, s, arr[i].salt);
    }
    me->made += PER_ROUND;
    g_slot[me->id] = arr;
    pthread_barrier_wait(&g_barrier);

    /* Partner offset 1..NT-1: never ourselves. */
    int from = (me->id + 1 + (int)(round % (NT - 1))) % NT;
    blk* in = g_slot[from];
    /* Free what we kept from the last round first. */
    for (size_t k = 0; k < nkept; k++) check_and_free(&kept[k]);
    me->freed += nkept;
    nkept = 0;
    for (size_t i = 0; i < PER_ROUND; i++) {
      if (i % (PER_ROUND / KEEP) == 0 && nkept < KEEP) {
        kept[nkept++] = in[i];
      } else {
        check_and_free(&in[i]);
        me->freed++;
      }
    }
    xa_free(in);
    pthread_barrier_wait(&g_barrier); /* slots may be reused now */
  }
  for (size_t k = 0; k < nkept; k++) check_and_free(&kept[k]);
  me->freed += nkept;
  return NULL;
}

int main(void) {
  g_rounds = xt_scaled(60, 4);
  CHECK(pthread_barrier_init(&g_barrier, NULL, NT) == 0);
  pthread_t ts[NT];
  thr st[NT];
  for (int i = 0; i < NT; i++) {
    st[i].id = i;
    st[i].freed = st[i].made = 0;
    CHECK(pthread_create(&ts[i], NULL, worker, &st[i]) == 0);
  }
  size_t made = 0, freed = 0;
  for (int i = 0; i < NT; i++) {
    CHECK(pthread_join(ts[i], NULL) == 0);
    made += st[i].made;
    freed += st[i].freed;
  }
  CHECK(pthread_barrier_destroy(&g_barrier) == 0);
  CHECK_MSG(made == freed, "made %zu, freed %zu", made, freed);
  CHECK(made == NT * PER_ROUND * g_rounds);
  xa_collect(true);
  void* p = xa_malloc(5000);
  CHECK(p != NULL);
  memset(p, 3, 5000);
  xa_free(p);
  return 0;
}
