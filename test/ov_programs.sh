#!/usr/bin/env bash
# Real programs on xalloc through LD_PRELOAD, compared with the same run on the
# system allocator. One CTest test per program (test/override.cmake):
#   ov_prog_python3   CPython's own regression tests (threads included)
#   ov_prog_sqlite3   an in-memory database of 200,000 rows (programs/sqlite_workload.sql)
#   ov_prog_git       init, add, commit (20 commits), log, diff, blame, gc, fsck
#   ov_prog_gcc       gcc -O2 on a C file and a generated one; object code and program output
#   ov_prog_perl      text processing (programs/perl_text.pl)
#   ov_prog_pipeline  sort | uniq -c | sort -n, tr, awk, sed, join, gzip on a generated text
#
# usage: ov_programs.sh PROGRAM LIBXALLOC [WORKDIR]
#
# The workload runs twice in the same directory (WORKDIR/run, recreated):
# first without LD_PRELOAD, then with LD_PRELOAD=LIBXALLOC, so every process
# it starts (cc1, as, ld, git's helpers, the pipeline's commands) runs on
# xalloc. Both runs must exit 0, and their exit status, stdout and stderr
# (after per-program normalisation of timings) must be identical. Then a probe
# proves that the preload really took effect in the program, by asking
# xalloc for its exit statistics (XALLOC_SHOW_STATS=1).
#
# Exit status: 0 pass, 1 fail, 2 usage error, 77 skip (program not installed).
set -u

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
  echo "usage: $0 PROGRAM LIBXALLOC [WORKDIR]" >&2
  exit 2
fi
prog=$1
lib=$2
work=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
inputs=$here/programs

say() { printf 'ov_prog_%s: %s\n' "$prog" "$*"; }
skip() {
  say "SKIP: $*"
  exit 77
}
die() {
  say "FAIL: $*"
  exit 1
}
need() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null 2>&1 || skip "'$c' is not installed"
  done
}

case $lib in
  /*) ;;
  *) lib=$(pwd)/$lib ;;
esac
[ -f "$lib" ] || {
  echo "ov_programs.sh: no library at $lib" >&2
  exit 2
}
if [ -z "$work" ]; then
  work=$(mktemp -d "${TMPDIR:-/tmp}/ov_prog_$prog.XXXXXX") || exit 2
  trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work" || exit 2
work=$(cd "$work" && pwd)

# One environment for both runs: nothing that points at another allocator or
# changes xalloc's output, a fixed locale, time zone and home.
unset LD_PRELOAD LD_LIBRARY_PATH GLIBC_TUNABLES MALLOC_CHECK_ MALLOC_PERTURB_ MALLOC_ARENA_MAX \
  XALLOC_SHOW_STATS XALLOC_VERBOSE PYTHONSTARTUP PYTHONPATH PERL5LIB PERL5OPT GIT_DIR \
  GIT_WORK_TREE GCC_EXEC_PREFIX COMPILER_PATH LIBRARY_PATH CPATH C_INCLUDE_PATH
export LC_ALL=C LANG=C TZ=UTC
export HOME=$work/home
mkdir -p "$HOME"

# --- workloads: run in the current directory (WORKDIR/run), inputs in $work/input --------
# For each PROGRAM: setup_PROGRAM (checks the program is installed, prepares
# inputs), wl_PROGRAM (the workload), optionally norm_PROGRAM (a filter for
# stdout and stderr), and probe_PROGRAM with probe_PROGRAM_min (see below).

# stats_procs CMD...: runs CMD with XALLOC_SHOW_STATS=1 and prints the number
# of its processes that printed xalloc's exit statistics (on stderr).
stats_procs() {
  local err=$work/probe.stats
  XALLOC_SHOW_STATS=1 "$@" >/dev/null 2>"$err" || echo "probe command failed: $*" >&2
  cat "$err" >&2
  grep -c '^xalloc statistics' "$err"
}

python_modules=(test_dict test_list test_set test_json test_re test_unicode test_bytes
  test_weakref test_gc test_thread test_threading)
python_bin=

setup_python3() {
  local cand
  # Debian's interpreter first: libpython3.X-testsuite installs its tests.
  for cand in /usr/bin/python3 "$(command -v python3 2>/dev/null)"; do
    [ -n "$cand" ] && [ -x "$cand" ] || continue
    if "$cand" -B -s -c 'import test.support, test.test_dict, test.test_threading' >/dev/null 2>&1; then
      python_bin=$cand
      break
    fi
  done
  if [ -z "$python_bin" ]; then
    command -v python3 >/dev/null 2>&1 || skip "'python3' is not installed"
    skip "python3's regression tests are not installed (Debian: libpython3.X-testsuite)"
  fi
  # A real binary, not a wrapper script (pyenv shims and the like).
  python_bin=$("$python_bin" -B -s -c 'import sys; print(sys.executable)')
  say "interpreter $python_bin ($("$python_bin" -V 2>&1)), modules: ${python_modules[*]}"
}
wl_python3() {
  PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1 \
    "$python_bin" -B -s -X faulthandler "$inputs/py_unittest.py" "${python_modules[@]}"
}
# unittest prints the elapsed time: "Ran 1234 tests in 12.345s".
norm_python3() { sed -E 's/^(Ran [0-9]+ tests?) in [0-9.]+s$/\1/'; }
probe_python3() { stats_procs "$python_bin" -B -s -c 'import threading; t = threading.Thread(target=lambda: [bytes(100000) for _ in range(10)]); t.start(); t.join()'; }

setup_sqlite3() { need sqlite3; }
wl_sqlite3() { sqlite3 :memory: <"$inputs/sqlite_workload.sql"; }
probe_sqlite3() { stats_procs sqlite3 :memory: 'select 1;'; }

setup_git() { need git; }
wl_git() (
  set -e
  export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
  export GIT_AUTHOR_NAME='A U Thor' GIT_AUTHOR_EMAIL=author@example.com
  export GIT_COMMITTER_NAME='C O Mitter' GIT_COMMITTER_EMAIL=committer@example.com
  git init -q -b main repo
  cd repo
  git config core.autocrlf false
  git config gc.auto 0
  git config pack.threads 1 # delta search with one thread: deterministic packs
  local c i f
  mkdir dir0 dir1 dir2 dir3
  for c in $(seq 1 20); do
    GIT_AUTHOR_DATE=$(printf '2020-01-%02d 12:00:00 +0000' "$c")
    GIT_COMMITTER_DATE=$(printf '2020-02-%02d 08:30:00 +0000' "$c")
    export GIT_AUTHOR_DATE GIT_COMMITTER_DATE
    for i in $(seq 1 25); do
      f=dir$((i % 4))/file$i.txt
      # Each commit appends to some files and rewrites others.
      if [ $(((i + c) % 3)) -eq 0 ]; then
        seq "$c" "$((c * i % 97 + 50))" | sed "s/^/line $i $c /" >"$f"
      else
        printf 'commit %d file %d %s\n' "$c" "$i" "$(printf '%*s' $((i * c % 60)) '' | tr ' ' x)" >>"$f"
      fi
    done
    [ $((c % 5)) -ne 0 ] || git rm -q "dir$((c % 4))/file$c.txt" 2>/dev/null || true
    git add -A
    git commit -q -m "commit $c" -m "Changes files $((c % 25)) and more."
    [ $((c % 7)) -ne 0 ] || git tag -a "v$c" -m "version $c"
  done
  git branch side HEAD~5
  git log --format='%H %an <%ae> %ad %cn %cd%n  %s%n%b' --date=iso-strict --stat
  git log --graph --oneline --decorate --all
  git diff --stat HEAD~10 HEAD
  git diff HEAD~3 HEAD -- dir1 | head -200
  git blame -s dir2/file2.txt | head -40
  git grep -c 'line 7' HEAD -- dir3
  git rev-list --objects --all | sort
  git gc -q --prune=now
  git count-objects -v | grep -E '^(count|in-pack|packs|prune-packable|garbage):'
  git fsck --full --no-progress --strict
  git verify-pack -s .git/objects/pack/*.idx
  git rev-parse HEAD side v7 v14
)
probe_git() { stats_procs git --version; }

setup_gcc() {
  need gcc
  # The same input bytes for both runs: a generated translation unit with
  # many functions (inlining, register allocation and scheduling on a lot of
  # code) next to the handwritten one.
  mkdir -p "$work/input"
  awk 'BEGIN {
    print "#include <stdint.h>"
    for (f = 0; f < 400; f++) {
      printf "static uint32_t f%d(uint32_t x, const uint32_t* t, int n) {\n", f
      printf "  uint32_t a = x * %du + %d;\n", 2 * f + 3, f
      printf "  for (int i = 0; i < n; i++) {\n"
      printf "    a ^= t[i] + (a << %d) + (a >> %d);\n", 1 + f % 13, 1 + f % 7
      printf "    if ((a & %d) == %d) a = a * 2654435761u + t[(i + %d) %% n];\n", f % 31 + 1, f % 3, f
      printf "    else a += %d;\n", f * 7
      printf "  }\n"
      if (f > 0) printf "  return a ^ f%d(a & 0xffu, t, n > 1 ? n - 1 : 1);\n", f - 1
      else printf "  return a;\n"
      printf "}\n"
    }
    print "uint32_t gen_entry(uint32_t x, const uint32_t* t, int n) {"
    print "  uint32_t s = 0;"
    for (f = 399; f >= 0; f -= 37) printf "  s += f%d(x + %d, t, n);\n", f, f
    print "  return s;"
    print "}"
  }' >"$work/input/gen.c"
}
wl_gcc() (
  set -e
  cp "$inputs/gcc_input.c" main.c
  cp "$work/input/gen.c" gen.c
  gcc -O2 -pipe -c main.c -o main.o
  gcc -O2 -pipe -c gen.c -o gen.o
  gcc -O2 -g -pipe -c gen.c -o gen-g.o
  gcc -O2 -pipe -S main.c -o main.s
  # Object code: the files must be byte-identical to the system-allocator run.
  sha256sum main.o gen.o gen-g.o main.s
  size main.o gen.o
  gcc -O2 -pipe main.c gen.c -o prog
  ./prog
  # Link-time optimisation: lto1 and the linker plugin allocate a lot.
  gcc -O2 -flto=1 -pipe main.c gen.c -o prog-lto
  ./prog-lto
)
probe_gcc() {
  # The driver, cc1 and as: three processes on xalloc.
  printf 'int main(void) { return 0; }\n' >"$work/probe.c"
  stats_procs gcc -O2 -c "$work/probe.c" -o "$work/probe.o"
}
probe_gcc_min=3

text_input() {
  mkdir -p "$work/input"
  awk -v lines="$1" -f "$inputs/gen_text.awk" >"$work/input/text.txt" ||
    die "cannot generate the input text"
}

setup_perl() {
  need perl
  text_input 100000
}
wl_perl() { perl "$inputs/perl_text.pl" <"$work/input/text.txt"; }
probe_perl() { stats_procs perl -e 'my %h = map { $_ => [$_] } 1 .. 1000; exit 0'; }

setup_pipeline() {
  need sort uniq tr awk sed join gzip cut head wc comm
  text_input 200000
}
wl_pipeline() (
  set -e # no pipefail: head may end a pipeline early
  t=$work/input/text.txt
  echo "== word frequencies"
  tr -cs 'A-Za-z' '\n' <"$t" | tr 'A-Z' 'a-z' | sort | uniq -c | sort -k1,1nr -k2,2 | head -40
  echo "== line lengths"
  awk '{ print length($0) }' "$t" | sort -n | uniq -c | sort -n -k2,2 | tail -20
  echo "== numbers"
  grep -o '[0-9][0-9]* units' "$t" | cut -d' ' -f1 | sort -n | uniq | awk '{ s += $1; n++ } END { print n, s }'
  echo "== rewritten"
  sed -E 's/([a-z]+)o/\1O/g; s/<([0-9]+)@/<id\1@/' "$t" | sort -u | wc -l
  echo "== join"
  tr -cs 'A-Za-z' '\n' <"$t" | sort -u >words.txt
  awk 'NR % 3 == 0 { print $1, NR }' "$t" | sort -k1,1 >first.txt
  join words.txt first.txt | wc -l
  comm -12 words.txt <(cut -d' ' -f1 first.txt | sort -u) | wc -l
  echo "== gzip round trip"
  gzip -9 <"$t" | gzip -dc | cmp - "$t" && echo identical
  gzip -6 <"$t" | wc -c
  echo "== sort variants"
  sort -r "$t" | head -3
  sort -k3,3 -k1,1 -s "$t" | tail -3
  sort -u -f "$t" | wc -l
  sort --parallel=2 -S 1M "$t" | md5sum
)
# coreutils and mawk close stderr at exit, before xalloc's statistics could be
# printed: here each command looks for libxalloc in its own memory map instead.
probe_pipeline() {
  local n=0
  sort /proc/self/maps | grep -q libxalloc && n=$((n + 1))
  awk '/libxalloc/ { f = 1 } END { exit !f }' /proc/self/maps && n=$((n + 1))
  sed -n '/libxalloc/p' /proc/self/maps | grep -q . && n=$((n + 1))
  gzip -c /proc/self/maps | gzip -dc | grep -q libxalloc && n=$((n + 1))
  sh -c 'grep -q libxalloc /proc/$$/maps' && n=$((n + 1))
  echo "$n"
}
probe_pipeline_min=5

# --- driver ---------------------------------------------------------------------------

case $prog in
  python3 | sqlite3 | git | gcc | perl | pipeline) ;;
  *)
    echo "ov_programs.sh: unknown program '$prog' (python3 sqlite3 git gcc perl pipeline)" >&2
    exit 2
    ;;
esac

"setup_$prog"

# run_mode MODE: the workload in a fresh $work/run, LD_PRELOAD set for MODE xalloc.
run_mode() {
  local mode=$1 start=$SECONDS status
  rm -rf "$work/run"
  mkdir -p "$work/run"
  (
    cd "$work/run" || exit 2
    if [ "$mode" = xalloc ]; then
      export LD_PRELOAD=$lib
    fi
    "wl_$prog"
  ) >"$work/$mode.out" 2>"$work/$mode.err"
  status=$?
  echo "$status" >"$work/$mode.status"
  say "$mode: exit status $status, $(wc -l <"$work/$mode.out") lines of stdout, $(wc -l <"$work/$mode.err") lines of stderr, $((SECONDS - start)) s"
  if [ "$status" -gt 128 ]; then
    say "$mode: killed by signal $((status - 128))"
  fi
}

normalise() { # MODE STREAM
  if declare -F "norm_$prog" >/dev/null; then
    "norm_$prog" <"$work/$1.$2"
  else
    cat "$work/$1.$2"
  fi >"$work/$1.$2.norm"
}

run_mode system
run_mode xalloc

failed=0
sys_status=$(cat "$work/system.status")
xa_status=$(cat "$work/xalloc.status")
if [ "$sys_status" != 0 ]; then
  say "FAIL: the workload fails on the system allocator (status $sys_status); the comparison proves nothing. Its stderr:"
  tail -n 30 "$work/system.err"
  failed=1
fi
if [ "$xa_status" != "$sys_status" ]; then
  say "FAIL: exit status $xa_status on xalloc, $sys_status on the system allocator. stderr on xalloc (last 30 lines):"
  tail -n 30 "$work/xalloc.err"
  failed=1
fi
for stream in out err; do
  normalise system "$stream"
  normalise xalloc "$stream"
  if ! cmp -s "$work/system.$stream.norm" "$work/xalloc.$stream.norm"; then
    say "FAIL: std$stream differs (--- system allocator, +++ xalloc; first 80 lines of the diff):"
    diff -u "$work/system.$stream.norm" "$work/xalloc.$stream.norm" | head -n 80
    failed=1
  fi
done

# The preload took effect: probe_PROGRAM (run with LD_PRELOAD set) prints how
# many of its processes ran on xalloc.
probe_count=$(
  cd "$work" || exit 2
  export LD_PRELOAD=$lib
  "probe_$prog" 2>"$work/probe.err"
)
min_var=probe_${prog}_min
min=${!min_var:-1}
if ! [ "$probe_count" -ge "$min" ] 2>/dev/null; then
  say "FAIL: preload probe: xalloc ran in '$probe_count' process(es), expected >= $min. Its stderr:"
  head -n 30 "$work/probe.err"
  failed=1
else
  say "preload probe: xalloc ran in $probe_count process(es)"
fi

if [ "$failed" -ne 0 ]; then
  say "FAILED (outputs kept in $work if WORKDIR was given)"
  exit 1
fi
say "OK: identical exit status, stdout and stderr on the system allocator and on xalloc"
exit 0
