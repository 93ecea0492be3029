/* Helpers for the lifecycle tests: content patterns and the invariant
 * checker after each step. */
#ifndef LC_UTIL_H
#define LC_UTIL_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "xalloc.h"
#include "check.h"
#include "xa_test.h"

/* Fill/check a block with a pattern derived from its address and a salt. */
static inline void lc_fill(void* p, size_t n, uint32_t salt) {
  unsigned char* b = p;
  uint32_t x = (uint32_t)(uintptr_t)p ^ salt ^ 0x9e3779b9u;
  for (size_t i = 0; i < n; i++) {
    x = x * 1664525u + 1013904223u;
    b[i] = (unsigned char)(x >> 24);
  }
}

static inline int lc_check(const void* p, size_t n, uint32_t salt) {
  const unsigned char* b = p;
  uint32_t x = (uint32_t)(uintptr_t)p ^ salt ^ 0x9e3779b9u;
  for (size_t i = 0; i < n; i++) {
    x = x * 1664525u + 1013904223u;
    if (b[i] != (unsigned char)(x >> 24)) return 0;
  }
  return 1;
}

/* Check only the first and last bytes of big blocks (keeps tests fast). */
static inline void lc_fill_ends(void* p, size_t n, uint32_t salt) {
  if (n <= 4096) { lc_fill(p, n, salt); return; }
  lc_fill(p, 2048, salt);
  lc_fill((char*)p + n - 2048, 2048, salt + 1);
}
static inline int lc_check_ends(const void* p, size_t n, uint32_t salt) {
  if (n <= 4096) return lc_check(p, n, salt);
  return lc_check(p, 2048, salt) && lc_check((const char*)p + n - 2048, 2048, salt + 1);
}

#define VALIDATE() CHECK(xa__validate())

static inline pthread_t lc_spawn(void* (*fn)(void*), void* arg) {
  pthread_t t;
  CHECK(pthread_create(&t, NULL, fn, arg) == 0);
  return t;
}

/* Sizes that hit every page kind: small, medium, large and huge. */
static const size_t lc_sizes[] = {8, 24, 100, 1000, 5000, 20000, 60000, 100000, 400000,
                                  (size_t)1 << 20, (size_t)5 << 20};
#define LC_NSIZES (sizeof(lc_sizes) / sizeof(lc_sizes[0]))

#endif
