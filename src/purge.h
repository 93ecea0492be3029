/* Giving free memory back to the OS on time (docs/design.md, "When memory
 * goes back"). Deadlines are set where memory becomes free (segment.c);
 * whichever thread next passes a slow path after the earliest deadline runs
 * one pass for the whole process: every thread's free pages and segment
 * cache (under each tld's lock, tried, never waited for), the abandoned
 * segments and the huge cache, and what ended threads left. The optional purge thread runs the same pass
 * when every other thread sleeps. */
#ifndef XA_PURGE_H
#define XA_PURGE_H

#include "config.h"
#include "types.h"

/* Every tld is registered once, when it is first made (never removed: thread
 * data is never unmapped). */
XA_INTERNAL void xa__purge_register(xa_tld_t* tld);
XA_INTERNAL xa_tld_t* xa__purge_registry(void);

/* How long (ms) a thread must have run no slow path to count as idle, for
 * a thread that frees one of its huge or big blocks and would give the
 * memory back in its place: the purge delay, times the threads that ran a
 * slow path within it per core when they outnumber the cores (a thread
 * waiting for a core looks idle that long). The count is redone at most
 * once per delay. Call with delay > 0. */
XA_INTERNAL uint64_t xa__owner_idle_ms(uint64_t now);

/* A slow path read the clock: run the pass if one is due. */
XA_INTERNAL void xa__purge_tick(uint64_t now);
/* One pass now; with force everything reachable is purged, not just what is
 * due, after waiting for another thread's pass to end (the caller must hold
 * no lock). Returns the earliest deadline left. */
XA_INTERNAL uint64_t xa__purge_run(uint64_t now, bool force);

/* init.c's step for what ended threads left: blocks in idle inboxes, and
 * thread data of threads that ended without their exit hook (returns its
 * next deadline). */
typedef uint64_t(xa_ended_threads_fun)(uint64_t now);
XA_INTERNAL void xa__purge_set_ended_threads(xa_ended_threads_fun* fn);

/* Start the purge thread if the option asks for it and it is not running.
 * Call only where a nested malloc is harmless (pthread_create allocates). */
XA_INTERNAL void xa__purge_thread_maybe_start(void);
XA_INTERNAL void xa__purge_fork_child(void);

#endif
