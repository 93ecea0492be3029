#!/bin/sh
# CTest test docs_check (test/CMakeLists.txt): what the documentation names
# must exist in the code. POSIX sh, grep, sed and awk; no python.
#
# usage: docs_check.sh SOURCE_DIR
#
# Documentation: README.md, docs/*.md, bench/README.md, man/* (man pages only
# for the variable names). Checks, each generic (no list of names to keep up
# to date):
#   1. every XALLOC_NAME (environment variable, CMake option, macro) occurs in
#      the code: src/, include/, bin/, cmake/, CMakeLists.txt. For options
#      whose table builds the variable name from a short name, "name" as a
#      string or NAME as a word in src/ counts too;
#   2. every repository path written in a doc (bench/..., bin/..., docs/...,
#      test/..., src/..., include/..., cmake/..., man/...) exists;
#   3. every --option written after a script of the repository (bench/run,
#      bench/demo, bin/xalloc-run, xalloc-run, ...) on the same command occurs
#      in that script;
#   4. every CMake target after `--target` and every xalloc::TARGET is defined
#      by add_executable/add_library/add_custom_target (or is CMake's own).
# Prints each problem with file:line; exit status 1 if there is any.
set -u
src=${1:?usage: docs_check.sh SOURCE_DIR}
cd "$src" || exit 2

docs=$(ls README.md docs/*.md bench/README.md 2>/dev/null)
mans=$(ls man/* 2>/dev/null)
code="src include bin cmake CMakeLists.txt"
# Not find: build directories inside the tree hold thousands of *.cmake files.
cmake_files=$(ls CMakeLists.txt ./*/CMakeLists.txt ./*/*/CMakeLists.txt test/*.cmake cmake/*.cmake \
              2>/dev/null)
problems=0
checked=0
problem() {
  echo "docs_check: $*"
  problems=$((problems + 1))
}

# 1. XALLOC_ names ----------------------------------------------------------------
# shellcheck disable=SC2086 # lists of files
names=$(grep -ohE 'XALLOC_[A-Z0-9_]*[A-Z0-9]' $docs $mans | sort -u)
for name in $names; do
  checked=$((checked + 1))
  # shellcheck disable=SC2086
  grep -rqF -- "$name" $code && continue
  short=${name#XALLOC_}
  lower=$(printf '%s' "$short" | tr '[:upper:]' '[:lower:]')
  grep -rqF -- "\"$lower\"" src && continue
  grep -rqE -- "(^|[^A-Za-z0-9_])${short}([^A-Za-z0-9_]|$)" src && continue
  # shellcheck disable=SC2086
  where=$(grep -nF -- "$name" $docs $mans | head -n 3 | cut -d: -f1,2 | tr '\n' ' ')
  problem "$name is documented (${where% }) but occurs nowhere in $code"
done

# 2. paths --------------------------------------------------------------------------
# A path starts after a character that cannot be part of one, so that
# build/bench/xa-micro or $PREFIX/include/xalloc.h are not taken for
# bench/xa-micro or include/xalloc.h. Placeholders (<date>, *) are skipped.
# shellcheck disable=SC2086
grep -nE '(bench|bin|docs|test|src|include|cmake|man)/' $docs |
  while IFS= read -r hit; do
    file=${hit%%:*}
    rest=${hit#*:}
    line=${rest%%:*}
    text=${rest#*:}
    printf '%s\n' "$text" |
      grep -oE '(^|[^A-Za-z0-9_./$<>*-])(bench|bin|docs|test|src|include|cmake|man)/[A-Za-z0-9_./<>*-]*' |
      sed -E 's/^[^a-z]//; s/[.]+$//' |
      while IFS= read -r path; do
        case $path in *'<'* | *'>'* | *'*'*) continue ;; esac
        [ -e "$path" ] || echo "docs_check: $file:$line names $path, which does not exist"
      done
  done >"${TMPDIR:-/tmp}/docs_check.$$"
# 3. options of the repository's scripts -------------------------------------------------
# shellcheck disable=SC2086
awk '
  {
    text = $0
    while (match(text, /(bench\/[a-z][a-z-]*|bin\/xalloc-run|xalloc-run)/)) {
      script = substr(text, RSTART, RLENGTH)
      text = substr(text, RSTART + RLENGTH)
      if (substr(text, 1, 1) ~ /[a-z0-9._\/-]/) continue  # part of a longer word or path
      cmd = text
      cut = match(cmd, /&&|[|;`(]/)
      if (cut) cmd = substr(cmd, 1, RSTART - 1)
      while (match(cmd, /(^|[ \[])--[a-z][a-z0-9-]*/)) {
        opt = substr(cmd, RSTART, RLENGTH)
        sub(/^[ \[]/, "", opt)
        print script "\t" opt "\t" FILENAME ":" FNR
        cmd = substr(cmd, RSTART + RLENGTH)
      }
    }
  }' $docs | sort -u |
  while IFS='	' read -r script opt where; do
    case $script in xalloc-run) script=bin/xalloc-run ;; esac
    [ -f "$script" ] || continue  # a directory or a doc, not a script (checked as a path)
    grep -qF -- "$opt" "$script" || echo "docs_check: $where: $script $opt: no such option in $script"
  done >>"${TMPDIR:-/tmp}/docs_check.$$"
# 4. CMake targets ----------------------------------------------------------------------------
# shellcheck disable=SC2086
{
  grep -ohE -- '--target( +[A-Za-z0-9_.-]+)+' $docs | sed 's/^--target//' | tr ' ' '\n'
  grep -ohE 'xalloc::[A-Za-z0-9_-]+' $docs | sed 's/^xalloc:://'
} | grep -v '^$' | sort -u |
  while IFS= read -r target; do
    case $target in all | install | clean | test | package | package_source) continue ;; esac
    # shellcheck disable=SC2086
    grep -qE "add_(executable|library|custom_target)\\($target( |\\)|$)" $cmake_files \
      || echo "docs_check: the documentation names the CMake target $target, which no CMakeLists.txt defines"
  done >>"${TMPDIR:-/tmp}/docs_check.$$"

more=$(grep -c . "${TMPDIR:-/tmp}/docs_check.$$")
cat "${TMPDIR:-/tmp}/docs_check.$$"
rm -f "${TMPDIR:-/tmp}/docs_check.$$"
problems=$((problems + more))
if [ "$problems" -ne 0 ]; then
  echo "docs_check: $problems problem(s); fix the documentation or the code"
  exit 1
fi
echo "docs_check: $checked XALLOC_ names, the paths, script options and CMake targets of the docs all exist"
