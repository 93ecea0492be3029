/* The sampling heap profile (prof.c; docs/profile.md): which allocations are
 * sampled, the table of live samples, and its dump. The allocation slow path
 * (alloc.c) decides, the free slow paths (free.c) remove; the fast paths do
 * not know about it. */
#ifndef XA_PROF_H
#define XA_PROF_H

#include "config.h"
#include "types.h"

/* Draw the thread's first skips (once per thread data, owner only). */
XA_INTERNAL void xa__prof_thread_ready(xa_tld_t* tld);

/* Allocations of blocks of `block_size` to let pass before the next sampled
 * one: floor(E * rate / block_size) with E exponential of mean 1, so that
 * each such allocation is sampled with probability 1 - exp(-block_size/rate)
 * independently of the others. */
XA_INTERNAL uint32_t xa__prof_draw_skip(xa_tld_t* tld, size_t block_size);

/* Whether a huge allocation of size bytes is sampled (the same probability). */
XA_INTERNAL bool xa__prof_draw_huge(xa_tld_t* tld, size_t size);

/* Record block (of page, owned by the calling thread) with the call stack:
 * size bytes asked for, sampled with the probability of a block of `unit`
 * bytes. No malloc; nothing is recorded when called from inside the sampler
 * itself (an unwinder that allocates). */
XA_INTERNAL void xa__prof_sample(xa_tld_t* tld, xa_page_t* page, void* block, size_t size, size_t unit);

/* block of page (which has XA_PF_SAMPLED) is being freed: it leaves the
 * profile if it is there. The owner also clears the flag once the page holds
 * no sample. Called before the block is pushed anywhere. */
XA_INTERNAL void xa__prof_free(xa_page_t* page, const void* block, bool owner);

/* A sampled huge block moved from `from` to `to` (realloc by mremap). */
XA_INTERNAL void xa__prof_moved(const void* from, void* to);

/* The page is freed wholesale (xa_heap_destroy): forget its samples. */
XA_INTERNAL void xa__prof_forget_page(xa_page_t* page);

/* Fork child: a table lock held at the fork drops the table. */
XA_INTERNAL void xa__prof_fork_child(void);

/* Process exit: the profile to XALLOC_PROFILE_FILE when set. */
XA_INTERNAL void xa__prof_at_exit(void);

#endif
