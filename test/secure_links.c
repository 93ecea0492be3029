/* What the secure build adds (docs/secure.md), each shape checked:
 *
 *   overflow     an 8-byte overflow (or a write after free) puts the address
 *                of a global into a free block's link. The normal build then
 *                hands out the global's address; the secure build reports a
 *                damaged free list and never hands it out.
 *   increment    a counter in a freed block is incremented through a stale
 *                pointer (one bit of the link changes): no live block is
 *                handed out, the change is reported.
 *   race         two threads other than the owner free the same block at
 *                once, again and again:
 *                exactly one of each pair goes on, the other is reported as
 *                a double free, and no free list is damaged.
 *   order        a fresh page does not hand out its blocks in address order.
 *   forge        whoever knows the scheme but not the key flips a bit of a
 *                stored link (or moves a stored link to another block) and
 *                XORs its tag with the difference most likely to make it
 *                pass: it passes about 2^-16 of the time, for every bit.
 *
 * Linked with libxalloc-secure (XA_SECURE=1: the internal headers must see
 * the same layout). stderr reports are expected; they are counted through
 * the statistics. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "secure.h"
#include "stats.h"
#include "xalloc.h"
#include "xa_test.h"

#if !XA_SECURE
#error "secure_links tests the secure build: compile with XA_SECURE=1"
#endif

enum { BLOCK = 64, MANY = 4000 };

static _Alignas(64) unsigned char target[4 * BLOCK];

/* ---- overflow ------------------------------------------------------------------------- */

static void test_overflow(void) {
  int64_t before = xa__stat_current(XA_STAT_corruptions);
  /* Many blocks of one size, then free every other one: each freed block's
   * link is overwritten with the global's address, as an overflow of its
   * live lower neighbour would. */
  static unsigned char* blocks[MANY];
  for (int i = 0; i < MANY; i++) CHECK((blocks[i] = xa_malloc(BLOCK)) != NULL);
  for (int i = 0; i < MANY; i += 2) {
    xa_free(blocks[i]);
    uintptr_t fake = (uintptr_t)target;
    memcpy(blocks[i], &fake, sizeof(fake));  /* the link word */
  }
  /* Allocate the freed room back, and more. */
  static unsigned char* again[2 * MANY];
  for (int i = 0; i < 2 * MANY; i++) {
    again[i] = xa_malloc(BLOCK);
    CHECK(again[i] != NULL);
    volatile uintptr_t got = (uintptr_t)again[i];
    CHECK_MSG(got < (uintptr_t)target || got >= (uintptr_t)target + sizeof(target),
              "the secure build handed out an address the program planted: %p", (void*)got);
    memset(again[i], 0x5c, BLOCK);
  }
  int64_t reported = xa__stat_current(XA_STAT_corruptions) - before;
  CHECK_MSG(reported >= 1, "no damaged free list reported");
  for (int i = 1; i < MANY; i += 2) xa_free(blocks[i]);
  for (int i = 0; i < 2 * MANY; i++) xa_free(again[i]);
  printf("overflow: %lld damaged list(s) reported, the planted address never handed out\n", (long long)reported);
}

/* ---- a counter incremented in freed memory -------------------------------------------- */

static void test_stale_increment(void) {
  /* struct { int a; int refs; ... } freed, then refs++ through a stale
   * pointer: one bit of the link changes. The next two allocations must
   * not hand out a block that is still live. */
  enum { N = 64, TRIALS = 200 };
  int64_t before = xa__stat_current(XA_STAT_corruptions);
  for (int t = 0; t < TRIALS; t++) {
    static void* live[N];
    for (int i = 0; i < N; i++) CHECK((live[i] = xa_malloc(BLOCK)) != NULL);
    void* x = live[N / 2];
    void* y = live[N / 2 + 1];
    xa_free(y);
    xa_free(x);  /* x's link now leads to y */
    uint32_t refs;
    memcpy(&refs, (unsigned char*)x + 4, sizeof(refs));
    refs++;
    memcpy((unsigned char*)x + 4, &refs, sizeof(refs));
    void* a = xa_malloc(BLOCK);
    void* b = xa_malloc(BLOCK);
    for (int i = 0; i < N; i++) {
      if (i == N / 2 || i == N / 2 + 1) continue;
      volatile uintptr_t li = (uintptr_t)live[i], pa = (uintptr_t)a, pb = (uintptr_t)b;
      CHECK_MSG(li != pa && li != pb, "trial %d: a live block was handed out again", t);
    }
    xa_free(a);
    xa_free(b);
    for (int i = 0; i < N; i++) {
      if (i != N / 2 && i != N / 2 + 1) xa_free(live[i]);
    }
  }
  int64_t reported = xa__stat_current(XA_STAT_corruptions) - before;
  /* A changed link is found when it is followed: when x comes back within the
   * trial (the page's list of carved blocks ran out) or later. Debug builds'
   * blocks are larger (docs/debugging.md: 64 B asked for is a 96 B block), so
   * the page carves in other steps and fewer trials follow the link before
   * the page empties and is reset (measured: 96 of 200); nothing is handed
   * out either way. */
  int64_t expect = XA_DEBUG ? TRIALS / 4 : TRIALS / 2;
  CHECK_MSG(reported >= expect, "only %lld of %d changed links reported", (long long)reported, TRIALS);
  printf("stale increment: %d links changed by one, %lld reported, no live block handed out\n", TRIALS,
         (long long)reported);
}

/* ---- race ----------------------------------------------------------------------------- */

enum { ROUNDS = 1000 };

static _Atomic(void*) shared_block;
static _Atomic(int) arrived;
static _Atomic(int) round_no;

static void* racer(void* arg) {
  (void)arg;
  for (int r = 1; r <= ROUNDS; r++) {
    while (atomic_load(&round_no) < r) sched_yield();
    void* p = atomic_load(&shared_block);
    atomic_fetch_add(&arrived, 1);
    while (atomic_load(&arrived) < 2) {
    }  /* no yield: the two frees should meet */
    xa_free(p);  /* both racers: a cross-thread double free, at the same moment */
    atomic_fetch_add(&arrived, 1);
  }
  return NULL;
}

static void test_race(void) {
  int64_t doubles = xa__stat_current(XA_STAT_double_frees);
  int64_t damaged = xa__stat_current(XA_STAT_corruptions);
  pthread_t t[2];
  for (int i = 0; i < 2; i++) CHECK(pthread_create(&t[i], NULL, racer, NULL) == 0);
  for (int r = 1; r <= ROUNDS; r++) {
    void* p = xa_malloc(BLOCK);
    CHECK(p != NULL);
    memset(p, 0x33, BLOCK);
    atomic_store(&shared_block, p);
    atomic_store(&arrived, 0);
    atomic_store(&round_no, r);
    while (atomic_load(&arrived) < 4) sched_yield();
    if (r % 64 == 0) xa_collect(false);  /* take the frees back now and then */
  }
  for (int i = 0; i < 2; i++) CHECK(pthread_join(t[i], NULL) == 0);
  xa_collect(true);
  long long reported = (long long)(xa__stat_current(XA_STAT_double_frees) - doubles);
  long long broken = (long long)(xa__stat_current(XA_STAT_corruptions) - damaged);
  CHECK_MSG(reported == ROUNDS, "%d blocks freed twice at once, %lld double frees reported", ROUNDS, reported);
  CHECK_MSG(broken == 0, "%lld free lists damaged by the race", broken);
  /* Every block came back once: the next allocations are all distinct. */
  static void* fresh[2 * ROUNDS];
  for (int i = 0; i < 2 * ROUNDS; i++) CHECK((fresh[i] = xa_malloc(BLOCK)) != NULL);
  for (int i = 0; i < 2 * ROUNDS; i++) memset(fresh[i], i & 0xff, BLOCK);
  for (int i = 0; i < 2 * ROUNDS; i++) {
    for (int k = 0; k < BLOCK; k++) CHECK(((unsigned char*)fresh[i])[k] == (unsigned char)(i & 0xff));
  }
  for (int i = 0; i < 2 * ROUNDS; i++) xa_free(fresh[i]);
  printf("race: %d simultaneous cross-thread double frees, %lld reported, no list damaged\n", ROUNDS, reported);
}

/* ---- order ---------------------------------------------------------------------------- */

static void test_order(void) {
  /* A size no earlier test used: a fresh page. */
  enum { N = 256, SIZE = 48 };
  void* p[N];
  for (int i = 0; i < N; i++) CHECK((p[i] = xa_malloc(SIZE)) != NULL);
  int ascending = 0;
  for (int i = 0; i + 1 < N; i++) {
    volatile uintptr_t a = (uintptr_t)p[i], b = (uintptr_t)p[i + 1];
    ascending += b == a + SIZE;
  }
  for (int i = 0; i < N; i++) xa_free(p[i]);
  CHECK_MSG(ascending < N / 2, "%d of %d consecutive allocations were address neighbours", ascending, N - 1);
  printf("order: %d of %d consecutive allocations were address neighbours\n", ascending, N - 1);
}

/* ---- forge ---------------------------------------------------------------------------- */

static uint64_t forge_rng = 0x9E3779B97F4A7C15ull;
static uint64_t forge_next(void) {  /* xorshift64: test data only */
  forge_rng ^= forge_rng << 13;
  forge_rng ^= forge_rng >> 7;
  forge_rng ^= forge_rng << 17;
  return forge_rng;
}

static void test_forge(void) {
  /* Changes: link bit j (4..47, a 16-aligned link), or the link's block
   * moved 16 << m bytes (m 0..11) within its 64 KiB page. For each, the
   * tag difference the change needs, over 2^16 keys and places: the most
   * frequent one is the attacker's best guess. Uniform: a few of 2^16. A
   * public multiplier (the tag before cd0c1dd) gave up to 3,508. */
  enum { SAMPLES = 1 << 16, LIMIT = 64 };
  static uint32_t hist[1 << 16];
  uint32_t worst = 0;
  int worst_change = 0;
  for (int c = 4; c < 48 + 12; c++) {
    memset(hist, 0, sizeof(hist));
    for (int i = 0; i < SAMPLES; i++) {
      uintptr_t key = xa__secure_page_key() | 1;  /* as xa__page_init sets it */
      uintptr_t page = (uintptr_t)(forge_next() & (((uint64_t)1 << 46) - 1)) & ~(uintptr_t)0xFFFF;
      uintptr_t at = page + (uintptr_t)(forge_next() & 0xFFF0), next = page + (uintptr_t)(forge_next() & 0xFFF0);
      uintptr_t at2 = at, next2 = next;
      if (c < 48) next2 ^= (uintptr_t)1 << c;
      else at2 += (uintptr_t)16 << (c - 48);
      uintptr_t s1 = xa__link_encode(key, (const xa_block_t*)at, (const xa_block_t*)next);
      uintptr_t s2 = xa__link_encode(key, (const xa_block_t*)at2, (const xa_block_t*)next2);
      hist[(s1 ^ s2 ^ next ^ next2) >> XA_LINK_BITS]++;
    }
    for (int d = 0; d < (1 << 16); d++) {
      if (hist[d] > worst) {
        worst = hist[d];
        worst_change = c;
      }
    }
  }
  CHECK_MSG(worst <= LIMIT, "change %d: one tag difference fits %u of %d keys and places", worst_change, worst,
            SAMPLES);
  printf("forge: best guess of a changed link's tag passes at most %u of %d times\n", worst, SAMPLES);
}

int main(void) {
  test_order();
  /* First: the cases below leave damaged links in lists, and a block handed
   * out as one is found lies in a page taken out of use, whose frees are
   * ignored without a report. */
  test_race();
  test_overflow();
  test_stale_increment();
  test_forge();
  printf("secure_links: ok\n");
  return 0;
}
