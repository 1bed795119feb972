#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# lwvsock-perf: client and server in one process over the in-driver loopback
# (CID 1), both directions, output format; then the sink server through the
# sim's --forward with a raw client and a -R hello.
. "${srcdir:-.}/examples/lib.sh"
ex_setup
PERF=$(ex_prog lwvsock-perf)
NUM='[0-9][0-9]*'

for rev in "" -R; do
  timeout 60 "$PERF" -s -c 1 -n 20M --verify $rev >"$EX_TMP/out" 2>"$EX_TMP/err"; rc=$?
  [ $rc -eq 0 ] || { cat "$EX_TMP/out" "$EX_TMP/err" >&2; ex_fail "perf -s -c 1 $rev: exit $rc"; }
  grep -q "^summary: \(sent\|received\) 20971520 bytes in $NUM\.$NUM s = $NUM\.$NUM MB/s ($NUM\.$NUM Mbit/s)$" "$EX_TMP/out" \
    || { cat "$EX_TMP/out" >&2; ex_fail "perf $rev: no summary line"; }
  grep -q "^server: \(sent\|received\) 20971520 bytes" "$EX_TMP/out" || ex_fail "perf $rev: no server line"
  grep -q "counters:" "$EX_TMP/err" || ex_fail "perf $rev: no counters"
  # the in-driver loopback reaches no device: no kicks, and no system call of a backend
  grep -q "^summary: kicks_per_mib=0\.00 syscalls_per_mib=$NUM\.$NUM (0 kicks, $NUM system calls of backend and loop)$" \
    "$EX_TMP/out" || { cat "$EX_TMP/out" >&2; ex_fail "perf $rev: no kicks/system calls per MiB line"; }
  grep -q "^  kicks 0 syscalls 0$" "$EX_TMP/err" || ex_fail "perf $rev: no kicks/syscalls device counters"
  echo "ok perf loopback $rev: $(grep '^summary' "$EX_TMP/out" | tr '\n' ' ')"
done

# -n is what arrives, to the byte: the server's connection and the device
# count exactly the payload (no hello in front of it); then the -R hello
for n in 1000 65537; do
  timeout 60 "$PERF" -s -c 1 -n $n >"$EX_TMP/out" 2>"$EX_TMP/err" || ex_fail "perf -n $n: exit $?"
  grep -q "closed connection 1:5201 <-> 1:$NUM: rx $n bytes in" "$EX_TMP/err" \
    || { cat "$EX_TMP/err" >&2; ex_fail "perf -n $n: the server's connection did not receive exactly $n bytes"; }
  grep -q "^  rx_pkts $NUM rx_bytes $n tx_pkts $NUM tx_bytes $n$" "$EX_TMP/err" \
    || { cat "$EX_TMP/err" >&2; ex_fail "perf -n $n: the device carried more than $n payload bytes"; }
done
timeout 60 "$PERF" -s -c 1 -n 1000 -R >"$EX_TMP/out" 2>"$EX_TMP/err" || ex_fail "perf -R -n 1000: exit $?"
grep -q "^  rx_pkts $NUM rx_bytes 1024 tx_pkts $NUM tx_bytes 1024$" "$EX_TMP/err" \
  || { cat "$EX_TMP/err" >&2; ex_fail "perf -R: not the 24-byte hello and the 1000 bytes"; }
echo "ok perf -n is exact"

# nobody listening: a clear error and exit 1
timeout 30 "$PERF" -c 1 -p 9 -n 1k >"$EX_TMP/out" 2>"$EX_TMP/err"; rc=$?
[ $rc -eq 1 ] || ex_fail "perf to a closed port: exit $rc"
grep -q "port 9" "$EX_TMP/err" || { cat "$EX_TMP/err" >&2; ex_fail "perf to a closed port: no message"; }
echo "ok perf refused"

PORT=$(ex_free_port)
ex_start_server "server on" "$PERF" -s --port 5201 --forward "$PORT:5201"
"$EX_PY" "$srcdir/examples/excheck.py" sink "$PORT" 3000000 || ex_fail "sink checks"
ex_stop_server
grep -q "^server: received 3000000 bytes" "$EX_LOG" || ex_fail "server did not count the raw client's bytes"
grep -q "^server: sent 3000000 bytes" "$EX_LOG" || ex_fail "server did not report the reverse transfer"
grep -q "^server: received 27 bytes" "$EX_LOG" || ex_fail "server did not count hello-like data as data"
grep -q "^server: received 3 bytes" "$EX_LOG" || ex_fail "server did not count a stream ending inside a hello"
"$PERF" >/dev/null 2>&1; [ $? -eq 2 ] || ex_fail "perf without -s/-c is a usage error"
ex_expect_error 2 "lwvsock-perf does not listen here" "$PERF" -c 2 --forward 8083:5201
ex_expect_error 2 "option '-c' needs an argument" "$PERF" -s -c
ex_check_cli lwvsock-perf perf.c -s
exit 0
