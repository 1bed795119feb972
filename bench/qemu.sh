#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# bench/qemu.sh: lwvsock over /dev/vhost-vsock against Linux's own vsock
# loopback (CID 1), in the same boot of the test VM. Runs INSIDE the VM only
# (tests/interop/guard.sh refuses elsewhere); `make bench-qemu` starts it
# through tests/interop/vm.sh and prints the table.
#
# Usage: qemu.sh [-b BUILDDIR] [-n BYTES] [-r ROUNDS] [-k CONNS] [-t SECS]
#   -b DIR     the build tree with examples/lwvsock-perf, examples/lwvsock-echo
#              and tests/pci/linux_peer (default: cwd)
#   -n BYTES   bytes per bulk transfer (default 4194304: the VM runs under TCG)
#   -r ROUNDS  1-byte round trips (default 200)
#   -k CONNS   connections for the connection rate (default 20)
#   -t SECS    bound of each measurement (default 180)
# Output: progress lines, then raw result rows (bench/bench_util.h).
# Method: the same client (tests/interop/vsock_peer.py bench, the one the PCI
# suite uses) measures both servers: lwvsock-perf -s / lwvsock-echo as guest
# CID 3 of the VM's kernel over vhost-vsock, and tests/pci/linux_peer perf /
# echo (the same protocol, Linux AF_VSOCK) reached over Linux's loopback. So
# the rows compare lwvsock plus vhost against Linux's in-kernel loopback of
# the same bytes. Target: at least Linux's speed (>= 1.0x; round trips as
# round trips per second). lwvsock-perf's own counts give the kicks (eventfd
# writes to vhost) and system calls (backend + loop) per MiB of each direction.
D=$(dirname "$(readlink -f "$0")")
. "$D/../tests/interop/guard.sh"

B=$PWD N=4194304 RR=200 CONNS=20 T=180
while getopts "b:n:r:k:t:h" o; do
  case $o in
    b) B=$(readlink -f "$OPTARG");; n) N=$OPTARG;; r) RR=$OPTARG;; k) CONNS=$OPTARG;; t) T=$OPTARG;;
    h) awk 'NR>2 && /^#/ {sub(/^# ?/, ""); print; next} NR>2 {exit}' "$0"; exit 0;;
    *) echo "qemu.sh: see -h" >&2; exit 2;;
  esac
done
for v in "$N" "$RR" "$CONNS" "$T"; do
  case $v in ''|*[!0-9]*|0) echo "qemu.sh: -n, -r, -k and -t take positive whole numbers, got '$v'" >&2; exit 2;; esac
done
PERF=$B/examples/lwvsock-perf ECHO=$B/examples/lwvsock-echo LPEER=$B/tests/pci/linux_peer
for p in "$PERF" "$ECHO" "$LPEER"; do
  [ -x "$p" ] || { echo "qemu.sh: $p is not built (make bench-qemu builds it)" >&2; exit 2; }
done
PEER=(python3 "$D/../tests/interop/vsock_peer.py")
W=$(mktemp -d /tmp/lwvsock-qemu-bench.XXXXXX)
SRV=
stop() { [ -z "$SRV" ] || { kill "$SRV" 2>/dev/null; wait "$SRV" 2>/dev/null; SRV=; }; }
trap 'stop; rm -rf "$W"' EXIT
progress() { echo "qemu.sh: [$SECONDS s] $*" >&2; }

# serve LOG CID PORT CMD...: start a server and wait (bounded) until CID:PORT accepts
serve() {
  local log=$1 cid=$2 port=$3
  shift 3
  "$@" >"$W/$log" 2>&1 &
  SRV=$!
  "${PEER[@]}" wait --cid "$cid" --port "$port" --seconds 30 ||
    { echo "qemu.sh: $* did not come up: $(tail -2 "$W/$log" | tr '\n' ' ')" >&2; stop; return 1; }
}
# measure NAME CID PORT WHAT: one vsock_peer.py bench against the server up now;
# its "bench KEY=VALUE..." line goes to $W/NAME
measure() {
  progress "$1: $4 on CID $2 port $3"
  timeout "$T" "${PEER[@]}" bench --what "$4" --cid "$2" --port "$3" --bytes "$N" --rr "$RR" \
    --conns "$CONNS" >>"$W/$1" 2>"$W/$1.err" ||
    { progress "$1: $4 FAILED (exit $?): $(tail -2 "$W/$1.err" | tr '\n' ' ')"; return 1; }
  progress "$1: $(tail -1 "$W/$1")"
}

ok=1
: >"$W/lwvsock"; : >"$W/linux"
if serve perf.log 3 5201 "$PERF" --device vhost-vsock:cid=3 -s -p 5201; then
  measure lwvsock 3 5201 bulk || ok=0
  stop
  # per connection: "server: received|sent N bytes ..." then its kicks and calls per MiB
  tr -d '\r' <"$W/perf.log" | awk '
    /^server: received [1-9]/ { d = "h2g" } /^server: sent [1-9]/ { d = "g2h" }
    /^server: kicks_per_mib=/ && d != "" {
      split($2, k, "="); split($3, s, "=")
      printf "bench %s_kicks=%s %s_syscalls=%s\n", d, k[2], d, s[2]; d = "" }' >>"$W/lwvsock"
else ok=0; fi
if serve echo.log 3 1234 "$ECHO" --device vhost-vsock:cid=3 --port 1234 -q; then
  measure lwvsock 3 1234 echo || ok=0
  stop
else ok=0; fi
if serve lperf.log 1 5211 "$LPEER" perf 5211; then
  measure linux 1 5211 bulk || ok=0
  stop
else ok=0; fi
if serve lecho.log 1 1235 "$LPEER" echo 1235; then
  measure linux 1 1235 echo || ok=0
  stop
else ok=0; fi

# value FILE KEY: the last KEY=VALUE of a bench file
value() { grep -o "$2=[0-9.]*" "$W/$1" | tail -1 | cut -d= -f2; }
# row TITLE KEY UNIT [inverse]: lwvsock's figure against Linux's, target >= 1.0x;
# "inverse" turns microseconds per round trip into round trips per second
row() {
  local a b
  a=$(value lwvsock "$2") b=$(value linux "$2")
  if [ -z "$a" ] || [ -z "$b" ]; then
    printf 'skip\tVM: %s\tnot measured (see the progress lines)\n' "$1"
    return
  fi
  if [ -n "${4:-}" ]; then
    a=$(awk -v x="$a" 'BEGIN { printf "%.1f", (x > 0 ? 1e6 / x : 0) }')
    b=$(awk -v x="$b" 'BEGIN { printf "%.1f", (x > 0 ? 1e6 / x : 0) }')
  fi
  printf 'row\tVM: %s\t%s\t%s\tLinux vsock loopback\t%s\tmin\t1.0\n' "$1" "$a" "$3" "$b"
}
# cost KEY TITLE: lwvsock's own count (nothing counts them for Linux's loopback)
cost() {
  local a
  a=$(value lwvsock "$1")
  if [ -z "$a" ]; then
    printf 'skip\tVM: %s\tlwvsock-perf printed no counts\n' "$2"
    return
  fi
  printf 'row\tVM: %s\t%s\tper MiB\t-\t0\t-\t0\n' "$2" "$a"
}
row "bulk Linux->lwvsock (host->guest)" h2g_mibs MiB/s
row "bulk lwvsock->Linux (guest->host)" g2h_mibs MiB/s
row "1-byte request/response" rr_us "round trips/s" inverse
row "connections per second" cps conn/s
cost h2g_kicks "kicks, host->guest"
cost g2h_kicks "kicks, guest->host"
cost h2g_syscalls "system calls, host->guest"
cost g2h_syscalls "system calls, guest->host"
printf 'note\tVM: %s KiB per bulk transfer, %s round trips, %s connections, one run each, the same Python client; lwvsock is a vhost-vsock guest CID of the VM kernel, Linux its own loopback\n' \
  $((N / 1024)) "$RR" "$CONNS"
[ $ok = 1 ]
