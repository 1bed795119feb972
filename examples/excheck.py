#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Test client for the example programs, talking TCP to the simulated host's
--forward on 127.0.0.1 (never anything else). Every socket has a timeout, so a
hung server fails the test instead of hanging it.

  excheck.py http PORT ROOT     lwvsock-httpd --root ROOT behind 127.0.0.1:PORT
  excheck.py echo PORT          lwvsock-echo behind 127.0.0.1:PORT
  excheck.py sink PORT BYTES    lwvsock-perf -s behind 127.0.0.1:PORT (raw and -R hello)

Exit status 0 when every check passed; otherwise the first failure is printed.
"""
import hashlib
import os
import socket
import struct
import sys
import threading

TIMEOUT = 20.0
HOST = "127.0.0.1"


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def connect(port):
    s = socket.create_connection((HOST, port), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    return s


class Reader:
    """Buffered reader over a socket, for HTTP responses."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def fill(self):
        d = self.sock.recv(65536)
        if not d:
            return False
        self.buf += d
        return True

    def until(self, sep):
        while sep not in self.buf:
            if not self.fill():
                raise Fail("connection closed before %r (have %r)" % (sep, self.buf[:200]))
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def exactly(self, n, sink=None):
        got = 0
        while got < n:
            if not self.buf and not self.fill():
                raise Fail("connection closed after %d of %d body bytes" % (got, n))
            take = self.buf[: n - got]
            self.buf = self.buf[len(take):]
            got += len(take)
            if sink is not None:
                sink(take)

    def at_eof(self):
        if self.buf:
            return False
        try:
            return not self.fill()
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False


def response(rd, head=False, hasher=None):
    """Read one response: (status, headers dict, body bytes or None when hashed)."""
    hdr = rd.until(b"\r\n\r\n").decode("latin-1")
    lines = hdr.split("\r\n")
    parts = lines[0].split(" ", 2)
    check(len(parts) >= 2 and parts[0] == "HTTP/1.1", "bad status line %r" % lines[0])
    status = int(parts[1])
    headers = {}
    for ln in lines[1:]:
        if ln:
            k, v = ln.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    check("content-length" in headers, "no Content-Length in %r" % lines[0])
    n = int(headers["content-length"])
    body = []
    if not head:
        rd.exactly(n, hasher.update if hasher else body.append)
    return status, headers, (None if hasher else b"".join(body))


def request(port, raw, head=False):
    s = connect(port)
    s.sendall(raw)
    rd = Reader(s)
    st, h, b = response(rd, head=head)
    return st, h, b, rd


def get(path, extra=""):
    return ("GET %s HTTP/1.1\r\nHost: vsock\r\n%s\r\n" % (path, extra)).encode()


# ---- http -----------------------------------------------------------------------

def http_checks(port, root):
    index = open(os.path.join(root, "index.html"), "rb").read()
    big_path = os.path.join(root, "big.bin")
    big_sha = hashlib.sha256(open(big_path, "rb").read()).hexdigest()
    big_len = os.path.getsize(big_path)

    # 200 and the body
    st, h, b, rd = request(port, get("/"))
    check(st == 200, "GET / gave %d" % st)
    check(b == index, "GET / body differs from index.html")
    check(h.get("content-type", "").startswith("text/html"), "GET / content-type %r" % h.get("content-type"))
    rd.sock.close()
    print("ok 200 GET /")

    # keep-alive: two requests, one after the other, on one connection
    s = connect(port)
    rd = Reader(s)
    s.sendall(get("/index.html"))
    st1, h1, b1 = response(rd)
    s.sendall(get("/missing.txt"))
    st2, h2, b2 = response(rd)
    check((st1, st2) == (200, 404), "keep-alive statuses %r" % ((st1, st2),))
    check(h1.get("connection") == "keep-alive", "Connection: %r" % h1.get("connection"))
    # pipelined: three in one write, the last asks to close
    s.sendall(get("/") + get("/nothere") + get("/index.html", "Connection: close\r\n"))
    sts = [response(rd)[0] for _ in range(3)]
    check(sts == [200, 404, 200], "pipelined statuses %r" % sts)
    check(rd.at_eof(), "server kept the connection after Connection: close")
    s.close()
    print("ok keep-alive (sequential and pipelined), 404, Connection: close")

    # HEAD: headers only; the connection stays usable
    s = connect(port)
    rd = Reader(s)
    s.sendall(("HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n").encode())
    st, h, _ = response(rd, head=True)
    check(st == 200 and int(h["content-length"]) == big_len, "HEAD: %d %r" % (st, h))
    s.sendall(get("/index.html"))
    st, h, b = response(rd)
    check(st == 200 and b == index, "GET after HEAD on the same connection")
    s.close()
    print("ok HEAD")

    # Large file, streamed: compare by sha256
    hasher = hashlib.sha256()
    s = connect(port)
    s.sendall(get("/big.bin"))
    st, h, _ = response(Reader(s), hasher=hasher)
    s.close()
    check(st == 200 and int(h["content-length"]) == big_len, "big.bin: %d" % st)
    check(hasher.hexdigest() == big_sha, "big.bin sha256 differs")
    print("ok large file (%d bytes, sha256 matches)" % big_len)

    # Errors that end the connection
    for raw, want, what in [
        (b"garbage\r\n\r\n", 400, "malformed request line"),
        (b"GET / HTTP/1.1\r\n\r\n", 400, "HTTP/1.1 without Host"),
        (b"GET / HTTP/1.1\r\nHost x\r\n\r\n", 400, "header without colon"),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "HTTP/2.0"),
        (get("/" + "a" * 3000), 414, "3000-byte target"),
        (get("/", "X-Big: " + "b" * 9000 + "\r\n"), 413, "9 KiB header"),
        (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", 413, "request body"),
    ]:
        st, h, b, rd = request(port, raw)
        check(st == want, "%s: got %d, want %d" % (what, st, want))
        check(h.get("connection") == "close", "%s: Connection %r" % (what, h.get("connection")))
        check(rd.at_eof(), "%s: connection not closed" % what)
        rd.sock.close()
        print("ok %d for %s" % (want, what))

    # Errors that keep it
    for raw, want, what in [
        (b"POST / HTTP/1.1\r\nHost: x\r\n\r\n", 405, "POST"),
        (get("/../outside.txt"), 403, "/../ traversal"),
        (get("/%2e%2e/outside.txt"), 403, "%2e%2e traversal"),
        (get("/link.txt"), 403, "symlink out of the root"),
        (get("/sub"), 301, "directory without slash"),
    ]:
        st, h, b, rd = request(port, raw)
        check(st == want, "%s: got %d, want %d" % (what, st, want))
        if want == 405:
            check(h.get("allow") == "GET, HEAD", "405 without Allow")
        if want == 301:
            check(h.get("location") == "/sub/", "301 Location %r" % h.get("location"))
        rd.sock.sendall(get("/"))
        check(response(rd)[0] == 200, "%s: connection not reusable" % what)
        rd.sock.close()
        print("ok %d for %s" % (want, what))

    st, h, b, rd = request(port, get("/sub/"))
    check(st == 200 and b == open(os.path.join(root, "sub", "index.html"), "rb").read(), "/sub/ index")
    rd.sock.close()

    # HTTP/1.0 closes by default
    st, h, b, rd = request(port, b"GET / HTTP/1.0\r\n\r\n")
    check(st == 200 and rd.at_eof(), "HTTP/1.0 default close")
    rd.sock.close()
    print("ok HTTP/1.0")

    # Many clients at once, two of them on the large file
    errors = []

    def worker(i):
        try:
            if i < 2:
                hs = hashlib.sha256()
                s2 = connect(port)
                s2.sendall(get("/big.bin"))
                st2, _, _ = response(Reader(s2), hasher=hs)
                check(st2 == 200 and hs.hexdigest() == big_sha, "concurrent big.bin")
                s2.close()
            else:
                s2 = connect(port)
                r2 = Reader(s2)
                for _ in range(5):
                    s2.sendall(get("/index.html"))
                    st2, _, b2 = response(r2)
                    check(st2 == 200 and b2 == index, "concurrent index")
                s2.close()
        except Exception as e:  # collected and reported below
            errors.append("client %d: %s" % (i, e))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 3)
    check(not any(t.is_alive() for t in threads), "concurrent clients hung")
    check(not errors, "; ".join(errors[:3]))
    print("ok 40 concurrent clients")


# ---- echo -----------------------------------------------------------------------

def echo_one(port, data, results, i, read_delay=0.0):
    try:
        s = connect(port)
        got = []

        def reader():
            try:
                if read_delay:
                    threading.Event().wait(read_delay)
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    got.append(d)
            except Exception as e:
                got.append(e)

        t = threading.Thread(target=reader)
        t.start()
        for off in range(0, len(data), 50000):
            s.sendall(data[off:off + 50000])
        s.shutdown(socket.SHUT_WR)
        t.join(TIMEOUT * 3)
        check(not t.is_alive(), "reader hung")
        check(not any(isinstance(g, Exception) for g in got), "read error %r" % got[-1:])
        out = b"".join(got)
        check(out == data, "echoed %d bytes, sent %d%s" % (
            len(out), len(data), "" if len(out) != len(data) else " (content differs)"))
        s.close()
        results[i] = True
    except Exception as e:
        results[i] = "connection %d: %s" % (i, e)


def echo_checks(port):
    sizes = [0, 1, 4096, 65536 + 7, 1 << 20, 3 << 20, 777777, 12345]
    results = [None] * len(sizes)
    threads = []
    for i, n in enumerate(sizes):
        data = os.urandom(n)
        # one client does not read for a while: flow control must hold, not drop
        threads.append(threading.Thread(target=echo_one, args=(port, data, results, i, 2.0 if i == 5 else 0.0)))
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 4)
    check(all(r is True for r in results), "; ".join(str(r) for r in results if r is not True))
    print("ok echo: %d connections at once, %d bytes, one slow reader" % (len(sizes), sum(sizes)))


# ---- perf sink --------------------------------------------------------------------

def pattern(off, n):
    base = bytes(i % 251 for i in range(251))
    rep = base * ((n + 502) // 251 + 1)
    s = off % 251
    return rep[s:s + n]


def sink_checks(port, nbytes):
    # raw client (no hello): everything counts
    s = connect(port)
    chunk = pattern(0, 1 << 16)
    sent = 0
    while sent < nbytes:
        n = min(len(chunk), nbytes - sent)
        s.sendall(chunk[:n])
        sent += n
    s.shutdown(socket.SHUT_WR)
    check(s.recv(1) == b"", "sink sent data back")
    s.close()
    print("ok raw sink client: %d bytes" % nbytes)
    # data that starts like a hello without the reverse flag is data too
    s = connect(port)
    s.sendall(b"LWVPERF1" + struct.pack("<QII", 5, 0, 0) + b"abc")
    s.shutdown(socket.SHUT_WR)
    check(s.recv(1) == b"", "sink sent data back")
    s.close()
    print("ok hello-like data: 27 bytes")
    # ... and so is a stream that ends inside what looked like a hello
    s = connect(port)
    s.sendall(b"LWV")
    s.shutdown(socket.SHUT_WR)
    check(s.recv(1) == b"", "sink sent data back")
    s.close()
    print("ok 3 bytes of a hello: 3 bytes")
    # reverse: the server sends nbytes of the pattern, then closes
    s = connect(port)
    s.sendall(b"LWVPERF1" + struct.pack("<QII", nbytes, 1, 0))
    rd = Reader(s)
    got = 0
    while True:
        if not rd.buf and not rd.fill():
            break
        d, rd.buf = rd.buf, b""
        check(d == pattern(got, len(d)), "reverse data differs at %d" % got)
        got += len(d)
    check(got == nbytes, "reverse: got %d of %d bytes" % (got, nbytes))
    s.close()
    print("ok reverse (-R hello): %d bytes, pattern verified" % nbytes)


def main(argv):
    try:
        if len(argv) == 4 and argv[1] == "http":
            http_checks(int(argv[2]), argv[3])
        elif len(argv) == 3 and argv[1] == "echo":
            echo_checks(int(argv[2]))
        elif len(argv) == 4 and argv[1] == "sink":
            sink_checks(int(argv[2]), int(argv[3]))
        else:
            sys.stderr.write(__doc__)
            return 2
    except (Fail, OSError) as e:
        print("FAIL: %s" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
