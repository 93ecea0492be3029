/* Options (options.h). */
#include "options.h"
#include "os.h"
#include <string.h>

typedef struct { const char* env; bool dflt; } option_desc_t;

static const option_desc_t option_table[XA_OPT_COUNT] = {
  [XA_OPT_SHOW_STATS] = {"XALLOC_SHOW_STATS", false},
  [XA_OPT_VERBOSE]    = {"XALLOC_VERBOSE", false},
};

static bool option_value[XA_OPT_COUNT];

bool xa__option(xa_option_t opt) { return __atomic_load_n(&option_value[opt], __ATOMIC_RELAXED); }

/* A flag is on when set, non-empty, and not starting with 0, n or f. */
static bool env_flag(const char* name, bool dflt) {
  const char* v = xa__os_getenv(name);
  if (v == NULL) return dflt;
  return v[0] != 0 && v[0] != '0' && v[0] != 'n' && v[0] != 'N' && v[0] != 'f' && v[0] != 'F';
}

void xa__options_read(void) {
  for (int i = 0; i < XA_OPT_COUNT; i++) {
    __atomic_store_n(&option_value[i], env_flag(option_table[i].env, option_table[i].dflt), __ATOMIC_RELAXED);
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
