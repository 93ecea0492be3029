# Valgrind's memcheck and xalloc (issue 13, docs/debugging.md).
#   vg_detect      test/vg_detect.sh: use after free, a read past a block, a
#                  leak, an unwritten byte and a clean run, each reported
#                  for xalloc (static and preloaded) as for glibc
#   vg_<test>      a part of the suite under memcheck: no error at all
# Needs valgrind and its headers (XA_VALGRIND, CMakeLists.txt); not with
# sanitizers, not when cross-compiling.
find_program(XA_VALGRIND_PROGRAM valgrind)
if(XA_VALGRIND_PROGRAM AND XA_HAVE_MEMCHECK_H AND NOT XALLOC_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
  xa_test(vg_detect_static NO_TEST SOURCES vg_detect.c)
  add_executable(vg_detect_plain vg_detect.c)
  target_compile_options(vg_detect_plain PRIVATE -Wall -Wextra -Werror -fno-builtin)
  target_compile_definitions(vg_detect_plain PRIVATE _GNU_SOURCE)
  target_link_libraries(vg_detect_plain PRIVATE Threads::Threads)
  add_test(NAME vg_detect
           COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/vg_detect.sh ${XA_VALGRIND_PROGRAM}
                   $<TARGET_FILE:vg_detect_static> $<TARGET_FILE:vg_detect_plain> $<TARGET_FILE:xalloc>)
  set_tests_properties(vg_detect PROPERTIES LABELS "valgrind" TIMEOUT 600)
  # Tests of correct use only (the misuse tests make errors on purpose).
  set(xa_vg_suite
    api_basic api_aligned api_aligned_realloc api_calloc api_realloc api_realloc_inplace
    api_heap api_misc api_string api_errno api_region
    mt_prodcons mt_alltoall mt_exit_live mt_short_threads
    lc_migrate lc_destroy_reclaimed lc_thread_done lc_regress)
  foreach(t ${xa_vg_suite})
    if(TARGET ${t})
      add_test(NAME vg_${t} COMMAND ${XA_VALGRIND_PROGRAM} --error-exitcode=9 --quiet $<TARGET_FILE:${t}>)
      set_tests_properties(vg_${t} PROPERTIES LABELS "valgrind" TIMEOUT 900)
    endif()
  endforeach()
  add_test(NAME vg_lc_exit_hooks COMMAND ${XA_VALGRIND_PROGRAM} --error-exitcode=9 --quiet $<TARGET_FILE:lc_exit_hooks> exit)
  set_tests_properties(vg_lc_exit_hooks PROPERTIES LABELS "valgrind" TIMEOUT 900)
elseif(NOT XA_VALGRIND_PROGRAM OR NOT XA_HAVE_MEMCHECK_H)
  message(STATUS "vg_*: not added (needs valgrind and valgrind/memcheck.h; Debian: apt-get install valgrind)")
endif()
