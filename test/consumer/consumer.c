/* Consumer of an *installed* xalloc, built outside the xalloc tree by the
 * install_consumer test (see test/install.cmake and run-install-test.sh).
 *
 * usage: consumer shared|static PREFIX [malloc-is-xalloc]
 *
 *   shared  libxalloc.so must be loaded, and from under PREFIX (not from the
 *           build tree or a system-wide install).
 *   static  no libxalloc.so may be loaded (xalloc is linked into the program).
 *   malloc-is-xalloc  additionally require that plain malloc() hands out
 *           xalloc memory (libxalloc.a with XALLOC_STATIC_OVERRIDE=ON).
 *
 * Exits 0 on success, 1 with a message on stderr on the first failure.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dl_iterate_phdr, realpath */
#endif
#include <xalloc.h>

#include <limits.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Set by test/consumer/CMakeLists.txt for the executable that links
 * xalloc::xalloc-static; the imported target must then define XALLOC_STATIC
 * (and xalloc::xalloc must not). Unset for the pkg-config build. */
#if defined(CONSUMER_LINK_STATIC)
#  if !defined(XALLOC_STATIC)
#    error "xalloc::xalloc-static did not propagate the XALLOC_STATIC definition"
#  endif
#elif defined(CONSUMER_LINK_SHARED)
#  if defined(XALLOC_STATIC)
#    error "xalloc::xalloc must not define XALLOC_STATIC"
#  endif
#endif

#if !defined(XALLOC_VERSION)
#  error "xalloc.h does not define XALLOC_VERSION"
#endif

static int failures;

#define EXPECT(cond)                                                          \
  do {                                                                        \
    if (!(cond)) {                                                            \
      fprintf(stderr, "consumer: %s:%d: check failed: %s\n", __FILE__,       \
              __LINE__, #cond);                                               \
      failures++;                                                             \
    }                                                                         \
  } while (0)

/* ---- which libxalloc.so (if any) is loaded ------------------------------ */

struct lib_search {
  char path[PATH_MAX]; /* first loaded object whose name contains libxalloc.so */
  int count;
};

static int find_xalloc_so(struct dl_phdr_info* info, size_t size, void* arg) {
  (void)size;
  struct lib_search* s = arg;
  const char* name = info->dlpi_name;
  if (name != NULL && strstr(name, "libxalloc.so") != NULL) {
    if (s->count == 0) {
      snprintf(s->path, sizeof s->path, "%s", name);
    }
    s->count++;
  }
  return 0;
}

/* True iff `path` resolves to a file inside directory `prefix`. */
static int is_under(const char* path, const char* prefix) {
  char rp[PATH_MAX], rprefix[PATH_MAX];
  if (realpath(path, rp) == NULL || realpath(prefix, rprefix) == NULL) {
    return 0;
  }
  size_t n = strlen(rprefix);
  return strncmp(rp, rprefix, n) == 0 && (rp[n] == '/' || rp[n] == '\0');
}

static void check_linkage(int want_shared, const char* prefix) {
  struct lib_search s;
  memset(&s, 0, sizeof s);
  dl_iterate_phdr(find_xalloc_so, &s);
  if (want_shared) {
    if (s.count == 0) {
      fprintf(stderr, "consumer: libxalloc.so is not loaded in a shared-link consumer\n");
      failures++;
    } else if (!is_under(s.path, prefix)) {
      fprintf(stderr, "consumer: loaded %s, which is not the one installed under %s\n",
              s.path, prefix);
      failures++;
    } else {
      printf("consumer: using %s\n", s.path);
    }
  } else if (s.count != 0) {
    fprintf(stderr, "consumer: static-link consumer has %s loaded\n", s.path);
    failures++;
  }
}

/* ---- the API ---------------------------------------------------------- */

static void check_api(void) {
  EXPECT(xa_version() == XALLOC_VERSION);

  /* default heap */
  unsigned char* p = xa_malloc(100);
  EXPECT(p != NULL);
  if (p != NULL) {
    memset(p, 0xab, 100);
    EXPECT(p[0] == 0xab && p[99] == 0xab);
    EXPECT(((uintptr_t)p % 16) == 0);
    EXPECT(xa_is_in_heap_region(p));
    EXPECT(xa_usable_size(p) >= 100);
  }
  xa_free(p);
  xa_free(NULL);

  /* a heap of our own, with more blocks than one page holds */
  xa_heap_t* h = xa_heap_new();
  EXPECT(h != NULL);
  if (h != NULL) {
    enum { N = 1000 };
    static void* blocks[N];
    for (int i = 0; i < N; i++) {
      size_t sz = 1 + (size_t)(i % 50) * 24;
      blocks[i] = xa_heap_malloc(h, sz);
      EXPECT(blocks[i] != NULL);
      if (blocks[i] == NULL) {
        break;
      }
      memset(blocks[i], i & 0xff, sz);
    }
    EXPECT(blocks[0] != NULL && xa_heap_contains(h, blocks[0]));
    EXPECT(blocks[N - 1] != NULL && xa_heap_contains(h, blocks[N - 1]));
    for (int i = 0; i < N; i += 2) {
      xa_free(blocks[i]);
    }
    /* frees the rest at once */
    xa_heap_destroy(h);
  }

  /* allocation still works after destroying a heap */
  void* q = xa_malloc(32);
  EXPECT(q != NULL);
  xa_free(q);
}

static void check_malloc_is_xalloc(void) {
  void* m = malloc(16);
  EXPECT(m != NULL);
  EXPECT(xa_is_in_heap_region(m));
  free(m);
}

int main(int argc, char** argv) {
  if (argc < 3 || (strcmp(argv[1], "shared") != 0 && strcmp(argv[1], "static") != 0)) {
    fprintf(stderr, "usage: %s shared|static PREFIX [malloc-is-xalloc]\n", argv[0]);
    return 2;
  }
  int want_shared = strcmp(argv[1], "shared") == 0;
  const char* prefix = argv[2];
  int want_malloc_override = argc > 3 && strcmp(argv[3], "malloc-is-xalloc") == 0;

  check_linkage(want_shared, prefix);
  check_api();
  if (want_malloc_override) {
    check_malloc_is_xalloc();
  }

  if (failures != 0) {
    fprintf(stderr, "consumer (%s): %d check(s) failed\n", argv[1], failures);
    return 1;
  }
  printf("consumer (%s%s): OK, xalloc version %d\n", argv[1],
         want_malloc_override ? ", malloc is xalloc's" : "", xa_version());
  return 0;
}
