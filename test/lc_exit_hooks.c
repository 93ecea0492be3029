/* Allocation after main: atexit handlers, destructors that run before and
 * after xalloc's own exit hook, a thread still allocating while the process
 * exits, and a late destructor that frees blocks allocated before. argv[1]:
 * "return" or "exit". */
#include <stdlib.h>
#include <unistd.h>
#include "lc_util.h"

static void* early[64];
static _Atomic int stop;

static void at_exit_handler(void) {
  void* p[100];
  for (int i = 0; i < 100; i++) { p[i] = xa_malloc((size_t)i * 100 + 1); CHECK(p[i] != NULL); memset(p[i], 1, 1); }
  for (int i = 0; i < 100; i++) xa_free(p[i]);
  for (int i = 0; i < 32; i++) { xa_free(early[i]); early[i] = NULL; }
}

/* Priority 101 destructors run after default-priority ones (xalloc's). */
__attribute__((destructor(101))) static void late_destructor(void) {
  for (int i = 32; i < 64; i++) {
    CHECK(lc_check(early[i], 200, (uint32_t)i));
    xa_free(early[i]);
  }
  void* p = xa_malloc(1 << 20);
  CHECK(p != NULL);
  memset(p, 2, 1 << 20);
  p = xa_realloc(p, 3 << 20);
  CHECK(p != NULL);
  xa_free(p);
  char* s = xa_strdup("after everything");
  CHECK(s != NULL && strcmp(s, "after everything") == 0);
  xa_free(s);
}

static void* busy(void* arg) {
  (void)arg;
  while (!stop) {
    void* p = xa_malloc(128);
    CHECK(p != NULL);
    xa_free(p);
    void* q = xa_malloc(100000);
    CHECK(q != NULL);
    xa_free(q);
  }
  return NULL;
}

int main(int argc, char** argv) {
  CHECK(argc == 2);
  for (int i = 0; i < 64; i++) { early[i] = xa_malloc(200); lc_fill(early[i], 200, (uint32_t)i); }
  atexit(at_exit_handler);
  pthread_t t[2];
  for (int i = 0; i < 2; i++) t[i] = lc_spawn(busy, NULL);  /* never joined: run during exit */
  usleep(20000);
  (void)t;
  if (strcmp(argv[1], "exit") == 0) exit(0);
  return 0;
}
