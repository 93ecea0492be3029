#!/usr/bin/env bash
# CTest test shared_exports (registered by test/exports.cmake).
#
# Checks the dynamic symbol table of libxalloc.so:
#   - every defined dynamic symbol is either an xa_ function declared with
#     XA_API in include/xalloc.h, a libc malloc-family name, or a C++
#     operator new/delete; in particular no xa__* / _xa_* internals leak;
#   - every XA_API function of include/xalloc.h is exported.
# Prints the offending names and exits 1 on failure.
#
# usage: check_exports.sh NM LIBRARY HEADER
set -euo pipefail

if [ $# -ne 3 ]; then
  echo "usage: $0 NM LIBRARY HEADER" >&2
  exit 2
fi
nm_tool=$1
library=$2
header=$3

# Names libxalloc.so may export besides the public API: what it overrides.
libc_names="malloc free calloc realloc reallocarray posix_memalign aligned_alloc
  memalign valloc pvalloc malloc_usable_size cfree free_sized free_aligned_sized
  malloc_trim mallinfo mallinfo2 malloc_stats mallopt malloc_info"
# Linker-generated symbols some toolchains put in .dynsym.
linker_names="_init _fini _edata _end __bss_start"

# --- the public API: "XA_API <type> xa_name(" in the header --------------------
mapfile -t api < <(sed -n \
  's/^[[:space:]]*XA_API[^(]*[^A-Za-z0-9_]\(xa_[A-Za-z0-9_]*\)[[:space:]]*(.*/\1/p' \
  "$header" | LC_ALL=C sort -u)
if [ ${#api[@]} -eq 0 ]; then
  echo "shared_exports: found no XA_API function in $header (parser out of date?)" >&2
  exit 1
fi

# --- the exports: "<address> <type> <name>[@[@]VERSION]" -------------------------
nm_out=$("$nm_tool" -D --defined-only "$library")
declare -A exported=()
declare -A is_api=() is_libc=() is_linker=()
for n in "${api[@]}"; do is_api[$n]=1; done
for n in $libc_names; do is_libc[$n]=1; done
for n in $linker_names; do is_linker[$n]=1; done

internal=() undeclared=() foreign=()
while read -r -a fields; do
  [ ${#fields[@]} -ge 2 ] || continue
  name=${fields[-1]}
  type=${fields[-2]}
  name=${name%%@*}
  [ -n "$name" ] || continue
  # Version-definition nodes of a version script show up as absolute symbols.
  if [ "$type" = A ] && [[ $name =~ ^[A-Z][A-Z0-9_.]*$ ]]; then
    continue
  fi
  if [ -n "${is_linker[$name]:-}" ]; then
    continue
  fi
  exported[$name]=1
  if [ -n "${is_api[$name]:-}" ] || [ -n "${is_libc[$name]:-}" ]; then
    continue
  fi
  case $name in
    _Znw* | _Zna* | _Zdl* | _Zda*) ;;                # C++ operator new/delete
    xa__* | _xa_* | __xa_*) internal+=("$type $name") ;;
    xa_* | XA_*) undeclared+=("$type $name") ;;
    *) foreign+=("$type $name") ;;
  esac
done <<<"$nm_out"

missing=()
for n in "${api[@]}"; do
  [ -n "${exported[$n]:-}" ] || missing+=("$n")
done

echo "shared_exports: $library"
echo "  ${#api[@]} XA_API functions in $(basename "$header"), ${#exported[@]} symbols exported"

status=0
report() {
  local title=$1
  shift
  [ $# -gt 0 ] || return 0
  status=1
  echo "FAIL: $title:"
  printf '    %s\n' "$@"
}
report "internal symbols exported (must be hidden)" ${internal[@]+"${internal[@]}"}
report "xa_ symbols exported that include/xalloc.h does not declare" ${undeclared[@]+"${undeclared[@]}"}
report "other symbols exported (neither API nor the malloc family)" ${foreign[@]+"${foreign[@]}"}
report "XA_API functions of include/xalloc.h not exported" ${missing[@]+"${missing[@]}"}

if [ $status -eq 0 ]; then
  echo "shared_exports: OK"
fi
exit $status
