#!/bin/sh
# CTest test win_stats_file (test/windows.cmake): on Windows, XALLOC_STATS_FILE
# with %p receives the exit statistics, whose header names pid and program.
#
# usage: win_stats_file.sh PROGRAM WORK_DIR [EMULATOR]
#   PROGRAM is run as `PROGRAM createthread return` (win_field).
set -u
prog=$1 work=$2 emu=${3:-}
rm -rf "$work"
mkdir -p "$work"
spec="$work/st-%p.txt"
[ -n "$emu" ] && spec="Z:$spec"  # wine: drive Z: is the Unix root
XALLOC_SHOW_STATS=1 XALLOC_STATS_FILE=$spec $emu "$prog" createthread return 2>"$work/stderr" \
  || { echo "FAIL: $prog exited with status $?"; exit 1; }
name=$(basename "$prog")
for f in "$work"/st-*.txt; do
  [ -f "$f" ] || break
  pid=${f##*/st-}
  pid=${pid%.txt}
  head=$(sed -n 1p "$f" | tr -d '\r')
  if [ "$head" = "xalloc statistics of pid $pid ($name)" ]; then
    echo "ok: $(basename "$f"): $head"
    if grep -q '^xalloc statistics' "$work/stderr"; then
      echo "FAIL: the table also reached stderr"
      exit 1
    fi
    exit 0
  fi
  echo "FAIL: $(basename "$f") starts with '$head'"
  exit 1
done
echo "FAIL: no statistics file in $work; stderr was:"
cat "$work/stderr"
exit 1
