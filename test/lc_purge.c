/* Memory goes back to the OS on time, whoever freed it, without xa_collect.
 * One scenario per run (argv[1]); each measures RSS (or the statistics) and
 * fails on retention beyond the purge delay:
 *
 *   huge_idle_owner  a 512 MiB block freed by another thread while its owner
 *                    sleeps in pthread_join
 *   exited_huge      50 exited workers' 32 MiB results, freed by main
 *   exited_small     100 exited workers' 3000 x 1000-byte blocks, freed by main
 *   late_thread      200 threads that allocate in the last round of
 *                    thread-local destructors (after xalloc's exit hook)
 *   mixed_1g         1 GiB of mixed sizes over 4 threads, half of each
 *                    thread's blocks freed by another thread
 *   no_thrash        a 64 MiB working set freed and reallocated 1000 times
 *                    within the delay: a bounded number of purges
 *   no_thrash_big    the same with blocks of 60,000 bytes
 *   sleepers         with purge_thread on, every thread sleeps after freeing
 *   big_blocks       most of 80 MiB of 32 KiB-536 KiB blocks freed while one
 *                    block keeps each page in use; the owner goes on
 *                    allocating (the freed blocks' memory must go back)
 *   big_blocks_xthread  the same, freed by another thread
 *   big_blocks_exited   the same, freed by the allocating thread, which then
 *                    exits (its pages stay abandoned)
 *   big_blocks_idle_owner  the same, freed by another thread while the owner
 *                    sleeps; nobody pokes
 *   big_blocks_orphaned  the same, allocated by a thread that has exited and
 *                    freed by this one: not given back at once (a thread
 *                    that takes the segment soon would fault them in again),
 *                    but by the sweep within the delay, at most a pass's
 *                    budget per pass
 *
 * "A slow path" below is one allocation that cannot come from a fast path;
 * the bound in docs/design.md is stated in those terms. */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xalloc.h"
#include "check.h"
#include "options.h"
#include "os.h"
#include "purge.h"
#include "stats.h"
#include "xa_test.h"

#define MIB ((size_t)1 << 20)

static size_t rss(void) { return xa__os_rss(); }

static void sleep_ms(unsigned ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static unsigned delay_ms(void) { return (unsigned)xa__option_get(XA_OPT_PURGE_DELAY); }

/* One allocation slow path on the calling thread (a huge block). */
static void slow_path(void) {
  void* p = xa_malloc(600 << 10);
  CHECK(p != NULL);
  xa_free(p);
}

/* Wait until RSS is at most `target`, running a slow path every 20 ms when
 * `poke`; fail after `limit_ms`. Returns the time it took. */
static unsigned wait_rss_below(size_t target, unsigned limit_ms, bool poke, const char* what) {
  unsigned waited = 0;
  for (;;) {
    size_t now = rss();
    if (now <= target) {
      fprintf(stderr, "%s: RSS %zu MiB <= %zu MiB after %u ms\n", what, now >> 20, target >> 20, waited);
      return waited;
    }
    CHECK_MSG(waited < limit_ms, "%s: RSS still %zu MiB (target %zu MiB) after %u ms", what, now >> 20,
              target >> 20, waited);
    if (poke) slow_path();
    sleep_ms(20);
    waited += 20;
  }
}

static void touch(void* p, size_t n) {
  for (size_t i = 0; i < n; i += 4096) ((volatile char*)p)[i] = 1;
}

/* ---- a huge block freed by another thread; its owner sleeps --------------- */

static void* handoff;
static _Atomic(int) handoff_freed;
static void* huge_freer(void* arg) {
  (void)arg;
  /* Longer than the delay: the owner's last slow path is then that long
   * ago, as for any owner that blocks. */
  sleep_ms(delay_ms() + 200);
  xa_free(handoff);
  atomic_store(&handoff_freed, 1);
  return NULL;
}
static size_t huge_idle_start;
static void* huge_owner(void* arg) {
  (void)arg;
  handoff = xa_malloc(512 * MIB);
  CHECK(handoff != NULL);
  touch(handoff, 512 * MIB);
  CHECK(rss() > huge_idle_start + 400 * MIB);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, huge_freer, NULL) == 0);
  /* The owner blocks here, in no allocator path at all, while main checks. */
  pthread_join(t, NULL);
  sleep_ms(3000);
  return NULL;
}
static void scenario_huge_idle_owner(void) {
  huge_idle_start = rss();
  pthread_t t;
  CHECK(pthread_create(&t, NULL, huge_owner, NULL) == 0);
  while (!atomic_load(&handoff_freed)) sleep_ms(10);  /* allocated, touched, handed over, freed */
  wait_rss_below(huge_idle_start + 32 * MIB, delay_ms() + 2000, false, "huge_idle_owner");
  pthread_join(t, NULL);
}

/* ---- exited workers' results, freed by main ------------------------------ */

#define HUGE_WORKERS 50
static void* results[HUGE_WORKERS];
static void* huge_worker(void* arg) {
  size_t i = (size_t)arg;
  results[i] = xa_malloc(32 * MIB);
  CHECK(results[i] != NULL);
  touch(results[i], 32 * MIB);
  return NULL;
}
static void scenario_exited_huge(void) {
  size_t start = rss();
  for (size_t i = 0; i < HUGE_WORKERS; i++) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, huge_worker, (void*)i) == 0);
    pthread_join(t, NULL);
  }
  CHECK(rss() > start + 1000 * MIB);
  for (size_t i = 0; i < HUGE_WORKERS; i++) xa_free(results[i]);
  wait_rss_below(start + 32 * MIB, delay_ms() + 1500, false, "exited_huge");
}

#define SMALL_WORKERS 100
#define SMALL_BLOCKS 3000
static void* small_results[SMALL_WORKERS][SMALL_BLOCKS];
static void* small_worker(void* arg) {
  size_t w = (size_t)arg;
  for (size_t i = 0; i < SMALL_BLOCKS; i++) {
    small_results[w][i] = xa_malloc(1000);
    CHECK(small_results[w][i] != NULL);
    memset(small_results[w][i], 0x5a, 1000);
  }
  return NULL;
}
static void scenario_exited_small(void) {
  size_t start = rss();
  for (size_t w = 0; w < SMALL_WORKERS; w++) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, small_worker, (void*)w) == 0);
    pthread_join(t, NULL);
  }
  CHECK(rss() > start + 250 * MIB);
  for (size_t w = 0; w < SMALL_WORKERS; w++)
    for (size_t i = 0; i < SMALL_BLOCKS; i++) xa_free(small_results[w][i]);
  /* Main keeps running slow paths of its own (any thread's will do). */
  wait_rss_below(start + 32 * MIB, 2 * delay_ms() + 1500, true, "exited_small");
}

/* ---- thread data made after the exit hook ----------------------------------- */

#define LATE_THREADS 200
static pthread_key_t late_key;
static void* late_blocks[LATE_THREADS];
static _Atomic(int) late_rounds_seen;

static void late_destructor(void* value) {
  uintptr_t round = (uintptr_t)value;
  /* Allocate in every round: the block of the last round comes after
   * xalloc's own destructor ran for the last time. */
  void* p = xa_malloc(2000);
  CHECK(p != NULL);
  memset(p, 1, 2000);
  size_t slot = (size_t)(round >> 8);
  if ((round & 0xff) < 4) {  /* PTHREAD_DESTRUCTOR_ITERATIONS on glibc */
    xa_free(p);
    pthread_setspecific(late_key, (void*)(round + 1));
  } else {
    late_blocks[slot] = p;
    atomic_fetch_add(&late_rounds_seen, 1);
  }
}
static void* late_thread(void* arg) {
  size_t i = (size_t)arg;
  xa_free(xa_malloc(100));  /* the thread has xalloc thread data */
  pthread_setspecific(late_key, (void*)((i << 8) | 1));
  return NULL;
}
#define SKIP 77

#if defined(__SANITIZE_THREAD__)
#define XA_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define XA_TSAN 1
#endif
#endif

static void scenario_late_thread(void) {
#ifdef XA_TSAN
  fprintf(stderr, "late_thread: skipped under ThreadSanitizer: its runtime crashes when instrumented code runs in a "
                  "later round of thread-local destructors (its per-thread state is already gone)\n");
  exit(SKIP);
#endif
  xa_free(xa_malloc(100));  /* xalloc's own key exists before ours */
  CHECK(pthread_key_create(&late_key, late_destructor) == 0);
  int64_t segments_before = xa__stat_current(XA_STAT_segments);
  for (size_t i = 0; i < LATE_THREADS; i++) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, late_thread, (void*)i) == 0);
    pthread_join(t, NULL);
  }
  fprintf(stderr, "late_thread: %d threads allocated in the last destructor round\n",
          atomic_load(&late_rounds_seen));
  for (size_t i = 0; i < LATE_THREADS; i++) xa_free(late_blocks[i]);
  /* Without a hand-over each late thread keeps a segment: 200 segments. */
  unsigned waited = 0;
  for (;;) {
    slow_path();
    int64_t threads = xa__stat_current(XA_STAT_threads);
    int64_t segments = xa__stat_current(XA_STAT_segments);
    if (threads <= 1 && segments <= segments_before + 4) {
      fprintf(stderr, "late_thread: handed over %lld, %lld threads with a heap, segments %lld (before %lld), %u ms\n",
              (long long)xa__stat_current(XA_STAT_late_handovers), (long long)threads, (long long)segments,
              (long long)segments_before, waited);
      break;
    }
    CHECK_MSG(waited < 2 * delay_ms() + 2000, "late_thread: %lld threads with a heap, %lld segments (before %lld)",
              (long long)threads, (long long)segments, (long long)segments_before);
    sleep_ms(20);
    waited += 20;
  }
  CHECK(xa__stat_current(XA_STAT_late_handovers) >= LATE_THREADS);
}

/* ---- 1 GiB over 4 threads, half freed by others ------------------------------ */

#define MIX_THREADS 4
#define MIX_MAX 40000
static void* mix_blocks[MIX_THREADS][MIX_MAX];
static size_t mix_count[MIX_THREADS];
static pthread_barrier_t mix_barrier;

static void* mix_thread(void* arg) {
  size_t me = (size_t)arg;
  uint32_t s = 77u + (uint32_t)me;
  size_t total = 0;
  while (total < 256 * MIB && mix_count[me] < MIX_MAX) {
    s = s * 1103515245u + 12345u;
    unsigned pick = (s >> 16) % 16;
    size_t n = pick < 10 ? 16 + (s >> 4) % 1000 : pick < 14 ? 1000 + (s >> 4) % 60000
                                                          : 60000 + (s >> 4) % (1 * MIB);
    void* p = xa_malloc(n);
    CHECK(p != NULL);
    touch(p, n);
    mix_blocks[me][mix_count[me]++] = p;
    total += n;
  }
  pthread_barrier_wait(&mix_barrier);
  /* Even blocks: freed by their owner; odd ones: by the next thread. */
  size_t other = (me + 1) % MIX_THREADS;
  for (size_t i = 0; i < mix_count[me]; i += 2) xa_free(mix_blocks[me][i]);
  for (size_t i = 1; i < mix_count[other]; i += 2) xa_free(mix_blocks[other][i]);
  pthread_barrier_wait(&mix_barrier);
  /* Stay alive, each running a slow path now and then, as a program does. */
  for (int i = 0; i < 4 * (int)delay_ms() / 20 + 10; i++) {
    sleep_ms(20);
    slow_path();
  }
  pthread_barrier_wait(&mix_barrier);
  return NULL;
}
static void scenario_mixed_1g(void) {
  size_t start = rss();
  pthread_t t[MIX_THREADS];
  CHECK(pthread_barrier_init(&mix_barrier, NULL, MIX_THREADS + 1) == 0);
  for (size_t i = 0; i < MIX_THREADS; i++) CHECK(pthread_create(&t[i], NULL, mix_thread, (void*)i) == 0);
  pthread_barrier_wait(&mix_barrier);
  size_t peak = rss();
  CHECK(peak > start + 800 * MIB);
  pthread_barrier_wait(&mix_barrier);
  wait_rss_below(start + 32 * MIB, 3 * delay_ms() + 1500, true, "mixed_1g");
  pthread_barrier_wait(&mix_barrier);
  for (size_t i = 0; i < MIX_THREADS; i++) pthread_join(t[i], NULL);
  fprintf(stderr, "mixed_1g: start %zu MiB, peak %zu MiB\n", start >> 20, peak >> 20);
}

/* ---- no thrash ------------------------------------------------------------------ */

#define THRASH_BLOCKS (64 * 256)  /* 64 MiB of 4 KiB blocks */
static void* thrash[THRASH_BLOCKS];
/* size 4000 (small pages), or 60000 (big blocks, given back one by one). */
static void scenario_no_thrash(size_t size) {
  size_t blocks = (64 * MIB) / (size + 64);
  if (blocks > THRASH_BLOCKS) blocks = THRASH_BLOCKS;
  int64_t purges0 = xa__stat_current(XA_STAT_purges);
  int64_t purged0 = xa__stat_current(XA_STAT_purged_bytes);
  uint64_t t0 = xa__os_clock_ms(), t_warm = 0;
  for (int round = 0; round < 1000; round++) {
    /* The first round faults the working set in; time rounds 10..19. */
    if (round == 10) t_warm = xa__os_clock_ms();
    if (round == 20 && (xa__os_clock_ms() - t_warm) / 10 > delay_ms() / 4) {
      fprintf(stderr, "no_thrash: skipped: a round takes %llu ms here (sanitizer or emulator?), so the working "
                      "set is not reused within the %u ms delay that the test is about\n",
              (unsigned long long)(xa__os_clock_ms() - t_warm) / 10, delay_ms());
      exit(SKIP);
    }
    for (size_t i = 0; i < blocks; i++) {
      thrash[i] = xa_malloc(size);
      CHECK(thrash[i] != NULL);
      ((volatile char*)thrash[i])[0] = (char)round;
      ((volatile char*)thrash[i])[size - 1] = (char)round;
    }
    for (size_t i = 0; i < blocks; i++) xa_free(thrash[i]);
  }
  uint64_t ms = xa__os_clock_ms() - t0;
  int64_t purges = xa__stat_current(XA_STAT_purges) - purges0;
  int64_t purged = xa__stat_current(XA_STAT_purged_bytes) - purged0;
  fprintf(stderr, "no_thrash: 1000 rounds in %llu ms: %lld purges, %lld MiB purged\n", (unsigned long long)ms,
          (long long)purges, (long long)(purged >> 20));
  /* Each round is far shorter than the delay: nothing of the working set
   * may be purged and faulted in again round after round. */
  CHECK_MSG(purged <= (int64_t)(16 * MIB), "purged %lld MiB of a 64 MiB working set", (long long)(purged >> 20));
  CHECK(purges <= 16);
  size_t end_rss = rss();
  (void)end_rss;
}

/* ---- every thread sleeps: the purge thread --------------------------------------- */

static void* sleeper(void* arg) {
  (void)arg;
  enum { N = 20000 };
  static void* blocks[N];
  for (int i = 0; i < N; i++) {
    blocks[i] = xa_malloc(3000);
    CHECK(blocks[i] != NULL);
    memset(blocks[i], 7, 3000);
  }
  for (int i = 0; i < N; i++) xa_free(blocks[i]);  /* local frees: free pages, cached segments */
  sleep_ms(4 * delay_ms() + 2000);
  return NULL;
}
static void scenario_sleepers(void) {
  CHECK_MSG(xa__option(XA_OPT_PURGE_THREAD), "run with XALLOC_PURGE_THREAD=1");
  size_t start = rss();
  pthread_t t;
  CHECK(pthread_create(&t, NULL, sleeper, NULL) == 0);
  sleep_ms(300);
  /* Neither thread allocates from now on. */
  wait_rss_below(start + 8 * MIB, 2 * delay_ms() + 4000, false, "sleepers");
  pthread_join(t, NULL);
}

/* ---- freed big blocks in pages that stay in use ------------------------------------ */

/* Sizes from 32 KiB to 536 KiB (medium and large pages, a few huge), about
 * 80 MiB in all. */
#define BIG_BLOCKS 384
static void* big[BIG_BLOCKS];
static size_t big_size(size_t i) { return ((size_t)32 << 10) << (i % 5) | (i % 7) << 12; }

static void big_fill(void) {
  for (size_t i = 0; i < BIG_BLOCKS; i++) {
    big[i] = xa_malloc(big_size(i));
    CHECK(big[i] != NULL);
    memset(big[i], (int)(i & 0x7f) + 1, big_size(i));
  }
}

/* Frees all but every 16th block: each page keeps a live block. */
static size_t big_free_most(void) {
  size_t bytes = 0;
  for (size_t i = 0; i < BIG_BLOCKS; i++) {
    if (i % 16 == 0) continue;
    bytes += big_size(i);
    xa_free(big[i]);
    big[i] = NULL;
  }
  return bytes;
}

/* Debug builds fill freed blocks and check the fill on reuse: they keep
 * freed big blocks (docs/design.md, "When memory goes back"). */
static void big_skip_in_debug(void) {
  if (XA_DEBUG) {
    fprintf(stderr, "skipped: debug builds keep the memory of freed big blocks\n");
    exit(SKIP);
  }
}

static void* big_freer(void* arg) {
  *(size_t*)arg = big_free_most();
  return NULL;
}

static void* big_filler(void* arg) {
  big_fill();
  if (arg != NULL) *(size_t*)arg = big_free_most();  /* its own frees, then it exits */
  return NULL;
}

/* exited: a thread that has ended allocated the blocks (their pages are
 * abandoned), and this one frees them. */
static void scenario_big_blocks(bool xthread, bool exited) {
  const char* what = exited ? "big_blocks_exited" : xthread ? "big_blocks_xthread" : "big_blocks";
  big_skip_in_debug();
  size_t start = rss();
  size_t full = 0, freed = 0;
  if (exited) {
    /* The filler frees its own blocks and exits, and nobody takes its
     * pages: the sweep of abandoned segments must give the memory back. */
    pthread_t t;
    CHECK(pthread_create(&t, NULL, big_filler, &freed) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    full = rss();  /* nothing went back yet: its peak */
  } else {
    big_fill();
    full = rss();
    if (xthread) {
      pthread_t t;
      CHECK(pthread_create(&t, NULL, big_freer, &freed) == 0);
      CHECK(pthread_join(t, NULL) == 0);
    } else {
      freed = big_free_most();
    }
  }
  fprintf(stderr, "%s: RSS %zu MiB at the start, %zu MiB with every block, %zu MiB freed\n", what, start >> 20,
          full >> 20, freed >> 20);
  /* The owner keeps allocating (slow paths): at least 3/4 of what was
   * freed must go back within the delay and a little. */
  wait_rss_below(full - freed * 3 / 4, delay_ms() + 2000, true, what);
  /* The blocks still live kept their content; the freed ones can be used again. */
  for (size_t i = 0; i < BIG_BLOCKS; i += 16) {
    unsigned char* b = big[i];
    for (size_t k = 0; k < big_size(i); k++) {
      CHECK_MSG(b[k] == (unsigned char)((i & 0x7f) + 1), "%s: live block %zu lost byte %zu", what, i, k);
    }
  }
  CHECK(xa__validate());
  big_fill();
  for (size_t i = 0; i < BIG_BLOCKS; i++) xa_free(big[i]);
}

static _Atomic(int) big_freed;
static void* big_late_freer(void* arg) {
  (void)arg;
  sleep_ms(delay_ms() + 200);  /* the owner's last slow path is then that long ago */
  big_free_most();
  atomic_store(&big_freed, 1);
  return NULL;
}
static void* big_sleeping_owner(void* arg) {
  (void)arg;
  big_fill();
  pthread_t t;
  CHECK(pthread_create(&t, NULL, big_late_freer, NULL) == 0);
  pthread_join(t, NULL);  /* in no allocator path at all while main checks */
  sleep_ms(3000);
  return NULL;
}
static void scenario_big_blocks_idle_owner(void) {
  big_skip_in_debug();
  size_t start = rss();
  pthread_t t;
  CHECK(pthread_create(&t, NULL, big_sleeping_owner, NULL) == 0);
  while (!atomic_load(&big_freed)) sleep_ms(10);
  wait_rss_below(start + 24 * MIB, delay_ms() + 2000, false, "big_blocks_idle_owner");
  pthread_join(t, NULL);
}

/* The filler exits with every block live (its segments are abandoned);
 * this thread frees most of them. */
static void* big_filler_exits(void* arg) {
  (void)arg;
  big_fill();
  return NULL;
}
static void scenario_big_blocks_orphaned(void) {
  big_skip_in_debug();
  /* Long enough that the frees below finish well within it. */
  CHECK(xa_option_set("purge_delay", "1000"));
  pthread_t t;
  CHECK(pthread_create(&t, NULL, big_filler_exits, NULL) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  size_t full = rss();
  int64_t purged = xa__stat_current(XA_STAT_purged_bytes);
  size_t huge = 0;  /* a huge block's memory goes back at once: nothing else can use its segment */
  for (size_t i = 0; i < BIG_BLOCKS; i++) {
    if (i % 16 != 0 && big_size(i) > XA_LARGE_MAX) huge += big_size(i);
  }
  size_t freed = big_free_most();
  int64_t at_once = xa__stat_current(XA_STAT_purged_bytes) - purged;
  fprintf(stderr, "big_blocks_orphaned: %zu MiB freed (%zu MiB in huge blocks), %lld KiB given back at once\n",
          freed >> 20, huge >> 20, (long long)(at_once >> 10));
  CHECK_MSG(at_once < (int64_t)(huge + (freed - huge) / 4), "%lld of %zu bytes (%zu in huge blocks) went back before the delay",
            (long long)at_once, freed, huge);
  /* One pass, once all of it is due: the sweep runs inside some thread's
   * malloc or free, so it gives back its budget and leaves the rest to the
   * next passes (one block may overshoot). */
  sleep_ms(delay_ms() + 100);
  int64_t before_pass = xa__stat_current(XA_STAT_purged_bytes);
  xa__purge_run(xa__os_clock_ms(), false);
  int64_t one_pass = xa__stat_current(XA_STAT_purged_bytes) - before_pass;
  fprintf(stderr, "big_blocks_orphaned: one pass gave back %lld KiB\n", (long long)(one_pass >> 10));
  CHECK_MSG(one_pass > 0 && one_pass <= (int64_t)(XA_PURGE_PASS_BYTES + XA_LARGE_MAX),
            "one pass gave back %lld bytes (budget %zu)", (long long)one_pass, XA_PURGE_PASS_BYTES);
  wait_rss_below(full - freed * 3 / 4, delay_ms() + 2000, true, "big_blocks_orphaned");
  CHECK(xa__validate());
  for (size_t i = 0; i < BIG_BLOCKS; i += 16) xa_free(big[i]);
}

int main(int argc, char** argv) {
  CHECK_MSG(argc == 2, "usage: lc_purge SCENARIO");
  xa_free(xa_malloc(1));
  const char* s = argv[1];
  if (strcmp(s, "huge_idle_owner") == 0) scenario_huge_idle_owner();
  else if (strcmp(s, "exited_huge") == 0) scenario_exited_huge();
  else if (strcmp(s, "exited_small") == 0) scenario_exited_small();
  else if (strcmp(s, "late_thread") == 0) scenario_late_thread();
  else if (strcmp(s, "mixed_1g") == 0) scenario_mixed_1g();
  else if (strcmp(s, "no_thrash") == 0) scenario_no_thrash(4000);
  else if (strcmp(s, "no_thrash_big") == 0) scenario_no_thrash(60000);
  else if (strcmp(s, "sleepers") == 0) scenario_sleepers();
  else if (strcmp(s, "big_blocks") == 0) scenario_big_blocks(false, false);
  else if (strcmp(s, "big_blocks_xthread") == 0) scenario_big_blocks(true, false);
  else if (strcmp(s, "big_blocks_exited") == 0) scenario_big_blocks(false, true);
  else if (strcmp(s, "big_blocks_idle_owner") == 0) scenario_big_blocks_idle_owner();
  else if (strcmp(s, "big_blocks_orphaned") == 0) scenario_big_blocks_orphaned();
  else CHECK_MSG(0, "unknown scenario %s", s);
  return 0;
}
