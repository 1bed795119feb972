#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# bench/qemu.sh: bulk throughput of lwvsock over /dev/vhost-vsock against Linux's
# own vsock loopback (CID 1), in the same boot of the test VM. Runs INSIDE the
# VM only (tests/interop/guard.sh refuses elsewhere); `make bench-qemu` starts
# it through tests/interop/vm.sh and prints the table.
#
# Usage: qemu.sh [-b BUILDDIR] [-n BYTES]
#   -b DIR    the build tree with examples/lwvsock-perf (default: cwd)
#   -n BYTES  bytes per transfer (default 16777216: the VM runs under TCG)
# Output: raw result rows (bench/bench_util.h). Both stacks move the same bytes
# between the same Linux tools (socat, head): a Linux AF_VSOCK socket is the
# other end of every transfer. lwvsock is guest CID 3 of the VM's kernel.
# Target: at least Linux's own speed (>= 1.0x). lwvsock-perf's own counts
# give the kicks (eventfd writes to vhost) and system calls (backend + loop)
# per MiB of each direction.
D=$(dirname "$(readlink -f "$0")")
. "$D/../tests/interop/guard.sh"

B=$PWD N=16777216
while getopts "b:n:h" o; do
  case $o in
    b) B=$(readlink -f "$OPTARG");; n) N=$OPTARG;;
    h) awk 'NR>2 && /^#/ {sub(/^# ?/, ""); print; next} NR>2 {exit}' "$0"; exit 0;;
    *) echo "qemu.sh: see -h" >&2; exit 2;;
  esac
done
case $N in ''|*[!0-9]*) echo "qemu.sh: -n takes a byte count, got '$N'" >&2; exit 2;; esac
PERF=$B/examples/lwvsock-perf
[ -x "$PERF" ] || { echo "qemu.sh: $PERF is not built (configure with examples, make)" >&2; exit 2; }
command -v socat >/dev/null || { echo "qemu.sh: socat is missing (apt-get install socat)" >&2; exit 2; }

PIDS=()
cleanup() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; rm -f "$PERFLOG"; }
trap cleanup EXIT

now_ns() { date +%s%N; }
mibs() { awk -v n="$N" -v t="$1" 'BEGIN { printf "%.1f\n", n / 1048576 / (t / 1e9) }'; }
PERFLOG=$(mktemp /tmp/lwvsock-qemu-bench.XXXXXX)
# costs DIRECTION: the kicks and system calls per MiB lwvsock-perf printed in $PERFLOG
costs() {
  local k s
  k=$(sed -n 's/^[a-z]*: kicks_per_mib=\([0-9.]*\) .*/\1/p' "$PERFLOG" | tail -1)
  s=$(sed -n 's/^[a-z]*: kicks_per_mib=[0-9.]* syscalls_per_mib=\([0-9.]*\) .*/\1/p' "$PERFLOG" | tail -1)
  if [ -z "$k" ] || [ -z "$s" ]; then
    printf 'skip\tVM: kicks, system calls per MiB %s\tlwvsock-perf printed no counts\n' "$1"
    return
  fi
  printf 'row\tVM: kicks per MiB, %s\t%s\tkicks\t-\t0\t-\t0\n' "$1" "$k"
  printf 'row\tVM: system calls per MiB, %s\t%s\tcalls\t-\t0\t-\t0\n' "$1" "$s"
}

# sink PORT: a Linux AF_VSOCK socket that reads one connection to its end
sink() {
  timeout 120 socat -u "VSOCK-LISTEN:$1,reuseaddr" STDOUT >/dev/null &
  SINK=$!
  PIDS+=("$SINK")
  sleep 1
}
# send CID PORT: Linux client writing N bytes
send() { head -c "$N" /dev/zero | timeout 120 socat -u STDIN "VSOCK-CONNECT:$1:$2"; }

# guest->host: the writer is lwvsock (to CID 2) or Linux (to CID 1); time until the sink has all
sink 5301
t0=$(now_ns)
timeout 120 "$PERF" --device vhost-vsock:cid=3 -c 2 -p 5301 -n "$N" -q >"$PERFLOG" 2>&1 ||
  { cat "$PERFLOG" >&2; echo "qemu.sh: lwvsock-perf -c 2 failed" >&2; exit 1; }
wait "$SINK"; t1=$(now_ns)
ours=$(mibs $((t1 - t0)))
sink 5302
t0=$(now_ns)
send 1 5302 || { echo "qemu.sh: Linux vsock loopback client failed" >&2; exit 1; }
wait "$SINK"; t1=$(now_ns)
base=$(mibs $((t1 - t0)))
printf 'row\tVM: bulk lwvsock->Linux vsock\t%s\tMiB/s\tLinux vsock loopback\t%s\tmin\t1.0\n' "$ours" "$base"
costs "lwvsock->Linux"

# host->guest: the reader is lwvsock (a sink server on CID 3) or Linux (CID 1); time the writer
timeout 120 "$PERF" --device vhost-vsock:cid=3 -s -p 5303 -q >"$PERFLOG" 2>&1 &
PIDS+=("$!")
python3 "$D/../tests/interop/vsock_peer.py" wait --cid 3 --port 5303 --seconds 15 ||
  { echo "qemu.sh: lwvsock-perf -s on CID 3 did not come up" >&2; exit 1; }
t0=$(now_ns)
send 3 5303 || { echo "qemu.sh: Linux client to lwvsock failed" >&2; exit 1; }
t1=$(now_ns)
ours=$(mibs $((t1 - t0)))
sink 5304
t0=$(now_ns)
send 1 5304 || { echo "qemu.sh: Linux vsock loopback client failed" >&2; exit 1; }
t1=$(now_ns)
wait "$SINK"
base=$(mibs $((t1 - t0)))
printf 'row\tVM: bulk Linux vsock->lwvsock\t%s\tMiB/s\tLinux vsock loopback\t%s\tmin\t1.0\n' "$ours" "$base"
costs "Linux->lwvsock"
printf 'note\tVM: %s MiB per transfer, one run each, socat and head as the Linux ends; lwvsock is a vhost-vsock guest CID of the VM kernel\n' $((N / 1048576))
