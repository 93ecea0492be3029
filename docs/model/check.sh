#!/bin/sh
# Check the ownership model (docs/model/xalloc.pml) with spin: every
# configuration must verify without an error, and every mutation (a -D
# MUT_* macro that breaks one rule) must make spin find a violation.
# README.md next to this file says what each one covers.
#
# usage: check.sh [-k DIR]   (-k: keep the generated verifiers in DIR)
# environment: SPIN (default spin), CC (default cc), PAN_MEMLIM (MiB,
# default 2048: a run that needs more fails rather than swap), XA_MODEL_LONG
# (1: also the long configurations, which need about 6 GiB and 5 minutes
# each; set PAN_MEMLIM=8000 with it).
# Exit status 0 when every run gave the expected answer, 1 otherwise, 2 when
# spin or the compiler is missing.
set -u

here=$(cd "$(dirname "$0")" && pwd)
model=$here/xalloc.pml
SPIN=${SPIN:-spin}
CC=${CC:-cc}
PAN_MEMLIM=${PAN_MEMLIM:-2048}
keep=
if [ "${1:-}" = "-k" ]; then
  keep=${2:?usage: check.sh [-k DIR]}
fi

command -v "$SPIN" >/dev/null 2>&1 || { echo "check.sh: $SPIN not found" >&2; exit 2; }
command -v "$CC" >/dev/null 2>&1 || { echo "check.sh: $CC not found" >&2; exit 2; }

if [ -n "$keep" ]; then
  mkdir -p "$keep" || exit 2
  work=$(cd "$keep" && pwd)
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/xalloc-model.XXXXXX") || exit 2
  trap 'rm -rf "$work"' EXIT INT TERM
fi

# Configurations: name and -D macros. Threads: Worker always; RUN_MAIN runs
# Main (frees, reclaims, EXIT_HOOK: the process-exit hook); HAND_M / HAND_F:
# the Worker may hand blocks to Main / to a Freer without thread data.
CONFIGS='
basic    -DRUN_MAIN -DHAND_M -DEXIT_HOOK
delete   -DRUN_MAIN -DHAND_M -DEXIT_HOOK -DDELETE
destroy  -DRUN_MAIN -DHAND_M -DEXIT_HOOK -DDESTROY
adopt    -DRUN_MAIN -DHAND_M -DEXIT_HOOK -DADOPT
purge    -DHAND_F -DPURGE_THREAD
hookrace -DRUN_MAIN -DHAND_F -DEXIT_HOOK -DEARLY_HOOK
'''
# Long configurations (XA_MODEL_LONG=1): too big for CI's time and memory.
# purge_reclaim: Main reclaims the Worker's segment while the Freer frees
# into it, with the purge thread and no exit hook (README.md, Findings).
LONG_CONFIGS='
purge_reclaim -DRUN_MAIN -DHAND_F -DPURGE_THREAD
'''
if [ "${XA_MODEL_LONG:-0}" = 1 ]; then
  CONFIGS="$CONFIGS$LONG_CONFIGS"
fi

# Mutations: name, the configuration it runs in, the macro.
MUTATIONS='
no_recheck        basic   -DMUT_NO_RECHECK
destroy_no_drain  destroy -DMUT_DESTROY_NO_DRAIN
destroy_adopted   adopt   -DMUT_DESTROY_ADOPTED
sweep_inbox       purge   -DMUT_SWEEP_INBOX
exit_no_drain     basic   -DMUT_EXIT_NO_DRAIN
pass_no_pooled    purge   -DMUT_PASS_NO_POOLED
collect_split     basic   -DMUT_COLLECT_SPLIT
touch_released    basic   -DMUT_TOUCH_AFTER_RELEASE
no_late_recheck   purge_reclaim -DMUT_NO_LATE_RECHECK
'

failures=0

# run NAME EXPECT(pass|violation) DEFINES... : build and run one verifier.
run() {
  name=$1
  expect=$2
  shift 2
  dir=$work/$name
  mkdir -p "$dir"
  if ! (cd "$dir" && "$SPIN" -a "$@" "$model" >spin.log 2>&1); then
    echo "FAIL  $name: spin -a $*"
    cat "$dir/spin.log"
    failures=$((failures + 1))
    return
  fi
  # SAFETY: assertions and invalid end states (no cycle search is needed);
  # COLLAPSE: the same states in about half the memory. -O0: gcc -O2 takes
  # about 50 s per generated verifier, -O0 4 s, and the searches are short.
  if ! (cd "$dir" && $CC -O0 -w -DSAFETY -DCOLLAPSE -DMEMLIM="$PAN_MEMLIM" -o pan pan.c >cc.log 2>&1); then
    echo "FAIL  $name: compiling pan"
    cat "$dir/cc.log"
    failures=$((failures + 1))
    return
  fi
  # -m: depth bound well above the deepest run (about 2,300 steps); -c1:
  # stop at the first error.
  (cd "$dir" && ./pan -m20000 -c1 >pan.out 2>&1)
  out=$dir/pan.out
  errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$out" | tail -n 1)
  states=$(sed -n 's/^ *\([0-9][0-9.e+]*\) states, stored.*/\1/p' "$out" | tail -n 1)
  depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "$out" | tail -n 1)
  mem=$(sed -n 's/^ *\([0-9.]*\).*total actual memory usage.*/\1/p' "$out" | tail -n 1)
  secs=$(sed -n 's/^pan: elapsed time \([0-9.e+-]*\) seconds.*/\1/p' "$out" | tail -n 1)
  what=$(grep -m 1 -E 'assertion violated|invalid end state|acceptance cycle' "$out" | sed 's/^pan:[0-9]*: *//')
  info="states ${states:-?}, depth ${depth:-?}, ${mem:-?} MB, ${secs:-?} s"
  if [ -z "$errors" ] || grep -qE 'max search depth too small|out of memory|pan: reached -DMEMLIM' "$out"; then
    echo "FAIL  $name: the search did not complete ($info)"
    tail -n 20 "$out"
    failures=$((failures + 1))
  elif [ "$expect" = pass ] && [ "$errors" -eq 0 ]; then
    echo "ok    $name: no errors; $info"
  elif [ "$expect" = violation ] && [ "$errors" -gt 0 ]; then
    echo "ok    $name: violation found as expected: $what ($info)"
  elif [ "$expect" = pass ]; then
    echo "FAIL  $name: $what ($info)"
    echo "      trail: cd $dir && $SPIN -t -k xalloc.pml.trail -p $* $model"
    failures=$((failures + 1))
  else
    echo "FAIL  $name: the mutation went unnoticed ($info)"
    failures=$((failures + 1))
  fi
}

"$SPIN" -V
echo "model: $model"
echo "configurations:"
while read -r name defs; do
  [ -n "$name" ] || continue
  # shellcheck disable=SC2086 # defs is a list of -D flags
  run "$name" pass $defs
done <<EOF
$CONFIGS
EOF
echo "mutations (each must be caught):"
while read -r name config mut; do
  [ -n "$name" ] || continue
  defs=$(printf '%s%s' "$CONFIGS" "$LONG_CONFIGS" | sed -n "s/^$config  *//p")
  # shellcheck disable=SC2086
  run "mut_$name" violation $defs "$mut"
done <<EOF
$MUTATIONS
EOF

if [ "$failures" -ne 0 ]; then
  echo "check.sh: $failures run(s) did not give the expected answer"
  exit 1
fi
echo "check.sh: every configuration verified, every mutation caught"
