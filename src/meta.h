/* Internal metadata blocks (thread data, heap structs): carved from OS
 * memory, never from malloc, so initialisation cannot recurse. */
#ifndef XA_META_H
#define XA_META_H

#include "config.h"

/* Zeroed block of at least size bytes (size <= 16 KiB), or NULL. */
XA_INTERNAL void* xa__meta_alloc(size_t size);
XA_INTERNAL void xa__meta_free(void* p, size_t size);
XA_INTERNAL void xa__meta_fork_child(void);

#endif
