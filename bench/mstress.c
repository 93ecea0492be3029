/* xa-mstress: thread churn with short-, medium- and long-lived objects, in
 * the style of mimalloc-bench's mstress, written for xalloc's suite.
 *
 * ROUNDS times, THREADS threads are created and joined.  Each does OPS steps:
 *   - a short-lived block (16..256 B): allocated, written, freed at once;
 *   - a medium-lived block (16..2048 B) replaces a random slot of the
 *     thread's own ring of RING blocks; the ring is freed when the thread ends;
 *   - every 8th step a long-lived block (16..4096 B, 1 in 64 of them up to
 *     64 KiB) replaces a random slot of a global table of LONG blocks shared by
 *     all threads of all rounds (atomic exchange); the old block, usually
 *     allocated by another and often by a finished thread, is checked and freed.
 * Every block carries its size in its first 4 bytes and a tag in its last.
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench_util.h"

static uint64_t o_threads, o_rounds, o_ops, o_ring, o_long;
static _Atomic(unsigned char *) *longlived;

static inline unsigned char *make(bu_rng *r, size_t lo, size_t hi)
{
  uint32_t sz = (uint32_t)bu_range(r, lo, hi);
  unsigned char *p = bu_malloc(sz);
  memcpy(p, &sz, sizeof sz);
  p[sz - 1] = (unsigned char)(sz * 7);
  return p;
}

static inline void drop(unsigned char *p)
{
  if (p == NULL) return;
  uint32_t sz;
  memcpy(&sz, p, sizeof sz);
  if (sz < 16 || sz > 65536 || p[sz - 1] != (unsigned char)(sz * 7))
    bu_corrupt("block overwritten", p, sz);
  free(p);
}

static void *worker(void *arg)
{
  bu_rng r;
  bu_seed(&r, (uint64_t)(uintptr_t)arg);
  unsigned char **ring = bu_malloc(o_ring * sizeof *ring);
  for (uint64_t i = 0; i < o_ring; i++) ring[i] = make(&r, 16, 2048);
  for (uint64_t k = 0; k < o_ops; k++) {
    drop(make(&r, 16, 256));
    uint32_t i = bu_below(&r, (uint32_t)o_ring);
    drop(ring[i]);
    ring[i] = make(&r, 16, 2048);
    if ((k & 7) == 0) {
      unsigned char *p = (bu_below(&r, 64) == 0) ? make(&r, 4096, 65536) : make(&r, 16, 4096);
      uint32_t j = bu_below(&r, (uint32_t)o_long);
      drop(atomic_exchange_explicit(&longlived[j], p, memory_order_acq_rel));
    }
  }
  for (uint64_t i = 0; i < o_ring; i++) drop(ring[i]);
  free(ring);
  return NULL;
}

int main(int argc, char **argv)
{
  bu_prog = "xa-mstress";
  bu_summary = "mstress-style thread churn with short-, medium- and long-lived objects";
  bu_opt("threads", &o_threads, 2, 2, 1, 256, "threads per round");
  bu_opt("rounds", &o_rounds, 200, 5, 1, 1u << 30, "rounds of create+join");
  bu_opt("ops", &o_ops, 25000, 2000, 1, 1ull << 40, "steps per thread and round");
  bu_opt("ring", &o_ring, 500, 100, 1, 1u << 24, "medium-lived blocks per thread");
  bu_opt("long", &o_long, 20000, 1000, 1, 1u << 26, "slots of the global long-lived table");
  bu_parse(argc, argv);

  longlived = calloc(o_long, sizeof *longlived);
  if (longlived == NULL) bu_oom(o_long * sizeof *longlived);
  double t0 = bu_now();
  uint64_t seed = 1;
  pthread_t th[256];
  for (uint64_t rd = 0; rd < o_rounds; rd++) {
    for (uint64_t t = 0; t < o_threads; t++) th[t] = bu_spawn(worker, (void *)(uintptr_t)seed++);
    for (uint64_t t = 0; t < o_threads; t++) bu_join(th[t]);
  }
  double t1 = bu_now();
  long live_kb = bu_status_kb("VmRSS");
  for (uint64_t j = 0; j < o_long; j++) drop(atomic_load(&longlived[j]));
  free((void *)longlived);
  bu_report_head("mstress");
  printf(" rss_before_final_free_kb=%ld", live_kb);
  bu_report_tail(t1 - t0);
  return 0;
}
