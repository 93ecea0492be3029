/* The sampling heap profile (docs/profile.md): two call sites allocate 48 and
 * 16 MiB (3:1) in blocks of two size classes, interleaved, and keep them;
 * the dump must give them 75% and 25% of the estimated bytes (within 10
 * points) and a total within 20% of the true 64 MiB. After the first site's
 * blocks are freed, a second dump shows only the second site; after another
 * thread frees the second site's blocks, nothing; a heap's blocks leave with
 * xa_heap_destroy.
 *
 * A stack belongs to a site when one of its frames is a return address in
 * that site's function: between the function's entry and the return address
 * of a call the site makes right after its malloc (its mark). No symbols
 * needed, so it runs the same on every platform. The sampler's seed is
 * fixed: every run samples the same allocations.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "xalloc.h"
#include "xa_test.h"

#define SIZE_A 1000           /* a small size class (fast path) */
#define SIZE_B 20000          /* a medium size class (generic path) */
#define ROUNDS 839            /* 839 * 20000 B = 16 MiB for B, 60 times 1000 B per round for A */
#define PER_ROUND_A 60

static void* blocks_a[ROUNDS * PER_ROUND_A];
static void* blocks_b[ROUNDS];
static uintptr_t mark_a, mark_b, mark_c;

static __attribute__((noinline)) uintptr_t where(void) {
  __asm__ volatile("");
  return (uintptr_t)__builtin_return_address(0);
}

static __attribute__((noinline)) void* site_a(void) {
  char* p = xa_malloc(SIZE_A);
  CHECK(p != NULL);
  p[0] = 'a';
  mark_a = where();
  return p;
}

static __attribute__((noinline)) void* site_b(void) {
  char* p = xa_malloc(SIZE_B);
  CHECK(p != NULL);
  p[0] = 'b';
  mark_b = where();
  return p;
}

/* Site B's blocks are freed by another thread: the cross-thread free path
 * must take them out of the profile too. */
static void* free_b(void* arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) xa_free(blocks_b[i]);
  return NULL;
}

static __attribute__((noinline)) void* site_c(xa_heap_t* h) {
  char* p = xa_heap_malloc(h, SIZE_B);
  CHECK(p != NULL);
  p[0] = 'c';
  mark_c = where();
  return p;
}

typedef struct {
  double a, b, c, other;  /* estimated bytes per site */
  long stacks;
} tally_t;

/* Which site a frame is: the return address of the site's malloc call lies
 * after the site function's entry and before its mark (the return address
 * of the call that follows the malloc call). */
static int site_of(uintptr_t frame) {
  if (frame > (uintptr_t)site_a && frame < mark_a) return 1;
  if (frame > (uintptr_t)site_b && frame < mark_b) return 2;
  if (frame > (uintptr_t)site_c && frame < mark_c) return 3;
  return 0;
}

static tally_t parse(const char* path) {
  tally_t t = {0, 0, 0, 0, 0};
  FILE* f = fopen(path, "r");
  CHECK_MSG(f != NULL, "%s", path);
  static char line[1 << 16];
  CHECK(fgets(line, sizeof(line), f) != NULL);
  CHECK_MSG(strncmp(line, "heap profile: ", 14) == 0 && strstr(line, "@ heapprofile") != NULL, "header: %s", line);
  bool maps = false;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strcmp(line, "\n") == 0) continue;
    if (strncmp(line, "MAPPED_LIBRARIES:", 17) == 0) {
      maps = true;
      break;
    }
    unsigned long long objs, bytes, objs2, bytes2;
    int used = 0;
    CHECK_MSG(sscanf(line, "%llu: %llu [%llu: %llu] @%n", &objs, &bytes, &objs2, &bytes2, &used) == 4 && used > 0,
              "line: %s", line);
    CHECK(objs == objs2 && bytes == bytes2);
    int site = 0;
    for (char* s = line + used; *s != 0 && *s != '\n' && site == 0;) {
      char* end;
      unsigned long long frame = strtoull(s, &end, 16);
      if (end == s) break;
      site = site_of((uintptr_t)frame);
      s = end;
    }
    if (site == 1) t.a += (double)bytes;
    else if (site == 2) t.b += (double)bytes;
    else if (site == 3) t.c += (double)bytes;
    else t.other += (double)bytes;
    t.stacks++;
  }
  fclose(f);
  CHECK_MSG(maps, "no MAPPED_LIBRARIES section in %s", path);
  return t;
}

static long file_size(const char* path) {
  FILE* f = fopen(path, "rb");
  if (f == NULL) return -1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fclose(f);
  return n;
}

int main(void) {
  /* Run-time options: the same in every environment (no variables needed). */
  CHECK(xa_option_set("profile_rate", "64K"));
  CHECK(xa_option_set("profile", "1"));

  for (int r = 0; r < ROUNDS; r++) {
    for (int i = 0; i < PER_ROUND_A; i++) blocks_a[r * PER_ROUND_A + i] = site_a();
    blocks_b[r] = site_b();
  }
  const double true_a = (double)ROUNDS * PER_ROUND_A * SIZE_A, true_b = (double)ROUNDS * SIZE_B;

  const char* path = "pf_profile.heap";
  CHECK(xa_profile_dump(path) == 0);
  CHECK(file_size("pf_profile.heap.folded") > 0);
  tally_t t = parse(path);
  double share_a = 100.0 * t.a / (t.a + t.b), share_b = 100.0 * t.b / (t.a + t.b);
  double total = t.a + t.b, truth = true_a + true_b;
  printf("dump 1: %ld stacks; site A %.1f%% (%.0f bytes, true %.0f), site B %.1f%% (%.0f bytes, true %.0f), "
         "total %.1f%% of the true %.0f bytes, other stacks %.0f bytes\n",
         t.stacks, share_a, t.a, true_a, share_b, t.b, true_b, 100.0 * total / truth, truth, t.other);
  CHECK_MSG(share_a > 65 && share_a < 85, "site A has %.1f%%, not 75 +- 10", share_a);
  CHECK_MSG(share_b > 15 && share_b < 35, "site B has %.1f%%, not 25 +- 10", share_b);
  CHECK_MSG(total > 0.8 * truth && total < 1.2 * truth, "total %.0f, true %.0f", total, truth);

  for (int i = 0; i < ROUNDS * PER_ROUND_A; i++) xa_free(blocks_a[i]);
  CHECK(xa_profile_dump(path) == 0);
  tally_t u = parse(path);
  printf("dump 2 (site A freed): %ld stacks; site A %.0f bytes, site B %.0f bytes (%.1f%% of the true %.0f)\n",
         u.stacks, u.a, u.b, 100.0 * u.b / true_b, true_b);
  CHECK_MSG(u.a == 0, "site A still has %.0f bytes", u.a);
  CHECK_MSG(u.b > 0.8 * true_b && u.b < 1.2 * true_b, "site B %.0f, true %.0f", u.b, true_b);

  /* Errors: a NULL or empty path, a directory that does not exist. */
  errno = 0;
  CHECK(xa_profile_dump(NULL) == -1 && errno == EINVAL);
  errno = 0;
  CHECK(xa_profile_dump("") == -1 && errno == EINVAL);
  errno = 0;
  CHECK(xa_profile_dump("no-such-dir/x.heap") == -1 && errno == ENOENT);

  pthread_t freer;
  CHECK(pthread_create(&freer, NULL, free_b, NULL) == 0);
  CHECK(pthread_join(freer, NULL) == 0);
  CHECK(xa_profile_dump(path) == 0);
  tally_t v = parse(path);
  CHECK_MSG(v.a == 0 && v.b == 0, "after freeing everything: A %.0f, B %.0f", v.a, v.b);

  /* Blocks that go with their heap (xa_heap_destroy) leave the profile. */
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  for (int i = 0; i < 2000; i++) site_c(h);
  CHECK(xa_profile_dump(path) == 0);
  tally_t w = parse(path);
  CHECK_MSG(w.c > 0.8 * 2000 * SIZE_B && w.c < 1.2 * 2000 * SIZE_B, "heap blocks: %.0f bytes", w.c);
  xa_heap_destroy(h);
  CHECK(xa_profile_dump(path) == 0);
  tally_t x = parse(path);
  printf("a heap of %d bytes: %.0f estimated; after xa_heap_destroy %.0f\n", 2000 * SIZE_B, w.c, x.c);
  CHECK_MSG(x.c == 0, "after xa_heap_destroy: %.0f bytes", x.c);
  remove(path);
  remove("pf_profile.heap.folded");
  printf("ok\n");
  return 0;
}
