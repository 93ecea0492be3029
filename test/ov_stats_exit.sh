#!/bin/sh
# CTest test ov_stats_exit (test/override.cmake): the statistics printed at
# exit name their process, on stderr and in XALLOC_STATS_FILE.
#
# usage: ov_stats_exit.sh LIBXALLOC PROBE WORKDIR
#   PROBE  ov_preload_probe, run under LD_PRELOAD=LIBXALLOC
# Checks: with XALLOC_SHOW_STATS=1 the table starts with
#   xalloc statistics of pid <pid> (<argv[0] base name> <args>)
# on stderr; with XALLOC_STATS_FILE=WORKDIR/st-%p.txt each of two probes
# started by one shell writes its own file named by its pid, whose header
# carries that pid, and nothing reaches stderr; "%%" is a '%'; an
# unwritable path falls back to stderr with a note.
set -u
if [ $# -ne 3 ]; then
  echo "usage: $0 LIBXALLOC PROBE WORKDIR" >&2
  exit 2
fi
lib=$1 probe=$2 work=$3
unset XALLOC_STATS_FILE XALLOC_VERBOSE
failures=0
pass() { echo "ok:   $*"; }
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
rm -rf "$work"
mkdir -p "$work/files"
name=$(basename "$probe")

# 1. stderr, one process
XALLOC_SHOW_STATS=1 LD_PRELOAD=$lib "$probe" >/dev/null 2>"$work/stderr"
head=$(grep '^xalloc statistics' "$work/stderr")
case $head in
  "xalloc statistics of pid "[0-9]*" ($name)") pass "stderr: $head" ;;
  *) fail "stderr header is '$head', want 'xalloc statistics of pid N ($name)'" ;;
esac

# 2. one file per process
XALLOC_SHOW_STATS=1 XALLOC_STATS_FILE="$work/files/st-%p.txt" LD_PRELOAD=$lib \
  sh -c '"$1" >/dev/null; "$1" >/dev/null' sh "$probe" 2>"$work/stderr2"
if grep -q '^xalloc statistics' "$work/stderr2"; then
  fail "a table reached stderr although XALLOC_STATS_FILE was set"
fi
count=0
probes=0
for f in "$work/files"/st-*.txt; do
  [ -f "$f" ] || continue
  count=$((count + 1))
  pid=${f##*/st-}
  pid=${pid%.txt}
  head=$(sed -n 1p "$f")
  case $head in
    "xalloc statistics of pid $pid ("*")") pass "$(basename "$f"): $head" ;;
    *) fail "$(basename "$f") starts with '$head', not the header of pid $pid" ;;
  esac
  [ "$head" = "xalloc statistics of pid $pid ($name)" ] && probes=$((probes + 1))
  [ "$(grep -c '^xalloc statistics' "$f")" = 1 ] || fail "$(basename "$f") holds more than one table"
done
[ "$probes" = 2 ] && pass "both probes wrote their own file" || fail "$probes probe files, want 2"
# (dash leaves through _exit, so the shell itself writes no table.)

# 3. %% and an unwritable path
XALLOC_SHOW_STATS=1 XALLOC_STATS_FILE="$work/pct%%-%p" LD_PRELOAD=$lib "$probe" >/dev/null 2>&1
ls "$work"/pct%-[0-9]* >/dev/null 2>&1 && pass "%% becomes %" || fail "no file $work/pct%-<pid>"
XALLOC_SHOW_STATS=1 XALLOC_STATS_FILE="$work/no/such/dir/st" LD_PRELOAD=$lib "$probe" \
  >/dev/null 2>"$work/stderr3"
if grep -q '^xalloc: cannot write XALLOC_STATS_FILE=' "$work/stderr3" \
   && grep -q '^xalloc statistics of pid' "$work/stderr3"; then
  pass "unwritable XALLOC_STATS_FILE: note and table on stderr"
else
  fail "unwritable XALLOC_STATS_FILE: stderr was: $(cat "$work/stderr3")"
fi

if [ "$failures" -ne 0 ]; then
  echo "ov_stats_exit: $failures check(s) FAILED"
  exit 1
fi
echo "ov_stats_exit: all checks passed"
