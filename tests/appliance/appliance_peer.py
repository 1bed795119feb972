#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""appliance_peer.py - the host side of the appliance cases: runs every case
against one booted lwvsock-appliance over AF_VSOCK and prints one line per
case ("PASS name" / "FAIL name: reason"), then "NAME: N passed, M failed".

ONLY for the lwvsock test VM (it refuses like tests/interop/vsock_peer.py,
whose helpers it uses). Every socket operation has a timeout.

Usage: appliance_peer.py --cid N --name appliance-q35 [--only CASE...]
Exit status: 0 all passed, 1 a case failed, 2 usage, 99 outside the test VM.
"""
import argparse
import hashlib
import os
import re
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import vsock_peer as vp  # noqa: E402  (in_test_vm, connect, pattern, CheckFailed)

HTTP_PORT = 80
ECHO_PORT = 1234
# Longest wait for any one socket operation: nested TCG on a loaded machine can
# stall the appliance's vCPU for tens of seconds; a real hang still fails.
IO_TIMEOUT = 120.0
MOD = 251


def check(cond, what):
    if not cond:
        raise vp.CheckFailed(what)


class Http:
    """One HTTP/1.1 connection to the appliance, keep-alive."""

    def __init__(self, cid):
        self.s = vp.connect(cid, HTTP_PORT, tries=25, timeout=IO_TIMEOUT)
        self.buf = b""

    def close(self):
        self.s.close()

    def _fill(self):
        b = self.s.recv(262144)
        if not b:
            raise vp.CheckFailed("connection closed by the appliance mid-response")
        self.buf += b

    def send(self, path, extra=""):
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: appliance\r\n%s\r\n" % (path, extra)).encode())

    def response(self, sink=None):
        """(status, headers dict, body bytes or None when sink consumed it)."""
        while b"\r\n\r\n" not in self.buf:
            check(len(self.buf) < 65536, "response header too long")
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        check(len(parts) >= 2 and parts[0] == "HTTP/1.1", "bad status line %r" % lines[0])
        hdrs = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        check("content-length" in hdrs, "no Content-Length")
        left = int(hdrs["content-length"])
        body = [] if sink is None else None
        while left > 0:
            if not self.buf:
                self._fill()
            chunk, self.buf = self.buf[:left], self.buf[left:]
            left -= len(chunk)
            if sink is None:
                body.append(chunk)
            else:
                sink(chunk)
        return int(parts[1]), hdrs, (b"".join(body) if body is not None else None)

    def get(self, path, sink=None):
        self.send(path)
        return self.response(sink)


class PatternCheck:
    """Streams a /pattern body through: counts and compares byte i with i mod 251."""

    def __init__(self):
        self.n = 0
        self.bad = None

    def __call__(self, chunk):
        if self.bad is None and chunk != vp.pattern(self.n, len(chunk)):
            exp = vp.pattern(self.n, len(chunk))
            i = next(k for k in range(len(chunk)) if chunk[k] != exp[k])
            self.bad = self.n + i
        self.n += len(chunk)


def get_pattern(h, n):
    pc = PatternCheck()
    st, hd, _ = h.get("/pattern/%d" % n, sink=pc)
    check(st == 200, "/pattern/%d: status %d" % (n, st))
    check(pc.n == n, "/pattern/%d: %d bytes" % (n, pc.n))
    check(pc.bad is None, "/pattern/%d: byte %s differs" % (n, pc.bad))


# ---- the cases ------------------------------------------------------------------

def case_get_root(cid):
    h = Http(cid)
    st, hd, body = h.get("/")
    h.close()
    check(st == 200, "status %d" % st)
    check(hd.get("content-type", "").startswith("text/html"), "type %r" % hd.get("content-type"))
    check(b"lwvsock" in body and ("CID %d" % cid).encode() in body, "page does not name the CID")


def case_pattern_16mib(cid):
    h = Http(cid)
    get_pattern(h, 16 << 20)
    h.close()


def case_pattern_edges(cid):
    h = Http(cid)
    for n in (0, 1, 250, 251, 252, 65537):
        get_pattern(h, n)
    for bad in ("/pattern/67108865", "/pattern/-1", "/pattern/", "/pattern/1x"):
        st, _, _ = h.get(bad)
        check(st == 404, "%s: status %d, want 404" % (bad, st))
    h.close()


def case_not_found(cid):
    h = Http(cid)
    st, _, _ = h.get("/no/such/page")
    h.close()
    check(st == 404, "status %d" % st)


def case_bad_requests(cid):
    h = Http(cid)
    h.s.sendall(b"GARBAGE\r\n\r\n")
    st, _, _ = h.response()
    check(st == 400, "malformed request: status %d, want 400" % st)
    h.close()
    h = Http(cid)
    h.send("/" + "a" * 3000)
    st, _, _ = h.response()
    check(st == 414, "long target: status %d, want 414" % st)
    h.close()


def case_stats(cid):
    h = Http(cid)
    get_pattern(h, 100000)
    st, hd, body = h.get("/stats")
    h.close()
    check(st == 200 and hd.get("content-type", "").startswith("text/plain"), "status %d" % st)
    check(b"rx_pkts" in body and (b"cid %d" % cid) in body, "no counters in %r" % body[:80])
    # /pattern bodies go out by reference (zero-copy): the device reads them in place
    zc = re.search(rb"zc_bytes (\d+) zc_fallback (\d+)", body)
    check(zc is not None and int(zc.group(1)) >= 100000,
          "no zero-copy bytes counted: %r" % (zc.group(0) if zc else body[-200:]))


def case_keepalive_50(cid):
    h = Http(cid)
    for i in range(50):
        get_pattern(h, 1000 + i)
    h.close()


def case_pipelined(cid):
    h = Http(cid)
    h.s.sendall(b"".join(b"GET /pattern/%d HTTP/1.1\r\nHost: a\r\n\r\n" % (100 + i) for i in range(8)))
    for i in range(8):
        st, _, body = h.response()
        check(st == 200 and body == vp.pattern(0, 100 + i), "pipelined response %d wrong" % i)
    h.close()


def case_concurrent_32(cid):
    errors = []

    def one(i):
        try:
            h = Http(cid)
            get_pattern(h, 262144 + i)
            h.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append("fetch %d: %s" % (i, e))

    ts = [threading.Thread(target=one, args=(i,)) for i in range(32)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(240)
    check(not any(t.is_alive() for t in ts), "fetches still running after 240 s")
    check(not errors, "; ".join(errors[:3]))


def echo_exact(cid, data):
    s = vp.connect(cid, ECHO_PORT, tries=25, timeout=IO_TIMEOUT)
    got = []

    def reader():
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    return
                got.append(b)
        except OSError as e:
            got.append(e)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    t.join(IO_TIMEOUT * 2)
    s.close()
    check(not t.is_alive(), "echo of %d bytes: no EOF after %d s" % (len(data), IO_TIMEOUT * 2))
    check(not any(isinstance(g, Exception) for g in got), "echo: %s" % got[-1])
    return b"".join(got)


def case_echo_sizes(cid):
    for n in (1, 2, 100, 1500, 4095, 4096, 4097, 32768, 65535, 65536):
        data = os.urandom(n)
        back = echo_exact(cid, data)
        check(back == data, "echo of %d bytes: got %d bytes back, not the same" % (n, len(back)))


def case_echo_8mib_sha256(cid):
    data = os.urandom(8 << 20)
    back = echo_exact(cid, data)
    check(len(back) == len(data), "got %d of %d bytes" % (len(back), len(data)))
    check(hashlib.sha256(back).hexdigest() == hashlib.sha256(data).hexdigest(), "sha256 differs")


def case_half_close(cid):
    # We shut down sending first: the echo must still arrive in full, then EOF.
    s = vp.connect(cid, ECHO_PORT, tries=25, timeout=IO_TIMEOUT)
    data = vp.pattern(7, 300000)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    s.close()
    check(got == data, "half-closed echo: %d of %d bytes, or different" % (len(got), len(data)))


def case_ram_16_conns(cid):
    conns = [vp.connect(cid, ECHO_PORT, tries=25, timeout=IO_TIMEOUT) for _ in range(16)]
    for i, c in enumerate(conns):
        c.sendall(b"x" * (i + 1))
        check(c.recv(64) == b"x" * (i + 1), "no echo on connection %d" % i)
    h = Http(cid)
    st, _, body = h.get("/stats")
    h.close()
    for c in conns:
        c.close()
    check(st == 200, "status %d" % st)
    f = dict(kv for line in body.decode().splitlines() for kv in zip(line.split()[::2], line.split()[1::2]))
    check(int(f.get("conns_active", "0")) >= 17, "conns_active %s, want >= 17" % f.get("conns_active"))
    print("INFO ram-16-conns: heap_used %s bytes, heap_peak %s, lwip_mem_used %s, conns_active %s"
          % (f.get("heap_used"), f.get("heap_peak"), f.get("lwip_mem_used"), f.get("conns_active")))


CASES = [
    ("get-root", case_get_root),
    ("pattern-16mib", case_pattern_16mib),
    ("pattern-edges", case_pattern_edges),
    ("not-found", case_not_found),
    ("bad-requests", case_bad_requests),
    ("stats", case_stats),
    ("keepalive-50", case_keepalive_50),
    ("pipelined", case_pipelined),
    ("concurrent-32", case_concurrent_32),
    ("echo-sizes", case_echo_sizes),
    ("echo-8mib-sha256", case_echo_8mib_sha256),
    ("half-close", case_half_close),
    ("ram-16-conns", case_ram_16_conns),
]


def main():
    ap = argparse.ArgumentParser(description="appliance cases over AF_VSOCK")
    ap.add_argument("--cid", type=int, required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--only", nargs="*", default=None)
    a = ap.parse_args()
    if not vp.in_test_vm():
        print("REFUSING: appliance_peer.py opens AF_VSOCK sockets and runs only inside the "
              "lwvsock test VM (tests/interop/vm.sh)", file=sys.stderr)
        return 99
    passed = failed = 0
    for name, fn in CASES:
        if a.only and name not in a.only:
            continue
        t0 = time.time()
        try:
            fn(a.cid)
            print("PASS %s (%.1f s)" % (name, time.time() - t0), flush=True)
            passed += 1
        except Exception as e:  # noqa: BLE001 - every failure is a case result
            print("FAIL %s: %s" % (name, e), flush=True)
            failed += 1
    print("%s: %d passed, %d failed" % (a.name, passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
