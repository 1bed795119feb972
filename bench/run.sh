#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# bench/run.sh: run the lwvsock benchmarks and print ONE table.
#
# Each row: our figure, a baseline measured in the same run, the ratio, and the
# target with its verdict (reported, never asserted: the exit status says only
# whether the benchmarks ran). `make bench` builds the programs and runs this.
#
# Rows come from the programs (bench/bench_*.c, raw format in bench_util.h) and
# from this script: instructions per packet (callgrind) and .text size (-Os).
set -u

usage() {
  cat <<'EOF'
usage: bench/run.sh [--quick] [--reps N] [--builddir DIR] [--srcdir DIR]
                    [--lwip DIR] [--cc CC] [--cflags FLAGS] [--raw]
                    [--text-only] [--require-m4]
       bench/run.sh --format FILE
Runs the lwvsock benchmarks and prints one table (figures, baselines, ratios,
targets). Normally run through `make bench` (BENCH_FLAGS="--quick" for a smoke run).
  --quick        small counts: checks that everything runs, figures are rough
  --reps N       repetitions of each timed measurement, best taken (default 5)
  --builddir D   where the bench programs were built (default: .)
  --srcdir D     the lwvsock source tree (default: this script's ..)
  --lwip D       the lwIP source tree (default: SRCDIR/lwip)
  --cc CC        compiler for the .text rows (default: cc)
  --cflags F     the CFLAGS the programs were built with (shown in the header)
  --raw          print the raw rows instead of the table
  --text-only    only the .text rows (needs no built programs; CI runs it)
  --require-m4   fail when the Cortex-M4 row cannot be measured
  --format FILE  run nothing: print the table of the raw rows in FILE
                 (`make bench-qemu` uses it for the rows from the test VM)
Needs: valgrind for the instruction rows, size(1) for .text, arm-none-eabi-gcc
for the Cortex-M4 row (each row says "skipped" with the reason when missing).
EOF
}

die() { echo "bench/run.sh: $*" >&2; exit 1; }

quick=
reps=5
builddir=.
srcdir=$(cd "$(dirname "$0")/.." && pwd)
lwip=
cc=cc
cflags=
raw=
format=
text_only=
require_m4=
while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --quick) quick=--quick ;;
    --raw) raw=1 ;;
    --text-only) text_only=1 ;;
    --require-m4) require_m4=1 ;;
    --reps|--builddir|--srcdir|--lwip|--cc|--cflags|--format)
      [ $# -ge 2 ] || die "$1 needs a value (see --help)"
      case $1 in
        --reps) reps=$2 ;;
        --builddir) builddir=$2 ;;
        --srcdir) srcdir=$2 ;;
        --lwip) lwip=$2 ;;
        --cc) cc=$2 ;;
        --cflags) cflags=$2 ;;
        --format) format=$2 ;;
      esac
      shift ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
  shift
done
# print_table FILE: the table of the raw rows in FILE (ratios and verdicts are made here).
print_table() {
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
  echo
  echo "lwvsock benchmarks  $(date -u '+%Y-%m-%d %H:%M UTC')  ${cpu:-unknown CPU}, $(nproc 2>/dev/null || echo '?') CPUs"
  echo "built with: ${cflags:-(CFLAGS not given)}${quick:+   [--quick: rough figures]}"
  echo
  awk -F '\t' '
function num(v, u) {
  if (v == "-") return "-"
  if (v >= 100) return sprintf("%.0f %s", v, u)
  return sprintf("%.2f %s", v, u)
}
$1 == "row" {
  n++
  m[n] = $2; o[n] = num($3, $4)
  b[n] = ($5 == "-") ? "-" : $5 ": " num($6, $4)
  r[n] = ($5 == "-" || $6 == 0) ? "-" : sprintf("%.2fx", $3 / $6)
  if ($7 == "min") { t[n] = sprintf(">= %gx", $8); v[n] = ($6 > 0 && $3 / $6 >= $8) ? "met" : "MISSED" }
  else if ($7 == "max") { t[n] = "<= " num($8, $4); v[n] = ($3 <= $8) ? "met" : "MISSED" }
  else { t[n] = "-"; v[n] = "" }
  next
}
$1 == "skip" { n++; m[n] = $2; o[n] = $3; b[n] = ""; r[n] = ""; t[n] = ""; v[n] = ""; sk[n] = 1; next }
$1 == "note" { notes[++nn] = $2; next }
END {
  w1 = length("metric"); w2 = length("ours"); w3 = length("baseline"); w4 = length("ratio"); w5 = length("target")
  for (i = 1; i <= n; i++) {
    if (length(m[i]) > w1) w1 = length(m[i])
    if (!sk[i]) {
      if (length(o[i]) > w2) w2 = length(o[i])
      if (length(b[i]) > w3) w3 = length(b[i])
      if (length(r[i]) > w4) w4 = length(r[i])
      if (length(t[i]) > w5) w5 = length(t[i])
    }
  }
  fmt = "%-" w1 "s  %" w2 "s  %-" w3 "s  %" w4 "s  %-" w5 "s  %s\n"
  printf fmt, "metric", "ours", "baseline", "ratio", "target", "verdict"
  line = sprintf(fmt, "", "", "", "", "", ""); gsub(/./, "-", line); print line
  for (i = 1; i <= n; i++) {
    if (sk[i]) printf "%-" w1 "s  %s\n", m[i], o[i]
    else printf fmt, m[i], o[i], b[i], r[i], t[i], v[i]
  }
  if (nn) print ""
  for (i = 1; i <= nn; i++) print "* " notes[i]
}' "$1"
}
if [ -n "$format" ]; then
  [ -r "$format" ] || die "--format: cannot read '$format'"
  print_table "$format"
  exit 0
fi
case $reps in ''|*[!0-9]*) die "--reps takes a number, got '$reps'" ;; esac
[ -n "$lwip" ] || lwip=$srcdir/lwip
[ -f "$lwip/src/core/tcp.c" ] || die "no lwIP source in '$lwip' (scripts/get-lwip.sh fetches it; pass --lwip DIR)"
[ -n "$text_only" ] || for p in bench_bulk bench_rr bench_mem bench_netif; do
  [ -x "$builddir/bench/$p" ] || die "$builddir/bench/$p is not built: run 'make bench' (or pass --builddir)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lwvsock-bench.XXXXXX") || die "cannot create a temporary directory"
trap 'rm -rf "$tmp"' EXIT INT TERM
rows=$tmp/rows
: >"$rows"
failed=0

# Run a program, appending its rows; a failing program leaves a skip row.
run() {
  name=$1; shift
  echo "running $name ..." >&2
  if ! "$@" >"$tmp/out" 2>"$tmp/err"; then
    cat "$tmp/err" >&2
    printf 'skip\t%s\tfailed: %s\n' "$name" "$(head -n 1 "$tmp/err")" >>"$rows"
    failed=1
  fi
  cat "$tmp/out" >>"$rows"
}

row() { # metric ours unit base-name base goal goal-value
  printf 'row\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$rows"
}
skip() { printf 'skip\t%s\t%s\n' "$1" "$2" >>"$rows"; }
note() { printf 'note\t%s\n' "$1" >>"$rows"; }

b=$builddir/bench
if [ -z "$text_only" ]; then
run "bulk throughput" "$b/bench_bulk" --reps "$reps" $quick
run "round trips, connections" "$b/bench_rr" --reps "$reps" $quick
run "memory" "$b/bench_mem" $quick
run "TCP over the vsock netif" "$b/bench_netif" --reps "$reps" $quick

# ---- instructions per packet: callgrind, N and 2N bytes, difference / packets ----
# The difference cancels start-up and device set-up: what is left is the cost of
# moving N bytes, both ends included (guest driver + sim host; or both TCP stacks).
cg_mib=4
[ -n "$quick" ] && cg_mib=1
# glibc copies large blocks with `rep movsb`, which callgrind counts once per
# byte; the tunables make it use its vector loop, counted as the CPU runs it.
cg_ir() { # case size bytes -> total Ir
  GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold=4294967295:glibc.cpu.x86_rep_stosb_threshold=4294967295 \
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" \
    "$b/bench_bulk" --case "$1" --size "$2" --bytes "$3" >/dev/null 2>"$tmp/cg.err" ||
    { cat "$tmp/cg.err" >&2; return 1; }
  sed -n 's/^summary: *//p' "$tmp/cg.out" | head -n 1
}
cg_per_pkt() { # case size -> instructions per write of SIZE bytes
  n=$((cg_mib * 1048576))
  i1=$(cg_ir "$1" "$2" "$n") && i2=$(cg_ir "$1" "$2" $((2 * n))) || return 1
  awk -v a="$i1" -v b="$i2" -v n="$n" -v s="$2" 'BEGIN { printf "%.0f\n", (b - a) / (n / s) }'
}
cg_row() { # metric ours baseline: one instructions row, or a skip when a run failed
  if [ -n "$2" ] && [ -n "$3" ]; then
    row "$1" "$2" "instr" "lwIP TCP loopback" "$3" - 0
  else
    skip "$1" "callgrind run failed (see above)"
    failed=1
  fi
}
if command -v valgrind >/dev/null 2>&1; then
  echo "running callgrind (instructions per packet) ..." >&2
  for size in 4096 65536; do
    kib=$((size / 1024))
    tcp=$(cg_per_pkt tcp-c2s $size) || tcp=
    for dir in g2h h2g; do
      case $dir in g2h) what="guest->host" ;; h2g) what="host->guest" ;; esac
      ours=$(cg_per_pkt vsock-$dir $size) || ours=
      cg_row "instructions per $kib KiB write, $what" "$ours" "$tcp"
    done
  done
  # $tcp is still the 64 KiB baseline of the last pass.
  ours=$(cg_per_pkt vsock-g2h-zc 65536) || ours=
  cg_row "instructions per 64 KiB zero-copy write, guest->host" "$ours" "$tcp"
  note "instructions: callgrind, $cg_mib MiB vs $((2 * cg_mib)) MiB moved, difference per write; both ends counted (guest driver + sim device + host socket; both TCP stacks); host->guest packets are at most LWVSOCK_RX_BUF_SIZE"
  # Round trips: N and 2N of them, the difference per round trip.
  cg_rr=2000
  [ -n "$quick" ] && cg_rr=500
  cg_rr_ir() { # kind count -> total Ir
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" \
      "$b/bench_rr" --case "$1" --count "$2" >/dev/null 2>"$tmp/cg.err" ||
      { cat "$tmp/cg.err" >&2; return 1; }
    sed -n 's/^summary: *//p' "$tmp/cg.out" | head -n 1
  }
  cg_per_rr() { # kind -> instructions per round trip
    i1=$(cg_rr_ir "$1" "$cg_rr") && i2=$(cg_rr_ir "$1" $((2 * cg_rr))) || return 1
    awk -v a="$i1" -v b="$i2" -v n="$cg_rr" 'BEGIN { printf "%.0f\n", (b - a) / n }'
  }
  ours=$(cg_per_rr vsock) || ours=
  tcp=$(cg_per_rr tcp) || tcp=
  cg_row "instructions per 1-byte round trip" "$ours" "$tcp"
  note "instructions per round trip: callgrind, $cg_rr vs $((2 * cg_rr)) round trips, difference per round trip; both ends counted as above"
else
  skip "instructions per packet (callgrind)" "skipped: valgrind not installed (apt-get install valgrind)"
fi
fi # text_only

# ---- .text of the core built -Os ---------------------------------------------------
# The core is Filelists.mk's LWVSOCKFILES (what every firmware build links); a
# transport, the netif and the altcp provider are optional and shown in a note.
# The baseline is lwIP's TCP (tcp.c, tcp_in.c, tcp_out.c) built the same way.
filelist() { # VAR -> the files Filelists.mk lists in it, as paths under $srcdir
  awk -v var="$1" '$0 ~ "^" var "=" { on = 1 } on { print; if ($0 !~ /\\$/) exit }' "$srcdir/Filelists.mk" |
    tr -d '\\' | tr ' \t=' '\n\n\n' | sed -n "s|^\$(LWVSOCKDIR)/|$srcdir/|p"
}
core_srcs=$(filelist LWVSOCKFILES)
[ -n "$core_srcs" ] || die "no LWVSOCKFILES in $srcdir/Filelists.mk"
opt_srcs="$(filelist LWVSOCKTRANSPORTFILES) $(filelist LWVSOCKNETIFFILES) $(filelist LWVSOCKALTCPFILES)"
tcp_srcs="$lwip/src/core/tcp.c $lwip/src/core/tcp_in.c $lwip/src/core/tcp_out.c"
text_of() { # compiler size-tool extra-flags files... -> .text bytes (sum)
  tcc=$1; tsize=$2; tflags=$3; shift 3
  objs=
  for f in "$@"; do
    o=$tmp/$(basename "$f" .c).o
    # shellcheck disable=SC2086
    $tcc -Os -std=gnu11 $tflags -I"$srcdir/include" -I"$srcdir/src" -I"$srcdir/port/unix/lwipopts" -I"$srcdir/port/unix/include" \
      -I"$lwip/src/include" -I"$lwip/src" -c "$f" -o "$o" 2>"$tmp/cc.err" ||
      { echo "bench/run.sh: $tcc failed on $f:" >&2; head -n 5 "$tmp/cc.err" >&2; return 1; }
    objs="$objs $o"
  done
  # shellcheck disable=SC2086
  $tsize -A $objs | awk '$1 == ".text" || $1 ~ /^\.text\./ { t += $2 } END { print t + 0 }'
}
text_rows() { # label compiler size-tool flags goal
  label=$1; tcc=$2; tsize=$3; tflags=$4; goal=$5
  # shellcheck disable=SC2086 # file lists are words
  ours=$(text_of "$tcc" "$tsize" "$tflags" $core_srcs) &&
    base=$(text_of "$tcc" "$tsize" "$tflags" $tcp_srcs) || {
      skip ".text of the core, $label -Os" "compiling failed (see above)"; failed=1; return; }
  extra=
  for f in $opt_srcs; do
    t=$(text_of "$tcc" "$tsize" "$tflags" "$f") || { failed=1; t=failed; }
    extra="$extra, $(basename "$f" .c) $t B"
  done
  if [ "$goal" = - ]; then
    row ".text of the core, $label -Os" "$ours" B "lwIP TCP (tcp*.c)" "$base" - 0
  else
    row ".text of the core, $label -Os" "$ours" B "lwIP TCP (tcp*.c)" "$base" max "$goal"
  fi
  note ".text $label: core = Filelists.mk LWVSOCKFILES; optional, each on top: ${extra#, }; lwIP asserts on, as configured"
}
echo "measuring .text ..." >&2
if command -v size >/dev/null 2>&1; then
  text_rows x86-64 "$cc" size "" -
else
  skip ".text of the core, x86-64 -Os" "skipped: size(1) not installed (apt-get install binutils)"
fi
# Cortex-M4: arm-none-eabi-gcc, else clang's ARM target with newlib's headers.
m4_flags="-mcpu=cortex-m4 -mthumb -mfloat-abi=soft"
if command -v arm-none-eabi-gcc >/dev/null 2>&1; then
  text_rows "Cortex-M4" arm-none-eabi-gcc arm-none-eabi-size "$m4_flags" 16384
elif command -v clang >/dev/null 2>&1 && command -v llvm-size >/dev/null 2>&1 &&
     [ -f /usr/include/newlib/string.h ]; then
  text_rows "Cortex-M4 (clang)" clang llvm-size \
    "--target=thumbv7em-none-eabi $m4_flags -isystem /usr/include/newlib" 16384
else
  skip ".text of the core, Cortex-M4 -Os" \
    "skipped: gcc-arm-none-eabi not installed (or clang + llvm-size + libnewlib-dev)"
  [ -z "$require_m4" ] || failed=1
fi

# ---- the table ----------------------------------------------------------------------
if [ -n "$raw" ]; then
  cat "$rows"
  exit $failed
fi
print_table "$rows"
exit $failed
