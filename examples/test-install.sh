#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The example programs are installed as tools: `make install DESTDIR=...`
# puts lwvsock-httpd, lwvsock-echo and lwvsock-perf in bindir, and the
# installed copies run (against the installed library) and describe themselves.
. "${srcdir:-.}/examples/lib.sh"
ex_setup
D=$EX_TMP/dest
${MAKE:-make} -s install DESTDIR="$D" >"$EX_TMP/install.log" 2>&1 || { cat "$EX_TMP/install.log" >&2; ex_fail "make install DESTDIR=$D"; }
lib=$(find "$D" -name 'liblwvsock.so*' | head -1)
[ -n "$lib" ] || ex_fail "no liblwvsock.so installed"
for p in lwvsock-httpd lwvsock-echo lwvsock-perf; do
  bin=$(find "$D" -path "*/bin/$p" -type f)
  [ -n "$bin" ] && [ -x "$bin" ] || ex_fail "$p not installed in a bin directory"
  LD_LIBRARY_PATH=$(dirname "$lib") "$bin" --help >"$EX_TMP/help" 2>&1 || { cat "$EX_TMP/help" >&2; ex_fail "installed $p --help: exit $?"; }
  grep -q "^Usage: $p " "$EX_TMP/help" || ex_fail "installed $p --help: no usage line"
  grep -q "Exit status: 0 ok, 1 runtime error, 2 usage error" "$EX_TMP/help" || ex_fail "installed $p --help: no exit status"
  echo "ok $p installed: ${bin#"$D"}"
done
exit 0
