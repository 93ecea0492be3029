/* OS layer for POSIX systems (Linux first): mmap, munmap, madvise. */
#include "os.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <unwind.h>

/* A sysconf value, read once into *slot (0 until then); fallback when the
 * system gives none. Racing first readers store the same value. */
static size_t sysconf_once(size_t* slot, int name, size_t fallback) {
  size_t v = __atomic_load_n(slot, __ATOMIC_RELAXED);
  if (xa_likely(v != 0)) return v;
  long r = sysconf(name);
  v = r > 0 ? (size_t)r : fallback;
  __atomic_store_n(slot, v, __ATOMIC_RELAXED);
  return v;
}

static size_t os_page_size, os_cpu_count;

size_t xa__os_cpu_count(void) { return sysconf_once(&os_cpu_count, _SC_NPROCESSORS_ONLN, 1); }

size_t xa__os_page_size(void) { return sysconf_once(&os_page_size, _SC_PAGESIZE, 4096); }

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

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000  /* Linux 4.17; older kernels take it as a hint */
#endif

/* A mapping exactly at addr (never replacing anything), or NULL. */
static void* os_mmap_exactly(uintptr_t addr, size_t size, int prot) {
  if (addr == 0) return NULL;
  int saved = errno;
  void* p = mmap((void*)addr, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  errno = saved;
  if (p == MAP_FAILED) return NULL;
  if (p != (void*)addr) {  /* an old kernel took it as a hint */
    os_munmap(p, size);
    return NULL;
  }
  return p;
}

/* Just below the last aligned mapping that needed more than a plain mmap:
 * where the next one most likely fits (the kernel hands out addresses
 * top-down). Only a hint; threads may race on it. */
static _Atomic(uintptr_t) os_aligned_next;

/* size bytes aligned to align with protection prot, never needing more than
 * size bytes of address space at any moment while a cheaper way works (under
 * RLIMIT_AS every mapped byte counts):
 * - a size that is a multiple of align usually lands aligned when it follows
 *   the previous mapping: try a plain mapping first;
 * - other sizes (huge segments map only what they need) leave the rest of
 *   their last aligned chunk free, and a plain mapping lands in such a hole:
 *   ask for the aligned address below the last one placed this way first;
 * - then the aligned address just below where the plain mapping landed;
 * - last resort: over-map by align and trim both ends (size + align bytes
 *   for a moment; under a tight limit that fails, and so does the call). */
static void* os_map_aligned(size_t size, size_t align, int prot) {
  if (size == 0 || size > PTRDIFF_MAX - align) return NULL;
  size = xa_align_up(size, xa__os_page_size());
  uintptr_t mask = align - 1;
  uintptr_t next = atomic_load_explicit(&os_aligned_next, memory_order_relaxed);
  void* p = NULL;
  if ((size & mask) != 0 && next > size) p = os_mmap_exactly((next - size) & ~mask, size, prot);
  if (p == NULL) {
    p = os_mmap(size, prot);
    if (p == NULL) return NULL;
    if (((uintptr_t)p & mask) == 0) return p;
    os_munmap(p, size);
    p = os_mmap_exactly((uintptr_t)p & ~mask, size, prot);
  }
  if (p == NULL) {
    size_t over = size + align;
    uint8_t* q = os_mmap(over, prot);
    if (q == NULL) return NULL;
    uint8_t* aligned = (uint8_t*)xa_align_up((uintptr_t)q, align);
    size_t pre = (size_t)(aligned - q);
    size_t post = over - pre - size;
    if (pre) os_munmap(q, pre);
    if (post) os_munmap(aligned + size, post);
    p = aligned;
  }
  atomic_store_explicit(&os_aligned_next, (uintptr_t)p, memory_order_relaxed);
  return p;
}

void* xa__os_alloc_aligned(size_t size, size_t align) { return os_map_aligned(size, align, PROT_READ | PROT_WRITE); }

void* xa__os_reserve(size_t size, size_t align) { return os_map_aligned(size, align, PROT_NONE); }

bool xa__os_make_usable(void* p, size_t size) {
  int saved = errno;
  int r = mprotect(p, size, PROT_READ | PROT_WRITE);
  errno = saved;
  return r == 0;
}

bool xa__os_protect(void* p, size_t size, bool access) {
  int saved = errno;
  int r = mprotect(p, size, access ? PROT_READ | PROT_WRITE : PROT_NONE);
  errno = saved;
  return r == 0;
}

void xa__os_free(void* p, size_t size) {
  if (p == NULL || size == 0) return;
  os_munmap(p, xa_align_up(size, xa__os_page_size()));
}

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4  /* Linux 5.7 */
#endif

/* After a failed MREMAP_FIXED move into [p, p + size), a range we had
 * reserved: the kernel may have unmapped it before it failed, and another
 * thread may have mapped something there since. Unmap it only when it is
 * provably ours (we can map it without replacing anything); otherwise leave
 * it: at worst a PROT_NONE reservation (address space, no memory) stays
 * behind, which is better than unmapping someone else's memory. Only
 * reached when the kernel refuses a move it had no reason to refuse. */
static void os_release_if_free(void* p, size_t size) {
  int saved = errno;
  void* q = mmap(p, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (q != MAP_FAILED) munmap(q, size);  /* ours now, wherever it landed */
  errno = saved;
}

static _Atomic(int) os_dontunmap_missing;  /* the kernel (or emulator) lacks MREMAP_DONTUNMAP */

void* xa__os_remap(void* p, size_t old_size, size_t new_size, size_t align, size_t* size) {
  *size = old_size;
  if (new_size <= old_size) return p;
  int saved = errno;
  /* In place, when the addresses after the mapping are free. */
  void* r = mremap(p, old_size, new_size, 0);
  int err = errno;
  errno = saved;
  if (r != MAP_FAILED) {
    *size = new_size;
    return p;
  }
  /* ENOMEM: no room after it. Anything else (EFAULT: the range is no longer
   * one mapping, e.g. split by madvise or mprotect): a move could fail half
   * way, so do not try. */
  if (err != ENOMEM || atomic_load_explicit(&os_dontunmap_missing, memory_order_relaxed)) return p;
  /* Moving and growing in one MREMAP_FIXED call can fail after the kernel
   * unmapped the target (accounting, mlock limits), and growing in a second
   * call after the move can fail because another thread mapped something
   * right after the moved pages. So: reserve an aligned target of the new
   * size; move the pages, size unchanged, into its start while keeping the
   * old range mapped (MREMAP_DONTUNMAP: it stays ours, empty); grow in place
   * over the rest of the reservation; and if that fails, move the pages back
   * over our own old range. Only then is the old range given back. */
  uint8_t* target = os_map_aligned(new_size, align, PROT_NONE);
  if (target == NULL) return p;
  uint8_t* rest = target + old_size;
  size_t rest_size = new_size - old_size;
  r = mremap(p, old_size, old_size, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, target);
  err = errno;
  if (r == MAP_FAILED) {
    os_munmap(rest, rest_size);  /* a move of old_size bytes does not touch this part */
    if (err == EINVAL) {  /* refused before doing anything: an old kernel */
      atomic_store_explicit(&os_dontunmap_missing, 1, memory_order_relaxed);
      os_munmap(target, old_size);
    } else {
      os_release_if_free(target, old_size);
    }
    errno = saved;
    return p;
  }
  os_munmap(rest, rest_size);
  r = mremap(target, old_size, new_size, 0);
  if (r != MAP_FAILED) {
    os_munmap(p, old_size);
    errno = saved;
    *size = new_size;
    return target;
  }
  /* Somebody took the room: back to where the pages were. */
  r = mremap(target, old_size, old_size, MREMAP_MAYMOVE | MREMAP_FIXED, p);
  if (r == MAP_FAILED) os_release_if_free(p, old_size);  /* the kernel is out of memory: they stay */
  errno = saved;
  return r != MAP_FAILED ? p : target;
}

bool xa__os_shrink(void* p, size_t old_size, size_t new_size) {
  if (new_size < old_size) os_munmap((uint8_t*)p + new_size, old_size - new_size);
  return true;
}

bool xa__os_address_space_limited(void) {
  struct rlimit r;
  int saved = errno;
  bool limited = getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY;
  errno = saved;
  return limited;
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

void xa__os_purge_lazy(void* p, size_t size) {
#if defined(MADV_FREE)
  size_t ps = xa__os_page_size();
  uintptr_t start = xa_align_up((uintptr_t)p, ps);
  uintptr_t end = ((uintptr_t)p + size) & ~(uintptr_t)(ps - 1);
  if (end <= start) return;
  int saved = errno;
  int r = madvise((void*)start, end - start, MADV_FREE);
  errno = saved;
  if (r == 0) return;
#endif
  xa__os_purge(p, size);  /* kernels before 4.5 */
}

void xa__os_advise_thp(void* p, size_t size, int mode) {
#if defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
  if (mode == 1) return;
  int saved = errno;
  madvise(p, size, mode == 0 ? MADV_NOHUGEPAGE : MADV_HUGEPAGE);
  errno = saved;
#else
  (void)p; (void)size; (void)mode;
#endif
}

uint64_t xa__os_thread_id(void) {
#if defined(SYS_gettid)
  return (uint64_t)syscall(SYS_gettid);
#else
  return 0;
#endif
}

bool xa__os_thread_alive(uint64_t id) {
#if defined(SYS_tgkill)
  if (id == 0) return true;
  int saved = errno;
  /* Signal 0 only checks that the thread exists in this process. */
  long r = syscall(SYS_tgkill, (long)getpid(), (long)id, 0);
  bool gone = r != 0 && errno == ESRCH;
  errno = saved;
  return !gone;
#else
  (void)id;
  return true;
#endif
}

static void (*os_thread_fn)(void);

static void* os_thread_main(void* arg) {
  (void)arg;
  os_thread_fn();
  return NULL;
}

bool xa__os_thread_start(void (*fn)(void)) {
  int saved = errno;
  os_thread_fn = fn;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);  /* the new thread inherits it: no signal lands there */
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, (size_t)64 << 10);
  pthread_t t;
  int r = pthread_create(&t, &attr, os_thread_main, NULL);
  pthread_attr_destroy(&attr);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = saved;
  return r == 0;
}

void xa__os_sleep_ms(uint64_t ms) {
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  int saved = errno;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
  errno = saved;
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

int xa__os_write_file(const char* path, const char* data, size_t len) {
  int saved = errno;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = fd < 0 ? errno : 0;
  while (err == 0 && len > 0) {
    ssize_t n = write(fd, data, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      err = n < 0 ? errno : EIO;
      break;
    }
    data += n;
    len -= (size_t)n;
  }
  if (fd >= 0 && close(fd) != 0 && err == 0) err = errno;
  errno = saved;
  return err;
}

/* ---- stacks and symbols (heap profile) ---------------------------------------- */

typedef struct {
  void** frames;
  int max, count, skip;
} unwind_walk_t;

static _Unwind_Reason_Code unwind_step(struct _Unwind_Context* ctx, void* arg) {
  unwind_walk_t* w = arg;
  uintptr_t ip = (uintptr_t)_Unwind_GetIP(ctx);
  if (ip == 0) return _URC_END_OF_STACK;
  if (w->skip > 0) {
    w->skip--;
    return _URC_NO_REASON;
  }
  w->frames[w->count++] = (void*)ip;
  return w->count < w->max ? _URC_NO_REASON : _URC_END_OF_STACK;
}

/* The unwinder reads the binaries' unwind tables (.eh_frame_hdr, found with
 * dl_iterate_phdr): no frame pointers needed, no malloc. (glibc's
 * backtrace() loads libgcc_s with dlopen, which allocates, on first use.) */
XA_NOINLINE int xa__os_backtrace(void** frames, int max, int skip) {
  unwind_walk_t w = {frames, max, 0, skip + 1};  /* + this function */
  if (max <= 0) return 0;
  _Unwind_Backtrace(unwind_step, &w);
  return w.count;
}

static const char* base_name(const char* path) {
  const char* slash = strrchr(path, '/');
  return slash != NULL ? slash + 1 : path;
}

size_t xa__os_symbol(const void* ip, char* buf, size_t cap, bool* ours) {
  Dl_info info, self;
  *ours = false;
  if (cap < 24 || dladdr(ip, &info) == 0 || info.dli_fname == NULL) return 0;
  /* xalloc's own shared library (not a program it is linked into). */
  if (dladdr((const void*)xa__os_symbol, &self) != 0 && self.dli_fbase == info.dli_fbase &&
      strstr(base_name(info.dli_fname), "xalloc") != NULL && strstr(base_name(info.dli_fname), ".so") != NULL) {
    *ours = true;
  }
  size_t n;
  if (info.dli_sname != NULL) {
    n = strlen(info.dli_sname);
    if (n > cap - 1) n = cap - 1;
    memcpy(buf, info.dli_sname, n);
  } else {
    const char* mod = base_name(info.dli_fname);
    n = strlen(mod);
    if (n > cap - 22) n = cap - 22;
    memcpy(buf, mod, n);
    uintptr_t off = (uintptr_t)ip - (uintptr_t)info.dli_fbase;
    char hex[20];
    size_t h = 0;
    do {
      hex[h++] = "0123456789abcdef"[off & 15];
      off >>= 4;
    } while (off != 0);
    buf[n++] = '+';
    buf[n++] = '0';
    buf[n++] = 'x';
    while (h > 0) buf[n++] = hex[--h];
  }
  buf[n] = 0;
  return n;
}

static ssize_t read_small_file(const char* path, char* buf, size_t cap);  /* below */

size_t xa__os_memory_map(char* buf, size_t cap) {
  if (cap == 0) return 0;
  ssize_t n = read_small_file("/proc/self/maps", buf, cap);
  return n > 0 ? (size_t)n : 0;
}

unsigned long xa__os_pid(void) { return (unsigned long)getpid(); }


void xa__os_process_name(char* buf, size_t size) {
  if (size == 0) return;
  int saved = errno;
  /* /proc/self/cmdline is argv, NUL-separated; comm (15 characters) is the
   * fallback for processes whose argv is gone. */
  char raw[256];
  ssize_t got = read_small_file("/proc/self/cmdline", raw, sizeof(raw));
  size_t n = got > 0 ? (size_t)got : 0;
  bool cut = n == sizeof(raw) - 1;
  while (n > 0 && raw[n - 1] == 0) n--;
  if (n == 0) {
    got = read_small_file("/proc/self/comm", raw, sizeof(raw));
    n = got > 0 ? (size_t)got : 0;
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

uint64_t xa__os_random_u64(void) {
  uint64_t r = 0;
#if defined(SYS_getrandom)
  /* Non-blocking: early in boot the pool may not be ready, and this runs
   * inside the first malloc. /dev/urandom below never blocks either. */
  if (syscall(SYS_getrandom, &r, sizeof(r), 0x0001 /* GRND_NONBLOCK */) == (long)sizeof(r)) return r;
#endif
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ssize_t n = read(fd, &r, sizeof(r));
    close(fd);
    if (n == (ssize_t)sizeof(r)) return r;
  }
  /* No random source (a chroot without /dev): weaker, still per process. */
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ((uint64_t)ts.tv_nsec << 32) ^ (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&r ^ ((uint64_t)getpid() << 16);
}

uint64_t xa__os_clock_ms(void) {
  struct timespec ts;
#if defined(CLOCK_MONOTONIC_COARSE)
  /* A few ms of resolution is plenty for delays, at a fraction of the cost. */
  if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) == 0) return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
#endif
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void xa__os_yield(void) { sched_yield(); }

void xa__os_env_visit(xa_env_visit_fn* visit, void* arg) {
  if (environ == NULL) return;
  for (char** e = environ; *e != NULL; e++) {
    if (!visit(*e, arg)) return;
  }
}

/* Reads a small file into buf (NUL-terminated); the length, or -1. */
static ssize_t read_small_file(const char* path, char* buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  size_t len = 0;
  while (len + 1 < cap) {
    ssize_t n = read(fd, buf + len, cap - 1 - len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = 0;
  return (ssize_t)len;
}

/* The limit in one cgroup file: bytes, 0 for unlimited, -1 unreadable. */
static int64_t cgroup_limit_file(const char* path) {
  char text[64];
  if (read_small_file(path, text, sizeof(text)) <= 0) return -1;
  if (strncmp(text, "max", 3) == 0) return 0;
  uint64_t v = 0;
  const char* s = text;
  if (*s < '0' || *s > '9') return -1;
  for (; *s >= '0' && *s <= '9'; s++) {
    if (v > (UINT64_MAX - 9) / 10) return 0;
    v = v * 10 + (uint64_t)(*s - '0');
  }
  /* v1 says "unlimited" with LONG_MAX rounded down to a page. */
  return v >= ((uint64_t)1 << 62) ? 0 : (int64_t)v;
}

/* full = mount + path[0..path_len) + "/" + file; false if it does not fit. */
static bool cgroup_file_path(char* full, size_t cap, const char* mount, const char* path, size_t path_len,
                             const char* file) {
  size_t mlen = strlen(mount), flen = strlen(file);
  if (mlen + path_len + 1 + flen + 1 > cap) return false;
  memcpy(full, mount, mlen);
  memcpy(full + mlen, path, path_len);
  full[mlen + path_len] = '/';
  memcpy(full + mlen + path_len + 1, file, flen + 1);
  return true;
}

/* The tightest limit of the cgroup at mount+path and its ancestors. */
static int64_t cgroup_limit_walk(const char* mount, const char* path, size_t path_len, const char* file) {
  char full[1024];
  int64_t best = -1;
  for (;;) {
    while (path_len > 0 && path[path_len - 1] == '/') path_len--;
    if (cgroup_file_path(full, sizeof(full), mount, path, path_len, file)) {
      int64_t v = cgroup_limit_file(full);
      if (v == 0 && best < 0) best = 0;                    /* unlimited at this level */
      else if (v > 0 && (best <= 0 || v < best)) best = v;  /* a tighter limit */
    }
    if (path_len == 0) return best;
    while (path_len > 0 && path[path_len - 1] != '/') path_len--;
  }
}

int64_t xa__os_cgroup_memory_max(void) {
  int saved = errno;
  char buf[4096];
  int64_t result = -1;
  if (read_small_file("/proc/self/cgroup", buf, sizeof(buf)) > 0) {
    /* Lines "id:controllers:/path": v2 is "0::/path"; v1 lists "memory". */
    const char* v2 = NULL;
    const char* v1 = NULL;
    size_t v2_len = 0, v1_len = 0;
    for (const char* line = buf; *line != 0;) {
      const char* end = strchr(line, '\n');
      if (end == NULL) end = line + strlen(line);
      const char* c1 = memchr(line, ':', (size_t)(end - line));
      const char* c2 = c1 != NULL ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
      if (c2 != NULL) {
        if (c1 == line + 1 && line[0] == '0' && c2 == c1 + 1) {
          v2 = c2 + 1;
          v2_len = (size_t)(end - v2);
        }
        for (const char* w = c1 + 1; w < c2;) {
          const char* comma = memchr(w, ',', (size_t)(c2 - w));
          const char* wend = comma != NULL ? comma : c2;
          if (wend - w == 6 && memcmp(w, "memory", 6) == 0) {
            v1 = c2 + 1;
            v1_len = (size_t)(end - v1);
          }
          w = wend + 1;
        }
      }
      line = *end != 0 ? end + 1 : end;
    }
    const char* usage_file = NULL;
    const char* mount = NULL;
    const char* path = NULL;
    size_t path_len = 0;
    if (v2 != NULL) {
      result = cgroup_limit_walk("/sys/fs/cgroup", v2, v2_len, "memory.max");
      mount = "/sys/fs/cgroup", path = v2, path_len = v2_len, usage_file = "memory.current";
    }
    if (result < 0 && v1 != NULL) {
      result = cgroup_limit_walk("/sys/fs/cgroup/memory", v1, v1_len, "memory.limit_in_bytes");
      mount = "/sys/fs/cgroup/memory", path = v1, path_len = v1_len, usage_file = "memory.usage_in_bytes";
    }
    /* The cgroup also holds what is not xalloc's (code, stacks, page cache,
     * other processes): the limit is the room left when it is read, so that
     * xalloc answers ENOMEM before the cgroup's OOM killer acts. */
    if (result > 0 && mount != NULL) {
      char full[1024];
      while (path_len > 0 && path[path_len - 1] == '/') path_len--;
      if (cgroup_file_path(full, sizeof(full), mount, path, path_len, usage_file)) {
        int64_t used = cgroup_limit_file(full);
        if (used > 0) result = used < result - ((int64_t)1 << 20) ? result - used : ((int64_t)1 << 20);
      }
    }
  }
  errno = saved;
  return result;
}
