/* xa-workset: a large, cold working set of mixed small sizes, replaced at
 * random, one thread.
 *
 * LIVE blocks stay allocated; every step frees a randomly chosen one and
 * allocates a new block of a random size in its place, then writes its first
 * and last byte (as a program initialising a struct would). Sizes: five in
 * eight from 8-72 bytes, two in eight from 8-264, one in eight from 8-2048.
 * With tens of thousands of blocks spread over hundreds of pages, a free
 * lands in a page that was full and is cold in the cache; an allocator whose
 * frees into full pages, or whose allocations after them, leave the fast
 * path shows it here. The suite's random-8-512 keeps a small, hot set and
 * does not.
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench_util.h"

static uint64_t o_live, o_steps;

static size_t pick_size(bu_rng *r)
{
  uint32_t kind = bu_below(r, 8);
  if (kind < 5) return bu_range(r, 8, 72);
  if (kind < 7) return bu_range(r, 8, 264);
  return bu_range(r, 8, 2048);
}

static unsigned char *fill(bu_rng *r, size_t *size)
{
  *size = pick_size(r);
  unsigned char *p = bu_malloc(*size);
  p[0] = (unsigned char)*size;
  p[*size - 1] = (unsigned char)*size;
  return p;
}

int main(int argc, char **argv)
{
  bu_prog = "xa-workset";
  bu_summary = "a large working set of mixed small sizes, one random block replaced per step";
  bu_opt("live", &o_live, 50000, 5000, 1, 1u << 26, "blocks kept live");
  bu_opt("steps", &o_steps, 10000000, 200000, 1, 1ull << 40, "replacements");
  bu_parse(argc, argv);

  bu_rng r;
  bu_seed(&r, 14);
  unsigned char **slot = bu_malloc(o_live * sizeof *slot);
  size_t *slot_size = bu_malloc(o_live * sizeof *slot_size);
  for (uint64_t i = 0; i < o_live; i++) slot[i] = fill(&r, &slot_size[i]);
  uint64_t bad = 0;
  double t0 = bu_now();
  for (uint64_t s = 0; s < o_steps; s++) {
    uint32_t i = bu_below(&r, (uint32_t)o_live);
    unsigned char *p = slot[i];
    size_t n = slot_size[i];
    bad += p[0] != (unsigned char)n || p[n - 1] != (unsigned char)n;
    free(p);
    slot[i] = fill(&r, &slot_size[i]);
  }
  double t1 = bu_now();
  for (uint64_t i = 0; i < o_live; i++) free(slot[i]);
  free(slot);
  free(slot_size);
  if (bad != 0) {
    fprintf(stderr, "xa-workset: %" PRIu64 " blocks changed while live\n", bad);
    return 1;
  }
  bu_report_head("workset");
  bu_report_tail(t1 - t0);
  return 0;
}
