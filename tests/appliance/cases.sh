#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# cases.sh - the appliance cases, run INSIDE the test VM (tests/interop/vm.sh):
# boots examples/lwvsock-appliance.elf in a nested QEMU per machine kind with a
# real vhost-vsock device (backed by the test VM's vhost_vsock), waits for
# "lwvsock-appliance: ready cid=N" on its console, then runs appliance_peer.py
# against it from the test VM's AF_VSOCK.
#
# Usage: cases.sh [-b BUILDDIR] [-T SECS] [MACHINE...]
#   MACHINE  q35, microvm-legacy, microvm-modern (default: all)
#   -T SECS  bound per machine for QEMU, and again for the cases (default 600)
# Output: per machine, "INFO NAME: ready after S s", one line per case, then
# "appliance-q35: N passed, M failed" (microvm: one such line per mmio flavour,
# named appliance-microvm-legacy / -modern, then the appliance-microvm total).
# Exit status: 0 nothing failed, 1 otherwise, 99 outside the test VM.
D=$(dirname "$(readlink -f "$0")")
. "$D/../interop/guard.sh"

B=$PWD PER=600
while getopts "b:T:" o; do
  case $o in
    b) B=$(readlink -f "$OPTARG");; T) PER=$OPTARG;;
    *) echo "cases.sh: bad option" >&2; exit 2;;
  esac
done
shift $((OPTIND - 1))
IMG=$B/examples/lwvsock-appliance.elf
MACHINES=("$@")
[ ${#MACHINES[@]} -gt 0 ] || MACHINES=(q35 microvm-legacy microvm-modern)
LOGS=$(mktemp -d /tmp/lwvsock-appliance.XXXXXX)
READY_TIMEOUT=240

# run_machine NAME CID QEMU-ARGS...: boot, wait for ready, run the cases; sets P and F.
run_machine() {
  local name=$1 cid=$2 log=$LOGS/$1.console pid t0 t1 n rc
  shift 2
  P=0 F=0
  if [ ! -s "$IMG" ]; then
    echo "FAIL $name-boot: $IMG is not built (make appliance)"
    F=1; return
  fi
  t0=$(date +%s.%N)
  timeout -k 5 $((2 * PER)) qemu-system-x86_64 -accel tcg -m 64M -nodefaults -display none \
    -serial stdio -kernel "$IMG" "$@" </dev/null >"$log" 2>&1 &
  pid=$!
  for ((n = 0; n < READY_TIMEOUT * 5; n++)); do
    grep -q "lwvsock-appliance: ready cid=$cid" "$log" && break
    if grep -q 'lwvsock-appliance: halted' "$log" || ! kill -0 "$pid" 2>/dev/null; then
      break
    fi
    sleep 0.2
  done
  t1=$(date +%s.%N)
  if ! grep -q "lwvsock-appliance: ready cid=$cid" "$log"; then
    echo "FAIL $name-boot: no 'ready cid=$cid' on the console; it says:"
    sed 's/^/    /' "$log" | tail -20
    F=1
  else
    echo "PASS $name-boot"
    echo "INFO $name: ready after $(awk "BEGIN {printf \"%.1f\", $t1 - $t0}") s (QEMU start to the ready line)"
    P=1
    timeout -k 5 "$PER" python3 "$D/appliance_peer.py" --cid "$cid" --name "$name" | tee "$LOGS/$name.out" | grep -v ": [0-9]* passed, [0-9]* failed$"
    rc=${PIPESTATUS[0]}
    P=$((P + $(grep -c '^PASS ' "$LOGS/$name.out")))
    F=$((F + $(grep -c '^FAIL ' "$LOGS/$name.out")))
    [ "$rc" = 0 ] || [ "$F" -gt 0 ] || { echo "FAIL $name-peer: appliance_peer.py exited $rc (124: out of time)"; F=$((F + 1)); }
  fi
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  if [ "$F" -gt 0 ]; then
    echo "---- $name console (last 10 lines)"
    tail -10 "$log" | sed 's/^/    /'
  fi
}

TOTAL_F=0 MP=0 MF=0 HAVE_MICROVM=0
for m in "${MACHINES[@]}"; do
  case $m in
    q35)
      run_machine appliance-q35 5 -M q35 -device vhost-vsock-pci,guest-cid=5
      echo "appliance-q35: $P passed, $F failed";;
    microvm-legacy)
      run_machine appliance-microvm-legacy 6 -M microvm -device vhost-vsock-device,guest-cid=6
      echo "appliance-microvm-legacy: $P passed, $F failed"
      MP=$((MP + P)) MF=$((MF + F)) HAVE_MICROVM=1;;
    microvm-modern)
      run_machine appliance-microvm-modern 7 -M microvm -global virtio-mmio.force-legacy=false \
        -device vhost-vsock-device,guest-cid=7
      echo "appliance-microvm-modern: $P passed, $F failed"
      MP=$((MP + P)) MF=$((MF + F)) HAVE_MICROVM=1;;
    *) echo "cases.sh: unknown machine '$m'" >&2; exit 2;;
  esac
  TOTAL_F=$((TOTAL_F + F))
done
[ $HAVE_MICROVM = 0 ] || echo "appliance-microvm: $MP passed, $MF failed"
rm -rf "$LOGS"
[ $TOTAL_F = 0 ]
