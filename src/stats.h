/* Process-wide statistics. Counters are updated on slow paths only (segment,
 * page and thread events), never on the malloc/free fast paths. */
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
  X(limit_failures,  "allocations refused by the memory limit")             \
  X(late_handovers,  "thread data of ended threads handed over by others") \
  X(cache_hits,      "segment cache hits")                                  \
  X(huge_remaps,     "huge blocks grown or moved without copying")         \
  X(foreign_frees,   "frees of foreign pointers ignored")                  \
  X(double_frees,    "double frees detected and ignored")                  \
  X(invalid_frees,   "frees of interior or stale pointers ignored")        \
  X(corruptions,     "damaged free lists found (their pages leaked)")

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
/* The table printed at exit: to XALLOC_STATS_FILE when set, else stderr. */
XA_INTERNAL void xa__stats_print_at_exit(void);

#endif
