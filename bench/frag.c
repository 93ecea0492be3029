/* xa-frag: fragmentation, written for xalloc's suite.
 *
 * CYCLES times: allocate MIB MiB in blocks of size A, free a random 90% of them,
 * then allocate blocks of a different size class B (as many bytes as were
 * freed), then free everything of this cycle except the 10% survivors of the
 * first step, which live on to the end (so every cycle leaves scattered live
 * blocks behind).  The sizes rotate through 64, 200, 48, 1000, 24, 320 B.
 * An allocator that cannot reuse the holes of one size class for another, or
 * keeps emptied pages resident, shows a growing resident set.
 *
 * RSS over time: the resident set (VmRSS) is sampled SAMPLES times per phase
 * (3 phases per cycle) at fixed points of the work, so the samples line up
 * between allocators; they are printed as rss_trace_kb=a,b,c,...
 *
 * SPDX-License-Identifier: MIT
 */
#include "bench_util.h"

static uint64_t o_mib, o_cycles, o_samples;
static const uint32_t class_sizes[] = {64, 200, 48, 1000, 24, 320};
#define NCLASS (sizeof class_sizes / sizeof class_sizes[0])

static long *trace;
static uint64_t ntrace, trace_cap;

static void sample(void)
{
  if (ntrace < trace_cap) trace[ntrace++] = bu_status_kb("VmRSS");
}

/* Call every step of a phase of n steps: samples at o_samples even points. */
static inline void maybe_sample(uint64_t k, uint64_t n)
{
  uint64_t every = n / o_samples;
  if (every == 0) every = 1;
  if ((k + 1) % every == 0 && (k + 1) / every <= o_samples) sample();
}

int main(int argc, char **argv)
{
  bu_prog = "xa-frag";
  bu_summary = "fragmentation: allocate, free a random 90%, allocate another size; RSS over time";
  bu_opt("mib", &o_mib, 64, 2, 1, 1u << 16, "MiB allocated in the first step of a cycle");
  bu_opt("cycles", &o_cycles, 6, 2, 1, 1000, "cycles");
  bu_opt("samples", &o_samples, 10, 4, 1, 1000, "RSS samples per phase");
  bu_parse(argc, argv);

  trace_cap = o_cycles * 3 * o_samples + 2;
  trace = bu_malloc(trace_cap * sizeof *trace);
  sample();
  bu_rng r;
  bu_seed(&r, 5);
  uint64_t bytes = o_mib << 20, cap = bytes / 24 + 1;
  unsigned char **a = bu_malloc(cap * sizeof *a);
  uint64_t nsurv_total = 0, surv_cap = cap / 5 * o_cycles + 16;
  unsigned char **surv = bu_malloc(surv_cap * sizeof *surv);
  uint32_t *surv_size = bu_malloc(surv_cap * sizeof *surv_size);
  uint64_t bcap = cap;
  unsigned char **b = bu_malloc(bcap * sizeof *b);
  double t0 = bu_now();
  for (uint64_t c = 0; c < o_cycles; c++) {
    uint32_t sa = class_sizes[c % NCLASS], sb = class_sizes[(c + 1) % NCLASS];
    unsigned char tag = (unsigned char)(c + 1);
    uint64_t na = bytes / sa;
    for (uint64_t i = 0; i < na; i++) {
      a[i] = bu_malloc(sa);
      bu_tag(a[i], sa, tag);
      maybe_sample(i, na);
    }
    uint64_t freed = 0;
    for (uint64_t i = 0; i < na; i++) {
      if (bu_below(&r, 10) != 0) {
        bu_check(a[i], sa, tag);
        free(a[i]);
        freed++;
      } else if (nsurv_total < surv_cap) {
        surv[nsurv_total] = a[i];
        surv_size[nsurv_total++] = sa;
      } else {
        free(a[i]);
      }
      maybe_sample(i, na);
    }
    uint64_t nb = freed * sa / sb;
    if (nb > bcap) nb = bcap;
    for (uint64_t i = 0; i < nb; i++) {
      b[i] = bu_malloc(sb);
      bu_tag(b[i], sb, (unsigned char)(tag + 100));
      maybe_sample(i, nb);
    }
    for (uint64_t i = 0; i < nb; i++) {
      bu_check(b[i], sb, (unsigned char)(tag + 100));
      free(b[i]);
    }
  }
  sample();
  double t1 = bu_now();
  long end_kb = bu_status_kb("VmRSS");
  for (uint64_t i = 0; i < nsurv_total; i++) free(surv[i]);
  free(a);
  free(b);
  free(surv);
  free(surv_size);
  bu_report_head("frag");
  printf(" survivors=%" PRIu64 " end_rss_kb=%ld rss_trace_kb=", nsurv_total, end_kb);
  for (uint64_t i = 0; i < ntrace; i++) printf(i ? ",%ld" : "%ld", trace[i]);
  free(trace);
  bu_report_tail(t1 - t0);
  return 0;
}
