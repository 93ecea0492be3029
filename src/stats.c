/* Statistics counters and their text rendering (stats.h). */
#include "stats.h"
#include "os.h"
#include <stdio.h>
#include <string.h>

static _Atomic(int64_t) stat_current[XA_STAT_COUNT];
static _Atomic(int64_t) stat_peak[XA_STAT_COUNT];

void xa__stat_add(xa_stat_t s, int64_t delta) {
  int64_t now = atomic_fetch_add_explicit(&stat_current[s], delta, memory_order_relaxed) + delta;
  int64_t peak = atomic_load_explicit(&stat_peak[s], memory_order_relaxed);
  while (now > peak &&
         !atomic_compare_exchange_weak_explicit(&stat_peak[s], &peak, now, memory_order_relaxed,
                                                memory_order_relaxed)) {
  }
}

int64_t xa__stat_current(xa_stat_t s) { return atomic_load_explicit(&stat_current[s], memory_order_relaxed); }
int64_t xa__stat_peak(xa_stat_t s) { return atomic_load_explicit(&stat_peak[s], memory_order_relaxed); }

static void emit(const char* line) { xa__os_write_err(line, strlen(line)); }

void xa__stats_print_to_stderr(void) {
  /* snprintf into a stack buffer: stdio streams would allocate. */
  char line[160];
  emit("xalloc statistics\n");
  snprintf(line, sizeof(line), "  %-44s %16s %16s\n", "gauge", "current", "peak");
  emit(line);
#define XA_STAT_GAUGE_LINE(name, desc)                                                   \
  snprintf(line, sizeof(line), "  %-44s %16lld %16lld\n", desc,                         \
           (long long)xa__stat_current(XA_STAT_##name), (long long)xa__stat_peak(XA_STAT_##name)); \
  emit(line);
  XA_STATS_FIELDS(XA_STAT_GAUGE_LINE)
#undef XA_STAT_GAUGE_LINE
#define XA_STAT_EVENT_LINE(name, desc)                                                   \
  snprintf(line, sizeof(line), "  %-44s %16lld\n", desc, (long long)xa__stat_current(XA_STAT_##name)); \
  emit(line);
  XA_STATS_EVENTS(XA_STAT_EVENT_LINE)
#undef XA_STAT_EVENT_LINE
  snprintf(line, sizeof(line), "  %-44s %16zu\n", "process resident set (bytes)", xa__os_rss());
  emit(line);
}
