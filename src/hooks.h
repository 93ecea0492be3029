/* Platform hooks: how xalloc learns that a thread or the process ends, and
 * about fork. One implementation per platform (hooks_posix.c,
 * hooks_windows.c); the handlers themselves live in init.c. */
#ifndef XA_HOOKS_H
#define XA_HOOKS_H

#include "config.h"
#include "types.h"

/* Once per process, before the first thread is initialised. */
XA_INTERNAL void xa__hooks_init(void);

/* Ask to be told (xa__on_thread_exit(tld)) when the calling thread ends;
 * NULL cancels. Re-arming from inside the exit notification must work: a
 * thread may allocate again in later TLS destructors. */
XA_INTERNAL void xa__hooks_thread_arm(xa_tld_t* tld);

/* True once the calling thread's exit notification has run (thread data it
 * makes afterwards may never be handed over by it: init.c watches it). */
XA_INTERNAL bool xa__hooks_thread_exit_ran(void);

/* Handlers, implemented by init.c. */
XA_INTERNAL void xa__on_process_start(void);
XA_INTERNAL void xa__on_thread_exit(xa_tld_t* tld);
XA_INTERNAL void xa__on_process_exit(void);
XA_INTERNAL void xa__on_fork_prepare(void);
XA_INTERNAL void xa__on_fork_parent(void);
XA_INTERNAL void xa__on_fork_child(void);

#endif
