#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# cases.sh - interop cases of lwvsock against Linux's own vsock, run INSIDE
# the test VM (tests/interop/vm.sh). The lwvsock programs register guest CIDs
# with the VM's kernel through /dev/vhost-vsock; the host side is Linux
# AF_VSOCK (tests/interop/vsock_peer.py, socat).
#
# Usage: cases.sh [-b BUILDDIR] [-T SECS] [-l] [CASE...]
#   -b DIR   the build tree with examples/ and tests/interop/ (default: cwd)
#   -T SECS  time budget of the whole run: each case gets at most what is left,
#            and cases that find it used up fail as "not run" (default: none)
#   -l       list the cases and exit
#   CASE     run only these (shell patterns, e.g. 'backend-*'); default all
# Output: one line per case, "PASS name" or "FAIL name: reason" (with the
# logs of a failed case below it), then "N passed, N failed" alone on a line.
# Exit status: 0 when nothing failed, 1 otherwise, 99 outside the test VM.
D=$(dirname "$(readlink -f "$0")")
. "$D/guard.sh"
. "$D/runner.sh"

B=$PWD LIST=0 BUDGET=0
while getopts "b:T:lh" o; do
  case $o in
    b) B=$(readlink -f "$OPTARG");; l) LIST=1;; T) BUDGET=$OPTARG;;
    h) awk 'NR>2 && /^#/ {sub(/^# ?/, ""); print; next} NR>2 {exit}' "$0"; exit 0;;
    *) echo "cases.sh: see -h" >&2; exit 2;;
  esac
done
shift $((OPTIND - 1))

export B D
export PEER="python3 $D/vsock_peer.py"
export ECHO=$B/examples/lwvsock-echo PERF=$B/examples/lwvsock-perf HTTPD=$B/examples/lwvsock-httpd
export BRINGUP=$B/tests/interop/vhost_bringup
export TXW=$B/tests/interop/tx_writer
LOGS=$(mktemp -d /tmp/lwvsock-cases.XXXXXX)
export LOGS

# ---- helpers (run inside each case's bash) -------------------------------------

# need PROG...: fail the case when a program is missing
need() {
  local p
  for p in "$@"; do
    [ -x "$p" ] || { echo "$p is not built (make check builds it)"; return 1; }
  done
}
# bg NAME CMD...: start CMD in the background, log in $LOGS/NAME.log; the runner
# ends it by PID when the case is over
bg() {
  local name=$1; shift
  "$@" > "$LOGS/$CASE.$name.log" 2>&1 &
  echo $! >> "$LOGS/$CASE.pids"
}
# alive NAME PID: the process still runs
alive() { kill -0 "$2" 2>/dev/null || { echo "$1 (pid $2) died: $(tail -3 "$LOGS/$CASE.$1.log" | tr '\n' ' ')"; return 1; }; }
lastpid() { tail -1 "$LOGS/$CASE.pids"; }
# echo_server NAME CID: start lwvsock-echo on vhost-vsock CID, port 1234 (the
# clients retry refused connects for 15 s while it comes up)
echo_server() {
  need "$ECHO" || return 1
  bg "$1" "$ECHO" --device "vhost-vsock:cid=$2" --port 1234
}
# sqecho_server PORT: start lwvsock-echo --seqpacket on CID 3, port PORT, and wait until it accepts
sqecho_server() {
  need "$ECHO" || return 1
  bg sqecho "$ECHO" --seqpacket --device vhost-vsock:cid=3 --port "$1"
  $PEER wait --cid 3 --port "$1" --seqpacket --seconds 15 || { echo "lwvsock-echo --seqpacket did not come up: $(tail -3 "$LOGS/$CASE.sqecho.log" | tr '\n' ' ')"; return 1; }
}
# host_then sink|source PORT SECS PEER-OPTS... -- CMD...: a host sink (or source)
# on PORT, listening within 15 s, then CMD as its client, bounded by SECS; both
# must succeed
host_then() {
  local kind=$1 port=$2 secs=$3 opts=() host
  shift 3
  while [ "$1" != "--" ]; do opts+=("$1"); shift; done; shift
  bg "$kind" $PEER "$kind" --port "$port" --ready "$LOGS/$CASE.ready" "${opts[@]}"
  host=$(lastpid)
  for _ in $(seq 150); do [ -e "$LOGS/$CASE.ready" ] && break; sleep 0.1; done
  [ -e "$LOGS/$CASE.ready" ] ||
    { echo "host $kind not listening after 15 s: $(tail -2 "$LOGS/$CASE.$kind.log" | tr '\n' ' ')"; return 1; }
  timeout "$secs" "$@" || { echo "${1##*/} failed"; return 1; }
  wait "$host" || { echo "host $kind: $(tail -2 "$LOGS/$CASE.$kind.log" | tr '\n' ' ')"; return 1; }
}
export -f need bg alive lastpid echo_server sqecho_server host_then

# ---- the cases -------------------------------------------------------------------
CASES=()
# defcase NAME SECONDS: the function case_NAME (with - as _) is a case bounded by SECONDS
defcase() { CASES+=("$1:$2"); }

defcase linux-loopback 30
case_linux_loopback() { $PEER loopback --port 7000 --bytes 1048576; }

for c in open-close cid-in-use refusals misuse vring-err; do defcase "backend-$c" 30; done
case_backend_open_close() { need "$BRINGUP" && "$BRINGUP" open-close --cid 3; }
case_backend_cid_in_use() { need "$BRINGUP" && "$BRINGUP" cid-in-use --cid 3; }
case_backend_refusals() { need "$BRINGUP" && "$BRINGUP" refusals --cid 3; }
case_backend_misuse() { need "$BRINGUP" && "$BRINGUP" misuse --cid 3; }
case_backend_vring_err() { need "$BRINGUP" && "$BRINGUP" vring-err --cid 3; }
defcase backend-rst-unbound 30
case_backend_rst_unbound() { need "$BRINGUP" && "$BRINGUP" rst-unbound --cid 3 --port 4999; }
defcase backend-echo 30
case_backend_echo() {
  need "$BRINGUP" || return 1
  bg socat socat VSOCK-LISTEN:5001,reuseaddr EXEC:cat
  # socat gives no readiness signal and starts slowly under TCG: an RST for
  # the first REQUEST can just mean "not listening yet", so try a few times.
  local try
  for try in 1 2 3 4 5; do
    sleep 0.5
    "$BRINGUP" echo --cid 3 --port 5001 && return 0
    echo "(attempt $try: retrying in case the listener was not up yet)"
  done
  return 1
}

defcase echo-exact 45
case_echo_exact() { echo_server echo 3 && $PEER echo --cid 3 --port 1234 --bytes 100000; }

defcase echo-zerocopy 90
case_echo_zerocopy() {
  # received payloads live in the device memory vhost reads: the echo writes them
  # back by reference (LWVSOCK_WRITE_FLAG_NOCOPY); its counters at exit show it
  local pid i
  echo_server echo 3 || return 1
  pid=$(lastpid)
  $PEER echo --cid 3 --port 1234 --bytes 1048576 || { tail -12 "$LOGS/$CASE.echo.log"; return 1; }
  kill -TERM "$pid"
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  grep -E '^ *zc_bytes [1-9][0-9]* zc_fallback [0-9]+$' "$LOGS/$CASE.echo.log" ||
    { tail -5 "$LOGS/$CASE.echo.log"; echo "the echo sent nothing by reference"; return 1; }
}

defcase perf-to-host 60
case_perf_to_host() {
  need "$PERF" || return 1
  host_then sink 5201 45 --bytes 1048576 -- "$PERF" --device vhost-vsock:cid=3 -c 2 --port 5201 -n 1048576 \
    > "$LOGS/$CASE.perf" 2>&1 || { cat "$LOGS/$CASE.perf"; return 1; }
  # the backend counts its kicks (eventfd writes) and system calls; perf reports them per MiB
  grep -q '^summary: kicks_per_mib=[0-9.]* syscalls_per_mib=[0-9.]* ([1-9][0-9]* kicks, [1-9][0-9]* system calls' \
    "$LOGS/$CASE.perf" || { cat "$LOGS/$CASE.perf"; echo "lwvsock-perf printed no kicks/system calls per MiB"; return 1; }
  grep '^summary: kicks' "$LOGS/$CASE.perf"
}

defcase bulk-32mib-each-way 90
case_bulk_32mib_each_way() { echo_server echo 3 && $PEER echo --cid 3 --port 1234 --bytes 33554432; }

defcase concurrent-64 60
case_concurrent_64() { echo_server echo 3 && $PEER echo --cid 3 --port 1234 --conns 64 --bytes 65536; }

defcase slow-host-reader 60
case_slow_host_reader() {
  # the host reads 16 KiB every 10 ms through a 64 KiB buffer: lwvsock stalls on credit and resumes
  need "$PERF" &&
    host_then sink 5202 50 --bytes 4194304 --slow-ms 10 --chunk 16384 --rcvbuf 65536 -- \
      "$PERF" --device vhost-vsock:cid=3 -c 2 --port 5202 -n 4194304
}

defcase slow-lwvsock-reader 60
case_slow_lwvsock_reader() {
  # the host reads nothing for 3 s: the echo stops reading, the host's sender runs out of
  # credit, and only lwvsock's CREDIT_UPDATEs let it resume
  echo_server echo 3 && $PEER echo --cid 3 --port 1234 --bytes 8388608 --stall-ms 3000
}

defcase close-slow-reader 75
case_close_slow_reader() {
  # lwvsock queues 512 KiB and closes at once; the host reads 32 KiB every
  # 600 ms through a 64 KiB buffer, past the 8 s close timer: every byte
  # arrives, then a clean EOF (the close timer starts when SHUTDOWN goes out)
  need "$TXW" || return 1
  host_then sink 5204 65 --bytes 524288 --slow-ms 600 --chunk 32768 --rcvbuf 65536 --client-closes -- \
    "$TXW" --device vhost-vsock:cid=3 --port 5204 -n 512K --close-early --timeout 60
}

defcase small-records 90
case_small_records() {
  # 3000 records of 100 bytes, each written and output on its own (lwIP httpd
  # style) to a host reading 4 KiB every 5 ms: they coalesce, so Linux never
  # queues too many small packets and resets; the stream is byte-exact
  need "$TXW" || return 1
  host_then sink 5205 80 --bytes 300000 --slow-ms 5 --chunk 4096 -- \
    "$TXW" --device vhost-vsock:cid=3 --port 5205 -n 300000 --records 100 --timeout 75
}

defcase app-holds-64k 90
case_app_holds_64k() {
  # the host sends 4 MiB one way; lwvsock-perf -R consumes all but the first 100000
  # bytes (held to the end). Linux never asks for credit and no data flows back to
  # carry it, so only lwvsock's own CREDIT_UPDATEs keep the host sending
  need "$PERF" &&
    host_then source 5206 75 -- "$PERF" --device vhost-vsock:cid=3 -c 2 --port 5206 -n 4194304 -R --verify --hold 100000
}

defcase half-close-host 30
case_half_close_host() {
  # the host shuts down sending first and must still get the whole echo, then EOF
  echo_server echo 3 && $PEER echo --cid 3 --port 1234 --bytes 300000
}

defcase half-close-lwvsock 60
case_half_close_lwvsock() {
  # lwvsock-perf shuts down sending after its data; the host's send side stays usable
  need "$PERF" &&
    host_then sink 5203 45 --bytes 65536 -- "$PERF" --device vhost-vsock:cid=3 -c 2 --port 5203 -n 65536
}

defcase refused-unbound 60
case_refused_unbound() {
  echo_server echo 3 && $PEER wait --cid 3 --port 1234 || return 1
  $PEER refused --cid 3 --port 4321 || return 1
  # and the other way: lwvsock connecting to an unbound host port fails at once,
  # timed from its "connecting" line to its end (its start-up, slow under load,
  # is not the refusal's time); each line is stamped as it arrives
  need "$PERF" || return 1
  local line t0= t1= out=$LOGS/$CASE.perf.log
  timeout 60 "$PERF" --device vhost-vsock:cid=4 -c 2 --port 4998 -n 1000 2>&1 |
    while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done > "$out"
  [ "${PIPESTATUS[0]}" != 0 ] || { echo "lwvsock-perf connected to unbound host port 4998"; return 1; }
  t0=$(awk '/ connecting to CID 2 port 4998$/ { print $1; exit }' "$out")
  t1=$(awk '/ connection to CID 2 port 4998 ended: / { print $1; exit }' "$out")
  [ -n "$t0" ] && [ -n "$t1" ] ||
    { echo "lwvsock-perf did not log its connect and the refusal: $(tail -3 "$out" | tr '\n' ' ')"; return 1; }
  awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a <= 5) }' ||
    { echo "lwvsock-perf took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s to see the refusal"; return 1; }
  echo "refusal seen $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }') s after connecting"
}

defcase host-rst-mid-transfer 60
case_host_rst_mid_transfer() {
  echo_server echo 3 || return 1
  local pid; pid=$(lastpid)
  $PEER echo --cid 3 --port 1234 --bytes 4194304 --abort-after 262144 || return 1
  # the host's SHUTDOWN, and at the latest its RST when its 8 s close timeout
  # expires, must end lwvsock's side of the connection; an echo still holding
  # data when the SHUTDOWN arrives cannot write it (ERR_CONN) and aborts
  local i ended='connection ended|closed connection|aborted \(write failed\)'
  for i in $(seq 75); do
    grep -qE "$ended" "$LOGS/$CASE.echo.log" && break
    sleep 0.2
  done
  grep -qE "$ended" "$LOGS/$CASE.echo.log" ||
    { echo "lwvsock-echo still holds the connection 15 s after the host aborted it"; return 1; }
  alive echo "$pid" || return 1
  $PEER echo --cid 3 --port 1234 --bytes 100000 || { echo "no clean echo after the host's abort"; return 1; }
}

defcase two-cids 45
case_two_cids() {
  echo_server echo3 3 && echo_server echo4 4 || return 1
  $PEER echo --cid 3 --port 1234 --bytes 200000 --conns 2 &
  local p3=$!
  $PEER echo --cid 4 --port 1234 --bytes 200000 --conns 2 || { wait $p3; return 1; }
  wait $p3
}

defcase seqpacket 60
case_seqpacket() { sqecho_server 1235 && $PEER seqpacket --cid 3 --port 1235; }

defcase seqpacket-limit 60
case_seqpacket_limit() {
  # a 70,000-byte message: Linux says EMSGSIZE; a 65,535-byte one is echoed whole
  sqecho_server 1236 && $PEER seqlimit --cid 3 --port 1236
}

defcase httpd-via-socat 60
case_httpd_via_socat() {
  need "$HTTPD" || return 1
  local www=/tmp/www.$$
  mkdir -p "$www" && echo "<h1>lwvsock interop</h1>" > "$www/index.html" &&
    head -c 1048576 /dev/urandom > "$www/big.bin" || return 1
  bg httpd "$HTTPD" --device vhost-vsock:cid=3 --port 80 --root "$www"
  $PEER wait --cid 3 --port 80 --seconds 15 || { echo "lwvsock-httpd did not come up: $(tail -3 "$LOGS/$CASE.httpd.log" | tr '\n' ' ')"; return 1; }
  bg socat socat TCP-LISTEN:8080,bind=127.0.0.1,reuseaddr,fork VSOCK-CONNECT:3:80
  python3 - "$www" <<'EOF'
import hashlib, sys, time, urllib.request
www = sys.argv[1]
for _ in range(50):
    try:
        index = urllib.request.urlopen("http://127.0.0.1:8080/", timeout=20).read()
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("socat on 127.0.0.1:8080 never answered")
if b"lwvsock interop" not in index:
    sys.exit("GET / returned %r" % index[:80])
big = urllib.request.urlopen("http://127.0.0.1:8080/big.bin", timeout=30).read()
want = open(www + "/big.bin", "rb").read()
if hashlib.sha256(big).digest() != hashlib.sha256(want).digest():
    sys.exit("GET /big.bin: %d bytes, sha256 differs from the file's %d" % (len(big), len(want)))
EOF
}

# ---- the runner --------------------------------------------------------------------
if [ $LIST = 1 ]; then
  for c in "${CASES[@]}"; do echo "${c%%:*} (${c##*:} s)"; done
  exit 0
fi

# stop NAME's background processes, by PID, and wait until they are gone (their CIDs with them)
reap() {
  local pid i
  [ -s "$LOGS/$1.pids" ] || return 0
  for pid in $(cat "$LOGS/$1.pids"); do kill "$pid" 2>/dev/null; done
  for pid in $(cat "$LOGS/$1.pids"); do
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
}

passed=0 failed=0
for c in "${CASES[@]}"; do
  name=${c%%:*}
  runner_selected "$name" "$@" || continue
  runner_budget "$name" "${c##*:}" 5 || { failed=$((failed + 1)); continue; }
  export CASE=$name
  t0=$SECONDS
  runner_exec "case_${name//-/_}" "$LOGS/$name.out"
  rc=$?
  reap "$name"
  dt=$((SECONDS - t0))
  if [ $rc = 0 ]; then
    echo "PASS $name (${dt}s)"
    passed=$((passed + 1))
  else
    echo "FAIL $name: $(runner_why $rc "$LOGS/$name.out")"
    for f in "$LOGS/$name.out" "$LOGS/$name".*.log; do
      [ -s "$f" ] && { echo "  --- ${f##*/} (last lines)"; tail -15 "$f" | sed 's/^/  | /'; }
    done
    failed=$((failed + 1))
  fi
done
rm -rf "$LOGS"
echo "$passed passed, $failed failed"
[ $failed = 0 ]
