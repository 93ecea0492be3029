/* xa-large: repeated malloc/free/realloc of large blocks (1..32 MiB by
 * default), written for xalloc's suite.
 *
 * SLOTS blocks stay live.  Each of OPS steps picks a random slot and either
 * frees its block and allocates one of a new random size (even steps) or
 * reallocs it to a new random size (odd steps; the preserved content is
 * checked at a few places).  Every new block is written at TOUCH evenly
 * spaced places (one byte each, so at most TOUCH pages are faulted in) and at
 * its last byte.  This is where allocators that return every large block to
 * the OS at once (and fault it in again next time) lose.
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench_util.h"

static uint64_t o_ops, o_slots, o_min_kib, o_max_kib, o_touch;

static void touch(unsigned char *p, size_t sz, unsigned char v)
{
  size_t step = sz / o_touch;
  if (step == 0) step = 1;
  for (size_t o = 0; o < sz; o += step) p[o] = v;
  p[sz - 1] = v;
}

static void verify(const unsigned char *p, size_t oldsz, size_t newsz, unsigned char v)
{
  size_t n = oldsz < newsz ? oldsz : newsz;
  size_t step = oldsz / o_touch;
  if (step == 0) step = 1;
  for (size_t o = 0; o < n; o += step)
    if (p[o] != v) bu_corrupt("realloc lost content", p, newsz);
}

int main(int argc, char **argv)
{
  bu_prog = "xa-large";
  bu_summary = "large blocks: malloc/free/realloc of MIN..MAX KiB";
  bu_opt("ops", &o_ops, 3000, 300, 1, 1ull << 40, "steps");
  bu_opt("slots", &o_slots, 4, 4, 1, 1u << 16, "live blocks");
  bu_opt("min-kib", &o_min_kib, 1024, 1024, 1, 1u << 22, "smallest block in KiB");
  bu_opt("max-kib", &o_max_kib, 32768, 32768, 1, 1u << 22, "largest block in KiB");
  bu_opt("touch", &o_touch, 8, 8, 1, 1u << 20, "bytes written per new block (spread evenly)");
  bu_parse(argc, argv);
  if (o_min_kib > o_max_kib) bu_usage(1);

  bu_rng r;
  bu_seed(&r, 11);
  unsigned char **blk = bu_malloc(o_slots * sizeof *blk);
  size_t *size = bu_malloc(o_slots * sizeof *size);
  unsigned char *val = bu_malloc(o_slots);
  for (uint64_t i = 0; i < o_slots; i++) {
    size[i] = bu_range(&r, o_min_kib, o_max_kib) * 1024;
    blk[i] = bu_malloc(size[i]);
    val[i] = (unsigned char)(i + 1);
    touch(blk[i], size[i], val[i]);
  }
  double t0 = bu_now();
  uint64_t reallocs = 0;
  for (uint64_t k = 0; k < o_ops; k++) {
    uint32_t i = bu_below(&r, (uint32_t)o_slots);
    size_t sz = bu_range(&r, o_min_kib, o_max_kib) * 1024 - bu_below(&r, 64);
    if (k & 1) {
      unsigned char *q = realloc(blk[i], sz);
      if (q == NULL) bu_oom(sz);
      if (!bu_aligned(q, sz)) bu_corrupt("misaligned", q, sz);
      verify(q, size[i], sz, val[i]);
      blk[i] = q;
      reallocs++;
    } else {
      verify(blk[i], size[i], size[i], val[i]);
      free(blk[i]);
      blk[i] = bu_malloc(sz);
    }
    size[i] = sz;
    val[i] = (unsigned char)(val[i] + 1);
    touch(blk[i], sz, val[i]);
  }
  double t1 = bu_now();
  for (uint64_t i = 0; i < o_slots; i++) free(blk[i]);
  free(blk);
  free(size);
  free(val);
  bu_report_head("large");
  printf(" reallocs=%" PRIu64, reallocs);
  bu_report_tail(t1 - t0);
  return 0;
}
