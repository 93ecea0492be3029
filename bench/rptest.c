/* xa-rptest: a size-distribution replay in the style of rpmalloc's rptest and
 * alloc-test, written for xalloc's suite.
 *
 * Block sizes follow a power law between 16 B and MAXSIZE (default 64 KiB):
 * density proportional to size^-1.5, so most blocks are small and a few are
 * large, drawn from a precomputed table of 64 Ki sizes.  Each of THREADS
 * threads keeps SLOTS live blocks and does OPS steps on a random slot:
 *   6/8: free it and allocate a new size;   1/8: realloc it to a new size
 *   (the preserved prefix is checked);      1/8: swap it with a random slot of
 *   a table shared by all threads (atomic exchange) and free what comes back,
 *   usually a block of another thread (cross-thread free).
 * Every block is written at its start, its end and once per 4 KiB page.
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench_util.h"
#include <math.h>

static uint64_t o_threads, o_ops, o_slots, o_shared, o_maxsize, o_minsize;
static uint32_t sizes[1 << 16];
static _Atomic(unsigned char *) *shared;
static pthread_barrier_t start;

static void fill(unsigned char *p, uint32_t sz)
{
  memcpy(p, &sz, sizeof sz);
  for (uint32_t o = 4096; o < sz; o += 4096) p[o] = (unsigned char)sz;
  p[sz - 1] = (unsigned char)(sz * 5);
}

static void check(const unsigned char *p)
{
  uint32_t sz;
  memcpy(&sz, p, sizeof sz);
  if (sz < o_minsize || sz > o_maxsize || p[sz - 1] != (unsigned char)(sz * 5))
    bu_corrupt("block overwritten", p, sz);
}

static inline unsigned char *make(bu_rng *r)
{
  uint32_t sz = sizes[bu_next(r) >> 48];
  unsigned char *p = bu_malloc(sz);
  fill(p, sz);
  return p;
}

static void *worker(void *arg)
{
  bu_rng r;
  bu_seed(&r, (uint64_t)(uintptr_t)arg);
  unsigned char **slot = bu_malloc(o_slots * sizeof *slot);
  for (uint64_t i = 0; i < o_slots; i++) slot[i] = make(&r);
  pthread_barrier_wait(&start);
  for (uint64_t k = 0; k < o_ops; k++) {
    uint64_t x = bu_next(&r);
    uint32_t i = (uint32_t)(((x >> 32) * o_slots) >> 32);
    unsigned kind = x & 7;
    check(slot[i]);
    if (kind == 0) { /* realloc */
      uint32_t old;
      memcpy(&old, slot[i], sizeof old);
      unsigned char mark = slot[i][old - 1];
      uint32_t sz = sizes[bu_next(&r) >> 48];
      unsigned char *q = realloc(slot[i], sz);
      if (q == NULL) bu_oom(sz);
      if (!bu_aligned(q, sz)) bu_corrupt("misaligned", q, sz);
      uint32_t kept;
      memcpy(&kept, q, sizeof kept);
      if (kept != old || (sz >= old && q[old - 1] != mark)) bu_corrupt("realloc lost content", q, sz);
      fill(q, sz);
      slot[i] = q;
    } else if (kind == 1 && o_shared > 0) { /* exchange with the shared table */
      uint32_t j = (uint32_t)(((x >> 8) & 0xffffff) % o_shared);
      unsigned char *got = atomic_exchange_explicit(&shared[j], slot[i], memory_order_acq_rel);
      if (got != NULL) {
        check(got);
        free(got);
      }
      slot[i] = make(&r);
    } else {
      free(slot[i]);
      slot[i] = make(&r);
    }
  }
  for (uint64_t i = 0; i < o_slots; i++) {
    check(slot[i]);
    free(slot[i]);
  }
  free(slot);
  return NULL;
}

int main(int argc, char **argv)
{
  bu_prog = "xa-rptest";
  bu_summary = "power-law size replay (16 B .. 64 KiB) with realloc and cross-thread frees";
  bu_opt("threads", &o_threads, 2, 2, 1, 256, "threads");
  bu_opt("ops", &o_ops, 8000000, 50000, 1, 1ull << 40, "steps per thread");
  bu_opt("slots", &o_slots, 4000, 500, 1, 1u << 24, "live blocks per thread");
  bu_opt("shared", &o_shared, 1024, 64, 0, 1u << 24, "slots of the shared exchange table");
  bu_opt("minsize", &o_minsize, 16, 16, 8, 1u << 20, "smallest block (>= 8)");
  bu_opt("maxsize", &o_maxsize, 65536, 65536, 16, 1u << 30, "largest block");
  bu_parse(argc, argv);
  if (o_minsize > o_maxsize) bu_usage(1);

  /* Inverse CDF of a power law with exponent 1.5 on [minsize, maxsize]. */
  const double a = 1.5, lo = pow((double)o_minsize, 1 - a), hi = pow((double)o_maxsize, 1 - a);
  uint64_t total = 0;
  for (uint32_t i = 0; i < (1u << 16); i++) {
    double u = (i + 0.5) / 65536.0;
    double s = pow(lo + u * (hi - lo), 1 / (1 - a));
    uint32_t sz = (uint32_t)s;
    if (sz < o_minsize) sz = (uint32_t)o_minsize;
    if (sz > o_maxsize) sz = (uint32_t)o_maxsize;
    sizes[i] = sz;
    total += sz;
  }
  shared = calloc(o_shared ? o_shared : 1, sizeof *shared);
  if (shared == NULL) bu_oom(o_shared * sizeof *shared);
  pthread_barrier_init(&start, NULL, (unsigned)o_threads + 1);
  pthread_t th[256];
  for (uint64_t t = 0; t < o_threads; t++) th[t] = bu_spawn(worker, (void *)(uintptr_t)(t + 3));
  pthread_barrier_wait(&start);
  double t0 = bu_now();
  for (uint64_t t = 0; t < o_threads; t++) bu_join(th[t]);
  double t1 = bu_now();
  for (uint64_t j = 0; j < o_shared; j++) {
    unsigned char *p = atomic_load(&shared[j]);
    if (p != NULL) {
      check(p);
      free(p);
    }
  }
  free((void *)shared);
  bu_report_head("rptest");
  printf(" mean_size=%.0f", (double)total / 65536.0);
  bu_report_tail(t1 - t0);
  return 0;
}
