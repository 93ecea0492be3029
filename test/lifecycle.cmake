# Lifecycle tests (heap delete/destroy, thread exit, process exit, fork).
# Each exit-sensitive scenario runs as its own process.
xa_test(lc_field INTERNAL NO_TEST SOURCES lc_field.c)  # the variants below run it
foreach(variant freed half later eight main)
  foreach(ending exit return)
    add_test(NAME lc_field_${variant}_${ending} COMMAND lc_field ${variant} ${ending})
    set_tests_properties(lc_field_${variant}_${ending} PROPERTIES LABELS lifecycle TIMEOUT 300)
  endforeach()
endforeach()
xa_test(lc_migrate INTERNAL SOURCES lc_migrate.c LABELS lifecycle)
xa_test(lc_destroy_reclaimed INTERNAL SOURCES lc_destroy_reclaimed.c LABELS lifecycle)
xa_test(lc_waves INTERNAL SOURCES lc_waves.c LABELS lifecycle)
xa_test(lc_exit_hooks INTERNAL NO_TEST SOURCES lc_exit_hooks.c)  # the variants below run it
foreach(ending exit return)
  add_test(NAME lc_exit_hooks_${ending} COMMAND lc_exit_hooks ${ending})
  set_tests_properties(lc_exit_hooks_${ending} PROPERTIES LABELS lifecycle TIMEOUT 300)
endforeach()
# fork is POSIX; not under qemu-user, which can deadlock on its own locks in
# the child of a multi-threaded guest (see override.cmake, ov_fork_threads).
if(NOT WIN32 AND NOT CMAKE_CROSSCOMPILING)
  xa_test(lc_fork INTERNAL SOURCES lc_fork.c LABELS lifecycle)
endif()
xa_test(lc_thread_done INTERNAL SOURCES lc_thread_done.c LABELS lifecycle)
if(NOT XALLOC_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
  # RSS accounting is meaningless under sanitizer shadow memory, and
  # emulators (qemu-user) may ignore MADV_DONTNEED.
  xa_test(lc_memory INTERNAL SOURCES lc_memory.c LABELS lifecycle)
  xa_test(lc_cache_age INTERNAL SOURCES lc_cache_age.c LABELS lifecycle)
  xa_test(lc_shared_cache INTERNAL SOURCES lc_shared_cache.c LABELS lifecycle)
endif()

# Memory goes back on time, whoever freed it (one process per scenario). The
# RSS scenarios need a real kernel and no sanitizer shadow memory; those read
# from the statistics run everywhere on Linux.
if(NOT WIN32)
  xa_test(lc_purge INTERNAL NO_TEST SOURCES lc_purge.c)  # the scenarios below run it
  set(xa_purge_scenarios late_thread no_thrash no_thrash_big)
  if(NOT XALLOC_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
    list(APPEND xa_purge_scenarios huge_idle_owner exited_huge exited_small mixed_1g big_blocks big_blocks_xthread big_blocks_exited big_blocks_idle_owner big_blocks_orphaned)
    add_test(NAME lc_purge_sleepers COMMAND lc_purge sleepers)
    set_tests_properties(lc_purge_sleepers PROPERTIES LABELS lifecycle TIMEOUT 300
      ENVIRONMENT "XALLOC_PURGE_THREAD=1")
  endif()
  foreach(scenario ${xa_purge_scenarios})
    add_test(NAME lc_purge_${scenario} COMMAND lc_purge ${scenario})
    set_tests_properties(lc_purge_${scenario} PROPERTIES LABELS lifecycle TIMEOUT 600 SKIP_RETURN_CODE 77)
  endforeach()
endif()
if(NOT WIN32 AND NOT CMAKE_CROSSCOMPILING)
  # The hard memory limit, at 256 MiB (millions of allocations: too slow under qemu-user).
  xa_test(lc_limit INTERNAL SOURCES lc_limit.c LABELS lifecycle TIMEOUT 600)
  set_tests_properties(lc_limit PROPERTIES ENVIRONMENT "XALLOC_CONF=limit:256M")
endif()

# The field scenario under valgrind: any read of unmapped memory fails it.
find_program(XA_VALGRIND valgrind)
if(XA_VALGRIND AND NOT XALLOC_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
  foreach(variant freed later main)
    add_test(NAME lc_field_${variant}_valgrind
             COMMAND ${XA_VALGRIND} --error-exitcode=9 --quiet $<TARGET_FILE:lc_field> ${variant} return)
    set_tests_properties(lc_field_${variant}_valgrind PROPERTIES LABELS "lifecycle;valgrind" TIMEOUT 600)
  endforeach()
elseif(NOT XA_VALGRIND)
  message(STATUS "lc_field_*_valgrind: not added (valgrind not found; Debian: apt-get install valgrind)")
endif()

# A shared library finalised after xalloc's exit hook allocates and frees:
# once under LD_PRELOAD (program not linked to xalloc), once statically linked.
if(NOT XALLOC_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
  add_library(lc_latelib SHARED lc_latelib.c)
  target_compile_options(lc_latelib PRIVATE -Wall -Wextra -Werror -fno-builtin)
  add_executable(lc_late_main_plain lc_late_main.c)
  target_link_libraries(lc_late_main_plain PRIVATE lc_latelib ${CMAKE_DL_LIBS})
  target_link_options(lc_late_main_plain PRIVATE -rdynamic)
  add_test(NAME lc_late_library_preload COMMAND lc_late_main_plain)
  set_tests_properties(lc_late_library_preload PROPERTIES LABELS lifecycle TIMEOUT 120
    ENVIRONMENT "LD_PRELOAD=$<TARGET_FILE:xalloc>")
  if(XALLOC_STATIC_OVERRIDE)
    add_executable(lc_late_main_static lc_late_main.c)
    target_link_libraries(lc_late_main_static PRIVATE lc_latelib xalloc-static ${CMAKE_DL_LIBS})
    target_compile_definitions(lc_late_main_static PRIVATE LATE_STATIC)
    target_link_options(lc_late_main_static PRIVATE -rdynamic)
    add_test(NAME lc_late_library_static COMMAND lc_late_main_static)
    set_tests_properties(lc_late_library_static PROPERTIES LABELS lifecycle TIMEOUT 120)
  endif()
endif()
xa_test(lc_regress INTERNAL SOURCES lc_regress.c LABELS lifecycle)
