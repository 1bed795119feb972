# examples/lib.sh: shared by the example tests (sourced; POSIX sh).
#
# Every server is started by ex_start_server, which records its PID; only that
# PID is ever signalled. Everything is bounded in time, and network use is
# 127.0.0.1 only (the sim's --forward binds loopback).

# Automake exports srcdir; running by hand from the build tree works too.
: "${srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
EX_BUILD=$(pwd)
EX_PY=${PYTHON:-python3}
EX_TMP=
EX_PID=

ex_skip() { echo "SKIP: $*"; exit 77; }
ex_fail() { echo "FAIL: $*" >&2; [ -n "$EX_LOG" ] && [ -f "$EX_LOG" ] && sed 's/^/  server: /' "$EX_LOG" >&2; ex_cleanup; exit 1; }

ex_cleanup() {
  if [ -n "$EX_PID" ]; then
    kill "$EX_PID" 2>/dev/null
    wait "$EX_PID" 2>/dev/null
    EX_PID=
  fi
  if [ -n "$EX_TMP" ]; then
    rm -rf "$EX_TMP"
    EX_TMP=
  fi
}
trap ex_cleanup EXIT
trap 'ex_cleanup; exit 1' INT TERM

ex_setup() {
  command -v "$EX_PY" >/dev/null 2>&1 || ex_skip "python3 not found (the test client is a python script)"
  EX_TMP=$(mktemp -d "${TMPDIR:-/tmp}/lwvsock-ex.XXXXXX") || ex_fail "mktemp"
  EX_LOG=$EX_TMP/server.log
}

# ex_prog NAME: the path of an example program in the build tree.
ex_prog() {
  p=$EX_BUILD/examples/$1
  [ -x "$p" ] || ex_fail "$p not built (make first)"
  echo "$p"
}

# ex_free_port: a TCP port free on 127.0.0.1 right now.
ex_free_port() {
  "$EX_PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ex_start_server PATTERN CMD...: start CMD (stderr+stdout to $EX_LOG) and wait
# up to 30 s for PATTERN in its log. Fails when the server exits first.
# EX_WRAP runs the server under a tool, e.g.
#   EX_WRAP="valgrind --error-exitcode=3 --leak-check=full" make check
ex_start_server() {
  pat=$1; shift
  if [ -n "${EX_WRAP:-}" ]; then
    set -- "$EX_BUILD/libtool" --mode=execute $EX_WRAP "$@"
  fi
  "$@" >"$EX_LOG" 2>&1 &
  EX_PID=$!
  i=0
  while [ $i -lt 300 ]; do
    grep -q "$pat" "$EX_LOG" 2>/dev/null && return 0
    kill -0 "$EX_PID" 2>/dev/null || { wait "$EX_PID"; rc=$?; EX_PID=; ex_fail "server exited ($rc) before '$pat'"; }
    sleep 0.1
    i=$((i + 1))
  done
  ex_fail "server did not print '$pat' within 30 s"
}

# ex_stop_server: SIGTERM our server, wait up to 30 s, require exit status 0
# and the device counters in its log.
ex_stop_server() {
  kill -TERM "$EX_PID" 2>/dev/null
  i=0
  while kill -0 "$EX_PID" 2>/dev/null && [ $i -lt 300 ]; do
    sleep 0.1
    i=$((i + 1))
  done
  if kill -0 "$EX_PID" 2>/dev/null; then
    kill -KILL "$EX_PID" 2>/dev/null
    wait "$EX_PID" 2>/dev/null
    EX_PID=
    ex_fail "server ignored SIGTERM for 30 s"
  fi
  wait "$EX_PID"
  rc=$?
  EX_PID=
  [ $rc -eq 0 ] || ex_fail "server exited with $rc after SIGTERM"
  grep -q "counters:" "$EX_LOG" || ex_fail "server printed no device counters on exit"
}
