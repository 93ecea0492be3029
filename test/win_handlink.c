/* Windows: a program compiled and linked by hand with nothing but
 *   x86_64-w64-mingw32-gcc prog.c libxalloc.a
 * (no -D, no CMake; test/win_handlink.sh does exactly that). It links only
 * if xalloc.h declares the API without dllimport, and it checks that the
 * program's malloc family is xalloc's. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "xalloc.h"

static int failures;

static void check(int ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "win_handlink: FAILED: %s\n", what);
    failures++;
  }
}

int main(void) {
  check(xa_version() == XALLOC_VERSION, "xa_version() == XALLOC_VERSION");
  char* p = malloc(100);
  check(p != NULL && xa_is_in_heap_region(p), "malloc returns xalloc memory");
  if (p != NULL) {
    memset(p, 'x', 100);
    check(_msize(p) == xa_usable_size(p), "_msize agrees with xa_usable_size");
  }
  p = realloc(p, 100000);
  check(p != NULL && xa_is_in_heap_region(p), "realloc returns xalloc memory");
  free(p);
  char* s = strdup("hand-linked");
  check(s != NULL && xa_is_in_heap_region(s), "strdup returns xalloc memory");
  free(s);
  void* q = xa_malloc(64);
  check(q != NULL && xa_usable_size(q) >= 64, "xa_malloc works");
  free(q);  /* the program's free is xalloc's too */
  if (failures != 0) return 1;
  printf("win_handlink: malloc, realloc, strdup and free are xalloc's\n");
  return 0;
}
