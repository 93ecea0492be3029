# The fuzzer (issue 13, docs/fuzzing.md): test/fuzz/fuzz_api.c reads its
# input as a sequence of xa_ API operations and checks them against a shadow
# model. Two programs run it:
#   fuzz_api_replay  the target with a main() that runs files (test/fuzz/replay.c):
#                    every compiler and platform, linked like an INTERNAL test
#   fuzz_api         the libFuzzer binary: clang, native, where -fsanitize=fuzzer
#                    links (XALLOC_FUZZ=OFF leaves it out). Its xalloc is a copy of
#                    the library compiled with coverage instrumentation
#                    (-fsanitize=fuzzer-no-link) and without the malloc overrides.
# Tests: fuzz_replay runs the corpus (test/fuzz/corpus) in every configuration;
# fuzz_replay_libfuzzer does the same with fuzz_api; fuzz_run fuzzes for 60 s
# in AddressSanitizer builds, on a copy of the corpus in the build directory.
xa_test(fuzz_api_replay INTERNAL NO_TEST SOURCES fuzz/fuzz_api.c fuzz/replay.c)
target_include_directories(fuzz_api_replay PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
add_test(NAME fuzz_replay COMMAND fuzz_api_replay ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus)
set_tests_properties(fuzz_replay PROPERTIES LABELS fuzz TIMEOUT 300)

set(xa_fuzz_flags -fsanitize=fuzzer)
if(XALLOC_SANITIZE)
  list(APPEND xa_fuzz_flags -fsanitize=${XALLOC_SANITIZE})
endif()
set(xa_fuzz_libfuzzer OFF)
if(XALLOC_FUZZ AND CMAKE_C_COMPILER_ID STREQUAL "Clang" AND NOT WIN32 AND NOT CMAKE_CROSSCOMPILING)
  include(CheckCSourceCompiles)
  set(CMAKE_REQUIRED_FLAGS ${xa_fuzz_flags})
  set(CMAKE_REQUIRED_LINK_OPTIONS ${xa_fuzz_flags})
  string(MAKE_C_IDENTIFIER "XA_HAVE_LIBFUZZER_${XALLOC_SANITIZE}" xa_fuzz_var)
  check_c_source_compiles([[
    #include <stddef.h>
    #include <stdint.h>
    int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return data != NULL && size > 1; }
  ]] ${xa_fuzz_var})
  unset(CMAKE_REQUIRED_FLAGS)
  unset(CMAKE_REQUIRED_LINK_OPTIONS)
  set(xa_fuzz_libfuzzer ${${xa_fuzz_var}})
endif()
if(NOT xa_fuzz_libfuzzer)
  message(STATUS "fuzz_api (libFuzzer): not built "
                 "(needs native clang with -fsanitize=fuzzer; XALLOC_FUZZ=${XALLOC_FUZZ})")
  return()
endif()

list(TRANSFORM XA_SOURCES PREPEND ${PROJECT_SOURCE_DIR}/ OUTPUT_VARIABLE xa_fuzz_sources)
add_library(xalloc_fuzz STATIC ${xa_fuzz_sources})
target_include_directories(xalloc_fuzz PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
target_compile_definitions(xalloc_fuzz PUBLIC ${XA_DEFS})
target_compile_options(xalloc_fuzz PRIVATE ${XA_WARN} ${XA_TLS_FLAGS} ${XA_NO_INTERPOSE} -fno-builtin-malloc
                       -fsanitize=fuzzer-no-link)
target_link_libraries(xalloc_fuzz PUBLIC Threads::Threads)

add_executable(fuzz_api fuzz/fuzz_api.c)
target_include_directories(fuzz_api PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_options(fuzz_api PRIVATE -Wall -Wextra -Werror -fno-builtin -fsanitize=fuzzer)
target_link_options(fuzz_api PRIVATE -fsanitize=fuzzer)
target_link_libraries(fuzz_api PRIVATE xalloc_fuzz)

# -runs=0: run every file of the corpus once, fuzz nothing, write nothing.
add_test(NAME fuzz_replay_libfuzzer COMMAND fuzz_api -runs=0 ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus)
set_tests_properties(fuzz_replay_libfuzzer PROPERTIES LABELS fuzz TIMEOUT 300)

if(XALLOC_SANITIZE MATCHES "address")
  # New inputs go to the copy, crash reproducers to fuzz-artifacts/.
  add_test(NAME fuzz_run COMMAND sh -c [[
      rm -rf "$1" && mkdir -p "$1" "$2" && cp "$3"/* "$1"/ &&
      exec "$4" -max_total_time=60 -timeout=60 -print_final_stats=1 -artifact_prefix="$2"/ "$1"
    ]] sh ${CMAKE_CURRENT_BINARY_DIR}/fuzz-corpus ${CMAKE_CURRENT_BINARY_DIR}/fuzz-artifacts
    ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus $<TARGET_FILE:fuzz_api>)
  set_tests_properties(fuzz_run PROPERTIES LABELS "fuzz;slow" TIMEOUT 300)
endif()
