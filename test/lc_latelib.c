#define _GNU_SOURCE
/* A library whose constructor keeps blocks and whose destructor — which may
 * run after xalloc's process-exit hook — checks and frees them and allocates
 * more. Uses plain malloc: it is xalloc's through the override. */
#include <stdlib.h>
#include <string.h>

static char* kept[32];

__attribute__((constructor)) static void latelib_init(void) {
  for (int i = 0; i < 32; i++) {
    kept[i] = malloc(100 + (size_t)i * 1000);
    if (kept[i] == NULL) abort();
    memset(kept[i], i, 100);
  }
}

__attribute__((destructor)) static void latelib_fini(void) {
  for (int i = 0; i < 32; i++) {
    for (int k = 0; k < 100; k++) if (kept[i][k] != (char)i) abort();
    free(kept[i]);
  }
  char* big = malloc((size_t)3 << 20);
  if (big == NULL) abort();
  memset(big, 1, (size_t)3 << 20);
  big = realloc(big, (size_t)5 << 20);
  if (big == NULL) abort();
  free(big);
  char* s = strdup("finalised late");
  if (s == NULL || strcmp(s, "finalised late") != 0) abort();
  free(s);
}

__attribute__((visibility("default"))) int latelib_touch(void) { return kept[0] != NULL; }
