/* xa_strdup / xa_strndup: content, termination, and xa_strndup never reading
 * beyond what it may read (lifecycle-pitfalls.md 4: a bounded duplicate read
 * s[n]). The source strings are placed right before a PROT_NONE page, so a
 * read too far faults.
 */
#include <string.h>
#include "xa_test_os.h"
#include <unistd.h>

#include "xalloc.h"
#include "api_util.h"

static void test_strdup(void) {
  const char* lits[] = {"", "a", "hello, world", "0123456789abcdef0123456789abcdef"};
  for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++) {
    char* d = xa_strdup(lits[i]);
    CHECK(d != NULL);
    CHECK(d != lits[i]);
    CHECK(strcmp(d, lits[i]) == 0);
    CHECK(xa_usable_size(d) >= strlen(lits[i]) + 1);
    CHECK(xa_heap_contains(xa_heap_get_default(), d));
    xa_free(d);
  }
  /* Long strings, built in an xa block. */
  for (size_t n = 100; n <= ((size_t)1 << 20); n *= 7) {
    char* s = xa_malloc(n + 1);
    CHECK(s != NULL);
    for (size_t i = 0; i < n; i++) s[i] = (char)('a' + (i * 7) % 26);
    s[n] = '\0';
    char* d = xa_strdup(s);
    CHECK(d != NULL && d != s);
    CHECK(strlen(d) == n);
    CHECK(memcmp(d, s, n + 1) == 0);
    xa_free(d);
    xa_free(s);
  }
  /* NULL in, NULL out; no crash. */
  CHECK(xa_strdup(NULL) == NULL);
}

static void test_strndup(void) {
  const char* s = "abcdefghij";
  char* d = xa_strndup(s, 4);
  CHECK(d != NULL);
  CHECK(strcmp(d, "abcd") == 0);
  xa_free(d);

  d = xa_strndup(s, 0);
  CHECK(d != NULL);
  CHECK(d[0] == '\0');
  xa_free(d);

  /* n larger than strlen: stops at the NUL. */
  d = xa_strndup(s, 1000);
  CHECK(d != NULL);
  CHECK(strcmp(d, s) == 0);
  xa_free(d);
  d = xa_strndup(s, (size_t)-1);
  CHECK(d != NULL);
  CHECK(strcmp(d, s) == 0);
  xa_free(d);

  /* n == strlen exactly. */
  d = xa_strndup(s, 10);
  CHECK(d != NULL);
  CHECK(strcmp(d, s) == 0);
  xa_free(d);

  /* Embedded NUL: the copy stops at the first one. */
  const char emb[] = {'x', 'y', '\0', 'z', 'w', '\0'};
  d = xa_strndup(emb, 5);
  CHECK(d != NULL);
  CHECK(strcmp(d, "xy") == 0);
  xa_free(d);
}

static void test_strndup_guard_page(void) {
#if defined(_WIN32)
  long ps = 4096;
#else
  long ps = sysconf(_SC_PAGESIZE);
#endif
  CHECK(ps > 0);
  size_t page = (size_t)ps;
  unsigned char* m = xt_os_map(2 * page, 0);
  CHECK(m != NULL);
  CHECK(xt_os_guard(m + page, page) == 0);
  unsigned char* end = m + page; /* first byte of the guard page */

  /* s[0..n-1] are non-NUL and end right before the guard page: reading
   * s[n] would fault. */
  for (size_t n = 0; n <= 300; n++) {
    char* s = (char*)(end - n);
    for (size_t i = 0; i < n; i++) s[i] = (char)('A' + (i % 23));
    char* d = xa_strndup(s, n);
    CHECK_MSG(d != NULL, "n=%zu", n);
    CHECK(memcmp(d, s, n) == 0);
    CHECK(d[n] == '\0');
    CHECK(strlen(d) == n);
    xa_free(d);
  }
  /* A whole page without NUL. */
  memset(m, 'q', page);
  char* d = xa_strndup((const char*)m, page);
  CHECK(d != NULL);
  CHECK(strlen(d) == page);
  CHECK(xt_all_bytes(d, page, 'q'));
  xa_free(d);

  /* A terminated string whose NUL is the last readable byte, with n far
   * beyond it: the copy must stop at the NUL and read nothing after it. */
  for (size_t len = 0; len <= 40; len++) {
    char* s = (char*)(end - len - 1);
    memset(s, 'r', len);
    s[len] = '\0';
    d = xa_strndup(s, len + 1000);
    CHECK(d != NULL);
    CHECK(strlen(d) == len);
    CHECK(memcmp(d, s, len + 1) == 0);
    xa_free(d);
    d = xa_strdup(s);
    CHECK(d != NULL);
    CHECK(strcmp(d, s) == 0);
    xa_free(d);
  }
  CHECK(xt_os_unmap(m, 2 * page) == 0);
}

int main(void) {
  test_strdup();
  test_strndup();
  test_strndup_guard_page();
  return 0;
}
