/* Options (options.h). */
#include "options.h"
#include "os.h"
#include <string.h>

/* Interim table: flags and plain integers from XALLOC_<NAME> only (the
 * full parser with XALLOC_CONF and xa_option_set replaces it). */
typedef struct { const char* env; int64_t dflt; bool flag; } option_desc_t;

static const option_desc_t option_table[XA_OPT_COUNT] = {
  [XA_OPT_SHOW_STATS]    = {"XALLOC_SHOW_STATS", 0, true},
  [XA_OPT_VERBOSE]       = {"XALLOC_VERBOSE", 0, true},
  [XA_OPT_PURGE_DELAY]   = {"XALLOC_PURGE_DELAY", 100, false},
  [XA_OPT_PURGE_MODE]    = {"XALLOC_PURGE_MODE", XA_PURGE_DONTNEED, false},
  [XA_OPT_PURGE_THREAD]  = {"XALLOC_PURGE_THREAD", 0, true},
  [XA_OPT_SEGMENT_CACHE] = {"XALLOC_SEGMENT_CACHE", XA_SEGMENT_CACHE, false},
  [XA_OPT_ARENA_RESERVE] = {"XALLOC_ARENA_RESERVE", -1, false},
  [XA_OPT_LIMIT]         = {"XALLOC_LIMIT", 0, false},
  [XA_OPT_THP]           = {"XALLOC_THP", XA_THP_MADVISE, false},
};

/* Defaults hold before the environment is read (a first malloc may come
 * before the library constructor). */
static int64_t option_value[XA_OPT_COUNT] = {
  [XA_OPT_PURGE_DELAY] = 100, [XA_OPT_SEGMENT_CACHE] = XA_SEGMENT_CACHE,
  [XA_OPT_ARENA_RESERVE] = -1, [XA_OPT_THP] = XA_THP_MADVISE,
};

int64_t xa__option_get(xa_option_t opt) { return __atomic_load_n(&option_value[opt], __ATOMIC_RELAXED); }

static int64_t env_int(const char* name, int64_t dflt) {
  const char* v = xa__os_getenv(name);
  if (v == NULL || *v == 0) return dflt;
  bool neg = *v == '-';
  if (neg) v++;
  int64_t n = 0;
  for (; *v >= '0' && *v <= '9'; v++) n = n * 10 + (*v - '0');
  return neg ? -n : n;
}

/* A flag is on when set, non-empty, and not starting with 0, n or f. */
static bool env_flag(const char* name, bool dflt) {
  const char* v = xa__os_getenv(name);
  if (v == NULL) return dflt;
  return v[0] != 0 && v[0] != '0' && v[0] != 'n' && v[0] != 'N' && v[0] != 'f' && v[0] != 'F';
}

void xa__options_read(void) {
  for (int i = 0; i < XA_OPT_COUNT; i++) {
    const option_desc_t* d = &option_table[i];
    int64_t v = d->flag ? env_flag(d->env, d->dflt != 0) : env_int(d->env, d->dflt);
    __atomic_store_n(&option_value[i], v, __ATOMIC_RELAXED);
  }
}

void xa__verbose(const char* msg, uintptr_t value) {
  if (!xa__option(XA_OPT_VERBOSE)) return;
  char line[200];
  size_t n = 0;
  const char* head = "xalloc: ";
  while (*head) line[n++] = *head++;
  while (*msg && n < 150) line[n++] = *msg++;
  line[n++] = ' ';
  char digits[24];
  size_t d = 0;
  do {
    digits[d++] = (char)('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (d > 0) line[n++] = digits[--d];
  line[n++] = '\n';
  xa__os_write_err(line, n);
}
