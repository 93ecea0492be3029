# Public-API tests (only the xa_* API; see api_util.h for the shared helpers).
# Each file is its own executable; CHECK aborts on failure.
xa_test(api_errno            SOURCES api_errno.c            LABELS api)
xa_test(api_basic            SOURCES api_basic.c            LABELS api)
xa_test(api_aligned          SOURCES api_aligned.c          LABELS api)
xa_test(api_aligned_realloc  SOURCES api_aligned_realloc.c  LABELS api)
xa_test(api_calloc           SOURCES api_calloc.c           LABELS api)
xa_test(api_realloc          SOURCES api_realloc.c          LABELS api)
xa_test(api_realloc_inplace  SOURCES api_realloc_inplace.c  LABELS api)
# Huge realloc by mremap; where there is none (Windows, qemu-user) it checks
# the content only.
xa_test(api_realloc_mremap INTERNAL SOURCES api_realloc_mremap.c LABELS api TIMEOUT 600)
if(WIN32 OR CMAKE_CROSSCOMPILING)
  target_compile_definitions(api_realloc_mremap PRIVATE REMAP_OPTIONAL)
endif()
xa_test(api_string           SOURCES api_string.c           LABELS api)
xa_test(api_heap             SOURCES api_heap.c             LABELS api)
xa_test(api_region           SOURCES api_region.c           LABELS api)
xa_test(api_misc             SOURCES api_misc.c             LABELS api)
xa_test(api_double_free      SOURCES api_double_free.c      LABELS api)

# Multi-threaded tests (pthreads). Work scales with the environment variable
# XA_TEST_SCALE (default 1; ThreadSanitizer builds divide it by 4).
xa_test(mt_prodcons          SOURCES mt_prodcons.c          LABELS mt TIMEOUT 120)
xa_test(mt_alltoall          SOURCES mt_alltoall.c          LABELS mt TIMEOUT 120)
xa_test(mt_exit_live         SOURCES mt_exit_live.c         LABELS mt TIMEOUT 120)
xa_test(mt_short_threads     SOURCES mt_short_threads.c     LABELS mt TIMEOUT 120)
