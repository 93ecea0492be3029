/* Which abandoned segment a thread takes, and when (heap.c,
 * xa__heap_find_page). A thread that misses a size class takes an abandoned
 * segment only if it has a page of that class with room, or if the thread has
 * no free page of its own left (instead of mapping memory). Taking one for
 * every miss made threads of a churning program hold several segments each,
 * whose free pages were purged and faulted in again by their next owner
 * (docs/benchmarks.md, "Many threads on few cores": xa-mstress at 64 threads
 * reclaimed 7 segments per thread). And a thread that needs a medium page
 * finds an abandoned medium segment however many small ones were abandoned
 * after it (one list per kind). */
#include "xa_test_os.h"
#include "config.h"
#include "segment.h"
#include "stats.h"
#include "xalloc.h"
#include "xa_test.h"
#include <pthread.h>
#include <stdint.h>

enum { DYING = 4, PER_CLASS = 200 };

#define SEGMENT_OF(p) ((uintptr_t)(p) & ~(uintptr_t)XA_SEGMENT_MASK)

static void* kept[DYING][2];
static pthread_barrier_t all_filled;  /* none exits before all have their own segment */

/* Fills pages of two classes, keeps one block of each and exits: its segment
 * is abandoned with those two pages, their free blocks and free pages. */
static void* dying(void* arg) {
  void** keep = arg;
  static const size_t sizes[2] = {48, 1000};
  for (int c = 0; c < 2; c++) {
    void* blocks[PER_CLASS];
    for (int i = 0; i < PER_CLASS; i++) CHECK((blocks[i] = xa_malloc(sizes[c])) != NULL);
    keep[c] = blocks[PER_CLASS / 2];
    for (int i = 0; i < PER_CLASS; i++) {
      if (i != PER_CLASS / 2) xa_free(blocks[i]);
    }
  }
  pthread_barrier_wait(&all_filled);
  return NULL;
}

static int64_t reclaimed(void) { return xa__stat_current(XA_STAT_reclaimed); }

/* New classes only: the first miss finds no free page of the thread's own
 * and takes one segment; the other classes take its free pages. (Counted by
 * main over the thread's whole life: on Windows the C runtime allocates in a
 * new thread before its function runs, and that is its first miss.) */
static void* new_classes(void* arg) {
  (void)arg;
  static const size_t sizes[] = {16, 32, 64, 96, 128, 192, 256, 384, 512, 768};
  void* p[sizeof sizes / sizeof sizes[0]];
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) CHECK((p[i] = xa_malloc(sizes[i])) != NULL);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) xa_free(p[i]);
  return NULL;
}

/* Exits with a block of 2000 bytes: its segment, the most recently
 * abandoned one, has free pages but no 48-byte page. */
static void* other_class_dying(void* arg) {
  CHECK((*(void**)arg = xa_malloc(2000)) != NULL);
  return NULL;
}

/* A class that abandoned pages have room in: the block comes from such a
 * page (not from the most recent segment, which has none). */
static void* old_class(void* arg) {
  (void)arg;
  void* p = xa_malloc(48);
  CHECK(p != NULL);
  bool beside = false;
  for (int t = 0; t < DYING; t++) beside |= SEGMENT_OF(p) == SEGMENT_OF(kept[t][0]);
  CHECK_MSG(beside, "a 48-byte block came from a fresh page while abandoned pages had room");
  xa_free(p);
  return NULL;
}

/* A medium block (20 KiB) while one medium segment, abandoned first, waits
 * behind more small segments than a reclaimer scans: it is found. */
enum { DEEP = XA_RECLAIM_SCAN + 4, MEDIUM = 20 << 10 };
static void* medium_kept;
static void* small_kept[DEEP];
static pthread_barrier_t small_filled;

static void* medium_dying(void* arg) {
  (void)arg;
  void* a = xa_malloc(MEDIUM);
  CHECK(a != NULL && (medium_kept = xa_malloc(MEDIUM)) != NULL);
  xa_free(a);
  return NULL;
}

static void* small_dying(void* arg) {
  void** keep = arg;
  CHECK((*keep = xa_malloc(48)) != NULL);
  pthread_barrier_wait(&small_filled);
  return NULL;
}

static void* medium_needed(void* arg) {
  int64_t* taken = arg;
  int64_t before = reclaimed();
  void* p = xa_malloc(MEDIUM);
  CHECK(p != NULL);
  *taken = reclaimed() - before;
  CHECK_MSG(SEGMENT_OF(p) == SEGMENT_OF(medium_kept), "a medium block came from new memory");
  xa_free(p);
  return NULL;
}

static void medium_behind_small(void) {
  pthread_t th;
  CHECK(pthread_create(&th, NULL, medium_dying, NULL) == 0);
  CHECK(pthread_join(th, NULL) == 0);
  CHECK(pthread_barrier_init(&small_filled, NULL, DEEP) == 0);
  pthread_t d[DEEP];
  for (int t = 0; t < DEEP; t++) CHECK(pthread_create(&d[t], NULL, small_dying, &small_kept[t]) == 0);
  for (int t = 0; t < DEEP; t++) CHECK(pthread_join(d[t], NULL) == 0);
  int64_t taken = -1;
  CHECK(pthread_create(&th, NULL, medium_needed, &taken) == 0);
  CHECK(pthread_join(th, NULL) == 0);
  CHECK_MSG(taken == 1, "one medium block took %lld abandoned segments (want 1)", (long long)taken);
  xa_free(medium_kept);
  for (int t = 0; t < DEEP; t++) xa_free(small_kept[t]);
}

/* With purge_delay -1 no sweep frees what nobody takes: a thread's misses
 * take abandoned segments of any kind, such as an emptied huge one. */
static void* huge_dying(void* arg) {
  CHECK((*(void**)arg = xa_malloc(1 << 20)) != NULL);
  return NULL;
}

static void* many_classes(void* arg) {
  (void)arg;
  void* p[64];
  for (size_t i = 0; i < 64; i++) CHECK((p[i] = xa_malloc(16 + i * 128)) != NULL);
  for (size_t i = 0; i < 64; i++) xa_free(p[i]);
  return NULL;
}

static void never_swept(void) {
  CHECK(xa_option_set("purge_delay", "-1"));
  void* huge = NULL;
  pthread_t th;
  CHECK(pthread_create(&th, NULL, huge_dying, &huge) == 0);
  CHECK(pthread_join(th, NULL) == 0);
  xa_free(huge);  /* its segment: abandoned and empty */
  CHECK(xa__stat_current(XA_STAT_abandoned) >= 1);
  CHECK(xa__abandoned_of(XA_KIND_HUGE));
  CHECK(pthread_create(&th, NULL, many_classes, NULL) == 0);
  CHECK(pthread_join(th, NULL) == 0);
  /* (Segments that thread left on exit may be abandoned again.) */
  CHECK_MSG(!xa__abandoned_of(XA_KIND_HUGE), "an emptied huge segment nobody takes (%lld abandoned)",
            (long long)xa__stat_current(XA_STAT_abandoned));
}

int main(void) {
  /* Nothing is swept away while the test looks. */
  CHECK(xa_option_set("purge_delay", "60000"));
  /* Free pages of main's own: what creating and joining threads allocates
   * here never needs an abandoned segment. */
  void* own = xa_malloc(100);
  CHECK(own != NULL);
  CHECK(pthread_barrier_init(&all_filled, NULL, DYING) == 0);
  pthread_t d[DYING];
  for (int t = 0; t < DYING; t++) CHECK(pthread_create(&d[t], NULL, dying, kept[t]) == 0);
  for (int t = 0; t < DYING; t++) CHECK(pthread_join(d[t], NULL) == 0);
  CHECK(xa__stat_current(XA_STAT_abandoned) >= DYING);
  int64_t taken = reclaimed();
  pthread_t th;
  CHECK(pthread_create(&th, NULL, new_classes, NULL) == 0);
  CHECK(pthread_join(th, NULL) == 0);
  taken = reclaimed() - taken;
  CHECK_MSG(taken == 1, "ten new size classes took %lld abandoned segments (want 1)", (long long)taken);
  void* other = NULL;
  CHECK(pthread_create(&th, NULL, other_class_dying, &other) == 0);
  CHECK(pthread_join(th, NULL) == 0);
  CHECK(pthread_create(&th, NULL, old_class, NULL) == 0);
  CHECK(pthread_join(th, NULL) == 0);
  for (int t = 0; t < DYING; t++) {
    xa_free(kept[t][0]);
    xa_free(kept[t][1]);
  }
  xa_free(other);
  medium_behind_small();
  never_swept();
  xa_free(own);
  return 0;
}
