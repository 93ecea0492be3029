/* Raw OS memory for tests (memory xalloc never handed out): map, unmap and
 * guard pages, on POSIX and Windows. */
#ifndef XA_TEST_OS_H
#define XA_TEST_OS_H

#include <stddef.h>

#if defined(_WIN32)
#include <windows.h>
/* readable and writable unless noaccess; NULL on failure */
static inline void* xt_os_map(size_t len, int noaccess) {
  return VirtualAlloc(NULL, len, MEM_RESERVE | MEM_COMMIT, noaccess ? PAGE_NOACCESS : PAGE_READWRITE);
}
static inline int xt_os_unmap(void* p, size_t len) {
  (void)len;
  return VirtualFree(p, 0, MEM_RELEASE) ? 0 : -1;
}
static inline int xt_os_guard(void* p, size_t len) {
  DWORD old;
  return VirtualProtect(p, len, PAGE_NOACCESS, &old) ? 0 : -1;
}
#else
#include <sys/mman.h>
static inline void* xt_os_map(size_t len, int noaccess) {
  void* p = mmap(NULL, len, noaccess ? PROT_NONE : PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}
static inline int xt_os_unmap(void* p, size_t len) { return munmap(p, len); }
static inline int xt_os_guard(void* p, size_t len) { return mprotect(p, len, PROT_NONE); }
#endif

#endif
