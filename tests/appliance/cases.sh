#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# cases.sh - the appliance cases, run INSIDE the test VM (tests/interop/vm.sh):
# boots examples/lwvsock-appliance.elf in a nested QEMU per machine kind with a
# real vhost-vsock device (backed by the test VM's vhost_vsock), waits for
# "lwvsock-appliance: ready cid=N" on its console, then runs appliance_peer.py
# against it from the test VM's AF_VSOCK.
#
# The netif image (examples/lwvsock-appliance-netif.elf) boots on q35 as
# machine "netif" with QEMU's slirp as its network daemon here (a vsock stream
# netdev, tests/netif/peer.sh): the vsock cases get-root and echo-sizes, then
# dhcp (a lease on the console), tcp-out (the appliance fetches 256 KiB from an
# HTTP server here through slirp; its FNV-1a must match), tcp-in (its page on
# lwIP TCP port 80 through slirp's port forward), udp-echo and link-recovery
# (the daemon killed and restarted: link down, a second lease, tcp-in again).
#
# Usage: cases.sh [-b BUILDDIR] [-T SECS] [MACHINE...]
#   MACHINE  q35, microvm-legacy, microvm-modern, netif (default: all)
#   -T SECS  bound per machine for QEMU, and again for the cases (default 600)
# Output: per machine, "INFO NAME: ready after S s", one line per case, then
# "appliance-q35: N passed, M failed" (microvm: one such line per mmio flavour,
# named appliance-microvm-legacy / -modern, then the appliance-microvm total).
# Exit status: 0 nothing failed, 1 otherwise, 99 outside the test VM.
D=$(dirname "$(readlink -f "$0")")
. "$D/../interop/guard.sh"
. "$D/../netif/peer.sh"

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
[ ${#MACHINES[@]} -gt 0 ] || MACHINES=(q35 microvm-legacy microvm-modern netif)
LOGS=$(mktemp -d /tmp/lwvsock-appliance.XXXXXX)
READY_TIMEOUT=240

# run_machine NAME CID QEMU-ARGS...: boot, wait for ready, run the cases; sets P and F.
# RUN_IMG: the image (default $IMG); RUN_ONLY: the appliance_peer.py cases
# (default all); RUN_AFTER: a function run with the console log after them,
# printing more PASS/FAIL lines.
run_machine() {
  local name=$1 cid=$2 log=$LOGS/$1.console pid t0 t1 n rc IMG=${RUN_IMG:-$IMG}
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
    # shellcheck disable=SC2086 # the case names are words
    timeout -k 5 "$PER" python3 "$D/appliance_peer.py" --cid "$cid" --name "$name" ${RUN_ONLY:+--only $RUN_ONLY} |
      tee "$LOGS/$name.out" | grep -v ": [0-9]* passed, [0-9]* failed$"
    rc=${PIPESTATUS[0]}
    [ -z "${RUN_AFTER:-}" ] || "$RUN_AFTER" "$log" | tee -a "$LOGS/$name.out"
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

# wait_console LOG PATTERN SECS: grep -E PATTERN in LOG until it shows or SECS pass
wait_console() {
  local _
  for _ in $(seq $(($3 * 2))); do grep -Eq "$2" "$1" && return 0; sleep 0.5; done
  return 1
}
# netif_cases LOG: the TCP/IP cases of the netif image (see the top)
netif_cases() {
  local want got
  if wait_console "$1" 'appliance: dhcp: bound 10\.0\.2\.15 gateway 10\.0\.2\.2' 120; then
    echo "PASS dhcp ($(grep -o 'dhcp: bound.*' "$1" | head -1 | tr -d '\r'))"
  else
    echo "FAIL dhcp: no lease on the console in 120 s"
  fi
  want=$(python3 -c 'import sys
h = 2166136261
for b in open(sys.argv[1], "rb").read():
    h = ((h ^ b) * 16777619) & 0xffffffff
print("fetch: HTTP/1.0 200, %d body bytes, fnv1a %08x" % (262144, h))' "$LOGS/www/page.bin")
  wait_console "$1" 'appliance: fetch: ' 120
  got=$(grep -o 'fetch: .*' "$1" | head -1 | tr -d '\r')
  if [ "$got" = "$want" ]; then
    echo "PASS tcp-out (256 KiB from 10.0.2.2:8000 through slirp, FNV-1a equal)"
  else
    echo "FAIL tcp-out: the console says '${got:-nothing}', want '$want'"
  fi
  grep -o 'memory: .*' "$1" | head -1 | tr -d '\r' | sed 's/^/INFO appliance-netif after the fetch: /'
  if netif_get "$LOGS/in.html" "$LOGS/curl.log" && grep -q 'Hello from the lwvsock appliance' "$LOGS/in.html" &&
     grep -q 'guest CID 8\.' "$LOGS/in.html"; then
    echo "PASS tcp-in (its page on lwIP TCP port 80 through hostfwd :$NETIF_FWD_TCP)"
  else
    echo "FAIL tcp-in: curl: $(tail -1 "$LOGS/curl.log"); got $(wc -c < "$LOGS/in.html" 2>/dev/null || echo 0) bytes"
  fi
  if got=$(netif_udp_echo 2>&1); then
    echo "PASS udp-echo ($got)"
  else
    echo "FAIL udp-echo: no echo in 20 tries"
  fi
  # link-recovery: the daemon dies and comes back (this runs in a subshell:
  # the new daemon's pid goes to slirp.pid for the caller's cleanup)
  kill "$(cat "$LOGS/slirp.pid")"
  if ! wait_console "$1" 'appliance: link down' 60; then
    echo "FAIL link-recovery: the link did not go down when the daemon died"
    return
  fi
  netif_daemon "$LOGS/slirp.log"
  echo "$netif_daemon_pid" > "$LOGS/slirp.pid"
  if ! wait_console "$1" 'appliance: dhcp: bound 10\.0\.2\.15 gateway 10\.0\.2\.2 \(#2\)' 120; then
    echo "FAIL link-recovery: no new lease after the daemon came back"
  elif ! netif_get "$LOGS/in2.html" "$LOGS/curl.log" || ! cmp -s "$LOGS/in.html" "$LOGS/in2.html"; then
    echo "FAIL link-recovery: tcp-in after the recovery: $(tail -1 "$LOGS/curl.log")"
  else
    echo "PASS link-recovery (link down, reconnect, DHCP bound again (#2), tcp-in again)"
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
    netif)
      mkdir -p "$LOGS/www" && head -c 262144 /dev/urandom > "$LOGS/www/page.bin"
      netif_http_server "$LOGS/www" 8000 "$LOGS/http.log" || echo "(the HTTP server here did not answer)"
      netif_daemon "$LOGS/slirp.log"
      echo "$netif_daemon_pid" > "$LOGS/slirp.pid"
      RUN_IMG=$B/examples/lwvsock-appliance-netif.elf RUN_ONLY="get-root echo-sizes" RUN_AFTER=netif_cases \
        run_machine appliance-netif 8 -M q35 -device vhost-vsock-pci,guest-cid=8 \
        -append "netif.fetch=10.0.2.2:8000/page.bin"
      kill "$(cat "$LOGS/slirp.pid")" "$netif_http_pid" 2>/dev/null
      wait "$netif_http_pid" 2>/dev/null
      echo "appliance-netif: $P passed, $F failed";;
    *) echo "cases.sh: unknown machine '$m'" >&2; exit 2;;
  esac
  TOTAL_F=$((TOTAL_F + F))
done
[ $HAVE_MICROVM = 0 ] || echo "appliance-microvm: $MP passed, $MF failed"
rm -rf "$LOGS"
[ $TOTAL_F = 0 ]
