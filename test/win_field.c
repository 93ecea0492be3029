/* Windows: the field scenario in a statically linked executable, with each
 * way of creating threads, repeated. argv[1]: createthread | beginthreadex;
 * argv[2]: return | exit | exitprocess. Also proves the FLS thread-exit hook
 * fires: after each thread ends, its memory is abandoned (or reclaimed). */
#include <process.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include "xalloc.h"
#include "check.h"
#include "stats.h"
#include "xa_test.h"

static void* survivors[64];

static void field(int round) {
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  const size_t sizes[] = {16, 500, 20000, 300000, (size_t)3 << 20};
  void* b[5];
  for (int i = 0; i < 5; i++) {
    b[i] = xa_heap_malloc(h, sizes[i]);
    CHECK(b[i] != NULL);
    memset(b[i], round, sizes[i] < 64 ? sizes[i] : 64);
  }
  xa_free(b[0]);
  xa_heap_delete(h);  /* the rest migrate to the default heap */
  CHECK(xa_heap_contains(xa_heap_get_default(), b[1]));
  survivors[round % 64] = b[1];
  for (int i = 2; i < 5; i++) xa_free(b[i]);
  CHECK(xa__validate());
}

static int current_round;
static DWORD WINAPI thread_main(LPVOID arg) { (void)arg; field(current_round); return 0; }
static unsigned __stdcall bthread_main(void* arg) { (void)arg; field(current_round); return 0; }

int main(int argc, char** argv) {
  CHECK(argc == 3);
  int use_begin = strcmp(argv[1], "beginthreadex") == 0;
  int64_t threads_before = xa__stat_current(XA_STAT_threads);
  for (int round = 0; round < 100; round++) {
    current_round = round;
    HANDLE t;
    if (use_begin) t = (HANDLE)_beginthreadex(NULL, 0, bthread_main, NULL, 0, NULL);
    else t = CreateThread(NULL, 0, thread_main, NULL, 0, NULL);
    CHECK(t != NULL);
    CHECK(WaitForSingleObject(t, INFINITE) == WAIT_OBJECT_0);
    CloseHandle(t);
    /* the FLS callback ran: the thread no longer counts */
    CHECK_MSG(xa__stat_current(XA_STAT_threads) <= threads_before + 1, "round %d: thread-exit hook did not run", round);
    /* its surviving block is intact and freeable from here */
    void* s = survivors[round % 64];
    CHECK(((unsigned char*)s)[0] == (unsigned char)round);
    xa_free(s);
  }
  xa_collect(true);
  CHECK(xa__validate());
  if (strcmp(argv[2], "exit") == 0) exit(0);
  if (strcmp(argv[2], "exitprocess") == 0) ExitProcess(0);
  return 0;
}
