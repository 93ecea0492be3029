/* Static-link redirection on Windows (mingw-w64): linking libxalloc.a makes
 * the program's malloc family xalloc's, with no DLL of ours.
 *
 * - The program's own definitions win at link time; functions the CRT
 *   headers declare as DLL imports are reached through __imp_ pointers,
 *   which are defined here too. Everything lives in this one object so the
 *   linker never pulls half of the overrides (mixing heaps silently).
 * - Memory the CRT allocated itself (inside msvcrt.dll/ucrtbase.dll:
 *   _strdup's callers, _fullpath(NULL,..), _getcwd(NULL,0), setlocale,
 *   stdio buffers) is not ours: free/realloc/_msize recognise it through the
 *   address map and hand it back to the CRT's own functions. */
#include "xalloc.h"
#include "alloc_fast.h"
#include <errno.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>

/* Defining functions the CRT headers declare __declspec(dllimport) is the
 * point of this file; gcc warns that the dllimport is dropped. */
#pragma GCC diagnostic ignored "-Wattributes"

/* ---- the CRT's own functions, for pointers that are not ours ------------ */

typedef void (*crt_free_fn)(void*);
typedef void* (*crt_realloc_fn)(void*, size_t);
typedef size_t (*crt_msize_fn)(void*);
typedef void* (*crt_expand_fn)(void*, size_t);
typedef void (*crt_aligned_free_fn)(void*);

static struct {
  crt_free_fn free;
  crt_realloc_fn realloc;
  crt_msize_fn msize;
  crt_expand_fn expand;
  crt_aligned_free_fn aligned_free;
  int state;  /* 0 unresolved, 1 resolved */
} crt;

static FARPROC crt_proc(const char* name) {
  static const char* const dlls[] = {"ucrtbase.dll", "msvcrt.dll"};
  for (size_t i = 0; i < sizeof(dlls) / sizeof(dlls[0]); i++) {
    HMODULE m = GetModuleHandleA(dlls[i]);
    FARPROC f = m != NULL ? GetProcAddress(m, name) : NULL;
    if (f != NULL) return f;
  }
  return NULL;
}

static void crt_resolve(void) {
  if (__atomic_load_n(&crt.state, __ATOMIC_ACQUIRE)) return;
  DWORD err = GetLastError();
  crt.free = (crt_free_fn)(void (*)(void))crt_proc("free");
  crt.realloc = (crt_realloc_fn)(void (*)(void))crt_proc("realloc");
  crt.msize = (crt_msize_fn)(void (*)(void))crt_proc("_msize");
  crt.expand = (crt_expand_fn)(void (*)(void))crt_proc("_expand");
  crt.aligned_free = (crt_aligned_free_fn)(void (*)(void))crt_proc("_aligned_free");
  SetLastError(err);
  __atomic_store_n(&crt.state, 1, __ATOMIC_RELEASE);
}

/* p is a block start (or interior aligned pointer) xalloc handed out. */
static inline bool is_ours(const void* p) {
  if (xa__in_arena(p)) return true;
  return xa__segmap_is_segment((uintptr_t)p & ~(uintptr_t)XA_SEGMENT_MASK);
}

/* ---- the malloc family --------------------------------------------------- */

void* malloc(size_t size) { return xa__heap_malloc_fast(xa__tls_heap_get(), size); }

void free(void* p) {
  if (xa_likely(xa__in_arena(p))) {
    xa__free_in_segment((xa_segment_t*)((uintptr_t)p & ~(uintptr_t)XA_SEGMENT_MASK), p);
  } else if (p != NULL) {
    if (is_ours(p)) {
      xa_free(p);
    } else {
      crt_resolve();
      if (crt.free != NULL) crt.free(p);
    }
  }
}

void* calloc(size_t n, size_t size) { return xa_calloc(n, size); }

/* MSVC semantics: realloc(p, 0) frees p and returns NULL. */
void* realloc(void* p, size_t size) {
  if (p == NULL) return xa_malloc(size);
  if (!is_ours(p)) {
    crt_resolve();
    if (size == 0) {
      if (crt.free != NULL) crt.free(p);
      return NULL;
    }
    /* Move foreign blocks into xalloc. */
    size_t old = crt.msize != NULL ? crt.msize(p) : 0;
    void* q = xa_malloc(size);
    if (q == NULL) return NULL;
    memcpy(q, p, old < size ? old : size);
    if (crt.free != NULL) crt.free(p);
    return q;
  }
  if (size == 0) {
    xa_free(p);
    return NULL;
  }
  return xa_realloc(p, size);
}

size_t _msize(void* p) {
  if (p == NULL) {
    errno = EINVAL;
    return (size_t)-1;
  }
  if (is_ours(p)) return xa_usable_size(p);
  crt_resolve();
  return crt.msize != NULL ? crt.msize(p) : (size_t)-1;
}

/* Resize in place or fail (NULL) without moving. */
void* _expand(void* p, size_t size) {
  if (p == NULL) {
    errno = EINVAL;
    return NULL;
  }
  if (!is_ours(p)) {
    crt_resolve();
    return crt.expand != NULL ? crt.expand(p, size) : NULL;
  }
  if (size <= xa_usable_size(p)) return p;
  errno = ENOMEM;
  return NULL;
}

/* realloc(p, count*size) that zeroes the grown part. */
void* _recalloc(void* p, size_t count, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(count, size, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  size_t old = p != NULL ? _msize(p) : 0;
  void* q = realloc(p, total);
  if (q != NULL && total > old) memset((char*)q + old, 0, total - old);
  return q;
}

void* _aligned_malloc(size_t size, size_t align) {
  if (align == 0 || (align & (align - 1)) != 0) {
    errno = EINVAL;
    return NULL;
  }
  return xa_malloc_aligned(size, align);
}

void _aligned_free(void* p) {
  if (p == NULL) return;
  if (is_ours(p)) {
    xa_free(p);
  } else {
    crt_resolve();
    if (crt.aligned_free != NULL) crt.aligned_free(p);
  }
}

size_t _aligned_msize(void* p, size_t align, size_t offset) {
  (void)align;
  (void)offset;
  if (p == NULL || !is_ours(p)) {
    errno = EINVAL;
    return (size_t)-1;
  }
  return xa_usable_size(p);
}

void* _aligned_realloc(void* p, size_t size, size_t align) {
  if (align == 0 || (align & (align - 1)) != 0) {
    errno = EINVAL;
    return NULL;
  }
  if (p == NULL) return xa_malloc_aligned(size, align);
  if (size == 0) {
    _aligned_free(p);
    return NULL;
  }
  if (is_ours(p) && ((uintptr_t)p & (align - 1)) == 0 && size <= xa_usable_size(p)) return p;
  void* q = xa_malloc_aligned(size, align);
  if (q == NULL) return NULL;
  size_t old = is_ours(p) ? xa_usable_size(p) : 0;
  memcpy(q, p, old < size ? old : size);
  _aligned_free(p);
  return q;
}

char* _strdup(const char* s) { return xa_strdup(s); }
char* strdup(const char* s) { return xa_strdup(s); }

wchar_t* _wcsdup(const wchar_t* s) {
  if (s == NULL) return NULL;
  size_t n = (wcslen(s) + 1) * sizeof(wchar_t);
  wchar_t* d = xa_malloc(n);
  if (d != NULL) memcpy(d, s, n);
  return d;
}
wchar_t* wcsdup(const wchar_t* s) { return _wcsdup(s); }

/* Import-table pointers for callers compiled against dllimport declarations. */
void* (*__imp_malloc)(size_t) = malloc;
void (*__imp_free)(void*) = free;
void* (*__imp_calloc)(size_t, size_t) = calloc;
void* (*__imp_realloc)(void*, size_t) = realloc;
size_t (*__imp__msize)(void*) = _msize;
void* (*__imp__expand)(void*, size_t) = _expand;
void* (*__imp__recalloc)(void*, size_t, size_t) = _recalloc;
void* (*__imp__aligned_malloc)(size_t, size_t) = _aligned_malloc;
void (*__imp__aligned_free)(void*) = _aligned_free;
size_t (*__imp__aligned_msize)(void*, size_t, size_t) = _aligned_msize;
void* (*__imp__aligned_realloc)(void*, size_t, size_t) = _aligned_realloc;
char* (*__imp__strdup)(const char*) = _strdup;
char* (*__imp_strdup)(const char*) = strdup;
wchar_t* (*__imp__wcsdup)(const wchar_t*) = _wcsdup;
