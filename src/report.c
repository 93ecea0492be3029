/* Misuse reports (report.h). */
#include "report.h"
#include "options.h"
#include "os.h"
#include "stats.h"
#include <stdatomic.h>

static _Atomic(int) misuse_reported;

/* "xalloc: <what> 0x<p><verdict>" once per process, or every time when
 * XALLOC_VERBOSE is on. Formats by hand: no stdio, no allocation. */
static void report(const char* what, const void* p, const char* verdict) {
  if (atomic_exchange_explicit(&misuse_reported, 1, memory_order_relaxed) && !xa__option(XA_OPT_VERBOSE)) return;
  char msg[200];
  static const char hex[] = "0123456789abcdef";
  size_t n = 0;
  const char* head = "xalloc: ";
  while (*head) msg[n++] = *head++;
  while (*what && n < 100) msg[n++] = *what++;
  msg[n++] = ' ';
  msg[n++] = '0';
  msg[n++] = 'x';
  uintptr_t v = (uintptr_t)p;
  for (int shift = 60; shift >= 0; shift -= 4) msg[n++] = hex[(v >> shift) & 15];
  while (*verdict && n < sizeof(msg) - 1) msg[n++] = *verdict++;
  xa__os_write_err(msg, n);
}

void xa__report_foreign(const char* what, const void* p) {
  xa__stat_add(XA_STAT_foreign_frees, 1);
  report(what, p, " (not allocated by xalloc; ignored)\n");
}

void xa__report_not_block(const char* what, const void* p) {
  xa__stat_add(XA_STAT_invalid_frees, 1);
  report(what, p, " (not the start of a live xalloc block; ignored)\n");
}

void xa__report_double_free(const void* p) {
  xa__stat_add(XA_STAT_double_frees, 1);
  report("double free of pointer", p, " (already free; ignored)\n");
}

void xa__report_write_after_free(const void* block, const void* at) {
  xa__stat_add(XA_STAT_writes_after_free, 1);
  (void)block;
  report("write after free detected at", at, " (in a freed block; found when it was handed out again)\n");
}

void xa__report_corruption(const void* p) {
  xa__stat_add(XA_STAT_corruptions, 1);
  report("heap corruption detected at", p, " (a free list was overwritten; its blocks are leaked, ignored)\n");
}

/* "xalloc: write past the end of block 0x<p> (size <n>): <k>
 * bytes after its end hold 0x.. 0x.. ..." -- the bytes found where the
 * canary was (at most 8), or the overwritten trailer when the size is
 * unknown. Once per process like the others, unless verbose. */
void xa__report_overflow(const void* p, size_t n, const uint8_t* at, size_t avail) {
  xa__stat_add(XA_STAT_overflows, 1);
  if (atomic_exchange_explicit(&misuse_reported, 1, memory_order_relaxed) && !xa__option(XA_OPT_VERBOSE)) return;
  static const char hex[] = "0123456789abcdef";
  char msg[300];
  size_t len = 0;
#define PUT(str) for (const char* s_ = (str); *s_ && len < sizeof(msg) - 1; s_++) msg[len++] = *s_
  PUT("xalloc: write past the end of block 0x");
  for (int shift = 60; shift >= 0; shift -= 4) msg[len++] = hex[((uintptr_t)p >> shift) & 15];
  char num[24];
  if (n == SIZE_MAX) {
    PUT(" (its size record was overwritten): found");
  } else {
    PUT(" (size ");
    num[xa__format_int((int64_t)n, num)] = 0;
    PUT(num);
    PUT("): ");
    num[xa__format_int((int64_t)(at - (const uint8_t*)p - (ptrdiff_t)n), num)] = 0;
    PUT(num);
    PUT(" bytes after its end hold");
  }
  for (size_t i = 0; i < avail && i < 8; i++) {
    msg[len++] = ' ';
    msg[len++] = '0';
    msg[len++] = 'x';
    msg[len++] = hex[at[i] >> 4];
    msg[len++] = hex[at[i] & 15];
  }
  PUT(" (found when it was freed or resized; ignored)\n");
#undef PUT
  xa__os_write_err(msg, len);
}
