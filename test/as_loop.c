/* The loop of test/as_limit.c, built twice: once with the C library's
 * malloc (as_loop_libc, not linked with xalloc) and once with xalloc
 * (as_loop_xalloc, AS_LOOP_XALLOC). Usage: as_loop LIMIT_KIB
 *
 * Sets RLIMIT_AS to LIMIT_KIB and re-executes itself (so that the allocator
 * starts under the limit, as in a process run under `ulimit -v`), then
 * allocates 1 MiB blocks, touching each, until an allocation fails, and
 * prints how many it got: "blocks N". Nothing else allocates meanwhile (no
 * stdio before the end), so both builds run the same program.
 *
 * The xalloc build also checks the arena reservation: with a limit and
 * arena_reserve automatic, none (segments are mapped one by one); with
 * "arena LIMIT_KIB" it prints the bytes reserved for the arena ("arena N")
 * after a first small allocation, under whatever XALLOC_ARENA_RESERVE says. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#ifdef AS_LOOP_XALLOC
#include "xalloc.h"
#include "arena.h"
#define ALLOC(n) xa_malloc(n)
#else
#define ALLOC(n) malloc(n)
#endif

static void say(const char* s) {
  size_t n = strlen(s);
  while (n > 0) {
    ssize_t w = write(1, s, n);
    if (w <= 0) return;
    s += w;
    n -= (size_t)w;
  }
}

static void say_num(const char* label, unsigned long long v) {
  char buf[64];
  char digits[24];
  int d = 0;
  do {
    digits[d++] = (char)('0' + v % 10);
    v /= 10;
  } while (v != 0);
  size_t n = strlen(label);
  memcpy(buf, label, n);
  while (d > 0) buf[n++] = digits[--d];
  buf[n++] = '\n';
  buf[n] = 0;
  say(buf);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    say("usage: as_loop LIMIT_KIB | as_loop arena LIMIT_KIB\n");
    return 2;
  }
  int arena = strcmp(argv[1], "arena") == 0;
  const char* limit_arg = arena ? (argc > 2 ? argv[2] : "0") : argv[1];
  unsigned long long kib = strtoull(limit_arg, NULL, 10);
  if (getenv("AS_LOOP_CHILD") == NULL) {
    if (kib != 0) {
      struct rlimit r = {(rlim_t)kib * 1024, (rlim_t)kib * 1024};
      if (setrlimit(RLIMIT_AS, &r) != 0) {
        perror("setrlimit");
        return 2;
      }
    }
    setenv("AS_LOOP_CHILD", "1", 1);
    execv("/proc/self/exe", argv);
    perror("execv /proc/self/exe");
    return 2;
  }
#ifdef AS_LOOP_XALLOC
  if (arena) {
    void* p = xa_malloc(100);  /* the first standard segment decides the arena */
    size_t reserved = xa__arena_reserved();
    /* A reservation is where its base says, and the block came from it. */
    if (reserved != 0 && !xa__in_arena(p)) return 3;
    if (reserved == 0 && atomic_load(&xa__arena_base) != 0) return 4;
    say_num("arena ", reserved);
    xa_free(p);
    return 0;
  }
#else
  if (arena) return 2;
#endif
  unsigned long long n = 0;
  for (;;) {
    unsigned char* p = ALLOC((size_t)1 << 20);
    if (p == NULL) break;
    for (size_t i = 0; i < ((size_t)1 << 20); i += 4096) p[i] = (unsigned char)i;
    n++;
  }
  int err = errno;
  say_num("blocks ", n);
  say_num("errno ", (unsigned long long)err);
  return 0;
}
