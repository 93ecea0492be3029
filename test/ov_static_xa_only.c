/* A program that calls only the xa_ API (never malloc itself) and links
 * libxalloc.a: libc's internal allocations must still be xalloc's — the
 * static target pulls the override object in (-u malloc). */
#include <stdlib.h>
#include <string.h>
#include "xalloc.h"
#include "xa_test.h"

int main(void) {
  char* mine = xa_strdup("from the API");
  CHECK(mine != NULL && xa_is_in_heap_region(mine));
  char* libc = strdup("from libc");  /* allocates inside libc */
  CHECK(libc != NULL);
  CHECK(xa_is_in_heap_region(libc));
  xa_free(libc);
  xa_free(mine);
  return 0;
}
