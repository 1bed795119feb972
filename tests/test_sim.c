/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Unit tests of the simulated host device (port/unix/sim/).
 *
 * The test is a minimal guest driver built on src/virtq.c: it lays out the
 * three queues in sim memory, writes raw packets into tx chains (header and
 * payload split across descriptors in several ways) and reads raw packets from
 * rx buffers, so every byte the sim puts on the wire is checked against the
 * virtio-vsock rules and Linux's behaviour, independently of the lwvsock core.
 */
#include "lwvsock_check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwvsock/sim.h"
#include "virtq.h"
#include "vsock_hdr.h"

/* Cheap assert for loops (a passing ck_assert costs a pipe write). */
#define CHECK(x) do { if (!(x)) { ck_abort_msg("assertion failed: %s", #x); } } while (0)

#define QN        64u
#define RX_PAY    4096u
#define RX_BUF    (VIRTIO_VSOCK_HDR_LEN + RX_PAY)
#define TX_BUF    (VIRTIO_VSOCK_HDR_LEN + 65536u + 64u)
#define GUEST_BUF (64u * 1024u)
#define GUEST_MEM  (16u << 20)

/** The test's guest. */
struct guest {
  struct lwvsock_sim *sim;
  struct lwvsock_backend *be;
  struct lwvsock_mem mem;
  struct virtq vq[3];
  uint8_t *rxbufs, *txbufs, *evbufs;
  size_t off;
  uint32_t cid;
  unsigned tx_slot;
  int split_rx;          /* rx chains as [44 B][payload] */
};

static struct guest g;
static uint8_t pattern[1u << 20];
static uint8_t got[1u << 20];

static uint64_t
dma_of(const void *p)
{
  return g.mem.dma + (uint64_t)((const uint8_t *)p - (const uint8_t *)g.mem.va);
}

static void *
carve(size_t n)
{
  void *p;
  g.off = (g.off + 4095) & ~(size_t)4095;
  p = (uint8_t *)g.mem.va + g.off;
  g.off += n;
  CHECK(g.off <= g.mem.size);
  return p;
}

static void
rx_add(uint8_t *b)
{
  struct virtq_buf in[2];

  if (g.split_rx) {
    in[0].addr = dma_of(b);
    in[0].len = VIRTIO_VSOCK_HDR_LEN;
    in[1].addr = dma_of(b + VIRTIO_VSOCK_HDR_LEN);
    in[1].len = RX_PAY;
    CHECK(virtq_add(&g.vq[0], NULL, 0, in, 2, b) == 0);
  } else {
    in[0].addr = dma_of(b);
    in[0].len = RX_BUF;
    CHECK(virtq_add(&g.vq[0], NULL, 0, in, 1, b) == 0);
  }
}

static void
kick(unsigned q)
{
  if (virtq_kick_prepare(&g.vq[q])) {
    g.be->ops->notify(g.be, (uint16_t)q);
  }
}

/** Set up the queues (the part of lwvsock_dev_open a device needs), then start. */
static void
guest_open(const struct lwvsock_sim_config *cfg, int split_rx)
{
  uint64_t f;
  uint8_t c[8];
  unsigned q, i, nrx;

  memset(&g, 0, sizeof(g));
  g.split_rx = split_rx;
  ck_assert_int_eq(lwvsock_sim_new(cfg, &g.sim), 0);
  g.be = lwvsock_sim_backend(g.sim);
  ck_assert(g.be->ops->get_features(g.be, &f) == 0);
  ck_assert(g.be->ops->set_features(g.be, f) == 0);
  ck_assert(g.be->ops->read_config(g.be, 0, c, 8) == 0);
  g.cid = (uint32_t)le64_load(c);
  ck_assert(g.be->ops->mem_alloc(g.be, GUEST_MEM, &g.mem) == 0);
  for (q = 0; q < 3; q++) {
    void *ring = carve(virtq_ring_size(QN));
    ck_assert(virtq_init(&g.vq[q], (uint16_t)q, QN, ring, dma_of(ring),
                         (f & VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX)) != 0) == 0);
    ck_assert(g.be->ops->setup_queue(g.be, &g.vq[q].info) == 0);
  }
  g.rxbufs = (uint8_t *)carve((size_t)QN * RX_BUF);
  g.txbufs = (uint8_t *)carve((size_t)QN * TX_BUF);
  g.evbufs = (uint8_t *)carve(8 * VIRTIO_VSOCK_EVENT_LEN);
  nrx = split_rx ? QN / 2 : QN;
  for (i = 0; i < nrx; i++) {
    rx_add(g.rxbufs + (size_t)i * RX_BUF);
  }
  for (i = 0; i < 8; i++) {
    struct virtq_buf in = { dma_of(g.evbufs + 4 * i), 4 };
    ck_assert(virtq_add(&g.vq[2], NULL, 0, &in, 1, g.evbufs + 4 * i) == 0);
  }
  ck_assert(g.be->ops->start(g.be) == 0);
  kick(0);
  kick(2);
}

static void
guest_close(void)
{
  unsigned q;

  ck_assert(g.be->ops->reset(g.be) == 0);
  g.be->ops->mem_free(g.be, &g.mem);
  for (q = 0; q < 3; q++) {
    virtq_fini(&g.vq[q]);
  }
  g.be->ops->destroy(g.be);
  memset(&g, 0, sizeof(g));
}

static int
run(void)
{
  int w = 0, r, turns = 0;

  while ((r = g.be->ops->poll(g.be)) > 0 && turns++ < 10000) {
    w += r;
  }
  return w;
}

static void
reclaim_tx(void)
{
  uint32_t len;

  while (virtq_get_used(&g.vq[1], &len) != NULL) {
  }
  CHECK(!virtq_is_broken(&g.vq[1]));
}

/**
 * Send a packet. nseg 1: one descriptor; 2: header and payload; more: the
 * header split 20/24 and the payload halved over the rest.
 */
static void
send_pkt(const struct vsock_hdr *h, const void *payload, unsigned nseg)
{
  uint8_t *b = g.txbufs + (size_t)(g.tx_slot++ % QN) * TX_BUF;
  struct virtq_buf out[16];
  unsigned n = 0;
  uint32_t left = h->len, off = 0;

  reclaim_tx();
  vsock_hdr_encode(h, b, VIRTIO_VSOCK_HDR_LEN);
  if (h->len != 0) {
    memcpy(b + VIRTIO_VSOCK_HDR_LEN, payload, h->len);
  }
  if (nseg <= 1) {
    out[n].addr = dma_of(b);
    out[n++].len = VIRTIO_VSOCK_HDR_LEN + h->len;
  } else if (nseg == 2) {
    out[n].addr = dma_of(b);
    out[n++].len = VIRTIO_VSOCK_HDR_LEN;
    if (h->len != 0) {
      out[n].addr = dma_of(b + VIRTIO_VSOCK_HDR_LEN);
      out[n++].len = h->len;
    }
  } else {
    out[n].addr = dma_of(b);
    out[n++].len = 20;
    out[n].addr = dma_of(b + 20);
    out[n++].len = 24;
    while (left > 0) {
      uint32_t k = (n + 1 == nseg || left == 1) ? left : (left + 1) / 2;
      out[n].addr = dma_of(b + VIRTIO_VSOCK_HDR_LEN + off);
      out[n++].len = k;
      off += k;
      left -= k;
    }
  }
  CHECK(virtq_add(&g.vq[1], out, n, NULL, 0, b) == 0);
  kick(1);
}

static void
hdr(struct vsock_hdr *h, uint16_t type, uint32_t sport, uint32_t dport, uint16_t op, uint32_t len)
{
  memset(h, 0, sizeof(*h));
  h->src_cid = g.cid;
  h->dst_cid = VMADDR_CID_HOST;
  h->src_port = sport;
  h->dst_port = dport;
  h->type = type;
  h->op = op;
  h->len = len;
  h->buf_alloc = GUEST_BUF;
}

static void
send_op(uint32_t sport, uint32_t dport, uint16_t op)
{
  struct vsock_hdr h;
  hdr(&h, VIRTIO_VSOCK_TYPE_STREAM, sport, dport, op, 0);
  send_pkt(&h, NULL, 1);
}

/** Take the next received packet (payload copied to @p payload if not NULL); 0 when none. */
static int
recv_pkt(struct vsock_hdr *h, uint8_t *payload)
{
  uint32_t len;
  uint8_t *b = (uint8_t *)virtq_get_used(&g.vq[0], &len);

  CHECK(!virtq_is_broken(&g.vq[0]));
  if (b == NULL) {
    return 0;
  }
  CHECK(len >= VIRTIO_VSOCK_HDR_LEN && len <= RX_BUF);
  vsock_hdr_decode(h, b, VIRTIO_VSOCK_HDR_LEN);
  CHECK(h->len == len - VIRTIO_VSOCK_HDR_LEN);
  CHECK(h->src_cid == VMADDR_CID_HOST);
  if (payload != NULL) {
    memcpy(payload, b + VIRTIO_VSOCK_HDR_LEN, h->len);
  }
  rx_add(b);
  kick(0);
  return 1;
}

/** Expect exactly one packet with @p op next. */
static void
expect_pkt(struct vsock_hdr *h, uint16_t op)
{
  ck_assert_msg(recv_pkt(h, NULL), "expected %s, got nothing", vsock_op_name(op));
  ck_assert_msg(h->op == op, "expected %s, got %s", vsock_op_name(op), vsock_op_name(h->op));
}

static void
expect_nothing(void)
{
  struct vsock_hdr h;
  ck_assert_msg(!recv_pkt(&h, NULL), "unexpected %s", vsock_op_name(h.op));
}

/** The guest's stream SHUTDOWN with @p flags from @p sport to host port @p dport. */
static void
send_shutdown(uint32_t sport, uint32_t dport, uint32_t flags)
{
  struct vsock_hdr h;

  hdr(&h, VIRTIO_VSOCK_TYPE_STREAM, sport, dport, VIRTIO_VSOCK_OP_SHUTDOWN, 0);
  h.flags = flags;
  send_pkt(&h, NULL, 1);
}

/** A guest connection to host @p port accepted by listener @p l; returns the host socket. */
static int
connect_guest(int l, uint32_t sport, uint32_t port)
{
  struct vsock_hdr r;
  int s;

  send_op(sport, port, VIRTIO_VSOCK_OP_REQUEST);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_RESPONSE);
  ck_assert(r.src_port == port && r.dst_port == sport && r.dst_cid == g.cid);
  s = lwvsock_sim_accept(g.sim, l);
  ck_assert_int_gt(s, 0);
  return s;
}

/**
 * A fresh guest (default config) connected from port 3000 to the host listener
 * *@p l on @p port; returns the host socket.
 */
static int
guest_open_connected(uint32_t port, int *l)
{
  guest_open(NULL, 0);
  *l = lwvsock_sim_listen(g.sim, port, VIRTIO_VSOCK_TYPE_STREAM);
  return connect_guest(*l, 3000, port);
}

/** The guest's CREDIT_UPDATE from port 3000 to host port @p port. */
static void
send_credit(uint32_t port, uint32_t buf_alloc, uint32_t fwd_cnt)
{
  struct vsock_hdr h;

  hdr(&h, VIRTIO_VSOCK_TYPE_STREAM, 3000, port, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0);
  h.buf_alloc = buf_alloc;
  h.fwd_cnt = fwd_cnt;
  send_pkt(&h, NULL, 1);
}

static void
setup(void)
{
  size_t i;

  lwvsock_test_clock_set(1000);
  for (i = 0; i < sizeof(pattern); i++) {
    pattern[i] = (uint8_t)(i * 7u + i / 251u);
  }
}

static void
teardown(void)
{
  lwvsock_check_ensure_no_alloc(0);
}

/* ---- device level -------------------------------------------------------------- */

START_TEST(test_sim_backend_contract)
{
  struct lwvsock_sim_config cfg;
  struct lwvsock_sim *sim;
  struct lwvsock_backend *be;
  struct lwvsock_mem m1, m2;
  struct lwvsock_vring_info vr;
  uint64_t f;
  uint8_t c[8];

  lwvsock_sim_config_init(&cfg);
  cfg.guest_cid = 2;
  ck_assert_int_eq(lwvsock_sim_new(&cfg, &sim), -EINVAL);
  cfg.guest_cid = 7;
  cfg.queue_size_max = 100;
  ck_assert_int_eq(lwvsock_sim_new(&cfg, &sim), -EINVAL);
  cfg.queue_size_max = 256;
  cfg.features |= VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC); /* the sim cannot do indirect */
  ck_assert_int_eq(lwvsock_sim_new(&cfg, &sim), -EINVAL);
  cfg.features &= ~VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC);
  cfg.event_queue = 0;
  ck_assert_int_eq(lwvsock_sim_new(&cfg, &sim), 0);
  be = lwvsock_sim_backend(sim);
  ck_assert(lwvsock_sim_from_backend(be) == sim);
  ck_assert_str_eq(be->ops->name, "sim");
  ck_assert(be->ops->get_features(be, &f) == 0);
  ck_assert(f == (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_VSOCK_F_SEQPACKET) |
                  VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX)));
  ck_assert_int_eq(be->ops->set_features(be, f | VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC)), -EINVAL);
  ck_assert_int_eq(be->ops->set_features(be, VIRTIO_BIT(VIRTIO_VSOCK_F_SEQPACKET)), -EINVAL);
  ck_assert_int_eq(be->ops->read_config(be, 0, c, 8), 0);
  ck_assert(le64_load(c) == 7);
  ck_assert_int_eq(be->ops->read_config(be, 4, c, 8), -EINVAL);
  ck_assert_uint_eq(be->ops->max_queue_size(be, 0), 256);
  ck_assert_uint_eq(be->ops->max_queue_size(be, 1), 256);
  ck_assert_uint_eq(be->ops->max_queue_size(be, 2), 0);
  ck_assert_uint_eq(be->ops->max_queue_size(be, 3), 0);

  ck_assert_int_eq(be->ops->mem_alloc(be, 10000, &m1), 0);
  ck_assert_int_eq(be->ops->mem_alloc(be, 4096, &m2), 0);
  ck_assert(((uintptr_t)m1.va & 4095) == 0 && ((uintptr_t)m2.va & 4095) == 0);
  ck_assert(m1.dma != (uint64_t)(uintptr_t)m1.va && m1.dma != m2.dma);
  ck_assert(((uint8_t *)m1.va)[9999] == 0);

  /* rings: VAs passed as device addresses, or beyond the region, are refused */
  memset(&vr, 0, sizeof(vr));
  vr.index = 0;
  vr.num = 16;
  vr.desc = m1.va;
  vr.desc_dma = (uint64_t)(uintptr_t)m1.va;
  vr.avail_dma = m1.dma + 256;
  vr.used_dma = m1.dma + 1024;
  ck_assert_int_eq(be->ops->setup_queue(be, &vr), -EINVAL);
  vr.desc_dma = m2.dma + 4000;
  ck_assert_int_eq(be->ops->setup_queue(be, &vr), -EINVAL);
  vr.desc_dma = m1.dma;
  vr.num = 512;
  ck_assert_int_eq(be->ops->setup_queue(be, &vr), -EINVAL);
  vr.num = 16;
  ck_assert_int_eq(be->ops->start(be), -EINVAL); /* features not negotiated */
  ck_assert_int_eq(be->ops->set_features(be, f), 0);
  ck_assert_int_eq(be->ops->setup_queue(be, &vr), 0);
  ck_assert_int_eq(be->ops->start(be), -EINVAL); /* no tx queue */
  vr.index = 1;
  vr.desc_dma = m2.dma;
  vr.avail_dma = m2.dma + 256;
  vr.used_dma = m2.dma + 1024;
  ck_assert_int_eq(be->ops->setup_queue(be, &vr), 0);
  vr.index = 2;
  ck_assert_int_eq(be->ops->setup_queue(be, &vr), -EINVAL); /* no event queue */
  ck_assert_int_eq(be->ops->start(be), 0);
  ck_assert_int_eq(be->ops->poll(be), 0);
  ck_assert_int_eq(be->ops->check(be), 0);
  ck_assert_int_eq(be->ops->reset(be), 0);
  be->ops->mem_free(be, &m1);
  be->ops->mem_free(be, &m2);
  be->ops->destroy(be);
}
END_TEST

START_TEST(test_sim_ring_violations)
{
  struct lwvsock_sim_stats st;
  uint8_t *desc;
  uint16_t idx;

  guest_open(NULL, 0);
  /* a tx descriptor pointing outside device memory breaks the queue, reported once */
  desc = (uint8_t *)g.vq[1].desc;
  send_op(1000, 2000, VIRTIO_VSOCK_OP_REQUEST);
  idx = le16_load((uint8_t *)g.vq[1].avail + 4 + 2 * ((g.vq[1].avail_idx - 1) & (QN - 1)));
  le64_store(desc + 16u * idx, g.mem.dma + GUEST_MEM - 8);
  run();
  ck_assert_int_eq(g.be->ops->check(g.be), -EIO);
  ck_assert_int_eq(g.be->ops->check(g.be), 0);
  lwvsock_sim_get_stats(g.sim, &st);
  ck_assert(st.rx_pkts == 0);
  expect_nothing();
  guest_close();

  /* a descriptor loop in an rx chain */
  guest_open(NULL, 1);
  desc = (uint8_t *)g.vq[0].desc;
  idx = le16_load((uint8_t *)g.vq[0].avail + 4);
  le16_store(desc + 16u * le16_load(desc + 16u * idx + 14) + 12, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT);
  le16_store(desc + 16u * le16_load(desc + 16u * idx + 14) + 14, idx);
  ck_assert_int_gt(lwvsock_sim_listen(g.sim, 5, VIRTIO_VSOCK_TYPE_STREAM), 0);
  send_op(1000, 2000, VIRTIO_VSOCK_OP_REQUEST); /* draws an RST that needs an rx buffer */
  run();
  ck_assert_int_eq(g.be->ops->check(g.be), -EIO);
  guest_close();
}
END_TEST

/* ---- connections ---------------------------------------------------------------- */

START_TEST(test_sim_guest_connect_and_rst_rules)
{
  struct lwvsock_sim_stats st;
  struct vsock_hdr h, r;
  unsigned seen = 0;
  int l, s, s2;

  guest_open(NULL, 0);
  l = lwvsock_sim_listen(g.sim, 1234, VIRTIO_VSOCK_TYPE_STREAM);
  ck_assert_int_gt(l, 0);
  ck_assert_int_eq(lwvsock_sim_listen(g.sim, 1234, VIRTIO_VSOCK_TYPE_STREAM), -EADDRINUSE);
  ck_assert_int_eq(lwvsock_sim_accept(g.sim, l), -EAGAIN);

  /* nobody listens: RST, without credit info */
  send_op(5000, 999, VIRTIO_VSOCK_OP_REQUEST);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_RST);
  ck_assert(r.src_port == 999 && r.dst_port == 5000 && r.dst_cid == g.cid);
  ck_assert(r.buf_alloc == 0 && r.fwd_cnt == 0);

  s = connect_guest(l, 5000, 1234);
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s), LWVSOCK_SIM_CONNECTED);
  ck_assert_uint_eq(lwvsock_sim_remote_port(g.sim, s), 5000);
  ck_assert_uint_eq(lwvsock_sim_local_port(g.sim, s), 1234);
  s2 = connect_guest(l, 5010, 1234);

  /* a listener answers anything but REQUEST with RST; an RST draws nothing */
  send_op(5001, 1234, VIRTIO_VSOCK_OP_RW);
  send_op(5002, 1234, VIRTIO_VSOCK_OP_RST);
  /* unknown op (ends the connection it names) and unknown type: RST */
  send_op(5010, 1234, 9);
  hdr(&h, 7, 5003, 1234, VIRTIO_VSOCK_OP_REQUEST, 0);
  send_pkt(&h, NULL, 1);
  /* misaddressed: dropped silently, as vhost */
  hdr(&h, VIRTIO_VSOCK_TYPE_STREAM, 5004, 1234, VIRTIO_VSOCK_OP_REQUEST, 0);
  h.src_cid = g.cid + 1;
  send_pkt(&h, NULL, 1);
  hdr(&h, VIRTIO_VSOCK_TYPE_STREAM, 5005, 1234, VIRTIO_VSOCK_OP_REQUEST, 0);
  h.dst_cid = 1;
  send_pkt(&h, NULL, 1);
  /* header len disagreeing with the chain, or above 64 KiB: dropped */
  hdr(&h, VIRTIO_VSOCK_TYPE_STREAM, 5000, 1234, VIRTIO_VSOCK_OP_RW, 10);
  send_pkt(&h, pattern, 1);
  le32_store(g.txbufs + (size_t)((g.tx_slot - 1) % QN) * TX_BUF + VSOCK_HDR_OFF_LEN, 11);
  hdr(&h, VIRTIO_VSOCK_TYPE_STREAM, 5000, 1234, VIRTIO_VSOCK_OP_RW, 65537);
  send_pkt(&h, got, 1);
  run();
  while (recv_pkt(&r, NULL)) {
    ck_assert_uint_eq(r.op, VIRTIO_VSOCK_OP_RST);
    ck_assert(r.dst_port == 5001 || r.dst_port == 5003 || r.dst_port == 5010);
    ck_assert(r.dst_port != 5003 || r.type == 7);
    seen |= 1u << (r.dst_port - 5000);
  }
  ck_assert_uint_eq(seen, (1u << 1) | (1u << 3) | (1u << 10));
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s2), LWVSOCK_SIM_CLOSED);
  ck_assert_int_eq(lwvsock_sim_error(g.sim, s2), -EPROTO);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, s2), 0);
  lwvsock_sim_get_stats(g.sim, &st);
  ck_assert(st.dropped == 4);
  ck_assert(st.rst_rx == 1 && st.rst_tx == 4);
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s), LWVSOCK_SIM_CONNECTED);
  ck_assert_uint_eq(lwvsock_sim_rx_pending(g.sim, s), 0);

  /* guest RST: the host socket is reset; its packets then draw RST */
  send_op(5000, 1234, VIRTIO_VSOCK_OP_RST);
  run();
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s), LWVSOCK_SIM_CLOSED);
  ck_assert_int_eq(lwvsock_sim_error(g.sim, s), -ECONNRESET);
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, "x", 1), -EPIPE);
  ck_assert_int_eq(lwvsock_sim_recv(g.sim, s, got, 1), 0);
  send_op(5000, 1234, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_RST);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, s), 0);
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s), LWVSOCK_SIM_FREE);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, s), -EBADF);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, l), 0);
  guest_close();
}
END_TEST

/* The host port range is configurable (32-bit ports, as Firecracker's) and
 * runs out cleanly: ports are unique per guest port, reused across them. */
START_TEST(test_sim_host_port_range)
{
  struct lwvsock_sim_config cfg;
  struct lwvsock_sim *sim;
  int s[4];

  lwvsock_sim_config_init(&cfg);
  ck_assert_uint_eq(cfg.host_port_min, 49152u);
  ck_assert_uint_eq(cfg.host_port_max, 65535u);
  cfg.host_port_min = 5;
  cfg.host_port_max = 4;
  ck_assert_int_eq(lwvsock_sim_new(&cfg, &sim), -EINVAL);
  cfg.host_port_min = 5;
  cfg.host_port_max = 0xffffffffu;
  ck_assert_int_eq(lwvsock_sim_new(&cfg, &sim), -EINVAL);

  cfg.host_port_min = 1u << 30;
  cfg.host_port_max = (1u << 30) + 1;
  guest_open(&cfg, 0);
  s[0] = lwvsock_sim_connect(g.sim, 80, VIRTIO_VSOCK_TYPE_STREAM);
  s[1] = lwvsock_sim_connect(g.sim, 80, VIRTIO_VSOCK_TYPE_STREAM);
  ck_assert_int_eq(lwvsock_sim_connect(g.sim, 80, VIRTIO_VSOCK_TYPE_STREAM), -EADDRNOTAVAIL);
  s[2] = lwvsock_sim_connect(g.sim, 81, VIRTIO_VSOCK_TYPE_STREAM);
  ck_assert_int_ge(s[0], 0);
  ck_assert_int_ge(s[1], 0);
  ck_assert_int_ge(s[2], 0);
  ck_assert_uint_eq(lwvsock_sim_local_port(g.sim, s[0]), 1u << 30);
  ck_assert_uint_eq(lwvsock_sim_local_port(g.sim, s[1]), (1u << 30) + 1);
  ck_assert_uint_ne(lwvsock_sim_local_port(g.sim, s[2]), 0);
  /* a freed port is found again */
  ck_assert_int_eq(lwvsock_sim_reset(g.sim, s[0]), 0);
  s[3] = lwvsock_sim_connect(g.sim, 80, VIRTIO_VSOCK_TYPE_STREAM);
  ck_assert_int_ge(s[3], 0);
  ck_assert_uint_eq(lwvsock_sim_local_port(g.sim, s[3]), 1u << 30);
  guest_close();
}
END_TEST

START_TEST(test_sim_host_connect)
{
  struct vsock_hdr r;
  int s, s2, s3;

  guest_open(NULL, 0);
  s = lwvsock_sim_connect(g.sim, 80, VIRTIO_VSOCK_TYPE_STREAM);
  ck_assert_int_gt(s, 0);
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s), LWVSOCK_SIM_CONNECTING);
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, "x", 1), -ENOTCONN);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_REQUEST);
  /* host ports come from 49152..65535 by default, so they fit 16 bits */
  ck_assert(r.src_port == 49152u && r.dst_port == 80 && r.dst_cid == g.cid);
  ck_assert(r.buf_alloc == 256u * 1024u);
  send_op(80, r.src_port, VIRTIO_VSOCK_OP_RESPONSE);
  run();
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s), LWVSOCK_SIM_CONNECTED);

  /* refused: the next port round robin */
  s2 = lwvsock_sim_connect(g.sim, 81, VIRTIO_VSOCK_TYPE_STREAM);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_REQUEST);
  ck_assert_uint_eq(r.src_port, 49153u);
  send_op(81, r.src_port, VIRTIO_VSOCK_OP_RST);
  run();
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s2), LWVSOCK_SIM_CLOSED);
  ck_assert_int_eq(lwvsock_sim_error(g.sim, s2), -ECONNREFUSED);
  expect_nothing();

  /* no answer: -ETIMEDOUT after 2 s, without RST; a late RESPONSE draws one */
  s3 = lwvsock_sim_connect(g.sim, 82, VIRTIO_VSOCK_TYPE_STREAM);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_REQUEST);
  lwvsock_test_clock_advance(1999);
  run();
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s3), LWVSOCK_SIM_CONNECTING);
  lwvsock_test_clock_advance(1);
  run();
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s3), LWVSOCK_SIM_CLOSED);
  ck_assert_int_eq(lwvsock_sim_error(g.sim, s3), -ETIMEDOUT);
  expect_nothing();
  send_op(82, r.src_port, VIRTIO_VSOCK_OP_RESPONSE);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_RST);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, s3), 0);

  /* another CID: dropped on the way, as vhost does */
  s3 = lwvsock_sim_connect_cid(g.sim, g.cid + 1, 83, VIRTIO_VSOCK_TYPE_STREAM);
  run();
  expect_nothing();
  lwvsock_test_clock_advance(2000);
  run();
  ck_assert_int_eq(lwvsock_sim_error(g.sim, s3), -ETIMEDOUT);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, s3), 0);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, s2), 0);
  ck_assert_int_eq(lwvsock_sim_reset(g.sim, s), 0);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_RST);
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s), LWVSOCK_SIM_FREE);
  guest_close();
}
END_TEST

START_TEST(test_sim_host_close)
{
  struct vsock_hdr r;
  uint8_t pl[RX_PAY];
  int l, s;

  s = guest_open_connected(7, &l);
  /* queued data goes out before SHUTDOWN(3) */
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, pattern, 5000), 5000);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, s), 0);
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s), LWVSOCK_SIM_CLOSING);
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, pattern, 1), -EBADF);
  run();
  ck_assert(recv_pkt(&r, pl) && r.op == VIRTIO_VSOCK_OP_RW && r.len == RX_PAY);
  ck_assert(memcmp(pl, pattern, RX_PAY) == 0);
  ck_assert(recv_pkt(&r, pl) && r.op == VIRTIO_VSOCK_OP_RW && r.len == 5000 - RX_PAY);
  expect_pkt(&r, VIRTIO_VSOCK_OP_SHUTDOWN);
  ck_assert_uint_eq(r.flags, VIRTIO_VSOCK_SHUTDOWN_ALL);
  /* the guest's RST ends it and frees the id */
  send_op(3000, 7, VIRTIO_VSOCK_OP_RST);
  run();
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s), LWVSOCK_SIM_FREE);
  expect_nothing();

  /* no RST from the guest: the host sends one after 8 s */
  s = connect_guest(l, 3001, 7);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, s), 0);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_SHUTDOWN);
  lwvsock_test_clock_advance(7999);
  run();
  expect_nothing();
  lwvsock_test_clock_advance(1);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_RST);
  ck_assert_uint_eq(r.dst_port, 3001);
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s), LWVSOCK_SIM_FREE);

  /* half close from the host: SHUTDOWN(SEND) after the data */
  s = connect_guest(l, 3002, 7);
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, pattern, 10), 10);
  ck_assert_int_eq(lwvsock_sim_shutdown(g.sim, s, VIRTIO_VSOCK_SHUTDOWN_SEND), 0);
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, pattern, 10), -EPIPE);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_RW);
  expect_pkt(&r, VIRTIO_VSOCK_OP_SHUTDOWN);
  ck_assert_uint_eq(r.flags, VIRTIO_VSOCK_SHUTDOWN_SEND);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, l), 0);
  guest_close();
}
END_TEST

START_TEST(test_sim_guest_shutdown)
{
  struct vsock_hdr h, r;
  int l, s;

  guest_open(NULL, 1);
  l = lwvsock_sim_listen(g.sim, 7, VIRTIO_VSOCK_TYPE_STREAM);
  s = connect_guest(l, 3000, 7);
  hdr(&h, VIRTIO_VSOCK_TYPE_STREAM, 3000, 7, VIRTIO_VSOCK_OP_RW, 100);
  send_pkt(&h, pattern, 3);
  send_shutdown(3000, 7, VIRTIO_VSOCK_SHUTDOWN_ALL);
  run();
  /* Linux: the RST waits until the host has read everything */
  expect_nothing();
  ck_assert_uint_eq(lwvsock_sim_peer_shutdown(g.sim, s), VIRTIO_VSOCK_SHUTDOWN_ALL);
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, pattern, 1), -EPIPE);
  ck_assert_int_eq(lwvsock_sim_recv(g.sim, s, got, 60), 60);
  run();
  expect_nothing();
  ck_assert_int_eq(lwvsock_sim_recv(g.sim, s, got + 60, 100), 40);
  ck_assert(memcmp(got, pattern, 100) == 0);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_RST);
  expect_nothing();
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s), LWVSOCK_SIM_CLOSED);
  ck_assert_int_eq(lwvsock_sim_error(g.sim, s), 0);
  ck_assert_int_eq(lwvsock_sim_recv(g.sim, s, got, 100), 0);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, s), 0);

  /* SHUTDOWN(SEND) only: end of stream for the host, which can still send */
  s = connect_guest(l, 3001, 7);
  send_shutdown(3001, 7, VIRTIO_VSOCK_SHUTDOWN_SEND);
  run();
  ck_assert_int_eq(lwvsock_sim_recv(g.sim, s, got, 100), 0);
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, pattern, 5), 5);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_RW);
  /* then SHUTDOWN(RCV) with no flags set: sticky, and the host may not send */
  send_shutdown(3001, 7, VIRTIO_VSOCK_SHUTDOWN_RCV);
  run();
  ck_assert_uint_eq(lwvsock_sim_peer_shutdown(g.sim, s), VIRTIO_VSOCK_SHUTDOWN_ALL);
  expect_pkt(&r, VIRTIO_VSOCK_OP_RST);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, s), 0);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, l), 0);
  guest_close();
}
END_TEST

/* The guest's device going away resets every host socket of the CID, as
 * Linux's vhost does on release, even those the guest closed in order; the
 * host reads what is queued, then ECONNRESET. Listeners stay. */
START_TEST(test_sim_device_gone_resets_host_sockets)
{
  struct vsock_hdr h, r;
  int l, s_unread, s_done, s_idle;

  guest_open(NULL, 0);
  l = lwvsock_sim_listen(g.sim, 9, VIRTIO_VSOCK_TYPE_STREAM);
  s_unread = connect_guest(l, 3000, 9);
  s_done = connect_guest(l, 3001, 9);
  s_idle = connect_guest(l, 3002, 9);
  hdr(&h, VIRTIO_VSOCK_TYPE_STREAM, 3000, 9, VIRTIO_VSOCK_OP_RW, 100);
  send_pkt(&h, pattern, 1);
  send_shutdown(3000, 9, VIRTIO_VSOCK_SHUTDOWN_ALL);
  send_shutdown(3001, 9, VIRTIO_VSOCK_SHUTDOWN_ALL);
  run();
  /* s_done is over in order (RST out); its end of stream is still unread */
  expect_pkt(&r, VIRTIO_VSOCK_OP_RST);
  expect_nothing();
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s_done), LWVSOCK_SIM_CLOSED);
  ck_assert_int_eq(lwvsock_sim_error(g.sim, s_done), 0);

  ck_assert_int_eq(g.be->ops->reset(g.be), 0);
  ck_assert_int_eq(lwvsock_sim_state(g.sim, l), LWVSOCK_SIM_LISTENING);
  ck_assert_int_eq(lwvsock_sim_recv(g.sim, s_unread, got, sizeof(got)), 100);
  ck_assert(memcmp(got, pattern, 100) == 0);
  ck_assert_int_eq(lwvsock_sim_recv(g.sim, s_unread, got, sizeof(got)), -ECONNRESET);
  ck_assert_int_eq(lwvsock_sim_recv(g.sim, s_done, got, sizeof(got)), -ECONNRESET);
  ck_assert_int_eq(lwvsock_sim_recv(g.sim, s_idle, got, sizeof(got)), -ECONNRESET);
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s_idle, pattern, 1), -EPIPE);
  ck_assert_int_eq(lwvsock_sim_error(g.sim, s_unread), -ECONNRESET);
  ck_assert_int_eq(lwvsock_sim_error(g.sim, s_done), -ECONNRESET);
  ck_assert_int_eq(lwvsock_sim_error(g.sim, s_idle), -ECONNRESET);
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s_idle), LWVSOCK_SIM_CLOSED);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, s_unread), 0);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, s_done), 0);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, s_idle), 0);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, l), 0);
  guest_close();
}
END_TEST

/* ---- credit ------------------------------------------------------------------------ */

START_TEST(test_sim_host_send_within_credit)
{
  struct vsock_hdr r;
  static uint8_t pl[RX_PAY];
  uint32_t total = 0;
  int l, s;

  s = guest_open_connected(7, &l);
  /* the host send buffer takes 256 KiB and no more; what the guest's credit
   * and rx buffers take goes straight to the guest and frees its room */
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, pattern, 300000), 256 * 1024);
  ck_assert_uint_eq(lwvsock_sim_tx_pending(g.sim, s), 256 * 1024 - GUEST_BUF);
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, pattern + 256 * 1024, 300000), GUEST_BUF);
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, pattern, 1), -EAGAIN);
  run();
  while (recv_pkt(&r, pl)) {
    CHECK(r.op == VIRTIO_VSOCK_OP_RW && r.len <= RX_PAY && r.len > 0);
    CHECK(r.buf_alloc == 256u * 1024u && r.fwd_cnt == 0);
    CHECK(memcmp(pl, pattern + total, r.len) == 0);
    total += r.len;
    run();
  }
  /* exactly the guest's buf_alloc, then the host waits (Linux sends no CREDIT_REQUEST) */
  ck_assert_uint_eq(total, GUEST_BUF);
  ck_assert_uint_eq(lwvsock_sim_tx_pending(g.sim, s), 256 * 1024);
  while (total < 256 * 1024 + GUEST_BUF) {
    uint32_t fwd = total;

    send_credit(7, GUEST_BUF, fwd);
    run();
    while (recv_pkt(&r, pl)) {
      CHECK(r.op == VIRTIO_VSOCK_OP_RW);
      CHECK(memcmp(pl, pattern + total, r.len) == 0);
      total += r.len;
      CHECK(total <= fwd + GUEST_BUF);
      run();
    }
  }
  ck_assert_uint_eq(total, 256 * 1024 + GUEST_BUF);
  ck_assert_uint_eq(lwvsock_sim_tx_pending(g.sim, s), 0);

  /* a shrinking buf_alloc closes the window (signed arithmetic, no huge credit) */
  send_credit(7, 500, total - 1000);
  run();
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, pattern, 100), 100);
  run();
  expect_nothing();
  ck_assert_int_eq(lwvsock_sim_close(g.sim, l), 0);
  guest_close();
}
END_TEST

/* lwvsock_sim_send writes straight into the guest's rx buffers only when that
 * gives the order sim_deliver would: nothing else waiting, nothing owed first. */
START_TEST(test_sim_send_direct_order)
{
  struct lwvsock_sim_faults f;
  struct vsock_hdr h, r;
  static uint8_t pl[RX_PAY];
  int l, s1, s2, s3;

  s1 = guest_open_connected(7, &l);
  s2 = connect_guest(l, 3001, 7);
  /* nothing waiting: the packet is in the rx ring before any poll */
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s2, pattern, 50), 50);
  ck_assert_uint_eq(lwvsock_sim_tx_pending(g.sim, s2), 0);
  ck_assert(recv_pkt(&r, pl) && r.op == VIRTIO_VSOCK_OP_RW && r.len == 50 && r.dst_port == 3001);
  ck_assert(memcmp(pl, pattern, 50) == 0);

  /* s1 waits for rx (stalled): s2's data queues behind it, round robin kept */
  memset(&f, 0, sizeof(f));
  f.stall_rx = 1;
  lwvsock_sim_set_faults(g.sim, &f);
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s1, pattern, 100), 100);
  lwvsock_sim_set_faults(g.sim, NULL);
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s2, pattern + 50, 60), 60);
  ck_assert_uint_eq(lwvsock_sim_tx_pending(g.sim, s1), 100);
  ck_assert_uint_eq(lwvsock_sim_tx_pending(g.sim, s2), 60);
  /* a queued stream never goes direct: its new bytes follow the queued ones */
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s2, pattern + 110, 5), 5);
  run();
  ck_assert(recv_pkt(&r, pl) && r.dst_port == 3000 && r.len == 100);
  ck_assert(recv_pkt(&r, pl) && r.dst_port == 3001 && r.len == 65);
  ck_assert(memcmp(pl, pattern + 50, 65) == 0);
  expect_nothing();

  /* a RESPONSE still owed goes out before the accepted socket's data */
  f.stall_rx = 1;
  lwvsock_sim_set_faults(g.sim, &f);
  send_op(3002, 7, VIRTIO_VSOCK_OP_REQUEST);
  run();
  s3 = lwvsock_sim_accept(g.sim, l);
  ck_assert_int_gt(s3, 0);
  lwvsock_sim_set_faults(g.sim, NULL);
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s3, pattern, 10), 10);
  ck_assert_uint_eq(lwvsock_sim_tx_pending(g.sim, s3), 10);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_RESPONSE);
  expect_pkt(&r, VIRTIO_VSOCK_OP_RW);
  ck_assert_uint_eq(r.dst_port, 3002);
  expect_nothing();

  /* no credit: nothing goes direct, the bytes wait in the send buffer */
  hdr(&h, VIRTIO_VSOCK_TYPE_STREAM, 3002, 7, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0);
  h.buf_alloc = 10;
  h.fwd_cnt = 0;
  send_pkt(&h, NULL, 1);
  run();
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s3, pattern, 7), 7);
  ck_assert_uint_eq(lwvsock_sim_tx_pending(g.sim, s3), 7);
  run();
  expect_nothing();
  ck_assert_int_eq(lwvsock_sim_close(g.sim, l), 0);
  guest_close();
}
END_TEST

START_TEST(test_sim_credit_update_rule)
{
  struct lwvsock_sim_stats st;
  struct vsock_hdr h, r;
  uint32_t total = 0;
  int l, s;

  s = guest_open_connected(7, &l);
  /* a slow host reader: 200 KB arrive in 64 KiB packets; nothing comes back */
  while (total < 200000) {
    uint32_t n = 200000 - total > 65536 ? 65536 : 200000 - total;
    hdr(&h, VIRTIO_VSOCK_TYPE_STREAM, 3000, 7, VIRTIO_VSOCK_OP_RW, n);
    send_pkt(&h, pattern + total, total == 0 ? 4 : 2);
    total += n;
  }
  run();
  expect_nothing();
  ck_assert_uint_eq(lwvsock_sim_rx_pending(g.sim, s), 200000);
  /* 100 KB read: 156 KiB free unknown to the guest >= 64 KiB, data left: no update */
  ck_assert_int_eq(lwvsock_sim_recv(g.sim, s, got, 100000), 100000);
  run();
  expect_nothing();
  ck_assert_int_eq(lwvsock_sim_recv(g.sim, s, got + 100000, 50000), 50000);
  run();
  expect_nothing();
  /* 256 KiB - 200000 < 64 KiB: update even though data is left */
  ck_assert_int_eq(lwvsock_sim_recv(g.sim, s, got + 150000, 49999), 49999);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
  ck_assert_uint_eq(r.fwd_cnt, 199999);
  ck_assert_uint_eq(r.buf_alloc, 256u * 1024u);
  /* draining the queue: update */
  ck_assert_int_eq(lwvsock_sim_recv(g.sim, s, got + 199999, 10), 1);
  ck_assert(memcmp(got, pattern, 200000) == 0);
  ck_assert_int_eq(lwvsock_sim_recv(g.sim, s, got, 10), -EAGAIN);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
  ck_assert_uint_eq(r.fwd_cnt, 200000);
  expect_nothing();
  /* CREDIT_REQUEST is answered; a new rcvbuf is announced */
  send_op(3000, 7, VIRTIO_VSOCK_OP_CREDIT_REQUEST);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
  ck_assert_int_eq(lwvsock_sim_set_rcvbuf(g.sim, s, 1000), 0);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
  ck_assert_uint_eq(r.buf_alloc, 1000);
  lwvsock_sim_get_stats(g.sim, &st);
  ck_assert(st.credit_requests_rx == 1 && st.rx_bytes == 200000);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, l), 0);
  guest_close();
}
END_TEST

START_TEST(test_sim_credit_violation)
{
  struct lwvsock_sim_stats st;
  struct vsock_hdr h, r;
  uint32_t total = 0;
  int l, s;

  s = guest_open_connected(7, &l);
  while (total < 256 * 1024 + 1) {
    uint32_t n = 256 * 1024 + 1 - total > 65536 ? 65536 : 256 * 1024 + 1 - total;
    hdr(&h, VIRTIO_VSOCK_TYPE_STREAM, 3000, 7, VIRTIO_VSOCK_OP_RW, n);
    send_pkt(&h, pattern, 1);
    total += n;
  }
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_RST);
  expect_nothing();
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s), LWVSOCK_SIM_CLOSED);
  ck_assert_int_eq(lwvsock_sim_error(g.sim, s), -ENOBUFS);
  /* what was within credit is still there, intact */
  ck_assert_uint_eq(lwvsock_sim_rx_pending(g.sim, s), 256 * 1024);
  lwvsock_sim_get_stats(g.sim, &st);
  ck_assert(st.credit_violations == 1);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, s), 0);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, l), 0);
  guest_close();
}
END_TEST

START_TEST(test_sim_credit_request_when_blocked)
{
  struct lwvsock_sim_config cfg;
  struct vsock_hdr r;
  int l, s;

  lwvsock_sim_config_init(&cfg);
  cfg.credit_request = 1;
  guest_open(&cfg, 0);
  l = lwvsock_sim_listen(g.sim, 7, VIRTIO_VSOCK_TYPE_STREAM);
  send_op(3000, 7, VIRTIO_VSOCK_OP_REQUEST);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_RESPONSE);
  s = lwvsock_sim_accept(g.sim, l);
  send_credit(7, 0, 0);
  run();
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, pattern, 10), 10);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_CREDIT_REQUEST);
  run();
  expect_nothing();
  lwvsock_test_clock_advance(1000);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_CREDIT_REQUEST);
  send_op(3000, 7, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_RW);
  ck_assert_uint_eq(r.len, 10);
  lwvsock_test_clock_advance(5000);
  run();
  expect_nothing();
  ck_assert_int_eq(lwvsock_sim_close(g.sim, l), 0);
  guest_close();
}
END_TEST

/* ---- seqpacket ---------------------------------------------------------------------- */

START_TEST(test_sim_seqpacket)
{
  struct vsock_hdr h, r;
  uint8_t pl[RX_PAY];
  int l, s;

  guest_open(NULL, 1);
  l = lwvsock_sim_listen(g.sim, 8, VIRTIO_VSOCK_TYPE_SEQPACKET);
  hdr(&h, VIRTIO_VSOCK_TYPE_SEQPACKET, 3000, 8, VIRTIO_VSOCK_OP_REQUEST, 0);
  send_pkt(&h, NULL, 1);
  /* a stream REQUEST to a seqpacket listener: RST (replies without a socket go first) */
  send_op(3001, 8, VIRTIO_VSOCK_OP_REQUEST);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_RST);
  ck_assert_uint_eq(r.dst_port, 3001);
  expect_pkt(&r, VIRTIO_VSOCK_OP_RESPONSE);
  ck_assert_uint_eq(r.type, VIRTIO_VSOCK_TYPE_SEQPACKET);
  s = lwvsock_sim_accept(g.sim, l);
  ck_assert_int_gt(s, 0);

  /* host messages: fragments over rx buffers, EOM|EOR on the last one only */
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, pattern, 10000), 10000);
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, pattern + 10000, 10), 10);
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, pattern, GUEST_BUF + 1), -EMSGSIZE);
  run();
  ck_assert(recv_pkt(&r, pl) && r.len == RX_PAY && r.flags == 0);
  ck_assert(recv_pkt(&r, pl) && r.len == RX_PAY && r.flags == 0);
  ck_assert(recv_pkt(&r, pl) && r.len == 10000 - 2 * RX_PAY);
  ck_assert_uint_eq(r.flags, VIRTIO_VSOCK_SEQ_EOM | VIRTIO_VSOCK_SEQ_EOR);
  ck_assert(recv_pkt(&r, pl) && r.len == 10 && memcmp(pl, pattern + 10000, 10) == 0);
  ck_assert_uint_eq(r.flags, VIRTIO_VSOCK_SEQ_EOM | VIRTIO_VSOCK_SEQ_EOR);

  /* guest messages: one per recv, truncated to the buffer */
  hdr(&h, VIRTIO_VSOCK_TYPE_SEQPACKET, 3000, 8, VIRTIO_VSOCK_OP_RW, 5);
  h.flags = VIRTIO_VSOCK_SEQ_EOM;
  send_pkt(&h, "hello", 1);
  hdr(&h, VIRTIO_VSOCK_TYPE_SEQPACKET, 3000, 8, VIRTIO_VSOCK_OP_RW, 3);
  send_pkt(&h, "abc", 2);
  ck_assert_int_eq(lwvsock_sim_recv(g.sim, s, got, 100), -EAGAIN);
  hdr(&h, VIRTIO_VSOCK_TYPE_SEQPACKET, 3000, 8, VIRTIO_VSOCK_OP_RW, 3);
  h.flags = VIRTIO_VSOCK_SEQ_EOM;
  send_pkt(&h, "def", 3);
  run();
  ck_assert_int_eq(lwvsock_sim_recv(g.sim, s, got, 3), 3);
  ck_assert(memcmp(got, "hel", 3) == 0);
  ck_assert_int_eq(lwvsock_sim_recv(g.sim, s, got, 100), 6);
  ck_assert(memcmp(got, "abcdef", 6) == 0);
  ck_assert_int_eq(lwvsock_sim_recv(g.sim, s, got, 100), -EAGAIN);
  /* Linux sends a credit update after every seqpacket dequeue */
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
  ck_assert_uint_eq(r.fwd_cnt, 11);
  expect_nothing();
  ck_assert_int_eq(lwvsock_sim_close(g.sim, l), 0);
  guest_close();
}
END_TEST

/* ---- device controls -------------------------------------------------------------- */

static uint32_t tap_count, tap_bytes;
static int tap_ok;

static void
tap_fn(void *arg, const uint8_t *h, const uint8_t *payload, uint32_t len)
{
  (void)arg;
  tap_count++;
  tap_bytes += len;
  if (le32_load(h + VSOCK_HDR_OFF_LEN) != len || (len != 0 && memcmp(payload, pattern, len) != 0)) {
    tap_ok = 0;
  }
}

START_TEST(test_sim_transport_reset_inject_tap)
{
  struct vsock_hdr h, r;
  uint8_t raw[VIRTIO_VSOCK_HDR_LEN], c[8];
  uint32_t len;
  uint8_t *b;
  void *ev;
  int l, s;

  guest_open(NULL, 0);
  tap_count = tap_bytes = 0;
  tap_ok = 1;
  lwvsock_sim_set_tap(g.sim, tap_fn, NULL);
  l = lwvsock_sim_listen(g.sim, 8, VIRTIO_VSOCK_TYPE_STREAM);
  s = connect_guest(l, 3000, 8);
  hdr(&h, VIRTIO_VSOCK_TYPE_STREAM, 3000, 8, VIRTIO_VSOCK_OP_RW, 3000);
  send_pkt(&h, pattern, 5);
  run();
  ck_assert(tap_ok && tap_count == 2 && tap_bytes == 3000);
  lwvsock_sim_set_tap(g.sim, NULL, NULL);

  ck_assert_int_eq(lwvsock_sim_transport_reset(g.sim, 1), -EINVAL);
  ck_assert_int_eq(lwvsock_sim_transport_reset(g.sim, 42), 0);
  ck_assert_int_eq(lwvsock_sim_state(g.sim, s), LWVSOCK_SIM_CLOSED);
  ck_assert_int_eq(lwvsock_sim_error(g.sim, s), -ECONNRESET);
  ck_assert_int_eq(lwvsock_sim_state(g.sim, l), LWVSOCK_SIM_LISTENING);
  run();
  ev = virtq_get_used(&g.vq[2], &len);
  ck_assert(ev != NULL && len == 4 && le32_load(ev) == VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
  ck_assert(virtq_get_used(&g.vq[2], &len) == NULL);
  ck_assert(g.be->ops->read_config(g.be, 0, c, 8) == 0 && le64_load(c) == 42);
  expect_nothing(); /* Linux sends no RST on a transport reset */
  /* the old CID is now misaddressed; the listener works with the new one */
  send_op(3001, 8, VIRTIO_VSOCK_OP_REQUEST);
  run();
  expect_nothing();
  g.cid = 42;
  ck_assert_int_eq(lwvsock_sim_close(g.sim, s), 0);
  s = connect_guest(l, 3001, 8);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, s), 0);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_SHUTDOWN);

  /* inject: the bytes exactly as given, ahead of anything else */
  memset(raw, 0xab, sizeof(raw));
  ck_assert_int_eq(lwvsock_sim_inject(g.sim, raw, "xyz", 3), 0);
  ck_assert_int_eq(lwvsock_sim_inject(g.sim, NULL, NULL, 0), -EINVAL);
  run();
  b = (uint8_t *)virtq_get_used(&g.vq[0], &len);
  ck_assert(b != NULL && len == VIRTIO_VSOCK_HDR_LEN + 3);
  ck_assert(b[0] == 0xab && b[43] == 0xab && memcmp(b + 44, "xyz", 3) == 0);
  rx_add(b);
  kick(0);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, l), 0);
  guest_close();
}
END_TEST

START_TEST(test_sim_faults)
{
  struct lwvsock_sim_faults f;
  struct vsock_hdr r;
  uint8_t raw[VIRTIO_VSOCK_HDR_LEN];
  uint32_t len, total = 0;
  uint8_t *b;
  int l, s;

  s = guest_open_connected(8, &l);
  memset(raw, 0, sizeof(raw));

  /* one-shot used-ring faults, each on the next entry only */
  memset(&f, 0, sizeof(f));
  f.zero_len_rx = 1;
  lwvsock_sim_set_faults(g.sim, &f);
  ck_assert_int_eq(lwvsock_sim_inject(g.sim, raw, NULL, 0), 0);
  ck_assert_int_eq(lwvsock_sim_inject(g.sim, raw, NULL, 0), 0);
  run();
  b = (uint8_t *)virtq_get_used(&g.vq[0], &len);
  ck_assert(b != NULL && len == 0);
  rx_add(b);
  b = (uint8_t *)virtq_get_used(&g.vq[0], &len);
  ck_assert(b != NULL && len == VIRTIO_VSOCK_HDR_LEN);
  rx_add(b);
  kick(0);

  f.zero_len_rx = 0;
  f.hdr_len_mismatch = 1;
  lwvsock_sim_set_faults(g.sim, &f);
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, pattern, 10), 10);
  run();
  b = (uint8_t *)virtq_get_used(&g.vq[0], &len);
  ck_assert(b != NULL && len == VIRTIO_VSOCK_HDR_LEN + 10);
  ck_assert_uint_eq(le32_load(b + VSOCK_HDR_OFF_LEN), 11);
  rx_add(b);
  kick(0);

  /* stalls hold packets back and lose nothing */
  f.hdr_len_mismatch = 0;
  f.stall_rx = 1;
  lwvsock_sim_set_faults(g.sim, &f);
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, pattern, 10), 10);
  run();
  expect_nothing();
  lwvsock_sim_set_faults(g.sim, NULL);
  run();
  expect_pkt(&r, VIRTIO_VSOCK_OP_RW);

  /* huge_buf_alloc: every host packet advertises it */
  memset(&f, 0, sizeof(f));
  f.huge_buf_alloc = 0x7fffffffu;
  lwvsock_sim_set_faults(g.sim, &f);
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, pattern, 100), 100);
  run();
  while (recv_pkt(&r, NULL)) {
    ck_assert_uint_eq(r.buf_alloc, 0x7fffffffu);
    total += r.len;
  }
  ck_assert_uint_eq(total, 100);
  lwvsock_sim_set_faults(g.sim, NULL);

  f.used_id_bogus = 1;
  lwvsock_sim_set_faults(g.sim, &f);
  ck_assert_int_eq(lwvsock_sim_inject(g.sim, raw, NULL, 0), 0);
  run();
  ck_assert(virtq_get_used(&g.vq[0], &len) == NULL);
  ck_assert(virtq_is_broken(&g.vq[0]));
  guest_close();
}
END_TEST

START_TEST(test_sim_ignore_credit)
{
  struct lwvsock_sim_faults f;
  struct vsock_hdr r;
  uint32_t total = 0;
  int l, s;

  s = guest_open_connected(8, &l);
  send_credit(8, 100, 0);
  run();
  ck_assert_int_eq(lwvsock_sim_send(g.sim, s, pattern, 1000), 1000);
  run();
  while (recv_pkt(&r, NULL)) {
    total += r.len;
  }
  ck_assert_uint_eq(total, 100);
  memset(&f, 0, sizeof(f));
  f.ignore_credit = 1;
  lwvsock_sim_set_faults(g.sim, &f);
  run();
  while (recv_pkt(&r, NULL)) {
    total += r.len;
  }
  ck_assert_uint_eq(total, 1000);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, l), 0);
  guest_close();
}
END_TEST

START_TEST(test_sim_event_idx)
{
  struct lwvsock_sim_config cfg;
  struct lwvsock_sim_stats st;
  struct vsock_hdr r;
  static uint8_t pl[RX_PAY];
  uint32_t total = 0, turns;
  int l, s;

  /* the driver kicks only when avail_event asks for it: the sim must keep it current */
  lwvsock_sim_config_init(&cfg);
  cfg.features |= VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
  guest_open(&cfg, 0);
  ck_assert(g.vq[0].event_idx);
  l = lwvsock_sim_listen(g.sim, 7, VIRTIO_VSOCK_TYPE_STREAM);
  s = connect_guest(l, 3000, 7);
  for (turns = 0; turns < 1000 && total < 300000; turns++) {
    if (lwvsock_sim_tx_pending(g.sim, s) == 0) {
      CHECK(lwvsock_sim_send(g.sim, s, pattern + total, 100000) == 100000);
    }
    run();
    while (recv_pkt(&r, pl)) {
      CHECK(r.op == VIRTIO_VSOCK_OP_RW);
      CHECK(memcmp(pl, pattern + total, r.len) == 0);
      total += r.len;
    }
    send_credit(7, GUEST_BUF, total);
  }
  ck_assert_uint_eq(total, 300000);
  lwvsock_sim_get_stats(g.sim, &st);
  ck_assert(st.kicks < st.tx_pkts + st.rx_pkts);
  ck_assert_int_eq(lwvsock_sim_close(g.sim, l), 0);
  guest_close();
}
END_TEST

/* Host sends one small packet per turn; returns the used-buffer notifications it cost. */
static uint64_t
notifications_for_sends(int s, unsigned n)
{
  struct lwvsock_sim_stats st0, st1;
  struct vsock_hdr r;
  unsigned i;

  lwvsock_sim_get_stats(g.sim, &st0);
  for (i = 0; i < n; i++) {
    CHECK(lwvsock_sim_send(g.sim, s, "x", 1) == 1);
    run();
  }
  lwvsock_sim_get_stats(g.sim, &st1);
  for (i = 0; i < n; i++) {
    expect_pkt(&r, VIRTIO_VSOCK_OP_RW);
  }
  return st1.used_notifications - st0.used_notifications;
}

START_TEST(test_sim_used_notifications)
{
  struct lwvsock_sim_config cfg;
  int l, s, ev;

  /* The device notifies only when the driver asked: used_event with EVENT_IDX
     (once, for the entry it names), avail->flags without. */
  for (ev = 0; ev < 2; ev++) {
    lwvsock_sim_config_init(&cfg);
    if (!ev) {
      cfg.features &= ~VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
    }
    guest_open(&cfg, 0);
    ck_assert_int_eq(g.vq[0].event_idx, ev);
    l = lwvsock_sim_listen(g.sim, 7, VIRTIO_VSOCK_TYPE_STREAM);
    s = connect_guest(l, 3000 + (uint32_t)ev, 7);
    /* polling: asked for nothing */
    ck_assert_uint_eq(notifications_for_sends(s, 3), 0);
    /* armed before sleeping: one notification per batch the driver left unread */
    ck_assert(virtq_enable_cb(&g.vq[0]));
    ck_assert_uint_eq(notifications_for_sends(s, 1), 1);
    if (ev) {
      /* used_event named one entry; the driver has not re-armed since */
      ck_assert_uint_eq(notifications_for_sends(s, 3), 0);
    } else {
      /* the flag stays clear until the driver sets it again */
      ck_assert_uint_eq(notifications_for_sends(s, 3), 3);
    }
    virtq_disable_cb(&g.vq[0]);
    ck_assert_uint_eq(notifications_for_sends(s, 3), 0);
    ck_assert_int_eq(lwvsock_sim_close(g.sim, s), 0);
    ck_assert_int_eq(lwvsock_sim_close(g.sim, l), 0);
    guest_close();
  }
}
END_TEST

/* ---- scale and back pressure --------------------------------------------------------- */

START_TEST(test_sim_reply_backpressure)
{
  struct vsock_hdr r;
  uint32_t sent = 0, rsts = 0, turns;

  guest_open(NULL, 0);
  /* flood REQUESTs to a dead port without taking rx: the sim stops taking tx */
  for (turns = 0; turns < 1000; turns++) {
    reclaim_tx();
    if (g.vq[1].num_free == 0) {
      break;
    }
    send_op(20000 + sent, 9, VIRTIO_VSOCK_OP_REQUEST);
    sent++;
    run();
  }
  ck_assert_msg(turns < 1000, "the sim never stopped taking tx");
  ck_assert_uint_le(sent, 4 * QN);
  /* and resumes once the guest reads: one RST per REQUEST, none lost */
  for (turns = 0; turns < 100 && rsts < sent; turns++) {
    run();
    while (recv_pkt(&r, NULL)) {
      CHECK(r.op == VIRTIO_VSOCK_OP_RST && r.dst_port == 20000 + rsts);
      rsts++;
    }
  }
  ck_assert_uint_eq(rsts, sent);
  guest_close();
}
END_TEST

START_TEST(test_sim_1000_connections)
{
  static int ids[1000];
  struct vsock_hdr r;
  uint32_t n = 0;
  int l, i, turns;

  guest_open(NULL, 0);
  l = lwvsock_sim_listen(g.sim, 8, VIRTIO_VSOCK_TYPE_STREAM);
  for (i = 0; i < 1000; i++) {
    send_op(10000 + (uint32_t)i, 8, VIRTIO_VSOCK_OP_REQUEST);
    run();
    while (recv_pkt(&r, NULL)) {
      CHECK(r.op == VIRTIO_VSOCK_OP_RESPONSE);
      n++;
    }
  }
  ck_assert_uint_eq(n, 1000);
  for (i = 0; i < 1000; i++) {
    ids[i] = lwvsock_sim_accept(g.sim, l);
    CHECK(ids[i] > 0);
    CHECK(lwvsock_sim_send(g.sim, ids[i], pattern, 100) == 100);
  }
  ck_assert_int_eq(lwvsock_sim_accept(g.sim, l), -EAGAIN);
  n = 0;
  for (turns = 0; turns < 100 && n < 1000; turns++) {
    run();
    while (recv_pkt(&r, NULL)) {
      CHECK(r.op == VIRTIO_VSOCK_OP_RW && r.len == 100);
      n++;
    }
  }
  ck_assert_uint_eq(n, 1000);
  /* closing the listener leaves accepted connections alone */
  ck_assert_int_eq(lwvsock_sim_close(g.sim, l), 0);
  for (i = 0; i < 1000; i++) {
    CHECK(lwvsock_sim_reset(g.sim, ids[i]) == 0);
  }
  n = 0;
  for (turns = 0; turns < 100 && n < 1000; turns++) {
    run();
    while (recv_pkt(&r, NULL)) {
      CHECK(r.op == VIRTIO_VSOCK_OP_RST);
      n++;
    }
  }
  ck_assert_uint_eq(n, 1000);
  for (i = 0; i < 1000; i++) {
    CHECK(lwvsock_sim_state(g.sim, ids[i]) == LWVSOCK_SIM_FREE);
  }
  guest_close();
}
END_TEST

Suite *
lwvsock_test_suite(void)
{
  testfunc tests[] = {
    TESTFUNC(test_sim_backend_contract),
    TESTFUNC(test_sim_ring_violations),
    TESTFUNC(test_sim_guest_connect_and_rst_rules),
    TESTFUNC(test_sim_host_connect),
    TESTFUNC(test_sim_host_port_range),
    TESTFUNC(test_sim_host_close),
    TESTFUNC(test_sim_guest_shutdown),
    TESTFUNC(test_sim_host_send_within_credit),
    TESTFUNC(test_sim_send_direct_order),
    TESTFUNC(test_sim_credit_update_rule),
    TESTFUNC(test_sim_credit_violation),
    TESTFUNC(test_sim_credit_request_when_blocked),
    TESTFUNC(test_sim_seqpacket),
    TESTFUNC(test_sim_transport_reset_inject_tap),
    TESTFUNC(test_sim_device_gone_resets_host_sockets),
    TESTFUNC(test_sim_faults),
    TESTFUNC(test_sim_ignore_credit),
    TESTFUNC(test_sim_event_idx),
    TESTFUNC(test_sim_used_notifications),
    TESTFUNC(test_sim_reply_backpressure),
    TESTFUNC(test_sim_1000_connections),
  };
  return create_suite("sim", tests, sizeof(tests) / sizeof(tests[0]), setup, teardown);
}
