/* xa-micro: allocator micro benchmark.
 *
 * Uses only the standard malloc family, so the allocator under test is the
 * one the dynamic linker binds malloc/free to: the system allocator when run
 * plainly, or another one with LD_PRELOAD=/path/to/liballoc.so.
 *
 * Usage: xa-micro [--quick] [--iters N] MODE ARGS... [N]
 *
 *   pairs SIZE         p = malloc(SIZE); write one byte; free(p), in a loop
 *   pairs-live SIZE    the same, with one more SIZE block live all the time
 *   random MIN MAX     1000 live slots; each step frees a random slot and
 *                      refills it with a block of random size in [MIN, MAX]
 *   prodcons THREADS   THREADS/2 producers malloc blocks of 16..1024 bytes
 *                      and hand them in batches to the other threads, which
 *                      free them (cross-thread frees)
 *   calloc SIZE        p = calloc(1, SIZE); check one byte is zero; free(p)
 *   realloc-grow MAX   grow one block with realloc from 1 byte to MAX bytes
 *                      (+1/8 each step, content checked), then free it; one
 *                      iteration is one whole growth
 *   aligned ALIGN SIZE posix_memalign(&p, ALIGN, SIZE); check; free(p)
 *
 * Each run prints one line of key=value fields, for example
 *   mode=pairs size=64 iters=50000000 ns_per_op=12.345 secs=0.617 maxrss_kb=1234
 * ns_per_op is per malloc+free pair (pairs, pairs-live, random) or per block
 * handed over (prodcons).  Exit status: 0 ok, 1 usage or out of memory,
 * 2 a block came back corrupted or misaligned.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE /* dladdr */

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

/* Every block pointer is stored here so that no compiler, even one that
 * knows what malloc and free are, can drop a malloc/free pair. */
static void *volatile bm_sink;

static int bm_quick;

/* ---- helpers ------------------------------------------------------------- */

static double bm_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Peak resident set size.  VmHWM belongs to the address space, so unlike
 * getrusage's ru_maxrss it does not carry over the peak of a (large) parent
 * process that spawned us through fork+exec. */
static long bm_maxrss_kb(void)
{
  long kb = -1;
  char line[256];
  FILE *f = fopen("/proc/self/status", "r");
  if (f != NULL) {
    while (fgets(line, sizeof line, f) != NULL)
      if (strncmp(line, "VmHWM:", 6) == 0) {
        kb = strtol(line + 6, NULL, 10);
        break;
      }
    fclose(f);
  }
  if (kb < 0) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) kb = ru.ru_maxrss;
  }
  return kb;
}

static void bm_oom(size_t size)
{
  fprintf(stderr, "xa-micro: malloc(%zu) returned NULL\n", size);
  exit(1);
}

static void bm_corrupt(const char *what, const void *p, size_t size)
{
  fprintf(stderr, "xa-micro: %s: block %p of size %zu\n", what, p, size);
  exit(2);
}

/* malloc must return memory aligned for any fundamental type: 16 bytes on
 * x86-64 and aarch64 for sizes >= 16, and at least the largest power of two
 * not above the size for smaller requests. */
static int bm_aligned(const void *p, size_t size)
{
  uintptr_t a = (uintptr_t)p;
  size_t need = 16;
  while (need > 1 && need > size) need >>= 1;
  if (need > _Alignof(max_align_t)) need = _Alignof(max_align_t);
  return (a & (need - 1)) == 0;
}

/* xorshift64* : small, fast, and good enough for picking slots and sizes. */
typedef struct { uint64_t s; } bm_rng;

static inline uint64_t bm_next(bm_rng *r)
{
  uint64_t x = r->s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  r->s = x;
  return x * 0x2545F4914F6CDD1DULL;
}

/* Uniform-ish value in [0, n) without a division (multiply-shift). */
static inline uint32_t bm_below(bm_rng *r, uint32_t n)
{
  return (uint32_t)(((bm_next(r) >> 32) * (uint64_t)n) >> 32);
}

static void bm_report_head(const char *mode)
{
  printf("mode=%s", mode);
}

/* The shared object that malloc resolved to, so a run can show that the
 * LD_PRELOADed allocator really is the one in use. */
static const char *bm_malloc_from(void)
{
  /* Looked up by name: taking &malloc here would change how the timed loop
   * reaches malloc (a direct GOT call instead of a PLT stub). */
  void *fn = dlsym(RTLD_DEFAULT, "malloc");
  Dl_info info;
  if (fn == NULL || dladdr(fn, &info) == 0 || info.dli_fname == NULL) return "?";
  const char *base = strrchr(info.dli_fname, '/');
  return base ? base + 1 : info.dli_fname;
}

static void bm_report_tail(uint64_t iters, double secs)
{
  double ns = iters ? secs * 1e9 / (double)iters : 0.0;
  printf(" iters=%" PRIu64 " ns_per_op=%.3f secs=%.3f maxrss_kb=%ld malloc_from=%s\n", iters, ns,
         secs, bm_maxrss_kb(), bm_malloc_from());
  fflush(stdout);
}

/* ---- pairs / pairs-live -------------------------------------------------- */

/* The measured loop.  noinline keeps its code identical whatever the caller,
 * which matters for the instruction counts of bench/instructions. */
__attribute__((noinline)) static void bm_pairs_loop(size_t size, uint64_t n)
{
  for (uint64_t i = 0; i < n; i++) {
    char *p = malloc(size);
    if (p == NULL) bm_oom(size);
    p[0] = (char)i;
    bm_sink = p;
    free(p);
  }
}

static void bm_pairs(const char *mode, size_t size, int live, uint64_t iters)
{
  void *keep = NULL;
  if (live) {
    keep = malloc(size);
    if (keep == NULL) bm_oom(size);
    memset(keep, 0x5a, size);
  }

  /* Sanity check once, outside the timed loop. */
  char *probe = malloc(size);
  if (probe == NULL) bm_oom(size);
  if (!bm_aligned(probe, size)) bm_corrupt("misaligned", probe, size);
  memset(probe, 1, size);
  free(probe);

  /* Fixed warm-up, so the difference of two runs cancels it exactly. */
  bm_pairs_loop(size, 1000);

  double t0 = bm_now();
  bm_pairs_loop(size, iters);
  double t1 = bm_now();

  if (live) {
    for (size_t i = 0; i < size; i++)
      if (((unsigned char *)keep)[i] != 0x5a) bm_corrupt("live block overwritten", keep, size);
    free(keep);
  }
  bm_report_head(mode);
  printf(" size=%zu", size);
  bm_report_tail(iters, t1 - t0);
}

/* ---- random -------------------------------------------------------------- */

#define BM_SLOTS 1000

/* Each live block carries a tag byte at its first and last position; it is
 * checked when the block is freed, so overlapping blocks are noticed. */
static inline void bm_tag(unsigned char *p, size_t size, unsigned char tag)
{
  p[0] = tag;
  p[size - 1] = tag;
}

static inline int bm_tag_ok(const unsigned char *p, size_t size, unsigned char tag)
{
  return p[0] == tag && p[size - 1] == tag;
}

static void bm_random(size_t min, size_t max, uint64_t iters)
{
  static unsigned char *slot[BM_SLOTS];
  static uint32_t slot_size[BM_SLOTS];
  static unsigned char slot_tag[BM_SLOTS];
  bm_rng rng = {0x9E3779B97F4A7C15ULL};
  uint32_t span = (uint32_t)(max - min + 1);

  for (int i = 0; i < BM_SLOTS; i++) {
    size_t sz = min + bm_below(&rng, span);
    slot[i] = malloc(sz);
    if (slot[i] == NULL) bm_oom(sz);
    slot_size[i] = (uint32_t)sz;
    slot_tag[i] = (unsigned char)i;
    bm_tag(slot[i], sz, slot_tag[i]);
  }

  uint64_t warm = iters / 100 < 10000 ? iters / 100 : 10000;
  double t0 = 0;
  for (uint64_t step = 0; step < warm + iters; step++) {
    if (step == warm) t0 = bm_now();
    uint32_t k = bm_below(&rng, BM_SLOTS);
    unsigned char *old = slot[k];
    if (!bm_tag_ok(old, slot_size[k], slot_tag[k])) bm_corrupt("tag overwritten", old, slot_size[k]);
    free(old);
    size_t sz = min + bm_below(&rng, span);
    unsigned char *p = malloc(sz);
    if (p == NULL) bm_oom(sz);
    if (!bm_aligned(p, sz)) bm_corrupt("misaligned", p, sz);
    unsigned char tag = (unsigned char)(step * 31u + k);
    bm_tag(p, sz, tag);
    slot[k] = p;
    slot_size[k] = (uint32_t)sz;
    slot_tag[k] = tag;
  }
  double t1 = bm_now();

  for (int i = 0; i < BM_SLOTS; i++) {
    if (!bm_tag_ok(slot[i], slot_size[i], slot_tag[i]))
      bm_corrupt("tag overwritten", slot[i], slot_size[i]);
    free(slot[i]);
  }
  bm_report_head("random");
  printf(" min=%zu max=%zu", min, max);
  bm_report_tail(iters, t1 - t0);
}

/* ---- prodcons ------------------------------------------------------------ */

/* Blocks travel without any extra allocation: a batch is a chain of blocks
 * linked through their first word, and the batch's first block links to the
 * next batch of the same queue through its second word (blocks are at least
 * 16 bytes).  The first word also carries the block's size in its top 16
 * bits, so the consumer can check the block's last byte. */
#define BM_BATCH 64
#define BM_INFLIGHT 32 /* batches queued per consumer before a producer waits */
#define BM_PC_MIN 16
#define BM_PC_MAX 1024
#define BM_PTR_MASK ((UINT64_C(1) << 48) - 1)

typedef struct {
  _Alignas(64) _Atomic(uintptr_t) head; /* stack of batches (lock-free, MPSC) */
  _Atomic int inflight;                 /* batches pushed but not yet freed */
  char pad[64 - sizeof(int)];
} bm_queue;

typedef struct {
  int id;
  int nprod, ncons;
  uint64_t nblocks; /* producer: blocks to make */
  uint64_t freed;   /* consumer: blocks freed */
  double t_start;   /* when it passed the start barrier */
  double t_end;     /* consumer: when it finished */
} bm_worker;

static bm_queue *bm_queues;
static _Atomic int bm_prod_done;
static pthread_barrier_t bm_start;

static inline unsigned char bm_check_byte(size_t size, uintptr_t p)
{
  return (unsigned char)(size ^ (p >> 4) ^ 0xA5);
}

/* Waiting: spin politely for a while, then give the core away (the machine
 * may have fewer cores than threads). */
static inline void bm_relax(unsigned *spins)
{
  if (++*spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
  } else {
    *spins = 0;
    sched_yield();
  }
}

static void bm_push(bm_queue *q, unsigned char *batch)
{
  uintptr_t old = atomic_load_explicit(&q->head, memory_order_relaxed);
  do {
    memcpy(batch + sizeof(uintptr_t), &old, sizeof old);
  } while (!atomic_compare_exchange_weak_explicit(&q->head, &old, (uintptr_t)batch,
                                                  memory_order_release, memory_order_relaxed));
}

static void *bm_producer(void *arg)
{
  bm_worker *w = arg;
  bm_rng rng = {0x2545F4914F6CDD1DULL + (uint64_t)w->id * 0x9E3779B97F4A7C15ULL};
  uint64_t left = w->nblocks;
  unsigned k = (unsigned)w->id;
  pthread_barrier_wait(&bm_start);
  w->t_start = bm_now();

  while (left > 0) {
    unsigned n = left < BM_BATCH ? (unsigned)left : BM_BATCH;
    unsigned char *chain = NULL;
    for (unsigned i = 0; i < n; i++) {
      size_t sz = BM_PC_MIN + bm_below(&rng, BM_PC_MAX - BM_PC_MIN + 1);
      unsigned char *p = malloc(sz);
      if (p == NULL) bm_oom(sz);
      uint64_t link = ((uint64_t)sz << 48) | (uint64_t)(uintptr_t)chain;
      memcpy(p, &link, sizeof link);
      p[sz - 1] = bm_check_byte(sz, (uintptr_t)p);
      chain = p;
    }
    left -= n;
    bm_queue *q = &bm_queues[k++ % (unsigned)w->ncons];
    unsigned spins = 0;
    while (atomic_load_explicit(&q->inflight, memory_order_relaxed) >= BM_INFLIGHT) bm_relax(&spins);
    atomic_fetch_add_explicit(&q->inflight, 1, memory_order_relaxed);
    bm_push(q, chain);
  }
  atomic_fetch_add_explicit(&bm_prod_done, 1, memory_order_release);
  return NULL;
}

static void bm_free_batches(bm_worker *w, bm_queue *q, uintptr_t batch)
{
  while (batch != 0) {
    unsigned char *b = (unsigned char *)batch;
    uintptr_t next_batch;
    memcpy(&next_batch, b + sizeof(uintptr_t), sizeof next_batch);
    unsigned char *p = b;
    while (p != NULL) {
      uint64_t link;
      memcpy(&link, p, sizeof link);
      size_t sz = (size_t)(link >> 48);
      /* A batch's first block holds the next-batch link in bytes 8..15,
       * which covers the check byte of a 16-byte block. */
      int check = p != b || sz > 2 * sizeof(uintptr_t);
      if (sz < BM_PC_MIN || sz > BM_PC_MAX || !bm_aligned(p, sz) ||
          (check && p[sz - 1] != bm_check_byte(sz, (uintptr_t)p))) {
        fprintf(stderr, "xa-micro: prodcons: corrupted block %p (size field %zu)\n", (void *)p, sz);
        exit(2);
      }
      free(p);
      w->freed++;
      p = (unsigned char *)(uintptr_t)(link & BM_PTR_MASK);
    }
    atomic_fetch_sub_explicit(&q->inflight, 1, memory_order_relaxed);
    batch = next_batch;
  }
}

static void *bm_consumer(void *arg)
{
  bm_worker *w = arg;
  bm_queue *q = &bm_queues[w->id];
  pthread_barrier_wait(&bm_start);
  w->t_start = bm_now();

  unsigned spins = 0;
  for (;;) {
    /* Look before taking, so an idle consumer does not keep stealing the
     * queue's cache line from the producers. */
    uintptr_t got = 0;
    if (atomic_load_explicit(&q->head, memory_order_relaxed) != 0)
      got = atomic_exchange_explicit(&q->head, 0, memory_order_acquire);
    if (got != 0) {
      bm_free_batches(w, q, got);
      spins = 0;
      continue;
    }
    if (atomic_load_explicit(&bm_prod_done, memory_order_acquire) == w->nprod) {
      /* Every push happened before the producers said they were done. */
      got = atomic_exchange_explicit(&q->head, 0, memory_order_acquire);
      if (got == 0) break;
      bm_free_batches(w, q, got);
      continue;
    }
    bm_relax(&spins);
  }
  w->t_end = bm_now();
  return NULL;
}

static void bm_prodcons(int threads, uint64_t iters)
{
  int nprod = threads / 2;
  int ncons = threads - nprod;
  static pthread_t tid[256];
  static bm_worker w[256];

  bm_queues = aligned_alloc(64, sizeof(bm_queue) * (size_t)ncons);
  if (bm_queues == NULL) bm_oom(sizeof(bm_queue) * (size_t)ncons);
  for (int i = 0; i < ncons; i++) {
    atomic_init(&bm_queues[i].head, 0);
    atomic_init(&bm_queues[i].inflight, 0);
  }
  atomic_init(&bm_prod_done, 0);
  if (pthread_barrier_init(&bm_start, NULL, (unsigned)threads + 1) != 0) {
    fprintf(stderr, "xa-micro: pthread_barrier_init failed\n");
    exit(1);
  }

  for (int i = 0; i < threads; i++) {
    memset(&w[i], 0, sizeof w[i]);
    w[i].nprod = nprod;
    w[i].ncons = ncons;
    if (i < nprod) {
      w[i].id = i;
      w[i].nblocks = iters / (uint64_t)nprod + ((uint64_t)i < iters % (uint64_t)nprod ? 1 : 0);
    } else {
      w[i].id = i - nprod;
    }
    int rc = pthread_create(&tid[i], NULL, i < nprod ? bm_producer : bm_consumer, &w[i]);
    if (rc != 0) {
      fprintf(stderr, "xa-micro: pthread_create: %s\n", strerror(rc));
      exit(1);
    }
  }
  pthread_barrier_wait(&bm_start);
  for (int i = 0; i < threads; i++) pthread_join(tid[i], NULL);

  /* From the first thread past the barrier to the last consumer done; thread
   * creation and exit are not timed. */
  double t0 = w[0].t_start, t1 = 0;
  uint64_t freed = 0;
  for (int i = 0; i < threads; i++)
    if (w[i].t_start < t0) t0 = w[i].t_start;
  for (int i = nprod; i < threads; i++) {
    freed += w[i].freed;
    if (w[i].t_end > t1) t1 = w[i].t_end;
  }
  pthread_barrier_destroy(&bm_start);
  free(bm_queues);
  if (freed != iters) {
    fprintf(stderr, "xa-micro: prodcons: %" PRIu64 " blocks made but %" PRIu64 " freed\n", iters,
            freed);
    exit(2);
  }
  bm_report_head("prodcons");
  printf(" threads=%d", threads);
  bm_report_tail(iters, t1 - t0);
}

/* ---- calloc / realloc-grow / aligned ------------------------------------- */

__attribute__((noinline)) static void bm_calloc_loop(size_t size, uint64_t n)
{
  for (uint64_t i = 0; i < n; i++) {
    unsigned char *p = calloc(1, size);
    if (p == NULL) bm_oom(size);
    if (p[size - 1] != 0 || p[size / 2] != 0) bm_corrupt("calloc block not zeroed", p, size);
    p[size - 1] = (unsigned char)(i | 1); /* dirty it, so reuse must zero again */
    p[size / 2] = 1;
    bm_sink = p;
    free(p);
  }
}

static void bm_calloc(size_t size, uint64_t iters)
{
  bm_calloc_loop(size, 1000);
  double t0 = bm_now();
  bm_calloc_loop(size, iters);
  double t1 = bm_now();
  bm_report_head("calloc");
  printf(" size=%zu", size);
  bm_report_tail(iters, t1 - t0);
}

/* One growth: realloc from 1 byte up to max in steps of about 1/8; the first
 * and the last byte of the old size are checked after every move. */
__attribute__((noinline)) static uint64_t bm_grow_loop(size_t max, uint64_t n)
{
  uint64_t steps = 0;
  for (uint64_t i = 0; i < n; i++) {
    unsigned char *p = NULL;
    size_t old = 0;
    unsigned char tag = (unsigned char)(i * 7 + 1);
    for (size_t sz = 1; sz <= max; sz += sz / 8 + 1) {
      unsigned char *q = realloc(p, sz);
      if (q == NULL) bm_oom(sz);
      if (old > 0 && (q[0] != tag || q[old - 1] != tag)) bm_corrupt("realloc lost content", q, sz);
      if (!bm_aligned(q, sz)) bm_corrupt("misaligned", q, sz);
      q[0] = tag;
      q[sz - 1] = tag;
      p = q;
      old = sz;
      steps++;
    }
    bm_sink = p;
    free(p);
  }
  return steps;
}

static void bm_realloc_grow(size_t max, uint64_t iters)
{
  bm_grow_loop(max, 2);
  double t0 = bm_now();
  uint64_t steps = bm_grow_loop(max, iters);
  double t1 = bm_now();
  bm_report_head("realloc-grow");
  printf(" max=%zu reallocs=%" PRIu64, max, steps);
  bm_report_tail(iters, t1 - t0);
}

__attribute__((noinline)) static void bm_aligned_loop(size_t align, size_t size, uint64_t n)
{
  for (uint64_t i = 0; i < n; i++) {
    void *p = NULL;
    int rc = posix_memalign(&p, align, size);
    if (rc != 0 || p == NULL) bm_oom(size);
    if (((uintptr_t)p & (align - 1)) != 0) bm_corrupt("posix_memalign misaligned", p, size);
    ((char *)p)[0] = (char)i;
    bm_sink = p;
    free(p);
  }
}

static void bm_aligned_pairs(size_t align, size_t size, uint64_t iters)
{
  bm_aligned_loop(align, size, 1000);
  double t0 = bm_now();
  bm_aligned_loop(align, size, iters);
  double t1 = bm_now();
  bm_report_head("aligned");
  printf(" align=%zu size=%zu", align, size);
  bm_report_tail(iters, t1 - t0);
}

/* ---- command line -------------------------------------------------------- */

/* Default counts take roughly one second each with glibc on a 2-core VM;
 * --quick counts take milliseconds (CI smoke test). */
static uint64_t bm_default_iters(const char *mode)
{
  if (strcmp(mode, "pairs") == 0 || strcmp(mode, "pairs-live") == 0)
    return bm_quick ? 20000 : 100000000;
  if (strcmp(mode, "random") == 0) return bm_quick ? 20000 : 45000000;
  if (strcmp(mode, "prodcons") == 0) return bm_quick ? 20000 : 5000000;
  if (strcmp(mode, "calloc") == 0) return bm_quick ? 20000 : 50000000;
  if (strcmp(mode, "aligned") == 0) return bm_quick ? 20000 : 50000000;
  if (strcmp(mode, "realloc-grow") == 0) return bm_quick ? 20 : 20000;
  return 0;
}

static void bm_usage(void)
{
  fprintf(stderr,
          "usage: xa-micro [--quick] [--iters N] MODE ARGS... [N]\n"
          "  pairs SIZE | pairs-live SIZE | random MIN MAX | prodcons THREADS\n"
          "  calloc SIZE | realloc-grow MAX | aligned ALIGN SIZE\n"
          "  N (or --iters N): iterations (pairs, steps or blocks); --quick: tiny default\n");
  exit(1);
}

static uint64_t bm_number(const char *s, uint64_t lo, uint64_t hi)
{
  char *end;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi) {
    fprintf(stderr, "xa-micro: bad number '%s' (expected %" PRIu64 "..%" PRIu64 ")\n", s, lo, hi);
    exit(1);
  }
  return (uint64_t)v;
}

int main(int argc, char **argv)
{
  const char *pos[8];
  int npos = 0;
  uint64_t iters = 0;

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quick") == 0) {
      bm_quick = 1;
    } else if (strcmp(argv[i], "--iters") == 0 || strcmp(argv[i], "-n") == 0) {
      if (++i >= argc) bm_usage();
      iters = bm_number(argv[i], 1, UINT64_MAX / 2);
    } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      bm_usage();
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      fprintf(stderr, "xa-micro: unknown option %s\n", argv[i]);
      bm_usage();
    } else {
      if (npos == 8) bm_usage();
      pos[npos++] = argv[i];
    }
  }
  if (npos < 1) bm_usage();

  const char *mode = pos[0];
  int nargs;
  if (strcmp(mode, "pairs") == 0 || strcmp(mode, "pairs-live") == 0 ||
      strcmp(mode, "prodcons") == 0 || strcmp(mode, "calloc") == 0 ||
      strcmp(mode, "realloc-grow") == 0)
    nargs = 1;
  else if (strcmp(mode, "random") == 0 || strcmp(mode, "aligned") == 0)
    nargs = 2;
  else {
    fprintf(stderr, "xa-micro: unknown mode '%s'\n", mode);
    bm_usage();
    return 1;
  }
  if (npos != 1 + nargs && npos != 2 + nargs) bm_usage();
  if (npos == 2 + nargs) iters = bm_number(pos[1 + nargs], 1, UINT64_MAX / 2);
  if (iters == 0) iters = bm_default_iters(mode);

  if (strcmp(mode, "pairs") == 0 || strcmp(mode, "pairs-live") == 0) {
    size_t size = (size_t)bm_number(pos[1], 1, (uint64_t)1 << 40);
    bm_pairs(mode, size, mode[5] == '-', iters);
  } else if (strcmp(mode, "random") == 0) {
    size_t min = (size_t)bm_number(pos[1], 1, UINT32_MAX / 2);
    size_t max = (size_t)bm_number(pos[2], 1, UINT32_MAX / 2);
    if (min > max) {
      fprintf(stderr, "xa-micro: random: MIN %zu > MAX %zu\n", min, max);
      return 1;
    }
    bm_random(min, max, iters);
  } else if (strcmp(mode, "calloc") == 0) {
    bm_calloc((size_t)bm_number(pos[1], 1, (uint64_t)1 << 40), iters);
  } else if (strcmp(mode, "realloc-grow") == 0) {
    bm_realloc_grow((size_t)bm_number(pos[1], 1, (uint64_t)1 << 36), iters);
  } else if (strcmp(mode, "aligned") == 0) {
    size_t align = (size_t)bm_number(pos[1], sizeof(void *), (uint64_t)1 << 30);
    if ((align & (align - 1)) != 0) {
      fprintf(stderr, "xa-micro: aligned: ALIGN %zu is not a power of two\n", align);
      return 1;
    }
    bm_aligned_pairs(align, (size_t)bm_number(pos[2], 1, (uint64_t)1 << 40), iters);
  } else {
    int threads = (int)bm_number(pos[1], 2, 256);
    bm_prodcons(threads, iters);
  }
  return 0;
}
