/* OS layer for Windows: VirtualAlloc / VirtualFree. Reservations are aligned
 * with VirtualAlloc2's address requirement where the system has it, else by
 * reserving more, releasing, and reserving again at the aligned address
 * (retried: another thread may take the range in between). Allocation
 * granularity is 64 KiB; every alignment we ask for is a multiple of it. */
#define PSAPI_VERSION 2  /* GetProcessMemoryInfo -> K32GetProcessMemoryInfo in kernel32 */
#include "os.h"
#include <windows.h>
#include <errno.h>
#include <psapi.h>
#include <string.h>

static size_t os_page_size, os_cpu_count;

/* *slot, one of the two above, read from GetSystemInfo once (0 until then;
 * racing first readers store the same values). */
static size_t system_info(size_t* slot) {
  size_t v = __atomic_load_n(slot, __ATOMIC_RELAXED);
  if (xa_likely(v != 0)) return v;
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  __atomic_store_n(&os_page_size, (size_t)(si.dwPageSize ? si.dwPageSize : 4096), __ATOMIC_RELAXED);
  __atomic_store_n(&os_cpu_count, (size_t)(si.dwNumberOfProcessors ? si.dwNumberOfProcessors : 1), __ATOMIC_RELAXED);
  return __atomic_load_n(slot, __ATOMIC_RELAXED);
}

size_t xa__os_cpu_count(void) { return system_info(&os_cpu_count); }

size_t xa__os_page_size(void) { return system_info(&os_page_size); }

typedef PVOID(WINAPI* virtual_alloc2_fn)(HANDLE, PVOID, SIZE_T, ULONG, ULONG, MEM_EXTENDED_PARAMETER*, ULONG);
static virtual_alloc2_fn os_virtual_alloc2;
static int os_virtual_alloc2_state;  /* 0 unknown, 1 present, 2 absent */

static virtual_alloc2_fn get_virtual_alloc2(void) {
  int state = __atomic_load_n(&os_virtual_alloc2_state, __ATOMIC_ACQUIRE);
  if (state == 0) {
    HMODULE kb = GetModuleHandleA("kernelbase.dll");
    FARPROC f = kb != NULL ? GetProcAddress(kb, "VirtualAlloc2") : NULL;
    os_virtual_alloc2 = (virtual_alloc2_fn)(void (*)(void))f;
    state = f != NULL ? 1 : 2;
    __atomic_store_n(&os_virtual_alloc2_state, state, __ATOMIC_RELEASE);
  }
  return state == 1 ? os_virtual_alloc2 : NULL;
}

/* size bytes aligned to align, reserved (and committed when commit). */
static void* os_alloc(size_t size, size_t align, bool commit) {
  if (size == 0 || size > PTRDIFF_MAX - align) return NULL;
  DWORD err = GetLastError();  /* allocation must not disturb the caller's last error */
  size = xa_align_up(size, xa__os_page_size());
  ULONG type = MEM_RESERVE | (commit ? MEM_COMMIT : 0);
  ULONG prot = commit ? PAGE_READWRITE : PAGE_NOACCESS;
  void* p = NULL;
  if (align <= 65536) {
    p = VirtualAlloc(NULL, size, type, prot);
  } else {
    virtual_alloc2_fn va2 = get_virtual_alloc2();
    if (va2 != NULL) {
      MEM_ADDRESS_REQUIREMENTS req;
      memset(&req, 0, sizeof(req));
      req.Alignment = align;
      MEM_EXTENDED_PARAMETER param;
      memset(&param, 0, sizeof(param));
      param.Type = MemExtendedParameterAddressRequirements;
      param.Pointer = &req;
      p = va2(GetCurrentProcess(), NULL, size, type, prot, &param, 1);
    }
    for (int attempt = 0; p == NULL && attempt < 16; attempt++) {
      uint8_t* over = VirtualAlloc(NULL, size + align, MEM_RESERVE, PAGE_NOACCESS);
      if (over == NULL) break;
      uint8_t* aligned = (uint8_t*)xa_align_up((uintptr_t)over, align);
      VirtualFree(over, 0, MEM_RELEASE);
      p = VirtualAlloc(aligned, size, type, prot);  /* NULL if another thread took it: retry */
    }
  }
  SetLastError(err);
  return p;
}

void* xa__os_alloc_aligned(size_t size, size_t align) { return os_alloc(size, align, true); }
void* xa__os_reserve(size_t size, size_t align) { return os_alloc(size, align, false); }

void xa__os_free(void* p, size_t size) {
  (void)size;  /* Windows releases whole reservations */
  if (p == NULL) return;
  DWORD err = GetLastError();
  VirtualFree(p, 0, MEM_RELEASE);
  SetLastError(err);
}

/* No way to grow or move a reservation with its pages: realloc copies. */
void* xa__os_remap(void* p, size_t old_size, size_t new_size, size_t align, size_t* size) {
  (void)new_size;
  (void)align;
  *size = old_size;
  return p;
}

/* A reservation is released whole; its tail cannot be given back alone. */
bool xa__os_shrink(void* p, size_t old_size, size_t new_size) {
  (void)p;
  (void)old_size;
  (void)new_size;
  return false;
}

bool xa__os_address_space_limited(void) { return false; }

bool xa__os_make_usable(void* p, size_t size) {
  DWORD err = GetLastError();
  bool ok = VirtualAlloc(p, size, MEM_COMMIT, PAGE_READWRITE) != NULL;
  SetLastError(err);
  return ok;
}

/* (The secure build, the only user, is not built on Windows yet. A port
 * must also keep xa__os_purge's recommit from opening a guard again.) */
bool xa__os_protect(void* p, size_t size, bool access) {
  DWORD err = GetLastError();
  DWORD old;
  bool ok = VirtualProtect(p, size, access ? PAGE_READWRITE : PAGE_NOACCESS, &old) != 0;
  SetLastError(err);
  return ok;
}

bool xa__os_commit(void* p, size_t size) { return size == 0 || xa__os_make_usable(p, size); }

bool xa__os_purge(void* p, size_t size) {
  size_t ps = xa__os_page_size();
  uintptr_t start = xa_align_up((uintptr_t)p, ps);
  uintptr_t end = ((uintptr_t)p + size) & ~(uintptr_t)(ps - 1);
  if (end <= start) return false;
  /* Decommit drops the memory at once; committing again keeps the range
   * readable (the arena relies on that) and it reads as zero. */
  DWORD err = GetLastError();
  bool ok = VirtualFree((void*)start, end - start, MEM_DECOMMIT) &&
            VirtualAlloc((void*)start, end - start, MEM_COMMIT, PAGE_READWRITE) != NULL;
  SetLastError(err);
  return ok && start == (uintptr_t)p && end == (uintptr_t)p + size;
}

void xa__os_write_err(const char* msg, size_t len) {
  DWORD err = GetLastError();
  HANDLE h = GetStdHandle(STD_ERROR_HANDLE);
  if (h != NULL && h != INVALID_HANDLE_VALUE) {
    DWORD written;
    WriteFile(h, msg, (DWORD)len, &written, NULL);
  }
  SetLastError(err);
}

bool xa__os_append_file(const char* path, const char* msg, size_t len) {
  DWORD err = GetLastError();
  /* FILE_APPEND_DATA alone: every write goes to the end of the file. */
  HANDLE h = CreateFileA(path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                         OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
  bool ok = h != INVALID_HANDLE_VALUE;
  while (ok && len > 0) {
    DWORD written = 0;
    ok = WriteFile(h, msg, (DWORD)(len < 0x40000000u ? len : 0x40000000u), &written, NULL) && written > 0;
    msg += written;
    len -= written;
  }
  if (h != INVALID_HANDLE_VALUE) CloseHandle(h);
  SetLastError(err);
  return ok;
}

int xa__os_write_file(const char* path, const char* data, size_t len) {
  DWORD saved = GetLastError();
  HANDLE h = CreateFileA(path, GENERIC_WRITE, FILE_SHARE_READ, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
  int err = 0;
  if (h == INVALID_HANDLE_VALUE) {
    DWORD why = GetLastError();
    err = why == ERROR_FILE_NOT_FOUND || why == ERROR_PATH_NOT_FOUND ? ENOENT : EACCES;
  }
  while (err == 0 && len > 0) {
    DWORD written = 0;
    if (!WriteFile(h, data, (DWORD)(len < 0x40000000u ? len : 0x40000000u), &written, NULL) || written == 0) {
      err = EIO;
      break;
    }
    data += written;
    len -= written;
  }
  if (h != INVALID_HANDLE_VALUE) CloseHandle(h);
  SetLastError(saved);
  return err;
}

/* RtlCaptureStackBackTrace walks the x64 unwind data; it does not allocate. */
XA_NOINLINE int xa__os_backtrace(void** frames, int max, int skip) {
  if (max <= 0) return 0;
  return (int)RtlCaptureStackBackTrace((DWORD)skip + 1, (DWORD)max, frames, NULL);
}

/* No symbol lookup without dbghelp (which allocates): addresses only. */
size_t xa__os_symbol(const void* ip, char* buf, size_t cap, bool* ours) {
  (void)ip;
  (void)buf;
  (void)cap;
  *ours = false;
  return 0;
}

size_t xa__os_memory_map(char* buf, size_t cap) {
  (void)buf;
  (void)cap;
  return 0;
}

unsigned long xa__os_pid(void) { return (unsigned long)GetCurrentProcessId(); }

void xa__os_process_name(char* buf, size_t size) {
  if (size == 0) return;
  DWORD err = GetLastError();
  char path[MAX_PATH];
  DWORD n = GetModuleFileNameA(NULL, path, sizeof(path));
  if (n >= sizeof(path)) n = 0;  /* truncated: the base name may be cut */
  DWORD start = 0;
  for (DWORD i = 0; i < n; i++)
    if (path[i] == '\\' || path[i] == '/') start = i + 1;
  size_t out = 0;
  for (DWORD i = start; i < n && out + 1 < size; i++) buf[out++] = path[i];
  buf[out] = 0;
  SetLastError(err);
}

const char* xa__os_getenv(const char* name) {
  /* Only read at start-up for a handful of options: a few static buffers. */
  static char buffers[4][256];
  static unsigned next;
  char* buf = buffers[__atomic_fetch_add(&next, 1, __ATOMIC_RELAXED) % 4];
  DWORD err = GetLastError();
  DWORD n = GetEnvironmentVariableA(name, buf, sizeof(buffers[0]));
  SetLastError(err);
  return n > 0 && n < sizeof(buffers[0]) ? buf : NULL;
}

size_t xa__os_rss(void) {
  PROCESS_MEMORY_COUNTERS pmc;
  memset(&pmc, 0, sizeof(pmc));
  DWORD err = GetLastError();
  BOOL ok = GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof(pmc));
  SetLastError(err);
  return ok ? pmc.WorkingSetSize : 0;
}

uint64_t xa__os_clock_ms(void) { return GetTickCount64(); }

/* kernel32 has no random source of its own (that is in advapi32/bcrypt):
 * clocks, ids and addresses, which the caller mixes. */
uint64_t xa__os_random_u64(void) {
  LARGE_INTEGER t;
  QueryPerformanceCounter(&t);
  uint64_t r = (uint64_t)t.QuadPart;
  return (r << 17) ^ r ^ ((uint64_t)GetCurrentProcessId() << 40) ^ ((uint64_t)GetCurrentThreadId() << 20) ^
         (uint64_t)(uintptr_t)&t ^ GetTickCount64();
}

void xa__os_purge_lazy(void* p, size_t size) { xa__os_purge(p, size); }

void xa__os_advise_thp(void* p, size_t size, int mode) { (void)p; (void)size; (void)mode; }

uint64_t xa__os_thread_id(void) { return GetCurrentThreadId(); }

/* Thread data of a Windows thread is handed over by its FLS callback; a
 * thread is never declared ended from outside. */
bool xa__os_thread_alive(uint64_t id) {
  (void)id;
  return true;
}

static void (*os_thread_fn)(void);

static DWORD WINAPI os_thread_main(LPVOID arg) {
  (void)arg;
  os_thread_fn();
  return 0;
}

bool xa__os_thread_start(void (*fn)(void)) {
  DWORD err = GetLastError();
  os_thread_fn = fn;
  HANDLE h = CreateThread(NULL, (SIZE_T)64 << 10, os_thread_main, NULL, 0, NULL);
  if (h != NULL) CloseHandle(h);
  SetLastError(err);
  return h != NULL;
}

void xa__os_sleep_ms(uint64_t ms) { Sleep((DWORD)ms); }

void xa__os_yield(void) { SwitchToThread(); }

void xa__os_env_visit(xa_env_visit_fn* visit, void* arg) {
  /* The block comes from the process heap (HeapAlloc), not from malloc. */
  DWORD err = GetLastError();
  char* block = GetEnvironmentStringsA();
  if (block != NULL) {
    for (char* e = block; *e != 0; e += strlen(e) + 1) {
      if (*e == '=') continue;  /* per-drive directories such as "=C:=C:\\" */
      if (!visit(e, arg)) break;
    }
    FreeEnvironmentStringsA(block);
  }
  SetLastError(err);
}

int64_t xa__os_cgroup_memory_max(void) { return -1; }  /* no cgroups on Windows */
