// include/xalloc-new-delete.h: the program's global operator new/delete are
// the header's (defined in this executable, not libstdc++'s), their memory is
// xalloc's, aligned new honours the alignment, and failure follows the
// standard (new_handler loop, std::bad_alloc, nullptr for nothrow).
// Built by test/override.cmake when a C++ compiler is available, once linked
// with libxalloc.a and once with libxalloc.so.
#include <xalloc-new-delete.h>

#include <dlfcn.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

#define CHECK(cond)                                                          \
  do {                                                                       \
    if (!(cond)) {                                                           \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::fflush(stderr);                                                   \
      std::abort();                                                          \
    }                                                                        \
  } while (0)

static bool ours(const void* p) {
  return p != nullptr && xa_is_in_heap_region(p) && xa_heap_contains(xa_heap_get_default(), p);
}

// The object file that defines the function at address f.
static const void* object_of(const void* f) {
  Dl_info info;
  CHECK(dladdr(f, &info) != 0);
  return info.dli_fbase;
}

// Overflowing sizes, hidden from the optimiser.
static volatile std::size_t v_huge = static_cast<std::size_t>(PTRDIFF_MAX) + 1;

static int handler_calls;
static void handler_then_give_up() {
  if (++handler_calls == 3) std::set_new_handler(nullptr);
}
static void handler_throws() {
  ++handler_calls;
  throw std::bad_alloc();
}

#if XALLOC_ND_ALIGNED
struct alignas(256) Wide {
  unsigned char bytes[300];
};

static bool aligned(const void* p, std::size_t a) { return (reinterpret_cast<std::uintptr_t>(p) & (a - 1)) == 0; }
#endif

static void check_resolution() {
  const void* exe = object_of(reinterpret_cast<const void*>(&check_resolution));
  void* (*plain)(std::size_t) = &::operator new;
  void (*del)(void*) noexcept = &::operator delete;
  CHECK(object_of(reinterpret_cast<const void*>(plain)) == exe);
  CHECK(object_of(reinterpret_cast<const void*>(del)) == exe);
  // And the dynamic linker agrees when asked by mangled name (libstdc++ would
  // otherwise define it): the definitions are exported from the executable.
  void* sym = dlsym(RTLD_DEFAULT, "_Znwm");
  if (sym != nullptr) CHECK(object_of(sym) == exe);
}

static void check_plain() {
  for (std::size_t n = 0; n < (std::size_t(3) << 20); n = n * 5 + 1) {
    char* p = new char[n];
    CHECK(ours(p));
    std::memset(p, 1, n);
    delete[] p;
  }
  int* i = new int(42);
  CHECK(ours(i) && *i == 42);
  delete i;
  void* z = ::operator new(0);  // unique, non-null
  void* z2 = ::operator new(0);
  CHECK(ours(z) && ours(z2) && z != z2);
  ::operator delete(z);
  ::operator delete(z2);
  int* nt = new (std::nothrow) int[100];
  CHECK(ours(nt));
  delete[] nt;

  // Library containers allocate through the same operators.
  std::vector<std::string> v;
  for (int k = 0; k < 1000; k++) v.push_back(std::string(100 + k % 50, 'x'));
  CHECK(ours(v.data()) && ours(v[500].data()));
  auto sp = std::make_shared<std::vector<int>>(1000, 7);
  CHECK(ours(sp.get()));

  // Sized delete reaches xa_free as well.
  struct S { long a[9]; };
  S* s = new S();
  CHECK(ours(s));
  delete s;
}

static void check_aligned() {
#if XALLOC_ND_ALIGNED
  Wide* w = new Wide;
  CHECK(ours(w) && aligned(w, alignof(Wide)));
  delete w;
  Wide* wa = new Wide[7];
  CHECK(aligned(wa, alignof(Wide)) && xa_is_in_heap_region(wa));
  delete[] wa;
  for (std::size_t a = 1; a <= (std::size_t(1) << 21); a <<= 1) {
    void* p = ::operator new(100, std::align_val_t(a));
    CHECK(ours(p) && aligned(p, a));
    ::operator delete(p, std::align_val_t(a));
    void* q = ::operator new[](a + 3, std::align_val_t(a), std::nothrow);
    CHECK(ours(q) && aligned(q, a));
    ::operator delete[](q, a + 3, std::align_val_t(a));
  }
  // An alignment xalloc does not serve is an allocation failure.
  CHECK(::operator new(16, std::align_val_t(std::size_t(1) << 40), std::nothrow) == nullptr);
  bool threw = false;
  try {
    void* p = ::operator new(16, std::align_val_t(std::size_t(1) << 40));
    ::operator delete(p, std::align_val_t(std::size_t(1) << 40));
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  CHECK(threw);
#else
  std::printf("ov_cxx_new_delete: no C++17 aligned new in this compiler mode\n");
#endif
}

static void check_failure() {
  // No handler: bad_alloc / nullptr.
  std::set_new_handler(nullptr);
  bool threw = false;
  try {
    void* p = ::operator new(v_huge);
    ::operator delete(p);
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  CHECK(threw);
  CHECK(::operator new(v_huge, std::nothrow) == nullptr);
  CHECK(::operator new[](v_huge, std::nothrow) == nullptr);

  // A handler is called until it uninstalls itself, then bad_alloc.
  handler_calls = 0;
  std::set_new_handler(handler_then_give_up);
  threw = false;
  try {
    void* p = ::operator new[](v_huge);
    ::operator delete[](p);
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  CHECK(threw && handler_calls == 3);

  // nothrow: same loop, nullptr at the end.
  handler_calls = 0;
  std::set_new_handler(handler_then_give_up);
  CHECK(::operator new(v_huge, std::nothrow) == nullptr);
  CHECK(handler_calls == 3);

  // nothrow with a handler that throws bad_alloc: nullptr, no exception.
  handler_calls = 0;
  std::set_new_handler(handler_throws);
  CHECK(::operator new(v_huge, std::nothrow) == nullptr);
  CHECK(handler_calls == 1);
  std::set_new_handler(nullptr);
}

static void check_threads() {
  // Blocks allocated with new on one thread, deleted on another.
  std::vector<int*> blocks;
  std::thread producer([&] {
    for (int k = 0; k < 10000; k++) blocks.push_back(new int(k));
  });
  producer.join();
  std::thread consumer([&] {
    for (int k = 0; k < 10000; k++) {
      CHECK(*blocks[k] == k && xa_is_in_heap_region(blocks[k]));
      delete blocks[k];
    }
  });
  consumer.join();
}

int main() {
  check_resolution();
  check_plain();
  check_aligned();
  check_failure();
  check_threads();
  std::printf("ov_cxx_new_delete: OK\n");
  return 0;
}
