# Options: every option round-trips through XALLOC_<NAME>, XALLOC_CONF and
# xa_option_set/get, malformed forms are reported once and keep the value
# (options_roundtrip); docs/options.md's table matches src/options.c's
# (options_docs). Included by test/CMakeLists.txt.
xa_test(options_roundtrip INTERNAL SOURCES options_test.c LABELS options TIMEOUT 120)
add_test(NAME options_docs COMMAND options_roundtrip docs ${PROJECT_SOURCE_DIR}/docs/options.md)
set_tests_properties(options_docs PROPERTIES LABELS options TIMEOUT 60)
if(CMAKE_CROSSCOMPILING_EMULATOR AND NOT WIN32)
  # The test re-runs itself in child processes: through the emulator too.
  string(REPLACE ";" "\\;" xa_emulator "${CMAKE_CROSSCOMPILING_EMULATOR}")
  set_tests_properties(options_roundtrip PROPERTIES ENVIRONMENT "XA_TEST_EMULATOR=${xa_emulator}")
endif()
