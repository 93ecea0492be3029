/* Options from the environment: one table (options.c) of name, variable and
 * default, read once at start-up without allocating. */
#ifndef XA_OPTIONS_H
#define XA_OPTIONS_H

#include "config.h"

typedef enum xa_option_e {
  XA_OPT_SHOW_STATS,  /* XALLOC_SHOW_STATS: statistics on stderr at process exit */
  XA_OPT_VERBOSE,     /* XALLOC_VERBOSE: report notable events on stderr */
  XA_OPT_COUNT
} xa_option_t;

XA_INTERNAL bool xa__option(xa_option_t opt);
/* (Re)read the environment; called at the first initialisation and again
 * from the library constructor, when the environment surely exists. */
XA_INTERNAL void xa__options_read(void);

/* A message on stderr when XALLOC_VERBOSE is on ("xalloc: " is prefixed). */
XA_INTERNAL void xa__verbose(const char* msg, uintptr_t value);

#endif
