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

/* The table as one block of text, so that it reaches the file or stderr in
 * one write and tables of processes sharing stderr do not interleave.
 * snprintf into a stack buffer: stdio streams would allocate. */
typedef struct { char text[3072]; size_t len; } stats_text_t;

static void add(stats_text_t* t, const char* line) {
  size_t n = strlen(line);
  if (n > sizeof(t->text) - t->len) n = sizeof(t->text) - t->len;
  memcpy(t->text + t->len, line, n);
  t->len += n;
}

static void render(stats_text_t* t) {
  char line[240];
  char name[160];
  t->len = 0;
  /* Which process: one gcc run or one python program behind a launcher
   * prints several tables, one per process. */
  xa__os_process_name(name, sizeof(name));
  snprintf(line, sizeof(line), "xalloc statistics of pid %lu (%s)\n", xa__os_pid(), name);
  add(t, line);
  snprintf(line, sizeof(line), "  %-44s %16s %16s\n", "gauge", "current", "peak");
  add(t, line);
#define XA_STAT_GAUGE_LINE(name, desc)                                                   \
  snprintf(line, sizeof(line), "  %-44s %16lld %16lld\n", desc,                         \
           (long long)xa__stat_current(XA_STAT_##name), (long long)xa__stat_peak(XA_STAT_##name)); \
  add(t, line);
  XA_STATS_FIELDS(XA_STAT_GAUGE_LINE)
#undef XA_STAT_GAUGE_LINE
#define XA_STAT_EVENT_LINE(name, desc)                                                   \
  snprintf(line, sizeof(line), "  %-44s %16lld\n", desc, (long long)xa__stat_current(XA_STAT_##name)); \
  add(t, line);
  XA_STATS_EVENTS(XA_STAT_EVENT_LINE)
#undef XA_STAT_EVENT_LINE
  snprintf(line, sizeof(line), "  %-44s %16zu\n", "process resident set (bytes)", xa__os_rss());
  add(t, line);
}

void xa__stats_print_to_stderr(void) {
  stats_text_t t;
  render(&t);
  xa__os_write_err(t.text, t.len);
}

/* XALLOC_STATS_FILE=path: the exit table is appended there instead; "%p" in
 * the path becomes the pid (one file per process), "%%" a single '%'.
 * Read here, at print time, with the other options untouched. */
void xa__stats_print_at_exit(void) {
  stats_text_t t;
  render(&t);
  const char* spec = xa__os_getenv("XALLOC_STATS_FILE");
  if (spec == NULL || spec[0] == 0) {
    xa__os_write_err(t.text, t.len);
    return;
  }
  char path[512];
  size_t n = 0;
  bool fits = true;
  for (const char* c = spec; *c != 0 && fits; c++) {
    char piece[24];
    if (c[0] == '%' && c[1] == 'p') {
      snprintf(piece, sizeof(piece), "%lu", xa__os_pid());
      c++;
    } else if (c[0] == '%' && c[1] == '%') {
      piece[0] = '%';
      piece[1] = 0;
      c++;
    } else {
      piece[0] = *c;
      piece[1] = 0;
    }
    size_t k = strlen(piece);
    fits = n + k < sizeof(path);
    if (fits) {
      memcpy(path + n, piece, k);
      n += k;
    }
  }
  path[n] = 0;
  if (fits && xa__os_append_file(path, t.text, t.len)) return;
  /* The table is not lost: stderr, with the reason. */
  char line[sizeof(path) + 80];
  snprintf(line, sizeof(line), "xalloc: cannot write XALLOC_STATS_FILE=%s; statistics on stderr\n",
           fits ? path : "(path too long)");
  xa__os_write_err(line, strlen(line));
  xa__os_write_err(t.text, t.len);
}
