/* Tiny test harness: CHECK aborts the test process with file:line and the
 * failed expression, so CTest reports a failure. */
#ifndef XA_TEST_H
#define XA_TEST_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
      fflush(stderr);                                                            \
      abort();                                                                   \
    }                                                                            \
  } while (0)

#define CHECK_MSG(cond, ...)                                                     \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);   \
      fprintf(stderr, __VA_ARGS__);                                              \
      fputc('\n', stderr);                                                       \
      fflush(stderr);                                                            \
      abort();                                                                   \
    }                                                                            \
  } while (0)

#endif
