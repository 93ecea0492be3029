/* xa_stats_json on a known mix of blocks: small, medium, large and huge ones,
 * from the main thread and from worker threads that exit with blocks live,
 * with frees across threads. After xa_collect(true) every live block is in
 * the main thread's default heap, so the statistics must add up exactly:
 * prints {"visited_bytes": sum of the block sizes xa_heap_visit_blocks
 * reports, "visited_blocks": their count, "stats": the JSON} for
 * st_json_check.py. With --selfcheck (no python3: cross builds) it checks
 * only the snprintf-like contract and the schema version, in C. */
#include "xalloc.h"
#include "xa_test.h"
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define WORKERS 4
#define PER_WORKER 600

static void* handoff[WORKERS][PER_WORKER];  /* workers' blocks main frees */
static void* shared[WORKERS][PER_WORKER];   /* main's blocks workers free */

static size_t size_of(unsigned i) {
  static const size_t sizes[] = {16, 24, 100, 512, 1000, 3000, 9000, 40000, 100000, 300000};
  return sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
}

static void* worker(void* arg) {
  unsigned w = (unsigned)(uintptr_t)arg;
  static void* keep[WORKERS][PER_WORKER];
  for (unsigned i = 0; i < PER_WORKER; i++) {
    handoff[w][i] = xa_malloc(size_of(i + w));
    keep[w][i] = xa_malloc(size_of(i * 7 + w));
    CHECK(handoff[w][i] != NULL && keep[w][i] != NULL);
    xa_free(shared[w][i]);  /* cross-thread free of main's block */
  }
  for (unsigned i = 0; i < PER_WORKER; i += 2) xa_free(keep[w][i]);  /* half stay live past exit */
  void* big = xa_malloc(3u << 20);  /* huge, left live past exit */
  CHECK(big != NULL);
  return NULL;
}

typedef struct {
  unsigned long long bytes, blocks;
} visit_t;

static bool visit(const xa_heap_t* heap, void* block, size_t size, void* arg) {
  (void)heap;
  (void)block;
  visit_t* v = arg;
  v->bytes += size;
  v->blocks++;
  return true;
}

static char json[1 << 20];

int main(int argc, char** argv) {
  bool selfcheck = argc > 1 && strcmp(argv[1], "--selfcheck") == 0;
  static void* mine[4000];
  for (unsigned i = 0; i < 4000; i++) {
    mine[i] = xa_malloc(size_of(i * 3));
    CHECK(mine[i] != NULL);
  }
  void* huge1 = xa_malloc(10u << 20);
  void* huge2 = xa_malloc(1u << 20);
  CHECK(huge1 != NULL && huge2 != NULL);
  for (unsigned w = 0; w < WORKERS; w++) {
    for (unsigned i = 0; i < PER_WORKER; i++) {
      shared[w][i] = xa_malloc(size_of(i + 5));
      CHECK(shared[w][i] != NULL);
    }
  }
  pthread_t t[WORKERS];
  for (unsigned w = 0; w < WORKERS; w++) CHECK(pthread_create(&t[w], NULL, worker, (void*)(uintptr_t)w) == 0);
  for (unsigned w = 0; w < WORKERS; w++) CHECK(pthread_join(t[w], NULL) == 0);
  for (unsigned w = 0; w < WORKERS; w++) {
    for (unsigned i = 0; i < PER_WORKER; i += 3) xa_free(handoff[w][i]);  /* cross-thread: an exited owner */
  }
  for (unsigned i = 0; i < 4000; i += 2) xa_free(mine[i]);
  xa_free(huge2);
  xa_collect(true);

  visit_t v = {0, 0};
  CHECK(xa_heap_visit_blocks(xa_heap_get_default(), visit, &v));
  size_t need = xa_stats_json(NULL, 0);
  size_t len = xa_stats_json(json, sizeof(json));
  CHECK(len < sizeof(json));
  CHECK(strlen(json) == len);
  CHECK(need == len);  /* nothing changed in between: the same text */
  /* snprintf-like: cut, NUL-terminated, nothing past size. */
  char small[16];
  memset(small, 'x', sizeof(small));
  CHECK(xa_stats_json(small, 10) == len);
  CHECK(small[9] == 0 && strlen(small) == 9 && memcmp(small, json, 9) == 0 && small[10] == 'x');
  CHECK(xa_stats_json(small, 1) == len && small[0] == 0);
  CHECK(strstr(json, "\"schema_version\":1,") != NULL);
  if (selfcheck) {
    puts("st_json: selfcheck passed");
    return 0;
  }
  printf("{\"visited_bytes\":%llu,\"visited_blocks\":%llu,\"stats\":%s}\n", v.bytes, v.blocks, json);
  xa_free(huge1);
  return 0;
}
