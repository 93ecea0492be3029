/* libxa-sizes.so: counts the sizes a program asks malloc for (issue 14:
 * size classes that fit real programs). Preload it in front of glibc:
 *
 *   XA_SIZES_FILE=/tmp/sizes.%p LD_PRELOAD=build/bench/libxa-sizes.so prog
 *
 * Each call of malloc, calloc, realloc (with a nonzero size), posix_memalign,
 * aligned_alloc, memalign, valloc and pvalloc counts its size; the calls go
 * on to glibc's own functions (__libc_malloc and friends), so the counts do
 * not depend on the allocator under test. At exit the nonzero counts are
 * written as "size count" lines ("over count" for the sizes above
 * SIZES_MAX), one file per process (%p: the process id, as gcc and
 * sqlite's shell may start others). bench/size-classes reads the files. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIZES_MAX ((size_t)1 << 20)  /* past the largest size class (512 KiB) */

extern void* __libc_malloc(size_t);
extern void* __libc_calloc(size_t, size_t);
extern void* __libc_realloc(void*, size_t);
extern void* __libc_memalign(size_t, size_t);
extern void __libc_free(void*);

/* Zero-initialised: only the pages of sizes used become resident. */
static _Atomic uint64_t counts[SIZES_MAX + 2];

static void count(size_t size) {
  size_t i = size <= SIZES_MAX ? size : SIZES_MAX + 1;
  atomic_fetch_add_explicit(&counts[i], 1, memory_order_relaxed);
}

void* malloc(size_t size) { count(size); return __libc_malloc(size); }
void free(void* p) { __libc_free(p); }
void cfree(void* p) { __libc_free(p); }

void* calloc(size_t n, size_t size) {
  size_t total;
  if (!__builtin_mul_overflow(n, size, &total)) count(total);
  return __libc_calloc(n, size);
}

void* realloc(void* p, size_t size) {
  if (size != 0 || p == NULL) count(size);
  return __libc_realloc(p, size);
}

void* memalign(size_t align, size_t size) { count(size); return __libc_memalign(align, size); }
void* aligned_alloc(size_t align, size_t size) { return memalign(align, size); }
void* valloc(size_t size) { return memalign((size_t)sysconf(_SC_PAGESIZE), size); }

void* pvalloc(size_t size) {
  size_t ps = (size_t)sysconf(_SC_PAGESIZE), rounded;
  if (__builtin_add_overflow(size, ps - 1, &rounded)) {
    errno = ENOMEM;
    return NULL;
  }
  return memalign(ps, rounded & ~(ps - 1));
}

int posix_memalign(void** out, size_t align, size_t size) {
  if (align < sizeof(void*) || (align & (align - 1)) != 0) return EINVAL;
  void* p = memalign(align, size);
  if (p == NULL && size != 0) return ENOMEM;
  *out = p;
  return 0;
}

/* A child of fork() that exits without exec would write its parent's counts
 * again under its own id: it starts from zero. */
static void clear_counts(void) {
  for (size_t i = 0; i <= SIZES_MAX + 1; i++)  /* reads of untouched pages map no memory */
    if (atomic_load_explicit(&counts[i], memory_order_relaxed) != 0) atomic_store_explicit(&counts[i], 0, memory_order_relaxed);
}

__attribute__((constructor)) static void setup(void) { pthread_atfork(NULL, NULL, clear_counts); }

/* The path with %p replaced by the process id. */
static void file_name(char* out, size_t cap, const char* tmpl) {
  size_t n = 0;
  for (const char* s = tmpl; *s != '\0' && n + 24 < cap; s++) {
    if (s[0] == '%' && s[1] == 'p') {
      n += (size_t)snprintf(out + n, cap - n, "%ld", (long)getpid());
      s++;
    } else {
      out[n++] = *s;
    }
  }
  out[n] = '\0';
}

__attribute__((destructor)) static void write_counts(void) {
  const char* tmpl = getenv("XA_SIZES_FILE");
  if (tmpl == NULL || *tmpl == '\0') return;
  char path[4096];
  file_name(path, sizeof path, tmpl);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  char line[64];
  for (size_t i = 0; i <= SIZES_MAX + 1; i++) {
    uint64_t c = atomic_load_explicit(&counts[i], memory_order_relaxed);
    if (c == 0) continue;
    int len = i <= SIZES_MAX ? snprintf(line, sizeof line, "%zu %llu\n", i, (unsigned long long)c)
                             : snprintf(line, sizeof line, "over %llu\n", (unsigned long long)c);
    if (write(fd, line, (size_t)len) != len) break;
  }
  close(fd);
}
