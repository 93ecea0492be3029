/* Not linked to xalloc. Tells whether xalloc was preloaded into this process
 * and took over malloc: looks up xa_is_in_heap_region at run time and asks it
 * about a fresh malloc(16).
 *   prints "xalloc" and exits 0 when malloc is xalloc's,
 *   prints "system" and exits 1 otherwise.
 * With an argument, also prints LD_PRELOAD (for the launcher test). */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

typedef bool (*in_region_fn)(const void*);

int main(int argc, char** argv) {
  (void)argv;
  void* p = malloc(16);
  in_region_fn in_region = (in_region_fn)dlsym(RTLD_DEFAULT, "xa_is_in_heap_region");
  bool ours = p != NULL && in_region != NULL && in_region(p);
  free(p);
  printf("%s\n", ours ? "xalloc" : "system");
  if (argc > 1) {
    const char* pre = getenv("LD_PRELOAD");
    printf("LD_PRELOAD=%s\n", pre ? pre : "");
  }
  return ours ? 0 : 1;
}
