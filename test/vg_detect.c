/* One misuse (or none) per run, for test/vg_detect.sh: valgrind's memcheck
 * must report it the same way whether malloc is glibc's (under valgrind:
 * valgrind's own) or xalloc's (linked statically, or preloaded). Built
 * twice: with libxalloc.a, which redirects malloc, and plain.
 *
 *   uaf       read of a freed 100-byte block
 *   overflow  read of the byte right after a 100-byte block
 *   leak      a 100-byte block whose last pointer is dropped
 *   uninit    a branch on an unwritten byte of a fresh block
 *   clean     correct use of every entry point: no error, no leak
 */
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void* volatile sink;

static void* thread_free(void* p) {
  free(p);
  return NULL;
}

static int clean(void) {
  /* Every size class up to 64 KiB, some huge blocks, written in full. */
  void* live[200];
  for (int i = 0; i < 200; i++) {
    size_t n = (size_t)1 << (i % 17);
    live[i] = malloc(n + (size_t)i);
    memset(live[i], i, n + (size_t)i);
  }
  for (int i = 0; i < 200; i += 2) free(live[i]);
  char* c = calloc(1000, 3);
  for (int i = 0; i < 3000; i++) {
    if (c[i] != 0) return 1;
  }
  /* realloc: in place, moved, huge, to 0 */
  char* r = malloc(10);
  memcpy(r, "123456789", 10);
  for (size_t n = 16; n < ((size_t)4 << 20); n = n * 3 / 2) {
    r = realloc(r, n);
    if (memcmp(r, "123456789", 10) != 0) return 2;
    r[n - 1] = 1;
  }
  r = realloc(r, 5);
  if (memcmp(r, "1234", 4) != 0) return 3;
  free(r);
  /* aligned */
  void* a = NULL;
  if (posix_memalign(&a, 4096, 100) != 0) return 4;
  memset(a, 1, 100);
  free(a);
  a = aligned_alloc(64, 640);
  memset(a, 2, 640);
  free(a);
  a = memalign(1 << 20, 5000);
  memset(a, 3, 5000);
  free(a);
  /* usable size: all of it may be written */
  char* u = malloc(37);
  size_t un = malloc_usable_size(u);
  if (un < 37) return 5;
  memset(u, 4, un);
  free(u);
  /* freed by another thread */
  pthread_t t;
  void* x = malloc(300);
  memset(x, 5, 300);
  pthread_create(&t, NULL, thread_free, x);
  pthread_join(t, NULL);
  for (int i = 1; i < 200; i += 2) free(live[i]);
  free(c);
  char* z = malloc(0);
  free(z);
  return 0;
}

int main(int argc, char** argv) {
  volatile size_t at10 = 10, at100 = 100;  /* misuse the compiler need not see */
  const char* what = argc > 1 ? argv[1] : "clean";
  if (strcmp(what, "uaf") == 0) {
    char* p = malloc(100);
    memset(p, 1, 100);
    sink = p;
    free(p);
    printf("%d\n", ((char*)sink)[at10]);
  } else if (strcmp(what, "overflow") == 0) {
    char* p = malloc(100);
    memset(p, 1, 100);
    printf("%d\n", p[at100]);
    free(p);
  } else if (strcmp(what, "leak") == 0) {
    char* p = malloc(100);
    memset(p, 1, 100);
    sink = p;
    sink = NULL;
  } else if (strcmp(what, "uninit") == 0) {
    char* p = malloc(100);
    if (p[50] == 7) printf("seven\n");
    free(p);
  } else {
    int rc = clean();
    if (rc != 0) printf("clean: step %d failed\n", rc);
    return rc;
  }
  return 0;
}
