/* fork() while other threads use stdio, under LD_PRELOAD=libxalloc.so (the
 * shape of glibc's own malloc tests that failed only under xalloc).
 *
 * Readers loop over getline() on files of 1 MiB lines: getline holds the
 * FILE's lock while it grows its buffer with realloc, into huge blocks
 * whose allocation and release take xalloc's huge-cache lock. A flusher
 * loops over fflush(NULL), which holds stdio's list lock while it waits for
 * each FILE's lock; a printer loops over fprintf. The main thread forks.
 * glibc's fork runs the atfork prepare handlers first and then takes the
 * list lock: a prepare handler that takes xalloc's locks waits for the list
 * lock (flusher) -> FILE lock (reader) -> xalloc's lock (fork): deadlock.
 * alarm() turns a hang into a failure. The child uses malloc and stdio and
 * exits. */
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

#define READERS 2
#define ROUNDS 200
#define LINE ((size_t)1 << 20)

typedef bool (*in_region_fn)(const void*);
static in_region_fn in_region;
static atomic_bool stop;
static atomic_long lines_read, flushes, prints;
static FILE* devnull;

static void fail(const char* what) {
  fprintf(stderr, "ov_fork_stdio: %s (pid %d)\n", what, (int)getpid());
  fflush(stderr);
  _exit(3);
}

static void pause_us(long us) {
  struct timespec ts = {0, us * 1000};
  nanosleep(&ts, NULL);
}

/* A temporary file of a few 1 MiB lines. */
static FILE* make_lines(int seed) {
  FILE* f = tmpfile();
  if (f == NULL) fail("tmpfile");
  char* line = malloc(LINE);
  if (line == NULL) fail("malloc of a line");
  for (int k = 0; k < 3; k++) {
    memset(line, 'a' + (seed + k) % 26, LINE - 1);
    line[LINE - 1] = '\n';
    if (fwrite(line, 1, LINE, f) != LINE) fail("fwrite");
  }
  free(line);
  return f;
}

static void* reader(void* arg) {
  FILE* f = make_lines((int)(uintptr_t)arg);
  while (!atomic_load(&stop)) {
    rewind(f);
    char* buf = NULL;  /* a fresh buffer each time: getline grows it from scratch */
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&buf, &cap, f)) > 0) {
      if ((size_t)n != LINE || (in_region != NULL && !in_region(buf))) fail("getline");
      atomic_fetch_add_explicit(&lines_read, 1, memory_order_relaxed);
      free(buf);
      buf = NULL;
      cap = 0;
      pause_us(200);  /* let fflush(NULL) pass: else fork waits for stdio for seconds */
    }
    free(buf);
  }
  fclose(f);
  return NULL;
}

static void* flusher(void* arg) {
  (void)arg;
  while (!atomic_load(&stop)) {
    fflush(NULL);
    atomic_fetch_add_explicit(&flushes, 1, memory_order_relaxed);
    pause_us(100);
  }
  return NULL;
}

static void* printer(void* arg) {
  (void)arg;
  for (long i = 0; !atomic_load(&stop); i++) {
    fprintf(devnull, "line %ld: %s %f\n", i, "some text", (double)i / 3);
    atomic_fetch_add_explicit(&prints, 1, memory_order_relaxed);
    if (i % 16 == 0) pause_us(50);
  }
  return NULL;
}

static int wait_child(pid_t pid, int round) {
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      perror("waitpid");
      return 1;
    }
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  fprintf(stderr, "ov_fork_stdio: round %d: child status %#x%s\n", round, status,
          WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? " (hung: alarm)" : "");
  return 1;
}

int main(void) {
  in_region = (in_region_fn)dlsym(RTLD_DEFAULT, "xa_is_in_heap_region");
  void* probe = malloc(16);
  if (in_region == NULL || !in_region(probe)) {
    fprintf(stderr, "ov_fork_stdio: malloc is not xalloc's: run with LD_PRELOAD=libxalloc.so\n");
    return 1;
  }
  free(probe);
  devnull = fopen("/dev/null", "w");
  if (devnull == NULL) fail("fopen /dev/null");
  alarm(120);  /* the whole test: a deadlocked fork never returns */

  pthread_t t[READERS + 2];
  for (int i = 0; i < READERS; i++) pthread_create(&t[i], NULL, reader, (void*)(uintptr_t)i);
  pthread_create(&t[READERS], NULL, flusher, NULL);
  pthread_create(&t[READERS + 1], NULL, printer, NULL);
  int failures = 0;
  for (int round = 0; round < ROUNDS && failures == 0; round++) {
    struct timespec ts = {0, 100000L + (round % 5) * 100000L};
    nanosleep(&ts, NULL);
    pid_t pid = fork();
    if (pid < 0) fail("fork");
    if (pid == 0) {
      alarm(30);
      char* p = malloc((size_t)2 << 20);
      if (p == NULL || !in_region(p)) fail("malloc in the child");
      memset(p, 1, 4096);
      fprintf(devnull, "child %d\n", round);
      fflush(devnull);
      free(p);
      /* Not exit(): flushing the readers' streams would move the file
       * offsets they share with the parent. */
      _exit(0);
    }
    failures += wait_child(pid, round);
  }
  atomic_store(&stop, true);
  for (int i = 0; i < READERS + 2; i++) pthread_join(t[i], NULL);
  printf("ov_fork_stdio: %d forks, %ld lines read, %ld flushes, %ld prints, %d failures\n", ROUNDS,
         atomic_load(&lines_read), atomic_load(&flushes), atomic_load(&prints), failures);
  return failures == 0 ? 0 : 1;
}
