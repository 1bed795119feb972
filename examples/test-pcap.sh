#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# --pcap: a capture of an echo session that tshark reads and decodes as vsock
# (LINKTYPE_VSOCK, vsockmon header + virtio header). Skipped without tshark.
. "${srcdir:-.}/examples/lib.sh"
command -v tshark >/dev/null 2>&1 || ex_skip "tshark not installed"
ex_setup
ECHO=$(ex_prog lwvsock-echo)
PORT=$(ex_free_port)
ex_start_server "echoing" "$ECHO" --port 4321 --forward "$PORT:4321" --pcap "$EX_TMP/cap.pcap" --quiet
"$EX_PY" - "$PORT" <<'PY' || ex_fail "echo through the forward"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"hello vsock pcap")
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    d = s.recv(100)
    if not d:
        break
    got += d
assert got == b"hello vsock pcap", got
PY
ex_stop_server
OUT=$EX_TMP/fields
tshark -r "$EX_TMP/cap.pcap" -T fields -E separator=' ' \
  -e vsock.trans -e vsock.virtio.op -e vsock.virtio.src_cid -e vsock.virtio.dst_cid \
  -e vsock.virtio.dst_prot -e vsock.virtio.len >"$OUT" 2>"$EX_TMP/tshark.err" \
  || { cat "$EX_TMP/tshark.err" >&2; ex_fail "tshark cannot read the capture"; }
# transport virtio (2); REQUEST (op 1) from the host (CID 2) to us (CID 3) on port 4321
grep -q "^2 1 2 3 4321 0$" "$OUT" || { cat "$OUT" >&2; ex_fail "no REQUEST 2 -> 3:4321 decoded"; }
# RW (op 5) with the 16 payload bytes, both ways
grep -q "^2 5 2 3 4321 16$" "$OUT" || { cat "$OUT" >&2; ex_fail "no 16-byte RW to us decoded"; }
grep -q "^2 5 3 2 [0-9]* 16$" "$OUT" || { cat "$OUT" >&2; ex_fail "no 16-byte RW echo decoded"; }
tshark -r "$EX_TMP/cap.pcap" -T fields -e vsock.payload 2>/dev/null | grep -q "68656c6c6f2076736f636b2070636170" || ex_fail "payload not in the capture"
echo "ok pcap: $(wc -l <"$OUT") packets decoded by tshark"
exit 0
