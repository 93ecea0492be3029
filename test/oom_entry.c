/* Out of memory at every allocation entry point (issue 13): under an
 * address-space limit (RLIMIT_AS, as `ulimit -v` sets it), each entry point
 * is driven until it fails. Every failure must be NULL with errno ENOMEM
 * (posix_memalign: ENOMEM returned, the pointer untouched), never a crash;
 * a failed realloc leaves its block intact; once everything is freed the
 * same amount can be allocated again; and the process-exit hook still runs
 * (it writes the exit statistics to a file the parent reads).
 *
 * The parent runs itself as a child under a limit of 512 MiB of address
 * space, once per entry point, with one thread and with two. The child is a
 * fresh exec so that xalloc starts under the limit, as a program started
 * from a shell with `ulimit -v` does. (A limit relative to the parent's size
 * would include the parent's arena reservation: 64 GiB.) POSIX only; skipped (77) under sanitizers
 * (their shadow memory needs terabytes of address space) and emulators. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xalloc.h"
#include "xa_test.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define OOM_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OOM_SANITIZED 1
#endif

#define LIMIT_BYTES (512u << 20)

/* ---- the child ------------------------------------------------------------------- */

typedef void* (*entry_fn)(size_t size);

static xa_heap_t* user_heap;

static void* e_malloc(size_t n) { return malloc(n); }
static void* e_calloc(size_t n) { return calloc(n / 16, 16); }
static void* e_realloc(size_t n) { return realloc(NULL, n); }
static void* e_reallocarray(size_t n) { return reallocarray(NULL, n / 16, 16); }
static void* e_aligned_alloc(size_t n) { return aligned_alloc(64, (n + 63) & ~(size_t)63); }
static void* e_memalign(size_t n) { return memalign(256, n); }
static void* e_valloc(size_t n) { return valloc(n); }
static void* e_pvalloc(size_t n) { return pvalloc(n); }
static void* e_posix_memalign(size_t n) {
  void* p = (void*)(uintptr_t)0x1234;
  int rc = posix_memalign(&p, 128, n);
  if (rc != 0) {
    CHECK_MSG(rc == ENOMEM, "posix_memalign returned %d", rc);
    CHECK_MSG(p == (void*)(uintptr_t)0x1234, "failed posix_memalign changed its pointer");
    return NULL;
  }
  return p;
}
static void* e_xa_malloc(size_t n) { return xa_malloc(n); }
static void* e_xa_calloc(size_t n) { return xa_calloc(16, n / 16); }
static void* e_xa_realloc(size_t n) { return xa_realloc(NULL, n); }
static void* e_xa_reallocarray(size_t n) { return xa_reallocarray(NULL, 16, n / 16); }
static void* e_xa_malloc_aligned(size_t n) { return xa_malloc_aligned(n, 4096); }
static void* e_xa_heap_malloc(size_t n) { return xa_heap_malloc(user_heap, n); }
static void* e_xa_heap_calloc(size_t n) { return xa_heap_calloc(user_heap, n / 16, 16); }
static void* e_xa_heap_realloc(size_t n) { return xa_heap_realloc(user_heap, NULL, n); }
static void* e_xa_heap_malloc_aligned(size_t n) { return xa_heap_malloc_aligned(user_heap, n, 512); }

typedef struct {
  const char* name;
  entry_fn fn;
  bool libc;  /* a libc name: only when malloc is xalloc's */
  bool heap;  /* allocates from user_heap (owned by the main thread) */
} entry_t;

static const entry_t entries[] = {
  {"malloc", e_malloc, true, false},
  {"calloc", e_calloc, true, false},
  {"realloc", e_realloc, true, false},
  {"reallocarray", e_reallocarray, true, false},
  {"aligned_alloc", e_aligned_alloc, true, false},
  {"memalign", e_memalign, true, false},
  {"valloc", e_valloc, true, false},
  {"pvalloc", e_pvalloc, true, false},
  {"posix_memalign", e_posix_memalign, true, false},
  {"xa_malloc", e_xa_malloc, false, false},
  {"xa_calloc", e_xa_calloc, false, false},
  {"xa_realloc", e_xa_realloc, false, false},
  {"xa_reallocarray", e_xa_reallocarray, false, false},
  {"xa_malloc_aligned", e_xa_malloc_aligned, false, false},
  {"xa_heap_malloc", e_xa_heap_malloc, false, true},
  {"xa_heap_calloc", e_xa_heap_calloc, false, true},
  {"xa_heap_realloc", e_xa_heap_realloc, false, true},
  {"xa_heap_malloc_aligned", e_xa_heap_malloc_aligned, false, true},
};
#define ENTRY_COUNT (sizeof(entries) / sizeof(entries[0]))

/* Small, medium, large and huge sizes, in turn (multiples of 16). */
static const size_t sizes[] = {48, 3008, 70016, 2u << 20};
#define SIZE_COUNT (sizeof(sizes) / sizeof(sizes[0]))

/* The blocks a filler holds: a list through their first words, so that
 * keeping them needs no memory of its own; the second word is the size,
 * the last byte a tag, both checked when the block is freed. */
typedef struct held_s {
  struct held_s* next;
  size_t size;
} held_t;

typedef struct {
  entry_fn fn;
  held_t* held;
  size_t bytes, blocks, failures;
} filler_t;

/* Allocate with fn until a round of every size fails; every failure must
 * say ENOMEM. Bounded: the limit is 512 MiB and a round takes 2 MiB or a
 * failure per size. */
static void fill(filler_t* f) {
  bool gave[SIZE_COUNT];
  for (size_t k = 0; k < SIZE_COUNT; k++) gave[k] = true;
  for (uint64_t round = 0; round < 50u * 1000 * 1000; round++) {
    bool any = false;
    for (size_t k = 0; k < SIZE_COUNT; k++) {
      if (!gave[k]) continue;  /* once failed, a size is left to the smaller ones */
      errno = 0;
      held_t* h = f->fn(sizes[k]);
      if (h == NULL) {
        CHECK_MSG(errno == ENOMEM, "failed allocation of %zu with errno %d", sizes[k], errno);
        gave[k] = false;
        f->failures++;
        continue;
      }
      any = true;
      h->next = f->held;
      h->size = sizes[k];
      ((unsigned char*)h)[sizes[k] - 1] = (unsigned char)(sizes[k] >> 4);
      f->held = h;
      f->bytes += sizes[k];
      f->blocks++;
    }
    if (!any) return;
  }
  CHECK_MSG(0, "allocations never failed under the limit");
}

static void release(filler_t* f) {
  for (held_t* h = f->held; h != NULL;) {
    held_t* next = h->next;
    CHECK(((unsigned char*)h)[h->size - 1] == (unsigned char)(h->size >> 4));
    free(h);  /* libc name: xalloc's free in a child where malloc is xalloc's */
    h = next;
  }
  f->held = NULL;
}

static void release_xa(filler_t* f) {
  for (held_t* h = f->held; h != NULL;) {
    held_t* next = h->next;
    CHECK(((unsigned char*)h)[h->size - 1] == (unsigned char)(h->size >> 4));
    xa_free(h);
    h = next;
  }
  f->held = NULL;
}

static void* fill_thread(void* arg) {
  fill(arg);
  return NULL;
}

/* A block grown by realloc until it fails keeps its content and stays
 * usable; then it is freed. Run when memory is already exhausted and again
 * after freeing. */
static void realloc_grow(bool xa, const char* name) {
  size_t n = 64;
  unsigned char* p = xa ? xa_malloc(n) : malloc(n);
  if (p == NULL) return;  /* nothing left even for 64 bytes */
  memset(p, 0x5a, n);
  for (int i = 0; i < 40; i++) {
    size_t grown = n * 2;
    errno = 0;
    unsigned char* q = xa ? xa_realloc(p, grown) : realloc(p, grown);
    if (q == NULL) {
      CHECK_MSG(errno == ENOMEM, "%s: failed realloc with errno %d", name, errno);
      for (size_t k = 0; k < n; k++) CHECK_MSG(p[k] == 0x5a, "%s: failed realloc changed the block", name);
      break;
    }
    memset(q + n, 0x5a, grown - n);
    p = q;
    n = grown;
  }
  if (xa) xa_free(p);
  else free(p);
}

static int child(const char* entry_name, int threads) {
  const entry_t* e = NULL;
  for (size_t i = 0; i < ENTRY_COUNT; i++) {
    if (strcmp(entries[i].name, entry_name) == 0) e = &entries[i];
  }
  CHECK(e != NULL);
  /* Is malloc xalloc's here? (Not in builds without the static override.) */
  void* probe = malloc(32);
  bool malloc_is_xalloc = xa_is_in_heap_region(probe);
  free(probe);
  if (e->libc && !malloc_is_xalloc) {
    printf("skip: %s is not xalloc's in this build\n", e->name);
    return 0;
  }
  bool xa_names = !e->libc;
  if (e->heap) {
    user_heap = xa_heap_new();
    CHECK(user_heap != NULL);
    threads = 1;  /* a heap is used by the thread that made it only */
  }
  filler_t f[2];
  memset(f, 0, sizeof(f));
  for (int t = 0; t < threads; t++) f[t].fn = e->fn;
  pthread_t th[2];
  for (int t = 1; t < threads; t++) CHECK(pthread_create(&th[t], NULL, fill_thread, &f[t]) == 0);
  fill(&f[0]);
  for (int t = 1; t < threads; t++) CHECK(pthread_join(th[t], NULL) == 0);
  size_t first = 0;
  for (int t = 0; t < threads; t++) first += f[t].bytes;
  CHECK_MSG(first >= 64u << 20, "%s: only %zu bytes before the first failure", e->name, first);
  /* Exhausted: a realloc that grows must fail cleanly. */
  realloc_grow(xa_names, e->name);
  /* Free everything from this thread (cross-thread frees for the other's
   * blocks), then the same amount again. */
  for (int t = 0; t < threads; t++) {
    if (xa_names) release_xa(&f[t]);
    else release(&f[t]);
  }
  filler_t again;
  memset(&again, 0, sizeof(again));
  again.fn = e->fn;
  fill(&again);
  CHECK_MSG(again.bytes >= first / 10 * 9, "%s: %zu bytes at first, only %zu after freeing", e->name, first,
            again.bytes);
  if (xa_names) release_xa(&again);
  else release(&again);
  realloc_grow(xa_names, e->name);
  if (user_heap != NULL) xa_heap_delete(user_heap);
  printf("%s threads=%d: %zu MiB in %zu blocks, then %zu MiB after freeing\n", e->name, threads, first >> 20,
         f[0].blocks + f[1].blocks, again.bytes >> 20);
  return 0;
}

/* ---- the parent ------------------------------------------------------------------ */

static void run(const char* self, const char* entry, int threads, const char* stats_path) {
  char nthreads[8];
  snprintf(nthreads, sizeof(nthreads), "%d", threads);
  fflush(stdout);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    struct rlimit rl = {LIMIT_BYTES, LIMIT_BYTES};
    if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(91);
    setenv("XALLOC_SHOW_STATS", "1", 1);
    setenv("XALLOC_STATS_FILE", stats_path, 1);
    execl(self, self, "child", entry, nthreads, (char*)NULL);
    _exit(92);
  }
  int st = 0;
  CHECK(waitpid(pid, &st, 0) == pid);
  CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s with %d threads: child %s %d", entry, threads,
            WIFEXITED(st) ? "exited with" : "killed by signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
  /* The exit hook ran: it wrote the statistics table. */
  FILE* f = fopen(stats_path, "r");
  CHECK_MSG(f != NULL, "%s with %d threads: no exit statistics (the exit hook did not run)", entry, threads);
  char line[256];
  bool seen = false;
  while (fgets(line, sizeof(line), f) != NULL) seen |= strstr(line, "xalloc statistics") != NULL;
  fclose(f);
  remove(stats_path);
  CHECK_MSG(seen, "%s with %d threads: the exit statistics file has no table", entry, threads);
}

int main(int argc, char** argv) {
  if (argc == 4 && strcmp(argv[1], "child") == 0) return child(argv[2], atoi(argv[3]));
#if defined(OOM_SANITIZED)
  printf("skip: sanitizers reserve terabytes of address space\n");
  return 77;
#endif
  if (getenv("XA_UNDER_EMULATOR") != NULL) {
    printf("skip: under an emulator the emulator's own mappings count against the limit\n");
    return 77;
  }
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  CHECK(n > 0);
  self[n] = 0;
  char stats_path[64];
  snprintf(stats_path, sizeof(stats_path), "/tmp/xa_oom_entry.%d.txt", (int)getpid());
  for (size_t i = 0; i < ENTRY_COUNT; i++) {
    run(self, entries[i].name, 1, stats_path);
    if (!entries[i].heap) run(self, entries[i].name, 2, stats_path);
  }
  printf("oom_entry: ok\n");
  return 0;
}
