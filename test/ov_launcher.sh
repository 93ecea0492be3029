#!/bin/sh
# CTest test ov_launcher (test/override.cmake): bin/xalloc-run.
#
# usage: ov_launcher.sh LAUNCHER LIBXALLOC PROBE WORKDIR
#   LAUNCHER  bin/xalloc-run of the source tree
#   LIBXALLOC the build's libxalloc.so
#   PROBE     ov_preload_probe (not linked to xalloc): prints "xalloc" and
#             exits 0 when its malloc is xalloc's, prints "system" and exits 1
#             otherwise; with an argument it also prints its LD_PRELOAD
#   WORKDIR   scratch directory (recreated)
#
# Checks: the library found through XALLOC_LIB (file or directory), in the
# installed layouts <prefix>/bin + <prefix>/lib, lib64, lib/<triplet>, also
# when the launcher is reached through a symlink; an existing LD_PRELOAD is
# kept after xalloc; arguments and exit status pass through; children inherit
# the preload; errors (no library, no program, no arguments) are reported
# with status 127 or 2.
set -u

if [ $# -ne 4 ]; then
  echo "usage: $0 LAUNCHER LIBXALLOC PROBE WORKDIR" >&2
  exit 2
fi
launcher=$1
lib=$2
probe=$3
work=$4

unset LD_PRELOAD XALLOC_LIB XALLOC_SHOW_STATS XALLOC_VERBOSE
failures=0
pass() { echo "ok:   $*"; }
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
# expect DESCRIPTION EXPECTED_STATUS EXPECTED_OUTPUT COMMAND...
expect() {
  desc=$1 want_status=$2 want_out=$3
  shift 3
  out=$("$@" 2>"$work/stderr")
  status=$?
  if [ "$status" = "$want_status" ] && [ "$out" = "$want_out" ]; then
    pass "$desc"
  else
    fail "$desc: status $status (want $want_status), output '$out' (want '$want_out'); stderr:"
    sed 's/^/      /' "$work/stderr"
  fi
}

rm -rf "$work"
mkdir -p "$work" || exit 2
work=$(cd "$work" && pwd -P)
libdir=$(cd "$(dirname "$lib")" && pwd -P)
lib=$libdir/$(basename "$lib")

# The control: without the launcher the probe runs on the system allocator.
expect "probe alone runs on the system allocator" 1 system "$probe"

# The test the issue asks for, and the probe that proves the preload.
expect "xalloc-run sh -c 'echo ok'" 0 ok env XALLOC_LIB="$lib" "$launcher" sh -c 'echo ok'
expect "xalloc-run PROBE (XALLOC_LIB=file)" 0 xalloc env XALLOC_LIB="$lib" "$launcher" "$probe"
expect "xalloc-run PROBE (XALLOC_LIB=directory)" 0 xalloc env XALLOC_LIB="$libdir" "$launcher" "$probe"
expect "xalloc-run -- PROBE" 0 xalloc env XALLOC_LIB="$lib" "$launcher" -- "$probe"
expect "children inherit the preload" 0 xalloc env XALLOC_LIB="$lib" "$launcher" sh -c "\"$probe\""
expect "--lib prints XALLOC_LIB" 0 "$lib" env XALLOC_LIB="$lib" "$launcher" --lib

# An existing LD_PRELOAD stays, after xalloc.
expect "existing LD_PRELOAD kept" 0 "xalloc
LD_PRELOAD=$lib:libm.so.6" env XALLOC_LIB="$lib" LD_PRELOAD=libm.so.6 "$launcher" "$probe" show

# Arguments and the exit status pass through unchanged.
expect "arguments preserved" 0 "<a b><><c*>" env XALLOC_LIB="$lib" "$launcher" printf '<%s>' 'a b' '' 'c*'
expect "exit status passed through" 7 "" env XALLOC_LIB="$lib" "$launcher" sh -c 'exit 7'

# Installed layouts: <prefix>/bin/xalloc-run finds <prefix>/<libdir>/libxalloc.so[.0].
for libsub in lib lib64 lib/x86_64-linux-gnu lib/aarch64-linux-gnu; do
  prefix=$work/prefix-$(echo "$libsub" | tr / _)
  mkdir -p "$prefix/bin" "$prefix/$libsub"
  cp "$launcher" "$prefix/bin/xalloc-run"
  cp "$lib" "$prefix/$libsub/libxalloc.so.0"
  expect "installed layout <prefix>/$libsub" 0 xalloc "$prefix/bin/xalloc-run" "$probe"
  expect "installed layout <prefix>/$libsub: --lib" 0 "$prefix/$libsub/libxalloc.so.0" "$prefix/bin/xalloc-run" --lib
done
# Only the development name libxalloc.so present.
prefix=$work/prefix-devname
mkdir -p "$prefix/bin" "$prefix/lib"
cp "$launcher" "$prefix/bin/xalloc-run"
cp "$lib" "$prefix/lib/libxalloc.so"
expect "installed layout with only libxalloc.so" 0 xalloc "$prefix/bin/xalloc-run" "$probe"
# Reached through a symlink (e.g. /usr/local/bin/xalloc-run -> /opt/xalloc/bin/xalloc-run).
mkdir -p "$work/links"
ln -s "$work/prefix-lib64/bin/xalloc-run" "$work/links/xalloc-run"
expect "through a symlink to an installed launcher" 0 xalloc "$work/links/xalloc-run" "$probe"
# XALLOC_LIB wins over the installed library.
expect "XALLOC_LIB overrides the installed library" 0 "$lib" env XALLOC_LIB="$lib" "$work/links/xalloc-run" --lib
# And through PATH.
expect "found through PATH" 0 xalloc env PATH="$work/prefix-lib/bin:$PATH" xalloc-run "$probe"

# Errors.
mkdir -p "$work/empty/bin"
cp "$launcher" "$work/empty/bin/xalloc-run"
expect "no library anywhere: 127" 127 "" "$work/empty/bin/xalloc-run" "$probe"
expect "XALLOC_LIB names no file: 127" 127 "" env XALLOC_LIB="$work/nonexistent.so" "$launcher" "$probe"
expect "program not found: 127" 127 "" env XALLOC_LIB="$lib" "$launcher" "$work/no-such-program"
expect "no arguments: 2" 2 "" env XALLOC_LIB="$lib" "$launcher"
expect "unknown option: 2" 2 "" env XALLOC_LIB="$lib" "$launcher" --frobnicate

if [ "$failures" -ne 0 ]; then
  echo "ov_launcher: $failures check(s) failed"
  exit 1
fi
echo "ov_launcher: all checks passed"
