/* Main program for lc_latelib: calls into the library so it is loaded, asks
 * xalloc (found with dlsym, so the program need not link it) to run its exit
 * collection early, and returns; the library's destructor then allocates. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int latelib_touch(void);

#ifdef LATE_STATIC
#include "xalloc.h"
static int in_region_direct(const void* p) { return xa_is_in_heap_region(p); }
#endif

int main(void) {
  if (!latelib_touch()) return 1;
#ifdef LATE_STATIC
  int (*in_region)(const void*) = in_region_direct;
  void (*process_done)(void) = xa_process_done;
#else
  int (*in_region)(const void*) = (int (*)(const void*))dlsym(RTLD_DEFAULT, "xa_is_in_heap_region");
  void (*process_done)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "xa_process_done");
#endif
  if (in_region == NULL || process_done == NULL) {
    fprintf(stderr, "xalloc is not loaded\n");
    return 2;
  }
  void* p = malloc(64);
  if (!in_region(p)) {
    fprintf(stderr, "malloc is not xalloc's\n");
    return 3;
  }
  free(p);
  process_done();  /* as the exit hook will again: allocation must keep working */
  p = malloc(64);
  free(p);
  return 0;
}
