#!/bin/sh
# CTest test win_handlink (test/windows.cmake): compile test/win_handlink.c
# the way a user links xalloc by hand, with exactly
#   CC prog.c libxalloc.a
# (no -D, no -I: the header and the archive are copied next to prog.c), then
# run the program, under EMULATOR (wine) when cross-compiling.
#
# usage: win_handlink.sh CC LIBXALLOC_A INCLUDE_DIR WORK_DIR [EMULATOR]
set -eu
cc=$1 lib=$2 inc=$3 work=$4 emu=${5:-}
here=$(cd "$(dirname "$0")" && pwd)

rm -rf "$work"
mkdir -p "$work"
cp "$here/win_handlink.c" "$work/prog.c"
cp "$inc/xalloc.h" "$lib" "$work/"
cd "$work"
echo "+ $cc prog.c libxalloc.a"
"$cc" prog.c libxalloc.a
[ -f a.exe ] || { echo "win_handlink: the compiler made no a.exe" >&2; exit 1; }
if [ -n "$emu" ]; then
  echo "+ $emu a.exe"
  exec "$emu" ./a.exe
fi
exec ./a.exe
