#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# lwvsock-echo over the simulated host: concurrent connections through
# --forward, bytes in == bytes out, one client slow to read (flow control).
. "${srcdir:-.}/examples/lib.sh"
ex_setup
ECHO=$(ex_prog lwvsock-echo)
PORT=$(ex_free_port)
ex_start_server "echoing" "$ECHO" --device sim --port 1234 --forward "$PORT:1234" --quiet
"$EX_PY" "$srcdir/examples/excheck.py" echo "$PORT" || ex_fail "echo checks"
ex_stop_server
echo "ok echo"
# --seqpacket (its echo is checked against Linux in tests/interop): the sim's
# --forward connects streams only, so the two together are a usage error
ex_expect_error 2 "it does not go with --seqpacket" "$ECHO" --seqpacket --forward "$PORT:1234"
echo "ok echo --seqpacket command line"
ex_check_cli lwvsock-echo echo.c
exit 0
