#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# scripts/sanitize.sh: the test suites under AddressSanitizer + UndefinedBehavior-
# Sanitizer, and under valgrind, each in its own build directory. Any sanitizer
# report or valgrind error fails.
set -eu

usage() {
  cat <<USAGE
usage: scripts/sanitize.sh [--build-dir DIR] [--lwip DIR] [--unit] [--no-asan] [--no-valgrind]

1. ASan+UBSan: configures DIR/asan with --enable-sanitizers --enable-werror,
   builds, runs make check (halt_on_error: the first report fails the test).
2. valgrind: configures DIR/valgrind, builds, runs make check-valgrind (the
   libcheck programs in-process under valgrind --leak-check=full; an error
   fails the program).

  --build-dir DIR  parent of the two build directories (default: build-sanitize
                   at the top of the tree)
  --lwip DIR       lwIP 2.1.3 source (default: lwip at the top; scripts/get-lwip.sh)
  --unit           ASan run: only the unit test programs (skip the .sh tests:
                   examples, the QEMU interop run)
  --no-asan, --no-valgrind   skip one of the two
Environment: MAKEFLAGS as usual (e.g. -j2).
USAGE
}

top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build-sanitize"
lwip="$top/lwip"
unit=0
asan=1
vg=1
while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --build-dir) [ $# -ge 2 ] || { echo "sanitize.sh: --build-dir needs a directory" >&2; exit 2; }; build=$2; shift ;;
    --lwip) [ $# -ge 2 ] || { echo "sanitize.sh: --lwip needs a directory" >&2; exit 2; }; lwip=$2; shift ;;
    --unit) unit=1 ;;
    --no-asan) asan=0 ;;
    --no-valgrind) vg=0 ;;
    *) echo "sanitize.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -f "$lwip/src/include/lwip/init.h" ] || { echo "sanitize.sh: no lwIP source in $lwip; run scripts/get-lwip.sh or pass --lwip DIR" >&2; exit 1; }
[ -x "$top/configure" ] || { echo "sanitize.sh: $top/configure missing; run 'autoreconf -fi' in $top first" >&2; exit 1; }
jobs=
[ -n "${MAKEFLAGS:-}" ] || jobs=-j$(nproc 2>/dev/null || echo 2)

configure() { # dir args...
  d=$1; shift
  mkdir -p "$d"
  if [ ! -f "$d/Makefile" ]; then
    (cd "$d" && "$top/configure" --with-lwip="$lwip" "$@" >configure.log 2>&1) ||
      { echo "sanitize.sh: configure failed in $d (see $d/configure.log)" >&2; exit 1; }
  fi
  (cd "$d" && make $jobs >make.log 2>&1) || { echo "sanitize.sh: build failed in $d (see $d/make.log)" >&2; tail -20 "$d/make.log" >&2; exit 1; }
}

status=0
if [ $asan -eq 1 ]; then
  echo "sanitize: ASan+UBSan build in $build/asan"
  configure "$build/asan" --enable-sanitizers --enable-werror
  export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=1"
  export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
  if [ $unit -eq 1 ]; then
    # The unit programs: TESTS without the .sh scripts, read from the Makefile itself.
    printf 'print-tests:\n\t@for t in $(TESTS); do case $$t in *.sh) ;; *) echo $$t ;; esac; done\n' \
      >"$build/asan/print-tests.mk"
    progs=$(cd "$build/asan" && make -s -f Makefile -f print-tests.mk print-tests)
    set -- TESTS="$(echo $progs)"
  else
    set --
  fi
  if (cd "$build/asan" && make $jobs check "$@" >check.log 2>&1); then
    echo "sanitize: ASan+UBSan: $(grep -E '^# (TOTAL|PASS|FAIL|ERROR)' "$build/asan/check.log" | tr '\n' ' ')"
  else
    echo "sanitize: ASan+UBSan: FAILED (see $build/asan/check.log and $build/asan/tests/*.log)" >&2
    grep -E '^(FAIL|ERROR)|^# ' "$build/asan/check.log" >&2 || :
    status=1
  fi
fi
if [ $vg -eq 1 ]; then
  command -v valgrind >/dev/null 2>&1 || { echo "sanitize.sh: valgrind not found; apt-get install valgrind, or pass --no-valgrind" >&2; exit 1; }
  echo "sanitize: valgrind build in $build/valgrind"
  configure "$build/valgrind" --enable-werror
  if (cd "$build/valgrind" && make $jobs check-valgrind >check.log 2>&1); then
    echo "sanitize: valgrind: $(grep -E '^# (TOTAL|PASS|FAIL|ERROR)' "$build/valgrind/check.log" | tr '\n' ' ')"
  else
    echo "sanitize: valgrind: FAILED (see $build/valgrind/check.log and $build/valgrind/tests/*.log)" >&2
    grep -E '^(FAIL|ERROR)|^# ' "$build/valgrind/check.log" >&2 || :
    status=1
  fi
fi
exit $status
