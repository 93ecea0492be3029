/* fork() from a signal handler that interrupted fork(), malloc() or free(),
 * under LD_PRELOAD=libxalloc.so (the shape of glibc's tst-mallocfork2,
 * which failed only under xalloc). The process stays single-threaded (glibc
 * then takes no malloc or stdio locks in fork): each iteration arms a
 * one-shot timer that sends SIGUSR1 within a few hundred microseconds, while
 * the main loop forks, frees and allocates, and the handler forks a child
 * that exits at once. (One signal per iteration: a stream of signals faster
 * than fork would restart the fork system call for ever.) A fork-prepare handler that waits for a lock which the interrupted
 * fork (or malloc) holds spins forever; alarm() turns that into a failure. */
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ITERATIONS 1500
#define SLOTS 97

static volatile sig_atomic_t handler_forks, handler_errors, in_fork;
static volatile sig_atomic_t signals_in_fork;

static void sigusr1_handler(int sig) {
  (void)sig;
  int saved = errno;
  if (in_fork) signals_in_fork++;
  pid_t pid = fork();
  if (pid < 0) {
    handler_errors++;
  } else if (pid == 0) {
    _exit(0);
  } else {
    int status = 0;
    pid_t r;
    while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
    }
    if (r != pid || status != 0) handler_errors++;
    handler_forks++;
  }
  errno = saved;
}

static uint32_t rnd(uint32_t* s) {
  *s = *s * 1103515245u + 12345u;
  return *s >> 8;
}

int main(void) {
  typedef bool (*in_region_fn)(const void*);
  in_region_fn in_region = (in_region_fn)dlsym(RTLD_DEFAULT, "xa_is_in_heap_region");
  void* probe = malloc(16);
  if (in_region == NULL || !in_region(probe)) {
    fprintf(stderr, "ov_fork_signal: malloc is not xalloc's: run with LD_PRELOAD=libxalloc.so\n");
    return 1;
  }
  free(probe);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = sigusr1_handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGUSR1, &sa, NULL) != 0) {
    perror("sigaction");
    return 1;
  }
  timer_t timer;
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGUSR1;
  if (timer_create(CLOCK_MONOTONIC, &sev, &timer) != 0) {
    perror("timer_create");
    return 1;
  }
  alarm(120);  /* a deadlocked fork never returns */

  void* objects[SLOTS] = {0};
  uint32_t seed = 1;
  int forks = 0;
  for (int i = 0; i < ITERATIONS; i++) {
    int slot = (int)(rnd(&seed) % SLOTS);
    struct itimerspec its = {{0, 0}, {0, 1000 + (long)(rnd(&seed) % 400000)}};
    if (timer_settime(timer, 0, &its, NULL) != 0) {
      perror("timer_settime");
      return 1;
    }
    /* Sizes up to 3 MiB: huge blocks take xalloc's huge-cache lock. */
    size_t size = rnd(&seed) % 8 == 0 ? (rnd(&seed) % 3000000) : rnd(&seed) % 70000;
    if (rnd(&seed) % 3 == 0) {
      in_fork = 1;
      pid_t pid = fork();
      in_fork = 0;
      if (pid < 0) {
        perror("fork");
        return 1;
      }
      if (pid == 0) _exit(0);
      int status;
      while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
          perror("waitpid");
          return 1;
        }
      }
      if (status != 0) {
        fprintf(stderr, "ov_fork_signal: child status %#x\n", status);
        return 1;
      }
      forks++;
    }
    free(objects[slot]);
    objects[slot] = malloc(size);
    if (objects[slot] == NULL || !in_region(objects[slot])) {
      fprintf(stderr, "ov_fork_signal: malloc(%zu) failed\n", size);
      return 1;
    }
    memset(objects[slot], 1, size < 64 ? size : 64);
  }
  timer_delete(timer);
  for (int i = 0; i < SLOTS; i++) free(objects[i]);
  printf("ov_fork_signal: %d iterations, %d forks, %d forks from the handler (%d signals during fork), %d errors\n",
         ITERATIONS, forks, (int)handler_forks, (int)signals_in_fork, (int)handler_errors);
  return handler_errors == 0 ? 0 : 1;
}
