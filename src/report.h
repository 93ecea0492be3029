/* Misuse reports: a program that frees what it should not gets one line on
 * stderr (the first time only, or every time with XALLOC_VERBOSE=1), a
 * counter in the statistics, and its call is ignored. Never allocates: the
 * reports are made from inside free. */
#ifndef XA_REPORT_H
#define XA_REPORT_H

#include "config.h"

/* p is not in memory of ours. `what` names the call ("free of pointer"). */
XA_INTERNAL void xa__report_foreign(const char* what, const void* p);
/* p is in one of our segments but is not the start of a block handed out
 * (an interior pointer, or a pointer into a page that holds no blocks). */
XA_INTERNAL void xa__report_not_block(const char* what, const void* p);
XA_INTERNAL void xa__report_double_free(const void* p);
/* A list a buggy program can overwrite (free list, cross-thread list,
 * inbox) failed a check at p: the rest of it is dropped (leaked). */
XA_INTERNAL void xa__report_corruption(const void* p);
/* Debug builds: the block at `block` was written at `at` while it was free
 * (its fill pattern changed). */
XA_INTERNAL void xa__report_write_after_free(const void* block, const void* at);

/* A tracked block's canary (track.h) was overwritten: the block at p, the
 * size asked for (SIZE_MAX: unknown, its trailer was overwritten) and the
 * first damaged bytes (avail of them readable at `at`). */
XA_INTERNAL void xa__report_overflow(const void* p, size_t n, const uint8_t* at, size_t avail);

#endif
