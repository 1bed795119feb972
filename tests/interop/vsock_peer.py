#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""vsock_peer.py - the Linux (host) side of the interop cases: AF_VSOCK
clients and servers that check what lwvsock does.

ONLY for the lwvsock test VM: it refuses unless tests/interop/guard.sh has
passed in the calling script (LWVSOCK_ALLOW_VHOST_VSOCK=1, hostname
lwvsock-testvm, marker /run/lwvsock-testvm). Every socket operation has a
timeout; exit 0 means the check passed, 1 that it failed (the reason is on
stderr), 2 a usage error.
"""
import argparse
import errno
import hashlib
import os
import socket
import struct
import sys
import threading
import time

PERF_MAGIC = b"LWVPERF1"
PERF_HELLO = 24
PERF_MOD = 251
IO_TIMEOUT = 30.0


class CheckFailed(Exception):
    pass


def in_test_vm():
    if os.environ.get("LWVSOCK_ALLOW_VHOST_VSOCK") != "1":
        return False
    if socket.gethostname() != "lwvsock-testvm" or not os.path.exists("/run/lwvsock-testvm"):
        return False
    with open("/proc/mounts") as f:
        return any(l.split()[:3] == ["hostroot", "/", "9p"] for l in f)


def vsock(kind=socket.SOCK_STREAM, timeout=IO_TIMEOUT):
    s = socket.socket(socket.AF_VSOCK, kind)
    s.settimeout(timeout)
    return s


def connect(cid, port, kind=socket.SOCK_STREAM, tries=1, timeout=IO_TIMEOUT):
    """Connect, retrying refusals for a server that is still starting."""
    last = None
    for _ in range(tries):
        s = vsock(kind, timeout)
        try:
            s.connect((cid, port))
            return s
        except OSError as e:
            last = e
            s.close()
            time.sleep(0.2)
    raise CheckFailed("connect to %d:%d failed: %s" % (cid, port, last))


def kernel_at_least(major, minor):
    rel = os.uname().release.split("-")[0].split(".")
    return (int(rel[0]), int(rel[1])) >= (major, minor)


def pattern(offset, n):
    """Bytes offset..offset+n of lwvsock-perf's stream (byte o is o % 251)."""
    base = bytes(range(PERF_MOD)) * (n // PERF_MOD + 2)
    start = offset % PERF_MOD
    return base[start:start + n]


def recv_all(s, bufsize=65536):
    """Read to EOF; returns (bytes, sha256 hexdigest)."""
    h = hashlib.sha256()
    n = 0
    while True:
        b = s.recv(bufsize)
        if not b:
            return n, h.hexdigest()
        h.update(b)
        n += len(b)


# ---- commands -------------------------------------------------------------------

def cmd_wait(a):
    """Wait until CID:PORT accepts a connection (a server is up)."""
    kind = socket.SOCK_SEQPACKET if a.seqpacket else socket.SOCK_STREAM
    s = connect(a.cid, a.port, kind, tries=int(a.seconds * 5), timeout=5)
    s.close()


def echo_one(a, idx, errors):
    try:
        s = connect(a.cid, a.port, tries=75)   # 15 s for a server that is starting
        data = os.urandom(a.bytes)
        want = hashlib.sha256(data).hexdigest()

        def sender():
            try:
                view = memoryview(data)
                off = 0
                while off < len(view):
                    off += s.send(view[off:off + 65536])
                s.shutdown(socket.SHUT_WR)   # half-close: the echo must still come back
            except OSError as e:
                errors.append("conn %d: send failed after %d bytes: %s" % (idx, off, e))

        if a.abort_after:
            errors = []   # the sender is cut off on purpose: its error is expected
        t = threading.Thread(target=sender)
        t.start()
        if a.stall_ms:
            time.sleep(a.stall_ms / 1000.0)   # a slow reader: lwvsock must stall, then resume
        if a.abort_after:
            got = 0
            while got < a.abort_after:
                b = s.recv(65536)
                if not b:
                    break
                got += len(b)
            # abrupt: the host sends SHUTDOWN, and lwvsock's packets still in
            # flight meet a closed port, which the host answers with RST
            s.shutdown(socket.SHUT_RDWR)
            s.close()
            t.join()
            return
        n, got = recv_all(s)
        t.join()
        s.close()
        if n != len(data) or got != want:
            errors.append("conn %d: echoed %d of %d bytes, sha256 %s" %
                          (idx, n, len(data), "equal" if got == want else "differs"))
    except (OSError, CheckFailed) as e:
        errors.append("conn %d: %s" % (idx, e))


def cmd_echo(a):
    """Send random bytes over N connections at once; each must come back exactly."""
    errors = []
    threads = [threading.Thread(target=echo_one, args=(a, i, errors)) for i in range(a.conns)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.monotonic() - t0
    if errors:
        raise CheckFailed("; ".join(errors[:4]) + (" (+%d more)" % (len(errors) - 4) if len(errors) > 4 else ""))
    if a.abort_after:
        print("%d connection(s) aborted after %d echoed bytes" % (a.conns, a.abort_after))
    else:
        print("%d connection(s) x %d bytes echoed exactly in %.2f s" % (a.conns, a.bytes, dt))


def cmd_seqpacket(a):
    """Message boundaries: every message comes back whole and alone."""
    s = connect(a.cid, a.port, socket.SOCK_SEQPACKET, tries=75)
    sizes = [1, 100, 4096, 40000, 7, 65000, 3][:a.count] or [1]
    for i, n in enumerate(sizes):
        msg = bytes([i & 0xff]) * n
        s.send(msg)
        got = s.recv(70000)
        if got != msg:
            raise CheckFailed("message %d of %d bytes came back as %d bytes" % (i, n, len(got)))
    s.close()
    print("%d messages echoed with their boundaries" % len(sizes))


def cmd_seqlimit(a):
    """lwvsock advertises its SEQPACKET message limit as buf_alloc: Linux refuses a
    bigger message with EMSGSIZE up front, and a message at the limit comes back whole."""
    s = connect(a.cid, a.port, socket.SOCK_SEQPACKET, tries=75)
    # Before 6.5 ("vsock: return errors other than -ENOMEM to socket") Linux
    # turned the transport's EMSGSIZE into ENOMEM; the message is refused either way.
    refused = (errno.EMSGSIZE,) if kernel_at_least(6, 5) else (errno.EMSGSIZE, errno.ENOMEM)
    try:
        s.send(pattern(0, a.over))
    except OSError as e:
        if e.errno not in refused:
            raise CheckFailed("a %d-byte message failed with %s, not EMSGSIZE" % (a.over, e))
    else:
        raise CheckFailed("Linux accepted a %d-byte message: the limit was not advertised" % a.over)
    msg = pattern(7, a.limit)
    s.send(msg)
    got = s.recv(a.over)
    if got != msg:
        raise CheckFailed("a %d-byte message came back as %d bytes%s" %
                          (a.limit, len(got), "" if len(got) != a.limit else " with other contents"))
    s.close()
    print("%d bytes: EMSGSIZE; %d bytes: echoed whole" % (a.over, a.limit))


def cmd_refused(a):
    """Connecting to a port nobody listens on fails with ECONNRESET at once."""
    s = vsock(timeout=10)
    t0 = time.monotonic()
    try:
        s.connect((a.cid, a.port))
    except ConnectionResetError:
        dt = time.monotonic() - t0
        if dt > 1.0:
            raise CheckFailed("ECONNRESET only after %.2f s" % dt)
        print("ECONNRESET after %.3f s" % dt)
        return
    except OSError as e:
        raise CheckFailed("connect failed with %s, want ECONNRESET" % e)
    finally:
        s.close()
    raise CheckFailed("connect to unbound port %d:%d succeeded" % (a.cid, a.port))


def serve_one(a, handle):
    ls = vsock(timeout=a.timeout)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((socket.VMADDR_CID_ANY, a.port))
    if getattr(a, "rcvbuf", 0):
        # on the listener: the accepted socket starts with it, so the peer never
        # holds credit from a larger buffer (shrinking it later makes Linux drop data)
        ls.setsockopt(socket.AF_VSOCK, socket.SO_VM_SOCKETS_BUFFER_SIZE, a.rcvbuf)
    ls.listen(1)
    if a.ready:
        open(a.ready, "w").close()
    c, peer = ls.accept()
    ls.close()
    c.settimeout(IO_TIMEOUT)
    try:
        handle(c, peer)
    finally:
        c.close()


def read_hello(c):
    hello = b""
    while len(hello) < PERF_HELLO:
        b = c.recv(PERF_HELLO - len(hello))
        if not b:
            raise CheckFailed("EOF inside the lwvsock-perf hello")
        hello += b
    if hello[:8] != PERF_MAGIC:
        raise CheckFailed("no lwvsock-perf hello (got %r)" % hello[:8])
    return struct.unpack("<QII", hello[8:])


def cmd_sink(a):
    """Accept one lwvsock-perf client, a plain sink: exactly --bytes of the
    pattern must arrive (the client sends no hello); reply after its EOF."""
    def handle(c, peer):
        count = a.bytes
        n = 0
        while True:
            b = c.recv(a.chunk)
            if not b:
                break
            if b != pattern(n, len(b)):
                raise CheckFailed("data differs from the pattern near offset %d" % n)
            n += len(b)
            if a.slow_ms:
                time.sleep(a.slow_ms / 1000.0)
        if n != count:
            raise CheckFailed("received %d bytes, the client's -n was %d" % (n, count))
        if a.client_closes:
            print("received %d bytes from %d:%d, pattern ok, then EOF" % (n, peer[0], peer[1]))
            return
        # After the client's half-close our send side must stay open. A zero-byte
        # send probes it without sending data: Linux fails it with EPIPE once
        # the peer has shut down receiving.
        try:
            c.send(b"")
        except OSError as e:
            raise CheckFailed("our send side is shut after the client's EOF (%s): it sent "
                              "SHUTDOWN for receiving too, not a half-close" % e)
        print("received %d bytes from %d:%d, pattern ok" % (n, peer[0], peer[1]))
    serve_one(a, handle)


def cmd_source(a):
    """Accept one lwvsock-perf -R client and send it the bytes it asks for."""
    def handle(c, peer):
        count, flags, _ = read_hello(c)
        if not flags & 1:
            raise CheckFailed("client did not ask for reverse mode")
        off = 0
        while off < count:
            n = min(65536, count - off)
            c.sendall(pattern(off, n))
            off += n
        c.shutdown(socket.SHUT_WR)
        recv_all(c)
        print("sent %d bytes to %d:%d" % (count, peer[0], peer[1]))
    serve_one(a, handle)


def cmd_loopback(a):
    """Linux only (no lwvsock): echo over vsock_loopback (CID 1)."""
    ls = vsock()
    ls.bind((socket.VMADDR_CID_ANY, a.port))
    ls.listen(1)

    def server():
        c, _ = ls.accept()
        c.settimeout(IO_TIMEOUT)
        while True:
            b = c.recv(65536)
            if not b:
                break
            c.sendall(b)
        c.close()
    t = threading.Thread(target=server)
    t.start()
    a.cid = 1
    errors = []
    echo_one(a, 0, errors)
    t.join()
    ls.close()
    if errors:
        raise CheckFailed(errors[0])
    print("%d bytes echoed over vsock loopback" % a.bytes)


def cmd_http(a):
    """One HTTP/1.0 GET over AF_VSOCK; check the status, and the body's text or sha256."""
    s = connect(a.cid, a.port, tries=75)
    s.sendall(b"GET %s HTTP/1.0\r\nHost: lwvsock\r\n\r\n" % a.path.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(4096)
        if not b:
            raise CheckFailed("EOF inside the response head (%r)" % head[:80])
        head += b
    head, body = head.split(b"\r\n\r\n", 1)
    h = hashlib.sha256(body)
    n = len(body)
    while True:
        b = s.recv(65536)
        if not b:
            break
        h.update(b)
        n += len(b)
        if a.contains and n < 65536:
            body += b
    s.close()
    status = head.split(b"\r\n", 1)[0].split()
    if len(status) < 2 or status[1] != str(a.status).encode():
        raise CheckFailed("GET %s: status line %r, want %d" % (a.path, head.split(b"\r\n", 1)[0], a.status))
    if a.sha256 and (h.hexdigest() != a.sha256 or (a.length and n != a.length)):
        raise CheckFailed("GET %s: %d bytes, sha256 %s, want %d bytes, sha256 %s" %
                          (a.path, n, h.hexdigest(), a.length, a.sha256))
    if a.contains and a.contains.encode() not in body:
        raise CheckFailed("GET %s: the body (%r) lacks %r" % (a.path, body[:80], a.contains))
    print("GET %s: %d, %d body bytes as expected" % (a.path, a.status, n))


def timed(fn, floor=1e-6):
    t = time.monotonic()
    fn()
    return max(time.monotonic() - t, floor)


def cmd_bench(a):
    """--what bulk: both ways against the lwvsock-perf style server on --port;
    --what echo: 1-byte round trips and connections per second against the
    echo server on --port. Prints one line 'bench KEY=VALUE...' (MiB/s,
    microseconds, connections/s)."""
    def bulk(reverse):
        s = connect(a.cid, a.port, tries=75, timeout=IO_TIMEOUT * 4)
        s.sendall(PERF_MAGIC + struct.pack("<QII", a.bytes, 1 if reverse else 0, 0))

        def run():
            if reverse:
                n = 0
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    if b != pattern(n, len(b)):
                        raise CheckFailed("received data differs from the pattern near offset %d" % n)
                    n += len(b)
                if n != a.bytes:
                    raise CheckFailed("received %d of %d bytes" % (n, a.bytes))
            else:
                off = 0
                while off < a.bytes:
                    n = min(65536, a.bytes - off)
                    s.sendall(pattern(off, n))
                    off += n
                s.shutdown(socket.SHUT_WR)
                recv_all(s)   # the server's EOF: it has read everything
        dt = timed(run)
        s.close()
        return a.bytes / dt / (1 << 20)

    if a.what == "bulk":
        print("bench h2g_mibs=%.3f g2h_mibs=%.3f" % (bulk(False), bulk(True)))
        return
    s = connect(a.cid, a.port, tries=75)

    def rr():
        for _ in range(a.rr):
            s.sendall(b"x")
            if s.recv(1) != b"x":
                raise CheckFailed("1-byte echo came back wrong")
    rr_us = timed(rr) / a.rr * 1e6
    s.close()

    def conns():
        for _ in range(a.conns):
            c = connect(a.cid, a.port)
            c.shutdown(socket.SHUT_WR)
            recv_all(c)
            c.close()
    cps = a.conns / timed(conns)
    print("bench rr_us=%.1f cps=%.2f" % (rr_us, cps))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    def add(name, fn, help_):
        sp = sub.add_parser(name, help=help_)
        sp.set_defaults(fn=fn)
        sp.add_argument("--port", type=int, required=True)
        return sp

    sp = add("wait", cmd_wait, "wait until CID:PORT accepts")
    sp.add_argument("--cid", type=int, required=True)
    sp.add_argument("--seconds", type=float, default=15)
    sp.add_argument("--seqpacket", action="store_true", help="connect with SOCK_SEQPACKET")
    sp = add("echo", cmd_echo, "exact echo over N connections")
    sp.add_argument("--cid", type=int, required=True)
    sp.add_argument("--bytes", type=int, default=65536)
    sp.add_argument("--conns", type=int, default=1)
    sp.add_argument("--stall-ms", type=int, default=0, help="do not read for this long first")
    sp.add_argument("--abort-after", type=int, default=0, help="close abruptly after this many echoed bytes")
    sp = add("seqpacket", cmd_seqpacket, "SEQPACKET message boundaries")
    sp.add_argument("--cid", type=int, required=True)
    sp.add_argument("--count", type=int, default=7)
    sp = add("seqlimit", cmd_seqlimit, "SEQPACKET: over the advertised limit EMSGSIZE, at it whole")
    sp.add_argument("--cid", type=int, required=True)
    sp.add_argument("--limit", type=int, default=65535)
    sp.add_argument("--over", type=int, default=70000)
    sp = add("refused", cmd_refused, "connect to an unbound port: ECONNRESET at once")
    sp.add_argument("--cid", type=int, required=True)
    for name, fn, h in (("sink", cmd_sink, "serve one lwvsock-perf client"),
                        ("source", cmd_source, "serve one lwvsock-perf -R client")):
        sp = add(name, fn, h)
        sp.add_argument("--timeout", type=float, default=30, help="seconds to wait for the client")
        sp.add_argument("--ready", help="create this file once listening")
        sp.add_argument("--slow-ms", type=int, default=0, help="sleep between reads (slow reader)")
        sp.add_argument("--chunk", type=int, default=65536)
        sp.add_argument("--rcvbuf", type=int, default=0)
        sp.add_argument("--client-closes", action="store_true",
                        help="the client closes rather than half-closes: no send-side probe")
        if name == "sink":
            sp.add_argument("--bytes", type=int, required=True, help="what the client's -n was")
    sp = add("http", cmd_http, "one HTTP/1.0 GET; check status and body")
    sp.add_argument("--cid", type=int, required=True)
    sp.add_argument("--path", default="/")
    sp.add_argument("--status", type=int, default=200)
    sp.add_argument("--contains", help="the body must contain this text")
    sp.add_argument("--sha256", help="the body's sha256")
    sp.add_argument("--length", type=int, default=0, help="the body's length, with --sha256")
    sp = add("bench", cmd_bench, "bulk both ways, or 1-byte round trips and connections/s")
    sp.add_argument("--cid", type=int, required=True)
    sp.add_argument("--what", choices=("bulk", "echo"), required=True)
    sp.add_argument("--bytes", type=int, default=4 << 20)
    sp.add_argument("--rr", type=int, default=200)
    sp.add_argument("--conns", type=int, default=20)
    sp = add("loopback", cmd_loopback, "Linux-only echo over CID 1")
    sp.add_argument("--bytes", type=int, default=1 << 20)
    sp.set_defaults(conns=1, stall_ms=0, abort_after=0)
    a = p.parse_args()
    if not in_test_vm():
        print("vsock_peer.py: REFUSING: AF_VSOCK is only used inside the lwvsock test VM "
              "(run through tests/interop/vm.sh; guard.sh sets LWVSOCK_ALLOW_VHOST_VSOCK=1)", file=sys.stderr)
        return 99
    try:
        a.fn(a)
    except (CheckFailed, OSError) as e:
        print("vsock_peer.py %s: %s" % (a.cmd, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
