/* Windows: a program linked against xalloc.dll (import library) uses the
 * exported xa_ API; the DLL's hooks run (thread exit through FLS in the DLL,
 * process exit at DLL detach). The program's own malloc stays the CRT's: a
 * DLL cannot redirect it (docs/windows.md). */
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include "xalloc.h"
#include "xa_test.h"

static DWORD WINAPI worker(LPVOID arg) {
  xa_heap_t* h = xa_heap_new();
  void* p = xa_heap_malloc(h, 5000);
  memset(p, 1, 5000);
  xa_heap_delete(h);
  *(void**)arg = p;  /* live after the thread exits */
  return 0;
}

int main(void) {
  CHECK(xa_version() == XALLOC_VERSION);
  void* p = xa_malloc(100);
  CHECK(p != NULL && xa_is_in_heap_region(p));
  void* crt = malloc(100);
  CHECK(crt != NULL && !xa_is_in_heap_region(crt));
  free(crt);
  void* from_thread = NULL;
  HANDLE t = CreateThread(NULL, 0, worker, &from_thread, 0, NULL);
  CHECK(t != NULL && WaitForSingleObject(t, INFINITE) == WAIT_OBJECT_0);
  CloseHandle(t);
  CHECK(from_thread != NULL && ((unsigned char*)from_thread)[4999] == 1);
  xa_free(from_thread);
  xa_free(p);
  xa_collect(true);
  return 0;
}
