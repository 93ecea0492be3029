# Misuse xalloc must survive with a defined answer (issue 13): one process per
# case, see test/misuse.c. POSIX only (alarm, stderr capture).
if(NOT WIN32)
  xa_test(misuse INTERNAL NO_TEST SOURCES misuse.c)  # the cases below run it
  foreach(case transit_inbox transit_orphan interior_local interior_huge interior_xthread interior_realloc
               interior_usable interior_aligned xthread_cycle inbox_cycle local_cycle overflow_double_free
               heap_other_thread)
    add_test(NAME misuse_${case} COMMAND misuse ${case})
    set_tests_properties(misuse_${case} PROPERTIES LABELS misuse TIMEOUT 120)
  endforeach()
endif()

# Debug builds: writes after free found by the fill pattern (skips itself
# elsewhere).
xa_test(debug_uaf INTERNAL SOURCES debug_uaf.c LABELS misuse TIMEOUT 120)
set_tests_properties(debug_uaf PROPERTIES SKIP_RETURN_CODE 77)
xa_test(debug_canary INTERNAL SOURCES debug_canary.c LABELS misuse TIMEOUT 120)
set_tests_properties(debug_canary PROPERTIES SKIP_RETURN_CODE 77 ENVIRONMENT "XALLOC_VERBOSE=1")
