/* ov_static_is_xalloc.c's checks, linked with libxalloc.so instead of
 * libxalloc.a: malloc and friends resolve into libxalloc.so, and the memory
 * they return is xalloc's. */
#define OV_SHARED 1
#include "ov_static_is_xalloc.c"
