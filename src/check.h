/* Invariant checker: walks the calling thread's heaps, pages, segments,
 * segment cache and the abandoned list, and aborts with a message on the
 * first broken invariant. Compiled in every build; tests call it after each
 * step, and debug builds (XA_DEBUG) call it after lifecycle operations. */
#ifndef XA_CHECK_H
#define XA_CHECK_H

#include "config.h"

/* Returns true (or does not return). */
XA_INTERNAL bool xa__validate(void);

#endif
