/* Options (options.h): the table, the three ways to set them (XALLOC_CONF,
 * XALLOC_<NAME>, xa_option_set) and the reports of what does not parse.
 * Nothing here allocates through malloc: values are parsed in place, the
 * environment is walked through the OS layer, and messages are built in
 * stack buffers. docs/options.md describes the same table (a test checks). */
#include "xalloc.h"
#include "options.h"
#include "purge.h"
#include "lock.h"
#include "os.h"
#include <errno.h>
#include <string.h>

/* ---- the table ------------------------------------------------------------------ */

typedef enum { OPT_BOOL, OPT_MS, OPT_COUNT, OPT_SIZE, OPT_CHOICE } opt_type_t;
static const char* const type_names[] = {"bool", "ms", "count", "size", "choice"};

#define WORD_CGROUP INT64_MIN  /* limit:cgroup, resolved when parsed */
#define TIB ((int64_t)1 << 40)

typedef struct {
  const char* name;          /* XALLOC_CONF and API name; the variable is XALLOC_<NAME> */
  opt_type_t type;
  int64_t dflt, min, max;
  bool runtime;              /* xa_option_set may change it once xalloc runs */
  bool bool_words;           /* a choice that also takes the boolean words (off / first word) */
  const char* const* words;  /* OPT_CHOICE: the words, indexed by value */
  const char* word;          /* OPT_SIZE: one more word accepted ... */
  int64_t word_value;        /* ... and what it means */
  const char* form;          /* what a valid value looks like, for error messages */
  const char* reason;        /* why the default is what it is */
} option_desc_t;

static const char* const stats_words[] = {"off", "text", "json", NULL};
static const char* const purge_words[] = {"dontneed", "free", NULL};
static const char* const thp_words[] = {"never", "madvise", "always", NULL};

/* The defaults, also the values before the environment is read (a first
 * malloc may come before the library constructor). */
#define DEFAULT_SHOW_STATS    XA_STATS_OFF
#define DEFAULT_VERBOSE       0
#define DEFAULT_PURGE_DELAY   100
#define DEFAULT_PURGE_MODE    XA_PURGE_DONTNEED
#define DEFAULT_PURGE_THREAD  0
#define DEFAULT_SEGMENT_CACHE XA_SEGMENT_CACHE
#define DEFAULT_ARENA_RESERVE (-1)
#define DEFAULT_LIMIT         0
#define DEFAULT_THP           XA_THP_MADVISE
#define DEFAULT_PROFILE       0
#if XA_SECURE
/* The profiler moves blocks between a page's lists without checking their
 * links; the secure build checks every link it follows (docs/secure.md). */
#define PROFILE_MAX  0
#define PROFILE_FORM "0 (the secure build has no heap profile)"
#else
#define PROFILE_MAX  1
#define PROFILE_FORM "1/0, true/false, yes/no or on/off"
#endif
#define DEFAULT_PROFILE_RATE  ((int64_t)512 << 10)

#define XA_STR_(x) #x
#define XA_STR(x) XA_STR_(x)

static const option_desc_t option_table[XA_OPT_COUNT] = {
  [XA_OPT_SHOW_STATS] = {"show_stats", OPT_CHOICE, DEFAULT_SHOW_STATS, 0, 2, true, true, stats_words, NULL, 0,
    "off, text or json (1/true/yes/on = text, 0/false/no/off = off)",
    "Statistics at exit are asked for, not written on every program's stderr."},
  [XA_OPT_VERBOSE] = {"verbose", OPT_BOOL, DEFAULT_VERBOSE, 0, 1, true, false, NULL, NULL, 0,
    "1/0, true/false, yes/no or on/off",
    "A library stays quiet unless asked; the first misuse of the process is reported anyway."},
  [XA_OPT_PURGE_DELAY] = {"purge_delay", OPT_MS, DEFAULT_PURGE_DELAY, -1, INT32_MAX, true, false, NULL, NULL, 0,
    "milliseconds from -1 to 2147483647 (0 = at once, -1 = never)",
    "Memory freed and reused within a burst is not purged and faulted in again; idle memory still leaves soon."},
  [XA_OPT_PURGE_MODE] = {"purge_mode", OPT_CHOICE, DEFAULT_PURGE_MODE, 0, 1, true, false, purge_words, NULL, 0,
    "dontneed or free",
    "Purged pages leave the resident set at once, so what top, cgroups and limit see is what xalloc holds."},
  [XA_OPT_PURGE_THREAD] = {"purge_thread", OPT_BOOL, DEFAULT_PURGE_THREAD, 0, 1, true, false, NULL, NULL, 0,
    "1/0, true/false, yes/no or on/off",
    "No thread is started behind the program's back; the allocation and free slow paths purge."},
  [XA_OPT_SEGMENT_CACHE] = {"segment_cache", OPT_COUNT, DEFAULT_SEGMENT_CACHE, 0, XA_SEGMENT_CACHE, true, false,
    NULL, NULL, 0,
    "a count from 0 to " XA_STR(XA_SEGMENT_CACHE),
    "Absorbs a thread's bursts of segment churn; unused segments still go back after the purge delay."},
  [XA_OPT_ARENA_RESERVE] = {"arena_reserve", OPT_SIZE, DEFAULT_ARENA_RESERVE, -1, 64 * TIB, false, false, NULL,
    "auto", -1,
    "a size such as 512K, 64M or 64G, 0 for none, or auto",
    "auto reserves 64 GiB of address space (no memory) for cheap pointer lookups, and none under a finite RLIMIT_AS."},
  [XA_OPT_LIMIT] = {"limit", OPT_SIZE, DEFAULT_LIMIT, 0, (int64_t)1 << 62, true, false, NULL, "cgroup",
    WORD_CGROUP,
    "a size such as 512K, 64M or 2G (0 = no limit), or cgroup",
    "No limit, as with malloc; a limit is for programs that would rather get NULL than be killed by the OOM killer."},
  [XA_OPT_THP] = {"thp", OPT_CHOICE, DEFAULT_THP, 0, 2, false, false, thp_words, NULL, 0,
    "never, madvise or always",
    "The system's transparent-huge-page policy is the administrator's choice."},
  [XA_OPT_PROFILE] = {"profile", OPT_BOOL, DEFAULT_PROFILE, 0, PROFILE_MAX, true, false, NULL, NULL, 0,
    PROFILE_FORM,
    "Sampling costs a little time and memory; a profile is asked for when a leak or a peak is hunted."},
  [XA_OPT_PROFILE_RATE] = {"profile_rate", OPT_SIZE, DEFAULT_PROFILE_RATE, 1, (int64_t)1 << 30, true, false, NULL,
    NULL, 0,
    "a size from 1 to 1G, such as 64K or 512K",
    "One sample per 512 KiB on average, as tcmalloc and jemalloc: cheap, and enough for what holds megabytes."},
};

/* XALLOC_ variables that are not options but are known: not typos. */
static const char* const env_allowed[] = {
  "XALLOC_CONF",        /* the option string */
  "XALLOC_PATCH_CRT",   /* Windows: redirect the CRT's own allocations (override_windows.c) */
  "XALLOC_STATS_FILE",  /* where the statistics go */
  "XALLOC_LIB",         /* the library bin/xalloc-run preloads */
  "XALLOC_PROFILE_FILE",/* where the heap profile goes at exit (prof.c) */
  NULL,
};

static int64_t option_value[XA_OPT_COUNT] = {
  [XA_OPT_SHOW_STATS] = DEFAULT_SHOW_STATS,       [XA_OPT_VERBOSE] = DEFAULT_VERBOSE,
  [XA_OPT_PURGE_DELAY] = DEFAULT_PURGE_DELAY,     [XA_OPT_PURGE_MODE] = DEFAULT_PURGE_MODE,
  [XA_OPT_PURGE_THREAD] = DEFAULT_PURGE_THREAD,   [XA_OPT_SEGMENT_CACHE] = DEFAULT_SEGMENT_CACHE,
  [XA_OPT_ARENA_RESERVE] = DEFAULT_ARENA_RESERVE, [XA_OPT_LIMIT] = DEFAULT_LIMIT,
  [XA_OPT_THP] = DEFAULT_THP,                     [XA_OPT_PROFILE] = DEFAULT_PROFILE,
  [XA_OPT_PROFILE_RATE] = DEFAULT_PROFILE_RATE,
};

static xa_lock_t options_lock = XA_LOCK_INIT;  /* one reader or setter at a time */
static bool options_started;                   /* read once: start-up options are fixed */
static uint32_t api_set;                       /* options set by xa_option_set: a re-read keeps them */

int64_t xa__option_get(xa_option_t opt) { return __atomic_load_n(&option_value[opt], __ATOMIC_RELAXED); }
int64_t* const xa__option_values = option_value;

/* ---- text helpers ------------------------------------------------------------------ */

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* s[0..len) equals w, ignoring case. */
static bool word_eq(const char* s, size_t len, const char* w) {
  size_t i = 0;
  for (; i < len && w[i] != 0; i++) {
    if (lower(s[i]) != lower(w[i])) return false;
  }
  return i == len && w[i] == 0;
}

static int find_option(const char* s, size_t len) {
  for (int i = 0; i < XA_OPT_COUNT; i++) {
    if (word_eq(s, len, option_table[i].name)) return i;
  }
  return -1;
}

/* Edit distance of a and b ignoring case (both short), or a large number. */
static size_t distance(const char* a, size_t alen, const char* b) {
  size_t blen = strlen(b);
  size_t row[40];
  if (alen >= 40 || blen >= 40) return 99;
  for (size_t j = 0; j <= blen; j++) row[j] = j;
  for (size_t i = 1; i <= alen; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= blen; j++) {
      size_t up = row[j];
      size_t best = diag + (lower(a[i - 1]) != lower(b[j - 1]));
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diag = up;
    }
  }
  return row[blen];
}

/* The option a misspelt name most likely meant, or -1. */
static int nearest_option(const char* s, size_t len) {
  int best = -1;
  size_t best_d = 3;  /* up to two edits: SHOW_STAT, PURGEDELAY, purge_dealy */
  for (int i = 0; i < XA_OPT_COUNT; i++) {
    size_t d = distance(s, len, option_table[i].name);
    if (d < best_d) best_d = d, best = i;
  }
  return best;
}

/* A message line built without allocating; long parts are cut. */
typedef struct { char text[600]; size_t len; } msg_t;

static void msg_put(msg_t* m, const char* s, size_t n) {
  size_t room = sizeof(m->text) - 1 - m->len;  /* keep one byte for the newline */
  if (n > room) n = room;
  memcpy(m->text + m->len, s, n);
  m->len += n;
}
static void msg_str(msg_t* m, const char* s) { msg_put(m, s, strlen(s)); }

/* A user's text, cut to keep the message one readable line. */
static void msg_quote(msg_t* m, const char* s, size_t n) {
  if (n > 80) {
    msg_put(m, s, 77);
    msg_str(m, "...");
  } else {
    msg_put(m, s, n);
  }
}

size_t xa__format_int(int64_t v, char* buf) {
  char digits[24];
  size_t d = 0, n = 0;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do {
    digits[d++] = (char)('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (v < 0) buf[n++] = '-';
  while (d > 0) buf[n++] = digits[--d];
  buf[n] = 0;
  return n;
}

size_t xa__option_format(xa_option_t opt, int64_t v, char* buf, size_t cap) {
  const option_desc_t* d = &option_table[opt];
  char text[32];
  size_t n;
  if (d->type == OPT_CHOICE && v >= d->min && v <= d->max) {
    n = strlen(d->words[v]);
    memcpy(text, d->words[v], n + 1);
  } else if (d->type == OPT_SIZE && d->word != NULL && v == d->word_value) {
    n = strlen(d->word);
    memcpy(text, d->word, n + 1);
  } else if (d->type == OPT_SIZE && v > 0) {
    /* The largest unit that divides it exactly: 64G, not 68719476736. */
    static const char units[] = "KMGT";
    int u = -1;
    while (u < 3 && v % ((int64_t)1 << (10 * (u + 2))) == 0) u++;
    n = xa__format_int(u < 0 ? v : v >> (10 * (u + 1)), text);
    if (u >= 0) text[n++] = units[u], text[n] = 0;
  } else {
    n = xa__format_int(v, text);
  }
  if (cap > 0) {
    size_t c = n < cap - 1 ? n : cap - 1;
    memcpy(buf, text, c);
    buf[c] = 0;
  }
  return n;
}

/* ---- parsing a value ----------------------------------------------------------------- */

typedef enum { PARSE_OK, PARSE_EMPTY, PARSE_BAD, PARSE_NO_CGROUP } parse_t;

/* 1 for a true word, 0 for a false one, -1 for neither. */
static int parse_bool(const char* s, size_t len) {
  static const char* const yes[] = {"1", "true", "yes", "on"};
  static const char* const no[] = {"0", "false", "no", "off"};
  for (int i = 0; i < 4; i++) {
    if (word_eq(s, len, yes[i])) return 1;
    if (word_eq(s, len, no[i])) return 0;
  }
  return -1;
}

/* An optional sign and decimal digits at the start of s; *used says how far. */
static bool parse_int(const char* s, size_t len, size_t* used, int64_t* out) {
  size_t i = 0;
  bool neg = false;
  if (i < len && (s[i] == '-' || s[i] == '+')) neg = s[i++] == '-';
  size_t first = i;
  uint64_t n = 0;
  for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
    n = n * 10 + (uint64_t)(s[i] - '0');
    if (n > (uint64_t)INT64_MAX) return false;
  }
  if (i == first) return false;
  *used = i;
  *out = neg ? -(int64_t)n : (int64_t)n;
  return true;
}

/* A size: digits, then K, M, G or T (any case) with an optional B or iB, or
 * a bare B. Units are powers of 1024, as in jemalloc and mimalloc. */
static bool parse_size(const char* s, size_t len, int64_t* out) {
  size_t i;
  int64_t n;
  if (!parse_int(s, len, &i, &n)) return false;
  int shift = 0;
  if (i < len) {
    const char* unit = "kmgt";
    const char* u = memchr(unit, lower(s[i]), 4);
    if (u != NULL) {
      shift = 10 * (int)(u - unit + 1);
      i++;
      if (i + 2 == len && lower(s[i]) == 'i' && lower(s[i + 1]) == 'b') i += 2;
    }
    if (i + 1 == len && lower(s[i]) == 'b') i++;
  }
  if (i != len) return false;
  int64_t limit = INT64_MAX >> shift;
  if (n > limit || n < -limit) return false;
  *out = n * ((int64_t)1 << shift);
  return true;
}

static parse_t parse_value(const option_desc_t* d, const char* s, size_t len, int64_t* out) {
  if (len == 0) return PARSE_EMPTY;
  int64_t v = 0;
  size_t used = 0;
  switch (d->type) {
    case OPT_BOOL:
      v = parse_bool(s, len);
      if (v < 0) return PARSE_BAD;
      break;
    case OPT_CHOICE:
      v = -1;
      for (int w = 0; d->words[w] != NULL; w++) {
        if (word_eq(s, len, d->words[w])) v = w;
      }
      if (v < 0 && d->bool_words) v = parse_bool(s, len);
      /* The index, as xa_option_get returns it, so its answer can be set back. */
      if (v < 0 && !(parse_int(s, len, &used, &v) && used == len)) return PARSE_BAD;
      break;
    case OPT_MS:
    case OPT_COUNT:
      if (!parse_int(s, len, &used, &v) || used != len) return PARSE_BAD;
      break;
    case OPT_SIZE:
      if (d->word != NULL && word_eq(s, len, d->word)) {
        v = d->word_value;
        if (v == WORD_CGROUP) {
          v = xa__os_cgroup_memory_max();
          if (v < 0) return PARSE_NO_CGROUP;
          if (v > d->max) v = 0;  /* beyond any real memory: no limit */
        }
      } else if (!parse_size(s, len, &v)) {
        return PARSE_BAD;
      }
      break;
  }
  if (v < d->min || v > d->max) return PARSE_BAD;
  *out = v;
  return PARSE_OK;
}

/* ---- reports ---------------------------------------------------------------------- */

/* Hashes of the messages already written: the environment is read twice
 * (first initialisation and the library constructor), each problem is
 * reported once. */
static uint64_t reported[64];
static unsigned reported_count;

static void report(msg_t* m) {
  uint64_t h = 1469598103934665603ull;  /* FNV-1a */
  for (size_t i = 0; i < m->len; i++) h = (h ^ (uint8_t)m->text[i]) * 1099511628211ull;
  for (unsigned i = 0; i < reported_count; i++) {
    if (reported[i] == h) return;
  }
  if (reported_count < sizeof(reported) / sizeof(reported[0])) reported[reported_count++] = h;
  m->text[m->len++] = '\n';
  xa__os_write_err(m->text, m->len);
}

/* "; keeping the default 100" or "; keeping 50" (an earlier source set it). */
static void msg_keeping(msg_t* m, int opt, int64_t current) {
  char buf[32];
  xa__option_format((xa_option_t)opt, current, buf, sizeof(buf));
  msg_str(m, current == option_table[opt].dflt ? "; keeping the default " : "; keeping ");
  msg_str(m, buf);
}

static void report_value(const char* where, const char* item, size_t item_len, int opt, parse_t r,
                         int64_t current) {
  msg_t m = {.len = 0};
  msg_str(&m, "xalloc: ");
  msg_str(&m, where);
  msg_quote(&m, item, item_len);
  if (r == PARSE_NO_CGROUP) {
    msg_str(&m, ": no cgroup memory limit could be read (cgroup v2 memory.max, v1 memory.limit_in_bytes)");
  } else {
    msg_str(&m, r == PARSE_EMPTY ? ": empty value; expected " : ": expected ");
    msg_str(&m, option_table[opt].form);
  }
  msg_keeping(&m, opt, current);
  report(&m);
}

static void msg_all_names(msg_t* m, const char* prefix) {
  for (int i = 0; i < XA_OPT_COUNT; i++) {
    msg_str(m, i == 0 ? "" : ", ");
    msg_str(m, prefix);
    if (*prefix != 0) {
      for (const char* c = option_table[i].name; *c; c++) {
        char up = *c >= 'a' && *c <= 'z' ? (char)(*c - 'a' + 'A') : *c;
        msg_put(m, &up, 1);
      }
    } else {
      msg_str(m, option_table[i].name);
    }
  }
}

/* ---- reading the environment --------------------------------------------------------- */

typedef struct {
  int64_t value[XA_OPT_COUNT];
  bool conf_pass;  /* first pass: XALLOC_CONF only; second: the XALLOC_<NAME> variables */
} read_state_t;

static const char conf_form[] = "name:value pairs separated by commas, such as purge_delay:50,limit:2G";

static bool is_space(char c) { return c == ' ' || c == '\t'; }

static void trim(const char** s, size_t* len) {
  while (*len > 0 && is_space(**s)) (*s)++, (*len)--;
  while (*len > 0 && is_space((*s)[*len - 1])) (*len)--;
}

static void read_conf(read_state_t* st, const char* conf) {
  const char* p = conf;
  if (*conf == 0) return;  /* set but empty: nothing to change */
  const char* prev = NULL;  /* the item before, to say where an empty one is */
  size_t prev_len = 0;
  for (;;) {
    const char* comma = strchr(p, ',');
    const char* item = p;
    size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
    trim(&item, &len);
    msg_t m = {.len = 0};
    msg_str(&m, "xalloc: XALLOC_CONF: ");
    if (len == 0) {
      msg_str(&m, comma == NULL ? "trailing comma" : "empty entry");
      if (prev != NULL) {
        msg_str(&m, " after \"");
        msg_quote(&m, prev, prev_len);
        msg_str(&m, "\"");
      } else {
        msg_str(&m, " at the start");
      }
      msg_str(&m, "; expected ");
      msg_str(&m, conf_form);
      report(&m);
    } else {
      size_t sep = 0;
      while (sep < len && item[sep] != ':' && item[sep] != '=') sep++;
      const char* name = item;
      size_t name_len = sep;
      trim(&name, &name_len);
      int opt = sep < len ? find_option(name, name_len) : -1;
      if (sep == len) {
        msg_quote(&m, item, len);
        msg_str(&m, ": expected ");
        msg_str(&m, conf_form);
        report(&m);
      } else if (opt < 0) {
        msg_quote(&m, item, len);
        msg_str(&m, ": unknown option \"");
        msg_quote(&m, name, name_len);
        int near = nearest_option(name, name_len);
        if (near >= 0) {
          msg_str(&m, "\"; did you mean ");
          msg_str(&m, option_table[near].name);
          msg_str(&m, "?");
        } else {
          msg_str(&m, "\"; the options are ");
          msg_all_names(&m, "");
        }
        report(&m);
      } else {
        const char* val = item + sep + 1;
        size_t val_len = len - sep - 1;
        trim(&val, &val_len);
        int64_t v;
        parse_t r = parse_value(&option_table[opt], val, val_len, &v);
        if (r == PARSE_OK) st->value[opt] = v;
        else report_value("XALLOC_CONF: ", item, len, opt, r, st->value[opt]);
      }
    }
    if (comma == NULL) return;
    if (len > 0) prev = item, prev_len = len;
    p = comma + 1;
  }
}

static bool is_allowed(const char* name, size_t len) {
  for (int i = 0; env_allowed[i] != NULL; i++) {
    if (word_eq(name, len, env_allowed[i])) return true;
  }
  return false;
}

static bool visit_env(const char* entry, void* arg) {
  read_state_t* st = arg;
  static const char prefix[] = "XALLOC_";
  const size_t plen = sizeof(prefix) - 1;
  const char* eq = strchr(entry, '=');
  if (eq == NULL || (size_t)(eq - entry) < plen || !word_eq(entry, plen, prefix)) return true;
  size_t name_len = (size_t)(eq - entry);
  bool is_conf = word_eq(entry, name_len, "XALLOC_CONF");
  if (st->conf_pass) {
    if (is_conf) read_conf(st, eq + 1);
    return true;
  }
  if (is_conf || is_allowed(entry, name_len)) return true;
  const char* opt_name = entry + plen;
  size_t opt_len = name_len - plen;
  int opt = find_option(opt_name, opt_len);
  if (opt < 0) {
    msg_t m = {.len = 0};
    msg_str(&m, "xalloc: ");
    msg_quote(&m, entry, name_len);
    msg_str(&m, ": unknown variable, ignored; ");
    int near = nearest_option(opt_name, opt_len);
    if (near >= 0) {
      msg_str(&m, "did you mean XALLOC_");
      for (const char* c = option_table[near].name; *c; c++) {
        char up = *c >= 'a' && *c <= 'z' ? (char)(*c - 'a' + 'A') : *c;
        msg_put(&m, &up, 1);
      }
      msg_str(&m, "?");
    } else {
      msg_str(&m, "the options are ");
      msg_all_names(&m, "XALLOC_");
      msg_str(&m, " and XALLOC_CONF");
    }
    report(&m);
    return true;
  }
  int64_t v;
  parse_t r = parse_value(&option_table[opt], eq + 1, strlen(eq + 1), &v);
  if (r == PARSE_OK) st->value[opt] = v;
  else report_value("", entry, strlen(entry), opt, r, st->value[opt]);
  return true;
}

void xa__options_read(void) {
  xa__lock(&options_lock);
  read_state_t st;
  for (int i = 0; i < XA_OPT_COUNT; i++) st.value[i] = option_table[i].dflt;
  /* XALLOC_CONF first; each XALLOC_<NAME> then overrides its option. */
  st.conf_pass = true;
  xa__os_env_visit(visit_env, &st);
  st.conf_pass = false;
  xa__os_env_visit(visit_env, &st);
  uint32_t kept = __atomic_load_n(&api_set, __ATOMIC_RELAXED);
  for (int i = 0; i < XA_OPT_COUNT; i++) {
    if (!(kept & (1u << i))) __atomic_store_n(&option_value[i], st.value[i], __ATOMIC_RELAXED);
  }
  __atomic_store_n(&options_started, true, __ATOMIC_RELEASE);
  xa__unlock(&options_lock);
}

/* ---- the public API ------------------------------------------------------------------ */

XA_API bool xa_option_get(const char* name, long long* value) {
  int opt = name != NULL ? find_option(name, strlen(name)) : -1;
  if (opt < 0 || value == NULL) {
    errno = EINVAL;
    return false;
  }
  if (!__atomic_load_n(&options_started, __ATOMIC_ACQUIRE)) xa__options_read();
  *value = xa__option_get((xa_option_t)opt);
  return true;
}

XA_API bool xa_option_set(const char* name, const char* value) {
  int opt = name != NULL ? find_option(name, strlen(name)) : -1;
  if (opt < 0 || value == NULL) {
    errno = EINVAL;
    return false;
  }
  const option_desc_t* d = &option_table[opt];
  int64_t v;
  parse_t r = parse_value(d, value, strlen(value), &v);
  if (r != PARSE_OK) {
    errno = r == PARSE_NO_CGROUP ? ENOENT : EINVAL;
    return false;
  }
  xa__lock(&options_lock);
  bool fixed = !d->runtime && __atomic_load_n(&options_started, __ATOMIC_RELAXED);
  if (!fixed) {
    __atomic_store_n(&option_value[opt], v, __ATOMIC_RELAXED);
    __atomic_fetch_or(&api_set, 1u << opt, __ATOMIC_RELAXED);
  }
  xa__unlock(&options_lock);
  if (fixed) {
    errno = EPERM;
    return false;
  }
  /* A safe point for pthread_create's own allocations: the caller is in
   * no allocator path. */
  if (opt == XA_OPT_PURGE_THREAD && v != 0) xa__purge_thread_maybe_start();
  return true;
}

/* ---- the table for tests ---------------------------------------------------------------- */

const char* xa__option_name(xa_option_t opt) { return opt < XA_OPT_COUNT ? option_table[opt].name : NULL; }
const char* xa__option_type(xa_option_t opt) { return type_names[option_table[opt].type]; }
int64_t xa__option_default(xa_option_t opt) { return option_table[opt].dflt; }
bool xa__option_runtime(xa_option_t opt) { return option_table[opt].runtime; }
const char* xa__option_reason(xa_option_t opt) { return option_table[opt].reason; }
const char* xa__option_env_allowed(int i) {
  return i >= 0 && (size_t)i < sizeof(env_allowed) / sizeof(env_allowed[0]) ? env_allowed[i] : NULL;
}

/* ---- verbose messages ------------------------------------------------------------------- */

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
