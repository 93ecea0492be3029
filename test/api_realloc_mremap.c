/* Huge realloc without copying (issue 11; docs/design.md, "Huge blocks"):
 * on Linux the owner of a huge block grows it by extending its mapping or
 * moving its pages (mremap), and shrinks it by giving the tail back.
 *
 * - A doubling loop from 1 MiB to 1 GiB keeps the content (one word in every
 *   4 KiB page, all checked at each step; the grown part is written each
 *   step) and the alignment of xa_malloc_aligned (64 B .. 1 MiB).
 * - The pages are moved, not copied: the realloc calls themselves take
 *   (almost) no page faults, where a copy faults in every page of the new
 *   block, and the internal counter of remaps counts the steps.
 * - Shrinking keeps the address and gives the pages past the new end back
 *   (mapped bytes fall); below the huge sizes the block moves to a small one.
 * - Another thread asking xa_is_in_heap_region/xa_heap_contains about the
 *   moving block, and freeing other blocks of this thread, meanwhile; a
 *   realloc by a thread that does not own the block copies it.
 * - Address map, heap queues and segment lists stay right (xa__validate).
 *
 * Where mremap is missing (Windows, qemu-user without MREMAP_DONTUNMAP) the
 * blocks are copied: the content checks still run, the rest is skipped with
 * a message (REMAP_OPTIONAL builds only: elsewhere that is a failure).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#if !defined(_WIN32)
#include <sys/resource.h>
#endif

#include "xalloc.h"
#include "check.h"
#include "stats.h"
#include "track.h"
#include "api_util.h"

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)
#define PAGE (4 * KIB)

/* Minor page faults of the calling thread (the other one works meanwhile). */
static long minor_faults(void) {
#if defined(RUSAGE_THREAD)
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  return ru.ru_minflt;
#else
  return 0;
#endif
}

/* One word per 4 KiB page, at an offset that varies by page (past the
 * first 256 bytes, which hold a byte pattern). */
typedef uint64_t __attribute__((may_alias)) word_t;
static word_t* page_word(unsigned char* p, size_t page) {
  return (word_t*)(p + page * PAGE + 256 + ((page * 72) % (PAGE - 264) & ~(size_t)7));
}
static uint64_t page_value(size_t page, unsigned seed) {
  return (page + 1) * 0x9E3779B97F4A7C15ull ^ seed;
}
static void fill_pages(unsigned char* p, size_t from, size_t to, unsigned seed) {
  for (size_t i = from / PAGE; i < to / PAGE; i++) *page_word(p, i) = page_value(i, seed);
}
/* Index of the first page in [0, to) that lost its word, or to / PAGE. */
static size_t check_pages(unsigned char* p, size_t to, unsigned seed) {
  for (size_t i = 0; i < to / PAGE; i++)
    if (*page_word(p, i) != page_value(i, seed)) return i;
  return to / PAGE;
}

static bool remap_works = true;  /* cleared (REMAP_OPTIONAL only) when realloc copies */

/* ---- another thread, meanwhile --------------------------------------------------- */

static _Atomic(uintptr_t) watched;      /* the block being grown, as it moves */
static _Atomic(xa_heap_t*) watched_heap;
static _Atomic(void*) handoff[64];      /* blocks of the main thread for the other to free */
static _Atomic(int) stop;
static _Atomic(long) watcher_rounds;

static void* watcher(void* arg) {
  (void)arg;
  while (!atomic_load(&stop)) {
    uintptr_t p = atomic_load(&watched);
    xa_heap_t* h = atomic_load(&watched_heap);
    /* The answers race with the moves: only the asking must be safe. */
    if (p != 0) {
      (void)xa_is_in_heap_region((void*)p);
      (void)xa_is_in_heap_region((void*)(p + 12345));
      if (h != NULL) (void)xa_heap_contains(h, (void*)p);
    }
    for (int i = 0; i < 64; i++) {
      void* b = atomic_exchange(&handoff[i], NULL);
      if (b != NULL) xa_free(b);
    }
    atomic_fetch_add(&watcher_rounds, 1);
    struct timespec ts = {0, 20 * 1000};  /* leave the CPU to the others now and then */
    nanosleep(&ts, NULL);
  }
  return NULL;
}

/* Stop asking about the watched block, and wait until the other thread is
 * surely past any question about it: freeing or allocating a huge page
 * rewrites its descriptor, and an answer from another thread about a block
 * that is being freed is a snapshot read racing with that (a known gap of
 * xa_heap_contains, not what this test is about). */
static void unwatch(void) {
  atomic_store(&watched, 0);
  long r = atomic_load(&watcher_rounds);
  while (atomic_load(&watcher_rounds) < r + 2) {
    struct timespec ts = {0, 50 * 1000};
    nanosleep(&ts, NULL);
  }
}

static void hand_off_some(unsigned round) {
  for (int i = 0; i < 64; i++) {
    if (atomic_load(&handoff[i]) != NULL) continue;
    size_t size = (i % 4 == 0) ? (size_t)600 * KIB + (size_t)i * KIB : 16 + (size_t)(round * 7 + (unsigned)i) % 3000;
    void* b = xa_malloc(size);
    CHECK(b != NULL);
    memset(b, 0x5A, size < 64 ? size : 64);
    void* expect = NULL;
    if (!atomic_compare_exchange_strong(&handoff[i], &expect, b)) xa_free(b);
  }
}

/* ---- growth ---------------------------------------------------------------------------- */

/* Grow a block aligned to `align` from 1 MiB to `top` by doubling. */
static unsigned char* grow(size_t align, size_t top, unsigned seed, size_t* final_size) {
  size_t size = MIB;
  unsigned char* p = xa_malloc_aligned(size, align);
  CHECK(p != NULL && xt_aligned(p, align));
  fill_pages(p, 0, size, seed);
  xt_fill_pos(p, 0, 256, seed);
  atomic_store(&watched, (uintptr_t)p);
  int64_t remaps0 = xa__stat_current(XA_STAT_huge_remaps);
  long faults_in_realloc = 0;
  long pages_grown = 0;
  int steps = 0;
  for (unsigned round = 0; size < top; round++) {
    size_t ns = size * 2;
    hand_off_some(round);
    long f0 = minor_faults();
    unsigned char* q = xa_realloc(p, ns);
    faults_in_realloc += minor_faults() - f0;
    CHECK_MSG(q != NULL, "align %zu: realloc %zu -> %zu failed", align, size, ns);
    CHECK(xa_usable_size(q) >= ns);
    steps++;
    pages_grown += (long)(ns / PAGE);
    atomic_store(&watched, (uintptr_t)q);
    if (remap_works) CHECK_MSG(xt_aligned(q, align), "align %zu: %zu -> %zu lost the alignment: %p", align, size, ns, (void*)q);
    size_t bad = check_pages(q, size, seed);
    CHECK_MSG(bad == size / PAGE, "align %zu: %zu -> %zu: page %zu lost its content", align, size, ns, bad);
    CHECK(xt_check_pos(q, 256, seed) == 256);
    fill_pages(q, size, ns, seed);  /* write the grown part; checked from the next step on */
    p = q;
    size = ns;
    CHECK(xa__validate());
  }
  int64_t remaps = xa__stat_current(XA_STAT_huge_remaps) - remaps0;
#if defined(RUSAGE_THREAD)
  printf("align %7zu: 1 MiB -> %4zu MiB in %d steps: %lld remaps, %ld page faults inside realloc "
         "(a copy would fault in %ld pages)\n",
         align, top / MIB, steps, (long long)remaps, faults_in_realloc, pages_grown);
#else
  printf("align %7zu: 1 MiB -> %4zu MiB in %d steps: %lld remaps\n", align, top / MIB, steps, (long long)remaps);
#endif
  if (remaps == 0) {
#if defined(REMAP_OPTIONAL)
    if (remap_works) printf("  realloc copies here (no mremap): skipping the no-copy and alignment checks\n");
    remap_works = false;
#else
    CHECK_MSG(remaps > 0, "align %zu: no huge realloc was done without copying", align);
#endif
  }
  if (remap_works) {
    CHECK_MSG(remaps >= steps - 1, "align %zu: only %lld of %d steps remapped", align, (long long)remaps, steps);
#if defined(RUSAGE_THREAD) && !XT_UNDER_TSAN  /* TSan's munmap touches its own metadata */
    /* A copy faults in every page of every new block; moving page tables
     * faults in none (a few for the allocator's own bookkeeping). */
    CHECK_MSG(faults_in_realloc < pages_grown / 50, "align %zu: %ld page faults inside realloc", align,
              faults_in_realloc);
#endif
  }
  *final_size = size;
  return p;
}

/* Grow by an eighth at a time, from 600 KiB to 24 MiB, as a growing buffer
 * does. A growth past the block's end makes it half again as large, and a
 * later realloc that still fits must not cut that room off again (each cut
 * is an munmap, and the next step then has to remap): the usable size never
 * falls, and only about one step in three remaps. */
static void grow_by_eighths(void) {
  size_t size = 600 * KIB;
  unsigned char* p = xa_malloc(size);
  CHECK(p != NULL);
  xt_fill_pos(p, 0, 256, 99);
  int64_t remaps0 = xa__stat_current(XA_STAT_huge_remaps);
  size_t usable = xa_usable_size(p);
  int steps = 0;
  while (size < 24 * MIB) {
    size += size / 8;
    unsigned char* q = xa_realloc(p, size);
    CHECK_MSG(q != NULL, "realloc to %zu failed", size);
    CHECK(xt_check_pos(q, 256, 99) == 256);
    size_t now = xa_usable_size(q);
    CHECK_MSG(now >= size && now >= usable, "growing to %zu: usable size %zu -> %zu", size, usable, now);
    memset(q + size - 4096, 1, 4096);
    usable = now;
    p = q;
    steps++;
  }
  int64_t remaps = xa__stat_current(XA_STAT_huge_remaps) - remaps0;
  printf("600 KiB -> 24 MiB by eighths: %d steps, %lld remaps\n", steps, (long long)remaps);
  /* (Tracked blocks, debug builds and valgrind, get exactly the size asked
   * for: no room to grow into.) */
  if (remap_works && !XA_DEBUG && !xa__tracking()) {
    CHECK_MSG(remaps <= steps / 2, "%lld remaps in %d steps", (long long)remaps, steps);
  }
  /* A real shrink (a quarter or more) still gives the tail back. */
  int64_t mapped0 = xa__stat_current(XA_STAT_os_bytes);
  unsigned char* q = xa_realloc(p, usable / 2);
  CHECK(q == p);
  if (remap_works) CHECK(mapped0 - xa__stat_current(XA_STAT_os_bytes) >= (int64_t)(usable / 2 - PAGE));
  xa_free(q);
  CHECK(xa__validate());
}

/* ---- shrinking ---------------------------------------------------------------------------- */

static void shrink(unsigned char* p, size_t size, size_t align, unsigned seed) {
  while (size > MIB) {
    size_t ns = size / 2 + 3 * KIB;  /* not page-aligned: usable rounds up */
    int64_t mapped0 = xa__stat_current(XA_STAT_os_bytes);
    unsigned char* q = xa_realloc(p, ns);
    CHECK(q != NULL);
    CHECK_MSG(q == p, "shrinking %zu -> %zu moved the block", size, ns);
    CHECK(xa_usable_size(q) >= ns && xa_usable_size(q) < ns + PAGE);
    size_t bad = check_pages(q, ns & ~(PAGE - 1), seed);
    CHECK_MSG(bad == ns / PAGE, "shrinking %zu -> %zu: page %zu lost its content", size, ns, bad);
    CHECK(xt_check_pos(q, 256, seed) == 256);
    int64_t given_back = mapped0 - xa__stat_current(XA_STAT_os_bytes);
    if (remap_works) {
      CHECK_MSG(given_back >= (int64_t)(size - ns - PAGE), "shrinking %zu -> %zu gave back only %lld bytes", size, ns,
                (long long)given_back);
    }
    CHECK(xa__validate());
    size = ns;
    p = q;
  }
  /* Far below the huge sizes: a small block, content kept. */
  unwatch();
  unsigned char* q = xa_realloc(p, 200);
  CHECK(q != NULL);
  CHECK(xt_check_pos(q, 200, seed) == 200);
  (void)align;
  xa_free(q);
}

/* ---- a realloc by another thread copies ------------------------------------------------ */

static void* foreign_realloc(void* arg) {
  unsigned char** pp = arg;
  unsigned char* p = *pp;
  unsigned char* q = xa_realloc(p, 8 * MIB);  /* not the owner: malloc + copy + free */
  CHECK(q != NULL);
  CHECK(check_pages(q, 3 * MIB, 77) == 3 * MIB / PAGE);
  unsigned char* r = xa_realloc(q, 5 * MIB);  /* its owner now: a shrink in place */
  CHECK(r == q);
  CHECK(check_pages(r, 3 * MIB, 77) == 3 * MIB / PAGE);
  *pp = r;
  return NULL;
}

/* Sanitizer builds shadow every page touched: a shorter way up. */
#if XT_UNDER_TSAN || defined(__SANITIZE_ADDRESS__)
#define TOP ((size_t)256 << 20)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TOP ((size_t)256 << 20)
#endif
#endif
#ifndef TOP
#define TOP ((size_t)1 << 30)
#endif

int main(void) {
  pthread_t t;
  atomic_store(&watched_heap, xa_heap_get_default());
  CHECK(pthread_create(&t, NULL, watcher, NULL) == 0);

  size_t final_size;
  /* The whole way to 1 GiB for a plain block and the largest alignment. */
  unsigned char* p = grow(16, TOP, 1, &final_size);
  shrink(p, final_size, 16, 1);
  p = grow(MIB, TOP, 2, &final_size);
  shrink(p, final_size, MIB, 2);
  /* Every alignment from 64 B, to 64 MiB. */
  for (size_t a = 64; a <= MIB; a *= 4) {
    p = grow(a, 64 * MIB, (unsigned)a, &final_size);
    shrink(p, final_size, a, (unsigned)a);
  }

  atomic_store(&stop, 1);
  pthread_join(t, NULL);
  for (int i = 0; i < 64; i++) xa_free(atomic_exchange(&handoff[i], NULL));
  grow_by_eighths();
  printf("the other thread made %ld rounds meanwhile\n", atomic_load(&watcher_rounds));

  /* Not the owner: copies (and then owns the copy). */
  p = xa_malloc(3 * MIB);
  CHECK(p != NULL);
  fill_pages(p, 0, 3 * MIB, 77);
  unsigned char* arg = p;
  CHECK(pthread_create(&t, NULL, foreign_realloc, &arg) == 0);
  pthread_join(t, NULL);
  CHECK(arg != p);
  CHECK(check_pages(arg, 3 * MIB, 77) == 3 * MIB / PAGE);
  xa_free(arg);
  CHECK(xa__validate());
  return 0;
}
