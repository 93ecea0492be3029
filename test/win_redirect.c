/* Windows static-link redirection: the program's malloc family is xalloc's;
 * memory the CRT allocated internally is given back to the CRT; _msize and
 * the _aligned_ functions agree with xalloc; atexit handlers allocate after
 * main. */
#include <direct.h>
#include <errno.h>
#include <locale.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include "xalloc.h"
#include "xa_test.h"

/* Not declared by mingw's msvcrt headers; xalloc's static library defines it. */
size_t _aligned_msize(void* p, size_t align, size_t offset);

static void at_exit_allocates(void) {
  void* p = malloc(1000);
  CHECK(p != NULL && xa_is_in_heap_region(p));
  free(p);
  char* s = _strdup("late");
  CHECK(s != NULL && strcmp(s, "late") == 0);
  free(s);
}

int main(void) {
  void* p = malloc(100);
  CHECK(xa_is_in_heap_region(p));
  CHECK(_msize(p) == xa_usable_size(p));
  p = realloc(p, 5000);
  CHECK(xa_is_in_heap_region(p));
  free(p);
  void* c = calloc(10, 10);
  CHECK(xa_is_in_heap_region(c));
  for (int i = 0; i < 100; i++) CHECK(((unsigned char*)c)[i] == 0);
  free(c);
  char* d = _strdup("hello");
  CHECK(xa_is_in_heap_region(d) && strcmp(d, "hello") == 0);
  free(d);
  d = strdup("hello");
  CHECK(xa_is_in_heap_region(d));
  free(d);
  /* _aligned_* */
  void* a = _aligned_malloc(1000, 256);
  CHECK(a != NULL && ((uintptr_t)a & 255) == 0 && xa_is_in_heap_region(a));
  CHECK(_aligned_msize(a, 256, 0) == xa_usable_size(a));
  a = _aligned_realloc(a, 100000, 4096);
  CHECK(a != NULL && ((uintptr_t)a & 4095) == 0);
  _aligned_free(a);
  errno = 0;
  CHECK(_aligned_malloc(10, 3) == NULL && errno == EINVAL);
  /* _recalloc zeroes the grown part, _expand never moves */
  unsigned char* r = malloc(10);
  memset(r, 7, 10);
  r = _recalloc(r, 10, 10);
  CHECK(r != NULL && r[9] == 7 && r[99] == 0);
  CHECK(_expand(r, 50) == r);
  free(r);
  /* CRT-internal allocations (the CRT's own heap) are freed through free */
  char* cwd = _getcwd(NULL, 0);
  CHECK(cwd != NULL);
  free(cwd);
  char* full = _fullpath(NULL, "x.txt", 0);
  CHECK(full != NULL);
  CHECK(_msize(full) != (size_t)-1);
  full = realloc(full, 4000);  /* moves it into xalloc */
  CHECK(full != NULL && xa_is_in_heap_region(full));
  free(full);
  setlocale(LC_ALL, "C");
  FILE* f = tmpfile();
  if (f != NULL) {
    fprintf(f, "stdio buffers come from the CRT heap %d\n", 42);
    fclose(f);
  }
  /* realloc(p, 0) frees and returns NULL (MSVC semantics) */
  p = malloc(10);
  CHECK(realloc(p, 0) == NULL);
  atexit(at_exit_allocates);
  return 0;
}
