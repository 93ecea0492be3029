/* fork() from a process whose other threads are allocating, freeing and
 * deleting heaps at that moment; the child allocates and frees at once. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lc_util.h"

/* ThreadSanitizer cannot start threads in the child of a multi-threaded fork.
 * Nor can clang 14's AddressSanitizer reliably: it has no fork handlers (they
 * came with LLVM 18), so the child's pthread_create can block forever on a
 * lock of ASan's own allocator that a parent thread held at the fork (seen:
 * calloc from pthread_getattr_np waiting in SizeClassAllocator64). */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define CHILD_THREADS 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define CHILD_THREADS 0
#endif
#endif
#ifndef CHILD_THREADS
#define CHILD_THREADS 1
#endif

static _Atomic int stop;

static void* churn(void* arg) {
  uint32_t s = (uint32_t)(uintptr_t)arg + 1;
  while (!stop) {
    xa_heap_t* h = xa_heap_new();
    void* p[32];
    for (int i = 0; i < 32; i++) { s = s * 1103515245u + 12345u; p[i] = xa_heap_malloc(h, 16 + (s >> 16) % 70000); }
    for (int i = 0; i < 16; i++) xa_free(p[i]);
    xa_heap_delete(h);
    for (int i = 16; i < 32; i++) xa_free(p[i]);
  }
  return NULL;
}

static void* child_thread(void* arg) {
  (void)arg;
  for (int i = 0; i < 1000; i++) { void* p = xa_malloc((size_t)i * 13); CHECK(p != NULL); xa_free(p); }
  return NULL;
}

int main(void) {
  pthread_t t[3];
  for (int i = 0; i < 3; i++) t[i] = lc_spawn(churn, (void*)(uintptr_t)i);
  for (int round = 0; round < 40; round++) {
    usleep(1000);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
      void* p[200];
      for (int i = 0; i < 200; i++) { p[i] = xa_malloc((size_t)i * 97 + 1); if (p[i] == NULL) _exit(2); memset(p[i], 3, 1); }
      for (int i = 0; i < 200; i++) xa_free(p[i]);
      xa_heap_t* h = xa_heap_new();
      if (h == NULL || xa_heap_malloc(h, 5000) == NULL) _exit(3);
      xa_heap_destroy(h);
      if (CHILD_THREADS) {
        pthread_t ct;
        if (pthread_create(&ct, NULL, child_thread, NULL) != 0) _exit(4);
        pthread_join(ct, NULL);
      } else {
        child_thread(NULL);
      }
      xa_collect(true);
      _exit(xa__validate() ? 0 : 5);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
  }
  stop = 1;
  for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
  VALIDATE();
  return 0;
}
