# CTest test model_check (label model): spin verifies the ownership model
# docs/model/xalloc.pml and checks that each mutation of it is caught
# (docs/model/check.sh, docs/model/README.md).
#
# It checks the protocol, not the build, so one configuration runs it: a
# native, non-sanitized Debug build (CI stage 3, gcc Debug) where spin and a
# C compiler (for spin's verifier) are found at configure time. Elsewhere it
# is not added, and configure says why.
set(xa_model_skip "")
if(NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
  set(xa_model_skip "not a Debug build")
elseif(CMAKE_CROSSCOMPILING)
  set(xa_model_skip "cross-compiling")
elseif(XALLOC_SANITIZE)
  set(xa_model_skip "sanitized build")
elseif(WIN32)
  set(xa_model_skip "not a POSIX host")
else()
  find_program(XA_SPIN spin)
  if(NOT XA_SPIN)
    set(xa_model_skip "spin not found (Debian package spin)")
  elseif(NOT CMAKE_C_COMPILER)
    set(xa_model_skip "no C compiler")
  endif()
endif()

if(xa_model_skip)
  message(STATUS "model_check not added: ${xa_model_skip}")
else()
  add_test(NAME model_check COMMAND sh ${PROJECT_SOURCE_DIR}/docs/model/check.sh)
  # A minute or two on 2 cores and up to ~1 GiB: not in the quick suite.
  set_tests_properties(model_check PROPERTIES
    LABELS "model;slow"
    TIMEOUT 900
    ENVIRONMENT "SPIN=${XA_SPIN};CC=${CMAKE_C_COMPILER}")
endif()
