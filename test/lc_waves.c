/* 64 threads in waves of 8: each creates heaps and deletes, destroys or
 * leaves them to thread exit; frees blocks of earlier (exited) threads;
 * exits with live blocks. Survivors reclaim the abandoned memory. Every
 * block's content is checked before it is freed. */
#include <stdlib.h>
#include "lc_util.h"

#define WAVES 8
#define PER_WAVE 8
#define KEEP 300  /* blocks each thread leaves live for the next wave */

typedef struct { void* p; size_t n; uint32_t salt; } item_t;
static item_t handoff[WAVES + 1][PER_WAVE][KEEP];

static uint32_t rnd(uint32_t* s) { *s ^= *s << 13; *s ^= *s >> 17; *s ^= *s << 5; return *s; }

struct arg { int wave, idx; };

static void* worker(void* varg) {
  struct arg* a = varg;
  uint32_t seed = (uint32_t)(a->wave * 131 + a->idx * 7 + 1);
  /* 1. free what the previous wave left (its threads have exited) */
  if (a->wave > 0) {
    for (int k = 0; k < KEEP; k++) {
      item_t* it = &handoff[a->wave][a->idx][k];
      CHECK(lc_check_ends(it->p, it->n, it->salt));
      xa_free(it->p);
    }
  }
  /* 2. heaps: one deleted, one destroyed, one left to thread exit */
  xa_heap_t* hs[3];
  void* ps[3][100];
  size_t pn[3][100];
  for (int j = 0; j < 3; j++) {
    hs[j] = xa_heap_new();
    CHECK(hs[j] != NULL);
    for (int k = 0; k < 100; k++) {
      size_t n = lc_sizes[rnd(&seed) % (LC_NSIZES - 1)];  /* no 5 MiB blocks here */
      ps[j][k] = xa_heap_malloc(hs[j], n);
      pn[j][k] = n;
      CHECK(ps[j][k] != NULL);
      memset(ps[j][k], j + 1, 8);  /* the smallest blocks are 8 bytes */
    }
  }
  VALIDATE();
  for (int k = 0; k < 100; k += 2) xa_free(ps[0][k]);
  xa_heap_delete(hs[0]);           /* odd blocks of hs[0] live on in the default heap */
  xa_heap_destroy(hs[1]);          /* all of hs[1] gone at once */
  VALIDATE();
  for (int k = 1; k < 100; k += 2) {
    CHECK(((unsigned char*)ps[0][k])[7] == 1);
    xa_free(ps[0][k]);
  }
  /* hs[2] is left to thread exit with its blocks live: they are freed by
   * the next wave through the handoff of the first KEEP items below. */
  /* 3. leave KEEP blocks for the next wave */
  for (int k = 0; k < KEEP; k++) {
    item_t* it = &handoff[a->wave + 1][a->idx][k];
    if (k < 100) {
      it->p = ps[2][k];
      it->n = pn[2][k];
      it->salt = 0;
      lc_fill_ends(it->p, it->n, 0);
    } else {
      it->n = 8 + rnd(&seed) % 3000;
      it->p = xa_malloc(it->n);
      CHECK(it->p != NULL);
      it->salt = rnd(&seed);
      lc_fill_ends(it->p, it->n, it->salt);
    }
  }
  VALIDATE();
  return NULL;
}

int main(void) {
  for (int w = 0; w < WAVES; w++) {
    pthread_t t[PER_WAVE];
    struct arg args[PER_WAVE];
    for (int i = 0; i < PER_WAVE; i++) {
      args[i] = (struct arg){w, i};
      t[i] = lc_spawn(worker, &args[i]);
    }
    for (int i = 0; i < PER_WAVE; i++) pthread_join(t[i], NULL);
  }
  /* The last wave's blocks are freed by main, then everything collected. */
  for (int i = 0; i < PER_WAVE; i++)
    for (int k = 0; k < KEEP; k++) {
      item_t* it = &handoff[WAVES][i][k];
      CHECK(lc_check_ends(it->p, it->n, it->salt));
      xa_free(it->p);
    }
  xa_collect(true);
  VALIDATE();
  /* xa_process_done twice, then more work: allocation keeps working. */
  xa_process_done();
  xa_process_done();
  VALIDATE();
  for (int i = 0; i < 1000; i++) {
    void* p = xa_malloc((size_t)i * 37);
    CHECK(p != NULL);
    xa_free(p);
  }
  VALIDATE();
  return 0;
}
