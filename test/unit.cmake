# Unit tests of internal modules (size classes, OS layer, lookups, free lists).
xa_test(unit_bins INTERNAL SOURCES unit_bins.c LABELS unit)
xa_test(unit_lookup INTERNAL SOURCES unit_lookup.c LABELS unit)
if(NOT XALLOC_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
  xa_test(unit_os INTERNAL SOURCES unit_os.c LABELS unit)  # RSS checks need real page accounting
endif()

# Address space under RLIMIT_AS: the same 1 MiB allocation loop with the C
# library's malloc (as_loop_libc: not linked with xalloc) and with xalloc;
# as_limit compares them. POSIX only; skips itself (77) under sanitizers and
# emulators.
if(NOT WIN32)
  add_executable(as_loop_libc as_loop.c)
  target_compile_options(as_loop_libc PRIVATE -Wall -Wextra -Werror -fno-builtin)
  target_compile_definitions(as_loop_libc PRIVATE _GNU_SOURCE)
  xa_test(as_loop_xalloc INTERNAL NO_TEST SOURCES as_loop.c)  # run by as_limit
  target_compile_definitions(as_loop_xalloc PRIVATE AS_LOOP_XALLOC)
  add_executable(as_limit as_limit.c)
  target_compile_options(as_limit PRIVATE -Wall -Wextra -Werror -fno-builtin)
  target_compile_definitions(as_limit PRIVATE ${XA_DEFS})  # XA_DEBUG: its blocks are larger
  add_test(NAME as_limit COMMAND as_limit $<TARGET_FILE:as_loop_libc> $<TARGET_FILE:as_loop_xalloc>)
  set_tests_properties(as_limit PROPERTIES LABELS unit TIMEOUT 120 SKIP_RETURN_CODE 77)
  if(CMAKE_CROSSCOMPILING)
    set_tests_properties(as_limit PROPERTIES ENVIRONMENT "XA_UNDER_EMULATOR=1")
  endif()
endif()

# Out of memory at every allocation entry point under RLIMIT_AS (issue 13):
# NULL with ENOMEM, failed reallocs keep their block, memory usable again
# after freeing, the exit hook still runs. Same skips as as_limit.
if(NOT WIN32)
  xa_test(oom_entry SOURCES oom_entry.c LABELS api TIMEOUT 300)
  set_tests_properties(oom_entry PROPERTIES SKIP_RETURN_CODE 77)
  if(CMAKE_CROSSCOMPILING)
    set_tests_properties(oom_entry PROPERTIES ENVIRONMENT "XA_UNDER_EMULATOR=1")
  endif()
endif()
xa_test(unit_retire INTERNAL SOURCES unit_retire.c LABELS unit)
xa_test(unit_idle INTERNAL SOURCES unit_idle.c LABELS unit)
xa_test(unit_reclaim INTERNAL SOURCES unit_reclaim.c LABELS unit)
