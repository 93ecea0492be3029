/* glibc's introspection calls answered by xalloc (docs/stats.md): built
 * against libxalloc.a (ov_mallinfo_static) and libxalloc.so
 * (ov_mallinfo_shared). mallinfo2 sees a 10 MiB block come and go;
 * malloc_info writes glibc's XML shape; malloc_trim releases after a large
 * free and then has nothing left; mallopt accepts glibc's parameters and
 * refuses unknown ones; malloc_stats prints glibc's lines on stderr. */
#include "xalloc.h"
#include "xa_test.h"
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)

static size_t count_of(const char* text, const char* what) {
  size_t n = 0;
  for (const char* p = strstr(text, what); p != NULL; p = strstr(p + 1, what)) n++;
  return n;
}

static char text[1 << 16];

/* The whole of a stream written by fn into a temporary file. */
static size_t read_back(FILE* f) {
  fflush(f);
  rewind(f);
  size_t n = fread(text, 1, sizeof(text) - 1, f);
  text[n] = 0;
  return n;
}

static void check_mallinfo(void) {
  struct mallinfo2 m0 = mallinfo2();
  char* p = malloc(10 * MIB);
  CHECK(p != NULL);
  memset(p, 1, 10 * MIB);
  struct mallinfo2 m1 = mallinfo2();
  CHECK(m1.uordblks >= m0.uordblks + 10 * MIB);
  CHECK(m1.arena >= m1.uordblks);
  CHECK(m1.fordblks == m1.arena - m1.uordblks);
  CHECK(m1.hblks >= 1 && m1.hblkhd >= 10 * MIB);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  struct mallinfo mi = mallinfo();
#pragma GCC diagnostic pop
  CHECK(mi.uordblks > 0 && (size_t)mi.uordblks >= 10 * MIB && (size_t)mi.arena >= (size_t)mi.uordblks);
  free(p);
  struct mallinfo2 m2 = mallinfo2();
  CHECK(m2.uordblks + 10 * MIB <= m1.uordblks);
  CHECK(m2.fordblks == m2.arena - m2.uordblks);
  CHECK(m2.hblks + 1 <= m1.hblks);
  printf("mallinfo2: uordblks %zu -> %zu -> %zu, arena %zu -> %zu\n", m0.uordblks, m1.uordblks, m2.uordblks,
         m1.arena, m2.arena);
}

static void check_malloc_info(void) {
  void* keep = malloc(100);  /* at least one class with free slots */
  CHECK(keep != NULL);
  FILE* f = tmpfile();
  CHECK(f != NULL);
  CHECK(malloc_info(0, f) == 0);
  size_t n = read_back(f);
  CHECK(n > 0 && n < sizeof(text) - 1);
  CHECK(strncmp(text, "<malloc version=\"1\">\n", 21) == 0);
  CHECK(n > 10 && strcmp(text + n - 10, "</malloc>\n") == 0);
  CHECK(count_of(text, "<heap nr=") == 1 && count_of(text, "</heap>") == 1);
  CHECK(count_of(text, "<sizes>") == 1 && count_of(text, "</sizes>") == 1);
  CHECK(count_of(text, "<size from=") >= 1);
  CHECK(count_of(text, "<total type=\"mmap\"") == 1 && count_of(text, "<system type=\"current\"") == 2);
  /* Every line is one element: starts with '<', ends with '>'. */
  for (char* line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    CHECK_MSG(line[0] == '<' && line[strlen(line) - 1] == '>', "line: %s", line);
  }
  fclose(f);
  errno = 0;
  CHECK(malloc_info(1, stdout) == EINVAL && errno == EINVAL);
  free(keep);
}

static void check_malloc_trim(void) {
  enum { N = 20000 };
  static void* blocks[N];
  for (int i = 0; i < N; i++) {
    blocks[i] = malloc(i % 2 ? 1000 : 20000);
    CHECK(blocks[i] != NULL);
    memset(blocks[i], 2, 64);
  }
  for (int i = 0; i < N; i++) free(blocks[i]);
  int first = malloc_trim(0);
  int second = malloc_trim(0);
  int third = malloc_trim(0);
  printf("malloc_trim after freeing ~210 MB: %d, then %d, %d\n", first, second, third);
  CHECK(first == 1);
  CHECK(second == 0 && third == 0);
}

static void check_mallopt(void) {
  CHECK(mallopt(12345, 1) == 0);
  CHECK(mallopt(M_TRIM_THRESHOLD, 1 << 20) == 1);
  CHECK(mallopt(M_MMAP_THRESHOLD, 1 << 20) == 1);
  CHECK(mallopt(M_ARENA_MAX, 2) == 1);
  CHECK(mallopt(M_MXFAST, 64) == 1);
  CHECK(mallopt(M_MXFAST, 100000) == 0);
}

static void check_malloc_stats(void) {
  FILE* f = tmpfile();
  CHECK(f != NULL);
  fflush(stderr);
  int saved = dup(2);
  CHECK(saved >= 0 && dup2(fileno(f), 2) == 2);
  malloc_stats();
  CHECK(dup2(saved, 2) == 2);
  close(saved);
  read_back(f);
  fclose(f);
  CHECK_MSG(strncmp(text, "Arena 0:\nsystem bytes     = ", 28) == 0, "%s", text);
  CHECK(count_of(text, "in use bytes     = ") == 2 && count_of(text, "max mmap regions = ") == 1);
}

int main(void) {
  /* Freed memory stays until a trim (or the exit) purges it. */
  CHECK(xa_option_set("purge_delay", "1000000"));
  check_mallinfo();
  check_malloc_info();
  check_mallopt();
  check_malloc_stats();
  check_malloc_trim();
  puts("ov_mallinfo: ok");
  return 0;
}
