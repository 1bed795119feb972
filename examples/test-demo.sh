#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# scripts/demo.sh in a checkout configured in the source tree (the README's
# in-tree build): it builds there instead of configuring build/, says that it
# is building, invites to the URL only once the server listens, refuses a
# taken port without the invitation, and ends on Ctrl-C with the counters.
# The checkout is scripts/demo.sh beside a config.status and a Makefile whose
# examples/lwvsock-httpd target wraps the program this build made.
. "${srcdir:-.}/examples/lib.sh"
command -v setsid >/dev/null 2>&1 || ex_skip "setsid not found (util-linux)"
command -v bash >/dev/null 2>&1 || ex_skip "bash not found (demo.sh is a bash script)"
ex_setup
HTTPD=$(ex_prog lwvsock-httpd)
CO=$EX_TMP/checkout
mkdir -p "$CO/scripts" && cp "$srcdir/scripts/demo.sh" "$CO/scripts/" || ex_fail "cannot make the checkout"
: >"$CO/config.status"
printf 'examples/lwvsock-httpd:\n\t@mkdir -p examples\n\t@printf %s >$@\n\t@chmod +x $@\n\t@echo "  CCLD     $@"\n' \
  "'#!/bin/sh\\nexec \"$HTTPD\" \"\$\$@\"\\n'" >"$CO/Makefile"

# demo PORT LOG: start demo.sh in a new session (as a terminal would run it);
# DEMO is the PID of the session's leader, so kill -INT -$DEMO is Ctrl-C.
# LOG.rc gets demo.sh's exit status.
demo() {
  setsid bash -c 'echo $$ >"$0.pid"; bash "$1" --no-install --port "$2" </dev/null >"$0" 2>&1; echo $? >"$0.rc"' \
    "$2" "$CO/scripts/demo.sh" "$1" &
  i=0
  while [ ! -s "$2.pid" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  DEMO=$(cat "$2.pid") || ex_fail "demo.sh did not start"
}
# wait_for PATTERN LOG: up to 30 s for PATTERN, or until demo.sh has ended.
wait_for() {
  i=0
  while [ $i -lt 300 ]; do
    grep -q "$1" "$2" && return 0
    [ -f "$2.rc" ] && return 1
    sleep 0.1
    i=$((i + 1))
  done
  return 1
}
# demo_rc LOG: demo.sh's exit status, waiting up to 30 s for it to end (else 124).
demo_rc() {
  i=0
  while [ ! -f "$1.rc" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
  cat "$1.rc" 2>/dev/null || echo 124
}

PORT=$(ex_free_port)
demo "$PORT" "$EX_TMP/demo1"
D1=$DEMO
wait_for "Open http://127.0.0.1:$PORT/" "$EX_TMP/demo1" || { cat "$EX_TMP/demo1" >&2; kill -INT -"$D1" 2>/dev/null; ex_fail "demo.sh did not serve"; }
grep -q "^demo.sh: building lwvsock-httpd in $CO " "$EX_TMP/demo1" || { cat "$EX_TMP/demo1" >&2; kill -INT -"$D1"; ex_fail "demo.sh did not build in the configured source tree"; }
! grep -q "configuring" "$EX_TMP/demo1" && [ ! -d "$CO/build" ] || { kill -INT -"$D1"; ex_fail "demo.sh configured build/ in a configured tree"; }
[ "$(grep -n 'serving' "$EX_TMP/demo1" | cut -d: -f1 | head -1)" -lt "$(grep -n 'Open http' "$EX_TMP/demo1" | cut -d: -f1)" ] \
  || { kill -INT -"$D1"; ex_fail "the invitation came before the server said it serves"; }
"$EX_PY" - "$PORT" <<'PY' || { kill -INT -"$D1"; ex_fail "the demo page"; }
import sys, urllib.request
body = urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=20).read().decode()
assert "served by lwvsock-httpd over virtio-vsock" in body, body
PY
echo "ok demo.sh serves from an in-tree build"

# the same port again: the server's reason, exit status 1, no invitation
demo "$PORT" "$EX_TMP/demo2"
D2=$DEMO
rc=$(demo_rc "$EX_TMP/demo2")
[ "$rc" -ne 124 ] || { kill -INT -"$D2"; kill -INT -"$D1"; ex_fail "demo.sh on a taken port did not end"; }
[ $rc -eq 1 ] || { cat "$EX_TMP/demo2" >&2; kill -INT -"$D1"; ex_fail "demo.sh on a taken port: exit $rc"; }
grep -q "cannot listen on 127.0.0.1:$PORT" "$EX_TMP/demo2" || { cat "$EX_TMP/demo2" >&2; kill -INT -"$D1"; ex_fail "no reason for the failed start"; }
! grep -q "Open http" "$EX_TMP/demo2" || { cat "$EX_TMP/demo2" >&2; kill -INT -"$D1"; ex_fail "invitation printed although the server did not start"; }
echo "ok demo.sh on a taken port"

# Ctrl-C: the server prints its counters and demo.sh exits 0
kill -INT -"$D1"
rc=$(demo_rc "$EX_TMP/demo1")
[ "$rc" -ne 124 ] || { kill -KILL -"$D1"; ex_fail "demo.sh ignored Ctrl-C for 30 s"; }
[ $rc -eq 0 ] || { cat "$EX_TMP/demo1" >&2; ex_fail "demo.sh after Ctrl-C: exit $rc"; }
grep -q "counters:" "$EX_TMP/demo1" || { cat "$EX_TMP/demo1" >&2; ex_fail "no counters after Ctrl-C"; }
echo "ok demo.sh ends on Ctrl-C with the counters"
exit 0
