# SPDX-License-Identifier: BSD-3-Clause
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

# ex_expect_error RC TEXT CMD...: CMD exits RC within 30 s with TEXT (fixed
# string) in a short stderr: one line naming the problem (and, for usage
# errors, one "Try --help" line), never getopt's own line with the .libs/
# path, never a counter dump, never an argument echoed whole.
ex_expect_error() {
  want=$1 text=$2; shift 2
  timeout 30 "$@" >/dev/null 2>"$EX_TMP/err"; rc=$?
  what="$(echo "$*" | cut -c1-80)"
  [ $rc -eq "$want" ] || { cat "$EX_TMP/err" >&2; ex_fail "$what: exit $rc, expected $want"; }
  grep -qF -- "$text" "$EX_TMP/err" || { cat "$EX_TMP/err" >&2; ex_fail "$what: no '$text'"; }
  lines=$(wc -l <"$EX_TMP/err")
  max=1; [ "$want" -ne 2 ] || max=2
  [ "$lines" -le $max ] || { cat "$EX_TMP/err" >&2; ex_fail "$what: $lines lines on stderr, expected at most $max"; }
  [ "$(wc -c <"$EX_TMP/err")" -le 400 ] || ex_fail "$what: stderr longer than 400 bytes"
  ! grep -q '\.libs\|counters:' "$EX_TMP/err" || { cat "$EX_TMP/err" >&2; ex_fail "$what: getopt's line or counters on stderr"; }
  [ "$want" -ne 2 ] || grep -q "^Try '.* --help'\.$" "$EX_TMP/err" || ex_fail "$what: no 'Try --help' line"
}

# ex_check_cli PROG SOURCE [ARG...]: the command-line rules every example
# shares; SOURCE is its .c file (for the option table), ARGs make it listen.
ex_check_cli() {
  name=$1 src=$2; shift 2
  prog=$(ex_prog "$name")
  long=$(head -c 100000 /dev/zero | tr '\0' 7)
  ex_expect_error 2 "option '--port' needs an argument" "$prog" --port
  ex_expect_error 2 "option '-p' needs an argument" "$prog" -p
  ex_expect_error 2 "unknown or ambiguous option '--bogus'" "$prog" --bogus
  ex_expect_error 2 "unknown option '-Z'" "$prog" -Z
  ex_expect_error 2 "option '--quiet=1' takes no argument" "$prog" --quiet=1
  ex_expect_error 2 "--device '': empty" "$prog" --device ""
  ex_expect_error 2 "... (100000 bytes)': not a vsock port" "$prog" --port "$long"
  ex_expect_error 2 "... (100000 bytes)': expected TCP:VSOCK" "$prog" --forward "$long"
  ex_expect_error 2 "unexpected argument '777" "$prog" "$@" "$long"
  ex_expect_error 2 "--port '-1': not a vsock port" "$prog" --port -1
  ex_expect_error 2 "--forward 8083:80: nothing listens on vsock port 80" "$prog" "$@" --forward 8083:80 --port 81
  # start-up failures: the one line, no zero counters after it
  ex_expect_error 1 "--pcap $EX_TMP/none/x.pcap: cannot create" "$prog" "$@" --pcap "$EX_TMP/none/x.pcap"
  ex_expect_error 2 "--device bogus" "$prog" "$@" --device bogus
  "$prog" --help >"$EX_TMP/help" || ex_fail "$name --help: exit $?"
  # --help is complete: every long option of the program's table is described
  for o in $(sed -n 's/^ *{ *"\([a-z-]*\)", *[a-z_]*_argument.*/\1/p' "$srcdir/examples/$src" "$srcdir/examples/options.c"); do
    grep -q -- "--$o\b" "$EX_TMP/help" || ex_fail "$name --help does not describe --$o"
  done
  # ports are decimal even with a leading zero (not octal)
  for p in 010:10 08:8; do
    PORT=$(ex_free_port)
    ex_start_server "on vsock port ${p#*:} (" "$prog" "$@" --port "${p%:*}" --forward "$PORT:${p#*:}" -q
    ex_stop_server
  done
  echo "ok $name command line"
}
