/* xalloc-new-delete.h — C++ global operator new/delete on the xalloc API.
 *
 * Include this header in exactly ONE translation unit of a C++ program (for
 * example the one with main) and link with libxalloc (-lxalloc, or
 * libxalloc.a, or xalloc::xalloc / xalloc::xalloc-static with CMake):
 *
 *     #include <xalloc-new-delete.h>
 *
 * It defines every replaceable global allocation and deallocation function
 * (plain, nothrow, array, sized, and with C++17 aligned new the align_val_t
 * forms) directly on xa_malloc / xa_malloc_aligned / xa_free, so new and
 * delete do not go through libstdc++'s operator new and malloc, and aligned
 * new is one xa_malloc_aligned call.
 *
 * Without this header new/delete still reach xalloc whenever malloc is
 * xalloc's (LD_PRELOAD, or libxalloc.a with XALLOC_STATIC_OVERRIDE=ON). It is
 * the way to get xalloc for new/delete while keeping the system malloc
 * (libxalloc.a built with -DXALLOC_STATIC_OVERRIDE=OFF).
 *
 * Semantics are the standard's ([new.delete]):
 *   - the throwing forms call the installed new_handler and retry while one is
 *     installed, and throw std::bad_alloc when none is (std::abort() when the
 *     program is compiled without exceptions);
 *   - the nothrow forms do the same but return nullptr instead of throwing,
 *     also when the new_handler throws std::bad_alloc;
 *   - operator new(0) returns a unique pointer (xa_malloc(0));
 *   - aligned forms accept any power-of-two alignment that xa_malloc_aligned
 *     serves (every power of two up to 2 MiB); a bigger one is an allocation
 *     failure (new_handler, then std::bad_alloc);
 *   - every delete form is xa_free (size and alignment are not needed);
 *     deleting nullptr does nothing.
 * Requires C++11 or later.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef XALLOC_NEW_DELETE_H
#define XALLOC_NEW_DELETE_H

#if !defined(__cplusplus)
#error "xalloc-new-delete.h is a C++ header"
#elif __cplusplus < 201103L && !(defined(_MSVC_LANG) && _MSVC_LANG >= 201103L)
#error "xalloc-new-delete.h needs C++11 or later"
#endif

#include <cstddef>
#include <cstdlib>
#include <new>

#include "xalloc.h"

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define XALLOC_ND_EXCEPTIONS 1
#else
#define XALLOC_ND_EXCEPTIONS 0
#endif

#if defined(__cpp_aligned_new) && __cpp_aligned_new >= 201606L
#define XALLOC_ND_ALIGNED 1
#else
#define XALLOC_ND_ALIGNED 0
#endif

#if __cplusplus >= 201402L || (defined(_MSVC_LANG) && _MSVC_LANG >= 201402L)
#define XALLOC_ND_SIZED 1
#else
#define XALLOC_ND_SIZED 0
#endif

namespace xalloc_new_delete_detail {

/* One allocation attempt. alignment 0: plain xa_malloc. */
static inline void* try_alloc(std::size_t size, std::size_t alignment) {
  return alignment == 0 ? xa_malloc(size) : xa_malloc_aligned(size, alignment);
}

/* The throwing forms: retry through the new_handler; bad_alloc when none. */
static inline void* alloc_or_throw(std::size_t size, std::size_t alignment) {
  for (;;) {
    void* p = try_alloc(size, alignment);
    if (p != NULL) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == NULL) {
#if XALLOC_ND_EXCEPTIONS
      throw std::bad_alloc();
#else
      std::abort();
#endif
    }
    handler();
  }
}

/* The nothrow forms: as the throwing ones, nullptr instead of an exception. */
static inline void* alloc_or_null(std::size_t size, std::size_t alignment) noexcept {
  for (;;) {
    void* p = try_alloc(size, alignment);
    if (p != NULL) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == NULL) return NULL;
#if XALLOC_ND_EXCEPTIONS
    try {
      handler();
    } catch (const std::bad_alloc&) {
      return NULL;
    }
#else
    handler();
#endif
  }
}

}  // namespace xalloc_new_delete_detail

/* ---- plain and array ------------------------------------------------------ */
void* operator new(std::size_t size) { return xalloc_new_delete_detail::alloc_or_throw(size, 0); }
void* operator new[](std::size_t size) { return xalloc_new_delete_detail::alloc_or_throw(size, 0); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return xalloc_new_delete_detail::alloc_or_null(size, 0);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return xalloc_new_delete_detail::alloc_or_null(size, 0);
}

void operator delete(void* p) noexcept { xa_free(p); }
void operator delete[](void* p) noexcept { xa_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { xa_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { xa_free(p); }

/* ---- sized delete (C++14) ---------------------------------------------------- */
#if XALLOC_ND_SIZED
void operator delete(void* p, std::size_t) noexcept { xa_free(p); }
void operator delete[](void* p, std::size_t) noexcept { xa_free(p); }
#endif

/* ---- aligned (C++17) ------------------------------------------------------------ */
#if XALLOC_ND_ALIGNED
void* operator new(std::size_t size, std::align_val_t al) {
  return xalloc_new_delete_detail::alloc_or_throw(size, static_cast<std::size_t>(al));
}
void* operator new[](std::size_t size, std::align_val_t al) {
  return xalloc_new_delete_detail::alloc_or_throw(size, static_cast<std::size_t>(al));
}
void* operator new(std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  return xalloc_new_delete_detail::alloc_or_null(size, static_cast<std::size_t>(al));
}
void* operator new[](std::size_t size, std::align_val_t al, const std::nothrow_t&) noexcept {
  return xalloc_new_delete_detail::alloc_or_null(size, static_cast<std::size_t>(al));
}

void operator delete(void* p, std::align_val_t) noexcept { xa_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { xa_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { xa_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { xa_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { xa_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { xa_free(p); }
#endif

#endif /* XALLOC_NEW_DELETE_H */
