# install_consumer: install this build into a scratch prefix and build and run
# programs against the install (CMake package, both targets, and pkg-config).
# See consumer/run-install-test.sh. Included by test/CMakeLists.txt.

if(XALLOC_SANITIZE)
  # The consumers are built without the sanitizer flags (as a user would build
  # them), which does not link against a sanitized libxalloc.
  message(STATUS "install_consumer: not added (XALLOC_SANITIZE=${XALLOC_SANITIZE})")
  return()
endif()
if(CMAKE_CROSSCOMPILING)
  # The consumer project is configured for the host; the cross suites cover the library itself.
  message(STATUS "install_consumer: not added (cross-compiling)")
  return()
endif()

find_program(XA_BASH bash)
if(NOT XA_BASH)
  message(WARNING "install_consumer: bash not found, test not added")
  return()
endif()

add_test(NAME install_consumer
  COMMAND ${XA_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/consumer/run-install-test.sh
          "${PROJECT_BINARY_DIR}"
          "${CMAKE_CURRENT_BINARY_DIR}/install_consumer"
          "${CMAKE_C_COMPILER}"
          "${CMAKE_GENERATOR}"
          "$<CONFIG>"
          "${PROJECT_VERSION}"
          "$<IF:$<BOOL:${XALLOC_STATIC_OVERRIDE}>,ON,OFF>"
          "${CMAKE_MAKE_PROGRAM}")
set_tests_properties(install_consumer PROPERTIES
  TIMEOUT 300
  SKIP_RETURN_CODE 77  # pkg-config missing: the CMake consumers ran, the .pc one could not
  LABELS packaging)
