#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Write the seed corpus of the fuzz targets (tests/fuzz/corpus/TARGET/).

Each seed is a short, valid script in its target's record format (see
fuzz_rx.c and fuzzdev.c) that reaches the interesting paths at once: live
connections, RW within and beyond credit, SHUTDOWN, CREDIT_*, RST,
TRANSPORT_RESET, a stalled device, bad used entries. Run from anywhere:
  python3 tests/fuzz/seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
REQUEST, RESPONSE, RST, SHUTDOWN, RW, CREDIT_UPDATE, CREDIT_REQUEST = 1, 2, 3, 4, 5, 6, 7


def hdr(op, length=0, flags=0, buf_alloc=256 * 1024, fwd_cnt=0, typ=1, src_cid=2, dst_cid=3,
        src_port=0, dst_port=0):
    return struct.pack('<QQIIIHHIII', src_cid, dst_cid, src_port, dst_port, length, typ, op,
                       flags, buf_alloc, fwd_cnt)


def write(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


# ---- fuzz_rx: kind (% 6), record, poll byte ------------------------------------------
def rx_inject(op, payload=b'', conn=0, fix=0x1f, **kw):
    fixb = fix | (conn << 5)
    return bytes([0, fixb]) + struct.pack('<H', len(payload)) + hdr(op, len(payload), **kw) + payload + b'\x01'


def rx_host(op, *args):
    return bytes([2, op]) + bytes(args) + b'\x01'


def rx_app(op, *args):
    return bytes([4, op]) + bytes(args) + b'\x01'


write('fuzz_rx', 'rw_shutdown_rst',
      rx_inject(RW, b'a' * 100) + rx_inject(CREDIT_REQUEST) + rx_inject(CREDIT_UPDATE, buf_alloc=1) +
      rx_inject(RW, b'b' * 3000, conn=1) + rx_inject(SHUTDOWN, flags=1) + rx_inject(SHUTDOWN, flags=3) +
      rx_inject(RST, conn=1))
write('fuzz_rx', 'request_to_listener',
      rx_inject(REQUEST, conn=3, src_port=77) + rx_inject(RW, b'x' * 10, conn=3, src_port=77) +
      rx_inject(REQUEST, conn=3, src_port=77, typ=2))
write('fuzz_rx', 'overrun_credit',
      rx_app(0x08, *struct.pack('<II', 128, 128)) + rx_app(0x03) +
      b''.join(rx_inject(RW, b'z' * 100) for _ in range(3)) + rx_inject(RW, b'q' * 8000))
write('fuzz_rx', 'stalled_host',
      bytes([3]) + struct.pack('<H', 1) + b'\x01' + rx_app(0x02, 0xff, 0xff, 0x01, 0) +
      rx_app(0x01, 200, 0) + rx_host(0x00, 0xff, 0x7f) + bytes([3, 0, 0]) + b'\x03')
write('fuzz_rx', 'transport_reset', rx_inject(RW, b'r' * 50) + bytes([5, 1, 40]) + b'\x02' +
      rx_app(0x00, 0, 1, 0x88, 0x13))


# ---- fuzz_ring / fuzz_open: kind (% 8), record, poll budget byte ----------------------
def ring_rx(fix, payload=b'', **kw):
    return bytes([0, fix]) + struct.pack('<H', len(payload)) + hdr(length=len(payload), **kw) + payload + b'\x00'


def ring_app(op, *args):
    return bytes([6, op]) + bytes(args) + b'\x00'


DRAIN = b'\x03\x00'
connect = ring_app(0x00, 0, 1, 0x88, 0x13) + DRAIN + bytes([0, 0x40, 0, 0]) + b'\x00'
session = (connect + ring_rx(0x37, b'd' * 200, op=RW) + ring_app(0x01, 100, 0) + DRAIN +
           ring_rx(0x37, op=CREDIT_REQUEST) + ring_rx(0x37, op=SHUTDOWN, flags=3) + DRAIN +
           ring_rx(0x3b, op=REQUEST, src_port=99) + DRAIN +
           bytes([5, 2, 0, 0, 0, 0]) + b'\x00' + ring_app(0x05))
write('fuzz_ring', 'session', session)
write('fuzz_ring', 'bad_used', connect + bytes([4, 0]) + struct.pack('<II', 999, 10) + b'\x01\x00' +
      bytes([2 | 0x80]) + struct.pack('<HI', 0, 7) + b'\x00')
write('fuzz_ring', 'used_len', connect + bytes([0, 0xb7]) + struct.pack('<H', 0) + hdr(RW) +
      struct.pack('<HI', 0, 0xffffffff) + b'\x00')
write('fuzz_ring', 'event_cid', connect + bytes([5, 3]) + struct.pack('<Q', 9) + bytes(4) + b'\x00' +
      bytes([5, 0x0b]) + struct.pack('<I', 1) + b'\x02\x00')

GOOD = struct.pack('<QB', (1 << 32) | (1 << 1), 0) + struct.pack('<Q', 3) + struct.pack('<HHH', 64, 64, 8)
write('fuzz_open', 'good', GOOD + session)
write('fuzz_open', 'reserved_cid', struct.pack('<QB', 1 << 32, 0) + struct.pack('<Q', 2) +
      struct.pack('<HHH', 64, 64, 8))
write('fuzz_open', 'legacy', struct.pack('<QB', 0, 0) + struct.pack('<Q', 3) + struct.pack('<HHH', 64, 64, 8))
write('fuzz_open', 'tiny_rings', struct.pack('<QB', 1 << 32, 0) + struct.pack('<Q', 3) +
      struct.pack('<HHH', 3, 1, 0) + connect)
write('fuzz_open', 'odd_rings', struct.pack('<QB', (1 << 32) | 7, 0) + struct.pack('<Q', 0xfffffffe) +
      struct.pack('<HHH', 1000, 65535, 3) + session)
for bit in range(6):
    write('fuzz_open', 'fail%d' % bit, struct.pack('<QB', 1 << 32, 1 << bit) + struct.pack('<Q', 3) +
          struct.pack('<HHH', 64, 64, 8))


# ---- fuzz_pcicaps: [cap pointer][knobs][BAR length / 16][config space from 0x40] -----------
def vcap(nxt, typ, off, length, bar=4, mult=None):
    body = bytes([0x09, nxt, 16 if mult is None else 20, typ, bar, 0, 0, 0]) + struct.pack('<II', off, length)
    return body + (b'' if mult is None else struct.pack('<I', mult))


def pci_cfg(caps):
    """caps: list of (pos, bytes); returns config space from 0x40 up to the last cap."""
    cfg = bytearray(max(pos + len(c) for pos, c in caps) - 0x40)
    for pos, c in caps:
        cfg[pos - 0x40:pos - 0x40 + len(c)] = c
    return bytes(cfg)


KNOBS = 1 | (6 << 4)  # 3 queues, queue 0 of 64
PCI_GOOD = [(0x40, vcap(0x50, 1, 0, 0x38)), (0x50, vcap(0x64, 2, 0x3000, 0x1000, mult=4)),
            (0x64, vcap(0x74, 3, 0x1000, 1)), (0x74, vcap(0, 4, 0x2000, 8))]
write('fuzz_pcicaps', 'good', bytes([0x40, KNOBS]) + struct.pack('<H', 0x400) + pci_cfg(PCI_GOOD))
write('fuzz_pcicaps', 'loop', bytes([0x40, KNOBS]) + struct.pack('<H', 0x400) +
      pci_cfg(PCI_GOOD[:3] + [(0x74, vcap(0x50, 4, 0x2000, 8))]))
write('fuzz_pcicaps', 'small_bar', bytes([0x40, KNOBS]) + struct.pack('<H', 0x200) + pci_cfg(PCI_GOOD))
