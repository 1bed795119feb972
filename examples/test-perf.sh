#!/bin/sh
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
  echo "ok perf loopback $rev: $(grep '^summary' "$EX_TMP/out")"
done

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
"$PERF" >/dev/null 2>&1; [ $? -eq 2 ] || ex_fail "perf without -s/-c is a usage error"
exit 0
