/* xa-cache: false sharing in the style of cache-scratch and cache-thrash,
 * written for xalloc's suite.
 *
 *   xa-cache thrash   every thread repeatedly allocates a small object,
 *                     writes every byte of it WRITES times and frees it.  An
 *                     allocator that hands objects of the same cache line to
 *                     different threads makes the cores fight over the line
 *                     (active false sharing).
 *   xa-cache scratch  the main thread allocates one small object per thread,
 *                     back to back, and gives object i to thread i, which
 *                     frees it first and then runs the thrash loop.  An
 *                     allocator that reuses the freed object for the thread's
 *                     next allocation puts every thread on the main thread's
 *                     cache line (passive false sharing).
 *
 * Fixed work: THREADS * ITERS objects, each written WRITES * SIZE times.
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench_util.h"

static uint64_t o_threads, o_iters, o_writes, o_size;
static int scratch;
static pthread_barrier_t start;

static void *worker(void *arg)
{
  volatile unsigned char *given = arg;
  pthread_barrier_wait(&start);
  if (given != NULL) {
    given[0]++;
    free((void *)given);
  }
  for (uint64_t it = 0; it < o_iters; it++) {
    volatile unsigned char *p = bu_malloc(o_size);
    for (uint64_t w = 0; w < o_writes; w++)
      for (uint64_t j = 0; j < o_size; j++) p[j] = (unsigned char)(p[j] + 1);
    free((void *)p);
  }
  return NULL;
}

int main(int argc, char **argv)
{
  bu_prog = "xa-cache";
  bu_summary = "false sharing: xa-cache thrash|scratch [options]";
  bu_opt("threads", &o_threads, 2, 2, 1, 256, "threads");
  bu_opt("iters", &o_iters, 10000, 100, 1, 1ull << 40, "objects allocated per thread");
  bu_opt("writes", &o_writes, 20000, 200, 1, 1ull << 40, "writes of every byte per object");
  bu_opt("size", &o_size, 8, 8, 1, 1u << 20, "object size");
  const char *mode = NULL;
  int nargc = 0;
  char *nargv[64];
  for (int i = 0; i < argc && nargc < 64; i++) {
    if (i > 0 && (strcmp(argv[i], "thrash") == 0 || strcmp(argv[i], "scratch") == 0))
      mode = argv[i];
    else
      nargv[nargc++] = argv[i];
  }
  bu_parse(nargc, nargv);
  if (mode == NULL) bu_usage(1);
  scratch = strcmp(mode, "scratch") == 0;

  pthread_barrier_init(&start, NULL, (unsigned)o_threads + 1);
  unsigned char **given = bu_malloc(o_threads * sizeof *given);
  for (uint64_t t = 0; t < o_threads; t++) given[t] = scratch ? bu_malloc(o_size) : NULL;
  pthread_t th[256];
  for (uint64_t t = 0; t < o_threads; t++) th[t] = bu_spawn(worker, given[t]);
  double t0 = bu_now();
  pthread_barrier_wait(&start);
  for (uint64_t t = 0; t < o_threads; t++) bu_join(th[t]);
  double t1 = bu_now();
  free(given);
  bu_report_head(scratch ? "cache-scratch" : "cache-thrash");
  bu_report_tail(t1 - t0);
  return 0;
}
