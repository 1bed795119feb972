#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# scripts/fuzz.sh: build the libFuzzer targets in tests/fuzz/ with clang
# (-fsanitize=fuzzer,address,undefined) and run each for a bounded time.
# Any crash, sanitizer report, leak (malloc or lwIP heap/pools) or hang fails.
set -eu

usage() {
  cat <<USAGE
usage: scripts/fuzz.sh [--build-only] [--build-dir DIR] [--lwip DIR] [TARGET...]

Builds the fuzz targets (default: all of tests/fuzz/fuzz_*.c except the shared
fuzz_common.c) with clang into DIR (default: build-fuzz at the top of the tree)
and runs each for FUZZ_SECONDS seconds (environment; default 60), starting from
the committed seed corpus tests/fuzz/corpus/TARGET/ (new inputs go to
DIR/corpus/TARGET, never into the tree). Prints executions and coverage per
target; exits non-zero on the first crash, leak or hang (the reproducer is
left in DIR/artifacts/).

  --build-only     compile, do not run
  --build-dir DIR  where objects, binaries, corpora and artifacts go
  --lwip DIR       lwIP 2.1.3 source tree (default: lwip at the top; get it
                   with scripts/get-lwip.sh)
Environment: FUZZ_SECONDS (per target), CLANG (default clang), FUZZ_JOBS.
USAGE
}

top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build-fuzz"
lwip="$top/lwip"
build_only=0
targets=
while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --build-only) build_only=1 ;;
    --build-dir) [ $# -ge 2 ] || { echo "fuzz.sh: --build-dir needs a directory" >&2; exit 2; }; build=$2; shift ;;
    --lwip) [ $# -ge 2 ] || { echo "fuzz.sh: --lwip needs a directory" >&2; exit 2; }; lwip=$2; shift ;;
    -*) echo "fuzz.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
    *) targets="$targets $1" ;;
  esac
  shift
done

seconds=${FUZZ_SECONDS:-60}
case $seconds in
  ''|*[!0-9]*) echo "fuzz.sh: FUZZ_SECONDS must be a whole number of seconds, not '$seconds'" >&2; exit 2 ;;
esac
cc=${CLANG:-clang}
command -v "$cc" >/dev/null 2>&1 || { echo "fuzz.sh: $cc not found; apt-get install clang (14 or later) libclang-rt-14-dev, or set CLANG" >&2; exit 1; }
[ -f "$lwip/src/include/lwip/init.h" ] || { echo "fuzz.sh: no lwIP source in $lwip; run scripts/get-lwip.sh or pass --lwip DIR" >&2; exit 1; }

if [ -z "$targets" ]; then
  for f in "$top"/tests/fuzz/fuzz_*.c; do
    t=$(basename "$f" .c)
    [ "$t" = fuzz_common ] || targets="$targets $t"
  done
fi

san="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# -Werror only on the fuzz targets: a new clang warning in the library must not stop fuzzing.
cflags="-g -O1 $san -Wall -Wextra -Wshadow -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wundef -Wwrite-strings"
werror=-Werror
# Small rings and slot pools: cheap per-input device bring-up (millions of
# executions, not megabytes of memset), and ring wrap and exhaustion within reach.
sizes="-DLWVSOCK_QUEUE_SIZE=64 -DLWVSOCK_TX_SLOTS=4 -DLWVSOCK_TX_SMALL_SLOTS=32"
cppflags="$sizes -I$top/include -I$top/src -I$top/tests/lwipopts -I$top/port/unix/include -I$top/port/unix/sim -I$top/tests/fuzz -I$top/tests -I$lwip/src/include -I$lwip/src"

mkdir -p "$build/obj" "$build/artifacts"
# Objects built with other flags are rebuilt.
stamp="$build/obj/flags"
if [ "$(cat "$stamp" 2>/dev/null)" != "$cc $san $cppflags" ]; then
  rm -f "$build"/obj/*.o
  echo "$cc $san $cppflags" >"$stamp"
fi

# The library (core, sim, lwIP through its wrappers) once, as fuzzer-instrumented objects.
lib_srcs="src/vsock_hdr.c src/virtq.c src/devbase.c src/device.c src/rxbuf.c src/txbuf.c src/pcb.c src/strerror.c src/log.c
  src/virtio_pci.c port/unix/sim/sim.c port/unix/sim/sim_vring.c port/unix/sim/sim_iommu.c port/unix/sim/sim_bq.c port/unix/sim/sim_conn.c
  tests/fuzz/fuzz_common.c tests/fuzz/fuzzdev.c tests/fakepci.c"
lwip_srcs=$(cd "$top" && ls port/unix/lwip/*.c)
objs=
compile() { # src flags...
  src=$1; shift
  obj="$build/obj/$(echo "$src" | tr / _ | sed 's/\.c$/.o/')"
  if [ ! -f "$obj" ] || [ "$top/$src" -nt "$obj" ] || [ -n "$(find "$top/src" "$top/include" "$top/port/unix/include" "$top/tests/lwipopts" "$top/port/unix/lwipopts" "$top/port/unix/sim" "$top/tests/fuzz" -name '*.h' -newer "$obj" 2>/dev/null | head -1)" ]; then
    echo "  CC  $src"
    "$cc" "$@" $cppflags -c "$top/$src" -o "$obj"
  fi
  objs="$objs $obj"
}
for s in $lib_srcs; do
  case $s in
    tests/*) compile "$s" $cflags $werror ;;
    *) compile "$s" $cflags ;;
  esac
done
for s in $lwip_srcs; do
  # lwIP's own code: the fuzzer's sanitizers, not our warning set.
  compile "$s" -g -O1 $san -w
done
libobjs=$objs

for t in $targets; do
  [ -f "$top/tests/fuzz/$t.c" ] || { echo "fuzz.sh: no target tests/fuzz/$t.c" >&2; exit 2; }
  objs=
  compile "tests/fuzz/$t.c" $cflags $werror
  echo "  LD  $t"
  "$cc" $san $libobjs $objs -o "$build/$t"
done
[ $build_only -eq 0 ] || exit 0

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
status=0
for t in $targets; do
  mkdir -p "$build/corpus/$t"
  seeds="$top/tests/fuzz/corpus/$t"
  [ -d "$seeds" ] || seeds=
  log="$build/$t.log"
  echo "fuzz: $t for ${seconds}s"
  if "$build/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
       -artifact_prefix="$build/artifacts/$t-" "$build/corpus/$t" $seeds >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
    corp=$(grep -o 'corp: [0-9]*/[0-9a-zA-Z]*' "$log" | tail -1)
    echo "fuzz: $t ok: ${execs:-?} executions, ${cov:-cov: ?}, ${corp:-corp: ?}"
  else
    echo "fuzz: $t FAILED (log: $log; reproducer: $build/artifacts/$t-*)" >&2
    grep -E 'ERROR|SUMMARY|runtime error|fuzz:|Test unit written' "$log" | head -20 >&2
    status=1
  fi
done
exit $status
