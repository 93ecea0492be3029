/* fork() while four threads malloc/free/realloc, under LD_PRELOAD=libxalloc.so.
 * This program uses only the libc allocation functions and is not linked to
 * xalloc; test/override.cmake runs it with the library preloaded, and it
 * refuses to pass when malloc is not xalloc's.
 *
 * Each round the main thread forks. The child allocates and frees at once
 * (small, medium and huge blocks, blocks it inherited from the parent's
 * threads included), does the same from a new thread, every fifth round
 * forks a grandchild that allocates too, and exits 0. A child that hangs is
 * killed by alarm() and reported. The parent checks every status. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define THREADS 4
#define ROUNDS 150
#define SLOTS 256

typedef bool (*in_region_fn)(const void*);
static in_region_fn in_region;

static atomic_bool stop;
/* Blocks handed between threads, so frees are also cross-thread. */
static _Atomic(void*) exchange[SLOTS];
static atomic_long ops;

static uint32_t rnd(uint32_t* s) {
  *s = *s * 1103515245u + 12345u;
  return *s >> 8;
}

static size_t pick_size(uint32_t* s) {
  uint32_t r = rnd(s) % 1000;
  if (r < 700) return rnd(s) % 256;            /* small */
  if (r < 950) return 256 + rnd(s) % 60000;    /* medium */
  if (r < 995) return 65536 + rnd(s) % 500000; /* large */
  return 600000 + rnd(s) % 3000000;            /* huge */
}

static void fail(const char* what) {
  fprintf(stderr, "ov_fork_threads: %s (pid %d)\n", what, (int)getpid());
  fflush(stderr);
  _exit(3);
}

static void* churn(void* arg) {
  uint32_t s = (uint32_t)(uintptr_t)arg * 7919u + 1;
  void* local[64] = {0};
  while (!atomic_load(&stop)) {
    unsigned i = rnd(&s) % 64;
    switch (rnd(&s) % 4) {
      case 0:
      case 1:
        free(local[i]);
        local[i] = malloc(pick_size(&s));
        if (local[i] == NULL) fail("malloc failed in a parent thread");
        memset(local[i], 0x5a, 1);
        break;
      case 2: {
        void* q = realloc(local[i], pick_size(&s) + 1);
        if (q == NULL) fail("realloc failed in a parent thread");
        local[i] = q;
        break;
      }
      default: {
        /* Swap with the exchange: the block may be freed by another thread. */
        void* q = atomic_exchange(&exchange[rnd(&s) % SLOTS], local[i]);
        local[i] = q;
        break;
      }
    }
    atomic_fetch_add_explicit(&ops, 1, memory_order_relaxed);
  }
  for (int i = 0; i < 64; i++) free(local[i]);
  return NULL;
}

/* Allocation work done in the child, by its main thread and by a new thread. */
static void child_work(uint32_t seed) {
  void* p[300];
  for (int i = 0; i < 300; i++) {
    p[i] = malloc(pick_size(&seed));
    if (p[i] == NULL) fail("malloc failed in the child");
    memset(p[i], i & 0xff, 1);
    if (!in_region(p[i])) fail("child malloc is not xalloc's");
  }
  for (int i = 0; i < 300; i += 3) {
    void* q = realloc(p[i], pick_size(&seed) + 10);
    if (q == NULL) fail("realloc failed in the child");
    p[i] = q;
  }
  for (int i = 0; i < 300; i++) free(p[i]);
  char* d = strdup("child");
  if (d == NULL || !in_region(d)) fail("strdup in the child");
  free(d);
}

static void* child_thread(void* arg) {
  child_work((uint32_t)(uintptr_t)arg);
  return NULL;
}

static int wait_child(pid_t pid, const char* who, int round) {
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      perror("waitpid");
      return 1;
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  if (WIFSIGNALED(status))
    fprintf(stderr, "ov_fork_threads: round %d: %s killed by signal %d%s\n", round, who, WTERMSIG(status),
            WTERMSIG(status) == SIGALRM ? " (hung: alarm after 30 s)" : "");
  else
    fprintf(stderr, "ov_fork_threads: round %d: %s exited with status %d\n", round, who, WEXITSTATUS(status));
  return 1;
}

static void run_child(int round) {
  alarm(30);
  child_work((uint32_t)round * 31u + 5);
  /* Blocks the parent's threads had parked in the exchange: free them here. */
  for (int i = 0; i < SLOTS; i += 2) free(atomic_exchange(&exchange[i], NULL));
  pthread_t t;
  if (pthread_create(&t, NULL, child_thread, (void*)(uintptr_t)(round + 100)) != 0) fail("pthread_create in the child");
  if (pthread_join(t, NULL) != 0) fail("pthread_join in the child");
  if (round % 5 == 0) {
    pid_t g = fork();
    if (g < 0) fail("fork in the child");
    if (g == 0) {
      child_work((uint32_t)round + 77);
      _exit(0);
    }
    if (wait_child(g, "grandchild", round) != 0) _exit(4);
  }
  /* exit (not _exit): atexit handlers and xalloc's exit hook run in the child. */
  exit(0);
}

int main(void) {
  in_region = (in_region_fn)dlsym(RTLD_DEFAULT, "xa_is_in_heap_region");
  if (in_region == NULL) {
    fprintf(stderr, "ov_fork_threads: xa_is_in_heap_region not found: run with LD_PRELOAD=libxalloc.so\n");
    return 1;
  }
  void* probe = malloc(16);
  if (!in_region(probe)) {
    fprintf(stderr, "ov_fork_threads: malloc is not xalloc's\n");
    return 1;
  }
  free(probe);

  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) {
    if (pthread_create(&t[i], NULL, churn, (void*)(uintptr_t)i) != 0) {
      perror("pthread_create");
      return 1;
    }
  }
  int failures = 0;
  for (int round = 0; round < ROUNDS; round++) {
    /* Let the threads get going, at varying points of their work. */
    struct timespec ts = {0, 200000L + (round % 7) * 150000L};
    nanosleep(&ts, NULL);
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      failures++;
      break;
    }
    if (pid == 0) run_child(round);
    failures += wait_child(pid, "child", round);
    if (failures > 5) break;
  }
  atomic_store(&stop, true);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < SLOTS; i++) free(atomic_exchange(&exchange[i], NULL));
  printf("ov_fork_threads: %d forks, %ld allocation operations in the parent's threads, %d failures\n", ROUNDS,
         atomic_load(&ops), failures);
  return failures == 0 ? 0 : 1;
}
