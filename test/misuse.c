/* Misuse that xalloc must survive with a defined answer: reported once on
 * stderr and ignored, never a crash, a hang or a block handed out twice.
 * One case per process (the first report is the one checked):
 *
 *   transit_inbox       a block another thread freed into a full page waits in
 *                       the owner's inbox; the owner frees it again
 *   transit_orphan      the same through the orphan inbox (the owner looked
 *                       inactive when the other thread freed)
 *   interior_local      free(p + 16) and friends by the owner, every page kind
 *   interior_huge       free(huge + 4096)
 *   interior_xthread    free(p + 32) from another thread
 *   interior_realloc    realloc(p + 16, n)
 *   interior_usable     xa_usable_size of interior pointers is 0
 *   interior_aligned    interior pointers into pages of aligned blocks
 *   xthread_cycle       two frees of one block by other threads, the mark
 *                       wiped in between (the shape of two threads freeing it
 *                       at once): the cross-thread list becomes a cycle
 *   inbox_cycle         a block waiting in the inbox gets its link overwritten
 *                       to point at itself
 *   local_cycle         the same for a block on the owner's local free list
 *   overflow_double_free  an overflow into a free neighbour's link, then a
 *                       double free: the double-free check walks that list
 *   heap_other_thread   xa_heap_malloc & co. on another thread's heap
 *
 * Each case runs under alarm(): a hang fails instead of blocking ctest.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lc_util.h"
#include "tls.h"
#include "types.h"
#include <stdatomic.h>

enum { BLOCK = 64, MANY = 3000 };

#define NOT_A_BLOCK "not the start of a live xalloc block; ignored"

/* ---- stderr capture ------------------------------------------------------------- */

static char capture_path[] = "/tmp/xa_misuse_XXXXXX";
static int capture_fd = -1, saved_stderr = -1;

/* A failing CHECK, a crash or the alarm: show what was captured (only
 * async-signal-safe calls), then die of the signal. */
static void capture_dump(int sig) {
  char buf[4096];
  ssize_t n;
  off_t off = 0;
  while ((n = pread(capture_fd, buf, sizeof buf, off)) > 0) {
    if (write(saved_stderr, buf, (size_t)n) < 0) break;
    off += n;
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

static void capture_begin(void) {
  capture_fd = mkstemp(capture_path);
  CHECK(capture_fd >= 0);
  unlink(capture_path);
  saved_stderr = dup(2);
  CHECK(saved_stderr >= 0 && dup2(capture_fd, 2) == 2);
  int sigs[] = {SIGABRT, SIGALRM, SIGSEGV, SIGBUS, SIGFPE, SIGILL};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], capture_dump);
}

/* Restore stderr, echo what was captured, and require `want` in it once. */
static void capture_expect(const char* want) {
  fflush(stderr);
  CHECK(dup2(saved_stderr, 2) == 2);
  static char buf[16384];
  ssize_t n = pread(capture_fd, buf, sizeof(buf) - 1, 0);
  buf[n > 0 ? n : 0] = 0;
  fputs(buf, stderr);
  const char* at = strstr(buf, want);
  CHECK_MSG(at != NULL, "no report \"%s\" on stderr", want);
  CHECK_MSG(strstr(at + 1, want) == NULL, "\"%s\" reported more than once", want);
}

/* ---- helpers ------------------------------------------------------------------------ */

static void* run_thread(void* (*fn)(void*), void* arg) {
  void* ret = NULL;
  pthread_t t = lc_spawn(fn, arg);
  CHECK(pthread_join(t, &ret) == 0);
  return ret;
}

static void* free_in_thread(void* p) {
  xa_free(p);
  return NULL;
}

static int cmp_ptr(const void* a, const void* b) {
  uintptr_t x = *(const uintptr_t*)a, y = *(const uintptr_t*)b;
  return x < y ? -1 : x > y;
}

/* Allocate n blocks of size, fill them, check that no two overlap and that
 * none was overwritten, and free them: a block handed out twice fails. */
static void check_distinct(size_t size, size_t n) {
  uintptr_t* ps = malloc(n * sizeof(uintptr_t));  /* the system's (or our) malloc: just storage */
  CHECK(ps != NULL);
  for (size_t i = 0; i < n; i++) {
    void* p = xa_malloc(size);
    CHECK(p != NULL);
    lc_fill(p, size, (uint32_t)i);
    ps[i] = (uintptr_t)p;
  }
  for (size_t i = 0; i < n; i++) CHECK_MSG(lc_check((void*)ps[i], size, (uint32_t)i), "block %zu overwritten", i);
  qsort(ps, n, sizeof(uintptr_t), cmp_ptr);
  for (size_t i = 1; i < n; i++) CHECK_MSG(ps[i] - ps[i - 1] >= size, "blocks %#zx and %#zx overlap", (size_t)ps[i - 1], (size_t)ps[i]);
  for (size_t i = 0; i < n; i++) xa_free((void*)ps[i]);
  free(ps);
}

/* MANY blocks of BLOCK bytes: the first pages run full, so the page of
 * blocks[0] sits in the full queue and wants to hear of a cross-thread free
 * through the inbox. */
static void** fill_pages(void) {
  void** blocks = malloc(MANY * sizeof(void*));
  CHECK(blocks != NULL);
  for (int i = 0; i < MANY; i++) {
    blocks[i] = xa_malloc(BLOCK);
    CHECK(blocks[i] != NULL);
  }
  return blocks;
}

static void free_pages(void** blocks, int skip) {
  for (int i = 0; i < MANY; i++) {
    if (i != skip) xa_free(blocks[i]);
  }
  free(blocks);
}

/* ---- 1. a block in transit through an inbox is free ---------------------------------- */

static void transit(bool orphan) {
  void** blocks = fill_pages();
  void* volatile b = blocks[0];
  xa_tld_t* tld = xa__tls_tld_get();
  /* An owner that looks gone makes the freeing thread use the orphans. */
  if (orphan) atomic_store(&tld->active, false);
  run_thread(free_in_thread, b);
  if (orphan) atomic_store(&tld->active, true);
  xa_free(b);  /* double free: b waits in an inbox */
  check_distinct(BLOCK, 2 * MANY);
  free_pages(blocks, 0);
  VALIDATE();
  capture_expect("double free of pointer");
}

/* ---- 2. interior pointers ------------------------------------------------------------------ */

static void interior_local(void) {
  static const size_t sizes[] = {16, 64, 100, 1000, 5000, 20000, 60000, 100000, 400000};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t n = sizes[i];
    void* keep = xa_malloc(n);  /* keeps the page in use */
    unsigned char* p = xa_malloc(n);
    CHECK(p != NULL && keep != NULL);
    lc_fill(p, n, 7);
    xa_free(p + 8);
    if (n > 16) xa_free(p + 16);
    xa_free(p + n - 1);
    CHECK_MSG(lc_check(p, n, 7), "size %zu: block changed by an interior free", n);
    check_distinct(n, n <= 1000 ? 200 : 20);
    CHECK(lc_check(p, n, 7));
    xa_free(p);
    xa_free(keep);
  }
  VALIDATE();
  capture_expect(NOT_A_BLOCK);
}

static void interior_huge(void) {
  size_t n = (size_t)3 << 20;
  unsigned char* p = xa_malloc(n);
  CHECK(p != NULL);
  lc_fill_ends(p, n, 3);
  xa_free(p + 4096);
  xa_free(p + 16);
  CHECK_MSG(xa_heap_contains(xa_heap_get_default(), p), "the huge block was freed through an interior pointer");
  void* q = xa_malloc(n);  /* must not get p's memory */
  CHECK(q != NULL && q != p);
  lc_fill_ends(q, n, 4);
  CHECK(lc_check_ends(p, n, 3));
  xa_free(q);
  xa_free(p);
  VALIDATE();
  capture_expect(NOT_A_BLOCK);
}

static void interior_xthread(void) {
  static const size_t sizes[] = {64, 1000, 20000, 100000, (size_t)3 << 20};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t n = sizes[i];
    void* keep = xa_malloc(n);
    unsigned char* p = xa_malloc(n);
    CHECK(p != NULL && keep != NULL);
    lc_fill_ends(p, n, 5);
    run_thread(free_in_thread, p + 32);
    xa_collect(false);  /* take in whatever the other thread freed */
    CHECK_MSG(lc_check_ends(p, n, 5), "size %zu: block changed by an interior free", n);
    if (n <= 100000) check_distinct(n, 40);
    CHECK(lc_check_ends(p, n, 5));
    xa_free(p);
    xa_free(keep);
  }
  VALIDATE();
  capture_expect(NOT_A_BLOCK);
}

static void interior_realloc(void) {
  static const size_t sizes[] = {64, 1000, 20000, 100000, (size_t)3 << 20};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t n = sizes[i];
    unsigned char* p = xa_malloc(n);
    CHECK(p != NULL);
    lc_fill_ends(p, n, 9);
    errno = 0;
    CHECK_MSG(xa_realloc(p + 16, 2 * n) == NULL && errno == EINVAL, "size %zu", n);
    errno = 0;
    CHECK(xa_realloc(p + 16, 8) == NULL && errno == EINVAL);
    CHECK(xa_realloc(p + 16, 0) == NULL);
    CHECK_MSG(lc_check_ends(p, n, 9), "size %zu: block changed by an interior realloc", n);
    if (n <= 100000) check_distinct(n, 40);
    xa_free(p);
  }
  VALIDATE();
  capture_expect(NOT_A_BLOCK);
}

static void interior_usable(void) {
  static const size_t sizes[] = {16, 64, 1000, 20000, 100000, (size_t)3 << 20};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t n = sizes[i];
    unsigned char* p = xa_malloc(n);
    CHECK(p != NULL);
    CHECK(xa_usable_size(p) >= n);
    CHECK_MSG(xa_usable_size(p + 8) == 0, "size %zu: usable size of p+8 is %zu", n, xa_usable_size(p + 8));
    if (n > 16) CHECK(xa_usable_size(p + 16) == 0);
    CHECK(xa_usable_size(p + 1) == 0);
    xa_free(p);
  }
}

static void interior_aligned(void) {
  /* 200 bytes aligned to 256 come from a larger block at an offset: the
   * page then holds interior (aligned) pointers legitimately. */
  void* keep = xa_malloc_aligned(200, 256);
  unsigned char* ps[16];
  for (int i = 0; i < 16; i++) {
    ps[i] = xa_malloc_aligned(200, 256);
    CHECK(ps[i] != NULL && ((uintptr_t)ps[i] & 255) == 0);
    lc_fill(ps[i], 200, (uint32_t)i);
  }
  for (int i = 0; i < 16; i++) {
    xa_free(ps[i] + 16);
    xa_free(ps[i] + 48);
  }
  for (int i = 0; i < 16; i++) CHECK_MSG(lc_check(ps[i], 200, (uint32_t)i), "aligned block %d changed", i);
  void* more[64];
  for (int i = 0; i < 64; i++) {
    more[i] = xa_malloc_aligned(200, 256);
    memset(more[i], 0xEE, 200);
  }
  for (int i = 0; i < 16; i++) CHECK_MSG(lc_check(ps[i], 200, (uint32_t)i), "aligned block %d handed out again", i);
  for (int i = 0; i < 64; i++) xa_free(more[i]);
  for (int i = 0; i < 16; i++) xa_free(ps[i]);
  xa_free(keep);
  VALIDATE();
  capture_expect(NOT_A_BLOCK);
}

/* ---- 3. lists made cyclic ------------------------------------------------------------------ */

static void xthread_cycle(void) {
  void* keep = xa_malloc(BLOCK);
  xa_block_t* volatile b = xa_malloc(BLOCK);
  run_thread(free_in_thread, (void*)b);
  b->freed = 0;  /* as if the second thread had checked the mark before the first set it */
  run_thread(free_in_thread, (void*)b);  /* b->next = b: xthread_free is a cycle */
  xa_collect(false);
  check_distinct(BLOCK, MANY);
  xa_free(keep);
  VALIDATE();
  /* Debug builds track blocks (docs/debugging.md): the second free finds
   * the block untagged and is reported before it reaches the list. */
  capture_expect(XA_DEBUG ? "double free" : "heap corruption detected");
}

static void inbox_cycle(void) {
  void** blocks = fill_pages();
  xa_block_t* volatile b = blocks[0];
  run_thread(free_in_thread, (void*)b);  /* into the inbox (the page is full) */
  b->next = (xa_block_t*)b;  /* use after free: the inbox is a cycle */
  check_distinct(BLOCK, 2 * MANY);
  xa_collect(false);
  free_pages(blocks, 0);
  VALIDATE();
  capture_expect("heap corruption detected");
}

static void local_cycle(void) {
  void* ps[8];
  for (int i = 0; i < 8; i++) ps[i] = xa_malloc(BLOCK);
  xa_free(ps[3]);
  xa_block_t* volatile b = ps[5];
  xa_free((void*)b);
  b->next = (xa_block_t*)b;  /* use after free: local_free is a cycle */
  xa_collect(false);  /* appends local_free to the page's free list */
  check_distinct(BLOCK, MANY);
  for (int i = 0; i < 8; i++) {
    if (i != 3 && i != 5) xa_free(ps[i]);
  }
  VALIDATE();
  capture_expect("heap corruption detected");
}

/* ---- 6. the double-free check walks a list an overflow damaged ---------------------------- */

static void overflow_double_free(void) {
  unsigned char* ps[8];
  for (int i = 0; i < 8; i++) ps[i] = xa_malloc(BLOCK);
  /* Find neighbours a, b (b right after a). Blocks are BLOCK apart, or
   * further in debug builds, whose blocks carry a canary and their size. */
  size_t stride = SIZE_MAX;
  for (int i = 0; i + 1 < 8; i++) {
    if (ps[i + 1] > ps[i] && (size_t)(ps[i + 1] - ps[i]) < stride) stride = (size_t)(ps[i + 1] - ps[i]);
  }
  CHECK(stride == BLOCK || (XA_DEBUG && stride > BLOCK && stride <= 2 * BLOCK));
  int a = -1;
  for (int i = 0; i + 1 < 8 && a < 0; i++) {
    if (ps[i + 1] == ps[i] + stride) a = i;
  }
  CHECK(a >= 0);
  unsigned char* victim = ps[a + 1];
  unsigned char* other = ps[(a + 3) % 8];
  xa_free(other);
  xa_free(victim);  /* local_free: victim -> other */
  memset(ps[a] + stride, 0x41, 8);  /* overflow of a into victim's link */
  xa_free(other);  /* double free: the check walks victim's damaged link */
  check_distinct(BLOCK, MANY);
  for (int i = 0; i < 8; i++) {
    if (ps[i] != victim && ps[i] != other) xa_free(ps[i]);
  }
  xa_collect(true);
  VALIDATE();
  capture_expect("heap corruption detected");
}

/* ---- 4. another thread's heap ------------------------------------------------------------ */

static xa_heap_t* volatile other_heap;
static _Atomic int other_state;  /* 1: heap made; 2: may go */

static void* heap_owner(void* arg) {
  (void)arg;
  other_heap = xa_heap_new();
  CHECK(other_heap != NULL);
  void* p = xa_heap_malloc(other_heap, 100);
  CHECK(p != NULL);
  atomic_store(&other_state, 1);
  while (atomic_load(&other_state) != 2) usleep(1000);
  VALIDATE();  /* nobody else wrote into its heap */
  xa_free(p);
  xa_heap_destroy(other_heap);
  return NULL;
}

static void heap_other_thread(void) {
  pthread_t t = lc_spawn(heap_owner, NULL);
  while (atomic_load(&other_state) != 1) usleep(1000);
  xa_heap_t* h = other_heap;
  errno = 0;
  CHECK_MSG(xa_heap_malloc(h, 100) == NULL && errno == EINVAL, "xa_heap_malloc on another thread's heap");
  errno = 0;
  CHECK(xa_heap_malloc(h, 5000) == NULL && errno == EINVAL);
  errno = 0;
  CHECK(xa_heap_calloc(h, 10, 10) == NULL && errno == EINVAL);
  errno = 0;
  CHECK(xa_heap_calloc(h, 1, (size_t)2 << 20) == NULL && errno == EINVAL);
  errno = 0;
  CHECK(xa_heap_realloc(h, NULL, 100) == NULL && errno == EINVAL);
  void* mine = xa_malloc(100);
  errno = 0;
  CHECK(xa_heap_realloc(h, mine, 10000) == NULL && errno == EINVAL);
  errno = 0;
  CHECK(xa_heap_malloc_aligned(h, 100, 64) == NULL && errno == EINVAL);
  errno = 0;
  CHECK(xa_heap_malloc_aligned(h, (size_t)1 << 20, 4096) == NULL && errno == EINVAL);
  xa_free(mine);
  /* The calling thread's own heaps and NULL (its default) still work. */
  xa_heap_t* own = xa_heap_new();
  void* p = xa_heap_malloc(own, 100);
  void* q = xa_heap_malloc(NULL, 100);
  CHECK(p != NULL && q != NULL);
  xa_free(q);
  xa_heap_destroy(own);
  atomic_store(&other_state, 2);
  CHECK(pthread_join(t, NULL) == 0);
  VALIDATE();
}

/* A thread that never allocated: xa_heap_malloc(NULL) sets it up. */
static void* fresh_thread_null_heap(void* arg) {
  (void)arg;
  void* p = xa_heap_malloc(NULL, 100);
  CHECK(p != NULL);
  xa_free(p);
  return NULL;
}

int main(int argc, char** argv) {
  CHECK(argc == 2);
  alarm(60);  /* a hang fails (SIGALRM) */
  const char* c = argv[1];
  capture_begin();
  if (!strcmp(c, "transit_inbox")) transit(false);
  else if (!strcmp(c, "transit_orphan")) transit(true);
  else if (!strcmp(c, "interior_local")) interior_local();
  else if (!strcmp(c, "interior_huge")) interior_huge();
  else if (!strcmp(c, "interior_xthread")) interior_xthread();
  else if (!strcmp(c, "interior_realloc")) interior_realloc();
  else if (!strcmp(c, "interior_usable")) interior_usable();
  else if (!strcmp(c, "interior_aligned")) interior_aligned();
  else if (!strcmp(c, "xthread_cycle")) xthread_cycle();
  else if (!strcmp(c, "inbox_cycle")) inbox_cycle();
  else if (!strcmp(c, "local_cycle")) local_cycle();
  else if (!strcmp(c, "overflow_double_free")) overflow_double_free();
  else if (!strcmp(c, "heap_other_thread")) {
    heap_other_thread();
    run_thread(fresh_thread_null_heap, NULL);
  } else {
    CHECK_MSG(0, "unknown case %s", c);
  }
  return 0;
}
