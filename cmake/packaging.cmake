# Debian packages, made by `cpack -G DEB` (or `cmake --build BUILD --target
# package`) in a build directory:
#   libxalloc0     libxalloc.so.0*, xalloc-run, man pages xalloc-run(1), xalloc(7)
#   libxalloc-dev  xalloc.h, xalloc-new-delete.h, libxalloc.a, the libxalloc.so
#                  link, the CMake package and xalloc.pc; depends on libxalloc0
#                  of the same version
# Configure with -DCMAKE_INSTALL_PREFIX=/usr so that the libraries go to
# Debian's multiarch directory (lib/<triplet>, from GNUInstallDirs).
# Included by CMakeLists.txt on Linux; the install() rules name the components.

set(CPACK_PACKAGE_NAME xalloc)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "xalloc maintainers" CACHE STRING "Maintainer field of the Debian packages")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)

set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # <package>_<version>_<arch>.deb

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME libxalloc0)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
# Descriptions: the first line is the synopsis; CPack indents the rest.
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION
"general-purpose malloc replacement (shared library and launcher)
xalloc is a drop-in replacement for the C library's malloc family, with
per-thread heaps and lock-free frees from other threads.

This package holds the shared library, which any program can use through
LD_PRELOAD, the launcher xalloc-run, which runs a program with it, and
libxalloc-secure, the same allocator hardened against heap corruption.")
# libc6 (>= ...) from dpkg-shlibdeps; a shlibs file and the ldconfig trigger.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libxalloc-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_DEV_DESCRIPTION
"general-purpose malloc replacement (development files)
xalloc is a drop-in replacement for the C library's malloc family, with
per-thread heaps and lock-free frees from other threads.

This package holds the header, the static libraries (libxalloc.a and
libxalloc-secure.a, which also replace the program's malloc), the CMake
package (find_package(xalloc)) and the pkg-config file.")
# libxalloc-dev Depends: libxalloc0 (= version), from the component dependency.
set(CPACK_COMPONENT_DEV_DEPENDS runtime)
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)

# /usr/share/doc/<package>/copyright, as Debian expects.
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/libxalloc0
  RENAME copyright COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/libxalloc-dev
  RENAME copyright COMPONENT dev)
install(FILES ${PROJECT_SOURCE_DIR}/docs/options.md DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/libxalloc0
  COMPONENT runtime)

include(CPack)
