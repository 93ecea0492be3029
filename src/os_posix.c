/* OS layer for POSIX systems (Linux first): mmap, munmap, madvise. */
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static size_t os_page_size = 0;

size_t xa__os_page_size(void) {
  size_t ps = __atomic_load_n(&os_page_size, __ATOMIC_RELAXED);
  if (xa_unlikely(ps == 0)) {
    long r = sysconf(_SC_PAGESIZE);
    ps = r > 0 ? (size_t)r : 4096;
    __atomic_store_n(&os_page_size, ps, __ATOMIC_RELAXED);
  }
  return ps;
}

static void* os_mmap(size_t size, int prot) {
  int saved = errno;  /* a failed mmap must not leak its errno into a successful call */
  void* p = mmap(NULL, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  errno = saved;
  return p == MAP_FAILED ? NULL : p;
}

static void os_munmap(void* p, size_t size) {
  int saved = errno;
  munmap(p, size);
  errno = saved;
}

/* size bytes aligned to align with protection prot. Most mappings land
 * aligned when they follow the previous one: try a plain mapping first, then
 * over-map by align and trim both ends. */
static void* os_map_aligned(size_t size, size_t align, int prot) {
  if (size == 0 || size > PTRDIFF_MAX - align) return NULL;
  size = xa_align_up(size, xa__os_page_size());
  void* p = os_mmap(size, prot);
  if (p == NULL) return NULL;
  if (((uintptr_t)p & (align - 1)) == 0) return p;
  os_munmap(p, size);
  size_t over = size + align;
  uint8_t* q = os_mmap(over, prot);
  if (q == NULL) return NULL;
  uint8_t* aligned = (uint8_t*)xa_align_up((uintptr_t)q, align);
  size_t pre = (size_t)(aligned - q);
  size_t post = over - pre - size;
  if (pre) os_munmap(q, pre);
  if (post) os_munmap(aligned + size, post);
  return aligned;
}

void* xa__os_alloc_aligned(size_t size, size_t align) { return os_map_aligned(size, align, PROT_READ | PROT_WRITE); }

void* xa__os_reserve(size_t size, size_t align) { return os_map_aligned(size, align, PROT_NONE); }

bool xa__os_make_usable(void* p, size_t size) {
  int saved = errno;
  int r = mprotect(p, size, PROT_READ | PROT_WRITE);
  errno = saved;
  return r == 0;
}

void xa__os_free(void* p, size_t size) {
  if (p == NULL || size == 0) return;
  os_munmap(p, xa_align_up(size, xa__os_page_size()));
}

bool xa__os_commit(void* p, size_t size) {
  (void)p; (void)size;  /* purged memory stays mapped read/write on POSIX */
  return true;
}

bool xa__os_purge(void* p, size_t size) {
  size_t ps = xa__os_page_size();
  uintptr_t start = xa_align_up((uintptr_t)p, ps);
  uintptr_t end = ((uintptr_t)p + size) & ~(uintptr_t)(ps - 1);
  if (end <= start) return false;
  int saved = errno;
  /* MADV_DONTNEED drops the pages at once (RSS falls now, not under pressure)
   * and the range reads as zero afterwards -- on a real kernel. Emulators
   * (qemu-user 7) may ignore it, so a marker written first tells whether the
   * memory really reads as zero now; callers rely on that answer. */
  volatile uint64_t* marker = (volatile uint64_t*)start;
  *marker = 0x5a5a5a5a5a5a5a5aull;
  int r = madvise((void*)start, end - start, MADV_DONTNEED);
  errno = saved;
  bool zeroed = r == 0 && *marker == 0;
  return zeroed && start == (uintptr_t)p && end == (uintptr_t)p + size;
}

void xa__os_write_err(const char* msg, size_t len) {
  int saved = errno;
  while (len > 0) {
    ssize_t n = write(2, msg, len);
    if (n <= 0) break;
    msg += n;
    len -= (size_t)n;
  }
  errno = saved;
}

bool xa__os_append_file(const char* path, const char* msg, size_t len) {
  int saved = errno;
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  bool ok = fd >= 0;
  while (ok && len > 0) {
    ssize_t n = write(fd, msg, len);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) {
      msg += n;
      len -= (size_t)n;
    }
  }
  if (fd >= 0) close(fd);
  errno = saved;
  return ok;
}

unsigned long xa__os_pid(void) { return (unsigned long)getpid(); }

/* Read up to size-1 bytes of a /proc file; returns the count (0 on failure). */
static size_t read_small_file(const char* path, char* buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  size_t n = 0;
  while (n + 1 < size) {
    ssize_t r = read(fd, buf + n, size - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    n += (size_t)r;
  }
  close(fd);
  return n;
}

void xa__os_process_name(char* buf, size_t size) {
  if (size == 0) return;
  int saved = errno;
  /* /proc/self/cmdline is argv, NUL-separated; comm (15 characters) is the
   * fallback for processes whose argv is gone. */
  char raw[256];
  size_t n = read_small_file("/proc/self/cmdline", raw, sizeof(raw));
  bool cut = n == sizeof(raw) - 1;
  while (n > 0 && raw[n - 1] == 0) n--;
  if (n == 0) {
    n = read_small_file("/proc/self/comm", raw, sizeof(raw));
    while (n > 0 && (raw[n - 1] == '\n' || raw[n - 1] == 0)) n--;
    cut = false;
  }
  size_t start = 0, arg0_end = 0;
  while (arg0_end < n && raw[arg0_end] != 0) arg0_end++;
  for (size_t i = 0; i < arg0_end; i++)
    if (raw[i] == '/') start = i + 1;
  /* Longer than buf (or than raw): keep room for "..." to say so. */
  size_t room = size - 1;
  if (cut || n - start > room) {
    cut = true;
    room = room > 3 ? room - 3 : 0;
  }
  size_t out = 0;
  for (size_t i = start; i < n && out < room; i++) {
    char c = raw[i];
    buf[out++] = c == 0 ? ' ' : (c < ' ' || c > '~') ? '?' : c;
  }
  for (int i = 0; cut && i < 3 && out + 1 < size; i++) buf[out++] = '.';
  buf[out] = 0;
  errno = saved;
}

extern char** environ;

const char* xa__os_getenv(const char* name) {
  /* getenv is allocation-free in glibc, but we may run before libc is fully
   * initialised under LD_PRELOAD; walk environ ourselves. */
  if (environ == NULL || name == NULL) return NULL;
  size_t n = strlen(name);
  for (char** e = environ; *e != NULL; e++) {
    if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') return *e + n + 1;
  }
  return NULL;
}

size_t xa__os_rss(void) {
  int saved = errno;
  int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  size_t rss = 0;
  if (fd >= 0) {
    char buf[128];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n > 0) {
      buf[n] = 0;
      const char* s = buf;
      while (*s && *s != ' ') s++;
      while (*s == ' ') s++;
      size_t pages = 0;
      while (*s >= '0' && *s <= '9') pages = pages * 10 + (size_t)(*s++ - '0');
      rss = pages * xa__os_page_size();
    }
  }
  errno = saved;
  return rss;
}

uint64_t xa__os_clock_ms(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void xa__os_yield(void) { sched_yield(); }
