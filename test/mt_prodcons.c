/* Producer/consumer: producer threads allocate blocks of random sizes
 * (8 B .. 64 KiB), fill them with a pattern derived from the block's address
 * and size, and pass them through a mutex-protected queue to consumer threads,
 * which check the pattern and free them (cross-thread frees).
 *
 * The outcome is deterministic: every block produced is consumed exactly once
 * and must arrive intact. Work scales with XA_TEST_SCALE.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "xalloc.h"
#include "api_util.h"

enum { NPROD = 4, NCONS = 4, QCAP = 1024, BATCH = 16 };

typedef struct {
  void* p;
  size_t size;
} item;

static struct {
  pthread_mutex_t lock;
  pthread_cond_t not_empty;
  pthread_cond_t not_full;
  item buf[QCAP];
  size_t head, count;
  bool done;
} q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, {{0, 0}}, 0, 0, false};

static size_t g_per_producer;

static void q_push(const item* its, size_t n) {
  pthread_mutex_lock(&q.lock);
  for (size_t i = 0; i < n; i++) {
    while (q.count == QCAP) {
      /* Wake consumers for what is queued before sleeping. */
      pthread_cond_broadcast(&q.not_empty);
      pthread_cond_wait(&q.not_full, &q.lock);
    }
    q.buf[(q.head + q.count) % QCAP] = its[i];
    q.count++;
  }
  pthread_cond_broadcast(&q.not_empty);
  pthread_mutex_unlock(&q.lock);
}

/* Up to max items; 0 when the queue is drained and producers are done. */
static size_t q_pop(item* out, size_t max) {
  pthread_mutex_lock(&q.lock);
  while (q.count == 0 && !q.done) pthread_cond_wait(&q.not_empty, &q.lock);
  size_t n = 0;
  while (n < max && q.count > 0) {
    out[n++] = q.buf[q.head];
    q.head = (q.head + 1) % QCAP;
    q.count--;
  }
  if (n > 0) pthread_cond_broadcast(&q.not_full);
  pthread_mutex_unlock(&q.lock);
  return n;
}

static void* producer(void* arg) {
  xt_rng r = {(uint64_t)(uintptr_t)arg * 7919 + 1};
  item batch[BATCH];
  size_t nb = 0;
  for (size_t i = 0; i < g_per_producer; i++) {
    size_t s = xt_logsize(&r, 8, (size_t)64 << 10);
    unsigned char* p = xa_malloc(s);
    CHECK(p != NULL);
    CHECK(xa_usable_size(p) >= s);
    xt_fill(p, s, 0);
    batch[nb].p = p;
    batch[nb].size = s;
    if (++nb == BATCH) {
      q_push(batch, nb);
      nb = 0;
    }
  }
  q_push(batch, nb);
  return NULL;
}

static void* consumer(void* arg) {
  size_t* consumed = arg;
  item batch[BATCH];
  size_t n;
  while ((n = q_pop(batch, BATCH)) > 0) {
    for (size_t i = 0; i < n; i++) {
      CHECK_MSG(xt_check(batch[i].p, batch[i].size, 0), "block %p of %zu bytes damaged in transit", batch[i].p,
                batch[i].size);
      CHECK(xa_usable_size(batch[i].p) >= batch[i].size);
      /* Scribble before freeing so a block handed out twice shows up. */
      memset(batch[i].p, 0xEE, batch[i].size < 32 ? batch[i].size : 32);
      xa_free(batch[i].p);
    }
    *consumed += n;
  }
  return NULL;
}

int main(void) {
  size_t total = xt_scaled(200000, 4000);
  g_per_producer = total / NPROD;
  total = g_per_producer * NPROD;

  pthread_t prod[NPROD], cons[NCONS];
  size_t consumed[NCONS] = {0};
  for (int i = 0; i < NCONS; i++) CHECK(pthread_create(&cons[i], NULL, consumer, &consumed[i]) == 0);
  for (int i = 0; i < NPROD; i++) CHECK(pthread_create(&prod[i], NULL, producer, (void*)(uintptr_t)(i + 1)) == 0);
  for (int i = 0; i < NPROD; i++) CHECK(pthread_join(prod[i], NULL) == 0);

  pthread_mutex_lock(&q.lock);
  q.done = true;
  pthread_cond_broadcast(&q.not_empty);
  pthread_mutex_unlock(&q.lock);
  for (int i = 0; i < NCONS; i++) CHECK(pthread_join(cons[i], NULL) == 0);

  size_t sum = 0;
  for (int i = 0; i < NCONS; i++) sum += consumed[i];
  CHECK_MSG(sum == total, "consumed %zu of %zu blocks", sum, total);
  CHECK(q.count == 0);

  /* The producers' memory (abandoned at their exit, emptied by the
   * consumers) can be collected, and allocation goes on. */
  xa_collect(true);
  void* p = xa_malloc(1000);
  CHECK(p != NULL);
  memset(p, 0, 1000);
  xa_free(p);
  return 0;
}
