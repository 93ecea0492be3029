/* The libc malloc family is xalloc's, seen from inside the program, with
 * glibc's semantics where glibc and the xa_ API differ (src/override.c).
 *
 * Built twice by test/override.cmake:
 *   ov_static_is_xalloc  linked with libxalloc.a (the overrides are in the archive)
 *   ov_shared_is_xalloc  linked with libxalloc.so (ov_shared_is_xalloc.c defines
 *                        OV_SHARED and includes this file)
 * The program also checks where the dynamic linker resolves `malloc`: in the
 * executable itself (static) or in libxalloc.so (shared), never in libc. */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"
#include "xa_test.h"

#ifdef OV_SHARED
#define OV_KIND "shared"
#else
#define OV_KIND "static"
#endif

/* Opaque to the optimiser: no constant-folded sizes, no warnings about them. */
static volatile size_t v_huge = (size_t)PTRDIFF_MAX + 1; /* above PTRDIFF_MAX */
static volatile size_t v_big = (size_t)1 << 60;          /* valid, but no machine has it */
static volatile size_t v_max = SIZE_MAX;
static volatile size_t v_zero = 0; /* clang rejects a literal alignment of 0 at compile time */

static size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

static int is_aligned(const void* p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

/* p is a live xalloc block: in xalloc's memory, and a live block of the
 * calling thread's default heap (exact on the owner thread). */
static void check_ours(const void* p, const char* what) {
  CHECK_MSG(p != NULL, "%s returned NULL", what);
  CHECK_MSG(xa_is_in_heap_region(p), "%s: %p is not xalloc memory", what, p);
  CHECK_MSG(xa_heap_contains(xa_heap_get_default(), p), "%s: %p is not a live block of the default heap", what, p);
  CHECK_MSG(malloc_usable_size((void*)p) == xa_usable_size(p), "%s: malloc_usable_size %zu != xa_usable_size %zu", what,
            malloc_usable_size((void*)p), xa_usable_size(p));
}

/* Where the dynamic linker resolves `name` for this program. */
static void check_resolution(const char* name) {
  void* sym = dlsym(RTLD_DEFAULT, name);
  CHECK_MSG(sym != NULL, "dlsym(%s) failed: %s", name, dlerror());
  Dl_info sym_info, ref_info;
  CHECK(dladdr(sym, &sym_info) != 0);
#ifdef OV_SHARED
  /* The object that defines xa_malloc is libxalloc.so. */
  CHECK(dladdr((void*)&xa_malloc, &ref_info) != 0);
#else
  /* Statically linked: the executable itself (the object holding main's code). */
  CHECK(dladdr((void*)&check_resolution, &ref_info) != 0);
#endif
  CHECK_MSG(sym_info.dli_fbase == ref_info.dli_fbase, "%s resolves into %s, expected %s", name,
            sym_info.dli_fname ? sym_info.dli_fname : "?", ref_info.dli_fname ? ref_info.dli_fname : "?");
}

static void test_plain(void) {
  for (size_t size = 0; size < (size_t)3 << 20; size = size * 3 + 1) {
    void* p = malloc(size);
    check_ours(p, "malloc");
    CHECK(xa_usable_size(p) >= size);
    memset(p, 0xab, size);
    free(p);
  }
  void* z = malloc(0); /* glibc: a unique, freeable pointer */
  check_ours(z, "malloc(0)");
  free(z);
  free(NULL);

  unsigned char* c = calloc(1000, 17);
  check_ours(c, "calloc");
  for (size_t i = 0; i < 17000; i++) CHECK(c[i] == 0);
  free(c);

  errno = 0;
  CHECK(calloc(v_huge, 3) == NULL); /* count*size overflows */
  CHECK(errno == ENOMEM);
  errno = 0;
  CHECK(malloc(v_max) == NULL);
  CHECK(errno == ENOMEM);
}

static void test_realloc(void) {
  char* p = realloc(NULL, 100); /* realloc(NULL, n) is malloc(n) */
  check_ours(p, "realloc(NULL)");
  for (int i = 0; i < 100; i++) p[i] = (char)i;
  p = realloc(p, 100000);
  check_ours(p, "realloc grow");
  for (int i = 0; i < 100; i++) CHECK(p[i] == (char)i);
  p = realloc(p, 10);
  check_ours(p, "realloc shrink");
  for (int i = 0; i < 10; i++) CHECK(p[i] == (char)i);

  /* glibc: realloc(p, 0) frees p and returns NULL. */
  CHECK(xa_heap_contains(xa_heap_get_default(), p));
  CHECK(realloc(p, 0) == NULL);
  CHECK_MSG(!xa_heap_contains(xa_heap_get_default(), p), "realloc(p, 0) did not free p");

  /* A failed realloc leaves the block alone. */
  char* q = malloc(64);
  memset(q, 7, 64);
  errno = 0;
  CHECK(realloc(q, v_max) == NULL);
  CHECK(errno == ENOMEM);
  CHECK(xa_heap_contains(xa_heap_get_default(), q) && q[63] == 7);

  /* reallocarray: like realloc(p, n*size), overflow -> NULL, ENOMEM, p untouched. */
  char* r = reallocarray(q, 100, 50);
  check_ours(r, "reallocarray");
  CHECK(r[63] == 7);
  errno = 0;
  CHECK(reallocarray(r, v_huge, 3) == NULL);
  CHECK(errno == ENOMEM);
  CHECK(xa_heap_contains(xa_heap_get_default(), r) && r[63] == 7);
  char* n = reallocarray(NULL, 10, 10);
  check_ours(n, "reallocarray(NULL)");
  free(n);
  free(r);
}

static void test_posix_memalign(void) {
  for (size_t a = sizeof(void*); a <= ((size_t)1 << 21); a <<= 1) {
    void* p = NULL;
    CHECK(posix_memalign(&p, a, 100) == 0);
    check_ours(p, "posix_memalign");
    CHECK_MSG(is_aligned(p, a), "posix_memalign(%zu) gave %p", a, p);
    free(p);
  }
  /* Sizes up to 16 KiB take a fast path when a size class meets the
   * alignment: every block aligned, big enough, distinct while live, errno
   * untouched. */
  size_t sizes[] = {0,    1,    15,   16,   17,   31,   33,   64,    100,   127,   128,   129,   200,  500,
                    1000, 1023, 1024, 1025, 3000, 4095, 4096, 4104, 8192, 12000, 16383, 16384, 16385, 40000};
  for (size_t a = sizeof(void*); a <= 8192; a <<= 1) {
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
      void* ps[8];
      for (int k = 0; k < 8; k++) {
        errno = 4242;
        ps[k] = NULL;
        CHECK(posix_memalign(&ps[k], a, sizes[i]) == 0);
        CHECK(errno == 4242);
        CHECK_MSG(is_aligned(ps[k], a), "posix_memalign(%zu, %zu) gave %p", a, sizes[i], ps[k]);
        CHECK(malloc_usable_size(ps[k]) >= sizes[i]);
        memset(ps[k], k, sizes[i]);
        for (int j = 0; j < k; j++) CHECK(ps[j] != ps[k]);
      }
      for (int k = 0; k < 8; k++) free(ps[k]);
    }
  }
  /* Invalid alignments: EINVAL returned, *out and errno untouched. */
  size_t bad[] = {0, 3, sizeof(void*) / 2, 1, 24, 40, sizeof(void*) * 3};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    void* p = (void*)&bad;
    errno = 4242;
    CHECK_MSG(posix_memalign(&p, bad[i], 64) == EINVAL, "alignment %zu", bad[i]);
    CHECK(p == (void*)&bad);
    CHECK(errno == 4242);
  }
  /* Too big: ENOMEM returned and, as glibc does, in errno too (programs
   * read it); *out untouched. */
  void* p = (void*)&bad;
  errno = 4242;
  CHECK(posix_memalign(&p, 64, v_huge) == ENOMEM);
  CHECK(p == (void*)&bad);
  CHECK_MSG(errno == ENOMEM, "errno %d after a failed posix_memalign", errno);
  errno = 4242;
  CHECK(posix_memalign(&p, 4096, v_max) == ENOMEM);
  CHECK(errno == ENOMEM);
  errno = 4242;
  CHECK(posix_memalign(&p, 64, v_big) == ENOMEM);
  CHECK(p == (void*)&bad);
  CHECK(errno == ENOMEM);
  errno = 4242;
  CHECK(posix_memalign(&p, (size_t)1 << 40, 64) == ENOMEM);  /* alignment beyond what xalloc serves */
  CHECK(errno == ENOMEM);
  /* size 0 succeeds with a freeable pointer. */
  CHECK(posix_memalign(&p, 64, 0) == 0);
  check_ours(p, "posix_memalign size 0");
  free(p);
}

/* The value of x, hidden from the optimizer. aligned_alloc and memalign are
 * declared with alloc_align: clang 14 at -O2 crashes (in GVN) when an
 * unrolled loop hands them a constant alignment that is not a power of two. */
static size_t opaque(size_t x) {
  volatile size_t v = x;
  return v;
}

static void test_aligned_alloc(void) {
  for (size_t a = 1; a <= ((size_t)1 << 20); a <<= 1) {
    void* p = aligned_alloc(a, 3 * a); /* size a multiple of the alignment */
    check_ours(p, "aligned_alloc");
    CHECK(is_aligned(p, a));
    free(p);
  }
  void* q = aligned_alloc(64, 100); /* glibc accepts a size that is not a multiple */
  check_ours(q, "aligned_alloc(64, 100)");
  CHECK(is_aligned(q, 64));
  free(q);
  size_t bad[] = {0, 3, 24, 48, 1000};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    errno = 0;
    CHECK_MSG(aligned_alloc(opaque(bad[i]), 64) == NULL, "aligned_alloc alignment %zu", bad[i]);
    CHECK(errno == EINVAL);
  }
  errno = 0;
  CHECK(aligned_alloc(64, v_huge) == NULL);
  CHECK(errno == ENOMEM);
}

static void test_memalign(void) {
  for (size_t a = 1; a <= ((size_t)1 << 20); a <<= 1) {
    void* p = memalign(a, 100);
    check_ours(p, "memalign");
    CHECK(is_aligned(p, a));
    free(p);
  }
  /* glibc rounds a non-power-of-two alignment up to the next power of two. */
  struct { size_t align, expect; } rounds[] = {{3, 4}, {24, 32}, {48, 64}, {1000, 1024}, {4097, 8192}};
  for (size_t i = 0; i < sizeof rounds / sizeof rounds[0]; i++) {
    void* p = memalign(opaque(rounds[i].align), 50);
    check_ours(p, "memalign (rounded)");
    CHECK_MSG(is_aligned(p, rounds[i].expect), "memalign(%zu) gave %p", rounds[i].align, p);
    free(p);
  }
  void* z = memalign(v_zero, 10); /* alignment 0 behaves like 1 */
  check_ours(z, "memalign(0)");
  free(z);
  errno = 0;
  CHECK(memalign(v_max, 10) == NULL); /* absurd alignment */
  CHECK(errno == EINVAL);
}

static void test_valloc_pvalloc(void) {
  size_t ps = page_size();
  void* v = valloc(100);
  check_ours(v, "valloc");
  CHECK(is_aligned(v, ps));
  free(v);

  void* p0 = pvalloc(0); /* glibc: one page */
  check_ours(p0, "pvalloc(0)");
  CHECK(is_aligned(p0, ps));
  CHECK(xa_usable_size(p0) >= ps);
  memset(p0, 1, ps);
  free(p0);
  void* p1 = pvalloc(ps + 1); /* rounded up to whole pages */
  check_ours(p1, "pvalloc(ps+1)");
  CHECK(is_aligned(p1, ps));
  CHECK(xa_usable_size(p1) >= 2 * ps);
  memset(p1, 1, 2 * ps);
  free(p1);
  errno = 0;
  CHECK(pvalloc(v_max) == NULL); /* rounding overflows */
  CHECK(errno == ENOMEM);
}

/* Allocations made inside libc itself (through its PLT) come from xalloc too,
 * and their pointers go back through our free. */
static void test_libc_internal(void) {
  const char* s = "the quick brown fox";
  char* d = strdup(s);
  check_ours(d, "strdup");
  CHECK(strcmp(d, s) == 0);
  free(d);
  char* nd = strndup(s, 9);
  check_ours(nd, "strndup");
  CHECK(strcmp(nd, "the quick") == 0);
  free(nd);
  char* rp = realpath("/", NULL);
  check_ours(rp, "realpath(NULL)");
  CHECK(strcmp(rp, "/") == 0);
  free(rp);
  char* as = NULL;
  CHECK(asprintf(&as, "%d-%s", 42, s) > 0);
  check_ours(as, "asprintf");
  free(as);
  FILE* f = open_memstream(&as, &(size_t){0});
  CHECK(f != NULL);
  for (int i = 0; i < 1000; i++) fprintf(f, "%d ", i);
  CHECK(fclose(f) == 0);
  check_ours(as, "open_memstream");
  free(as);
}

static void test_misc(void) {
  /* malloc_trim returns 1 (xalloc always tries to release memory); memory
   * stays usable afterwards. malloc_stats prints xalloc's table on stderr. */
  void* keep = malloc(1000);
  void* big = malloc((size_t)8 << 20);
  free(big);
  CHECK(malloc_trim(0) == 1);
  check_ours(keep, "block across malloc_trim");
  free(keep);
  malloc_stats();
  void* after = malloc(77);
  check_ours(after, "malloc after malloc_stats");
  free(after);
  /* An interior pointer is no block: its usable size is 0, a defined answer. */
  char* blk = malloc(100);
  char* huge = malloc((size_t)4 << 20);
  CHECK(malloc_usable_size(blk) >= 100 && malloc_usable_size(blk + 16) == 0);
  CHECK(malloc_usable_size(huge) >= ((size_t)4 << 20) && malloc_usable_size(huge + 4096) == 0);
  free(huge);
  free(blk);
}

int main(void) {
  const char* names[] = {"malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc",
                         "memalign", "valloc", "pvalloc", "malloc_usable_size"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) check_resolution(names[i]);
  test_plain();
  test_realloc();
  test_posix_memalign();
  test_aligned_alloc();
  test_memalign();
  test_valloc_pvalloc();
  test_libc_internal();
  test_misc();
  printf("ov_%s_is_xalloc: OK\n", OV_KIND);
  return 0;
}
