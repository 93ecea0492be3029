/* Options: one table (options.c) of name, type, default and the reason for
 * it. Read at start-up, without allocating, from XALLOC_<NAME> environment
 * variables and the XALLOC_CONF string; the run-time ones can also be changed
 * with xa_option_set. docs/options.md describes every option. */
#ifndef XA_OPTIONS_H
#define XA_OPTIONS_H

#include "config.h"

typedef enum xa_option_e {
  XA_OPT_SHOW_STATS,     /* choice: 0 off, 1 text, 2 json (statistics at process exit) */
  XA_OPT_VERBOSE,        /* bool: report notable events on stderr */
  XA_OPT_PURGE_DELAY,    /* ms a free page or cached segment stays before its memory goes back; 0 at once, -1 never */
  XA_OPT_PURGE_MODE,     /* choice: XA_PURGE_DONTNEED or XA_PURGE_FREE */
  XA_OPT_PURGE_THREAD,   /* bool: a background thread keeps the purge delay when every thread sleeps */
  XA_OPT_SEGMENT_CACHE,  /* empty segments kept per thread (0..XA_SEGMENT_CACHE) */
  XA_OPT_ARENA_RESERVE,  /* bytes of address space reserved up front; -1 = automatic */
  XA_OPT_LIMIT,          /* bytes of committed memory xalloc never exceeds; 0 = no limit */
  XA_OPT_THP,            /* choice: XA_THP_NEVER, XA_THP_MADVISE, XA_THP_ALWAYS */
  XA_OPT_PROFILE,        /* bool: sample allocations into the heap profile (prof.c) */
  XA_OPT_PROFILE_RATE,   /* bytes: one sample per this many bytes allocated, on average */
  XA_OPT_COUNT
} xa_option_t;

enum { XA_PURGE_DONTNEED = 0, XA_PURGE_FREE = 1 };
enum { XA_THP_NEVER = 0, XA_THP_MADVISE = 1, XA_THP_ALWAYS = 2 };
enum { XA_STATS_OFF = 0, XA_STATS_TEXT = 1, XA_STATS_JSON = 2 };

/* The option's current value (bytes, ms, count, 0/1, or a choice's index). */
XA_INTERNAL int64_t xa__option_get(xa_option_t opt);
XA_INLINE bool xa__option(xa_option_t opt) { return xa__option_get(opt) != 0; }
/* The same without a call, for a test on a hot path (the values themselves). */
extern XA_INTERNAL int64_t* const xa__option_values;
XA_INLINE bool xa__option_inline(xa_option_t opt) {
  return __atomic_load_n(&xa__option_values[opt], __ATOMIC_RELAXED) != 0;
}

/* (Re)read the environment; called at the first initialisation and again
 * from the library constructor, when the environment surely exists. */
XA_INTERNAL void xa__options_read(void);

/* The table, for tests (docs/options.md is checked against it). */
/* v in decimal into buf (at least 21 bytes), NUL-terminated, without
 * stdio (no allocation); returns the length. */
XA_INTERNAL size_t xa__format_int(int64_t v, char* buf);
XA_INTERNAL const char* xa__option_name(xa_option_t opt);  /* "purge_delay"; NULL for XA_OPT_COUNT */
XA_INTERNAL const char* xa__option_type(xa_option_t opt);  /* bool, ms, count, size or choice */
XA_INTERNAL int64_t xa__option_default(xa_option_t opt);
XA_INTERNAL bool xa__option_runtime(xa_option_t opt);      /* xa_option_set may change it later */
XA_INTERNAL const char* xa__option_reason(xa_option_t opt);
/* value as the text a user would write (64G, madvise, auto); returns its length. */
XA_INTERNAL size_t xa__option_format(xa_option_t opt, int64_t value, char* buf, size_t cap);
/* The i-th XALLOC_ variable that is known but no option (XALLOC_CONF, ...); NULL past the end. */
XA_INTERNAL const char* xa__option_env_allowed(int i);

/* A message on stderr when XALLOC_VERBOSE is on ("xalloc: " is prefixed). */
XA_INTERNAL void xa__verbose(const char* msg, uintptr_t value);

#endif
