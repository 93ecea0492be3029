/* Thread and process state (init.c) used by the API layer. */
#ifndef XA_THREAD_H
#define XA_THREAD_H

#include "config.h"
#include "types.h"

#include "tls.h"  /* the calling thread's default heap: xa__tls_heap_get() */

/* Initialise the calling thread (and the process on first use). Returns its
 * default heap, or NULL when even the thread data cannot be allocated. */
XA_INTERNAL xa_heap_t* xa__thread_init(void);

/* Unlink heap (emptied of pages) from tld's list of heaps and free it. */
XA_INTERNAL void xa__thread_heap_release(xa_tld_t* tld, xa_heap_t* heap);

/* Make heap the calling thread's default (tld and TLS agree). */
XA_INTERNAL void xa__thread_set_default(xa_tld_t* tld, xa_heap_t* heap);

/* Collect the calling thread's heaps; with abandoned, also reclaim every
 * abandoned segment and drain orphaned inboxes; with force, purge. */
XA_INTERNAL void xa__thread_collect(xa_tld_t* tld, bool abandoned, bool force);

/* malloc_trim: xa_collect(true) if memory became free anywhere since the
 * last trim began, else nothing (a load and a compare). True if memory went
 * back to the OS (purged or unmapped). */
XA_INTERNAL bool xa__trim(void);

#endif
