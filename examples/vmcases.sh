#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs INSIDE the test VM only (guard.sh refuses elsewhere): the examples as
# guest CID 3 on /dev/vhost-vsock, driven from the VM's Linux side with socat,
# curl and python AF_VSOCK sockets. Usage: vmcases.sh BUILDDIR
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../tests/interop/guard.sh"
B=$1/examples
T=$(mktemp -d)
pid=
fails=0
stop() { [ -n "$pid" ] && { kill -TERM "$pid" 2>/dev/null; wait "$pid"; rc=$?; pid=; return $rc; }; }
trap 'stop; rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# start LOG PATTERN CMD...: run an example, wait (TCG is slow) for PATTERN
start() {
  log=$1 pat=$2; shift 2
  "$@" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 120); do grep -q "$pat" "$log" && return 0; sleep 0.5; done
  cat "$log"; fail "$1 did not start"; return 1
}

# httpd: a page through socat TCP -> VSOCK, with keep-alive
mkdir -p "$T/www" && head -c 1000000 /dev/urandom >"$T/www/f.bin"
if start "$T/httpd.log" serving "$B/lwvsock-httpd" --device vhost-vsock:cid=3 --root "$T/www" -q; then
  socat TCP-LISTEN:8080,bind=127.0.0.1,reuseaddr,fork VSOCK-CONNECT:3:80 & s=$!
  curl -sS --max-time 60 --retry 20 --retry-delay 1 --retry-connrefused \
    -o "$T/got1" http://127.0.0.1:8080/f.bin -o "$T/got2" http://127.0.0.1:8080/f.bin \
    -w '%{http_code} %{num_connects}\n' >"$T/curl.out" || fail "curl"
  cmp -s "$T/www/f.bin" "$T/got1" && cmp -s "$T/www/f.bin" "$T/got2" || fail "httpd: file differs"
  tail -1 "$T/curl.out" | grep -q '^200 0$' || fail "httpd: second request did not reuse the connection ($(cat "$T/curl.out"))"
  kill $s; wait $s 2>/dev/null
  stop || fail "httpd exit status"
  echo "ok httpd on vhost-vsock"
fi

# echo: 3 MB through and back
head -c 3000000 /dev/urandom >"$T/in"
if start "$T/echo.log" echoing "$B/lwvsock-echo" --device vhost-vsock:cid=3 -q; then
  timeout 120 socat -t 60 - VSOCK-CONNECT:3:1234 <"$T/in" >"$T/out"
  cmp -s "$T/in" "$T/out" || fail "echo: $(wc -c <"$T/out") bytes back of 3000000"
  stop || fail "echo exit status"
  echo "ok echo on vhost-vsock"
fi

# perf: sink server, -R server, client to a Linux listener
if start "$T/perf.log" "server on" "$B/lwvsock-perf" --device vhost-vsock:cid=3 -s -q; then
  head -c 20000000 /dev/zero | timeout 120 socat -u - VSOCK-CONNECT:3:5201
  timeout 120 python3 - <<'PY' || fail "perf -R from Linux"
import socket, struct
s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
s.settimeout(60)
s.connect((3, 5201))
s.sendall(b"LWVPERF1" + struct.pack("<QII", 5000000, 1, 0))
got = b""
while True:
    d = s.recv(262144)
    if not d:
        break
    got += d
assert got == bytes(i % 251 for i in range(251)) * (5000000 // 251) + bytes(range(5000000 % 251)), len(got)
PY
  stop || fail "perf -s exit status"
  grep -q "^server: received 20000000 bytes" "$T/perf.log" || fail "perf -s did not count 20000000 bytes"
  grep -q "^server: sent 5000000 bytes" "$T/perf.log" || fail "perf -s did not send for -R"
  echo "ok perf -s on vhost-vsock"
fi
timeout 120 socat -u VSOCK-LISTEN:5202 /dev/null & s=$!
sleep 1
timeout 120 "$B/lwvsock-perf" --device vhost-vsock:cid=3 -c 2 -p 5202 -n 20M -q >"$T/c.out" 2>"$T/c.err" || fail "perf -c 2: $(cat "$T/c.err")"
grep -q "^summary: sent 20971520 bytes" "$T/c.out" || fail "perf -c 2: no summary"
wait $s
echo "ok perf -c 2 on vhost-vsock: $(grep summary "$T/c.out")"
[ $fails -eq 0 ]
