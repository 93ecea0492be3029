/* xa-churn: resident memory over time in a multi-threaded churn, written for
 * xalloc's suite (issue 11: "Memory goes back, whoever freed it").
 *
 * THREADS worker threads run for MS milliseconds.  Each step of a worker is
 * one of (random sizes throughout; xorshift64*, seeds derived from SEED):
 *   - small exchange (40%): a block of 16 B - 1 KiB replaces a random slot of
 *     a shared table of SMALL_SLOTS blocks (atomic exchange); the block that
 *     comes out, usually another thread's and often a retired thread's, is
 *     checked and freed;
 *   - medium exchange (3%): the same with 1 KiB - 64 KiB blocks and a table
 *     of MEDIUM_SLOTS;
 *   - large exchange (1 step in LARGE_EVERY, on top): 64 KiB - 1 MiB blocks,
 *     a table of LARGE_SLOTS;
 *   - own ring (15%): a block of 16 B - 1 KiB replaces a random slot of the
 *     thread's own ring of 256 blocks, freed when the thread retires;
 *   - short-lived heap (42%): a block (16 B - 1 KiB, 1 in 32 of them
 *     1 - 8 KiB) is added to the thread's current batch of 16-1024 blocks.
 *     A full batch is freed at once by its thread, or (half of them) handed
 *     to a shared mailbox of MAILBOX batches; the batch it displaces is freed
 *     whole by the thread that displaced it.
 * Each worker is paced to at most RATE steps per second (sleeping when it is
 * ahead), so that every allocator gets the same work in the same time as long
 * as it keeps up (steps in the result line says whether it did; --rate 0
 * runs unpaced).  A worker retires after LIFE/2 .. 3*LIFE/2 steps (its ring
 * and current batch are freed, its blocks in the shared tables live on) and
 * the main thread starts a replacement at once, so THREADS workers run all
 * the time.  The tables bound the live set: at most SMALL_SLOTS KiB +
 * MEDIUM_SLOTS * 64 KiB + LARGE_SLOTS MiB, plus the batches and rings (with
 * the defaults the live bytes level off at 50-57 MiB).  Every block has its size in its first 4
 * bytes, a tag in its last byte, and one byte written in every 4 KiB, so all
 * of its pages are resident; the tags are checked before each free.
 *
 * Phases, with the resident set (RSS, /proc/self/statm, read without calling
 * malloc) sampled at each:
 *   before      after start-up, before the workers start;
 *   churn       MS ms, sampled every SAMPLE_MS ms;
 *   after-free  the workers are stopped and joined, then the main thread
 *               frees every block left in the shared tables and mailbox
 *               (cross-thread frees of blocks of exited threads), sampled at
 *               once;
 *   idle        the process stays alive without allocating for IDLE_MS ms,
 *               sampled every SAMPLE_MS ms; after-delay is the last sample.
 *               (--idle-allocs N: N small malloc+free pairs in the main
 *               thread after each sample, a nearly idle process.)
 * peak is the largest sample; hwm is the kernel's high-water mark (VmHWM),
 * which also sees peaks between samples.  live bytes are the bytes of the
 * blocks the program holds (counted by the program), sampled with the RSS.
 *
 * Output: the suite's result line with before_kb, peak_kb, hwm_kb,
 * after_free_kb, after_delay_kb, live_peak_kb, steps, paced_steps (what the
 * pace allows: steps below it mean the workers fell behind) and
 * workers_started; with --csv FILE also the timeline, one sample per row:
 *   t_ms,phase,rss_kb,live_kb
 * steps is the work done; on a shared machine it is not a speed measurement.
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench_util.h"

#include <fcntl.h>
#include <unistd.h>

static uint64_t o_threads, o_ms, o_seed, o_sample_ms, o_idle_ms, o_small_slots, o_medium_slots,
    o_large_slots, o_mailbox, o_life, o_large_every, o_rate, o_idle_allocs;
static const char *o_csv;

#define RING 256
#define MAX_THREADS 256

/* ---- RSS without malloc ---------------------------------------------------- */

static long page_kb;

/* Reads a small /proc file into buf (NUL-terminated); 0 on failure. */
static size_t read_proc(const char *path, char *buf, size_t cap)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  size_t n = 0;
  while (n + 1 < cap) {
    ssize_t k = read(fd, buf + n, cap - 1 - n);
    if (k <= 0) break;
    n += (size_t)k;
  }
  close(fd);
  buf[n] = 0;
  return n;
}

static long rss_kb(void)
{
  char buf[256];
  if (read_proc("/proc/self/statm", buf, sizeof buf) == 0) return -1;
  char *p = buf;
  strtol(p, &p, 10); /* size */
  return strtol(p, NULL, 10) * page_kb;
}

static long hwm_kb(void)
{
  char buf[4096];
  if (read_proc("/proc/self/status", buf, sizeof buf) == 0) return -1;
  char *p = strstr(buf, "VmHWM:");
  return p ? strtol(p + 6, NULL, 10) : -1;
}

/* ---- blocks ---------------------------------------------------------------- */

/* Live bytes: one counter per worker slot, written only by the thread that
 * runs in that slot (a replacement continues its predecessor's count); a
 * block freed by another thread is subtracted there, so only the sum means
 * something.  The main thread has its own counter. */
typedef struct {
  _Atomic int64_t live;
  char pad[56];
} counter;

static counter counters[MAX_THREADS + 1];

static inline void count(counter *c, int64_t delta)
{
  atomic_store_explicit(&c->live, atomic_load_explicit(&c->live, memory_order_relaxed) + delta,
                        memory_order_relaxed);
}

static int64_t live_bytes(void)
{
  int64_t sum = 0;
  for (uint64_t i = 0; i <= o_threads; i++)
    sum += atomic_load_explicit(&counters[i].live, memory_order_relaxed);
  return sum;
}

static inline unsigned char tag_of(uint32_t size)
{
  return (unsigned char)(size * 7u + 1u);
}

static unsigned char *make(bu_rng *r, counter *c, size_t lo, size_t hi)
{
  uint32_t sz = (uint32_t)bu_range(r, lo, hi);
  unsigned char *p = bu_malloc(sz);
  memcpy(p, &sz, sizeof sz);
  for (uint32_t i = 4096; i < sz; i += 4096) p[i] = (unsigned char)i;
  p[sz - 1] = tag_of(sz);
  count(c, sz);
  return p;
}

static void drop(unsigned char *p, counter *c)
{
  if (p == NULL) return;
  uint32_t sz;
  memcpy(&sz, p, sizeof sz);
  if (sz < 16 || sz > (1u << 20) || p[sz - 1] != tag_of(sz)) bu_corrupt("block overwritten", p, sz);
  free(p);
  count(c, -(int64_t)sz);
}

/* A short-lived heap: blocks allocated one by one, freed together. */
typedef struct {
  uint32_t n, cap;
  unsigned char *b[];
} batch;

static batch *new_batch(bu_rng *r, counter *c)
{
  uint32_t cap = (uint32_t)bu_range(r, 16, 1024);
  size_t bytes = sizeof(batch) + cap * sizeof(unsigned char *);
  batch *b = bu_malloc(bytes);
  b->n = 0;
  b->cap = cap;
  count(c, (int64_t)bytes);
  return b;
}

static void drop_batch(batch *b, counter *c)
{
  if (b == NULL) return;
  for (uint32_t i = 0; i < b->n; i++) drop(b->b[i], c);
  count(c, -(int64_t)(sizeof(batch) + b->cap * sizeof(unsigned char *)));
  free(b);
}

static _Atomic(unsigned char *) *small_tab, *medium_tab, *large_tab;
static _Atomic(batch *) *mailbox;

static inline void exchange(_Atomic(unsigned char *) *tab, uint64_t n, bu_rng *r, counter *c,
                            unsigned char *p)
{
  uint32_t i = bu_below(r, (uint32_t)n);
  drop(atomic_exchange_explicit(&tab[i], p, memory_order_acq_rel), c);
}

static void sleep_until(double t);

/* ---- workers ----------------------------------------------------------------- */

typedef struct {
  pthread_t th;
  uint64_t slot, gen;
  uint64_t steps;
  int running;
} worker;

static worker workers[MAX_THREADS];
static atomic_int stop;
static _Atomic uint64_t total_steps;
static pthread_mutex_t retire_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t retire_cond;
static uint64_t retired[MAX_THREADS], nretired;

static void *work(void *arg)
{
  worker *w = arg;
  counter *c = &counters[w->slot];
  bu_rng r;
  bu_seed(&r, o_seed * 1000003u + w->slot * 7919u + w->gen);
  uint64_t life = bu_range(&r, o_life / 2, o_life * 3 / 2), k = 0;
  double born = bu_now();
  unsigned char **ring = bu_malloc(RING * sizeof *ring);
  count(c, RING * sizeof *ring);
  for (int i = 0; i < RING; i++) ring[i] = make(&r, c, 16, 1024);
  batch *cur = new_batch(&r, c);
  for (; k < life && !atomic_load_explicit(&stop, memory_order_relaxed); k++) {
    if (o_rate != 0 && (k & 63) == 0) {
      /* Paced: at most RATE steps per second; ahead of the pace, sleep. */
      double due = born + (double)k / (double)o_rate;
      if (due > bu_now()) sleep_until(due);
    }
    if (bu_below(&r, (uint32_t)o_large_every) == 0)
      exchange(large_tab, o_large_slots, &r, c, make(&r, c, 65537, 1u << 20));
    uint32_t x = bu_below(&r, 1000);
    if (x < 30) {
      exchange(medium_tab, o_medium_slots, &r, c, make(&r, c, 1025, 65536));
    } else if (x < 430) {
      exchange(small_tab, o_small_slots, &r, c, make(&r, c, 16, 1024));
    } else if (x < 580) {
      uint32_t i = bu_below(&r, RING);
      drop(ring[i], c);
      ring[i] = make(&r, c, 16, 1024);
    } else {
      cur->b[cur->n++] =
          bu_below(&r, 32) == 0 ? make(&r, c, 1025, 8192) : make(&r, c, 16, 1024);
      if (cur->n == cur->cap) {
        if (bu_below(&r, 2) == 0) {
          drop_batch(cur, c);
        } else {
          uint32_t i = bu_below(&r, (uint32_t)o_mailbox);
          drop_batch(atomic_exchange_explicit(&mailbox[i], cur, memory_order_acq_rel), c);
        }
        cur = new_batch(&r, c);
      }
    }
  }
  drop_batch(cur, c);
  for (int i = 0; i < RING; i++) drop(ring[i], c);
  free(ring);
  count(c, -(int64_t)(RING * sizeof *ring));
  w->steps = k;
  atomic_fetch_add_explicit(&total_steps, k, memory_order_relaxed);
  pthread_mutex_lock(&retire_lock);
  retired[nretired++] = w->slot;
  pthread_cond_signal(&retire_cond);
  pthread_mutex_unlock(&retire_lock);
  return NULL;
}

static uint64_t started;

static void start(uint64_t slot)
{
  worker *w = &workers[slot];
  w->slot = slot;
  w->gen = started++;
  w->running = 1;
  w->th = bu_spawn(work, w);
}

/* Joins the workers that retired and, unless stopping, starts their
 * replacements.  Called with retire_lock held. */
static void replace_retired(int restart)
{
  while (nretired > 0) {
    uint64_t slot = retired[--nretired];
    pthread_mutex_unlock(&retire_lock);
    bu_join(workers[slot].th);
    workers[slot].running = 0;
    if (restart) start(slot);
    pthread_mutex_lock(&retire_lock);
  }
}

/* ---- timeline ---------------------------------------------------------------- */

typedef struct {
  double t;
  const char *phase;
  long rss, live;
} sample_t;

static sample_t *samples;
static uint64_t nsamples, samples_cap;
static double t_origin;

static long sample(const char *phase)
{
  long kb = rss_kb();
  if (nsamples < samples_cap) {
    sample_t s = {bu_now() - t_origin, phase, kb, (long)(live_bytes() / 1024)};
    samples[nsamples++] = s;
  }
  return kb;
}

static struct timespec deadline(double t)
{
  struct timespec ts;
  ts.tv_sec = (time_t)t;
  ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

static void sleep_until(double t)
{
  struct timespec ts = deadline(t);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
  }
}

static void write_csv(void)
{
  FILE *f = fopen(o_csv, "w");
  if (f == NULL) {
    fprintf(stderr, "%s: cannot write %s: %s\n", bu_prog, o_csv, strerror(errno));
    exit(1);
  }
  fprintf(f, "t_ms,phase,rss_kb,live_kb\n");
  for (uint64_t i = 0; i < nsamples; i++)
    fprintf(f, "%.1f,%s,%ld,%ld\n", samples[i].t * 1000.0, samples[i].phase, samples[i].rss,
            samples[i].live);
  if (fclose(f) != 0) {
    fprintf(stderr, "%s: cannot write %s\n", bu_prog, o_csv);
    exit(1);
  }
}

/* --csv FILE is the one option that is not a number: taken out of argv
 * before bu_parse sees it. */
static int take_csv(int argc, char **argv)
{
  int n = 0;
  for (int i = 0; i < argc; i++) {
    if (i > 0 && strcmp(argv[i], "--csv") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "%s: --csv needs a file name\n", bu_prog);
        exit(1);
      }
      o_csv = argv[++i];
      continue;
    }
    argv[n++] = argv[i];
  }
  argv[n] = NULL;
  return n;
}

int main(int argc, char **argv)
{
  bu_prog = "xa-churn";
  bu_summary = "thread churn with cross-thread frees; RSS before / peak / after-free / after-delay\n"
               "  --csv FILE     write the RSS timeline (t_ms,phase,rss_kb,live_kb) to FILE";
  bu_opt("threads", &o_threads, 8, 4, 1, MAX_THREADS, "worker threads");
  bu_opt("ms", &o_ms, 10000, 400, 1, 1u << 30, "length of the churn phase (ms)");
  bu_opt("seed", &o_seed, 1, 1, 0, UINT32_MAX, "random seed");
  bu_opt("sample-ms", &o_sample_ms, 50, 50, 1, 60000, "RSS sampling interval (ms)");
  bu_opt("idle-ms", &o_idle_ms, 1000, 300, 0, 1u << 30, "idle time after the final frees (ms)");
  bu_opt("small-slots", &o_small_slots, 16384, 1024, 1, 1u << 26, "shared table of small blocks");
  bu_opt("medium-slots", &o_medium_slots, 512, 64, 1, 1u << 24, "shared table of medium blocks");
  bu_opt("large-slots", &o_large_slots, 32, 4, 1, 1u << 20, "shared table of large blocks");
  bu_opt("mailbox", &o_mailbox, 32, 8, 1, 1u << 20, "shared mailbox of short-lived heaps");
  bu_opt("life", &o_life, 8000, 400, 2, 1ull << 40, "mean steps of a worker before it retires");
  bu_opt("large-every", &o_large_every, 1024, 256, 1, UINT32_MAX,
         "one large exchange per this many steps");
  bu_opt("rate", &o_rate, 2000, 2000, 0, UINT32_MAX,
         "steps per second of each worker at most (0: as fast as it can)");
  bu_opt("idle-allocs", &o_idle_allocs, 0, 0, 0, 1u << 20,
         "small malloc+free pairs per sample in the idle phase");
  argc = take_csv(argc, argv);
  bu_parse(argc, argv);

  page_kb = sysconf(_SC_PAGESIZE) / 1024;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&retire_cond, &ca);
  pthread_condattr_destroy(&ca);

  samples_cap = (o_ms + o_idle_ms) / o_sample_ms + 64;
  samples = bu_malloc(samples_cap * sizeof *samples);
  small_tab = calloc(o_small_slots, sizeof *small_tab);
  medium_tab = calloc(o_medium_slots, sizeof *medium_tab);
  large_tab = calloc(o_large_slots, sizeof *large_tab);
  mailbox = calloc(o_mailbox, sizeof *mailbox);
  if (!small_tab || !medium_tab || !large_tab || !mailbox) bu_oom(o_small_slots * sizeof *small_tab);

  t_origin = bu_now();
  long before = sample("before");
  double t0 = bu_now();
  for (uint64_t i = 0; i < o_threads; i++) start(i);
  double end = t0 + (double)o_ms / 1000.0, step = (double)o_sample_ms / 1000.0;
  double next = t0 + step;
  long peak = before;
  int64_t live_peak = 0;
  pthread_mutex_lock(&retire_lock);
  for (;;) {
    double t = next < end ? next : end;
    struct timespec ts = deadline(t);
    while (nretired == 0 && bu_now() < t) {
      if (pthread_cond_timedwait(&retire_cond, &retire_lock, &ts) == ETIMEDOUT) break;
    }
    replace_retired(1);
    if (bu_now() >= t) {
      if (t >= end) break;
      long kb = sample("churn");
      if (kb > peak) peak = kb;
      if (samples[nsamples - 1].live > live_peak) live_peak = samples[nsamples - 1].live;
      next += step;
    }
  }
  atomic_store(&stop, 1);
  pthread_mutex_unlock(&retire_lock);
  for (uint64_t i = 0; i < o_threads; i++) {
    if (workers[i].running) bu_join(workers[i].th);
    workers[i].running = 0;
  }
  pthread_mutex_lock(&retire_lock);
  nretired = 0; /* all joined above */
  pthread_mutex_unlock(&retire_lock);
  double t1 = bu_now();
  long stopped = rss_kb();
  if (stopped > peak) peak = stopped;

  /* Everything still live is freed by the main thread. */
  counter *mc = &counters[o_threads];
  for (uint64_t i = 0; i < o_small_slots; i++) drop(atomic_load(&small_tab[i]), mc);
  for (uint64_t i = 0; i < o_medium_slots; i++) drop(atomic_load(&medium_tab[i]), mc);
  for (uint64_t i = 0; i < o_large_slots; i++) drop(atomic_load(&large_tab[i]), mc);
  for (uint64_t i = 0; i < o_mailbox; i++) drop_batch(atomic_load(&mailbox[i]), mc);
  long after_free = sample("after-free");
  if (live_bytes() != 0) {
    fprintf(stderr, "%s: %" PRId64 " live bytes left after the final frees\n", bu_prog,
            live_bytes());
    exit(2);
  }

  /* Idle: only RSS samples; with --idle-allocs N, also N small malloc+free
   * pairs in the main thread after each sample (a process that is nearly
   * idle).  Without it, no allocation at all. */
  long after_delay = after_free;
  double idle_end = bu_now() + (double)o_idle_ms / 1000.0;
  bu_rng ir;
  bu_seed(&ir, o_seed + 17);
  for (next = bu_now() + step; next < idle_end + step / 2; next += step) {
    sleep_until(next < idle_end ? next : idle_end);
    after_delay = sample("idle");
    for (uint64_t i = 0; i < o_idle_allocs; i++) drop(make(&ir, mc, 16, 1024), mc);
  }
  long hwm = hwm_kb();

  if (o_csv != NULL) write_csv();
  free(samples);
  free((void *)small_tab);
  free((void *)medium_tab);
  free((void *)large_tab);
  free((void *)mailbox);
  bu_report_head("churn");
  printf(" before_kb=%ld peak_kb=%ld hwm_kb=%ld after_free_kb=%ld after_delay_kb=%ld"
         " live_peak_kb=%" PRId64 " steps=%" PRIu64 " paced_steps=%" PRIu64
         " workers_started=%" PRIu64,
         before, peak, hwm, after_free, after_delay, live_peak, atomic_load(&total_steps),
         o_rate * o_threads * o_ms / 1000, started);
  bu_report_tail(t1 - t0);
  return 0;
}
