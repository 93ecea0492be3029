if(WIN32)
  return()  # nm -D reads ELF dynamic symbols; the DLL's exports come from XA_API (dllexport) only
endif()
# shared_exports: libxalloc.so exports exactly the public API (every xa_
# function of include/xalloc.h) plus the libc malloc family, and no internals.
# See check_exports.sh. Included by test/CMakeLists.txt.

find_program(XA_BASH bash)
if(CMAKE_NM)
  set(XA_NM ${CMAKE_NM})
else()
  find_program(XA_NM nm)
endif()
if(NOT XA_BASH OR NOT XA_NM)
  message(WARNING "shared_exports: bash or nm not found, test not added")
  return()
endif()

add_test(NAME shared_exports
  COMMAND ${XA_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/check_exports.sh
          ${XA_NM}
          $<TARGET_FILE:xalloc>
          ${PROJECT_SOURCE_DIR}/include/xalloc.h)
set_tests_properties(shared_exports PROPERTIES
  TIMEOUT 60
  LABELS packaging)
