/* Platform hooks and thread-local storage for POSIX (hooks.h, tls.h):
 * a pthread key destructor for thread exit, pthread_atfork, and an ELF
 * constructor/destructor pair for process start and exit. */
#include "hooks.h"
#include "tls.h"
#include <pthread.h>

_Thread_local xa_heap_t* xa__tls_heap = &xa__heap_empty;
_Thread_local xa_tld_t* xa__tls_tld = &xa__tld_empty;

static pthread_key_t thread_key;

static _Thread_local bool thread_exit_ran;

static void thread_key_destructor(void* value) {
  thread_exit_ran = true;
  xa__on_thread_exit((xa_tld_t*)value);
}

bool xa__hooks_thread_exit_ran(void) { return thread_exit_ran; }

void xa__hooks_init(void) {
  /* Neither call allocates through malloc in glibc (the key is one of the
   * first, so its slot is static; atfork handlers start in static storage). */
  pthread_key_create(&thread_key, thread_key_destructor);
  pthread_atfork(xa__on_fork_prepare, xa__on_fork_parent, xa__on_fork_child);
}

void xa__hooks_thread_arm(xa_tld_t* tld) { pthread_setspecific(thread_key, tld); }

__attribute__((constructor)) static void xa_process_load(void) { xa__on_process_start(); }

/* Default priority: destructors of lower priority (and libraries finalised
 * later) still allocate after this has run; that keeps working. */
__attribute__((destructor)) static void xa_process_unload(void) { xa__on_process_exit(); }
