# The secure build, built alongside the normal one (docs/secure.md):
# libxalloc-secure.so and libxalloc-secure.a, the same sources compiled with
# XA_SECURE=1 (encoded and checked free-list links, randomised free-list
# order, a secret free mark set atomically by cross-thread frees, guard pages
# before each segment's first block area and after each huge block). A program
# picks it at link time (-lxalloc-secure, xalloc::xalloc-secure) or at run
# time (LD_PRELOAD, or XALLOC_LIB=.../libxalloc-secure.so xalloc-run). Not on
# Windows yet.
option(XALLOC_SECURE "Also build libxalloc-secure (hardened against heap corruption; docs/secure.md)" ON)
if(NOT XALLOC_SECURE OR WIN32)
  return()
endif()

add_library(xalloc_secure_objects OBJECT ${XA_SOURCES})
add_library(xalloc_secure_override_objects OBJECT ${XA_OVERRIDE_SOURCE})
foreach(t xalloc_secure_objects xalloc_secure_override_objects)
  target_include_directories(${t} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/include ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_compile_definitions(${t} PRIVATE ${XA_DEFS} XA_SECURE=1)
endforeach()
target_compile_options(xalloc_secure_objects PRIVATE ${XA_WARN} ${XA_TLS_FLAGS} ${XA_NO_INTERPOSE} -fno-builtin-malloc)
target_compile_options(xalloc_secure_override_objects PRIVATE ${XA_WARN} ${XA_TLS_FLAGS} ${XA_NO_INTERPOSE} -fno-builtin)

add_library(xalloc-secure SHARED $<TARGET_OBJECTS:xalloc_secure_objects> $<TARGET_OBJECTS:xalloc_secure_override_objects>)
set_target_properties(xalloc-secure PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR})
target_link_libraries(xalloc-secure PRIVATE Threads::Threads)
target_link_options(xalloc-secure PRIVATE "LINKER:-Bsymbolic-functions")
target_include_directories(xalloc-secure PUBLIC
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

if(XALLOC_STATIC_OVERRIDE)
  add_library(xalloc-secure-static STATIC $<TARGET_OBJECTS:xalloc_secure_objects>
    $<TARGET_OBJECTS:xalloc_secure_override_objects>)
  target_link_options(xalloc-secure-static INTERFACE "LINKER:-u,malloc")
else()
  add_library(xalloc-secure-static STATIC $<TARGET_OBJECTS:xalloc_secure_objects>)
endif()
set_target_properties(xalloc-secure-static PROPERTIES OUTPUT_NAME xalloc-secure)
target_link_libraries(xalloc-secure-static PUBLIC Threads::Threads)
target_compile_definitions(xalloc-secure-static INTERFACE XALLOC_STATIC)
target_include_directories(xalloc-secure-static PUBLIC
  $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)

add_library(xalloc::xalloc-secure ALIAS xalloc-secure)
add_library(xalloc::xalloc-secure-static ALIAS xalloc-secure-static)
install(TARGETS xalloc-secure xalloc-secure-static EXPORT xallocTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT dev
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
