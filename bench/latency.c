/* xa-latency: per-call latency of malloc and free in a server-like churn.
 *
 * THREADS threads share a table of SLOTS values. Each operation picks a
 * random slot, allocates a new value (mostly 16-1024 bytes, one in 64 of
 * 4-64 KiB, one in 4096 of 256 KiB-2 MiB), writes it, swaps it into the slot
 * and frees the value that was there, which another thread allocated half
 * of the time. Every malloc and every free is timed on its own with the
 * CPU's cycle counter (converted to ns) and counted in a histogram with
 * buckets 1/16 of a power of two wide (6% resolution). The tail (p99.9,
 * max) is where segment mappings, purges, reclaim and lock waits show up;
 * means hide them.
 *
 * Output: one result line with p50/p90/p99/p99.9/p99.99/max of each call,
 * in ns, and the time the whole run took.
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench_util.h"
#include <stdatomic.h>

static uint64_t o_threads, o_ops, o_slots;

/* ---- a cheap clock ---------------------------------------------------------------- */

static inline uint64_t ticks(void)
{
#if defined(__x86_64__)
  uint32_t lo, hi;
  __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
#elif defined(__aarch64__)
  uint64_t v;
  __asm__ __volatile__("isb; mrs %0, cntvct_el0" : "=r"(v));
  return v;
#else
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

static double ns_per_tick = 1.0;

static void calibrate(void)
{
  double t0 = bu_now();
  uint64_t k0 = ticks();
  while (bu_now() - t0 < 0.05) {
  }
  double t1 = bu_now();
  uint64_t k1 = ticks();
  if (k1 > k0) ns_per_tick = (t1 - t0) * 1e9 / (double)(k1 - k0);
}

/* ---- histograms --------------------------------------------------------------------- */

#define SUB 16        /* buckets per power of two */
#define POWERS 48
#define BUCKETS (POWERS * SUB)

typedef struct {
  uint64_t count[BUCKETS];
  uint64_t max;
} histo_t;

static inline unsigned bucket_of(uint64_t t)
{
  if (t < SUB) return (unsigned)t;
  unsigned p = 63u - (unsigned)__builtin_clzll(t);  /* t in [2^p, 2^(p+1)) */
  unsigned sub = (unsigned)((t >> (p - 4)) & (SUB - 1));
  unsigned b = (p - 3) * SUB + sub;
  return b < BUCKETS ? b : BUCKETS - 1;
}

/* The lowest value of bucket b (inverse of bucket_of). */
static uint64_t bucket_low(unsigned b)
{
  if (b < SUB) return b;
  unsigned p = b / SUB + 3, sub = b % SUB;
  return ((uint64_t)1 << p) + ((uint64_t)sub << (p - 4));
}

static inline void record(histo_t *h, uint64_t t)
{
  h->count[bucket_of(t)]++;
  if (t > h->max) h->max = t;
}

static double percentile_ns(const histo_t *h, double q)
{
  uint64_t total = 0;
  for (unsigned b = 0; b < BUCKETS; b++) total += h->count[b];
  if (total == 0) return 0;
  uint64_t want = (uint64_t)(q * (double)total), seen = 0;
  if (want >= total) want = total - 1;
  for (unsigned b = 0; b < BUCKETS; b++) {
    seen += h->count[b];
    if (seen > want) {
      /* the middle of the bucket, at most the maximum */
      double lo = (double)bucket_low(b), hi = (double)bucket_low(b + 1);
      double mid = (lo + hi) / 2;
      if (mid > (double)h->max) mid = (double)h->max;
      return mid * ns_per_tick;
    }
  }
  return (double)h->max * ns_per_tick;
}

/* ---- the workload ---------------------------------------------------------------- */

typedef struct {
  _Atomic(unsigned char *) value;
} slot_t;

static slot_t *table;
static pthread_barrier_t start;

typedef struct {
  unsigned id;
  histo_t malloc_h, free_h;
  uint64_t bad;
} worker_t;

static size_t pick_size(bu_rng *r)
{
  uint32_t k = bu_below(r, 4096);
  if (k == 0) return bu_range(r, 256u << 10, 2u << 20);
  if (k < 64) return bu_range(r, 4u << 10, 64u << 10);
  return bu_range(r, 16, 1024);
}

static void *worker(void *arg)
{
  worker_t *w = arg;
  bu_rng r;
  bu_seed(&r, 1000 + w->id);
  pthread_barrier_wait(&start);
  for (uint64_t i = 0; i < o_ops; i++) {
    size_t size = pick_size(&r);
    uint64_t t0 = ticks();
    unsigned char *p = malloc(size);
    uint64_t t1 = ticks();
    record(&w->malloc_h, t1 - t0);
    if (p == NULL) {
      w->bad++;
      continue;
    }
    /* the first and last byte carry the size's low bits (checked at free) */
    p[0] = (unsigned char)size;
    p[size - 1] = (unsigned char)(size >> 3);
    memcpy(p + 1, &size, sizeof(size));  /* sizes are at least 16 */
    uint32_t s = bu_below(&r, (uint32_t)o_slots);
    unsigned char *old = atomic_exchange_explicit(&table[s].value, p, memory_order_acq_rel);
    if (old != NULL) {
      size_t osize = 0;
      memcpy(&osize, old + 1, sizeof(osize));
      if (old[0] != (unsigned char)osize || old[osize - 1] != (unsigned char)(osize >> 3)) w->bad++;
      t0 = ticks();
      free(old);
      t1 = ticks();
      record(&w->free_h, t1 - t0);
    }
  }
  return NULL;
}

int main(int argc, char **argv)
{
  bu_prog = "xa-latency";
  bu_summary = "per-call latency percentiles of malloc and free in a multi-threaded churn";
  bu_opt("threads", &o_threads, 4, 2, 1, 256, "threads");
  bu_opt("ops", &o_ops, 2000000, 20000, 1, 1ull << 40, "operations per thread");
  bu_opt("slots", &o_slots, 100000, 1000, 1, 1u << 26, "shared table slots");
  bu_parse(argc, argv);
  calibrate();
  table = bu_malloc(o_slots * sizeof *table);
  for (uint64_t i = 0; i < o_slots; i++) atomic_init(&table[i].value, NULL);
  worker_t *ws = bu_malloc(o_threads * sizeof *ws);
  memset(ws, 0, o_threads * sizeof *ws);
  pthread_t *ts = bu_malloc(o_threads * sizeof *ts);
  pthread_barrier_init(&start, NULL, (unsigned)o_threads + 1);
  for (uint64_t t = 0; t < o_threads; t++) {
    ws[t].id = (unsigned)t;
    ts[t] = bu_spawn(worker, &ws[t]);
  }
  double t0 = bu_now();
  pthread_barrier_wait(&start);
  for (uint64_t t = 0; t < o_threads; t++) pthread_join(ts[t], NULL);
  double t1 = bu_now();
  histo_t *m = calloc(1, sizeof *m), *f = calloc(1, sizeof *f);
  uint64_t bad = 0;
  for (uint64_t t = 0; t < o_threads; t++) {
    for (unsigned b = 0; b < BUCKETS; b++) {
      m->count[b] += ws[t].malloc_h.count[b];
      f->count[b] += ws[t].free_h.count[b];
    }
    if (ws[t].malloc_h.max > m->max) m->max = ws[t].malloc_h.max;
    if (ws[t].free_h.max > f->max) f->max = ws[t].free_h.max;
    bad += ws[t].bad;
  }
  for (uint64_t i = 0; i < o_slots; i++) free(atomic_load(&table[i].value));
  if (bad != 0) {
    fprintf(stderr, "xa-latency: %" PRIu64 " failed allocations or damaged blocks\n", bad);
    return 1;
  }
  static const double qs[] = {0.5, 0.9, 0.99, 0.999, 0.9999};
  static const char *qn[] = {"p50", "p90", "p99", "p999", "p9999"};
  bu_report_head("latency");
  for (int k = 0; k < 2; k++) {
    const histo_t *h = k == 0 ? m : f;
    const char *call = k == 0 ? "malloc" : "free";
    for (int i = 0; i < 5; i++) printf(" %s_%s_ns=%.0f", call, qn[i], percentile_ns(h, qs[i]));
    printf(" %s_max_ns=%.0f", call, (double)h->max * ns_per_tick);
  }
  free(m);
  free(f);
  bu_report_tail(t1 - t0);
  return 0;
}
