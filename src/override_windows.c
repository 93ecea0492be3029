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
#include "os.h"
#include "segment.h"
#include <errno.h>
#include <string.h>
#include <wchar.h>
#include <windows.h>

/* Defining functions the CRT headers declare __declspec(dllimport) is the
 * point of this file; gcc warns that the dllimport is dropped. */
#pragma GCC diagnostic ignored "-Wattributes"

/* ---- blocks that are not ours: the CRT heaps --------------------------------
 * msvcrt.dll and ucrtbase.dll allocate with HeapAlloc on the heap that their
 * _get_heap_handle() returns. Foreign blocks are handed back to that heap
 * directly (never through the CRT's free, which may be patched to us). */

#define CRT_HEAPS 3
static HANDLE crt_heaps[CRT_HEAPS];
static int crt_heaps_state;  /* 0 unresolved, 1 resolved */

static FARPROC crt_proc(const char* dll, const char* name) {
  HMODULE m = GetModuleHandleA(dll);
  return m != NULL ? GetProcAddress(m, name) : NULL;
}

static void crt_heaps_resolve(void) {
  if (__atomic_load_n(&crt_heaps_state, __ATOMIC_ACQUIRE)) return;
  DWORD err = GetLastError();
  static const char* const dlls[] = {"msvcrt.dll", "ucrtbase.dll"};
  size_t n = 0;
  for (size_t i = 0; i < 2; i++) {
    intptr_t (*get)(void) = (intptr_t(*)(void))(void (*)(void))crt_proc(dlls[i], "_get_heap_handle");
    if (get != NULL) crt_heaps[n++] = (HANDLE)get();
  }
  crt_heaps[n] = GetProcessHeap();
  SetLastError(err);
  __atomic_store_n(&crt_heaps_state, 1, __ATOMIC_RELEASE);
}

/* The CRT heap that owns p, or NULL (then p is nobody's we know). */
static HANDLE foreign_heap(const void* p) {
  crt_heaps_resolve();
  DWORD err = GetLastError();
  HANDLE found = NULL;
  for (size_t i = 0; i < CRT_HEAPS && found == NULL; i++) {
    if (crt_heaps[i] != NULL && HeapValidate(crt_heaps[i], 0, p)) found = crt_heaps[i];
  }
  SetLastError(err);
  if (found == NULL) xa__report_foreign("free of pointer", p);
  return found;
}

static void foreign_free(void* p) {
  HANDLE h = foreign_heap(p);
  if (h != NULL) HeapFree(h, 0, p);
}

static size_t foreign_size(void* p) {
  HANDLE h = foreign_heap(p);
  return h != NULL ? HeapSize(h, 0, p) : (size_t)-1;
}

/* p is a block start (or interior aligned pointer) xalloc handed out. */
static inline bool is_ours(const void* p) {
  if (xa__in_arena(p)) return true;
  xa_segment_t* seg = xa__ptr_segment(p);
  /* A huge mapping may end before its last 4 MiB chunk: the rest of that
   * chunk may hold CRT blocks, so only the huge block's start is ours. */
  return xa__segmap_is_segment((uintptr_t)seg) && (seg->kind != XA_KIND_HUGE || xa__segment_huge_block_is(seg, p));
}

/* ---- the malloc family --------------------------------------------------- */

void* malloc(size_t size) { return xa__heap_malloc_fast(xa__tls_heap_get(), size); }

void free(void* p) {
  if (xa_likely(xa__in_arena(p))) {
    xa__free_in_segment((xa_segment_t*)((uintptr_t)p & ~(uintptr_t)XA_SEGMENT_MASK), p);
  } else if (p != NULL) {
    if (is_ours(p)) xa_free(p);
    else foreign_free(p);
  }
}

void* calloc(size_t n, size_t size) { return xa_calloc(n, size); }

/* MSVC semantics: realloc(p, 0) frees p and returns NULL. */
void* realloc(void* p, size_t size) {
  if (p == NULL) return xa_malloc(size);
  if (!is_ours(p)) {
    if (size == 0) {
      foreign_free(p);
      return NULL;
    }
    /* Move foreign blocks into xalloc. */
    size_t old = foreign_size(p);
    if (old == (size_t)-1) return NULL;
    void* q = xa_malloc(size);
    if (q == NULL) return NULL;
    memcpy(q, p, old < size ? old : size);
    foreign_free(p);
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
  return foreign_size(p);
}

/* Resize in place or fail (NULL) without moving. */
void* _expand(void* p, size_t size) {
  if (p == NULL) {
    errno = EINVAL;
    return NULL;
  }
  if (!is_ours(p)) {
    HANDLE h = foreign_heap(p);
    return h != NULL ? HeapReAlloc(h, HEAP_REALLOC_IN_PLACE_ONLY, p, size) : NULL;
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
    return;
  }
  /* The CRT's own aligned blocks keep the address of the underlying heap
   * block in the pointer-sized slot just below the aligned address. */
  void* base = *(void**)(((uintptr_t)p & ~(sizeof(void*) - 1)) - sizeof(void*));
  free(base);
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

/* ---- patching the CRT DLLs ------------------------------------------------------
 * Allocations made inside msvcrt.dll / ucrtbase.dll (setlocale, stdio
 * buffers, _fullpath(NULL,..), ...) call the DLL's own malloc, not the
 * program's. At start-up we overwrite the first bytes of the DLL's exported
 * allocation functions with a jump to ours (mov rax, imm64; jmp rax: 12
 * bytes). Rules that keep this safe:
 *   - only functions the unwind table (RtlLookupFunctionEntry) shows to be a
 *     real function of at least 12 bytes starting at the export are patched;
 *     an export that is a bare jump to another export counts as covered when
 *     that target is patched;
 *   - the "release" family (free, realloc, _msize, _expand, _recalloc and the
 *     _base variants) is patched first; allocating functions of a DLL are
 *     patched only when its whole release family is covered, so the CRT never
 *     hands one of our blocks to its own heap;
 *   - blocks the CRT allocated before the patch are recognised as foreign and
 *     handed back to the CRT heap directly (see foreign_free).
 * XALLOC_PATCH_CRT=0 in the environment turns it off; the CMake option
 * XALLOC_WINDOWS_PATCH_CRT sets the default. */

#ifndef XA_PATCH_CRT_DEFAULT
#define XA_PATCH_CRT_DEFAULT 1
#endif

static void* base_malloc(size_t n) { return malloc(n); }
static void* base_calloc(size_t n, size_t s) { return calloc(n, s); }

typedef struct {
  const char* name;
  void* replacement;
  bool release;  /* part of the release family */
} crt_patch_t;

static const crt_patch_t crt_patches[] = {
  {"free", (void*)free, true},           {"_free_base", (void*)free, true},
  {"realloc", (void*)realloc, true},     {"_realloc_base", (void*)realloc, true},
  {"_msize", (void*)_msize, true},       {"_msize_base", (void*)_msize, true},
  {"_expand", (void*)_expand, true},     {"_expand_base", (void*)_expand, true},
  {"_recalloc", (void*)_recalloc, true}, {"_recalloc_base", (void*)_recalloc, true},
  {"malloc", (void*)base_malloc, false}, {"_malloc_base", (void*)base_malloc, false},
  {"calloc", (void*)base_calloc, false}, {"_calloc_base", (void*)base_calloc, false},
};
#define CRT_PATCH_COUNT (sizeof(crt_patches) / sizeof(crt_patches[0]))
#define PATCH_BYTES 12

static int crt_patched_count;  /* for tests and statistics */

/* A bare jump at the start of a function: its target, else NULL. */
static uint8_t* jump_target(uint8_t* code) {
  if (code[0] == 0xE9) return code + 5 + *(int32_t*)(code + 1);
  if (code[0] == 0xEB) return code + 2 + (int8_t)code[1];
  if (code[0] == 0xFF && code[1] == 0x25) return *(uint8_t**)(code + 6 + *(int32_t*)(code + 2));
  if (code[0] == 0x48 && code[1] == 0xFF && code[2] == 0x25)  /* rex.W jmp [rip+disp] */
    return *(uint8_t**)(code + 7 + *(int32_t*)(code + 3));
  return NULL;
}

static bool patchable(uint8_t* code) {
  DWORD64 image = 0;
  PRUNTIME_FUNCTION fn = RtlLookupFunctionEntry((DWORD64)(uintptr_t)code, &image, NULL);
  return fn != NULL && image + fn->BeginAddress == (DWORD64)(uintptr_t)code &&
         fn->EndAddress - fn->BeginAddress >= PATCH_BYTES;
}

static bool write_jump(uint8_t* code, void* to) {
  uint8_t jump[PATCH_BYTES] = {0x48, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xE0};
  memcpy(jump + 2, &to, sizeof(to));
  DWORD old;
  if (!VirtualProtect(code, PATCH_BYTES, PAGE_EXECUTE_READWRITE, &old)) return false;
  memcpy(code, jump, PATCH_BYTES);
  VirtualProtect(code, PATCH_BYTES, old, &old);
  FlushInstructionCache(GetCurrentProcess(), code, PATCH_BYTES);
  return true;
}

/* Patch one family of one DLL; true if every export of the family that the
 * DLL has is now ours (patched, or a bare jump into a patched export). */
static bool patch_family(HMODULE dll, bool release, uint8_t** done, size_t* ndone) {
  bool covered = true;
  for (int pass = 0; pass < 2; pass++) {  /* second pass: jumps into first-pass patches */
    for (size_t i = 0; i < CRT_PATCH_COUNT; i++) {
      if (crt_patches[i].release != release) continue;
      uint8_t* code = (uint8_t*)(void*)GetProcAddress(dll, crt_patches[i].name);
      if (code == NULL) continue;
      bool already = false;
      for (size_t k = 0; k < *ndone; k++) already |= done[k] == code;
      if (already) continue;
      if (pass == 0 && patchable(code) && write_jump(code, crt_patches[i].replacement)) {
        done[(*ndone)++] = code;
        crt_patched_count++;
        continue;
      }
      if (pass == 1) {
        uint8_t* target = jump_target(code);
        bool into_patched = false;
        for (size_t k = 0; k < *ndone && target != NULL; k++) into_patched |= done[k] == target;
        if (into_patched) done[(*ndone)++] = code;
        else covered = false;
      }
    }
  }
  return covered;
}

static void crt_patch(void) {
  const char* env = xa__os_getenv("XALLOC_PATCH_CRT");
  bool on = env != NULL ? (env[0] != '0' && env[0] != 'n' && env[0] != 'N') : XA_PATCH_CRT_DEFAULT;
  if (!on) return;
  crt_heaps_resolve();  /* before any patch: resolving calls into the CRT */
  static const char* const dlls[] = {"msvcrt.dll", "ucrtbase.dll"};
  for (size_t d = 0; d < 2; d++) {
    HMODULE dll = GetModuleHandleA(dlls[d]);
    if (dll == NULL) continue;
    uint8_t* done[CRT_PATCH_COUNT];
    size_t ndone = 0;
    if (patch_family(dll, true, done, &ndone)) patch_family(dll, false, done, &ndone);
  }
}

/* How many CRT entry points were patched (tests). */
int xa__crt_patched_count(void) { return crt_patched_count; }

__attribute__((constructor)) static void crt_patch_at_start(void) { crt_patch(); }
