#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# cases.sh - the vsock netif against a real host-side network daemon, run
# INSIDE the test VM only (guard.sh refuses elsewhere; the VM has no NIC, so
# nothing leaves it). The daemon is QEMU's user networking (libslirp: DHCP,
# NAT, port forwarding) switched to a -netdev stream listening on vsock port
# 1024 of the VM (the vhost-vsock host, CID 2); lwvsock-netif is guest CID 3 on
# /dev/vhost-vsock. slirp's gateway 10.0.2.2 is the VM's loopback.
#
# Usage: cases.sh BUILDDIR
# Cases (in order; each bounded): dhcp, tcp-out (1 MiB from a server in the
# VM to lwIP, byte-exact), tcp-in (1 MiB from lwIP's HTTP server to curl
# through the daemon's port forward), udp-echo, link-recovery (kill and
# restart the daemon: the link comes back, DHCP binds again, tcp-in again).
# Output: "PASS case" / "FAIL case: why", then "netif: N passed, M failed".
# Exit status: 0 all passed, 1 a case failed, 99 outside the test VM.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../interop/guard.sh"
. "$here/peer.sh"
B=$(readlink -f "$1")
NETIF=$B/examples/lwvsock-netif
T=$(mktemp -d /tmp/lwvsock-netif.XXXXXX)
HTTP_PORT=8000
passed=0 failed=0
qemu_pid= netif_pid= http_pid=

cleanup() {
  for p in $netif_pid $qemu_pid $http_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() {
  echo "FAIL $1: $2"; failed=$((failed + 1))
  for f in "$T"/*.log; do [ -s "$f" ] && { echo "  --- ${f##*/}"; tail -8 "$f" | sed 's/^/  | /'; }; done
}
# wait_for FILE PATTERN SECS: grep -E PATTERN in FILE until it shows or SECS pass
wait_for() {
  local i
  for i in $(seq $(($3 * 2))); do grep -Eq "$2" "$1" && return 0; sleep 0.5; done
  return 1
}
start_daemon() { netif_daemon "$T/daemon.log"; qemu_pid=$netif_daemon_pid; }
# fetch_page: 1 MiB from lwIP's HTTP server through the port forward, byte-exact
fetch_page() {
  netif_get "$T/in.bin" "$T/curl.log" && cmp -s "$T/page.bin" "$T/in.bin"
}

[ -x "$NETIF" ] || { echo "FAIL setup: $NETIF is not built"; echo "netif: 0 passed, 1 failed"; exit 1; }
mkdir -p "$T/www"
head -c 1048576 /dev/urandom >"$T/www/big.bin"
head -c 1048576 /dev/urandom >"$T/page.bin"
netif_http_server "$T/www" "$HTTP_PORT" "$T/http.log"
http_pid=$netif_http_pid
start_daemon
sleep 2
"$NETIF" --device vhost-vsock:cid=3 --fetch "10.0.2.2:$HTTP_PORT/big.bin" --fetch-out "$T/got.bin" \
  --serve 80 --serve-file "$T/page.bin" --udp-echo 7 >"$T/netif.log" 2>&1 &
netif_pid=$!

if wait_for "$T/netif.log" 'dhcp: bound 10\.0\.2\.15 gateway 10\.0\.2\.2 \(#1\)' 90; then
  pass dhcp
else
  fail dhcp "no lease in 90 s"
fi

if wait_for "$T/netif.log" 'fetch: ' 120 && grep -q 'fetch: HTTP/1.0 200, 1048576 body bytes' "$T/netif.log" &&
   cmp -s "$T/www/big.bin" "$T/got.bin"; then
  pass "tcp-out (1 MiB from 10.0.2.2:$HTTP_PORT, byte-exact)"
else
  fail tcp-out "$(grep 'fetch:' "$T/netif.log" | tail -1)"
fi

if fetch_page; then
  pass "tcp-in (1 MiB through hostfwd :$NETIF_FWD_TCP -> lwIP :80, byte-exact)"
else
  fail tcp-in "curl/cmp failed: $(tail -1 "$T/curl.log")"
fi

if netif_udp_echo >>"$T/udp.log" 2>&1; then
  pass "udp-echo ($(tail -1 "$T/udp.log"))"
else
  fail udp-echo "no echo in 20 tries"
fi

kill "$qemu_pid"; wait "$qemu_pid" 2>/dev/null; qemu_pid=
if ! wait_for "$T/netif.log" 'link down' 30; then
  fail link-recovery "the link did not go down when the daemon died"
else
  start_daemon
  if ! wait_for "$T/netif.log" 'dhcp: bound 10\.0\.2\.15 gateway 10\.0\.2\.2 \(#2\)' 90; then
    fail link-recovery "no new lease after the daemon came back"
  elif ! fetch_page; then
    fail link-recovery "tcp-in after recovery failed: $(tail -1 "$T/curl.log")"
  else
    pass "link-recovery (link down, reconnect, DHCP bound again, 1 MiB tcp-in again)"
  fi
fi

kill "$netif_pid"; wait "$netif_pid" 2>/dev/null; netif_pid=
grep 'netif: rx' "$T/netif.log" | sed 's/^/# /'
echo "netif: $passed passed, $failed failed"
[ $failed = 0 ]
