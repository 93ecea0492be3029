/* Statistics: the counters, the merge, and their text and JSON renderings
 * (stats.h). Nothing here allocates through malloc: reports are built in
 * stack buffers and written through the OS layer. */
#include "xalloc.h"
#include "stats.h"
#include "arena.h"
#include "bin.h"
#include "options.h"
#include "os.h"
#include "purge.h"
#include "tls.h"
#include "types.h"
#include <string.h>

/* ---- process-wide gauges and events ---------------------------------------------- */

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

static _Atomic(uint64_t) free_events;

void xa__stats_free_event(void) { atomic_fetch_add_explicit(&free_events, 1, memory_order_relaxed); }
uint64_t xa__stats_free_events(void) { return atomic_load_explicit(&free_events, memory_order_relaxed); }

/* ---- per-thread counters ------------------------------------------------------------ */

/* Pages of abandoned segments (synced by the purge pass, under the
 * abandoned-list lock) and cross-thread frees of threads without thread
 * data: shared, so updated with atomic adds. */
static xa_tld_stats_t shared_stats;
/* Largest live total any merge has seen. */
static _Atomic(int64_t) live_peak_seen;

static void counter_add(xa_tld_stats_t* st, _Atomic(int64_t)* c, int64_t d) {
  if (st == &shared_stats) {
    atomic_fetch_add_explicit(c, d, memory_order_relaxed);
  } else {  /* one writer: no read-modify-write needed */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + d, memory_order_relaxed);
  }
}

static xa_segment_t* page_seg(const xa_page_t* page) {
  return (xa_segment_t*)((uintptr_t)page & ~(uintptr_t)XA_SEGMENT_MASK);
}

/* The counters of whoever acts as the page's owner now. */
static xa_tld_stats_t* page_stats(const xa_page_t* page) {
  xa_tld_t* owner = (xa_tld_t*)atomic_load_explicit(&page_seg(page)->owner, memory_order_relaxed);
  return owner != NULL ? &owner->stats : &shared_stats;
}

static size_t page_bin(const xa_page_t* page) {
  return page_seg(page)->kind == XA_KIND_HUGE ? XA_BIN_HUGE : xa__bin_of(page->block_size);
}

/* Move the page's live count from `from` blocks to `to` blocks. */
static void page_count(xa_page_t* page, xa_tld_stats_t* st, uint32_t from, uint32_t to) {
  xa_bin_stats_t* b = &st->bins[page_bin(page)];
  int64_t blocks = (int64_t)to - (int64_t)from;
  int64_t bytes = blocks * (int64_t)page->block_size;
  counter_add(st, &b->blocks, blocks);
  counter_add(st, &b->bytes, bytes);
  if (bytes > 0) counter_add(st, &st->allocated, bytes);
  else counter_add(st, &st->freed, -bytes);
}

void xa__stats_page_init(xa_page_t* page) {
  xa_tld_stats_t* st = page_stats(page);
  xa_bin_stats_t* b = &st->bins[page_bin(page)];
  page->stat_used = 0;
  counter_add(st, &b->pages, 1);
  counter_add(st, &b->slots, page->reserved);
  if (page_bin(page) == XA_BIN_HUGE) counter_add(st, &st->huge_allocs, 1);
}

void xa__stats_page_sync(xa_page_t* page) {
  uint32_t used = page->used;
  if (used == page->stat_used) return;
  page_count(page, page_stats(page), page->stat_used, used);
  page->stat_used = used;
}

void xa__stats_page_gone(xa_page_t* page) {
  if (page->block_size == 0) return;  /* never formatted for blocks */
  xa_tld_stats_t* st = page_stats(page);
  xa_bin_stats_t* b = &st->bins[page_bin(page)];
  if (page->stat_used != 0) page_count(page, st, page->stat_used, 0);
  page->stat_used = 0;
  counter_add(st, &b->pages, -1);
  counter_add(st, &b->slots, -(int64_t)page->reserved);
}

void xa__stats_huge_resized(xa_page_t* page, size_t old_size) {
  if (page->stat_used == 0) return;  /* the next sync counts the new size */
  xa_tld_stats_t* st = page_stats(page);
  int64_t d = (int64_t)page->block_size - (int64_t)old_size;
  counter_add(st, &st->bins[XA_BIN_HUGE].bytes, d);
  if (d > 0) counter_add(st, &st->allocated, d);
  else counter_add(st, &st->freed, -d);
}

void xa__stats_xthread_free(xa_tld_t* self) {
  xa_tld_stats_t* st = self == &xa__tld_empty ? &shared_stats : &self->stats;
  counter_add(st, &st->xthread_frees, 1);
}

/* The caller's own pages: their used counts are its to read. */
static void sync_own_pages(void) {
  xa_tld_t* tld = xa__tls_tld_get();
  if (tld == &xa__tld_empty) return;
  for (xa_segment_t* seg = tld->segments; seg != NULL; seg = seg->all_next) {
    for (uint32_t i = 0; i < seg->page_count; i++) {
      if (seg->pages[i].in_use) xa__stats_page_sync(&seg->pages[i]);
    }
  }
}

static int64_t load(_Atomic(int64_t)* c) { return atomic_load_explicit(c, memory_order_relaxed); }

static void merge_one(xa_stats_snapshot_t* s, xa_tld_stats_t* st) {
  s->allocated += load(&st->allocated);
  s->freed += load(&st->freed);
  s->xthread_frees += load(&st->xthread_frees);
  s->huge_allocs += load(&st->huge_allocs);
  for (size_t i = 0; i < XA_BIN_COUNT; i++) {
    s->bins[i].pages += load(&st->bins[i].pages);
    s->bins[i].slots += load(&st->bins[i].slots);
    s->bins[i].blocks += load(&st->bins[i].blocks);
    s->bins[i].bytes += load(&st->bins[i].bytes);
  }
}

void xa__stats_snapshot(xa_stats_snapshot_t* s) {
  memset(s, 0, sizeof(*s));
  sync_own_pages();
  merge_one(s, &shared_stats);
  for (xa_tld_t* t = xa__purge_registry(); t != NULL; t = t->all_next) merge_one(s, &t->stats);
  s->live = s->allocated - s->freed;
  int64_t peak = atomic_load_explicit(&live_peak_seen, memory_order_relaxed);
  while (s->live > peak && !atomic_compare_exchange_weak_explicit(&live_peak_seen, &peak, s->live,
                                                                  memory_order_relaxed, memory_order_relaxed)) {
  }
  s->live_peak = s->live > peak ? s->live : peak;
  for (size_t i = 0; i < XA_STAT_COUNT; i++) {
    s->current[i] = xa__stat_current((xa_stat_t)i);
    s->peak[i] = xa__stat_peak((xa_stat_t)i);
  }
  for (size_t i = 1; i < XA_BIN_COUNT; i++) s->pages_by_kind[xa__bin_kind(i)] += s->bins[i].pages;
  s->arena_reserved = xa__arena_reserved();
  s->rss = xa__os_rss();
}

/* ---- output without malloc ------------------------------------------------------------ */

/* Text goes into buf; when it is full, either the sink takes it (reports)
 * or the rest is only counted (xa_stats_json, which answers the length
 * needed). `len` counts everything produced. */
typedef struct out_s {
  char* buf;
  size_t cap, pos, len;
  void (*sink)(struct out_s* o);
  const char* path;  /* the sink's file, NULL for stderr */
  bool failed;
} out_t;

static void put(out_t* o, const char* s, size_t n) {
  o->len += n;
  while (n > 0) {
    size_t room = o->cap - o->pos;
    if (o->sink == NULL) room = o->pos + 1 < o->cap ? o->cap - 1 - o->pos : 0;
    if (room == 0) {
      if (o->sink == NULL) return;
      o->sink(o);
      continue;
    }
    size_t k = n < room ? n : room;
    memcpy(o->buf + o->pos, s, k);
    o->pos += k;
    s += k;
    n -= k;
  }
}

static void puts_(out_t* o, const char* s) { put(o, s, strlen(s)); }

static void put_int(out_t* o, int64_t v) {
  char text[24];
  put(o, text, xa__format_int(v, text));
}

/* An integer right-aligned in width columns. */
static void put_col(out_t* o, int64_t v, size_t width) {
  out_t probe = {NULL, 0, 0, 0, NULL, NULL, false};
  put_int(&probe, v);
  for (size_t i = probe.len; i < width; i++) put(o, " ", 1);
  put_int(o, v);
}

static void put_str_col(out_t* o, const char* s, size_t width, bool left) {
  size_t n = strlen(s);
  if (!left) for (size_t i = n; i < width; i++) put(o, " ", 1);
  put(o, s, n);
  if (left) for (size_t i = n; i < width; i++) put(o, " ", 1);
}

/* num/den as a decimal with four places ("0.8750"), locale-free. */
static void put_ratio(out_t* o, int64_t num, int64_t den) {
  int64_t q = den > 0 && num > 0 ? (int64_t)((double)num * 10000.0 / (double)den + 0.5) : 0;
  put_int(o, q / 10000);
  char frac[6] = {'.', 0, 0, 0, 0, 0};
  int64_t r = q % 10000;
  for (int i = 4; i >= 1; i--) {
    frac[i] = (char)('0' + r % 10);
    r /= 10;
  }
  put(o, frac, 5);
}

static void put_json_string(out_t* o, const char* s) {
  static const char hex[] = "0123456789abcdef";
  put(o, "\"", 1);
  for (const unsigned char* c = (const unsigned char*)s; *c != 0; c++) {
    if (*c == '"' || *c == '\\') {
      char e[2] = {'\\', (char)*c};
      put(o, e, 2);
    } else if (*c < 0x20 || *c == 0x7f) {
      char e[6] = {'\\', 'u', '0', '0', hex[*c >> 4], hex[*c & 15]};
      put(o, e, 6);
    } else {
      put(o, (const char*)c, 1);
    }
  }
  put(o, "\"", 1);
}

static const char* const kind_names[4] = {"small", "medium", "large", "huge"};

/* ---- the text table ----------------------------------------------------------------- */

static void line_gauge(out_t* o, const char* desc, int64_t cur, int64_t peak) {
  puts_(o, "  ");
  put_str_col(o, desc, 44, true);
  put_col(o, cur, 17);
  if (peak != INT64_MIN) put_col(o, peak, 17);
  puts_(o, "\n");
}

static void render_text(out_t* o, const xa_stats_snapshot_t* s) {
  char name[160];
  /* Which process: one gcc run or one python program behind a launcher
   * prints several tables, one per process. */
  xa__os_process_name(name, sizeof(name));
  puts_(o, "xalloc statistics of pid ");
  put_int(o, (int64_t)xa__os_pid());
  puts_(o, " (");
  puts_(o, name);
  puts_(o, ")\n  ");
  put_str_col(o, "gauge", 44, true);
  put_str_col(o, "current", 17, false);
  put_str_col(o, "peak", 17, false);
  puts_(o, "\n");
  line_gauge(o, "bytes live in blocks (page-level sync)", s->live, s->live_peak);
#define XA_STAT_GAUGE_LINE(name, desc) line_gauge(o, desc, s->current[XA_STAT_##name], s->peak[XA_STAT_##name]);
  XA_STATS_FIELDS(XA_STAT_GAUGE_LINE)
#undef XA_STAT_GAUGE_LINE
  for (int k = 0; k < 4; k++) {
    char desc[48] = "pages in use: ";
    strcat(desc, kind_names[k]);
    line_gauge(o, desc, s->pages_by_kind[k], INT64_MIN);
  }
  line_gauge(o, "huge blocks live", s->bins[XA_BIN_HUGE].blocks, INT64_MIN);
  line_gauge(o, "bytes allocated (page-level sync)", s->allocated, INT64_MIN);
  line_gauge(o, "bytes freed (page-level sync)", s->freed, INT64_MIN);
  line_gauge(o, "huge blocks allocated", s->huge_allocs, INT64_MIN);
  line_gauge(o, "cross-thread frees", s->xthread_frees, INT64_MIN);
#define XA_STAT_EVENT_LINE(name, desc) line_gauge(o, desc, s->current[XA_STAT_##name], INT64_MIN);
  XA_STATS_EVENTS(XA_STAT_EVENT_LINE)
#undef XA_STAT_EVENT_LINE
  line_gauge(o, "address space reserved by the arena", (int64_t)s->arena_reserved, INT64_MIN);
  line_gauge(o, "process resident set (bytes)", (int64_t)s->rss, INT64_MIN);
  puts_(o, "  size classes in use:\n  ");
  put_str_col(o, "block size", 12, false);
  put_str_col(o, "kind", 8, false);
  put_str_col(o, "pages", 10, false);
  put_str_col(o, "blocks live", 14, false);
  put_str_col(o, "bytes live", 16, false);
  put_str_col(o, "fill", 9, false);
  puts_(o, "\n");
  for (size_t i = 1; i < XA_BIN_COUNT; i++) {
    const xa_stats_bin_t* b = &s->bins[i];
    if (b->pages == 0 && b->blocks == 0) continue;
    puts_(o, "  ");
    if (i == XA_BIN_HUGE) put_str_col(o, "huge", 12, false);
    else put_col(o, (int64_t)xa__bin_size(i), 12);
    put_str_col(o, kind_names[xa__bin_kind(i)], 8, false);
    put_col(o, b->pages, 10);
    put_col(o, b->blocks, 14);
    put_col(o, b->bytes, 16);
    puts_(o, "   ");
    put_ratio(o, b->blocks, b->slots);
    puts_(o, "\n");
  }
}

/* ---- JSON (docs/stats.md, schema_version 1) ------------------------------------------- */

static void key(out_t* o, const char* k, bool first) {
  puts_(o, first ? "\"" : ",\"");
  puts_(o, k);
  puts_(o, "\":");
}

static void kv(out_t* o, const char* k, int64_t v, bool first) {
  key(o, k, first);
  put_int(o, v);
}

static void render_json(out_t* o, const xa_stats_snapshot_t* s) {
  char name[160];
  xa__os_process_name(name, sizeof(name));
  puts_(o, "{");
  kv(o, "schema_version", 1, true);
  kv(o, "xalloc_version", XALLOC_VERSION, false);
  kv(o, "pid", (int64_t)xa__os_pid(), false);
  key(o, "process", false);
  put_json_string(o, name);
  key(o, "bytes", false);
  puts_(o, "{");
  kv(o, "allocated", s->allocated, true);
  kv(o, "freed", s->freed, false);
  kv(o, "live", s->live, false);
  kv(o, "live_peak", s->live_peak, false);
  kv(o, "committed", s->current[XA_STAT_committed], false);
  kv(o, "committed_peak", s->peak[XA_STAT_committed], false);
  kv(o, "reserved", s->current[XA_STAT_os_bytes], false);
  kv(o, "reserved_peak", s->peak[XA_STAT_os_bytes], false);
  kv(o, "arena_reserved", (int64_t)s->arena_reserved, false);
  kv(o, "purged", s->current[XA_STAT_purged_bytes], false);
  kv(o, "unmapped", s->current[XA_STAT_unmapped_bytes], false);
  key(o, "refaulted", false);
  puts_(o, "null");
  kv(o, "resident", (int64_t)s->rss, false);
  puts_(o, "}");
  key(o, "gauges", false);
  puts_(o, "{");
  bool first = true;
#define XA_STAT_GAUGE_JSON(name, desc)                         \
  key(o, #name, first);                                      \
  first = false;                                               \
  puts_(o, "{");                                               \
  kv(o, "current", s->current[XA_STAT_##name], true);        \
  kv(o, "peak", s->peak[XA_STAT_##name], false);             \
  puts_(o, "}");
  XA_STATS_FIELDS(XA_STAT_GAUGE_JSON)
#undef XA_STAT_GAUGE_JSON
  puts_(o, "}");
  key(o, "events", false);
  puts_(o, "{");
  kv(o, "cross_thread_frees", s->xthread_frees, true);
  kv(o, "huge_allocs", s->huge_allocs, false);
#define XA_STAT_EVENT_JSON(name, desc) kv(o, #name, s->current[XA_STAT_##name], false);
  XA_STATS_EVENTS(XA_STAT_EVENT_JSON)
#undef XA_STAT_EVENT_JSON
  puts_(o, "}");
  key(o, "pages_by_kind", false);
  puts_(o, "{");
  for (int k = 0; k < 4; k++) kv(o, kind_names[k], s->pages_by_kind[k], k == 0);
  puts_(o, "}");
  key(o, "huge", false);
  puts_(o, "{");
  kv(o, "blocks", s->bins[XA_BIN_HUGE].blocks, true);
  kv(o, "bytes", s->bins[XA_BIN_HUGE].bytes, false);
  puts_(o, "}");
  key(o, "size_classes", false);
  puts_(o, "[");
  first = true;
  for (size_t i = 1; i < XA_BIN_COUNT; i++) {
    const xa_stats_bin_t* b = &s->bins[i];
    if (b->pages == 0 && b->blocks == 0 && b->bytes == 0) continue;
    puts_(o, first ? "\n{" : ",\n{");
    first = false;
    kv(o, "block_size", i == XA_BIN_HUGE ? 0 : (int64_t)xa__bin_size(i), true);
    key(o, "kind", false);
    put_json_string(o, kind_names[xa__bin_kind(i)]);
    kv(o, "pages", b->pages, false);
    kv(o, "slots", b->slots, false);
    kv(o, "blocks", b->blocks, false);
    kv(o, "bytes", b->bytes, false);
    key(o, "fill", false);
    put_ratio(o, b->blocks, b->slots);
    puts_(o, "}");
  }
  puts_(o, "]}\n");
}

XA_API size_t xa_stats_json(char* buf, size_t size) {
  xa_stats_snapshot_t s;
  xa__stats_snapshot(&s);
  out_t o = {buf, size, 0, 0, NULL, NULL, false};
  render_json(&o, &s);
  if (size > 0) buf[o.pos] = 0;
  return o.len;
}

/* ---- reports on stderr or in XALLOC_STATS_FILE ------------------------------------------ */

/* A report is written in as few pieces as fit the buffer (one, usually), so
 * that reports of processes sharing stderr or a file do not interleave. */
static void sink_write(out_t* o) {
  if (o->pos == 0) return;
  if (o->path == NULL) xa__os_write_err(o->buf, o->pos);
  else if (!o->failed && !xa__os_append_file(o->path, o->buf, o->pos)) o->failed = true;
  o->pos = 0;
}

#define REPORT_BUF 16384

void xa__stats_print_to_stderr(void) {
  xa_stats_snapshot_t s;
  xa__stats_snapshot(&s);
  char buf[REPORT_BUF];
  out_t o = {buf, sizeof(buf), 0, 0, sink_write, NULL, false};
  render_text(&o, &s);
  sink_write(&o);
}

void xa__stats_print_glibc(void) {
  xa_stats_snapshot_t s;
  xa__stats_snapshot(&s);
  int64_t sys = s.current[XA_STAT_os_bytes], used = s.live;
  char buf[512];
  out_t o = {buf, sizeof(buf), 0, 0, sink_write, NULL, false};
  const char* labels[6] = {"Arena 0:\nsystem bytes     = ", "in use bytes     = ",
                           "Total (incl. mmap):\nsystem bytes     = ", "in use bytes     = ",
                           "max mmap regions = ", "max mmap bytes   = "};
  int64_t values[6] = {sys, used, sys, used, s.peak[XA_STAT_huge_segments], s.bins[XA_BIN_HUGE].bytes};
  for (int i = 0; i < 6; i++) {
    puts_(&o, labels[i]);
    put_col(&o, values[i], 10);
    puts_(&o, "\n");
  }
  sink_write(&o);
}

/* XALLOC_STATS_FILE=path: the exit report is appended there instead; "%p"
 * in the path becomes the pid (one file per process), "%%" a single '%'.
 * Read here, at print time, with the other options untouched. */
void xa__stats_print_at_exit(void) {
  xa_stats_snapshot_t s;
  xa__stats_snapshot(&s);
  bool json = xa__option_get(XA_OPT_SHOW_STATS) == XA_STATS_JSON;
  char buf[REPORT_BUF];
  out_t o = {buf, sizeof(buf), 0, 0, sink_write, NULL, false};
  const char* spec = xa__os_getenv("XALLOC_STATS_FILE");
  char path[512];
  size_t n = 0;
  bool fits = true;
  if (spec != NULL && spec[0] != 0) {
    for (const char* c = spec; *c != 0 && fits; c++) {
      out_t piece = {path + n, sizeof(path) - n, 0, 0, NULL, NULL, false};
      if (c[0] == '%' && c[1] == 'p') {
        put_int(&piece, (int64_t)xa__os_pid());
        c++;
      } else if (c[0] == '%' && c[1] == '%') {
        put(&piece, "%", 1);
        c++;
      } else {
        put(&piece, c, 1);
      }
      fits = piece.pos == piece.len;
      n += piece.pos;
    }
    path[n] = 0;
    o.path = path;
    if (!fits) o.failed = true;
  }
  if (json) render_json(&o, &s);
  else render_text(&o, &s);
  sink_write(&o);
  if (o.path == NULL || !o.failed) return;
  /* The report is not lost: stderr, with the reason. */
  out_t m = {NULL, 0, 0, 0, NULL, NULL, false};
  char line[sizeof(path) + 80];
  m.buf = line;
  m.cap = sizeof(line);
  puts_(&m, "xalloc: cannot write XALLOC_STATS_FILE=");
  puts_(&m, fits ? path : "(path too long)");
  puts_(&m, "; statistics on stderr\n");
  xa__os_write_err(line, m.pos);
  o.path = NULL;
  o.failed = false;
  o.pos = 0;
  o.len = 0;
  if (json) render_json(&o, &s);
  else render_text(&o, &s);
  sink_write(&o);
}
