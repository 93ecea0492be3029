/* In-place realloc, as xalloc.h states it: growing within
 * xa_usable_size(p), or shrinking to at least half of it, returns p itself.
 * Shrinking further may move the block (to give the memory back); the
 * content is kept either way.
 */
#include <stdint.h>
#include <string.h>

#include "xalloc.h"
#include "api_util.h"

static void inplace_for(size_t size, unsigned seed) {
  unsigned char* p = xa_malloc(size);
  CHECK(p != NULL);
  size_t u = xa_usable_size(p);
  CHECK(u >= size);
  xt_fill_pos(p, 0, size, seed);

  /* Grow up to exactly the usable size. */
  unsigned char* q = xa_realloc(p, u);
  CHECK_MSG(q == p, "size %zu: realloc to its usable size %zu moved the block", size, u);
  CHECK(xt_check_pos(q, size, seed) == size);
  xt_fill_pos(q, size, u, seed);

  /* Shrink in steps (to half, then to a quarter, ... then 1). */
  size_t cur = u;
  while (cur > 1) {
    size_t ns = cur / 2;
    size_t ucur = xa_usable_size(p);
    q = xa_realloc(p, ns);
    CHECK(q != NULL);
    if (ns >= ucur / 2) CHECK_MSG(q == p, "size %zu (usable %zu): shrink %zu -> %zu moved the block", size, u, cur, ns);
    CHECK(xt_check_pos(q, ns, seed) == ns);
    p = q;
    cur = ns;
  }
  /* And back up to the block's current usable size: still in place. */
  size_t unow = xa_usable_size(p);
  q = xa_realloc(p, unow);
  CHECK_MSG(q == p, "size %zu: regrow 1 -> %zu moved the block", size, unow);
  CHECK(xt_check_pos(q, 1, seed) == 1);
  xa_free(q);
}

int main(void) {
  for (size_t s = 1; s <= 1024; s += 3) inplace_for(s, (unsigned)s);
  for (size_t s = 1025; s <= ((size_t)4 << 20); s += s / 3) inplace_for(s, (unsigned)s);
  inplace_for((size_t)8 << 20, 1);

  /* Aligned blocks too (the usable size counts from the aligned pointer). */
  for (size_t a = 64; a <= ((size_t)1 << 20); a *= 8) {
    unsigned char* p = xa_malloc_aligned(a / 2 + 3, a);
    CHECK(p != NULL);
    size_t u = xa_usable_size(p);
    xt_fill_pos(p, 0, a / 2 + 3, 9);
    unsigned char* q = xa_realloc(p, u);
    CHECK_MSG(q == p, "aligned %zu: realloc to usable size moved", a);
    q = xa_realloc(p, u / 2);
    CHECK_MSG(q == p, "aligned %zu: shrink to half moved", a);
    q = xa_realloc(p, 8);  /* far below half: may move, content kept */
    CHECK(q != NULL);
    CHECK(xt_check_pos(q, 8, 9) == 8);
    xa_free(q);
  }
  return 0;
}
