# The secure build (cmake/secure.cmake, docs/secure.md): its own test, and a
# selection of the suite run again against libxalloc-secure. Internal tests
# are compiled with XA_SECURE=1 so that they see the secure layout.
if(NOT TARGET xalloc-secure-static)
  return()
endif()

function(xa_secure_test name)
  cmake_parse_arguments(T "INTERNAL" "TIMEOUT" "SOURCES;LABELS;ARGS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_compile_options(${name} PRIVATE -Wall -Wextra -Werror -fno-builtin)
  target_compile_definitions(${name} PRIVATE _GNU_SOURCE XA_SECURE=1)
  if(T_INTERNAL)
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/include)
    target_compile_definitions(${name} PRIVATE ${XA_DEFS})
  endif()
  target_link_libraries(${name} PRIVATE xalloc-secure-static Threads::Threads)
  add_test(NAME ${name} COMMAND ${name} ${T_ARGS})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${T_TIMEOUT} LABELS "secure;${T_LABELS}")
endfunction()

xa_secure_test(secure_links INTERNAL SOURCES secure_links.c TIMEOUT 120)
foreach(t api_basic api_aligned api_aligned_realloc api_calloc api_realloc api_realloc_inplace api_string
          api_heap api_misc api_double_free)
  xa_secure_test(secure_${t} SOURCES ${t}.c)
endforeach()
foreach(t mt_prodcons mt_alltoall mt_exit_live mt_short_threads)
  xa_secure_test(secure_${t} SOURCES ${t}.c TIMEOUT 120)
endforeach()
foreach(t lc_migrate lc_destroy_reclaimed lc_waves lc_thread_done lc_regress)
  xa_secure_test(secure_${t} INTERNAL SOURCES ${t}.c)
endforeach()
# Guard pages (docs/secure.md): with the arena, and with segments mapped one by one.
xa_secure_test(secure_guard INTERNAL SOURCES secure_guard.c TIMEOUT 300)
add_test(NAME secure_guard_noarena COMMAND secure_guard)
set_tests_properties(secure_guard_noarena PROPERTIES TIMEOUT 300 LABELS "secure" ENVIRONMENT "XALLOC_ARENA_RESERVE=0")
if(CMAKE_CROSSCOMPILING_EMULATOR)
  # qemu-user keeps its own table of the guest's mappings and counts its own
  # in the host's vm.max_map_count: the mapping-limit part tests the emulator.
  set_tests_properties(secure_guard PROPERTIES ENVIRONMENT "XA_UNDER_EMULATOR=1")
  set_tests_properties(secure_guard_noarena PROPERTIES ENVIRONMENT "XALLOC_ARENA_RESERVE=0;XA_UNDER_EMULATOR=1")
endif()
