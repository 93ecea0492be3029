/* Address space under RLIMIT_AS (docs/options.md, "Address space"): under
 * a 600000 KiB limit, a loop of 1 MiB allocations gets at least as far with
 * xalloc as with the C library's malloc in the same program (test/as_loop.c,
 * run as two executables: one not linked with xalloc). Before, xalloc's
 * 64 GiB up-front reservation and 4 MiB-rounded huge segments stopped it at
 * 141 MiB where glibc reached 581 MiB. Also: arena_reserve is honoured when
 * given (XALLOC_ARENA_RESERVE), and none is taken under the limit.
 *
 * Usage: as_limit PATH_TO_as_loop_libc PATH_TO_as_loop_xalloc
 * Skipped (exit 77, with the reason) under sanitizers, which reserve
 * terabytes of shadow address space, and under emulators (qemu-user maps
 * its own memory in the same process). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xa_test.h"

#ifndef XA_DEBUG
#define XA_DEBUG 0
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define AS_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AS_SANITIZED 1
#endif

/* Run argv with env (NAME=VALUE or NULL) and return the number printed
 * after `key` on its stdout, or -1. */
static long long run(char* const argv[], const char* env, const char* key) {
  int fds[2];
  CHECK(pipe(fds) == 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 1);
    if (env != NULL) putenv((char*)env);
    execv(argv[0], argv);
    _exit(127);
  }
  close(fds[1]);
  char out[4096];
  size_t len = 0;
  ssize_t r;
  while (len < sizeof(out) - 1 && (r = read(fds[0], out + len, sizeof(out) - 1 - len)) != 0) {
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) break;
    len += (size_t)r;
  }
  out[len] = 0;
  close(fds[0]);
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s failed (status %d): %s", argv[0], status, out);
  const char* at = strstr(out, key);
  CHECK_MSG(at != NULL, "%s printed no '%s': %s", argv[0], key, out);
  return atoll(at + strlen(key));
}

int main(int argc, char** argv) {
#if defined(AS_SANITIZED)
  printf("skipped: sanitizers reserve terabytes of shadow address space; RLIMIT_AS cannot be measured\n");
  return 77;
#endif
  if (argc < 3) {
    fprintf(stderr, "usage: as_limit AS_LOOP_LIBC AS_LOOP_XALLOC\n");
    return 2;
  }
  if (getenv("XA_UNDER_EMULATOR") != NULL) {
    printf("skipped: under an emulator the limit also covers the emulator's own mappings\n");
    return 77;
  }
  char limit[] = "600000";
  char* libc_argv[] = {argv[1], limit, NULL};
  char* xa_argv[] = {argv[2], limit, NULL};
  long long libc_blocks = run(libc_argv, NULL, "blocks ");
  long long xa_blocks = run(xa_argv, NULL, "blocks ");
  printf("RLIMIT_AS %s KiB, 1 MiB blocks: C library %lld, xalloc %lld\n", limit, libc_blocks, xa_blocks);
  CHECK_MSG(libc_blocks > 400, "the C library got only %lld MiB under the limit", libc_blocks);
  /* (Debug builds track blocks: 24 bytes more each, one OS page more per
   * 1 MiB block, docs/debugging.md.) */
  long long slack = XA_DEBUG ? libc_blocks / 100 + 1 : 0;
  CHECK_MSG(xa_blocks + slack >= libc_blocks, "xalloc got %lld MiB, the C library %lld", xa_blocks, libc_blocks);
  /* A tighter limit, where fixed costs weigh more. */
  char small[] = "120000";
  libc_argv[1] = xa_argv[1] = small;
  libc_blocks = run(libc_argv, NULL, "blocks ");
  xa_blocks = run(xa_argv, NULL, "blocks ");
  printf("RLIMIT_AS %s KiB, 1 MiB blocks: C library %lld, xalloc %lld\n", small, libc_blocks, xa_blocks);
  slack = XA_DEBUG ? libc_blocks / 100 + 1 : 0;
  CHECK_MSG(xa_blocks + slack >= libc_blocks, "xalloc got %lld MiB, the C library %lld", xa_blocks, libc_blocks);

  /* The arena: none under a limit (automatic), the given size otherwise. The
   * limit here (about 7.6 GiB) leaves room for a 4 GiB reservation, which
   * would take half of it for nothing. */
  char arena[] = "arena";
  char none[] = "0";
  char roomy[] = "8000000";
  char* arena_argv[] = {argv[2], arena, roomy, NULL};
  CHECK_MSG(run(arena_argv, NULL, "arena ") == 0, "an arena was reserved under RLIMIT_AS");
  arena_argv[2] = none;
  long long automatic = run(arena_argv, NULL, "arena ");
  CHECK_MSG(automatic >= (1ll << 30), "automatic arena without a limit: %lld bytes", automatic);
  long long given = run(arena_argv, "XALLOC_ARENA_RESERVE=268435456", "arena ");
  CHECK_MSG(given == (256ll << 20), "arena_reserve 256 MiB gave %lld bytes", given);
  given = run(arena_argv, "XALLOC_ARENA_RESERVE=10000000", "arena ");
  CHECK_MSG(given == (12ll << 20), "arena_reserve 10000000 (rounded up to 12 MiB) gave %lld bytes", given);
  given = run(arena_argv, "XALLOC_ARENA_RESERVE=0", "arena ");
  CHECK_MSG(given == 0, "arena_reserve 0 gave %lld bytes", given);
  printf("arena: automatic %lld bytes; none under the limit; arena_reserve honoured\n", automatic);
  return 0;
}
