/* Helpers shared by the workload programs of bench/ (xa-larson, xa-xmalloc,
 * xa-cache, xa-mstress, xa-rptest, xa-large, xa-frag).
 *
 * Like xa-micro, the programs are not linked with xalloc: they call the plain
 * malloc family and the allocator under test is picked with LD_PRELOAD.  Each
 * prints one result line of key=value fields that starts with "bench=" and
 * ends with secs=, maxrss_kb= and malloc_from=.  Exit status: 0 ok, 1 usage
 * error or out of memory, 2 a block came back corrupted or misaligned.
 *
 * Command line of every program:  PROG [--quick] [--key value]...
 * Options are declared with bu_opt(); --quick switches every option to its
 * tiny default (CI smoke test).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef XA_BENCH_UTIL_H
#define XA_BENCH_UTIL_H

#define _GNU_SOURCE /* dladdr */

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static const char *bu_prog = "xa-bench";
static int bu_quick;

/* ---- errors -------------------------------------------------------------- */

__attribute__((noreturn, unused)) static void bu_oom(size_t size)
{
  fprintf(stderr, "%s: allocation of %zu bytes returned NULL\n", bu_prog, size);
  exit(1);
}

__attribute__((noreturn, unused)) static void bu_corrupt(const char *what, const void *p,
                                                        size_t size)
{
  fprintf(stderr, "%s: %s: block %p of size %zu\n", bu_prog, what, p, size);
  exit(2);
}

/* malloc's alignment guarantee: 16 bytes for sizes >= 16, else the largest
 * power of two not above the size. */
static inline int bu_aligned(const void *p, size_t size)
{
  size_t need = 16;
  while (need > 1 && need > size) need >>= 1;
  return ((uintptr_t)p & (need - 1)) == 0;
}

static inline void *bu_malloc(size_t size)
{
  void *p = malloc(size);
  if (p == NULL) bu_oom(size);
  if (!bu_aligned(p, size)) bu_corrupt("misaligned", p, size);
  return p;
}

/* Tag the first and the last byte of a block; checked before it is freed, so
 * two live blocks that overlap are noticed. */
static inline void bu_tag(void *p, size_t size, unsigned char tag)
{
  ((unsigned char *)p)[0] = tag;
  ((unsigned char *)p)[size - 1] = tag;
}

static inline void bu_check(const void *p, size_t size, unsigned char tag)
{
  const unsigned char *b = p;
  if (b[0] != tag || b[size - 1] != tag) bu_corrupt("block overwritten", p, size);
}

/* ---- random numbers: xorshift64*, fixed seeds ---------------------------- */

typedef struct { uint64_t s; } bu_rng;

static inline void bu_seed(bu_rng *r, uint64_t seed)
{
  r->s = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
  if (r->s == 0) r->s = 1;
}

static inline uint64_t bu_next(bu_rng *r)
{
  uint64_t x = r->s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  r->s = x;
  return x * 0x2545F4914F6CDD1DULL;
}

/* In [0, n). */
static inline uint32_t bu_below(bu_rng *r, uint32_t n)
{
  return (uint32_t)(((bu_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* In [lo, hi]. */
static inline size_t bu_range(bu_rng *r, size_t lo, size_t hi)
{
  return lo + (size_t)(bu_next(r) % (uint64_t)(hi - lo + 1));
}

/* ---- time and memory ----------------------------------------------------- */

static inline double bu_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A field of /proc/self/status in KiB (VmRSS, VmHWM), or -1. */
static long bu_status_kb(const char *key)
{
  long kb = -1;
  char line[256];
  size_t n = strlen(key);
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL) return -1;
  while (fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, key, n) == 0 && line[n] == ':') {
      kb = strtol(line + n + 1, NULL, 10);
      break;
    }
  fclose(f);
  return kb;
}

static const char *bu_malloc_from(void)
{
  void *fn = dlsym(RTLD_DEFAULT, "malloc");
  Dl_info info;
  if (fn == NULL || dladdr(fn, &info) == 0 || info.dli_fname == NULL) return "?";
  const char *base = strrchr(info.dli_fname, '/');
  return base ? base + 1 : info.dli_fname;
}

/* ---- options ------------------------------------------------------------- */

typedef struct {
  const char *name; /* without the leading "--" */
  uint64_t *value;
  uint64_t full, quick, lo, hi;
  const char *help;
} bu_option;

#define BU_MAX_OPTS 16
static bu_option bu_opts[BU_MAX_OPTS];
static int bu_nopts;
static const char *bu_summary = "";

static void bu_opt(const char *name, uint64_t *value, uint64_t full, uint64_t quick, uint64_t lo,
                   uint64_t hi, const char *help)
{
  bu_option o = {name, value, full, quick, lo, hi, help};
  bu_opts[bu_nopts++] = o;
}

__attribute__((noreturn)) static void bu_usage(int status)
{
  FILE *f = status ? stderr : stdout;
  fprintf(f, "usage: %s [--quick] [--OPTION N]...\n%s\n", bu_prog, bu_summary);
  for (int i = 0; i < bu_nopts; i++)
    fprintf(f, "  --%-12s %s (default %" PRIu64 ", --quick %" PRIu64 ")\n", bu_opts[i].name,
            bu_opts[i].help, bu_opts[i].full, bu_opts[i].quick);
  exit(status);
}

static void bu_parse(int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], "--quick") == 0) bu_quick = 1;
  for (int i = 0; i < bu_nopts; i++) *bu_opts[i].value = bu_quick ? bu_opts[i].quick : bu_opts[i].full;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--quick") == 0) continue;
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) bu_usage(0);
    int found = 0;
    for (int k = 0; k < bu_nopts && !found; k++) {
      if (strncmp(a, "--", 2) != 0 || strcmp(a + 2, bu_opts[k].name) != 0) continue;
      found = 1;
      if (++i >= argc) bu_usage(1);
      char *end;
      errno = 0;
      unsigned long long v = strtoull(argv[i], &end, 0);
      if (errno || end == argv[i] || *end || argv[i][0] == '-' || v < bu_opts[k].lo ||
          v > bu_opts[k].hi) {
        fprintf(stderr, "%s: bad value '%s' for --%s (%" PRIu64 "..%" PRIu64 ")\n", bu_prog,
                argv[i], bu_opts[k].name, bu_opts[k].lo, bu_opts[k].hi);
        exit(1);
      }
      *bu_opts[k].value = v;
    }
    if (!found) {
      fprintf(stderr, "%s: unknown argument %s\n", bu_prog, a);
      bu_usage(1);
    }
  }
}

/* ---- result line --------------------------------------------------------- */

/* Prints "bench=NAME opt=value ... " for every option; the caller adds its own
 * fields and then calls bu_report_tail. */
static void bu_report_head(const char *name)
{
  printf("bench=%s", name);
  for (int i = 0; i < bu_nopts; i++) printf(" %s=%" PRIu64, bu_opts[i].name, *bu_opts[i].value);
}

static void bu_report_tail(double secs)
{
  printf(" secs=%.3f maxrss_kb=%ld malloc_from=%s\n", secs, bu_status_kb("VmHWM"),
         bu_malloc_from());
  fflush(stdout);
}

/* ---- threads ------------------------------------------------------------- */

__attribute__((unused)) static pthread_t bu_spawn(void *(*fn)(void *), void *arg)
{
  pthread_t t;
  int rc = pthread_create(&t, NULL, fn, arg);
  if (rc != 0) {
    fprintf(stderr, "%s: pthread_create: %s\n", bu_prog, strerror(rc));
    exit(1);
  }
  return t;
}

__attribute__((unused)) static void bu_join(pthread_t t)
{
  int rc = pthread_join(t, NULL);
  if (rc != 0) {
    fprintf(stderr, "%s: pthread_join: %s\n", bu_prog, strerror(rc));
    exit(1);
  }
}

#endif
