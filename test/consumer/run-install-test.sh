#!/usr/bin/env bash
# CTest test install_consumer (registered by test/install.cmake).
#
# Installs the xalloc build tree into a scratch prefix, then uses that install
# the three ways a user can:
#   1. CMake find_package(xalloc) + xalloc::xalloc         -> consumer_shared
#   2. CMake find_package(xalloc) + xalloc::xalloc-static  -> consumer_static
#   3. pkg-config --cflags --libs xalloc                   -> consumer_pc
# and runs the three programs (test/consumer/consumer.c).
#
# usage: run-install-test.sh BUILD_DIR WORK_DIR C_COMPILER GENERATOR CONFIG
#                            VERSION STATIC_OVERRIDE(ON|OFF) [MAKE_PROGRAM]
#        run-install-test.sh --installed PREFIX WORK_DIR VERSION
# --installed: xalloc is already installed under PREFIX (the Debian packages
# under /usr, CI stage "packages"); nothing is installed, and pkg-config must
# find xalloc.pc on its default path.
set -euo pipefail

installed=
if [ "${1:-}" = --installed ]; then
  if [ $# -ne 4 ]; then
    echo "usage: $0 --installed PREFIX WORK_DIR VERSION" >&2
    exit 2
  fi
  installed=$2
  work_dir=$3
  version=$4
  cc=${CC:-cc}
  generator="Unix Makefiles"
  config=Release
  static_override=ON
  make_program=
elif [ $# -lt 7 ]; then
  echo "usage: $0 BUILD_DIR WORK_DIR C_COMPILER GENERATOR CONFIG VERSION STATIC_OVERRIDE [MAKE_PROGRAM]" >&2
  echo "       $0 --installed PREFIX WORK_DIR VERSION" >&2
  exit 2
else
  build_dir=$1
  work_dir=$2
  cc=$3
  generator=$4
  config=${5:-Release}
  version=$6
  static_override=$7
  make_program=${8:-}
fi

here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
prefix=${installed:-$work_dir/prefix}
consumer_build=$work_dir/consumer-build

step() { printf '\n=== install_consumer: %s\n' "$*"; }
fail() { printf 'install_consumer: FAILED: %s\n' "$*" >&2; exit 1; }

# Keep the environment from pointing the programs at some other xalloc.
unset LD_LIBRARY_PATH LD_PRELOAD PKG_CONFIG_PATH XALLOC_SHOW_STATS || true

rm -rf "$work_dir"
mkdir -p "$work_dir"

# --- install -----------------------------------------------------------------
if [ -z "$installed" ]; then
  step "cmake --install $build_dir --prefix $prefix"
  cmake --install "$build_dir" --prefix "$prefix" --config "$config"

  step "installed files"
  (cd "$prefix" && find . \( -type f -o -type l \) | LC_ALL=C sort)
fi

# The library directory is whatever GNUInstallDirs chose (lib, lib64, lib/<triplet>).
libroots=()
for d in "$prefix"/lib "$prefix"/lib64; do
  [ -d "$d" ] && libroots+=("$d")
done
config_file=
if [ ${#libroots[@]} -ne 0 ]; then
  config_file=$(find "${libroots[@]}" -maxdepth 4 -name xallocConfig.cmake -path '*/cmake/xalloc/*' \
                | head -n 1)
fi
[ -n "$config_file" ] || fail "no <libdir>/cmake/xalloc/xallocConfig.cmake under $prefix"
libdir=$(cd "$(dirname "$config_file")/../.." && pwd)
echo "libdir: $libdir"

missing=()
[ -f "$prefix/include/xalloc.h" ] || missing+=("$prefix/include/xalloc.h")
for f in libxalloc.so libxalloc.a pkgconfig/xalloc.pc \
         cmake/xalloc/xallocConfig.cmake cmake/xalloc/xallocConfigVersion.cmake \
         cmake/xalloc/xallocTargets.cmake; do
  [ -e "$libdir/$f" ] || missing+=("$libdir/$f")
done
if [ ${#missing[@]} -ne 0 ]; then
  printf '  missing: %s\n' "${missing[@]}" >&2
  fail "the install is incomplete"
fi
cmp -s "$source_dir/include/xalloc.h" "$prefix/include/xalloc.h" \
  || fail "installed xalloc.h differs from include/xalloc.h"

override_arg=()
if [ "$static_override" = ON ]; then
  override_arg=(malloc-is-xalloc)
fi

# --- CMake consumer ------------------------------------------------------------
step "configure test/consumer against $prefix"
cmake_args=(-S "$here" -B "$consumer_build" -G "$generator"
            -DCMAKE_C_COMPILER="$cc"
            -DCMAKE_BUILD_TYPE="$config"
            -DXA_EXPECT_PREFIX="$prefix")
# An installed package must be found on CMake's default search path.
[ -n "$installed" ] || cmake_args+=(-DCMAKE_PREFIX_PATH="$prefix")
if [ -n "$make_program" ]; then
  cmake_args+=(-DCMAKE_MAKE_PROGRAM="$make_program")
fi
cmake "${cmake_args[@]}"

step "build test/consumer"
cmake --build "$consumer_build" --config "$config"

# Multi-config generators put the programs in a per-config subdirectory.
find_exe() {
  local name=$1 d
  for d in "$consumer_build" "$consumer_build/$config"; do
    if [ -x "$d/$name" ]; then
      echo "$d/$name"
      return 0
    fi
  done
  fail "$name was not built"
}
consumer_shared=$(find_exe consumer_shared)
consumer_static=$(find_exe consumer_static)

# No LD_LIBRARY_PATH: the build RPATH CMake gives the program must find the
# installed libxalloc.so, and the program checks that it is the one loaded.
step "run consumer_shared (xalloc::xalloc)"
"$consumer_shared" shared "$prefix"

step "run consumer_static (xalloc::xalloc-static, XALLOC_STATIC_OVERRIDE=$static_override)"
"$consumer_static" static "$prefix" ${override_arg[@]+"${override_arg[@]}"}

# --- pkg-config consumer ------------------------------------------------------------
step "pkg-config consumer"
if ! command -v pkg-config >/dev/null 2>&1; then
  # The CMake consumers passed; without pkg-config the xalloc.pc one cannot
  # run: a skip (exit 77, SKIP_RETURN_CODE) that says why. CI has pkg-config,
  # and the packages stage (--installed) requires it.
  [ -z "$installed" ] || fail "pkg-config not found (apt-get install pkg-config)"
  echo "SKIP: pkg-config is not installed, so xalloc.pc was not tested; the two CMake consumers passed"
  echo "      (Debian: apt-get install pkg-config)"
  exit 77
fi
if [ -z "$installed" ]; then
  export PKG_CONFIG_PATH="$libdir/pkgconfig"
fi

pc_version=$(pkg-config --modversion xalloc) || fail "pkg-config cannot read xalloc.pc"
[ "$pc_version" = "$version" ] \
  || fail "xalloc.pc says version '$pc_version', the project is $version"

pc_prefix=$(pkg-config --variable=prefix xalloc)
if [ "$(cd "$pc_prefix" 2>/dev/null && pwd -P)" != "$(cd "$prefix" && pwd -P)" ]; then
  echo "  xalloc.pc: prefix=$pc_prefix" >&2
  fail "xalloc.pc does not point at the prefix it was installed to ($prefix)"
fi

pc_flags=$(pkg-config --cflags --libs xalloc)
echo "pkg-config --cflags --libs xalloc: $pc_flags"
# shellcheck disable=SC2086 # pc_flags is a list of words
"$cc" -std=c11 -Wall -Wextra -Werror "$here/consumer.c" -o "$work_dir/consumer_pc" $pc_flags

if [ -z "$installed" ]; then
  step "run consumer_pc (pkg-config, LD_LIBRARY_PATH=$libdir)"
  LD_LIBRARY_PATH="$libdir" "$work_dir/consumer_pc" shared "$prefix"
else
  step "run consumer_pc (pkg-config; the dynamic linker finds $libdir itself)"
  "$work_dir/consumer_pc" shared "$prefix"
fi

printf '\ninstall_consumer: all three consumers passed\n'
