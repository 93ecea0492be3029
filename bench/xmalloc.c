/* xa-xmalloc: producer/consumer in the style of xmalloc-test, written for
 * xalloc's suite.
 *
 * Even-numbered threads allocate batches of BATCH blocks of random size in
 * [MIN, MAX] and push them onto one shared stack (a mutex and two condition
 * variables; at most QUEUE batches wait); odd-numbered threads pop batches
 * and free every block (so nearly every free is a cross-thread free).  The
 * batch arrays are malloc'd too.  With one thread, that thread allocates and
 * frees each batch itself.  Fixed work: BLOCKS blocks in all.
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench_util.h"

static uint64_t o_threads, o_blocks, o_batch, o_min, o_max, o_queue;

typedef struct batch {
  struct batch *next;
  uint32_t n;
  void *blk[];
} batch;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static batch *stack;
static uint64_t queued, producers_left;

static batch *make_batch(bu_rng *r, uint32_t n)
{
  batch *b = bu_malloc(sizeof *b + n * sizeof(void *));
  b->n = n;
  for (uint32_t i = 0; i < n; i++) {
    size_t sz = bu_range(r, o_min, o_max);
    unsigned char *p = bu_malloc(sz);
    uint32_t s32 = (uint32_t)sz; /* the consumer learns the size from the block */
    memcpy(p, &s32, sizeof s32);
    p[sz - 1] = (unsigned char)(sz >> 3);
    b->blk[i] = p;
  }
  return b;
}

static void free_batch(batch *b)
{
  for (uint32_t i = 0; i < b->n; i++) {
    unsigned char *p = b->blk[i];
    uint32_t sz;
    memcpy(&sz, p, sizeof sz);
    if (sz < o_min || sz > o_max || p[sz - 1] != (unsigned char)(sz >> 3))
      bu_corrupt("block overwritten", p, sz);
    free(p);
  }
  free(b);
}

static uint64_t per_producer(uint64_t id, uint64_t nprod)
{
  uint64_t share = o_blocks / nprod;
  return id == nprod - 1 ? o_blocks - share * (nprod - 1) : share;
}

static void *producer(void *arg)
{
  uint64_t id = (uint64_t)(uintptr_t)arg, nprod = (o_threads + 1) / 2;
  bu_rng r;
  bu_seed(&r, id + 7);
  uint64_t left = per_producer(id, nprod);
  while (left > 0) {
    uint32_t n = (uint32_t)(left < o_batch ? left : o_batch);
    batch *b = make_batch(&r, n);
    left -= n;
    pthread_mutex_lock(&lock);
    while (queued >= o_queue) pthread_cond_wait(&not_full, &lock);
    b->next = stack;
    stack = b;
    queued++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&lock);
  }
  pthread_mutex_lock(&lock);
  producers_left--;
  pthread_cond_broadcast(&not_empty);
  pthread_mutex_unlock(&lock);
  return NULL;
}

static void *consumer(void *arg)
{
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&lock);
    while (stack == NULL && producers_left > 0) pthread_cond_wait(&not_empty, &lock);
    batch *b = stack;
    if (b == NULL) {
      pthread_mutex_unlock(&lock);
      return NULL;
    }
    stack = b->next;
    queued--;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&lock);
    free_batch(b);
  }
}

int main(int argc, char **argv)
{
  bu_prog = "xa-xmalloc";
  bu_summary = "xmalloc-test-style producer/consumer: some threads allocate, others free";
  bu_opt("threads", &o_threads, 2, 2, 1, 256, "threads (even: producers, odd: consumers)");
  bu_opt("blocks", &o_blocks, 15000000, 50000, 1, 1ull << 40, "blocks in all");
  bu_opt("batch", &o_batch, 128, 128, 1, 1u << 20, "blocks per batch");
  bu_opt("min", &o_min, 8, 8, 8, 1u << 30, "smallest block (>= 8)");
  bu_opt("max", &o_max, 1024, 1024, 1, 1u << 30, "largest block");
  bu_opt("queue", &o_queue, 64, 64, 1, 1u << 20, "most batches waiting");
  bu_parse(argc, argv);
  if (o_min > o_max) bu_usage(1);

  double t0 = bu_now();
  if (o_threads == 1) {
    bu_rng r;
    bu_seed(&r, 7);
    for (uint64_t left = o_blocks; left > 0;) {
      uint32_t n = (uint32_t)(left < o_batch ? left : o_batch);
      free_batch(make_batch(&r, n));
      left -= n;
    }
  } else {
    pthread_t th[256];
    uint64_t nprod = (o_threads + 1) / 2;
    producers_left = nprod;
    for (uint64_t t = 0; t < o_threads; t++)
      th[t] = (t % 2 == 0) ? bu_spawn(producer, (void *)(uintptr_t)(t / 2))
                           : bu_spawn(consumer, NULL);
    for (uint64_t t = 0; t < o_threads; t++) bu_join(th[t]);
  }
  double t1 = bu_now();
  bu_report_head("xmalloc");
  bu_report_tail(t1 - t0);
  return 0;
}
