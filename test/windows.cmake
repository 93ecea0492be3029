# Windows-only tests (statically linked executables, run under wine when
# cross-compiling).
if(NOT WIN32)
  return()
endif()
xa_test(win_field INTERNAL NO_TEST SOURCES win_field.c)  # the variants below run it
foreach(kind createthread beginthreadex)
  foreach(ending return exit exitprocess)
    add_test(NAME win_field_${kind}_${ending} COMMAND win_field ${kind} ${ending})
    set_tests_properties(win_field_${kind}_${ending} PROPERTIES LABELS "windows;lifecycle" TIMEOUT 300)
    if(XA_WINE_FIXTURE)
      set_tests_properties(win_field_${kind}_${ending} PROPERTIES FIXTURES_REQUIRED wine ENVIRONMENT "${XA_WINE_ENV}")
    endif()
  endforeach()
endforeach()
if(XALLOC_STATIC_OVERRIDE)
  xa_test(win_redirect SOURCES win_redirect.c LABELS windows)
endif()
# The process-exit hook really runs (and prints statistics when asked).
add_test(NAME win_exit_hook_fires COMMAND win_field createthread return)
set_tests_properties(win_exit_hook_fires PROPERTIES LABELS windows TIMEOUT 300
  PASS_REGULAR_EXPRESSION "xalloc statistics of pid [0-9]+ \\(win_field\\.exe\\)")
# XALLOC_STATS_FILE (with %p) receives that table instead of stderr.
add_test(NAME win_stats_file
  COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/win_stats_file.sh $<TARGET_FILE:win_field>
          ${CMAKE_CURRENT_BINARY_DIR}/win_stats_file "${CMAKE_CROSSCOMPILING_EMULATOR}")
set_tests_properties(win_stats_file PROPERTIES LABELS windows TIMEOUT 300)
if(XA_WINE_FIXTURE)
  set_tests_properties(win_exit_hook_fires PROPERTIES FIXTURES_REQUIRED wine
    ENVIRONMENT "${XA_WINE_ENV};XALLOC_SHOW_STATS=1")
else()
  set_tests_properties(win_exit_hook_fires PROPERTIES ENVIRONMENT "XALLOC_SHOW_STATS=1")
endif()

# CRT patching on (default) and off; and the redirection test with it off, so
# CRT-internal blocks are foreign and take that path.
if(XALLOC_STATIC_OVERRIDE)
  xa_test(win_crt_patch NO_TEST SOURCES win_crt_patch.c)  # the variants below run it
  foreach(mode on off)
    add_test(NAME win_crt_patch_${mode} COMMAND win_crt_patch ${mode})
    set(env "XALLOC_PATCH_CRT=$<IF:$<STREQUAL:${mode},on>,1,0>")
    if(XA_WINE_FIXTURE)
      set_tests_properties(win_crt_patch_${mode} PROPERTIES FIXTURES_REQUIRED wine ENVIRONMENT "${XA_WINE_ENV};${env}")
    else()
      set_tests_properties(win_crt_patch_${mode} PROPERTIES ENVIRONMENT "${env}")
    endif()
    set_tests_properties(win_crt_patch_${mode} PROPERTIES LABELS windows TIMEOUT 300)
  endforeach()
  add_test(NAME win_redirect_unpatched COMMAND win_redirect)
  if(XA_WINE_FIXTURE)
    set_tests_properties(win_redirect_unpatched PROPERTIES FIXTURES_REQUIRED wine ENVIRONMENT "${XA_WINE_ENV};XALLOC_PATCH_CRT=0")
  else()
    set_tests_properties(win_redirect_unpatched PROPERTIES ENVIRONMENT "XALLOC_PATCH_CRT=0")
  endif()
  set_tests_properties(win_redirect_unpatched PROPERTIES LABELS windows TIMEOUT 300)
endif()

# The DLL build: the xa_ API through xalloc.dll's import library.
xa_test(win_dll SHARED SOURCES win_dll.c LABELS windows)
if(XA_WINE_FIXTURE)
  set_tests_properties(win_dll PROPERTIES ENVIRONMENT "${XA_WINE_ENV};WINEPATH=$<TARGET_FILE_DIR:xalloc>")
endif()

# xalloc.dll needs kernel32 and the C runtime only: no libgcc (a
# _Thread_local variable made mingw's gcc import libgcc_s_seh-1.dll for
# emulated TLS, and the DLL no longer loaded where that is not installed).
if(CMAKE_OBJDUMP)
  add_test(NAME win_dll_imports
    COMMAND sh -c "imports=$(\"$1\" -p \"$2\" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr 'A-Z' 'a-z' | sort -u | tr '\\n' ' '); echo \"imports: $imports\"; for d in $imports; do case $d in kernel32.dll|msvcrt.dll|ucrtbase.dll|api-ms-win-crt-*) ;; *) echo \"unexpected import: $d\"; exit 1;; esac; done"
            sh ${CMAKE_OBJDUMP} $<TARGET_FILE:xalloc>)
  set_tests_properties(win_dll_imports PROPERTIES LABELS windows TIMEOUT 60)
endif()

# A user's hand link, exactly `x86_64-w64-mingw32-gcc prog.c libxalloc.a`:
# no define is needed for the static library (test/win_handlink.sh).
if(XALLOC_STATIC_OVERRIDE)
  add_test(NAME win_handlink
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/win_handlink.sh
            ${CMAKE_C_COMPILER} $<TARGET_FILE:xalloc-static> ${PROJECT_SOURCE_DIR}/include
            ${CMAKE_CURRENT_BINARY_DIR}/win_handlink "${CMAKE_CROSSCOMPILING_EMULATOR}")
  set_tests_properties(win_handlink PROPERTIES LABELS windows TIMEOUT 300)
endif()
