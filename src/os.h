/* The OS layer: the only place that talks to the kernel about memory.
 * One implementation per platform (os_posix.c, later os_windows.c).
 * All functions are thread-safe and never allocate through malloc. */
#ifndef XA_OS_H
#define XA_OS_H

#include "config.h"

/* Page size of the OS (4 KiB typically). */
XA_INTERNAL size_t xa__os_page_size(void);
/* Processors online (at least 1), read once. */
XA_INTERNAL size_t xa__os_cpu_count(void);

/* Reserve and commit size bytes aligned to align (a power of two, multiple of
 * the page size). Returns NULL on failure. The memory reads as zero. */
XA_INTERNAL void* xa__os_alloc_aligned(size_t size, size_t align);

/* Reserve size bytes of address space aligned to align, inaccessible until
 * made usable. NULL on failure. */
XA_INTERNAL void* xa__os_reserve(size_t size, size_t align);

/* Make part of a reservation readable and writable (reads as zero). */
XA_INTERNAL bool xa__os_make_usable(void* p, size_t size);

/* Make [p, p + size) (page multiples, inside one of our mappings)
 * inaccessible (access false: a guard page, the secure build), or readable
 * and writable again. False when the OS refuses (Linux: ENOMEM when the
 * split mapping would exceed vm.max_map_count); errno is left as it was. */
XA_INTERNAL bool xa__os_protect(void* p, size_t size, bool access);

/* Return memory obtained from xa__os_alloc_aligned (the whole range). */
XA_INTERNAL void xa__os_free(void* p, size_t size);

/* Grow the mapping [p, p + old_size) (from xa__os_alloc_aligned; both sizes
 * multiples of the page size, new_size > old_size) to new_size bytes without
 * copying its content: in place when the addresses after it are free, else
 * by moving its pages to a new address aligned to align (Linux: mremap).
 * Returns where the mapping is now and sets *size to what is mapped there:
 * new_size on success; old_size when it could not grow, in which case the
 * content may still have moved (it is intact either way). Where this is not
 * supported (Windows) it returns p with *size = old_size, and callers copy.
 * Nobody may touch the old range from the call on. */
XA_INTERNAL void* xa__os_remap(void* p, size_t old_size, size_t new_size, size_t align, size_t* size);

/* Give back the tail [p + new_size, p + old_size) of a mapping from
 * xa__os_alloc_aligned (page multiples). False where not supported
 * (Windows): the mapping is then unchanged. */
XA_INTERNAL bool xa__os_shrink(void* p, size_t old_size, size_t new_size);

/* True when the process has a finite address-space limit (RLIMIT_AS), which
 * a large up-front reservation would eat into. */
XA_INTERNAL bool xa__os_address_space_limited(void);

/* Make [p, p+size) usable again after a purge (no-op where purge keeps it usable). */
XA_INTERNAL bool xa__os_commit(void* p, size_t size);

/* Give the physical memory behind [p, p+size) back to the OS; the range stays
 * reserved. Returns true when the range reads as zero afterwards. */
XA_INTERNAL bool xa__os_purge(void* p, size_t size);

/* Like xa__os_purge, but the OS may take the memory back only when it needs
 * it (MADV_FREE): cheaper, the pages still count in RSS until then, and the
 * range does not reliably read as zero. Falls back to xa__os_purge where
 * unsupported. */
XA_INTERNAL void xa__os_purge_lazy(void* p, size_t size);

/* Advice on transparent huge pages for a mapping: 0 never, 1 leave the system
 * setting alone, 2 always (the values of the `thp` option). */
XA_INTERNAL void xa__os_advise_thp(void* p, size_t size, int mode);

/* The calling thread's OS id, and whether the thread with that id may still
 * run (false only when it surely ended; an id reused by a new thread reads as
 * alive). */
XA_INTERNAL uint64_t xa__os_thread_id(void);
XA_INTERNAL bool xa__os_thread_alive(uint64_t id);

/* Start a detached background thread running fn (signals blocked in it).
 * False when the OS refuses. */
XA_INTERNAL bool xa__os_thread_start(void (*fn)(void));
XA_INTERNAL void xa__os_sleep_ms(uint64_t ms);

/* Write a message to stderr without allocating. */
XA_INTERNAL void xa__os_write_err(const char* msg, size_t len);

/* Append len bytes to the file at path (created if missing), in one write so
 * that reports of several processes do not interleave. False on failure. */
XA_INTERNAL bool xa__os_append_file(const char* path, const char* msg, size_t len);

/* Write len bytes to the file at path, replacing what it held. 0, or the
 * error number (errno is left as it was). */
XA_INTERNAL int xa__os_write_file(const char* path, const char* data, size_t len);

/* Up to max return addresses of the calling thread's stack, innermost
 * first, leaving out the caller's own frame and `skip` more. Never
 * allocates through malloc (POSIX: the unwinder, _Unwind_Backtrace;
 * Windows: RtlCaptureStackBackTrace). */
XA_INTERNAL int xa__os_backtrace(void** frames, int max, int skip);

/* The name of the code at ip: its symbol, else "module+0xoffset"; length 0
 * when unknown (Windows). *ours tells whether ip lies in xalloc's own shared
 * library. Never allocates through malloc. */
XA_INTERNAL size_t xa__os_symbol(const void* ip, char* buf, size_t cap, bool* ours);

/* The process's mappings in the form of Linux's /proc/self/maps (what pprof
 * reads to find the binaries behind addresses); returns the length written,
 * 0 where there is no such thing. */
XA_INTERNAL size_t xa__os_memory_map(char* buf, size_t cap);

/* Process id, and who the process is for reports: the command line with
 * argv[0] cut to its base name (Linux), or the executable's file name
 * (Windows); cut to fit buf, always NUL-terminated, "" if unknown. */
XA_INTERNAL unsigned long xa__os_pid(void);
XA_INTERNAL void xa__os_process_name(char* buf, size_t size);

/* Read an environment variable without allocating (NULL if unset). */
XA_INTERNAL const char* xa__os_getenv(const char* name);

/* Call visit(entry, arg) for every "NAME=value" entry of the environment,
 * without allocating through malloc; stops early when visit returns false.
 * The entry is valid only during the call. */
typedef bool xa_env_visit_fn(const char* entry, void* arg);
XA_INTERNAL void xa__os_env_visit(xa_env_visit_fn* visit, void* arg);

/* The memory limit of the process's cgroup in bytes, the tightest of its
 * cgroup and their parents (cgroup v2 memory.max, else v1
 * memory.limit_in_bytes); 0 when every level says unlimited, -1 when no
 * limit file could be read (not Linux, no cgroup file system). */
XA_INTERNAL int64_t xa__os_cgroup_memory_max(void);

/* Resident set size of the process in bytes (0 if unknown). */
XA_INTERNAL size_t xa__os_rss(void);

/* A monotonic clock in milliseconds (for delays, never for dates); coarse
 * (a few ms) where that is cheaper. */
XA_INTERNAL uint64_t xa__os_clock_ms(void);

/* 64 unpredictable bits for the secure build's keys: the OS's random
 * source where there is one, else a mix of clocks and addresses. */
XA_INTERNAL uint64_t xa__os_random_u64(void);

/* Yield the CPU to another thread (spin-wait back-off). */
XA_INTERNAL void xa__os_yield(void);

#endif
