#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# cases.sh - the vsock netif against two real host-side network daemons, run
# INSIDE the test VM only (guard.sh refuses elsewhere; the VM has no NIC, so
# nothing leaves it). lwvsock-netif is guest CID 3 on /dev/vhost-vsock and
# dials vsock port 1024 of the VM (the vhost-vsock host, CID 2). The peers, one
# after the other, each with a fresh lwvsock-netif:
#  - slirp: QEMU's user networking (libslirp: DHCP, NAT, port forwarding)
#    switched to a -netdev stream listening on vsock port 1024; its gateway
#    10.0.2.2 is the VM's loopback.
#  - passt: passt (same 4-byte framing) on a UNIX socket, socat bridging
#    vsock port 1024 to it. passt wants a routable interface: dummy0 gets
#    10.0.2.15/24 and a default route via 10.0.2.2, so passt hands the guest
#    the same lease, and maps that gateway to the VM's loopback too.
#
# Usage: cases.sh BUILDDIR
# Cases per peer (in order; each bounded): dhcp, tcp-out (1 MiB from a server
# in the VM to lwIP, byte-exact), tcp-in (1 MiB from lwIP's HTTP server to curl
# through the daemon's port forward), udp-echo, link-recovery (kill and
# restart the daemon: the link comes back, DHCP binds again, tcp-in again).
# Output: "PASS peer case" / "FAIL peer case: why", then
# "netif: N passed, M failed" over both peers.
# Exit status: 0 all passed, 1 a case failed, 99 outside the test VM.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../interop/guard.sh"
. "$here/peer.sh"
B=$(readlink -f "$1")
NETIF=$B/examples/lwvsock-netif
T=$(mktemp -d /tmp/lwvsock-netif.XXXXXX)
HTTP_PORT=8000
passed=0 failed=0
PEER= daemon_pid= netif_pid= http_pid= socat_pid=

cleanup() {
  for p in $netif_pid $daemon_pid $socat_pid $http_pid; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
pass() { echo "PASS $PEER $1"; passed=$((passed + 1)); }
fail() {
  echo "FAIL $PEER $1: $2"; failed=$((failed + 1))
  for f in "$T"/*.log; do [ -s "$f" ] && { echo "  --- ${f##*/}"; tail -8 "$f" | sed 's/^/  | /'; }; done
}
# wait_for FILE PATTERN SECS: grep -E PATTERN in FILE until it shows or SECS pass
wait_for() {
  local i
  for i in $(seq $(($3 * 2))); do grep -Eq "$2" "$1" 2>/dev/null && return 0; sleep 0.5; done
  return 1
}
# start_daemon: start $PEER's daemon (daemon_pid); 1 if it did not come up.
start_daemon() {
  case $PEER in
  slirp)
    netif_daemon "$T/slirp.log"
    daemon_pid=$netif_daemon_pid
    sleep 2;;
  passt)  # it drops to nobody before binding its socket, hence the sticky dir
    : >"$T/passt.log"
    passt -f -4 -s "$T/sock/passt.sock" -l "$T/passt.log" \
      -t "$NETIF_FWD_TCP:80" -u "$NETIF_FWD_UDP:7" >/dev/null 2>&1 &
    daemon_pid=$!
    wait_for "$T/passt.log" 'UNIX domain socket bound' 30 && [ -S "$T/sock/passt.sock" ];;
  esac
}
stop_daemon() { kill "$daemon_pid"; wait "$daemon_pid" 2>/dev/null; daemon_pid=; }
# fetch_page: 1 MiB from lwIP's HTTP server through the port forward, byte-exact
fetch_page() {
  netif_get "$T/in.bin" "$T/curl.log" && cmp -s "$T/page.bin" "$T/in.bin"
}

# run_peer NAME: the five cases against one daemon, with a fresh lwvsock-netif.
run_peer() {
  PEER=$1
  rm -f "$T/got.bin" "$T"/*.log
  if ! start_daemon; then
    fail setup "the daemon did not start"
    stop_daemon
    return
  fi
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
    pass "tcp-in (1 MiB through the forward :$NETIF_FWD_TCP -> lwIP :80, byte-exact)"
  else
    fail tcp-in "curl/cmp failed: $(tail -1 "$T/curl.log")"
  fi

  if netif_udp_echo >>"$T/udp.log" 2>&1; then
    pass "udp-echo ($(tail -1 "$T/udp.log"))"
  else
    fail udp-echo "no echo in 20 tries"
  fi

  stop_daemon
  if ! wait_for "$T/netif.log" 'link down' 30; then
    fail link-recovery "the link did not go down when the daemon died"
  elif ! start_daemon; then
    fail link-recovery "the daemon did not start again"
  elif ! wait_for "$T/netif.log" 'dhcp: bound 10\.0\.2\.15 gateway 10\.0\.2\.2 \(#2\)' 90; then
    fail link-recovery "no new lease after the daemon came back"
  elif ! fetch_page; then
    fail link-recovery "tcp-in after recovery failed: $(tail -1 "$T/curl.log")"
  else
    pass "link-recovery (link down, reconnect, DHCP bound again, 1 MiB tcp-in again)"
  fi

  kill "$netif_pid"; wait "$netif_pid" 2>/dev/null; netif_pid=
  [ -z "$daemon_pid" ] || stop_daemon
  grep 'netif: rx' "$T/netif.log" | sed "s/^/# $PEER: /"
}

[ -x "$NETIF" ] || { echo "FAIL setup: $NETIF is not built"; echo "netif: 0 passed, 1 failed"; exit 1; }
mkdir -p "$T/www"
head -c 1048576 /dev/urandom >"$T/www/big.bin"
head -c 1048576 /dev/urandom >"$T/page.bin"
netif_http_server "$T/www" "$HTTP_PORT" "$T/http.out"
http_pid=$netif_http_pid

run_peer slirp

# passt's host side: an interface with a route to template the guest's lease
# on, a socket dir passt may write to once it is nobody, and the bridge from
# vsock port 1024 (one socat child per connection, so the daemon can restart).
ip addr add 10.0.2.15/24 dev dummy0 && ip link set dummy0 up && ip route add default via 10.0.2.2 ||
  echo "# could not configure dummy0 (is the dummy module loaded?)"
mkdir -p "$T/sock" && chmod 1777 "$T/sock" && chmod o+x "$T"
socat VSOCK-LISTEN:1024,fork "UNIX-CONNECT:$T/sock/passt.sock" 2>/dev/null &
socat_pid=$!
run_peer passt

echo "netif: $passed passed, $failed failed"
[ $failed = 0 ]
