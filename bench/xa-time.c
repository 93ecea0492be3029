/* xa-time: run a command and report its wall time, user and system CPU time
 * and peak resident set size, for bench/run.
 *
 *   xa-time [--preload LIB] [--timeout SECS] [--out FILE] -- COMMAND [ARG]...
 *
 * The command runs in its own process group with LD_PRELOAD=LIB (or with
 * LD_PRELOAD removed when --preload is not given): only the command, not
 * xa-time, runs on the allocator under test.  The figures come from wait4():
 * they include every descendant the command waited for (gcc's cc1 and as),
 * and maxrss is the largest of them.  xa-time is a small C program, so a
 * child's peak RSS does not inherit a big parent's (a Python runner's).
 *
 * Written to FILE (default stderr) as one line:
 *   wall=1.234 user=1.000 sys=0.100 maxrss_kb=12345 status=exit:0
 * status is exit:N, signal:N or timeout.  Exit status: the command's, 128+N
 * when it was killed by signal N, 124 on timeout, 125 when it could not start.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
  (void)sig;
  timed_out = 1;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double tv(struct timeval t)
{
  return (double)t.tv_sec + (double)t.tv_usec * 1e-6;
}

static void usage(void)
{
  fprintf(stderr, "usage: xa-time [--preload LIB] [--timeout SECS] [--out FILE] -- COMMAND [ARG]...\n");
  exit(125);
}

int main(int argc, char **argv)
{
  const char *preload = NULL, *out = NULL;
  double timeout = 0;
  int i = 1;
  for (; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    } else if (strcmp(argv[i], "--preload") == 0 && i + 1 < argc) {
      preload = argv[++i];
    } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
      timeout = atof(argv[++i]);
    } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
      out = argv[++i];
    } else {
      usage();
    }
  }
  if (i >= argc) usage();

  double t0 = now();
  pid_t pid = fork();
  if (pid < 0) {
    perror("xa-time: fork");
    return 125;
  }
  if (pid == 0) {
    setpgid(0, 0);
    if (preload != NULL && preload[0] != '\0')
      setenv("LD_PRELOAD", preload, 1);
    else
      unsetenv("LD_PRELOAD");
    execvp(argv[i], argv + i);
    fprintf(stderr, "xa-time: cannot run %s: %s\n", argv[i], strerror(errno));
    _exit(125);
  }
  setpgid(pid, pid); /* also here, so the group exists before any kill */

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm; /* no SA_RESTART: wait4 returns EINTR */
  sigaction(SIGALRM, &sa, NULL);
  if (timeout > 0) {
    struct itimerval it;
    memset(&it, 0, sizeof it);
    it.it_value.tv_sec = (time_t)timeout;
    it.it_value.tv_usec = (suseconds_t)((timeout - (double)(time_t)timeout) * 1e6);
    setitimer(ITIMER_REAL, &it, NULL);
  }
  /* Forward termination requests to the whole group. */
  int status = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  int killed = 0;
  for (;;) {
    pid_t w = wait4(pid, &status, 0, &ru);
    if (w == pid) break;
    if (w < 0 && errno == EINTR) {
      if (timed_out && !killed) {
        kill(-pid, SIGKILL);
        killed = 1;
      }
      continue;
    }
    perror("xa-time: wait4");
    return 125;
  }
  double t1 = now();
  kill(-pid, SIGKILL); /* leftovers of the group, if any (ESRCH otherwise) */

  char st[64];
  int rc;
  if (killed) {
    snprintf(st, sizeof st, "timeout");
    rc = 124;
  } else if (WIFSIGNALED(status)) {
    snprintf(st, sizeof st, "signal:%d", WTERMSIG(status));
    rc = 128 + WTERMSIG(status);
  } else {
    snprintf(st, sizeof st, "exit:%d", WEXITSTATUS(status));
    rc = WEXITSTATUS(status);
  }
  FILE *f = out ? fopen(out, "w") : stderr;
  if (f == NULL) {
    perror("xa-time: --out");
    return 125;
  }
  fprintf(f, "wall=%.4f user=%.4f sys=%.4f maxrss_kb=%ld status=%s\n", t1 - t0, tv(ru.ru_utime),
          tv(ru.ru_stime), ru.ru_maxrss, st);
  if (f != stderr) fclose(f);
  return rc;
}
