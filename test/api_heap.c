/* The heap API: xa_heap_new / contains / visit_blocks / get_default /
 * set_default / heap_realloc / heap_calloc / destroy / delete, including where
 * xa_heap_delete migrates live blocks (lifecycle-pitfalls.md 3), that destroy
 * frees only the blocks a heap allocated (pitfall 2, the migrated-blocks
 * shape) and that contains never crashes on foreign pointers (pitfall 4).
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include "xa_test_os.h"

#include "xalloc.h"
#include "api_util.h"

static int g_global_var = 42;
static const char g_const[] = "a constant in .rodata";

/* Sizes spanning small, medium, large and huge blocks. */
static const size_t k_sizes[] = {1, 8, 24, 100, 1000, 8000, 9000, 20000, 70000, 200000, (size_t)600 << 10,
                                 (size_t)8 << 20};
#define NSIZES (sizeof k_sizes / sizeof k_sizes[0])

/* p, p+1, p+size/2 and p+size-1 all inside. */
static void check_contains_block(const xa_heap_t* h, const unsigned char* p, size_t size) {
  CHECK_MSG(xa_heap_contains(h, p), "size %zu", size);
  if (size > 1) {
    CHECK_MSG(xa_heap_contains(h, p + 1), "size %zu: p+1", size);
    CHECK_MSG(xa_heap_contains(h, p + size / 2), "size %zu: p+size/2", size);
    CHECK_MSG(xa_heap_contains(h, p + size - 1), "size %zu: p+size-1", size);
  }
}

static void check_not_contains_block(const xa_heap_t* h, const unsigned char* p, size_t size) {
  CHECK_MSG(!xa_heap_contains(h, p), "size %zu", size);
  if (size > 1) {
    CHECK_MSG(!xa_heap_contains(h, p + 1), "size %zu: p+1", size);
    CHECK_MSG(!xa_heap_contains(h, p + size - 1), "size %zu: p+size-1", size);
  }
}

static void check_foreign_not_contained(const xa_heap_t* h) {
  int local = 7;
  CHECK(!xa_heap_contains(h, NULL));
  CHECK(!xa_heap_contains(h, &local));
  CHECK(!xa_heap_contains(h, &g_global_var));
  CHECK(!xa_heap_contains(h, g_const));
  CHECK(!xa_heap_contains(h, "a string literal"));
  CHECK(!xa_heap_contains(h, (void*)1));
  CHECK(!xa_heap_contains(h, (void*)(uintptr_t)-1));
  CHECK(!xa_heap_contains(h, (void*)(uintptr_t)0x1000));
  size_t len = (size_t)8 << 20;
  unsigned char* m = xt_os_map(len, 0);
  CHECK(m != NULL);
  CHECK(!xa_heap_contains(h, m));
  CHECK(!xa_heap_contains(h, m + 4096 + 16));
  CHECK(!xa_heap_contains(h, m + len - 1));
  CHECK(xt_os_unmap(m, len) == 0);
  /* An address that was mapped a moment ago and no longer is. */
  CHECK(!xa_heap_contains(h, m + 100));
  CHECK(local == 7 && g_global_var == 42);
}

static void test_contains(void) {
  xa_heap_t* orig = xa_heap_get_default();
  CHECK(orig != NULL);
  xa_heap_t* h = xa_heap_new();
  xa_heap_t* h2 = xa_heap_new();
  CHECK(h != NULL && h2 != NULL && h != h2 && h != orig && h2 != orig);

  check_foreign_not_contained(h);
  check_foreign_not_contained(h2);
  check_foreign_not_contained(orig);

  unsigned char* ps[NSIZES];
  unsigned char* qs[NSIZES];
  for (size_t i = 0; i < NSIZES; i++) {
    ps[i] = xa_heap_malloc(h, k_sizes[i]);
    qs[i] = xa_heap_malloc(h2, k_sizes[i]);
    CHECK(ps[i] != NULL && qs[i] != NULL);
    memset(ps[i], 0x11, k_sizes[i]);
    memset(qs[i], 0x22, k_sizes[i]);
  }
  for (size_t i = 0; i < NSIZES; i++) {
    check_contains_block(h, ps[i], k_sizes[i]);
    check_contains_block(h2, qs[i], k_sizes[i]);
    check_not_contains_block(h2, ps[i], k_sizes[i]);
    check_not_contains_block(h, qs[i], k_sizes[i]);
    check_not_contains_block(orig, ps[i], k_sizes[i]);
    check_not_contains_block(orig, qs[i], k_sizes[i]);
  }
  /* Aligned blocks: the aligned pointer and its interior. */
  unsigned char* al = xa_heap_malloc_aligned(h, 5000, 4096);
  CHECK(al != NULL);
  check_contains_block(h, al, 5000);
  check_not_contains_block(h2, al, 5000);
  xa_free(al);

  check_foreign_not_contained(h);

  /* A freed block is no longer contained once the heap has collected. For
   * the huge block the segment may have been released entirely: asking must
   * still not crash. */
  for (size_t i = 0; i < NSIZES; i++) xa_free(ps[i]);
  xa_heap_collect(h, true);
  for (size_t i = 0; i < NSIZES; i++) check_not_contains_block(h, ps[i], k_sizes[i]);

  /* A freed block among live neighbours (its page stays in use): the
   * header and the contract both say "live block". */
  enum { M = 16 };
  unsigned char* row[M];
  for (int i = 0; i < M; i++) {
    row[i] = xa_heap_malloc(h, 48);
    CHECK(row[i] != NULL);
  }
  xa_free(row[5]);
  xa_free(row[9]);
  xa_heap_collect(h, true);
  CHECK_MSG(!xa_heap_contains(h, row[5]), "freed block next to live ones still 'contained'");
  CHECK_MSG(!xa_heap_contains(h, row[9] + 10), "freed block next to live ones still 'contained'");
  for (int i = 0; i < M; i++)
    if (i != 5 && i != 9) CHECK(xa_heap_contains(h, row[i]));
  for (int i = 0; i < M; i++)
    if (i != 5 && i != 9) xa_free(row[i]);

  for (size_t i = 0; i < NSIZES; i++) CHECK(xt_all_bytes(qs[i], k_sizes[i], 0x22));
  for (size_t i = 0; i < NSIZES; i++) xa_free(qs[i]);
  xa_heap_delete(h);
  xa_heap_delete(h2);
}

/* ---------------------------------------------------------------------------
 * visit_blocks
 * ------------------------------------------------------------------------- */
typedef struct {
  const xa_heap_t* heap;
  size_t calls;
  size_t stop_after; /* return false on this call (1-based); 0 = never */
  size_t n;
  void* blocks[1024];
  size_t sizes[1024];
  bool bad_heap;
} visit_state;

static bool visitor(const xa_heap_t* heap, void* block, size_t block_size, void* arg) {
  visit_state* st = arg;
  st->calls++;
  if (heap != st->heap) st->bad_heap = true;
  if (st->n < 1024) {
    st->blocks[st->n] = block;
    st->sizes[st->n] = block_size;
    st->n++;
  }
  return !(st->stop_after != 0 && st->calls == st->stop_after);
}

static void visit(const xa_heap_t* h, visit_state* st, size_t stop_after, bool expect_result) {
  memset(st, 0, sizeof *st);
  st->heap = h;
  st->stop_after = stop_after;
  bool r = xa_heap_visit_blocks(h, visitor, st);
  CHECK_MSG(r == expect_result, "visit returned %d after %zu calls", (int)r, st->calls);
  CHECK(!st->bad_heap);
}

static int cmp_ptr(const void* a, const void* b) {
  uintptr_t x = (uintptr_t)*(void* const*)a, y = (uintptr_t)*(void* const*)b;
  return x < y ? -1 : x > y;
}

typedef struct {
  unsigned char* p;
  size_t size;
  bool live;
} tracked;

/* The visited set equals the set of live blocks in `ts`. */
static void check_visit_matches(const xa_heap_t* h, tracked* ts, size_t nt) {
  static visit_state st;
  visit(h, &st, 0, true);
  size_t live = 0;
  for (size_t i = 0; i < nt; i++) live += ts[i].live;
  CHECK_MSG(st.calls == live, "visited %zu blocks, %zu live", st.calls, live);
  CHECK(st.n == st.calls);
  /* Every live block visited exactly once, with block_size >= requested and
   * equal to its usable size. */
  for (size_t i = 0; i < nt; i++) {
    if (!ts[i].live) continue;
    size_t found = 0, at = 0;
    for (size_t k = 0; k < st.n; k++)
      if (st.blocks[k] == ts[i].p) {
        found++;
        at = k;
      }
    CHECK_MSG(found == 1, "live block %p (size %zu) visited %zu times", (void*)ts[i].p, ts[i].size, found);
    CHECK_MSG(st.sizes[at] >= ts[i].size, "block %p: block_size %zu < requested %zu", (void*)ts[i].p, st.sizes[at],
              ts[i].size);
    CHECK(st.sizes[at] == xa_usable_size(ts[i].p));
  }
  /* No duplicates (so, with the count, nothing else was visited). */
  qsort(st.blocks, st.n, sizeof(void*), cmp_ptr);
  for (size_t k = 1; k < st.n; k++) CHECK(st.blocks[k] != st.blocks[k - 1]);
}

typedef struct {
  tracked* ts;
  size_t nt;
} cross_free_arg;

static void* cross_free_thread(void* a) {
  cross_free_arg* c = a;
  for (size_t i = 0; i < c->nt; i++) {
    if (c->ts[i].live && i % 4 == 1) {
      xa_free(c->ts[i].p);
      c->ts[i].live = false;
    }
  }
  return NULL;
}

static void test_visit(void) {
  xa_heap_t* h = xa_heap_new();
  xa_heap_t* other = xa_heap_new();
  CHECK(h != NULL && other != NULL);
  static visit_state st;

  /* Empty heap: complete walk, nothing visited. */
  visit(h, &st, 0, true);
  CHECK(st.calls == 0);

  enum { NT = 400 };
  static tracked ts[NT];
  void* noise[NT];
  for (size_t i = 0; i < NT; i++) {
    size_t s = k_sizes[i % NSIZES] + i % 13;
    if (s > ((size_t)1 << 20) && i > NSIZES * 2) s = 100 + i; /* only a few huge blocks */
    ts[i].p = xa_heap_malloc(h, s);
    ts[i].size = s;
    ts[i].live = true;
    CHECK(ts[i].p != NULL);
    memset(ts[i].p, 0x5C, s < 64 ? s : 64);
    noise[i] = xa_heap_malloc(other, 32 + i % 100); /* must not show up */
    CHECK(noise[i] != NULL);
  }
  check_visit_matches(h, ts, NT);

  /* Free every third block locally. */
  for (size_t i = 0; i < NT; i += 3) {
    xa_free(ts[i].p);
    ts[i].live = false;
  }
  xa_heap_collect(h, true);
  check_visit_matches(h, ts, NT);

  /* Another thread frees some: after a forced collect they are gone. */
  cross_free_arg ca = {ts, NT};
  pthread_t t;
  CHECK(pthread_create(&t, NULL, cross_free_thread, &ca) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  xa_heap_collect(h, true);
  check_visit_matches(h, ts, NT);

  /* Early stop: the visitor's false ends the walk at once. */
  visit(h, &st, 1, false);
  CHECK(st.calls == 1);
  visit(h, &st, 3, false);
  CHECK(st.calls == 3);
  visit(h, &st, 50, false);
  CHECK(st.calls == 50);

  /* Everything freed: an empty walk again. */
  for (size_t i = 0; i < NT; i++)
    if (ts[i].live) {
      xa_free(ts[i].p);
      ts[i].live = false;
    }
  xa_heap_collect(h, true);
  visit(h, &st, 0, true);
  CHECK(st.calls == 0);
  /* Stopping "after the 1st call" on an empty heap: still a complete walk. */
  visit(h, &st, 1, true);
  CHECK(st.calls == 0);

  /* The other heap saw only its own blocks. */
  visit(other, &st, 0, true);
  CHECK(st.calls == NT);
  for (size_t i = 0; i < NT; i++) xa_free(noise[i]);
  xa_heap_delete(h);
  xa_heap_delete(other);
}

/* ---------------------------------------------------------------------------
 * default heap, heap_realloc, heap_calloc
 * ------------------------------------------------------------------------- */
static void test_default(void) {
  xa_heap_t* orig = xa_heap_get_default();
  CHECK(orig != NULL);
  CHECK(xa_heap_get_default() == orig);
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  /* Creating a heap does not make it the default. */
  CHECK(xa_heap_get_default() == orig);

  CHECK(xa_heap_set_default(h) == orig);
  CHECK(xa_heap_get_default() == h);
  void* a = xa_malloc(100);
  void* b = xa_calloc(10, 10);
  void* c = xa_malloc_aligned(200, 256);
  char* d = xa_strdup("default heap");
  void* e = xa_malloc((size_t)2 << 20);
  void* f = xa_heap_malloc(NULL, 40); /* NULL heap = default */
  void* g = xa_realloc(NULL, 3000);
  void* all[] = {a, b, c, d, e, f, g};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    CHECK(all[i] != NULL);
    CHECK_MSG(xa_heap_contains(h, all[i]), "allocation %zu not from the new default heap", i);
    CHECK(!xa_heap_contains(orig, all[i]));
  }
  /* NULL leaves the default unchanged and returns it. */
  CHECK(xa_heap_set_default(NULL) == h);
  CHECK(xa_heap_get_default() == h);
  /* Back to the original. */
  CHECK(xa_heap_set_default(orig) == h);
  CHECK(xa_heap_get_default() == orig);
  void* o = xa_malloc(100);
  CHECK(o != NULL);
  CHECK(xa_heap_contains(orig, o));
  CHECK(!xa_heap_contains(h, o));
  xa_free(o);
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) xa_free(all[i]);
  xa_heap_delete(h);
  CHECK(xa_heap_get_default() == orig);
}

static void test_heap_realloc(void) {
  xa_heap_t* orig = xa_heap_get_default();
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  static const size_t from[] = {100, 100, 3000, 20000, 200000};
  static const size_t to[] = {30000, (size_t)1 << 20, 150000, (size_t)2 << 20, 16};
  int moved = 0;
  for (size_t i = 0; i < sizeof from / sizeof from[0]; i++) {
    unsigned char* p = xa_malloc(from[i]);
    CHECK(p != NULL && xa_heap_contains(orig, p));
    xt_fill_pos(p, 0, from[i], (unsigned)i);
    unsigned char* q = xa_heap_realloc(h, p, to[i]);
    CHECK(q != NULL);
    size_t keep = from[i] < to[i] ? from[i] : to[i];
    CHECK(xt_check_pos(q, keep, (unsigned)i) == keep);
    if (q != p) {
      moved++;
      CHECK_MSG(xa_heap_contains(h, q), "heap_realloc %zu -> %zu moved the block, but not into the heap", from[i],
                to[i]);
      CHECK(!xa_heap_contains(orig, q));
    }
    xa_free(q);
  }
  /* A 100-byte block cannot become a 1 MiB block where it is. */
  CHECK(moved >= 1);

  /* A NULL heap means the default heap. */
  unsigned char* p = xa_heap_malloc(h, 50);
  CHECK(p != NULL);
  xt_fill_pos(p, 0, 50, 8);
  unsigned char* q = xa_heap_realloc(NULL, p, (size_t)1 << 20);
  CHECK(q != NULL);
  CHECK(xt_check_pos(q, 50, 8) == 50);
  if (q != p) CHECK(xa_heap_contains(orig, q));
  xa_free(q);
  xa_heap_delete(h);
}

static void test_heap_calloc(void) {
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  for (size_t s = 8; s <= ((size_t)1 << 20); s = s * 3 + 5) {
    void* ps[16];
    for (int r = 0; r < 3; r++) {
      for (int i = 0; i < 16; i++) {
        ps[i] = xa_heap_malloc(h, s);
        CHECK(ps[i] != NULL);
        memset(ps[i], 0xAA, xa_usable_size(ps[i]));
      }
      for (int i = 0; i < 16; i++) xa_free(ps[i]);
      for (int i = 0; i < 16; i++) {
        ps[i] = xa_heap_calloc(h, 1, s);
        CHECK(ps[i] != NULL);
        CHECK(xa_heap_contains(h, ps[i]));
        CHECK_MSG(xt_all_bytes(ps[i], s, 0), "heap_calloc(%zu) not zero", s);
        memset(ps[i], 0xAA, s);
      }
      for (int i = 0; i < 16; i++) xa_free(ps[i]);
    }
  }
  xa_heap_destroy(h);
}

/* ---------------------------------------------------------------------------
 * destroy / delete
 * ------------------------------------------------------------------------- */
typedef struct {
  unsigned char* p;
  size_t size;
} blk;

static void alloc_blocks(xa_heap_t* h, blk* bs, size_t n, uint64_t salt) {
  for (size_t i = 0; i < n; i++) {
    bs[i].size = k_sizes[i % NSIZES] + i;
    if (bs[i].size > ((size_t)1 << 20) && i >= NSIZES) bs[i].size = 500 + i;
    bs[i].p = h != NULL ? xa_heap_malloc(h, bs[i].size) : xa_malloc(bs[i].size);
    CHECK(bs[i].p != NULL);
    xt_fill(bs[i].p, bs[i].size, salt + i);
  }
}

static void check_blocks(const xa_heap_t* in, blk* bs, size_t n, uint64_t salt) {
  for (size_t i = 0; i < n; i++) {
    CHECK_MSG(xt_check(bs[i].p, bs[i].size, salt + i), "block %zu (size %zu) content", i, bs[i].size);
    if (in != NULL) {
      CHECK_MSG(xa_heap_contains(in, bs[i].p), "block %zu (size %zu) not in the expected heap", i, bs[i].size);
      CHECK(xa_heap_contains(in, bs[i].p + bs[i].size - 1));
    }
  }
}

/* Still writable: rewrite with another salt and re-check. */
static void rewrite_blocks(blk* bs, size_t n, uint64_t salt) {
  for (size_t i = 0; i < n; i++) xt_fill(bs[i].p, bs[i].size, salt + i);
  for (size_t i = 0; i < n; i++) CHECK(xt_check(bs[i].p, bs[i].size, salt + i));
}

static void free_blocks(blk* bs, size_t n) {
  for (size_t i = 0; i < n; i++) xa_free(bs[i].p);
}

enum { NB = 300 };

static void test_destroy(void) {
  xa_heap_t* orig = xa_heap_get_default();
  static blk keep[NB], gone[NB];
  alloc_blocks(NULL, keep, NB, 1000);

  for (int round = 0; round < 3; round++) {
    xa_heap_t* h = xa_heap_new();
    CHECK(h != NULL);
    alloc_blocks(h, gone, NB, 2000);
    check_blocks(h, gone, NB, 2000);
    /* A few blocks of h already freed before destroy. */
    for (size_t i = 0; i < NB; i += 10) {
      xa_free(gone[i].p);
    }
    xa_heap_destroy(h);
    CHECK(xa_heap_get_default() == orig);
    /* The blocks of h are gone: not live in the original heap. */
    for (size_t i = 0; i < NB; i++) CHECK(!xa_heap_contains(orig, gone[i].p));
    /* Other heaps' blocks untouched, and allocation keeps working. */
    check_blocks(orig, keep, NB, 1000);
    void* p = xa_malloc(1234);
    CHECK(p != NULL && xa_heap_contains(orig, p));
    xa_free(p);
    xa_heap_t* h2 = xa_heap_new();
    CHECK(h2 != NULL);
    alloc_blocks(h2, gone, NB, 3000);
    check_blocks(h2, gone, NB, 3000);
    free_blocks(gone, NB);
    xa_heap_delete(h2);
  }

  /* Destroying the default heap makes the original the default again. */
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  CHECK(xa_heap_set_default(h) == orig);
  alloc_blocks(NULL, gone, 50, 4000);
  check_blocks(h, gone, 50, 4000);
  xa_heap_destroy(h);
  CHECK(xa_heap_get_default() == orig);
  void* p = xa_malloc(64);
  CHECK(p != NULL && xa_heap_contains(orig, p));
  xa_free(p);

  check_blocks(orig, keep, NB, 1000);
  free_blocks(keep, NB);
}

static void test_delete(void) {
  xa_heap_t* orig = xa_heap_get_default();
  static blk bs[NB], own[NB];

  /* 1. Default is the original heap: live blocks migrate to it. */
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  alloc_blocks(h, bs, NB, 10);
  xa_heap_delete(h);
  CHECK(xa_heap_get_default() == orig);
  check_blocks(orig, bs, NB, 10);
  rewrite_blocks(bs, NB, 20);
  /* They are ordinary blocks of orig now: free half, collect, keep half. */
  for (size_t i = 0; i < NB; i += 2) xa_free(bs[i].p);
  xa_heap_collect(orig, true);
  for (size_t i = 1; i < NB; i += 2) {
    CHECK(xt_check(bs[i].p, bs[i].size, 20 + i));
    CHECK(xa_heap_contains(orig, bs[i].p));
  }
  for (size_t i = 1; i < NB; i += 2) xa_free(bs[i].p);

  /* 2. The default is another user heap d: blocks go to d, not to the
   *    original heap (pitfall 3). Then destroying d must not free them
   *    (d did not allocate them): they move to the original heap. */
  xa_heap_t* d = xa_heap_new();
  h = xa_heap_new();
  CHECK(d != NULL && h != NULL);
  CHECK(xa_heap_set_default(d) == orig);
  alloc_blocks(h, bs, NB, 30);
  alloc_blocks(NULL, own, NB, 40); /* allocated from d */
  check_blocks(d, own, NB, 40);
  xa_heap_delete(h);
  CHECK(xa_heap_get_default() == d);
  check_blocks(d, bs, NB, 30);
  for (size_t i = 0; i < NB; i++) CHECK(!xa_heap_contains(orig, bs[i].p));
  rewrite_blocks(bs, NB, 50);
  xa_heap_destroy(d);
  CHECK(xa_heap_get_default() == orig);
  /* d's own blocks are freed; the migrated ones survive, now in orig. */
  check_blocks(orig, bs, NB, 50);
  for (size_t i = 0; i < NB; i++) CHECK(!xa_heap_contains(orig, own[i].p));
  /* Allocate and write a lot: would overwrite the migrated blocks if destroy
   * had freed them. */
  alloc_blocks(NULL, own, NB, 60);
  check_blocks(orig, bs, NB, 50);
  free_blocks(own, NB);
  free_blocks(bs, NB);

  /* 3. Deleting the heap that is the default: blocks go to the original
   *    heap, which becomes the default again. */
  h = xa_heap_new();
  CHECK(h != NULL);
  CHECK(xa_heap_set_default(h) == orig);
  alloc_blocks(NULL, bs, NB, 70);
  check_blocks(h, bs, NB, 70);
  xa_heap_delete(h);
  CHECK(xa_heap_get_default() == orig);
  check_blocks(orig, bs, NB, 70);
  rewrite_blocks(bs, NB, 80);
  free_blocks(bs, NB);

  /* 4. Deleting a heap that holds nothing (and one whose blocks were all
   *    freed) is fine. */
  h = xa_heap_new();
  CHECK(h != NULL);
  xa_heap_delete(h);
  h = xa_heap_new();
  CHECK(h != NULL);
  alloc_blocks(h, bs, NB, 90);
  free_blocks(bs, NB);
  xa_heap_delete(h);
}

static void test_noop_delete_destroy(void) {
  xa_heap_t* orig = xa_heap_get_default();
  static blk bs[NB];
  alloc_blocks(NULL, bs, NB, 100);

  xa_heap_delete(NULL);
  xa_heap_destroy(NULL);
  CHECK(xa_heap_get_default() == orig);
  check_blocks(orig, bs, NB, 100);

  xa_heap_delete(orig);
  CHECK(xa_heap_get_default() == orig);
  check_blocks(orig, bs, NB, 100);
  xa_heap_destroy(orig);
  CHECK(xa_heap_get_default() == orig);
  check_blocks(orig, bs, NB, 100);

  /* The original heap still works, and allocating over the blocks' memory
   * would show up as content damage. */
  static blk more[NB];
  alloc_blocks(NULL, more, NB, 200);
  check_blocks(orig, more, NB, 200);
  check_blocks(orig, bs, NB, 100);

  /* With another default, deleting/destroying the original is still a no-op
   * and does not change the default. */
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  CHECK(xa_heap_set_default(h) == orig);
  xa_heap_delete(orig);
  CHECK(xa_heap_get_default() == h);
  xa_heap_destroy(orig);
  CHECK(xa_heap_get_default() == h);
  xa_heap_delete(NULL);
  xa_heap_destroy(NULL);
  CHECK(xa_heap_get_default() == h);
  check_blocks(orig, bs, NB, 100);
  void* p = xa_heap_malloc(orig, 77);
  CHECK(p != NULL && xa_heap_contains(orig, p));
  xa_free(p);
  CHECK(xa_heap_set_default(orig) == h);
  xa_heap_delete(h);

  free_blocks(more, NB);
  free_blocks(bs, NB);
}

/* Many heaps alive at once. */
static void test_many_heaps(void) {
  enum { NH = 40, PER = 20 };
  xa_heap_t* hs[NH];
  unsigned char* ps[NH][PER];
  for (int i = 0; i < NH; i++) {
    hs[i] = xa_heap_new();
    CHECK(hs[i] != NULL);
    for (int j = 0; j < i; j++) CHECK(hs[i] != hs[j]);
    for (int k = 0; k < PER; k++) {
      size_t s = 16 + (size_t)(i * PER + k) * 37;
      ps[i][k] = xa_heap_malloc(hs[i], s);
      CHECK(ps[i][k] != NULL);
      memset(ps[i][k], i, s);
    }
  }
  for (int i = 0; i < NH; i++)
    for (int k = 0; k < PER; k++) {
      CHECK(xa_heap_contains(hs[i], ps[i][k]));
      CHECK(!xa_heap_contains(hs[(i + 1) % NH], ps[i][k]));
      CHECK(xt_all_bytes(ps[i][k], 16 + (size_t)(i * PER + k) * 37, (unsigned char)i));
    }
  for (int i = 0; i < NH; i++) {
    if (i % 2) {
      xa_heap_destroy(hs[i]);
    } else {
      xa_heap_delete(hs[i]);
    }
  }
  xa_heap_t* orig = xa_heap_get_default();
  for (int i = 0; i < NH; i += 2)
    for (int k = 0; k < PER; k++) {
      CHECK(xa_heap_contains(orig, ps[i][k]));
      CHECK(xt_all_bytes(ps[i][k], 16 + (size_t)(i * PER + k) * 37, (unsigned char)i));
      xa_free(ps[i][k]);
    }
}

int main(void) {
  test_contains();
  test_visit();
  test_default();
  test_heap_realloc();
  test_heap_calloc();
  test_destroy();
  test_delete();
  test_noop_delete_destroy();
  test_many_heaps();
  xa_collect(true);
  return 0;
}
