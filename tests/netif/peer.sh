# SPDX-License-Identifier: BSD-3-Clause
# peer.sh - the host side of the netif cases, sourced (bash) by
# tests/netif/cases.sh (lwvsock-netif in the test VM) and tests/pci/guest.sh
# (lwvsock-netif in the nested guest on the PCI device). INSIDE the test VM
# only: the sourcing script has run tests/interop/guard.sh.
# The network daemon is QEMU's user networking (libslirp: DHCP, NAT, port
# forwarding) switched to a -netdev stream listening on vsock port 1024 of
# this machine; slirp's gateway 10.0.2.2 is this machine's loopback, and
# 127.0.0.1:NETIF_FWD_TCP / :NETIF_FWD_UDP forward to lwIP's TCP port 80 and
# UDP port 7.
NETIF_FWD_TCP=8080 NETIF_FWD_UDP=5555

# netif_daemon LOG: start the daemon (QEMU with no machine as a hub between
# slirp and the vsock stream) in the background, output appended to LOG; its
# pid in $netif_daemon_pid
netif_daemon() {
  qemu-system-x86_64 -M none -nodefaults -display none \
    -netdev "user,id=u0,hostfwd=tcp:127.0.0.1:$NETIF_FWD_TCP-:80,hostfwd=udp:127.0.0.1:$NETIF_FWD_UDP-:7" \
    -netdev stream,id=s0,server=on,addr.type=vsock,addr.cid=4294967295,addr.port=1024 \
    -netdev hubport,id=h0,hubid=0,netdev=u0 -netdev hubport,id=h1,hubid=0,netdev=s0 \
    >>"$1" 2>&1 &
  netif_daemon_pid=$!
}

# netif_http_server DIR PORT LOG: serve DIR over HTTP on 127.0.0.1:PORT in the
# background (its pid in $netif_http_pid) and wait (at most 60 s) until it answers: python
# starts slowly under TCG, and lwIP's fetch runs as soon as DHCP binds
netif_http_server() {
  local _
  python3 -m http.server "$2" --bind 127.0.0.1 --directory "$1" >"$3" 2>&1 &
  netif_http_pid=$!
  for _ in $(seq 120); do curl -s -o /dev/null "http://127.0.0.1:$2/" && return 0; sleep 0.5; done
  return 1
}

# netif_get OUT LOG: lwIP's HTTP page through the TCP forward into OUT
# (retried while the forward is not yet answering); curl's errors go to LOG
netif_get() {
  rm -f "$1"
  curl -sS --max-time 90 --retry 10 --retry-delay 2 --retry-all-errors \
    -o "$1" "http://127.0.0.1:$NETIF_FWD_TCP/" 2>>"$2"
}

# netif_udp_echo: one 1000-byte datagram through the UDP forward to lwIP's
# echo, byte-exact, at most 20 tries (slirp learns the route with the first);
# prints "echoed N bytes after K tries"; status 0 when one came back
netif_udp_echo() {
  timeout 60 python3 - "$NETIF_FWD_UDP" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for i in range(20):
    msg = os.urandom(1000)
    s.sendto(msg, ("127.0.0.1", int(sys.argv[1])))
    try:
        d, _ = s.recvfrom(2048)
    except socket.timeout:
        continue
    if d == msg:
        print("echoed", len(d), "bytes after", i + 1, "tries")
        sys.exit(0)
sys.exit(1)
PY
}
