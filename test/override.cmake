# Linux malloc-family override tests (issue 6). Included by test/CMakeLists.txt.
#
#   ov_static_is_xalloc   libxalloc.a: malloc & co. are xalloc's, glibc semantics
#   ov_shared_is_xalloc   the same through libxalloc.so
#   ov_fork_threads       fork while 4 threads allocate, under LD_PRELOAD
#   ov_launcher           bin/xalloc-run
#   ov_stats_exit         the exit statistics name their process; XALLOC_STATS_FILE
#   ov_mallinfo_*         glibc's mallinfo2, mallinfo, malloc_info, malloc_trim,
#                         mallopt and malloc_stats (static and shared library)
#   ov_cxx_new_delete*    include/xalloc-new-delete.h (when a C++ compiler exists)
#   ov_prog_<program>     real programs under LD_PRELOAD against the system
#                         allocator (test/ov_programs.sh; skipped, not failed,
#                         when the program is not installed)
# All labelled "override".

if(WIN32)
  return()  # the Windows side has its own redirection tests (test/windows.cmake)
endif()

# --- the malloc family is xalloc's, seen from inside -----------------------------
if(XALLOC_STATIC_OVERRIDE AND NOT XALLOC_SANITIZE)
  # The sanitizers' runtimes define malloc themselves.
  xa_test(ov_static_is_xalloc SOURCES ov_static_is_xalloc.c LABELS override TIMEOUT 120)
  target_link_libraries(ov_static_is_xalloc PRIVATE ${CMAKE_DL_LIBS})
  xa_test(ov_static_xa_only SOURCES ov_static_xa_only.c LABELS override TIMEOUT 120)
  # glibc's mallinfo2/mallinfo/malloc_info/malloc_trim/mallopt/malloc_stats
  xa_test(ov_mallinfo_static SOURCES ov_mallinfo.c LABELS override TIMEOUT 120)
endif()
if(NOT XALLOC_SANITIZE)
  xa_test(ov_shared_is_xalloc SHARED SOURCES ov_shared_is_xalloc.c LABELS override TIMEOUT 120)
  target_link_libraries(ov_shared_is_xalloc PRIVATE ${CMAKE_DL_LIBS})
  xa_test(ov_mallinfo_shared SHARED SOURCES ov_mallinfo.c LABELS override TIMEOUT 120)
endif()

if(XALLOC_SANITIZE)
  # Preloading xalloc under a sanitizer runtime that owns malloc is not meaningful.
  message(STATUS "override tests: only the C++ header test is added (XALLOC_SANITIZE=${XALLOC_SANITIZE})")
endif()

# --- fork while threads allocate, under LD_PRELOAD --------------------------------------
# Not under qemu-user: when a multi-threaded guest forks, qemu 7.2 now and then
# deadlocks inside the child on one of its own locks (seen here: both host
# threads of the child in futex_wait, the guest's alarm() never delivered, the
# test's output pipe held open forever). That tests the emulator, not us; the
# fork handling is the same code on every POSIX target and runs natively.
if(NOT XALLOC_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
  add_executable(ov_fork_threads ov_fork_threads.c)
  target_compile_options(ov_fork_threads PRIVATE -Wall -Wextra -Werror -fno-builtin)
  target_compile_definitions(ov_fork_threads PRIVATE _GNU_SOURCE)
  target_link_libraries(ov_fork_threads PRIVATE Threads::Threads ${CMAKE_DL_LIBS})
  add_test(NAME ov_fork_threads COMMAND ov_fork_threads)
  set_tests_properties(ov_fork_threads PROPERTIES ENVIRONMENT "LD_PRELOAD=$<TARGET_FILE:xalloc>"
                                                  LABELS override TIMEOUT 300)
  # The two shapes of glibc's malloc tests that hung only under xalloc (issue
  # 13): fork while threads use stdio; fork from a signal handler that
  # interrupted fork or malloc (single-threaded).
  foreach(t ov_fork_stdio ov_fork_signal)
    add_executable(${t} ${t}.c)
    target_compile_options(${t} PRIVATE -Wall -Wextra -Werror -fno-builtin)
    target_compile_definitions(${t} PRIVATE _GNU_SOURCE)
    target_link_libraries(${t} PRIVATE Threads::Threads ${CMAKE_DL_LIBS} rt)
    add_test(NAME ${t} COMMAND ${t})
    set_tests_properties(${t} PROPERTIES ENVIRONMENT "LD_PRELOAD=$<TARGET_FILE:xalloc>" LABELS override TIMEOUT 300)
  endforeach()
endif()

# --- bin/xalloc-run ------------------------------------------------------------------------
if(NOT XALLOC_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
  add_executable(ov_preload_probe ov_preload_probe.c)
  target_compile_options(ov_preload_probe PRIVATE -Wall -Wextra -Werror -fno-builtin)
  target_compile_definitions(ov_preload_probe PRIVATE _GNU_SOURCE)
  target_link_libraries(ov_preload_probe PRIVATE ${CMAKE_DL_LIBS})
  add_test(NAME ov_launcher
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/ov_launcher.sh
            ${PROJECT_SOURCE_DIR}/bin/xalloc-run
            $<TARGET_FILE:xalloc>
            $<TARGET_FILE:ov_preload_probe>
            ${CMAKE_CURRENT_BINARY_DIR}/ov_launcher)
  set_tests_properties(ov_launcher PROPERTIES LABELS override TIMEOUT 120)
  # Statistics at exit name their process; XALLOC_STATS_FILE with %p.
  add_test(NAME ov_stats_exit
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/ov_stats_exit.sh
            $<TARGET_FILE:xalloc> $<TARGET_FILE:ov_preload_probe>
            ${CMAKE_CURRENT_BINARY_DIR}/ov_stats_exit)
  set_tests_properties(ov_stats_exit PROPERTIES LABELS override TIMEOUT 120)
endif()

# --- include/xalloc-new-delete.h --------------------------------------------------------
# The project is C only; C++ is enabled here when a compiler exists.
include(CheckLanguage)
if(CMAKE_CROSSCOMPILING AND DEFINED CMAKE_CXX_COMPILER)
  # A toolchain file may name a C++ cross compiler that is not installed.
  find_program(XA_OV_CXX_FOUND ${CMAKE_CXX_COMPILER})
  if(NOT XA_OV_CXX_FOUND)
    unset(CMAKE_CXX_COMPILER)
  endif()
endif()
check_language(CXX)  # does nothing when CMAKE_CXX_COMPILER is already set
if(CMAKE_CXX_COMPILER)
  enable_language(CXX)
  foreach(kind static shared)
    set(name ov_cxx_new_delete_${kind})
    if(kind STREQUAL "shared")
      xa_test(${name} SHARED SOURCES ov_cxx_new_delete.cpp LABELS override TIMEOUT 120)
    else()
      xa_test(${name} SOURCES ov_cxx_new_delete.cpp LABELS override TIMEOUT 120)
    endif()
    set_target_properties(${name} PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
    target_link_libraries(${name} PRIVATE ${CMAKE_DL_LIBS})
  endforeach()
  # The header in C++11 mode (no sized, no aligned operators): it must compile.
  add_library(ov_cxx_new_delete_cxx11 OBJECT ov_cxx_new_delete.cpp)
  target_include_directories(ov_cxx_new_delete_cxx11 PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_compile_options(ov_cxx_new_delete_cxx11 PRIVATE -Wall -Wextra -Werror)
  set_target_properties(ov_cxx_new_delete_cxx11 PROPERTIES CXX_STANDARD 11 CXX_STANDARD_REQUIRED ON CXX_EXTENSIONS OFF)
else()
  message(STATUS "override tests: no C++ compiler, ov_cxx_new_delete not added")
endif()

# --- real programs under LD_PRELOAD ---------------------------------------------------------
# Debian packages (installed by .ci/run): python3 libpython3.11-testsuite sqlite3 git gcc perl.
if(NOT XALLOC_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
  find_program(XA_OV_BASH bash)
  if(XA_OV_BASH)
    foreach(program python3 sqlite3 git gcc perl pipeline)
      add_test(NAME ov_prog_${program}
        COMMAND ${XA_OV_BASH} ${CMAKE_CURRENT_SOURCE_DIR}/ov_programs.sh
                ${program} $<TARGET_FILE:xalloc> ${CMAKE_CURRENT_BINARY_DIR}/ov_prog_${program})
      set_tests_properties(ov_prog_${program} PROPERTIES
        LABELS "override;programs;slow" TIMEOUT 600 SKIP_RETURN_CODE 77)
    endforeach()
    # python3's thread tests are timing-sensitive: not next to another heavy test.
    set_tests_properties(ov_prog_python3 PROPERTIES RUN_SERIAL TRUE)
  else()
    message(WARNING "override tests: bash not found, ov_prog_* not added")
  endif()
endif()
