/* xa-longrun: a long run with shifting size distributions and thread churn
 * (issue 14: long-run behaviour), for bench/long-run.
 *
 *   xa-longrun [--seconds S] [--phase S] [--threads N] [--seed X] [--quick]
 *   (--quick: 6 s, phases of 1 s)
 *
 * N worker threads (default 2) each hold a working set of blocks and replace
 * a random one per step (free, then malloc and touch the new block). What the
 * working set holds changes with the phase, which moves every --phase
 * seconds (default 60) through
 *   small   16-256 B, 400,000 blocks in all
 *   medium  256 B-8 KiB, 40,000 blocks
 *   large   8-512 KiB, 600 blocks
 *   shrink  16-256 B, 20,000 blocks (what the large phase held must go back)
 *   huge    20,000 blocks: 8 per worker of 1-8 MiB, the rest 16-256 B
 *   idle    16-256 B, 20,000 blocks, one step per 1 ms of sleep per worker
 * and then starts over. A phase change replaces the blocks of the working
 * set step by step; the slots past the new count are freed first. Workers
 * live 5-15 s: an exiting worker leaves its working set on a handover shelf,
 * the next worker takes it over and frees those blocks (cross-thread frees
 * of a dead thread's blocks), while the main thread starts a worker for
 * each one that exited.
 *
 * Every second the main thread prints a CSV line: seconds since the start,
 * phase, resident set (MiB, VmRSS), steps in the second, process
 * CPU time per step (ns, user+sys; robust when several runs share the
 * machine), wall time per step (ns of one worker), workers started so far.
 * The last line is the usual result line of bench/ (bench=longrun ...
 * malloc_from=LIB). Nothing here is timed against a bound: bench/long-run
 * reads the lines.
 * SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <math.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

enum { PH_SMALL, PH_MEDIUM, PH_LARGE, PH_SHRINK, PH_HUGE, PH_IDLE, PH_COUNT };
static const char* const phase_names[PH_COUNT] = {"small", "medium", "large", "shrink", "huge", "idle"};

typedef struct {
  size_t lo, hi;     /* block sizes, drawn log-uniformly */
  size_t blocks;     /* live blocks in all (split among the workers) */
} phase_t;

static const phase_t phases[PH_COUNT] = {
    [PH_SMALL] = {16, 256, 400000},  [PH_MEDIUM] = {256, 8192, 40000},
    [PH_LARGE] = {8192, 524288, 600}, [PH_SHRINK] = {16, 256, 20000},
    [PH_HUGE] = {1 << 20, 8 << 20, 20000}, [PH_IDLE] = {16, 256, 20000},
};

#define MAX_SLOTS 400000
#define MAX_WORKERS 64

typedef struct {
  void** slot;
  size_t count;      /* slots in use */
} workset_t;

static uint64_t opt_seconds, opt_phase, opt_threads, opt_seed;
static double t_start;
static _Atomic int cur_phase;
static _Atomic bool stop;
static _Atomic uint64_t steps_done;
static _Atomic int workers_exited;

/* The handover shelf: working sets of exited workers, waiting for takers. */
static pthread_mutex_t shelf_lock = PTHREAD_MUTEX_INITIALIZER;
static workset_t* shelf[MAX_WORKERS];
static int shelf_count;

static double now_s(void) { return bu_now() - t_start; }

static size_t draw_size(bu_rng* r, const phase_t* ph) {
  /* log-uniform between lo and hi: as many blocks per doubling */
  double f = (double)(bu_next(r) >> 11) * (1.0 / 9007199254740992.0);
  double lo = (double)ph->lo, hi = (double)ph->hi;
  size_t n = (size_t)(lo * exp(f * log(hi / lo)));
  return n < ph->lo ? ph->lo : n;
}

static void touch(unsigned char* p, size_t n, uint64_t v) {
  if (n <= 4096) {
    memset(p, (int)(v & 0xff), n);
    return;
  }
  for (size_t i = 0; i < n; i += 4096) p[i] = (unsigned char)v;
  p[n - 1] = (unsigned char)v;
}

static void* worker(void* arg) {
  bu_rng seed;
  bu_seed(&seed, (uint64_t)(uintptr_t)arg + opt_seed);
  workset_t* ws = NULL;
  pthread_mutex_lock(&shelf_lock);
  if (shelf_count > 0) ws = shelf[--shelf_count];
  pthread_mutex_unlock(&shelf_lock);
  if (ws == NULL) {
    ws = calloc(1, sizeof *ws);
    if (ws == NULL) bu_oom(sizeof *ws);
    ws->slot = calloc(MAX_SLOTS, sizeof(void*));
    if (ws->slot == NULL) bu_oom(MAX_SLOTS * sizeof(void*));
  }
  double end = now_s() + 5 + (double)bu_below(&seed, 10000) / 1000.0;
  uint64_t local = 0;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    int p = atomic_load_explicit(&cur_phase, memory_order_relaxed);
    const phase_t* ph = &phases[p];
    size_t want = ph->blocks / (size_t)opt_threads;
    /* A shrinking working set frees its slots past the new count first. */
    while (ws->count > want) {
      free(ws->slot[--ws->count]);
      ws->slot[ws->count] = NULL;
    }
    /* Idle: one step, then 1 ms of sleep (under a thousand steps a second). */
    int batch = p == PH_IDLE ? 1 : 256;
    for (int k = 0; k < batch; k++) {
      size_t i = ws->count < want ? ws->count++ : (size_t)(bu_next(&seed) % want);
      const phase_t* use = ph;
      if (p == PH_HUGE && i >= 8) use = &phases[PH_SMALL];  /* huge blocks in slots 0..7 only */
      free(ws->slot[i]);
      size_t n = draw_size(&seed, use);
      void* b = malloc(n);
      if (b != NULL) touch(b, n, local);
      ws->slot[i] = b;
      local++;
    }
    atomic_fetch_add_explicit(&steps_done, (uint64_t)batch, memory_order_relaxed);
    if (p == PH_IDLE) usleep(1000);
    if (now_s() >= end) break;
  }
  pthread_mutex_lock(&shelf_lock);
  shelf[shelf_count++] = ws;
  pthread_mutex_unlock(&shelf_lock);
  atomic_fetch_add(&workers_exited, 1);
  return NULL;
}


static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

int main(int argc, char** argv) {
  bu_prog = "xa-longrun";
  bu_summary = "A long run with shifting size distributions and thread churn; a CSV line a second.";
  bu_opt("seconds", &opt_seconds, 720, 6, 1, 86400, "length of the run, s (default: two rounds of the six phases)");
  bu_opt("phase", &opt_phase, 60, 1, 1, 86400, "length of a phase, s");
  bu_opt("threads", &opt_threads, 2, 2, 1, MAX_WORKERS / 2, "worker threads at any time");
  bu_opt("seed", &opt_seed, 42, 42, 0, UINT64_MAX, "random seed");
  bu_parse(argc, argv);
  double seconds = (double)opt_seconds, phase_s = (double)opt_phase;
  int nthreads = (int)opt_threads;
  t_start = bu_now();
  printf("t_s,phase,rss_mib,steps,cpu_ns_per_step,wall_ns_per_step,workers_started\n");
  fflush(stdout);
  pthread_t tids[MAX_WORKERS];
  uintptr_t started = 0;
  for (int i = 0; i < nthreads; i++) tids[i] = bu_spawn(worker, (void*)++started);
  uint64_t last_steps = 0;
  double last_cpu = cpu_s(), last_t = 0;
  int joined = 0;
  for (int tick = 1; now_s() < seconds; tick++) {
    while (now_s() < tick) usleep(10000);
    double t = now_s();
    /* The interval that ends now ran in the phase set at the last tick. */
    int ran = atomic_load(&cur_phase);
    atomic_store(&cur_phase, (int)(t / phase_s) % PH_COUNT);
    /* Replace the workers that exited: join them (their slots), start anew. */
    while (joined < atomic_load(&workers_exited)) {
      for (int i = 0; i < nthreads; i++) {
        if (pthread_tryjoin_np(tids[i], NULL) == 0) {
          joined++;
          tids[i] = bu_spawn(worker, (void*)++started);
        }
      }
      if (joined < atomic_load(&workers_exited)) usleep(1000);
    }
    uint64_t s = atomic_load(&steps_done);
    double c = cpu_s();
    uint64_t d = s - last_steps;
    double cpu_ns = d ? (c - last_cpu) * 1e9 / (double)d : 0;
    double wall_ns = d ? (t - last_t) * 1e9 * nthreads / (double)d : 0;
    printf("%.1f,%s,%.1f,%llu,%.1f,%.1f,%llu\n", t, phase_names[ran],
           (double)bu_status_kb("VmRSS") / 1024.0, (unsigned long long)d, cpu_ns, wall_ns, (unsigned long long)started);
    fflush(stdout);
    last_steps = s;
    last_cpu = c;
    last_t = t;
  }
  atomic_store(&stop, true);
  for (int i = 0; i < nthreads; i++) pthread_join(tids[i], NULL);
  bu_report_head("longrun");
  printf(" steps=%llu workers_started=%llu", (unsigned long long)atomic_load(&steps_done),
         (unsigned long long)started);
  bu_report_tail(now_s());  /* malloc_from: bench/long-run checks that the preload took */
  return 0;
}
