/* Windows CRT patching: with it on (the default), allocations made inside the
 * CRT DLL are xalloc's; with XALLOC_PATCH_CRT=0 they are the CRT's own and
 * are still freed correctly through the program's free. argv[1]: on | off. */
#include <direct.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include "xalloc.h"
#include "xa_test.h"

int xa__crt_patched_count(void);

int main(int argc, char** argv) {
  CHECK(argc == 2);
  int on = strcmp(argv[1], "on") == 0;
  HMODULE crt = GetModuleHandleA("msvcrt.dll");
  if (crt == NULL) crt = GetModuleHandleA("ucrtbase.dll");
  CHECK(crt != NULL);
  char* (*crt_strdup)(const char*) = (char* (*)(const char*))(void (*)(void))GetProcAddress(crt, "_strdup");
  void* (*crt_malloc)(size_t) = (void* (*)(size_t))(void (*)(void))GetProcAddress(crt, "malloc");
  void (*crt_free)(void*) = (void (*)(void*))(void (*)(void))GetProcAddress(crt, "free");
  CHECK(crt_strdup != NULL && crt_malloc != NULL && crt_free != NULL);
  if (on) CHECK(xa__crt_patched_count() > 0);
  else CHECK(xa__crt_patched_count() == 0);
  for (int i = 0; i < 1000; i++) {
    char* s = crt_strdup("inside the CRT");   /* the CRT's own malloc */
    char* cwd = _getcwd(NULL, 0);
    CHECK(s != NULL && strcmp(s, "inside the CRT") == 0 && cwd != NULL);
    CHECK(xa_is_in_heap_region(s) == on);
    CHECK(xa_is_in_heap_region(cwd) == on);
    /* mixed: freed by the program's free and by the CRT's free */
    if (i % 2) { free(s); crt_free(cwd); } else { crt_free(s); free(cwd); }
    void* m = crt_malloc(100 + (size_t)i);
    CHECK(m != NULL && xa_is_in_heap_region(m) == on);
    m = realloc(m, 5000);
    CHECK(m != NULL && xa_is_in_heap_region(m));
    crt_free(m);  /* ours now, whatever the CRT's free is */
  }
  return 0;
}
