/* libFuzzer target for the xa_ API (issue 13; docs/fuzzing.md).
 *
 * The input is a program: a sequence of operations, each an opcode byte
 * followed by the argument bytes it reads (a missing byte reads as 0, so every
 * input is a valid program). The operations drive the whole public API from
 * the fuzzer's thread, plus helper threads created for one batch and joined
 * before the next operation, so a run depends on the input only.
 *
 * A shadow model follows every block the program holds: its pointer, the
 * size asked for, the alignment it must have, the usable size at allocation,
 * the heap that allocated it (what xa_heap_destroy must free) and the heap
 * that holds its page now (what xa_heap_contains must answer), and an id from
 * which its content is derived. On every free and realloc the block's content,
 * alignment and usable size are checked; every CHECK_EVERY operations the
 * edges of every live block are, together with the invariant checker
 * (xa__validate, src/check.h). Total live bytes are capped so the fuzzer never
 * runs out of memory. At the end of an input everything is freed and every
 * heap deleted or destroyed, so inputs do not depend on each other.
 *
 * Any broken expectation aborts with file:line and what broke (CHECK): to
 * libFuzzer that is a crash, and the input is saved as a reproducer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"
#include "check.h"
#include "xa_test.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#define MAX_BLOCKS    256                  /* model slots */
#define MAX_HEAPS     4                    /* user heaps alive at once */
#define MAX_OPS       4096                 /* operations per input */
#define LIVE_CAP      ((size_t)64 << 20)   /* live bytes asked for, at most */
#define CHECK_EVERY   32                   /* operations between full sweeps */
#define BATCH_MAX     32                   /* blocks handed to one helper thread */
#define EDGE          64                   /* bytes checked at each end in a sweep */

/* Who holds / allocated a block: a user heap 0..MAX_HEAPS-1, or one of these. */
enum {
  H_ORIG = MAX_HEAPS,     /* the thread's original heap */
  H_FOREIGN,              /* not one of ours: a helper thread's, or ours before xa_thread_done */
  H_NONE,                 /* allocated by a heap that was deleted: no destroy frees it */
};

typedef struct {
  uint8_t* p;       /* NULL: slot free */
  size_t size;      /* asked for */
  size_t usable;    /* xa_usable_size at allocation (filled with the pattern) */
  size_t align;     /* p must be a multiple of it */
  uint32_t id;      /* content seed */
  uint8_t holder;   /* heap whose page holds the block */
  uint8_t alloc;    /* heap that allocated it */
} block_t;

typedef struct {
  const uint8_t* p;
  size_t n;
} input_t;

static block_t g_blocks[MAX_BLOCKS];
static xa_heap_t* g_heaps[MAX_HEAPS];
static xa_heap_t* g_orig;         /* the original heap (changes after xa_thread_done) */
static uint8_t g_default;         /* H_ORIG or a user heap index */
static size_t g_live;             /* sum of sizes of live blocks */
static uint32_t g_next_id;

/* ---- reading the input --------------------------------------------------- */

static uint8_t in_u8(input_t* in) {
  if (in->n == 0) return 0;
  in->n--;
  return *in->p++;
}

static uint32_t in_u16(input_t* in) {
  uint32_t lo = in_u8(in);
  return lo | (uint32_t)in_u8(in) << 8;
}

static uint32_t in_u24(input_t* in) {
  uint32_t lo = in_u16(in);
  return lo | (uint32_t)in_u8(in) << 16;
}

/* Sizes over every class: 0, tiny, small, medium, large, huge, and the edges
 * between them. */
static const size_t k_edges[] = {
  1, 7, 8, 9, 15, 16, 17, 127, 128, 129, 1023, 1024, 1025, 4096, 8191, 8192, 8193,
  65535, 65536, 65537, (512u << 10) - 1, 512u << 10, (512u << 10) + 1, (4u << 20) - 8192,
  4u << 20, (4u << 20) + 1,
};
#define NEDGES (sizeof k_edges / sizeof k_edges[0])

static size_t in_size(input_t* in) {
  uint8_t k = in_u8(in);
  uint32_t r = in_u24(in);
  size_t s;
  switch (k % 16) {
    case 0: s = 0; break;
    case 1: case 2: case 3: case 4: case 5: s = 1 + r % 128; break;
    case 6: case 7: case 8: s = r % 8193; break;
    case 9: case 10: s = r % 65537; break;
    case 11: s = r % ((512u << 10) + 1); break;
    case 12: s = (512u << 10) + r % (7u << 19); break;             /* huge, up to 4 MiB */
    case 13:  /* huge: 1 in 8 up to 16 MiB (filling and checking those is most of the time), else up to 1 MiB */
      if ((r & 7) == 0) {
        s = ((size_t)4 << 20) + ((size_t)r << 4) % ((size_t)12 << 20);
      } else {
        s = (512u << 10) + (r >> 3) % (512u << 10);
      }
      break;
    default: s = k_edges[r % NEDGES]; break;
  }
  /* Over the cap: something small instead. */
  if (s > LIVE_CAP || g_live + s > LIVE_CAP) s %= 4096;
  return s;
}

/* ---- content ------------------------------------------------------------- */

/* The byte loops over block contents are most of the work (up to 64 MiB live):
 * keep libFuzzer's coverage and comparison hooks and ASan's checks (xalloc's
 * memory is not poisoned anyway) out of them so they vectorize. */
#if defined(__clang__) && __clang_major__ >= 13
#define BULK __attribute__((no_sanitize("address", "coverage")))
#elif defined(__clang__)
#define BULK __attribute__((no_sanitize("address")))
#else
#define BULK
#endif
/* Tests build with -fno-builtin: ask for the inline copy by name. */
#if defined(__GNUC__)
#define COPY8(d, s) __builtin_memcpy((d), (s), 8)
#else
#define COPY8(d, s) memcpy((d), (s), 8)
#endif

/* Block content: 8-byte words, word j = f(id, j), all different (a copy to
 * a wrong offset shows); a byte is its word's byte at the same offset. Word
 * loops, since every block of up to 64 MiB live is written once and read at
 * least once. */
BULK static inline uint64_t word(uint32_t id, size_t j) {
  return ((uint64_t)j + 1) * 0x9E3779B97F4A7C15u ^ ((uint64_t)id << 32 | id);
}

BULK static inline uint8_t pattern(uint32_t id, size_t i) {
  uint64_t w = word(id, i / 8);
  uint8_t b[8];
  COPY8(b, &w);
  return b[i % 8];
}

BULK static void fill(uint8_t* p, size_t from, size_t to, uint32_t id) {
  size_t i = from;
  for (; i < to && i % 8 != 0; i++) p[i] = pattern(id, i);
  for (; i + 8 <= to; i += 8) {
    uint64_t w = word(id, i / 8);
    COPY8(p + i, &w);
  }
  for (; i < to; i++) p[i] = pattern(id, i);
}

BULK static uint64_t differs(const uint8_t* p, size_t from, size_t to, uint32_t id) {
  uint64_t bad = 0;
  size_t i = from;
  for (; i < to && i % 8 != 0; i++) bad |= p[i] ^ pattern(id, i);
  for (; i + 8 <= to; i += 8) {
    uint64_t w;
    COPY8(&w, p + i);
    bad |= w ^ word(id, i / 8);
  }
  for (; i < to; i++) bad |= p[i] ^ pattern(id, i);
  return bad;
}

static void expect(const uint8_t* p, size_t from, size_t to, uint32_t id, const char* what) {
  if (differs(p, from, to, id) == 0) return;
  for (size_t i = from; i < to; i++) {
    CHECK_MSG(p[i] == pattern(id, i), "%s: block %p id %u: byte %zu is 0x%02x, expected 0x%02x", what,
              (const void*)p, id, i, p[i], pattern(id, i));
  }
}

/* Plain alignment of a size (the contract): 16 from 16 bytes on, otherwise
 * the largest power of two <= size, at least 8. */
static size_t plain_align(size_t size) {
  if (size >= 16) return 16;
  return 8;
}

/* ---- the model ----------------------------------------------------------- */

static xa_heap_t* heap_ptr(uint8_t h) { return h < MAX_HEAPS ? g_heaps[h] : g_orig; }

/* Checks of one live block: its content (all of it, or its two edges), its
 * alignment, its usable size and which heap holds it. */
static void check_block(const block_t* b, bool whole, const char* what) {
  CHECK_MSG(((uintptr_t)b->p & (b->align - 1)) == 0, "%s: %p not aligned to %zu", what, (void*)b->p, b->align);
  size_t u = xa_usable_size(b->p);
  CHECK_MSG(u == b->usable, "%s: usable size of %p changed from %zu to %zu", what, (void*)b->p, b->usable, u);
  CHECK_MSG(xa_is_in_heap_region(b->p), "%s: %p not in the heap region", what, (void*)b->p);
  if (whole || b->usable <= 2 * EDGE) {
    expect(b->p, 0, b->usable, b->id, what);
  } else {
    expect(b->p, 0, EDGE, b->id, what);
    expect(b->p, b->usable - EDGE, b->usable, b->id, what);
  }
  if (b->holder != H_FOREIGN) {
    CHECK_MSG(xa_heap_contains(heap_ptr(b->holder), b->p), "%s: heap %u does not contain %p", what,
              b->holder, (void*)b->p);
    /* Interior pointers count. */
    CHECK_MSG(b->size <= 1 || xa_heap_contains(heap_ptr(b->holder), b->p + b->size - 1),
              "%s: heap %u does not contain the last byte of %p (%zu)", what, b->holder, (void*)b->p, b->size);
  }
  for (uint8_t h = 0; h < MAX_HEAPS; h++) {
    if (g_heaps[h] == NULL || h == b->holder) continue;
    CHECK_MSG(!xa_heap_contains(g_heaps[h], b->p), "%s: heap %u contains %p, held by %u", what, h, (void*)b->p,
              b->holder);
  }
}

/* Record a new block in slot i: checks what a fresh block must satisfy and
 * fills it (usable size included) with the pattern of a new id. */
static void adopt(size_t i, void* p, size_t size, size_t align, uint8_t heap, const char* what) {
  CHECK_MSG(p != NULL, "%s(%zu) failed", what, size);
  block_t* b = &g_blocks[i];
  b->p = p;
  b->size = size;
  b->align = align;
  b->id = ++g_next_id;
  b->holder = heap;
  b->alloc = heap;
  b->usable = xa_usable_size(p);
  /* (Debug builds track requested sizes: malloc(0) has 0 usable bytes.) */
  CHECK_MSG(b->usable >= size && (b->usable > 0 || XA_DEBUG), "%s: usable %zu < size %zu", what, b->usable, size);
  CHECK_MSG(((uintptr_t)p & (align - 1)) == 0, "%s: %p not aligned to %zu", what, p, align);
  fill(b->p, 0, b->usable, b->id);
  g_live += size;
}

static void forget(block_t* b) {
  g_live -= b->size;
  b->p = NULL;
}

static void release(block_t* b) {
  check_block(b, true, "free");
  xa_free(b->p);
  /* Freed by the owner thread: no longer a live block of its heap (the
   * answer is exact for the owner; a block held by a heap of another thread,
   * H_FOREIGN, is not asked about). */
  if (b->holder != H_FOREIGN) {
    CHECK_MSG(!xa_heap_contains(heap_ptr(b->holder), b->p), "heap %u still contains %p after its free", b->holder,
              (void*)b->p);
  }
  forget(b);
}

/* Heap for an allocation: a user heap (created on first use), or NULL = the
 * default heap. *holder gets the model's name for it. */
static xa_heap_t* pick_heap(input_t* in, uint8_t* holder) {
  uint8_t v = in_u8(in);
  uint8_t h = v % (MAX_HEAPS + 1);
  if (h == MAX_HEAPS) {
    *holder = g_default;
    return NULL;
  }
  if (g_heaps[h] == NULL) {
    g_heaps[h] = xa_heap_new();
    CHECK(g_heaps[h] != NULL);
  }
  *holder = h;
  return g_heaps[h];
}

/* A free slot (NULL if none) and a live one (NULL if none), both from a byte. */
static block_t* free_slot(input_t* in) {
  size_t start = in_u8(in);
  for (size_t k = 0; k < MAX_BLOCKS; k++) {
    block_t* b = &g_blocks[(start + k) % MAX_BLOCKS];
    if (b->p == NULL) return b;
  }
  return NULL;
}

static block_t* live_slot(input_t* in) {
  size_t start = in_u8(in);
  for (size_t k = 0; k < MAX_BLOCKS; k++) {
    block_t* b = &g_blocks[(start + k) % MAX_BLOCKS];
    if (b->p != NULL) return b;
  }
  return NULL;
}

static size_t slot_index(const block_t* b) { return (size_t)(b - g_blocks); }

/* ---- operations ---------------------------------------------------------- */

static void op_malloc(input_t* in, bool use_heap) {
  block_t* b = free_slot(in);
  size_t size = in_size(in);
  uint8_t holder = g_default;
  xa_heap_t* h = use_heap ? pick_heap(in, &holder) : NULL;
  if (b == NULL) return;
  void* p = use_heap ? xa_heap_malloc(h, size) : xa_malloc(size);
  adopt(slot_index(b), p, size, plain_align(size), holder, "malloc");
}

static void op_calloc(input_t* in, bool use_heap) {
  block_t* b = free_slot(in);
  size_t size = in_size(in);
  size_t count = 1 + in_u8(in) % 8;
  uint8_t holder = g_default;
  xa_heap_t* h = use_heap ? pick_heap(in, &holder) : NULL;
  if (b == NULL) return;
  size_t each = size / count;
  void* p = use_heap ? xa_heap_calloc(h, count, each) : xa_calloc(count, each);
  CHECK(p != NULL);
  for (size_t i = 0; i < count * each; i++) CHECK_MSG(((uint8_t*)p)[i] == 0, "calloc: byte %zu not zero", i);
  adopt(slot_index(b), p, count * each, plain_align(count * each), holder, "calloc");
}

static void op_aligned(input_t* in, bool use_heap) {
  block_t* b = free_slot(in);
  size_t size = in_size(in);
  uint8_t a = in_u8(in);
  uint8_t holder = g_default;
  xa_heap_t* h = use_heap ? pick_heap(in, &holder) : NULL;
  if (b == NULL) return;
  size_t align;
  if (a % 32 == 31) {
    /* Not a power of two: EINVAL, nothing allocated. */
    static const size_t bad[] = {0, 3, 24, 48, 1000, (size_t)3 << 20};
    align = bad[(a / 32) % (sizeof bad / sizeof bad[0])];
    errno = 0;
    void* p = use_heap ? xa_heap_malloc_aligned(h, size, align) : xa_malloc_aligned(size, align);
    CHECK_MSG(p == NULL && errno == EINVAL, "aligned(%zu, %zu): %p errno %d", size, align, p, errno);
    return;
  }
  align = (size_t)1 << (a % 32 % 24);  /* 1 .. 8 MiB */
  errno = 0;
  void* p = use_heap ? xa_heap_malloc_aligned(h, size, align) : xa_malloc_aligned(size, align);
  if (p == NULL && align > ((size_t)2 << 20)) {
    CHECK_MSG(errno == ENOMEM, "aligned(%zu, %zu): errno %d", size, align, errno);
    return;
  }
  adopt(slot_index(b), p, size, align, holder, "malloc_aligned");
}

static void op_free(input_t* in) {
  block_t* b = live_slot(in);
  if (b != NULL) release(b);
}

/* realloc / reallocarray / heap_realloc of a live block or of NULL. */
static void op_realloc(input_t* in, uint8_t how) {
  block_t* b = live_slot(in);
  size_t size = in_size(in);
  uint8_t holder = g_default;
  xa_heap_t* h = (how & 3) >= 2 ? pick_heap(in, &holder) : NULL;
  bool from_null = (how & 4) != 0 || b == NULL;
  if (from_null) b = free_slot(in);
  if (b == NULL) return;
  if (!from_null) {
    /* The cap: the old block still counts. */
    if (g_live - b->size + size > LIVE_CAP) size %= 4096;
    check_block(b, true, "realloc (before)");
  }
  void* old = from_null ? NULL : b->p;
  void* p;
  switch (how & 3) {
    case 0: p = xa_realloc(old, size); break;
    case 1: {
      size_t count = size % 7 == 0 ? 7 : 1;
      p = xa_reallocarray(old, count, size / count);
      size = size / count * count;
      break;
    }
    default: p = xa_heap_realloc(h, old, size); break;
  }
  CHECK_MSG(p != NULL, "realloc(%p, %zu) failed", old, size);
  if (from_null) {
    adopt(slot_index(b), p, size, plain_align(size), holder, "realloc(NULL)");
    return;
  }
  size_t keep = b->size < size ? b->size : size;
  expect(p, 0, keep, b->id, "realloc (kept content)");
  g_live = g_live - b->size + size;
  if (size == 0 || p != old) {
    /* Moved (or freed and a new minimal block returned): the block is now
     * one of the realloc heap's, with the plain alignment of its size. */
    b->holder = holder;
    b->alloc = holder;
    b->align = plain_align(size);
  }
  b->p = p;
  b->size = size;
  b->usable = xa_usable_size(p);
  CHECK_MSG(b->usable >= size, "realloc: usable %zu < %zu", b->usable, size);
  fill(b->p, keep, b->usable, b->id);
  check_block(b, false, "realloc (after)");
}

static void op_strdup(input_t* in) {
  block_t* b = free_slot(in);
  size_t len = in_u16(in) % 3000;
  bool bounded = (len & 1) != 0;
  if (b == NULL) return;
  char* s = malloc(len + 1);
  CHECK(s != NULL);
  for (size_t i = 0; i < len; i++) s[i] = (char)('a' + i % 26);
  s[len] = 0;
  size_t n = bounded ? len / 2 : len;
  char* d = bounded ? xa_strndup(s, n) : xa_strdup(s);
  CHECK(d != NULL);
  CHECK(strlen(d) == n && memcmp(d, s, n) == 0);
  free(s);
  adopt(slot_index(b), d, n + 1, plain_align(n + 1), g_default, "strdup");
}

/* Through a volatile, so the compiler neither warns about the sizes below
 * nor folds the calls away. */
static size_t opaque(size_t x) {
  volatile size_t v = x;
  return v;
}

/* Sizes the API must refuse without touching anything. */
static void op_refuse(input_t* in) {
  uint8_t k = in_u8(in);
  block_t* b = live_slot(in);
  void* old = b != NULL ? b->p : NULL;
  void* p = NULL;
  errno = 0;
  switch (k % 6) {
    case 0: p = xa_malloc(opaque((size_t)PTRDIFF_MAX + 1 + k)); break;
    case 1: p = xa_calloc(opaque(SIZE_MAX / 2 + 2), 2); break;
    case 2: p = xa_calloc(opaque((size_t)1 << 32), opaque((size_t)1 << 32)); break;
    case 3: p = xa_reallocarray(old, opaque(SIZE_MAX / 3), 4); break;
    case 4: p = xa_realloc(old, opaque(SIZE_MAX - k)); break;
    default: p = xa_malloc_aligned(opaque(SIZE_MAX - 4096), 64); break;
  }
  CHECK_MSG(p == NULL && errno == ENOMEM, "refuse %u: %p errno %d", k % 6, p, errno);
  if (b != NULL) check_block(b, true, "after a refused realloc");
}

/* Heap lifecycle: new, set_default, delete, destroy, collect. */
static void op_heap(input_t* in) {
  uint8_t k = in_u8(in);
  uint8_t h = (k >> 3) % MAX_HEAPS;
  switch (k % 8) {
    case 0:
      if (g_heaps[h] == NULL) {
        g_heaps[h] = xa_heap_new();
        CHECK(g_heaps[h] != NULL);
      }
      break;
    case 1: {  /* set_default (the original heap when slot h is empty) */
      xa_heap_t* want = g_heaps[h] != NULL ? g_heaps[h] : g_orig;
      xa_heap_t* prev = xa_heap_set_default(want);
      CHECK(prev == heap_ptr(g_default));
      g_default = g_heaps[h] != NULL ? h : H_ORIG;
      CHECK(xa_heap_get_default() == want);
      break;
    }
    case 2: case 3: {  /* delete: live blocks go to the default (the original if h is it) */
      if (g_heaps[h] == NULL) break;
      uint8_t to = g_default == h ? H_ORIG : g_default;
      xa_heap_delete(g_heaps[h]);
      g_heaps[h] = NULL;
      if (g_default == h) g_default = H_ORIG;
      CHECK(xa_heap_get_default() == heap_ptr(g_default));
      for (size_t i = 0; i < MAX_BLOCKS; i++) {
        block_t* b = &g_blocks[i];
        if (b->p == NULL) continue;
        if (b->holder == h) b->holder = to;
        if (b->alloc == h) b->alloc = H_NONE;
      }
      break;
    }
    case 4: case 5: {  /* destroy: frees exactly what h allocated */
      if (g_heaps[h] == NULL) break;
      for (size_t i = 0; i < MAX_BLOCKS; i++) {
        block_t* b = &g_blocks[i];
        if (b->p != NULL && b->alloc == h) check_block(b, false, "before destroy");
      }
      xa_heap_destroy(g_heaps[h]);
      g_heaps[h] = NULL;
      if (g_default == h) g_default = H_ORIG;
      CHECK(xa_heap_get_default() == heap_ptr(g_default));
      for (size_t i = 0; i < MAX_BLOCKS; i++) {
        block_t* b = &g_blocks[i];
        if (b->p == NULL) continue;
        if (b->alloc == h) {
          forget(b);
        } else if (b->holder == h) {
          b->holder = H_ORIG;
        }
      }
      break;
    }
    case 6: xa_heap_collect(g_heaps[h] != NULL ? g_heaps[h] : g_orig, (k & 0x80) != 0); break;
    default: xa_collect((k & 0x80) != 0); break;
  }
}

/* xa_heap_visit_blocks after a forced collect: exactly the model's blocks
 * held by the heap, each inside the block visited for it. */
typedef struct {
  uint8_t heap;
  size_t seen;
  uint8_t stop_after;  /* 0: never stop */
} visit_t;

static bool visitor(const xa_heap_t* heap, void* block, size_t block_size, void* arg) {
  visit_t* v = arg;
  (void)heap;
  const uint8_t* lo = block;
  size_t found = 0;
  for (size_t i = 0; i < MAX_BLOCKS; i++) {
    const block_t* b = &g_blocks[i];
    if (b->p == NULL || b->holder != v->heap) continue;
    /* (A tracked block of 0 bytes, debug builds, is visited with size 0.) */
    if (b->p >= lo && (b->p < lo + block_size || (block_size == 0 && b->p == lo))) {
      CHECK_MSG(b->p + b->size <= lo + block_size, "visit: block %p (%zu) sticks out of [%p, +%zu)", (void*)b->p,
                b->size, block, block_size);
      found++;
    }
  }
  CHECK_MSG(found == 1, "visit: heap %u block [%p, +%zu) holds %zu model blocks", v->heap, block, block_size,
            found);
  v->seen++;
  return v->stop_after == 0 || v->seen < v->stop_after;
}

static void op_visit(input_t* in) {
  uint8_t h = in_u8(in) % MAX_HEAPS;
  uint8_t stop = in_u8(in) % 4;
  if (g_heaps[h] == NULL) return;
  xa_heap_collect(g_heaps[h], true);
  size_t expected = 0;
  for (size_t i = 0; i < MAX_BLOCKS; i++) expected += g_blocks[i].p != NULL && g_blocks[i].holder == h;
  visit_t v = {h, 0, stop};
  bool done = xa_heap_visit_blocks(g_heaps[h], visitor, &v);
  if (stop != 0 && expected >= stop) {
    CHECK_MSG(!done && v.seen == stop, "visit: stop after %u, saw %zu, returned %d", stop, v.seen, done);
  } else {
    CHECK_MSG(done && v.seen == expected, "visit: heap %u: %zu visited, %zu expected", h, v.seen, expected);
  }
}

/* ---- helper threads ------------------------------------------------------ */

typedef struct {
  int mode;                   /* MODE_* */
  size_t n;
  void* p[BATCH_MAX];         /* blocks in (free, realloc) or out (alloc) */
  size_t size[BATCH_MAX];     /* free: size to check; realloc/alloc: the new size */
  size_t old_size[BATCH_MAX];
  uint32_t id[BATCH_MAX];
  xa_heap_t* not_mine;        /* a heap of the fuzzer's thread */
  bool done;                  /* the helper calls xa_thread_done before it ends */
} batch_t;

enum { MODE_FREE, MODE_REALLOC, MODE_ALLOC };

static void* helper(void* arg) {
  batch_t* t = arg;
  if (t->not_mine != NULL) {
    errno = 0;
    CHECK(xa_heap_malloc(t->not_mine, 16) == NULL && errno == EINVAL);
  }
  void* own = xa_malloc(24);  /* the helper's own memory too */
  CHECK(own != NULL);
  for (size_t i = 0; i < t->n; i++) {
    uint8_t* p = t->p[i];
    switch (t->mode) {
      case MODE_FREE:
        expect(p, 0, t->size[i], t->id[i], "cross-thread free");
        xa_free(p);
        break;
      case MODE_REALLOC: {
        size_t keep = t->old_size[i] < t->size[i] ? t->old_size[i] : t->size[i];
        p = xa_realloc(p, t->size[i]);
        CHECK(p != NULL);
        expect(p, 0, keep, t->id[i], "cross-thread realloc");
        t->p[i] = p;
        break;
      }
      default:
        p = xa_malloc(t->size[i]);
        CHECK(p != NULL);
        t->p[i] = p;
        break;
    }
  }
  xa_free(own);
  xa__validate();
  if (t->done) xa_thread_done();
  return NULL;
}

static void run_helper(batch_t* t) {
  pthread_t th;
  CHECK(pthread_create(&th, NULL, helper, t) == 0);
  CHECK(pthread_join(th, NULL) == 0);
}

/* Hand a batch of live blocks to a new thread that frees them, or reallocs
 * them and hands them back; or let a new thread allocate a batch that the
 * fuzzer's thread then owns in the model (its segments are abandoned when
 * the helper ends). */
static void op_thread(input_t* in) {
  uint8_t k = in_u8(in);
  size_t n = 1 + in_u8(in) % BATCH_MAX;
  static batch_t t;
  memset(&t, 0, sizeof t);
  t.mode = k % 3;
  t.done = (k & 0x10) != 0;
  uint8_t h = (k >> 5) % MAX_HEAPS;
  t.not_mine = g_heaps[h];
  block_t* slot[BATCH_MAX];
  size_t start = in_u8(in);
  for (size_t j = 0; j < MAX_BLOCKS && t.n < n; j++) {
    block_t* b = &g_blocks[(start + j) % MAX_BLOCKS];
    if ((b->p == NULL) != (t.mode == MODE_ALLOC)) continue;
    if (t.mode == MODE_ALLOC) {
      t.size[t.n] = in_size(in);
      g_live += t.size[t.n];  /* reserve against the cap */
    } else {
      check_block(b, false, "before handing over");
      t.p[t.n] = b->p;
      t.id[t.n] = b->id;
      t.old_size[t.n] = b->size;
      t.size[t.n] = b->size;
      if (t.mode == MODE_REALLOC) {
        size_t s = in_size(in);
        if (g_live + s > LIVE_CAP) s %= 4096;
        g_live += s;  /* both count until the helper is done */
        t.size[t.n] = s;
      }
    }
    slot[t.n++] = b;
  }
  if (t.n == 0) return;
  run_helper(&t);
  for (size_t i = 0; i < t.n; i++) {
    block_t* b = slot[i];
    switch (t.mode) {
      case MODE_FREE:
        forget(b);
        break;
      case MODE_REALLOC:
        g_live -= b->size;
        if (t.p[i] != b->p) {
          b->holder = H_FOREIGN;
          b->alloc = H_FOREIGN;
          b->align = plain_align(t.size[i]);
        }
        b->p = t.p[i];
        b->size = t.size[i];
        b->usable = xa_usable_size(b->p);
        CHECK(b->usable >= b->size);
        fill(b->p, 0, b->usable, b->id);
        break;
      default:
        g_live -= t.size[i];
        adopt(slot_index(b), t.p[i], t.size[i], plain_align(t.size[i]), H_FOREIGN, "helper malloc");
        break;
    }
  }
}

/* xa_thread_done on the fuzzer's thread: every user heap is deleted, the
 * thread's memory is handed over, and it starts again with a fresh heap. */
static void op_thread_done(void) {
  xa_thread_done();
  for (size_t i = 0; i < MAX_HEAPS; i++) g_heaps[i] = NULL;
  for (size_t i = 0; i < MAX_BLOCKS; i++) {
    g_blocks[i].holder = H_FOREIGN;
    g_blocks[i].alloc = H_NONE;
  }
  g_orig = xa_heap_get_default();
  g_default = H_ORIG;
}

/* Every live block: edges, alignment, usable size, holder; and the checker. */
static void sweep(void) {
  size_t live = 0;
  for (size_t i = 0; i < MAX_BLOCKS; i++) {
    if (g_blocks[i].p == NULL) continue;
    check_block(&g_blocks[i], false, "sweep");
    live += g_blocks[i].size;
  }
  CHECK(live == g_live);
  xa__validate();
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  input_t in = {data, size};
  memset(g_blocks, 0, sizeof g_blocks);
  g_live = 0;
  g_next_id = 0;
  g_default = H_ORIG;
  g_orig = xa_heap_get_default();
  CHECK(g_orig != NULL);
  for (size_t step = 0; in.n > 0 && step < MAX_OPS; step++) {
    uint8_t op = in_u8(&in);
    switch (op % 20) {
      case 0: case 1: op_malloc(&in, false); break;
      case 2: op_malloc(&in, true); break;
      case 3: op_calloc(&in, (op & 0x80) != 0); break;
      case 4: op_aligned(&in, (op & 0x80) != 0); break;
      case 5: case 6: case 7: op_free(&in); break;
      case 8: op_realloc(&in, 0); break;
      case 9: op_realloc(&in, 1); break;
      case 10: op_realloc(&in, 2); break;
      case 11: op_realloc(&in, (uint8_t)(4 | (op >> 6))); break;  /* from NULL */
      case 12: op_strdup(&in); break;
      case 13: op_refuse(&in); break;
      case 14: case 15: op_heap(&in); break;
      case 16: op_visit(&in); break;
      case 17: op_thread(&in); break;
      case 18: if (op >= 0xC0) op_thread_done(); else sweep(); break;
      default: {  /* usable size of a live block; its whole content */
        block_t* b = live_slot(&in);
        if (b != NULL) check_block(b, true, "check");
        break;
      }
    }
    if (step % CHECK_EVERY == CHECK_EVERY - 1) sweep();
  }
  sweep();
  /* Leave nothing behind: the next input starts from an empty model. */
  uint8_t how = in_u8(&in);
  for (size_t i = 0; i < MAX_BLOCKS; i++) {
    if (g_blocks[i].p != NULL) release(&g_blocks[i]);
  }
  for (uint8_t h = 0; h < MAX_HEAPS; h++) {
    if (g_heaps[h] == NULL) continue;
    if ((how >> h) & 1) {
      xa_heap_destroy(g_heaps[h]);
    } else {
      xa_heap_delete(g_heaps[h]);
    }
    g_heaps[h] = NULL;
  }
  CHECK(xa_heap_get_default() == g_orig);
  CHECK(g_live == 0);
  xa__validate();
  return 0;
}
