/* Guard pages of the secure build (docs/secure.md), each shape checked:
 *
 *   header   the OS page(s) between a segment's header (segment fields, page
 *            descriptors) and its first block area are inaccessible: an
 *            underflow of page 0's first block faults instead of rewriting
 *            the descriptors. Small, medium and large segments; segments
 *            reused from the thread's cache and from the arena after a purge.
 *   huge     the OS page right after a huge block's end (p + usable size) is
 *            inaccessible: a plain block, aligned ones, one reused from the
 *            huge cache (a larger segment, trimmed), one grown by realloc
 *            (mremap, in place or moved) and one shrunk by realloc.
 *   use      many huge allocations, reallocations and frees with purges in
 *            between keep their content and their guards.
 *   maps     with the process's mappings at vm.max_map_count, a huge
 *            allocation either gets a guard or fails with NULL and ENOMEM;
 *            it never crashes and never hands out an unguarded block.
 *
 * A guard is checked twice: /proc/self/maps must show the page as "---p",
 * and a child that writes one byte there must die of SIGSEGV. Linked with
 * libxalloc-secure (XA_SECURE=1: the internal headers must see its layout). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "segment.h"
#include "stats.h"
#include "xalloc.h"
#include "xa_test.h"

#if !XA_SECURE
#error "secure_guard tests the secure build: compile with XA_SECURE=1"
#endif

/* Sanitizer runtimes map shadow and metadata of their own as the program
 * runs, so a child that fills the process's mapping limit fails inside them. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define XA_TEST_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define XA_TEST_SANITIZER 1
#endif
#endif
#ifndef XA_TEST_SANITIZER
#define XA_TEST_SANITIZER 0
#endif

static size_t page_size;

/* The permissions of the mapping that holds addr ("rw-p", "---p", ...);
 * false when no mapping holds it. Reads the file with read(2) into a static
 * buffer so that nothing maps or unmaps while it looks. */
static char maps_buf[16 << 20];  /* 65,530 lines fit */
static bool maps_perms(uintptr_t addr, char perms[5]) {
  FILE* f = fopen("/proc/self/maps", "r");
  CHECK(f != NULL);
  size_t n = fread(maps_buf, 1, sizeof(maps_buf) - 1, f);
  fclose(f);
  maps_buf[n] = 0;
  for (char* line = maps_buf; *line != 0;) {
    char* next = strchr(line, '\n');
    if (next != NULL) *next = 0;
    unsigned long lo, hi;
    char p[5];
    if (sscanf(line, "%lx-%lx %4s", &lo, &hi, p) == 3 && addr >= lo && addr < hi) {
      memcpy(perms, p, 5);
      return true;
    }
    if (next == NULL) break;
    line = next + 1;
  }
  return false;
}

static size_t maps_count(void) {
  FILE* f = fopen("/proc/self/maps", "r");
  CHECK(f != NULL);
  size_t lines = 0;
  int c;
  while ((c = fgetc(f)) != EOF) lines += c == '\n';
  fclose(f);
  return lines;
}

/* A child writes one byte at `at`; it must die of SIGSEGV. */
static void expect_fault(volatile unsigned char* at, const char* what) {
  fflush(NULL);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigaction(SIGSEGV, &sa, NULL);
    *at = 0x5a;
    _exit(0);  /* the write went through: no guard */
  }
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
            "%s: a write at %p did not fault (status %#x)", what, (void*)at, status);
}

static void expect_guard(uintptr_t at, const char* what) {
  char perms[5];
  CHECK_MSG(maps_perms(at, perms), "%s: nothing mapped at %p (no guard: anybody may map there)", what,
            (void*)at);
  CHECK_MSG(strcmp(perms, "---p") == 0, "%s: the page at %p is %s, not a guard", what, (void*)at, perms);
}

/* The guard after the block p (checked in /proc/self/maps; with fault, also
 * by a child's write). The block itself is written to its last byte. */
static void check_huge(void* p, bool fault, const char* what) {
  size_t usable = xa_usable_size(p);
  CHECK_MSG(usable > (512u << 10), "%s: usable size %zu", what, usable);
  volatile unsigned char* last = (unsigned char*)p + usable - 1;
  *last = *last;  /* writable, and its content kept (the whole block is in use in debug builds) */
  /* Debug builds track blocks: the usable size is the size asked for, and
   * the block ends with canary and trailer (docs/debugging.md). */
  const xa_page_t* page = &xa__ptr_segment(p)->pages[0];
  size_t n = XA_DEBUG ? (size_t)(page->start + page->block_size - (uint8_t*)p) : usable;
  unsigned char* end = (unsigned char*)p + n;
  CHECK_MSG(((uintptr_t)end & (page_size - 1)) == 0, "%s: a huge block ends on a page boundary", what);
  expect_guard((uintptr_t)end, what);
  if (fault) expect_fault(end, what);
}

/* The guard before the first block area of p's segment. */
static void check_header(void* p, bool fault, const char* what) {
  xa_segment_t* seg = xa__ptr_segment(p);
  CHECK(seg->kind != XA_KIND_HUGE);
  uint8_t* area = xa__segment_page_area(seg, &seg->pages[0], NULL);
  CHECK_MSG(area >= (uint8_t*)seg + 2 * page_size, "%s: page 0 starts %zu bytes into the segment", what,
            (size_t)(area - (uint8_t*)seg));
  CHECK(((uintptr_t)area & ((8u << 10) - 1)) == 0);  /* blocks keep their 8 KiB alignment */
  expect_guard((uintptr_t)area - 1, what);
  /* The header itself stays readable and writable (its last descriptor). */
  char perms[5];
  CHECK(maps_perms((uintptr_t)&seg->pages[XA_MAX_PAGES - 1], perms) && perms[0] == 'r' && perms[1] == 'w');
  if (fault) expect_fault(area - 1, what);
}

/* ---- header ------------------------------------------------------------------- */

static void fill_and_check(size_t size, size_t count, const char* what) {
  static void* blocks[8192];
  CHECK(count <= 8192);
  for (size_t i = 0; i < count; i++) {
    CHECK((blocks[i] = xa_malloc(size)) != NULL);
    memset(blocks[i], 0x33, size);  /* page 0's blocks are fully usable */
  }
  for (size_t i = 0; i < count; i++) {
    if (i == 0 || xa__ptr_segment(blocks[i]) != xa__ptr_segment(blocks[i - 1])) check_header(blocks[i], i == 0, what);
  }
  for (size_t i = 0; i < count; i++) xa_free(blocks[i]);
}

static void test_header(void) {
  /* 8,000 blocks of 1 KiB fill two small segments. */
  fill_and_check(1024, 8000, "small segment");
  /* Freed segments sit in the thread's cache: reused as they are. */
  fill_and_check(1024, 8000, "small segment from the cache");
  fill_and_check(16u << 10, 300, "medium segment (from the cache, reformatted)");
  fill_and_check(200u << 10, 40, "large segment");
  /* Everything back to the OS (arena chunks purged), then again. */
  xa_collect(true);
  fill_and_check(1024, 8000, "small segment after a purge");
  xa_collect(true);
  fill_and_check(200u << 10, 40, "large segment after a purge");
  printf("header: guards in small, medium and large segments, fresh, cached and purged\n");
}

/* ---- huge ----------------------------------------------------------------------- */

static void test_huge(void) {
  void* p = xa_malloc(1u << 20);
  CHECK(p != NULL);
  check_huge(p, true, "huge block");
  void* q = xa_malloc((3u << 20) + 12345);
  CHECK(q != NULL);
  check_huge(q, true, "huge block, size not a page multiple");
  xa_free(q);
  /* From the huge cache: a larger segment than this block needs. */
  q = xa_malloc((5u << 19) + 1);
  CHECK(q != NULL);
  check_huge(q, true, "huge block from the cache");
  xa_free(q);
  for (size_t align = 4096; align <= (2u << 20); align *= 8) {
    void* a = xa_malloc_aligned((1u << 20) + 100, align);
    CHECK(a != NULL && ((uintptr_t)a & (align - 1)) == 0);
    check_huge(a, align == 4096, "aligned huge block");
    xa_free(a);
  }
  /* realloc: grow (mremap, in place or moved), grow a lot, shrink. */
  memset(p, 0x71, 1u << 20);
  p = xa_realloc(p, 8u << 20);
  CHECK(p != NULL && ((unsigned char*)p)[(1u << 20) - 1] == 0x71);
  check_huge(p, true, "huge block grown by realloc");
  void* blocker = xa_malloc(1u << 20);  /* likely lands right after: the next growth moves */
  CHECK(blocker != NULL);
  p = xa_realloc(p, 40u << 20);
  CHECK(p != NULL && ((unsigned char*)p)[(1u << 20) - 1] == 0x71);
  check_huge(p, true, "huge block grown a lot by realloc");
  p = xa_realloc(p, 25u << 20);
  CHECK(p != NULL && ((unsigned char*)p)[(1u << 20) - 1] == 0x71);
  check_huge(p, true, "huge block shrunk by realloc");
  xa_free(blocker);
  xa_free(p);
  /* A smaller block in a larger cached segment: the rest of the mapping is
   * closed after the guard, and a growth into it opens it (no remap) with
   * the guard moving along. */
  void* big = xa_malloc(8u << 20);
  CHECK(big != NULL);
  xa_free(big);
  size_t size = (4u << 20) + 1;
  unsigned char* r = xa_malloc(size);
  CHECK(r != NULL);
  check_huge(r, true, "huge block in a larger cached segment");
  xa_segment_t* rs = xa__ptr_segment(r);
  CHECK_MSG(rs->tail > 2 * page_size, "the 4 MiB block did not reuse the 8 MiB cached segment (tail %zu)", rs->tail);
  expect_guard((uintptr_t)rs + rs->size - page_size, "the closed end of a reused segment");
  memset(r, 0x5a, size);
  int64_t remaps0 = xa__stat_current(XA_STAT_huge_remaps);
  while (size < (11u << 19)) {
    size += size / 8;
    unsigned char* g = xa_realloc(r, size);
    CHECK(g == r);
    check_huge(r, false, "huge block grown into its segment's tail");
  }
  CHECK(r[0] == 0x5a && r[4u << 20] == 0x5a);
  CHECK_MSG(xa__stat_current(XA_STAT_huge_remaps) == remaps0, "growing into the tail remapped");
  check_huge(r, true, "huge block grown into its segment's tail");
  xa_free(r);
  printf("huge: guards after plain, aligned, cached, grown, shrunk and tail-grown blocks\n");
}

/* ---- use ------------------------------------------------------------------------- */

static uint64_t rnd_state = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 7;
  rnd_state ^= rnd_state << 17;
  return rnd_state;
}

static void test_use(void) {
  enum { SLOTS = 24, ROUNDS = 3000 };
  static unsigned char* slot[SLOTS];
  static size_t len[SLOTS];
  CHECK(xa_option_set("purge_delay", "2"));
  for (int r = 0; r < ROUNDS; r++) {
    int i = (int)(rnd() % SLOTS);
    size_t size = (512u << 10) + (size_t)(rnd() % (12u << 20));
    if (slot[i] == NULL) {
      size_t align = (rnd() % 4 == 0) ? ((size_t)4096 << (rnd() % 9)) : 16;
      slot[i] = align > 16 ? xa_malloc_aligned(size, align) : xa_malloc(size);
      CHECK(slot[i] != NULL);
      len[i] = size;
      memset(slot[i], (int)(i + 1), size);
    } else if (rnd() % 3 == 0) {
      for (size_t k = 0; k < len[i]; k += 4096) CHECK(slot[i][k] == (unsigned char)(i + 1));
      xa_free(slot[i]);
      slot[i] = NULL;
      continue;
    } else {
      unsigned char* n = xa_realloc(slot[i], size);
      CHECK(n != NULL);
      size_t keep = size < len[i] ? size : len[i];
      for (size_t k = 0; k < keep; k += 4096) CHECK(n[k] == (unsigned char)(i + 1));
      CHECK(n[keep - 1] == (unsigned char)(i + 1));
      if (size > len[i]) memset(n + len[i], (int)(i + 1), size - len[i]);
      slot[i] = n;
      len[i] = size;
    }
    if (r % 97 == 0) check_huge(slot[i], false, "huge block in use");
    if (r % 500 == 0) xa_collect(true);
    if (r % 250 == 0) usleep(3000);  /* let the delay pass: purges run on the slow paths */
  }
  for (int i = 0; i < SLOTS; i++) {
    if (slot[i] != NULL) check_huge(slot[i], false, "huge block at the end");
    xa_free(slot[i]);
  }
  xa_collect(true);
  CHECK(xa_option_set("purge_delay", "100"));
  printf("use: %d huge mallocs/reallocs/frees kept their content and guards\n", ROUNDS);
}

/* ---- maps --------------------------------------------------------------------- */

/* In a child: take every mapping slot the kernel allows, then give back a
 * few at a time and ask for huge blocks. Each one must come with its guard,
 * or be NULL with ENOMEM. */
static int maps_child(void) {
  enum { MAX_FILL = 70000 };
  static void* fill[MAX_FILL];
  size_t filled = 0;
  xa_collect(true);  /* no cached segment: every huge block needs new mappings */
  void* keep = xa_malloc(2u << 20);  /* grown under pressure below */
  CHECK(keep != NULL);
  memset(keep, 0x42, 2u << 20);
  /* Single pages of alternating protection never merge with each other. */
  while (filled < MAX_FILL) {
    void* m = mmap(NULL, page_size, filled % 2 ? PROT_READ : PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) break;
    fill[filled++] = m;
  }
  CHECK_MSG(filled < MAX_FILL, "vm.max_map_count is too large for this test");
  int got = 0, refused = 0, grew = 0;
  for (int slack = 0; slack <= 6 && filled > 8; slack++) {
    for (int k = 0; k < slack; k++) munmap(fill[--filled], page_size);
    fprintf(stderr, "%smaps: slack %d:", slack ? "\n" : "", slack);
    for (int t = 0; t < 4; t++) {
      errno = 0;
      void* p = xa_malloc((1u << 20) + (size_t)t * 8192);
      if (p == NULL) {
        CHECK_MSG(errno == ENOMEM, "a refused huge block sets ENOMEM (errno %d)", errno);
        refused++;
        fprintf(stderr, " refused");
        continue;
      }
      got++;
      fprintf(stderr, " got");
      check_huge(p, false, "huge block near the mapping limit");
      xa_free(p);
    }
    errno = 0;
    size_t want = (2u << 20) + (size_t)(slack + 1) * (1u << 20);
    void* n = xa_realloc(keep, want);
    if (n == NULL) {
      CHECK(errno == ENOMEM);
      fprintf(stderr, " no-growth");
      CHECK(((unsigned char*)keep)[(2u << 20) - 1] == 0x42);
    } else {
      keep = n;
      grew++;
      fprintf(stderr, " grew");
      CHECK(((unsigned char*)keep)[(2u << 20) - 1] == 0x42);
      memset((unsigned char*)keep + (2u << 20), 0x42, want - (2u << 20));
      check_huge(keep, false, "huge block grown near the mapping limit");
    }
  }
  fprintf(stderr, "\nmaps: %zu mappings filled; %d huge blocks with guards, %d refused (ENOMEM), %d growths\n",
          filled, got, refused, grew);
  CHECK(refused > 0);  /* the limit was reached */
  fflush(stdout);
  return 0;
}

static void test_maps(void) {
  if (XA_TEST_SANITIZER) {
    printf("maps: skipped under a sanitizer (its runtime needs mappings of its own)\n");
    return;
  }
  if (getenv("XA_UNDER_EMULATOR") != NULL) {
    printf("maps: skipped under an emulator (it maps for itself and keeps its own table of mappings)\n");
    return;
  }
  size_t before = maps_count();
  enum { N = 200 };
  static void* blocks[N];
  for (int i = 0; i < N; i++) CHECK((blocks[i] = xa_malloc((1u << 20) + (size_t)i * 4096)) != NULL);
  size_t with = maps_count();
  for (int i = 0; i < N; i++) xa_free(blocks[i]);
  printf("maps: %zu lines in /proc/self/maps before, %zu with %d live huge blocks (%.2f per block)\n", before,
         with, N, (double)(with - before) / N);
  fflush(stdout);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) _exit(maps_child());
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child at the mapping limit failed (status %#x)",
            status);
}

/* With arguments, only the named parts run (header huge use maps). */
static bool part(int argc, char** argv, const char* name) {
  if (argc < 2) return true;
  for (int i = 1; i < argc; i++) if (strcmp(argv[i], name) == 0) return true;
  return false;
}

int main(int argc, char** argv) {
  page_size = (size_t)sysconf(_SC_PAGESIZE);
  if (page_size > (8u << 10)) {
    printf("OS pages of %zu bytes: no room for a guard in a segment header; skipped\n", page_size);
    return 0;
  }
  if (part(argc, argv, "header")) test_header();
  if (part(argc, argv, "huge")) test_huge();
  if (part(argc, argv, "use")) test_use();
  if (part(argc, argv, "maps")) test_maps();
  return 0;
}
