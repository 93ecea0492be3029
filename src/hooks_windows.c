/* Platform hooks and thread-local storage for Windows (hooks.h, tls.h).
 *
 * - Thread-local pointers: two TLS slots read straight from the TEB (tls.h);
 *   allocated at process start, or lazily by the first allocation.
 * - Thread exit: an FLS callback. It runs when a thread ends (CreateThread,
 *   _beginthreadex, ExitThread) and, for the main thread, at process exit
 *   (also ExitProcess and _exit), before DLLs are detached.
 * - Process exit: a destructor, which mingw runs from atexit (return from
 *   main, exit()) in an executable and at DLL_PROCESS_DETACH in xalloc.dll.
 *   ExitProcess skips atexit; the FLS callback then still hands the main
 *   thread's memory over.
 * - fork does not exist. */
#include "hooks.h"
#include "tls.h"
#include <windows.h>

DWORD xa__tls_slot_heap = TLS_OUT_OF_INDEXES;
DWORD xa__tls_slot_tld = TLS_OUT_OF_INDEXES;
static DWORD fls_index = FLS_OUT_OF_INDEXES;

void xa__tls_heap_set(xa_heap_t* heap) {
  DWORD err = GetLastError();
  TlsSetValue(xa__tls_slot_heap, heap == &xa__heap_empty ? NULL : heap);
  SetLastError(err);
}

void xa__tls_tld_set(xa_tld_t* tld) {
  DWORD err = GetLastError();
  TlsSetValue(xa__tls_slot_tld, tld == &xa__tld_empty ? NULL : tld);
  SetLastError(err);
}

static void NTAPI fls_callback(void* value) {
  if (value != NULL) xa__on_thread_exit((xa_tld_t*)value);
}

void xa__hooks_init(void) {
  /* Called once (init.c serialises it). */
  DWORD err = GetLastError();
  DWORD heap_slot = TlsAlloc();
  DWORD tld_slot = TlsAlloc();
  fls_index = FlsAlloc(fls_callback);
  SetLastError(err);
  __atomic_store_n(&xa__tls_slot_tld, tld_slot, __ATOMIC_RELEASE);
  __atomic_store_n(&xa__tls_slot_heap, heap_slot, __ATOMIC_RELEASE);
}

void xa__hooks_thread_arm(xa_tld_t* tld) {
  if (fls_index == FLS_OUT_OF_INDEXES) return;
  DWORD err = GetLastError();
  FlsSetValue(fls_index, tld);
  SetLastError(err);
}

__attribute__((constructor)) static void xa_process_load(void) { xa__on_process_start(); }
__attribute__((destructor)) static void xa_process_unload(void) { xa__on_process_exit(); }

/* The FLS callback runs once per thread, after which the thread allocates
 * no more through us that the callback would miss. */
bool xa__hooks_thread_exit_ran(void) { return false; }
