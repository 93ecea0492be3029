# Statistics (docs/stats.md). st_json prints xa_stats_json's output with the
# blocks xa_heap_visit_blocks finds, and st_json_check.py checks with
# python3's json that it parses and adds up. Cross builds (wine, qemu-user)
# run only the program's C self-check: python3 there would be the host's.
xa_test(st_json SOURCES st_json.c NO_TEST)
if(CMAKE_CROSSCOMPILING)
  add_test(NAME st_json COMMAND st_json --selfcheck)
  set_tests_properties(st_json PROPERTIES LABELS api TIMEOUT 300)
  if(XA_WINE_FIXTURE)
    set_tests_properties(st_json PROPERTIES ENVIRONMENT "${XA_WINE_ENV}")
  endif()
else()
  find_program(XA_PYTHON3 python3)
  # st_json_exit: show_stats=json writes the same object to XALLOC_STATS_FILE at exit.
  if(XA_PYTHON3)
    add_test(NAME st_json COMMAND ${XA_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/st_json_check.py $<TARGET_FILE:st_json>)
    add_test(NAME st_json_exit
             COMMAND ${XA_PYTHON3} ${CMAKE_CURRENT_SOURCE_DIR}/st_json_check.py --exit $<TARGET_FILE:st_json>)
  else()  # skipped, not failed: the checker needs python3
    foreach(t st_json st_json_exit)
      add_test(NAME ${t} COMMAND sh -c "echo '${t}: python3 not found, skipped'; exit 77")
    endforeach()
  endif()
  set_tests_properties(st_json st_json_exit PROPERTIES LABELS api TIMEOUT 300 SKIP_RETURN_CODE 77)
  if("XA_DEBUG=1" IN_LIST XA_DEFS)  # blocks are tracked: sizes asked for, not block sizes (docs/debugging.md)
    set_tests_properties(st_json PROPERTIES ENVIRONMENT "XA_ST_TRACKED=1")
  endif()
endif()
