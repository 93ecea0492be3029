/* Helpers shared by the public-API tests (test/api_*.c, test/mt_*.c):
 * a small deterministic PRNG, content patterns derived from a block's address
 * and size, and the work scale read from XA_TEST_SCALE.
 *
 * Only the public xa_* API is used; nothing here relies on plain malloc
 * being xalloc's.
 */
#ifndef XA_API_UTIL_H
#define XA_API_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xa_test.h"

/* ---------------------------------------------------------------------------
 * PRNG (splitmix64): deterministic for a given seed.
 * ------------------------------------------------------------------------- */
typedef struct {
  uint64_t s;
} xt_rng;

static inline uint64_t xt_next(xt_rng* r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* Uniform in [lo, hi] (inclusive). */
static inline size_t xt_range(xt_rng* r, size_t lo, size_t hi) {
  return lo + (size_t)(xt_next(r) % (uint64_t)(hi - lo + 1));
}

/* Roughly log-uniform in [lo, hi]: pick a power-of-two bucket, then a size in
 * it. Keeps the average block small while still reaching hi regularly. */
static inline size_t xt_logsize(xt_rng* r, size_t lo, size_t hi) {
  unsigned lo_bits = 0, hi_bits = 0;
  while (((size_t)1 << (lo_bits + 1)) <= lo) lo_bits++;
  while (((size_t)1 << (hi_bits + 1)) <= hi) hi_bits++;
  unsigned b = lo_bits + (unsigned)(xt_next(r) % (hi_bits - lo_bits + 1));
  size_t base = (size_t)1 << b;
  size_t sz = base + (size_t)(xt_next(r) % base);
  if (sz < lo) sz = lo;
  if (sz > hi) sz = hi;
  return sz;
}

/* ---------------------------------------------------------------------------
 * Content patterns. The pattern depends on the block's address, its size and
 * a salt, so a block that is handed out twice, overlaps another, or gets
 * another block's content is detected.
 * ------------------------------------------------------------------------- */
static inline uint64_t xt_pat_word(const void* p, size_t size, uint64_t salt, size_t i) {
  uint64_t x = (uint64_t)(uintptr_t)p ^ ((uint64_t)size * 0xD6E8FEB86659FD93ull) ^ salt;
  x ^= (uint64_t)i * 0x9E3779B97F4A7C15ull;
  x ^= x >> 29;
  return x;
}

/* Word access that may alias anything (the tests build with -fno-builtin, so
 * memcpy of 8 bytes would be a real call per word). */
typedef uint64_t __attribute__((may_alias)) xt_word;

static inline void xt_fill(void* p, size_t size, uint64_t salt) {
  unsigned char* b = (unsigned char*)p;
  size_t words = size / 8;
  if (((uintptr_t)b & 7) == 0) {
    xt_word* w = (xt_word*)p;
    for (size_t i = 0; i < words; i++) w[i] = xt_pat_word(p, size, salt, i);
  } else {
    for (size_t i = 0; i < words; i++) {
      uint64_t w = xt_pat_word(p, size, salt, i);
      for (int k = 0; k < 8; k++) b[i * 8 + (size_t)k] = (unsigned char)(w >> (8 * k));
    }
  }
  uint64_t w = xt_pat_word(p, size, salt, words);
  for (size_t k = 0; k < size % 8; k++) b[words * 8 + k] = (unsigned char)(w >> (8 * k));
}

/* Returns true when the block still holds xt_fill(p, size, salt)'s pattern. */
static inline bool xt_check(const void* p, size_t size, uint64_t salt) {
  const unsigned char* b = (const unsigned char*)p;
  size_t words = size / 8;
  if (((uintptr_t)b & 7) == 0) {
    const xt_word* w = (const xt_word*)p;
    for (size_t i = 0; i < words; i++)
      if (w[i] != xt_pat_word(p, size, salt, i)) return false;
  } else {
    for (size_t i = 0; i < words; i++) {
      uint64_t w = xt_pat_word(p, size, salt, i);
      for (int k = 0; k < 8; k++)
        if (b[i * 8 + (size_t)k] != (unsigned char)(w >> (8 * k))) return false;
    }
  }
  uint64_t w = xt_pat_word(p, size, salt, words);
  for (size_t k = 0; k < size % 8; k++)
    if (b[words * 8 + k] != (unsigned char)(w >> (8 * k))) return false;
  return true;
}

/* Position-only pattern (independent of the address), for content that must
 * survive a move (realloc). */
static inline unsigned char xt_pos_byte(size_t i, unsigned seed) {
  return (unsigned char)((i * 131u + (i >> 8) * 7u + seed * 29u + 1u) & 0xFF);
}

static inline void xt_fill_pos(void* p, size_t from, size_t to, unsigned seed) {
  unsigned char* b = (unsigned char*)p;
  for (size_t i = from; i < to; i++) b[i] = xt_pos_byte(i, seed);
}

/* Index of the first byte in [0, n) that differs from the position pattern,
 * or n when all match. */
static inline size_t xt_check_pos(const void* p, size_t n, unsigned seed) {
  const unsigned char* b = (const unsigned char*)p;
  for (size_t i = 0; i < n; i++)
    if (b[i] != xt_pos_byte(i, seed)) return i;
  return n;
}

/* All n bytes equal v (word-wise where possible: this scans megabytes). */
static inline bool xt_all_bytes(const void* p, size_t n, unsigned char v) {
  const unsigned char* b = (const unsigned char*)p;
  size_t i = 0;
  for (; i < n && ((uintptr_t)(b + i) & 7) != 0; i++)
    if (b[i] != v) return false;
  const uint64_t pat = 0x0101010101010101ull * v;
  for (; i + 8 <= n; i += 8)
    if (*(const xt_word*)(b + i) != pat) return false;
  for (; i < n; i++)
    if (b[i] != v) return false;
  return true;
}

static inline bool xt_aligned(const void* p, size_t a) {
  return ((uintptr_t)p & (a - 1)) == 0;
}

/* ---------------------------------------------------------------------------
 * Work scale: XA_TEST_SCALE (a positive number, default 1) multiplies the
 * amount of work of the stress-style tests. ThreadSanitizer builds (about
 * 10x slower) divide it by 4 so a run stays well under the test timeout.
 * ------------------------------------------------------------------------- */
#if defined(__SANITIZE_THREAD__)
#  define XT_UNDER_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define XT_UNDER_TSAN 1
#  endif
#endif
#ifndef XT_UNDER_TSAN
#  define XT_UNDER_TSAN 0
#endif
#if XT_UNDER_TSAN
#  define XT_SANITIZER_DIVISOR 4.0
#else
#  define XT_SANITIZER_DIVISOR 1.0
#endif

static inline double xt_scale(void) {
  const char* s = getenv("XA_TEST_SCALE");
  double v = 1.0;
  if (s != NULL && *s != '\0') {
    char* end = NULL;
    double d = strtod(s, &end);
    if (end != s && d > 0) v = d;
  }
  return v / XT_SANITIZER_DIVISOR;
}

/* n scaled by XA_TEST_SCALE, at least min. */
static inline size_t xt_scaled(size_t n, size_t min) {
  double v = (double)n * xt_scale();
  size_t r = (size_t)v;
  return r < min ? min : r;
}

#endif
