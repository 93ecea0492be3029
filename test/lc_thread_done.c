/* xa_thread_done by hand (the thread allocates again afterwards and gets a
 * fresh default heap), threads that never called the API, and a pthread key
 * destructor of another library that allocates after xalloc's own
 * thread-exit code ran. */
#include "lc_util.h"

static pthread_key_t late_key;
static void* survivors[64];

static void late_key_destructor(void* v) {
  /* Runs in the same destructor round as xalloc's, possibly after it. */
  void* p = xa_malloc(4000);
  CHECK(p != NULL);
  memset(p, 7, 4000);
  xa_free(v);
  survivors[(uintptr_t)p / 64 % 64] = NULL;
  xa_free(p);
  void* keep = xa_malloc(100);  /* live across thread exit: must stay valid */
  CHECK(keep != NULL);
  lc_fill(keep, 100, 99);
  for (int i = 0; i < 64; i++) if (survivors[i] == NULL) { survivors[i] = keep; break; }
}

static void* by_hand(void* arg) {
  (void)arg;
  xa_heap_t* first = xa_heap_get_default();
  void* a = xa_malloc(500);
  lc_fill(a, 500, 1);
  xa_heap_t* h = xa_heap_new();
  void* b = xa_heap_malloc(h, 70000);
  lc_fill(b, 70000, 2);
  xa_thread_done();
  VALIDATE();
  xa_thread_done();  /* twice is fine */
  /* blocks stay valid after thread_done */
  CHECK(lc_check(a, 500, 1));
  CHECK(lc_check(b, 70000, 2));
  void* c = xa_malloc(500);  /* a fresh default heap */
  CHECK(c != NULL);
  CHECK(xa_heap_contains(xa_heap_get_default(), c));
  (void)first;
  xa_free(a);
  xa_free(b);
  xa_free(c);
  VALIDATE();
  return NULL;
}

static void* with_late_destructor(void* arg) {
  (void)arg;
  void* v = xa_malloc(64);
  CHECK(pthread_setspecific(late_key, v) == 0);
  return NULL;
}

static void* never_called_api(void* arg) {
  /* frees a block from another thread without ever allocating */
  xa_free(arg);
  return NULL;
}

int main(void) {
  CHECK(pthread_key_create(&late_key, late_key_destructor) == 0);
  pthread_join(lc_spawn(by_hand, NULL), NULL);
  for (int i = 0; i < 16; i++) pthread_join(lc_spawn(with_late_destructor, NULL), NULL);
  for (int i = 0; i < 64; i++) {
    if (survivors[i] == NULL) continue;
    CHECK(lc_check(survivors[i], 100, 99));
    xa_free(survivors[i]);
  }
  void* p = xa_malloc(300);
  pthread_join(lc_spawn(never_called_api, p), NULL);
  xa_thread_done();  /* the main thread too */
  void* q = xa_malloc(10);
  CHECK(q != NULL);
  xa_free(q);
  xa_collect(true);
  VALIDATE();
  return 0;
}
