/* The field scenario that crashed a leading allocator at process exit
 * (lifecycle-pitfalls 1): a thread creates a heap, allocates small, medium,
 * large and huge blocks, deletes the heap and exits; then the process exits
 * normally and its exit hook collects and purges.
 *
 * Variants (argv[1]):
 *   freed        all blocks freed before delete
 *   half         half freed and the heap collected before delete
 *   later        nothing freed before delete; another thread frees the
 *                blocks after the creating thread exited
 *   eight        8 threads in turn, each doing "half"
 *   main         the main thread itself does "freed" (no thread at all)
 * argv[2]: "exit" ends by exit(0), "return" returns from main. */
#include <stdlib.h>
#include "lc_util.h"

#define PER_SIZE 6
enum mode { FREED, HALF, LATER };

static void* blocks[8][LC_NSIZES * PER_SIZE];
static size_t sizes[8][LC_NSIZES * PER_SIZE];

struct job { int slot; enum mode mode; };

static void* field_thread(void* arg) {
  struct job* job = arg;
  void** b = blocks[job->slot];
  size_t* sz = sizes[job->slot];
  xa_heap_t* h = xa_heap_new();
  CHECK(h != NULL);
  VALIDATE();
  size_t n = 0;
  for (size_t i = 0; i < LC_NSIZES; i++) {
    for (int k = 0; k < PER_SIZE; k++, n++) {
      sz[n] = lc_sizes[i] + (size_t)k;
      b[n] = xa_heap_malloc(h, sz[n]);
      CHECK(b[n] != NULL);
      CHECK(xa_heap_contains(h, b[n]));
      lc_fill_ends(b[n], sz[n], (uint32_t)n);
    }
  }
  VALIDATE();
  if (job->mode == FREED) {
    for (size_t i = 0; i < n; i++) { xa_free(b[i]); b[i] = NULL; }
  } else if (job->mode == HALF) {
    for (size_t i = 0; i < n; i += 2) { xa_free(b[i]); b[i] = NULL; }
    xa_heap_collect(h, true);
  }
  VALIDATE();
  xa_heap_delete(h);
  VALIDATE();
  /* Live blocks survived the delete and now belong to the default heap. */
  for (size_t i = 0; i < n; i++) {
    if (b[i] == NULL) continue;
    CHECK(lc_check_ends(b[i], sz[i], (uint32_t)i));
    CHECK(xa_heap_contains(xa_heap_get_default(), b[i]));
  }
  if (job->mode == HALF) {
    /* The rest is freed by this thread after the delete. */
    for (size_t i = 0; i < n; i++) if (b[i] != NULL && i % 4 == 1) { xa_free(b[i]); b[i] = NULL; }
    VALIDATE();
  }
  return NULL;
}

static void free_rest(int slot) {
  for (size_t i = 0; i < LC_NSIZES * PER_SIZE; i++) {
    if (blocks[slot][i] == NULL) continue;
    CHECK(lc_check_ends(blocks[slot][i], sizes[slot][i], (uint32_t)i));
    xa_free(blocks[slot][i]);
    blocks[slot][i] = NULL;
  }
}

static void* free_rest_thread(void* arg) {
  free_rest((int)(intptr_t)arg);
  VALIDATE();
  return NULL;
}

int main(int argc, char** argv) {
  CHECK(argc == 3);
  const char* v = argv[1];
  if (strcmp(v, "main") == 0) {
    struct job job = {0, FREED};
    field_thread(&job);
    /* And a collection right here, as the exit hook will do again. */
    xa_collect(true);
    VALIDATE();
  } else if (strcmp(v, "eight") == 0) {
    for (int i = 0; i < 8; i++) {
      struct job job = {i, HALF};
      pthread_join(lc_spawn(field_thread, &job), NULL);
      VALIDATE();
    }
    for (int i = 0; i < 8; i++) free_rest(i);
  } else {
    struct job job = {0, strcmp(v, "freed") == 0 ? FREED : strcmp(v, "half") == 0 ? HALF : LATER};
    CHECK(strcmp(v, "freed") == 0 || strcmp(v, "half") == 0 || strcmp(v, "later") == 0);
    pthread_join(lc_spawn(field_thread, &job), NULL);
    VALIDATE();
    if (job.mode == LATER) {
      pthread_join(lc_spawn(free_rest_thread, (void*)(intptr_t)0), NULL);
    } else {
      free_rest(0);
    }
  }
  VALIDATE();
  if (strcmp(argv[2], "exit") == 0) exit(0);
  return 0;
}
