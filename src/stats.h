/* Statistics. Nothing is counted on the malloc/free fast paths.
 *
 * Process-wide gauges and events (the two lists below) are relaxed atomics
 * updated on segment, page and thread events.
 *
 * Bytes and blocks live, per size class, are kept per thread (tld->stats,
 * types.h) at page granularity: a page remembers in stat_used how many of
 * its blocks were live at its last sync, and a sync adds the difference to
 * the syncing owner's counters (allocated when it grew, freed when it
 * shrank). Pages sync when their free list is refilled (extend, collect),
 * when they are freed, when a huge block is made or resized, and, for the
 * calling thread's own pages, when statistics are merged. Writers: the
 * thread acting as the segment's owner (relaxed load + store, no
 * read-modify-write); pages of abandoned segments sync into process-wide
 * atomics. Merging sums every tld ever made (purge.c's registry).
 * docs/stats.md states what is exact. */
#ifndef XA_STATS_H
#define XA_STATS_H

#include "config.h"
#include <stdatomic.h>

/* One list drives the enum, the counters and the printed table. */
#define XA_STATS_FIELDS(X)                                                  \
  X(os_bytes,        "bytes mapped from the OS")                           \
  X(committed,       "bytes committed (touched, not purged)")              \
  X(segments,        "segments mapped")                                     \
  X(huge_segments,   "huge segments mapped")                                \
  X(pages,           "pages in use")                                        \
  X(abandoned,       "segments abandoned (waiting for reclaim)")            \
  X(threads,         "threads with a heap")                                 \
  X(heaps,           "heaps")

#define XA_STATS_EVENTS(X)                                                  \
  X(reclaimed,       "segments reclaimed")                                  \
  X(purged_bytes,    "bytes purged")                                        \
  X(purges,          "purge calls (madvise)")                               \
  X(unmapped_bytes,  "bytes unmapped (segments given back to the OS)")     \
  X(limit_failures,  "allocations refused by the memory limit")             \
  X(late_handovers,  "thread data of ended threads handed over by others") \
  X(cache_hits,      "segment cache hits")                                  \
  X(huge_remaps,     "huge blocks grown or moved without copying")         \
  X(foreign_frees,   "frees of foreign pointers ignored")                  \
  X(double_frees,    "double frees detected and ignored")                  \
  X(invalid_frees,   "frees of interior or stale pointers ignored")        \
  X(corruptions,     "damaged free lists found (their pages leaked)")     \
  X(writes_after_free, "writes into freed blocks found (debug builds)")  \
  X(overflows,       "writes past a block's requested size found (debug builds, valgrind)")

typedef enum xa_stat_e {
#define XA_STAT_ENUM(name, desc) XA_STAT_##name,
  XA_STATS_FIELDS(XA_STAT_ENUM)
  XA_STAT_GAUGES_END,
  XA_STAT_EVENTS_START = XA_STAT_GAUGES_END - 1,
  XA_STATS_EVENTS(XA_STAT_ENUM)
  XA_STAT_COUNT
#undef XA_STAT_ENUM
} xa_stat_t;

/* Gauges (current and peak) and event counters, in units of the field. */
XA_INTERNAL void xa__stat_add(xa_stat_t s, int64_t delta);
XA_INTERNAL int64_t xa__stat_current(xa_stat_t s);
XA_INTERNAL int64_t xa__stat_peak(xa_stat_t s);
XA_INTERNAL void xa__stats_print_to_stderr(void);
/* malloc_stats: glibc's lines (Arena 0:, system bytes, in use bytes, ...)
 * with xalloc's figures, on stderr. */
XA_INTERNAL void xa__stats_print_glibc(void);
/* The report printed at exit (text or JSON, option show_stats): to
 * XALLOC_STATS_FILE when set, else stderr. */
XA_INTERNAL void xa__stats_print_at_exit(void);

/* ---- per-thread statistics (page granularity) ---- */
struct xa_page_s;
struct xa_tld_s;
/* A page was formatted for blocks (its owner, before any block is live). */
XA_INTERNAL void xa__stats_page_init(struct xa_page_s* page);
/* Bring the counters up to page->used. Owner (or sweeper of an abandoned page). */
XA_INTERNAL void xa__stats_page_sync(struct xa_page_s* page);
/* The page is about to be freed: its live blocks, if any, count as freed. */
XA_INTERNAL void xa__stats_page_gone(struct xa_page_s* page);
/* A huge page's block_size changed from old_size (owner, block live). */
XA_INTERNAL void xa__stats_huge_resized(struct xa_page_s* page, size_t old_size);
/* The calling thread (tld, or &xa__tld_empty) freed another thread's block. */
XA_INTERNAL void xa__stats_xthread_free(struct xa_tld_s* self);

/* Everything merged: the calling thread's pages are synced first. */
typedef struct xa_stats_bin_s {
  int64_t pages, slots, blocks, bytes;
} xa_stats_bin_t;

typedef struct xa_stats_snapshot_s {
  int64_t allocated, freed, live, live_peak;
  int64_t xthread_frees, huge_allocs;
  int64_t current[XA_STAT_COUNT], peak[XA_STAT_COUNT];
  int64_t pages_by_kind[4];
  size_t arena_reserved, rss;
  xa_stats_bin_t bins[XA_BIN_COUNT];
} xa_stats_snapshot_t;

XA_INTERNAL void xa__stats_snapshot(xa_stats_snapshot_t* s);

/* Memory became free somewhere (a page, a segment, abandoned memory, a block
 * in an inbox): malloc_trim's cheap "anything to do?" test reads this. */
XA_INTERNAL void xa__stats_free_event(void);
XA_INTERNAL uint64_t xa__stats_free_events(void);

#endif
