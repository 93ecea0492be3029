/* Many short-lived threads (200 by default, in waves of 8). Each thread
 * allocates and frees with content checks, frees the blocks the thread of the
 * previous wave in its position left behind (blocks of an exited thread), and
 * leaves blocks of its own for the next wave. Every other thread calls
 * xa_thread_done() halfway and keeps allocating afterwards.
 *
 * Deterministic outcome; work scales with XA_TEST_SCALE.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "xalloc.h"
#include "api_util.h"

enum { WAVE = 8, LIVE = 32, STEPS = 600, HANDOFF = 24 };

typedef struct {
  unsigned char* p;
  size_t size;
  uint64_t salt;
} blk;

typedef struct {
  size_t index; /* global thread number */
  blk handoff[HANDOFF]; /* in: from the previous wave; out: for the next */
  size_t nhandoff;
  size_t allocs, frees;
} slot;

static slot g_slots[WAVE];

static void fill_blk(blk* b, xt_rng* r, uint64_t salt) {
  size_t s = xt_logsize(r, 1, 8192);
  if (xt_next(r) % 64 == 0) s = xt_range(r, 20000, 300000);
  b->p = xa_malloc(s);
  CHECK(b->p != NULL);
  b->size = s;
  b->salt = salt;
  xt_fill(b->p, s, salt);
}

static void check_free(blk* b) {
  CHECK_MSG(xt_check(b->p, b->size, b->salt), "block %p (%zu bytes) damaged", (void*)b->p, b->size);
  xa_free(b->p);
  b->p = NULL;
}

static void* short_thread(void* arg) {
  slot* s = arg;
  xt_rng r = {(uint64_t)s->index * 2654435761u + 17};

  /* Blocks of the exited thread before us. */
  for (size_t i = 0; i < s->nhandoff; i++) check_free(&s->handoff[i]);
  s->frees += s->nhandoff;
  s->nhandoff = 0;

  blk live[LIVE];
  for (size_t i = 0; i < LIVE; i++) fill_blk(&live[i], &r, (s->index << 24) ^ i);
  s->allocs += LIVE;
  for (size_t step = 0; step < STEPS; step++) {
    size_t k = (size_t)(xt_next(&r) % LIVE);
    check_free(&live[k]);
    fill_blk(&live[k], &r, (s->index << 24) ^ (step + LIVE));
    s->allocs++;
    s->frees++;
    if (step == STEPS / 2 && s->index % 2 == 1) {
      xa_thread_done();
      for (size_t i = 0; i < LIVE; i++)
        CHECK_MSG(xt_check(live[i].p, live[i].size, live[i].salt), "after xa_thread_done: block %zu", i);
    }
  }
  /* Leave some for the next wave, free the rest. */
  for (size_t i = 0; i < LIVE; i++) {
    if (i < HANDOFF) {
      s->handoff[s->nhandoff++] = live[i];
    } else {
      check_free(&live[i]);
      s->frees++;
    }
  }
  return NULL;
}

int main(void) {
  size_t total = xt_scaled(200, 2 * WAVE);
  total -= total % WAVE;
  memset(g_slots, 0, sizeof g_slots);
  size_t started = 0;
  while (started < total) {
    pthread_t ts[WAVE];
    for (int w = 0; w < WAVE; w++) {
      g_slots[w].index = started + (size_t)w;
      CHECK(pthread_create(&ts[w], NULL, short_thread, &g_slots[w]) == 0);
    }
    for (int w = 0; w < WAVE; w++) CHECK(pthread_join(ts[w], NULL) == 0);
    started += WAVE;
    if ((started / WAVE) % 5 == 0) xa_collect(false);
  }
  /* The last wave's blocks: check and free from the main thread. */
  size_t allocs = 0, frees = 0;
  for (int w = 0; w < WAVE; w++) {
    for (size_t i = 0; i < g_slots[w].nhandoff; i++) check_free(&g_slots[w].handoff[i]);
    frees += g_slots[w].nhandoff;
    allocs += g_slots[w].allocs;
    frees += g_slots[w].frees;
  }
  CHECK_MSG(allocs == frees, "allocated %zu, freed %zu", allocs, frees);
  CHECK(allocs == total * (LIVE + STEPS));
  xa_collect(true);
  void* p = xa_malloc(300);
  CHECK(p != NULL);
  memset(p, 2, 300);
  xa_free(p);
  return 0;
}
