/* xa-larson: a server simulation in the style of Larson and Krishnan's
 * benchmark, written for xalloc's suite.
 *
 * THREADS lineages run at the same time.  A lineage owns a working set of
 * SLOTS blocks of random size in [MIN, MAX].  Its current thread replaces OPS
 * random slots (check the block's tags, free it, allocate a new one) and then
 * hands the whole set to a freshly created successor thread and exits; the
 * successor frees the blocks its predecessor allocated (cross-thread frees to
 * a dead thread) and so on for GENS generations.  The initial sets are
 * allocated by the main thread.  Fixed work: THREADS * GENS * OPS replacements.
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench_util.h"

static uint64_t o_threads, o_gens, o_ops, o_slots, o_min, o_max;

typedef struct {
  unsigned char **blk;
  uint32_t *size;
  bu_rng rng;
  uint64_t gen;
  pthread_t prev, last;
  int has_prev;
} lineage;

static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static uint64_t done_count;
static _Atomic uint64_t total_threads;

static inline unsigned char tag_of(uint64_t i, uint32_t size)
{
  return (unsigned char)(i * 131u + size);
}

static void *generation(void *arg)
{
  lineage *L = arg;
  atomic_fetch_add_explicit(&total_threads, 1, memory_order_relaxed);
  if (L->has_prev) bu_join(L->prev);
  for (uint64_t k = 0; k < o_ops; k++) {
    uint32_t i = bu_below(&L->rng, (uint32_t)o_slots);
    bu_check(L->blk[i], L->size[i], tag_of(i, L->size[i]));
    free(L->blk[i]);
    uint32_t sz = (uint32_t)bu_range(&L->rng, o_min, o_max);
    L->blk[i] = bu_malloc(sz);
    L->size[i] = sz;
    bu_tag(L->blk[i], sz, tag_of(i, sz));
  }
  if (++L->gen < o_gens) {
    L->prev = pthread_self();
    L->has_prev = 1;
    bu_spawn(generation, L); /* the successor joins us */
    return NULL;
  }
  for (uint64_t i = 0; i < o_slots; i++) {
    bu_check(L->blk[i], L->size[i], tag_of(i, L->size[i]));
    free(L->blk[i]);
  }
  L->last = pthread_self();
  pthread_mutex_lock(&done_lock);
  done_count++;
  pthread_cond_signal(&done_cond);
  pthread_mutex_unlock(&done_lock);
  return NULL;
}

int main(int argc, char **argv)
{
  bu_prog = "xa-larson";
  bu_summary = "larson-style server simulation: working sets handed from thread to thread";
  bu_opt("threads", &o_threads, 2, 2, 1, 256, "concurrent lineages (threads)");
  bu_opt("gens", &o_gens, 500, 5, 1, 1u << 30, "generations (threads) per lineage");
  bu_opt("ops", &o_ops, 100000, 2000, 1, 1ull << 40, "slot replacements per generation");
  bu_opt("slots", &o_slots, 2000, 200, 1, 1u << 24, "blocks in a working set");
  bu_opt("min", &o_min, 16, 16, 1, 1u << 30, "smallest block");
  bu_opt("max", &o_max, 512, 512, 1, 1u << 30, "largest block");
  bu_parse(argc, argv);
  if (o_min > o_max) bu_usage(1);

  lineage *ls = calloc(o_threads, sizeof *ls);
  if (ls == NULL) bu_oom(o_threads * sizeof *ls);
  for (uint64_t t = 0; t < o_threads; t++) {
    lineage *L = &ls[t];
    bu_seed(&L->rng, t + 1);
    L->blk = bu_malloc(o_slots * sizeof *L->blk);
    L->size = bu_malloc(o_slots * sizeof *L->size);
    for (uint64_t i = 0; i < o_slots; i++) {
      uint32_t sz = (uint32_t)bu_range(&L->rng, o_min, o_max);
      L->blk[i] = bu_malloc(sz);
      L->size[i] = sz;
      bu_tag(L->blk[i], sz, tag_of(i, sz));
    }
  }
  double t0 = bu_now();
  for (uint64_t t = 0; t < o_threads; t++) bu_spawn(generation, &ls[t]);
  pthread_mutex_lock(&done_lock);
  while (done_count < o_threads) pthread_cond_wait(&done_cond, &done_lock);
  pthread_mutex_unlock(&done_lock);
  for (uint64_t t = 0; t < o_threads; t++) bu_join(ls[t].last);
  double t1 = bu_now();
  for (uint64_t t = 0; t < o_threads; t++) {
    free(ls[t].blk);
    free(ls[t].size);
  }
  free(ls);
  bu_report_head("larson");
  printf(" threads_created=%" PRIu64 " replacements=%" PRIu64,
         atomic_load(&total_threads), o_threads * o_gens * o_ops);
  bu_report_tail(t1 - t0);
  return 0;
}
