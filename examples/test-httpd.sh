#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# lwvsock-httpd over the simulated host: curl-like checks through --forward
# (200, 404, 400, 403, 405, 413, 414, 505, keep-alive, pipelining, HEAD, an
# 8 MiB file by sha256, 40 concurrent clients), then SIGTERM and counters.
. "${srcdir:-.}/examples/lib.sh"
ex_setup
HTTPD=$(ex_prog lwvsock-httpd)
ROOT=$EX_TMP/www
mkdir -p "$ROOT/sub"
printf '<!DOCTYPE html>\n<html><body>index of the test root</body></html>\n' >"$ROOT/index.html"
printf 'sub index\n' >"$ROOT/sub/index.html"
printf 'must not be served\n' >"$EX_TMP/outside.txt"
ln -s ../outside.txt "$ROOT/link.txt"
head -c 8388608 /dev/urandom >"$ROOT/big.bin" || ex_fail "cannot generate big.bin"

PORT=$(ex_free_port)
ex_start_server "serving" "$HTTPD" --device sim --port 80 --root "$ROOT" \
  --forward "$PORT:80" --quiet
"$EX_PY" "$srcdir/examples/excheck.py" http "$PORT" "$ROOT" || ex_fail "http checks"

# the built-in page when there is no --root
ex_stop_server
PORT=$(ex_free_port)
ex_start_server "serving" "$HTTPD" --port 8000 --forward "$PORT:8000" --quiet
"$EX_PY" - "$PORT" <<'PY' || ex_fail "built-in page"
import sys, urllib.request
body = urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=20).read().decode()
assert "served by lwvsock-httpd over virtio-vsock" in body and "guest CID 3" in body, body
print("ok built-in page")
PY
ex_stop_server
grep -q "conns_opened" "$EX_LOG" || ex_fail "no connection counters"

# usage errors exit 2 and name the problem
"$HTTPD" --port nope >/dev/null 2>"$EX_TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q -- "--port 'nope'" "$EX_TMP/err" || ex_fail "bad --port: exit $rc"
"$HTTPD" --root "$EX_TMP/none" >/dev/null 2>"$EX_TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q "none" "$EX_TMP/err" || ex_fail "bad --root: exit $rc"
"$HTTPD" --device bogus >/dev/null 2>"$EX_TMP/err"; rc=$?
[ $rc -ne 0 ] && grep -q "bogus" "$EX_TMP/err" || ex_fail "bad --device: exit $rc"
"$HTTPD" --help | grep -q "Usage: lwvsock-httpd" || ex_fail "--help"
echo "ok usage errors"
ex_check_cli lwvsock-httpd httpd.c
exit 0
