/* Free paths and the inboxes through which other threads hand back blocks
 * of full pages (design.md, rule 1). */
#ifndef XA_FREE_H
#define XA_FREE_H

#include "config.h"
#include "types.h"

#include "report.h" /* xa__report_foreign() for the entry points */
#include "tls.h"  /* the calling thread's data: xa__tls_tld_get() */

/* Free every block in an inbox, each by its segment's current owner rules. */
XA_INTERNAL void xa__inbox_drain(_Atomic(xa_block_t*)* inbox);
/* Blocks whose page was abandoned while the freeing thread notified. */
XA_INTERNAL void xa__orphans_drain(void);

#endif
