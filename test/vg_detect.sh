#!/bin/sh
# Valgrind's memcheck sees xalloc's blocks as it sees glibc's (docs/debugging.md).
# usage: vg_detect.sh VALGRIND STATIC_PROG PLAIN_PROG LIBXALLOC_SO
# Each misuse of vg_detect.c runs three ways -- glibc (plain program),
# xalloc linked statically, xalloc preloaded -- and each must give the
# report valgrind gives for glibc; the correct run must give none.
# By default valgrind puts its own malloc in place of any it finds, xalloc's
# included; --soname-synonyms=somalloc=nouserintercepts keeps xalloc's, and
# then only xalloc's client requests tell memcheck about blocks.
set -u
VG=$1 STATIC=$2 PLAIN=$3 SO=$4
KEEP=--soname-synonyms=somalloc=nouserintercepts
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail=0

# run WAY MODE PATTERN...: every pattern (grep -E) must be in valgrind's log.
run() {
  way=$1 mode=$2
  shift 2
  case $way in
    glibc) "$VG" --leak-check=full --log-file="$out" "$PLAIN" "$mode" >/dev/null ;;
    static) "$VG" $KEEP --leak-check=full --log-file="$out" "$STATIC" "$mode" >/dev/null ;;
    preload) LD_PRELOAD="$SO" "$VG" $KEEP --leak-check=full --log-file="$out" "$PLAIN" "$mode" >/dev/null ;;
  esac
  for pat in "$@"; do
    if ! grep -Eq "$pat" "$out"; then
      echo "FAIL: $way $mode: no line matching: $pat"
      sed 's/^/    /' "$out"
      fail=1
      return
    fi
  done
  echo "ok: $way $mode"
}

for way in glibc static preload; do
  run $way uaf 'Invalid read of size 1' 'Address 0x[0-9a-f]+ is 10 bytes inside a block of size 100 free.d' \
    'ERROR SUMMARY: 1 errors'
  run $way overflow 'Invalid read of size 1' 'Address 0x[0-9a-f]+ is 0 bytes after a block of size 100 alloc.d' \
    'ERROR SUMMARY: 1 errors'
  run $way leak 'definitely lost: 100 bytes in 1 blocks' '100 bytes in 1 blocks are definitely lost'
  run $way uninit 'Conditional jump or move depends on uninitialised value'
  run $way clean 'ERROR SUMMARY: 0 errors' 'All heap blocks were freed -- no leaks are possible'
done
# xalloc must really be the allocator (not valgrind's own malloc): its
# statistics count the blocks.
for way in static preload; do
  case $way in
    static) stats=$(XALLOC_SHOW_STATS=1 "$VG" $KEEP --log-file="$out" "$STATIC" clean 2>&1 >/dev/null) ;;
    preload) stats=$(LD_PRELOAD="$SO" XALLOC_SHOW_STATS=1 "$VG" $KEEP --log-file="$out" "$PLAIN" clean 2>&1 >/dev/null) ;;
  esac
  if echo "$stats" | grep -Eq "bytes allocated \(page-level sync\) +[1-9]"; then
    echo "ok: $way: xalloc is the allocator"
  else
    echo "FAIL: $way: xalloc printed no statistics: it was not the allocator"
    fail=1
  fi
done
exit $fail
