/* The two thread-local pointers of the fast paths: the calling thread's
 * default heap and its thread data. Part of the platform layer: POSIX uses
 * initial-exec `_Thread_local` (a single %fs-relative load); Windows cannot
 * (mingw's _Thread_local is emulated and calls malloc), so it reads two TLS
 * slots straight from the TEB. Before a thread is initialised the getters
 * return the empty heap / empty thread data, never NULL. */
#ifndef XA_TLS_H
#define XA_TLS_H

#include "config.h"
#include "types.h"

extern XA_INTERNAL xa_heap_t xa__heap_empty;
extern XA_INTERNAL xa_tld_t xa__tld_empty;

#if defined(_WIN32)
#include <windows.h>
#include <intrin.h>

/* TLS slot indices, allocated before the first allocation (hooks_windows.c);
 * TLS_OUT_OF_INDEXES until then. */
extern XA_INTERNAL DWORD xa__tls_slot_heap;
extern XA_INTERNAL DWORD xa__tls_slot_tld;

XA_INLINE void* xa__tls_slot_get(DWORD slot) {
  if (xa_likely(slot < 64)) return (void*)__readgsqword(0x1480 + 8 * slot);  /* TEB.TlsSlots */
  if (slot == TLS_OUT_OF_INDEXES) return NULL;
  DWORD err = GetLastError();  /* TlsGetValue clears it; malloc must not */
  void* v = TlsGetValue(slot);
  SetLastError(err);
  return v;
}

XA_INLINE xa_heap_t* xa__tls_heap_get(void) {
  xa_heap_t* h = (xa_heap_t*)xa__tls_slot_get(xa__tls_slot_heap);
  return h != NULL ? h : &xa__heap_empty;
}
XA_INLINE xa_tld_t* xa__tls_tld_get(void) {
  xa_tld_t* t = (xa_tld_t*)xa__tls_slot_get(xa__tls_slot_tld);
  return t != NULL ? t : &xa__tld_empty;
}
XA_INTERNAL void xa__tls_heap_set(xa_heap_t* heap);
XA_INTERNAL void xa__tls_tld_set(xa_tld_t* tld);

#else

extern XA_INTERNAL _Thread_local xa_heap_t* xa__tls_heap;
extern XA_INTERNAL _Thread_local xa_tld_t* xa__tls_tld;

XA_INLINE xa_heap_t* xa__tls_heap_get(void) { return xa__tls_heap; }
XA_INLINE xa_tld_t* xa__tls_tld_get(void) { return xa__tls_tld; }
XA_INLINE void xa__tls_heap_set(xa_heap_t* heap) { xa__tls_heap = heap; }
XA_INLINE void xa__tls_tld_set(xa_tld_t* tld) { xa__tls_tld = tld; }

#endif
#endif
