/* Committed memory and the hard limit (option `limit`). xalloc counts as
 * committed every byte it may have touched and not purged since: segment
 * headers, pages from their first use until purged, huge blocks. The count
 * errs on the high side (a page counts whole from its first block), so the
 * limit is never crossed. */
#ifndef XA_LIMIT_H
#define XA_LIMIT_H

#include "config.h"

/* Count n more bytes as committed. False (nothing counted) when that would
 * cross the limit. */
XA_INTERNAL bool xa__commit_charge(size_t n);
/* n bytes were purged or unmapped. */
XA_INTERNAL void xa__commit_release(size_t n);
/* Bytes counted now. */
XA_INTERNAL size_t xa__committed(void);
/* The limit in bytes (0: none). */
XA_INTERNAL size_t xa__commit_limit(void);

#endif
