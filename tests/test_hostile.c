/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Hostile-device and hostile-peer suite: the simulated host misbehaves through
 * its fault knobs (lwvsock_sim_set_faults) and raw packet injection, and every
 * case states what must happen: an error to the application, an RST to the
 * peer, or the device reported broken (lwvsock_dev_status/lwvsock_dev_error).
 *
 * Alongside the attack, a second connection moves a byte-checked stream both
 * ways (pattern_fill offsets), so a byte of an unaffected connection lost,
 * duplicated or reordered fails the case. Teardown checks that lwIP's heap,
 * every memp pool and our pcb pool are back where they started.
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "lwvsock_check.h"
#include "proto_fixture.h"
#include "lwvsock_priv.h"
#include "lwip/stats.h"

static struct fx f;
static uint16_t inject_type; /* type of injected packets (stream unless a case says) */

static void
hostile_setup(void)
{
  inject_type = LWVSOCK_STREAM;
  fx_setup(&f);
}

static void
hostile_teardown(void)
{
  fx_teardown(&f);
}

/* ---- helpers ------------------------------------------------------------------ */

static void
set_faults(const struct lwvsock_sim_faults *flt)
{
  lwvsock_sim_set_faults(f.sim, flt);
}

static struct lwvsock_dev_stats
stats(void)
{
  struct lwvsock_dev_stats st;

  lwvsock_dev_get_stats(f.dev, &st);
  return st;
}

static size_t
malloc_in_use(void)
{
  return mallinfo2().uordblks;
}

/* Raw packet from the host (CID 2) to our CID, delivered as the device would. */
static void
inject(uint16_t op, uint32_t flags, uint32_t src_port, uint32_t dst_port, uint32_t hdr_len,
       const void *payload, uint32_t len)
{
  const struct vsock_hdr h = {.src_cid = VMADDR_CID_HOST, .dst_cid = lwvsock_dev_cid(f.dev),
                             .src_port = src_port, .dst_port = dst_port, .len = hdr_len,
                             .type = inject_type, .op = op, .flags = flags, .buf_alloc = 256 * 1024};

  fx_inject(&f, &h, payload, len);
}

/*
 * The bystander: one connection carrying pattern bytes both ways, checked
 * byte by byte at both ends.
 */
struct bystander {
  struct app a;
  int h;
  uint64_t g2h_written, g2h_read, h2g_written;
  int g2h_mismatch;
  int g2h, h2g;            /* directions pumped now */
};

#define BY_CHUNK 8192u

static void
by_open(struct bystander *b, uint32_t port)
{
  memset(b, 0, sizeof(*b));
  b->h = fx_guest_connect(&f, &b->a, LWVSOCK_STREAM, port);
  b->a.check_pattern = 1;
  b->g2h = b->h2g = 1;
}

static void
by_pump(struct bystander *b)
{
  uint8_t buf[BY_CHUNK], expect[BY_CHUNK];
  ssize_t r;

  if (b->a.pcb == NULL) {
    return;
  }
  if (b->g2h && lwvsock_sndbuf(b->a.pcb) >= BY_CHUNK) {
    pattern_fill(buf, b->g2h_written, BY_CHUNK);
    if (lwvsock_write(b->a.pcb, buf, BY_CHUNK, 0) == ERR_OK) {
      b->g2h_written += BY_CHUNK;
    }
  }
  while ((r = lwvsock_sim_recv(f.sim, b->h, buf, sizeof(buf))) > 0) {
    pattern_fill(expect, b->g2h_read, (size_t)r);
    b->g2h_mismatch |= memcmp(buf, expect, (size_t)r) != 0;
    b->g2h_read += (uint64_t)r;
  }
  if (b->h2g) {
    pattern_fill(buf, b->h2g_written, BY_CHUNK);
    r = lwvsock_sim_send(f.sim, b->h, buf, BY_CHUNK);
    if (r > 0) {
      b->h2g_written += (uint64_t)r;
    }
  }
}

/* Poll @p n times, pumping the bystander (NULL: none) before each poll. */
static void
run(struct bystander *b, int n)
{
  while (n-- > 0) {
    if (b != NULL) {
      by_pump(b);
    }
    lwvsock_dev_poll(f.dev, 0);
  }
}

/* Stop sending, let everything in flight arrive, check every byte, close. */
static void
by_finish(struct bystander *b, uint64_t min_each_way)
{
  int i;

  ck_assert_ptr_nonnull(b->a.pcb);
  b->g2h = b->h2g = 0;
  for (i = 0; i < 2000 && (b->g2h_read < b->g2h_written || b->a.total < b->h2g_written); i++) {
    run(b, 1);
  }
  ck_assert_int_eq(b->a.err_called, 0);
  ck_assert_int_eq(b->a.mismatch, 0);
  ck_assert_int_eq(b->g2h_mismatch, 0);
  ck_assert_uint_eq(b->g2h_read, b->g2h_written);
  ck_assert_uint_eq(b->a.total, b->h2g_written);
  ck_assert_uint_eq(b->a.verified, b->a.total);
  ck_assert_uint_ge(b->g2h_read, min_each_way);
  ck_assert_uint_ge(b->a.total, min_each_way);
  lwvsock_close(b->a.pcb);
  run(NULL, 10);
  lwvsock_sim_close(f.sim, b->h);
  run(NULL, 10);
}

/* The bystander @p b on @p port and the case's victim @p v on @p port + 1; returns the victim's host end. */
static int
victim_open(struct bystander *b, struct app *v, uint16_t type, uint32_t port)
{
  memset(v, 0, sizeof(*v));
  by_open(b, port);
  return fx_guest_connect(&f, v, type, port + 1);
}

/*
 * The shared ending of a case that went for victim @p v (host end @p hv) beside
 * bystander @p b: @p v was reset if @p reset (ERR_RST once, the host sees it
 * closed), else it is still open and closes now; the bystander carries every
 * byte both ways to the end.
 */
static void
victim_finish(struct bystander *b, struct app *v, int hv, int reset)
{
  if (reset) {
    ck_assert_int_eq(v->err_called, 1);
    ck_assert_int_eq(v->err, ERR_RST);
    ck_assert_ptr_null(v->pcb);
    ck_assert_int_eq(lwvsock_sim_state(f.sim, hv), LWVSOCK_SIM_CLOSED);
  }
  run(b, 50);
  by_finish(b, 64 * 1024);
  if (!reset) {
    ck_assert_ptr_nonnull(v->pcb);
    lwvsock_close(v->pcb);
    run(NULL, 10);
  }
  lwvsock_sim_close(f.sim, hv);
  run(NULL, 10);
}

/* Poll until lwvsock_dev_poll() reports no work @p quiet times in a row (bounded). */
static int
settle(int quiet)
{
  int idle = 0, i;

  for (i = 0; i < 1000 && idle < quiet; i++) {
    idle = lwvsock_dev_poll(f.dev, 0) == 0 ? idle + 1 : 0;
  }
  return idle >= quiet;
}

/* Let the bystander run a while, then stop it and wait until nothing is in flight. */
static void
by_quiesce(struct bystander *b)
{
  run(b, 30);
  b->g2h = b->h2g = 0;
  run(b, 30);
  ck_assert(settle(3));
}

/* ---- the device breaks the ring protocol: device broken, everyone told ERR_IF ---- */

static void
broken_ring_case(const struct lwvsock_sim_faults *flt, const char *why)
{
  static struct bystander b;
  static struct app idle;
  int hi, i;

  memset(&idle, 0, sizeof(idle));
  by_open(&b, 7001);
  hi = fx_guest_connect(&f, &idle, LWVSOCK_STREAM, 7002);
  run(&b, 20);
  set_faults(flt);
  for (i = 0; i < 200 && lwvsock_dev_status(f.dev) == ERR_OK; i++) {
    run(&b, 1);
  }
  ck_assert_int_eq(lwvsock_dev_status(f.dev), ERR_IF);
  ck_assert_msg(strstr(lwvsock_dev_error(f.dev), why) != NULL, "error \"%s\" does not say \"%s\"",
                lwvsock_dev_error(f.dev), why);
  ck_assert_uint_ge(stats().dev_errors, 1);
  /* Every connection learns it once, with ERR_IF, and its pcb is gone. */
  ck_assert_int_eq(b.a.err_called, 1);
  ck_assert_int_eq(b.a.err, ERR_IF);
  ck_assert_int_eq(idle.err_called, 1);
  ck_assert_int_eq(idle.err, ERR_IF);
  ck_assert_ptr_null(b.a.pcb);
  /* Nothing new can start on a broken device, and polling it does no work. */
  ck_assert_ptr_null(lwvsock_new(f.dev, LWVSOCK_STREAM));
  run(NULL, 2);
  for (i = 0; i < 10; i++) {
    ck_assert_int_eq(lwvsock_dev_poll(f.dev, 0), 0);
  }
  /* Bytes that made it through before the break were all correct. */
  ck_assert_int_eq(b.a.mismatch, 0);
  ck_assert_int_eq(b.g2h_mismatch, 0);
  LWIP_UNUSED_ARG(hi);
}

/*
 * A used entry naming a buffer the device did not write (the id of the last
 * completed rx buffer, already posted again): the driver must not replay that
 * buffer's old bytes. Either it notices (device broken) or it drops the
 * packet; the bystander's stream never sees a byte twice.
 */
START_TEST(test_used_id_duplicate)
{
  static struct bystander b;
  static struct app v;
  struct lwvsock_sim_faults flt = {0};
  struct lwvsock_dev_stats st0;
  uint8_t buf[1000];
  int hv;

  hv = victim_open(&b, &v, LWVSOCK_STREAM, 7003);
  by_quiesce(&b);
  /* The last rx buffer completed carries bystander bytes (lent, freed, posted again). */
  pattern_fill(buf, b.h2g_written, sizeof(buf));
  ck_assert_int_eq(lwvsock_sim_send(f.sim, b.h, buf, sizeof(buf)), (ssize_t)sizeof(buf));
  b.h2g_written += sizeof(buf);
  run(NULL, 10);
  ck_assert_uint_eq(b.a.total, b.h2g_written);
  st0 = stats();
  flt.used_id_dup = 1;
  set_faults(&flt);
  /* Same length as the stale packet, so the used length cannot give it away. */
  ck_assert_int_eq(lwvsock_sim_send(f.sim, hv, buf, sizeof(buf)), (ssize_t)sizeof(buf));
  run(NULL, 10);
  ck_assert_msg(b.a.total == b.h2g_written && !b.a.mismatch,
                "a used entry for a buffer the device did not fill replayed %llu stale bytes "
                "into another connection",
                (unsigned long long)(b.a.total - b.h2g_written));
  ck_assert_uint_eq(v.total, 0);
  if (lwvsock_dev_status(f.dev) != ERR_OK) {
    ck_assert_int_eq(b.a.err, ERR_IF);
    ck_assert_int_eq(v.err, ERR_IF);
  } else {
    ck_assert_uint_eq(stats().bad_pkts, st0.bad_pkts + 1);
    b.g2h = b.h2g = 1;
    run(&b, 50);
    by_finish(&b, 64 * 1024);
    lwvsock_close(v.pcb);
  }
  run(NULL, 10);
  lwvsock_sim_close(f.sim, hv);
  run(NULL, 10);
}
END_TEST

START_TEST(test_used_id_never_posted)
{
  struct lwvsock_sim_faults flt = {0};

  flt.used_id_bogus = 1;
  broken_ring_case(&flt, "out of range");
}
END_TEST

START_TEST(test_used_len_beyond_buffer)
{
  struct lwvsock_sim_faults flt = {0};

  flt.used_len_overflow = 1;
  broken_ring_case(&flt, "beyond buffer");
}
END_TEST

/* ---- malformed rx: dropped and counted, device and bystander unharmed ---------- */

/*
 * With the bystander quiet, the next rx packet is the victim's @p n bytes,
 * mangled by @p flt: it is dropped (bad_pkts + 1). Those bytes are lost to the
 * victim (the driver cannot tell whose they were), nothing else is.
 */
static void
mangled_rx_case(const struct lwvsock_sim_faults *flt)
{
  static struct bystander b;
  static struct app v;
  struct lwvsock_dev_stats st0;
  uint8_t vbuf[16];
  int hv;

  hv = victim_open(&b, &v, LWVSOCK_STREAM, 7011);
  v.buf = vbuf;
  v.cap = sizeof(vbuf);
  by_quiesce(&b);
  st0 = stats();
  set_faults(flt);
  ck_assert_int_eq(lwvsock_sim_send(f.sim, hv, "victim", 6), 6);
  run(NULL, 10);
  ck_assert_uint_eq(stats().bad_pkts, st0.bad_pkts + 1);
  ck_assert_uint_eq(v.total, 0);
  ck_assert_int_eq(v.err_called, 0);
  ck_assert_int_eq(lwvsock_dev_status(f.dev), ERR_OK);
  /* The victim connection itself still works. */
  ck_assert_int_eq(lwvsock_sim_send(f.sim, hv, "again", 5), 5);
  run(NULL, 10);
  ck_assert_uint_eq(v.len, 5);
  ck_assert_mem_eq(vbuf, "again", 5);
  b.g2h = b.h2g = 1;
  victim_finish(&b, &v, hv, 0);
}

START_TEST(test_zero_length_rx)
{
  struct lwvsock_sim_faults flt = {0};

  flt.zero_len_rx = 1;
  mangled_rx_case(&flt);
}
END_TEST

START_TEST(test_hdr_len_disagrees)
{
  struct lwvsock_sim_faults flt = {0};

  flt.hdr_len_mismatch = 1;
  mangled_rx_case(&flt);
}
END_TEST

/* Header lengths that disagree with the payload the device wrote, at a live connection. */
START_TEST(test_injected_bad_lengths)
{
  static struct bystander b;
  static struct app v;
  struct lwvsock_dev_stats st0;
  static uint8_t big[3 * LWVSOCK_RX_BUF_SIZE];
  int hv;
  uint32_t hp, gp;

  hv = victim_open(&b, &v, LWVSOCK_STREAM, 7021);
  hp = lwvsock_sim_local_port(f.sim, hv);
  gp = lwvsock_local_port(v.pcb);
  run(&b, 20);
  st0 = stats();
  memset(big, 'x', sizeof(big));
  /* More payload than an rx buffer: the device can only write part of it. */
  inject(VIRTIO_VSOCK_OP_RW, 0, hp, gp, sizeof(big), big, sizeof(big));
  /* Header says more, or less, or nothing, than was written. */
  inject(VIRTIO_VSOCK_OP_RW, 0, hp, gp, 10, big, 5);
  inject(VIRTIO_VSOCK_OP_RW, 0, hp, gp, 5, big, 10);
  inject(VIRTIO_VSOCK_OP_RW, 0, hp, gp, 0, big, 7);
  inject(VIRTIO_VSOCK_OP_RW, 0, hp, gp, 0xffffffffu, big, 1);
  run(&b, 30);
  ck_assert_uint_eq(stats().bad_pkts, st0.bad_pkts + 5);
  ck_assert_uint_eq(v.total, 0);
  ck_assert_int_eq(v.err_called, 0);
  ck_assert_int_eq(lwvsock_dev_status(f.dev), ERR_OK);
  victim_finish(&b, &v, hv, 0);
}
END_TEST

/* ---- hostile peer ------------------------------------------------------------------ */

/* RW beyond our credit: that connection is reset (RST to the peer, ERR_RST to us). */
START_TEST(test_rw_beyond_credit)
{
  static struct bystander b;
  static struct app v;
  struct lwvsock_sim_faults flt = {0};
  static uint8_t data[256 * 1024];
  int hv;

  hv = victim_open(&b, &v, LWVSOCK_STREAM, 7031);
  run(&b, 20);
  /* The bystander's host side keeps sending within credit; only g2h is
     pumped while the host ignores credit, so it cannot overrun anyone else. */
  b.h2g = 0;
  v.hold = 1;
  flt.ignore_credit = 1;
  set_faults(&flt);
  ck_assert_int_eq(lwvsock_sim_send(f.sim, hv, data, sizeof(data)), (ssize_t)sizeof(data));
  run(&b, 20);
  ck_assert_int_eq(v.err_called, 0);
  ck_assert_int_eq(lwvsock_sim_send(f.sim, hv, data, 1000), 1000);
  run(&b, 20);
  ck_assert_uint_le(v.total, LWVSOCK_RCV_BUF);
  ck_assert_uint_eq(stats().credit_violations, 1);
  ck_assert_int_eq(lwvsock_sim_error(f.sim, hv), -ECONNRESET);
  flt.ignore_credit = 0;
  set_faults(&flt);
  b.h2g = 1;
  victim_finish(&b, &v, hv, 1);
}
END_TEST

/*
 * A peer advertising a 4 GiB receive buffer does not make us queue or allocate
 * more: the window is capped by our own buf_alloc, writes stop at the send
 * buffer with ERR_MEM, and no lwIP heap is used on the send path.
 */
START_TEST(test_huge_buf_alloc)
{
  struct lwvsock_sim_faults flt = {0};
  static struct app a;
  static uint8_t buf[64 * 1024], expect[64 * 1024];
  uint64_t written = 0, read = 0;
  size_t heap0 = lwip_stats.mem.used, heap_max = 0, malloc0 = malloc_in_use(), malloc_max = 0;
  int h, i;
  err_t err = ERR_OK;

  memset(&a, 0, sizeof(a));
  flt.huge_buf_alloc = 0xffffffffu;
  set_faults(&flt);
  h = fx_guest_connect(&f, &a, LWVSOCK_STREAM, 7041);
  /* The host application does not read: only credit bounds what is in flight. */
  for (i = 0; i < 500 && err == ERR_OK; i++) {
    pattern_fill(buf, written, sizeof(buf));
    err = lwvsock_write(a.pcb, buf, sizeof(buf), 0);
    if (err == ERR_OK) {
      written += sizeof(buf);
    }
    run(NULL, 2);
    heap_max = LWIP_MAX(heap_max, (size_t)lwip_stats.mem.used);
    malloc_max = LWIP_MAX(malloc_max, malloc_in_use());
  }
  ck_assert_int_eq(err, ERR_MEM);
  /* In flight at most our own buf_alloc; queued at most the send buffer. */
  ck_assert_uint_le(lwvsock_sim_rx_pending(f.sim, h), LWVSOCK_RCV_BUF);
  ck_assert_uint_le(written, (uint64_t)LWVSOCK_RCV_BUF + LWVSOCK_SND_BUF);
  ck_assert_uint_eq(heap_max, heap0);
  /* The sim host holds what it received (<= 256 KiB); we allocate nothing. */
  ck_assert_uint_le(malloc_max - LWIP_MIN(malloc_max, malloc0), 512 * 1024);
  for (i = 0; i < 2000 && read < written; i++) {
    ssize_t r = lwvsock_sim_recv(f.sim, h, buf, sizeof(buf));
    if (r > 0) {
      pattern_fill(expect, read, (size_t)r);
      ck_assert_mem_eq(buf, expect, (size_t)r);
      read += (uint64_t)r;
    }
    run(NULL, 1);
  }
  ck_assert_uint_eq(read, written);
  lwvsock_close(a.pcb);
  run(NULL, 10);
  lwvsock_sim_close(f.sim, h);
  run(NULL, 10);
}
END_TEST

/* Packets for sockets that do not exist: one RST each, never an RST for an RST. */
START_TEST(test_unknown_sockets)
{
  static struct bystander b;
  struct lwvsock_dev_stats st0, st1;
  static const uint16_t ops[] = {
    VIRTIO_VSOCK_OP_RESPONSE, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_OP_RW,
    VIRTIO_VSOCK_OP_CREDIT_UPDATE, VIRTIO_VSOCK_OP_CREDIT_REQUEST, VIRTIO_VSOCK_OP_REQUEST, 0, 9,
  };
  struct vsock_hdr h;
  size_t i;

  by_open(&b, 7051);
  run(&b, 20);
  st0 = stats();
  for (i = 0; i < LWIP_ARRAYSIZE(ops); i++) {
    inject(ops[i], 0, 40000 + (uint32_t)i, 9999, ops[i] == VIRTIO_VSOCK_OP_RW ? 3 : 0, "abc",
           ops[i] == VIRTIO_VSOCK_OP_RW ? 3 : 0);
  }
  inject(VIRTIO_VSOCK_OP_RST, 0, 40100, 9999, 0, NULL, 0);
  /* Not for us (another CID) and CIDs beyond 32 bits: dropped without a reply. */
  memset(&h, 0, sizeof(h));
  h.src_cid = VMADDR_CID_HOST;
  h.dst_cid = lwvsock_dev_cid(f.dev) + 1;
  h.type = LWVSOCK_STREAM;
  h.op = VIRTIO_VSOCK_OP_REQUEST;
  h.dst_port = 9999;
  fx_inject(&f, &h, NULL, 0);
  h.dst_cid = lwvsock_dev_cid(f.dev);
  h.src_cid = 0x100000002ull;
  fx_inject(&f, &h, NULL, 0);
  run(&b, 30);
  st1 = stats();
  ck_assert_uint_eq(st1.rst_tx, st0.rst_tx + LWIP_ARRAYSIZE(ops));
  ck_assert_uint_eq(st1.rst_rx, st0.rst_rx + 1);
  ck_assert_uint_ge(st1.bad_pkts, st0.bad_pkts + 2);
  ck_assert_uint_eq(st1.conns_active, st0.conns_active);
  ck_assert_int_eq(lwvsock_dev_status(f.dev), ERR_OK);
  by_finish(&b, 64 * 1024);
}
END_TEST

/* Thousands of RSTs: none is answered, none hurts a live connection. */
START_TEST(test_rst_flood)
{
  static struct bystander b;
  static struct app l;
  struct lwvsock_pcb *lp = lwvsock_new(f.dev, LWVSOCK_STREAM);
  struct lwvsock_dev_stats st0, st1;
  uint32_t hp, gp;
  int round, i;

  memset(&l, 0, sizeof(l));
  ck_assert_int_eq(lwvsock_bind(lp, LWVSOCK_CID_ANY, 7062), ERR_OK);
  ck_assert_ptr_eq(lwvsock_listen(lp), lp);
  lwvsock_arg(lp, &l);
  lwvsock_accept(lp, app_accept);
  by_open(&b, 7061);
  hp = lwvsock_sim_local_port(f.sim, b.h);
  gp = lwvsock_local_port(b.a.pcb);
  run(&b, 20);
  st0 = stats();
  for (round = 0; round < 10; round++) {
    for (i = 0; i < 500; i++) {
      uint32_t k = (uint32_t)(round * 500 + i);
      switch (k % 3) {
        case 0: /* unknown tuple */
          inject(VIRTIO_VSOCK_OP_RST, 0, 50000 + k, 9000 + k, 0, NULL, 0);
          break;
        case 1: /* the listener's port */
          inject(VIRTIO_VSOCK_OP_RST, 0, 50000 + k, 7062, 0, NULL, 0);
          break;
        default: /* the bystander's port, from the wrong peer port */
          inject(VIRTIO_VSOCK_OP_RST, 0, hp + 1 + k, gp, 0, NULL, 0);
          break;
      }
    }
    run(&b, 20);
  }
  run(&b, 20);
  st1 = stats();
  ck_assert_uint_eq(st1.rst_tx, st0.rst_tx);
  ck_assert_uint_ge(st1.rst_rx, st0.rst_rx + 5000 * 2 / 3);
  ck_assert_int_eq(lwvsock_state(lp), LWVSOCK_LISTEN);
  ck_assert_int_eq(lwvsock_dev_status(f.dev), ERR_OK);
  by_finish(&b, 256 * 1024);
  lwvsock_close(lp);
  run(NULL, 5);
}
END_TEST

/*
 * A REQUEST flood while the device takes no tx: replies wait in the bounded
 * reply store, then rx stops (spec 5.10.6.1) instead of growing or dropping;
 * when the device resumes, every REQUEST gets its RST.
 */
START_TEST(test_request_flood_backpressure)
{
  struct lwvsock_sim_faults flt = {0};
  struct lwvsock_dev_stats st0, st1;
  size_t heap0 = lwip_stats.mem.used;
  int i;
  const int n = 3000;

  st0 = stats();
  flt.stall_tx = 1;
  set_faults(&flt);
  for (i = 0; i < n; i++) {
    inject(VIRTIO_VSOCK_OP_REQUEST, 0, 60000 + (uint32_t)i, 8000, 0, NULL, 0);
  }
  for (i = 0; i < 200; i++) {
    lwvsock_dev_poll(f.dev, 0);
    ck_assert_uint_le(f.dev->tx->nreplies, LWVSOCK_REPLY_QUEUE_MAX);
    ck_assert_uint_eq(lwip_stats.mem.used, heap0);
  }
  st1 = stats();
  ck_assert_uint_lt(st1.rx_pkts - st0.rx_pkts, (uint64_t)n);
  ck_assert_uint_eq(st1.pool_exhausted, st0.pool_exhausted);
  flt.stall_tx = 0;
  set_faults(&flt);
  for (i = 0; i < 2000 && stats().rst_tx < st0.rst_tx + (uint64_t)n; i++) {
    lwvsock_dev_poll(f.dev, 0);
  }
  st1 = stats();
  ck_assert_uint_eq(st1.rx_pkts - st0.rx_pkts, (uint64_t)n);
  ck_assert_uint_eq(st1.rst_tx - st0.rst_tx, (uint64_t)n);
  ck_assert_uint_eq(st1.pool_exhausted, st0.pool_exhausted);
  ck_assert_int_eq(lwvsock_dev_status(f.dev), ERR_OK);
}
END_TEST

/* TRANSPORT_RESET in the middle of a transfer: connections reset, listener kept. */
START_TEST(test_transport_reset_mid_transfer)
{
  static struct bystander b, b2;
  static struct app l, acc[1];
  struct lwvsock_pcb *lp = lwvsock_new(f.dev, LWVSOCK_STREAM);
  uint8_t buf[4];
  int h, i;
  ssize_t r = -EAGAIN;

  memset(&l, 0, sizeof(l));
  memset(acc, 0, sizeof(acc));
  ck_assert_int_eq(lwvsock_bind(lp, LWVSOCK_CID_ANY, 7072), ERR_OK);
  ck_assert_ptr_eq(lwvsock_listen(lp), lp);
  l.accepted = acc;
  l.max_accepted = 1;
  lwvsock_arg(lp, &l);
  lwvsock_accept(lp, app_accept);
  by_open(&b, 7071);
  run(&b, 40);
  ck_assert_uint_gt(b.g2h_read, 0);
  ck_assert_int_eq(lwvsock_sim_transport_reset(f.sim, 77), 0);
  run(&b, 10);
  ck_assert_int_eq(b.a.err_called, 1);
  ck_assert_int_eq(b.a.err, ERR_RST);
  ck_assert_int_eq(b.a.mismatch, 0);
  ck_assert_int_eq(b.g2h_mismatch, 0);
  ck_assert_uint_eq(stats().transport_resets, 1);
  ck_assert_uint_eq(lwvsock_dev_cid(f.dev), 77);
  ck_assert_uint_eq(stats().conns_active, 0);
  ck_assert_int_eq(lwvsock_state(lp), LWVSOCK_LISTEN);
  /* Life goes on: a new outgoing and a new incoming connection work. */
  by_open(&b2, 7073);
  h = lwvsock_sim_connect(f.sim, 7072, LWVSOCK_STREAM);
  ck_assert_int_ge(h, 0);
  run(&b2, 100);
  ck_assert_int_eq(l.naccepted, 1);
  ck_assert_int_eq(lwvsock_write(acc[0].pcb, "new", 3, 0), ERR_OK);
  by_finish(&b2, 64 * 1024);
  for (i = 0; i < 20 && r < 0; i++) {
    r = lwvsock_sim_recv(f.sim, h, buf, sizeof(buf));
    run(NULL, 1);
  }
  ck_assert_int_eq(r, 3);
  ck_assert_mem_eq(buf, "new", 3);
  lwvsock_close(acc[0].pcb);
  lwvsock_close(lp);
  run(NULL, 10);
  lwvsock_sim_close(f.sim, b.h);
  lwvsock_sim_close(f.sim, h);
  run(NULL, 10);
}
END_TEST

/*
 * The device stops completing tx: the sender fills its send buffer and gets
 * ERR_MEM, polling goes idle (no spinning), no memory grows; when the device
 * resumes every byte arrives in order.
 */
START_TEST(test_stalled_tx)
{
  static struct bystander b;
  struct lwvsock_sim_faults flt = {0};
  size_t heap0, malloc0;
  err_t err = ERR_OK;
  uint8_t buf[512];
  int i;

  by_open(&b, 7081);
  run(&b, 20);
  b.h2g = 0;
  flt.stall_tx = 1;
  set_faults(&flt);
  heap0 = lwip_stats.mem.used;
  malloc0 = malloc_in_use();
  /* Small writes, each its own packet: the tx ring fills before the credit runs out. */
  for (i = 0; i < 4000 && err == ERR_OK; i++) {
    pattern_fill(buf, b.g2h_written, 512);
    err = lwvsock_write(b.a.pcb, buf, 512, 0);
    if (err == ERR_OK) {
      b.g2h_written += 512;
    }
    run(NULL, 1);
  }
  ck_assert_int_eq(err, ERR_MEM);
  ck_assert_uint_eq(lwvsock_sndbuf(b.a.pcb), 0);
  b.g2h = 0;
  ck_assert_msg(settle(5), "lwvsock_dev_poll keeps reporting work while the device is stalled");
  ck_assert_msg(lwvsock_dev_next_timeout(f.dev) != 0,
                "lwvsock_dev_next_timeout() is 0 while the only work is blocked on a stalled device "
                "(the main loop would spin)");
  ck_assert_uint_eq(lwip_stats.mem.used, heap0);
  ck_assert_uint_le(malloc_in_use() - LWIP_MIN(malloc_in_use(), malloc0), 64 * 1024);
  ck_assert_int_eq(b.a.err_called, 0);
  flt.stall_tx = 0;
  set_faults(&flt);
  b.g2h = b.h2g = 1;
  run(&b, 100);
  by_finish(&b, 256 * 1024);
}
END_TEST

/*
 * SEQPACKET fragments that never end a message: reassembly stops at the
 * largest message a pbuf can hold (64 KiB); the connection is reset and every
 * fragment held so far is released.
 */
START_TEST(test_seqpacket_without_end)
{
  static struct bystander b;
  static struct app v;
  static uint8_t frag[4000];
  struct lwvsock_dev_stats st0;
  uint32_t hp, gp;
  int hv, i;

  hv = victim_open(&b, &v, LWVSOCK_SEQPACKET, 7101);
  hp = lwvsock_sim_local_port(f.sim, hv);
  gp = lwvsock_local_port(v.pcb);
  run(&b, 20);
  st0 = stats();
  inject_type = LWVSOCK_SEQPACKET;
  memset(frag, 'm', sizeof(frag));
  for (i = 0; i < 20; i++) {
    inject(VIRTIO_VSOCK_OP_RW, 0, hp, gp, sizeof(frag), frag, sizeof(frag));
  }
  run(&b, 30);
  ck_assert_int_eq(v.msgs, 0);
  ck_assert_uint_eq(stats().bad_pkts, st0.bad_pkts + 1);
  /* Fragments lent in place all came back. */
  ck_assert_uint_eq(f.dev->rx->loans, 0);
  victim_finish(&b, &v, hv, 1);
}
END_TEST

/*
 * Data after the peer's SHUTDOWN(SEND) is dropped (its end of stream was
 * already delivered), without harming the connection's other direction.
 */
START_TEST(test_data_after_shutdown)
{
  static struct app v;
  uint8_t buf[8];
  uint32_t hp, gp;
  int hv, i;
  ssize_t r = -EAGAIN;

  memset(&v, 0, sizeof(v));
  hv = fx_guest_connect(&f, &v, LWVSOCK_STREAM, 7111);
  hp = lwvsock_sim_local_port(f.sim, hv);
  gp = lwvsock_local_port(v.pcb);
  inject(VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_SEND, hp, gp, 0, NULL, 0);
  run(NULL, 5);
  ck_assert_int_eq(v.fin, 1);
  inject(VIRTIO_VSOCK_OP_RW, 0, hp, gp, 5, "after", 5);
  run(NULL, 5);
  ck_assert_uint_eq(v.total, 0);
  ck_assert_int_eq(v.err_called, 0);
  ck_assert_int_eq(lwvsock_write(v.pcb, "still", 5, 0), ERR_OK);
  for (i = 0; i < 20 && r < 0; i++) {
    run(NULL, 1);
    r = lwvsock_sim_recv(f.sim, hv, buf, sizeof(buf));
  }
  ck_assert_int_eq(r, 5);
  ck_assert_mem_eq(buf, "still", 5);
  lwvsock_close(v.pcb);
  run(NULL, 10);
  lwvsock_sim_close(f.sim, hv);
  run(NULL, 10);
}
END_TEST

/* ---- hostile API caller ------------------------------------------------------------ */

static err_t
cb_accept(void *arg, struct lwvsock_pcb *pcb, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(pcb);
  return err;
}

static err_t
cb_poll(void *arg, struct lwvsock_pcb *pcb)
{
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(pcb);
  return ERR_OK;
}

/*
 * A NULL pcb, as an application gets from lwvsock_new() when the pool is
 * empty and passes on unchecked: the calls lwIP's tcp API guards (callback
 * setters through "if (pcb != NULL)", operations through LWIP_ERROR) return
 * an error or do nothing here too. Plain getters, like lwIP's tcp_mss() and
 * tcp_sndbuf() macros, are not asked to.
 */
START_TEST(test_api_null_pcb)
{
  err_t err = ERR_OK;

  lwvsock_arg(NULL, NULL);
  lwvsock_accept(NULL, cb_accept);
  lwvsock_recv(NULL, NULL);
  lwvsock_sent(NULL, NULL);
  lwvsock_err(NULL, NULL);
  lwvsock_poll(NULL, cb_poll, 1);
  ck_assert_int_ne(lwvsock_bind(NULL, LWVSOCK_CID_ANY, 1), ERR_OK);
  ck_assert_ptr_null(lwvsock_listen_with_backlog(NULL, 1, &err));
  ck_assert_int_ne(err, ERR_OK);
  lwvsock_backlog_delayed(NULL);
  lwvsock_backlog_accepted(NULL);
  ck_assert_int_ne(lwvsock_connect(NULL, LWVSOCK_CID_HOST, 1, NULL), ERR_OK);
  ck_assert_int_ne(lwvsock_write(NULL, "x", 1, 0), ERR_OK);
  ck_assert_int_ne(lwvsock_write_pbuf(NULL, NULL, 0), ERR_OK);
  ck_assert_int_ne(lwvsock_output(NULL), ERR_OK);
  lwvsock_recved(NULL, 1);
  ck_assert_uint_eq(lwvsock_sndbuf(NULL), 0);
  ck_assert_int_ne(lwvsock_shutdown(NULL, 1, 1), ERR_OK);
  ck_assert_int_ne(lwvsock_close(NULL), ERR_OK);
  lwvsock_abort(NULL);
  lwvsock_set_rcvbuf(NULL, 1);
  lwvsock_set_sndbuf(NULL, 1);
}
END_TEST

/* A NULL device or backend where an application could pass one: an error, never a crash. */
START_TEST(test_api_null_dev)
{
  struct lwvsock_dev *dev = (struct lwvsock_dev *)1;
  int fds[2];

  ck_assert_int_ne(lwvsock_dev_open(NULL, &dev), ERR_OK);
  ck_assert_ptr_null(dev);
  ck_assert_int_ne(lwvsock_dev_open(lwvsock_sim_backend(f.sim), NULL), ERR_OK);
  ck_assert_ptr_null(lwvsock_new(NULL, LWVSOCK_STREAM));
  ck_assert_int_eq(lwvsock_dev_poll(NULL, 0), 0);
  ck_assert_uint_eq(lwvsock_dev_next_timeout(NULL), LWVSOCK_TIMEOUT_INFINITE);
  ck_assert_int_eq(lwvsock_dev_wait_fds(NULL, fds, 2), 0);
  lwvsock_dev_close(NULL);
}
END_TEST

/* Calls in the wrong state or with wrong values: an error, and the connection goes on. */
START_TEST(test_api_misuse)
{
  static struct app a;
  struct lwvsock_pcb *pcb;
  uint8_t buf[8];
  int h, i;
  ssize_t r = -EAGAIN;

  memset(&a, 0, sizeof(a));
  h = fx_guest_connect(&f, &a, LWVSOCK_STREAM, 7121);
  pcb = a.pcb;
  ck_assert_ptr_null(lwvsock_new(f.dev, 0));
  ck_assert_ptr_null(lwvsock_new(f.dev, 200));
  ck_assert_int_eq(lwvsock_connect(pcb, LWVSOCK_CID_HOST, 7121, app_connected), ERR_ISCONN);
  ck_assert_int_ne(lwvsock_bind(pcb, LWVSOCK_CID_ANY, 7), ERR_OK);
  ck_assert_ptr_null(lwvsock_listen_with_backlog(pcb, 1, NULL));
  ck_assert_int_eq(lwvsock_write(pcb, NULL, 5, 0), ERR_ARG);
  ck_assert_int_eq(lwvsock_write_pbuf(pcb, NULL, 0), ERR_ARG);
  ck_assert_int_eq(lwvsock_write(pcb, buf, 0xffffffffu, 0), ERR_MEM);
  ck_assert_int_eq(lwvsock_write(pcb, "", 0, 0), ERR_OK);
  lwvsock_set_rcvbuf(pcb, 0);
  ck_assert_uint_eq(lwvsock_get_rcvbuf(pcb), LWVSOCK_RCV_BUF_MIN);
  lwvsock_set_rcvbuf(pcb, 0xffffffffu);
  ck_assert_uint_eq(lwvsock_get_rcvbuf(pcb), LWVSOCK_RCV_BUF_MAX);
  /* Returning credit for bytes never received: ignored (lwIP's tcp_recved clamps too). */
  lwvsock_recved(pcb, 0xffffffffu);
  run(NULL, 5);
  ck_assert_int_eq(a.err_called, 0);
  ck_assert_int_eq(lwvsock_write(pcb, "fine", 4, 0), ERR_OK);
  for (i = 0; i < 20 && r < 0; i++) {
    run(NULL, 1);
    r = lwvsock_sim_recv(f.sim, h, buf, sizeof(buf));
  }
  ck_assert_int_eq(r, 4);
  ck_assert_int_eq(lwvsock_shutdown(pcb, 0, 1), ERR_OK);
  ck_assert_int_eq(lwvsock_write(pcb, "late", 4, 0), ERR_CONN);
  ck_assert_int_eq(lwvsock_close(pcb), ERR_OK);
  ck_assert_int_eq(lwvsock_close(pcb), ERR_ARG); /* twice before the next poll */
  run(NULL, 10);
  lwvsock_sim_close(f.sim, h);
  run(NULL, 10);
}
END_TEST

/* The send buffer has bounds of its own, apart from the receive buffer's. */
START_TEST(test_sndbuf_bounds)
{
  static struct app a;

  memset(&a, 0, sizeof(a));
  (void)fx_guest_connect(&f, &a, LWVSOCK_STREAM, 7122);
  lwvsock_set_sndbuf(a.pcb, 0);
  ck_assert_uint_eq(lwvsock_sndbuf(a.pcb), LWVSOCK_SND_BUF_MIN);
  ck_assert_uint_lt(LWVSOCK_SND_BUF_MIN, LWVSOCK_RCV_BUF_MIN); /* else this test proves nothing */
  ck_assert_int_eq(lwvsock_write(a.pcb, "xy", LWVSOCK_SND_BUF_MIN + 1, 0), ERR_MEM);
  ck_assert_int_eq(lwvsock_write(a.pcb, "x", LWVSOCK_SND_BUF_MIN, 0), ERR_OK);
  lwvsock_set_sndbuf(a.pcb, 0xffffffffu);
  ck_assert_uint_le(lwvsock_sndbuf(a.pcb), LWVSOCK_SND_BUF_MAX);
  ck_assert_uint_gt(lwvsock_sndbuf(a.pcb), LWVSOCK_SND_BUF_MIN);
  lwvsock_set_rcvbuf(a.pcb, 0);
  ck_assert_uint_eq(lwvsock_get_rcvbuf(a.pcb), LWVSOCK_RCV_BUF_MIN);
  run(NULL, 5);
  ck_assert_int_eq(a.err_called, 0);
}
END_TEST

/* A backend that records any call: none may happen when its ops are incomplete. */
static int stub_calls;
static int stub_get_features(struct lwvsock_backend *be, uint64_t *features)
{ (void)be; *features = 0; stub_calls++; return -1; }
static int stub_set_features(struct lwvsock_backend *be, uint64_t features)
{ (void)be; (void)features; stub_calls++; return -1; }
static int stub_read_config(struct lwvsock_backend *be, uint32_t off, void *buf, uint32_t len)
{ (void)be; (void)off; (void)buf; (void)len; stub_calls++; return -1; }
static uint16_t stub_max_queue_size(struct lwvsock_backend *be, uint16_t index)
{ (void)be; (void)index; stub_calls++; return 0; }
static int stub_mem_alloc(struct lwvsock_backend *be, size_t size, struct lwvsock_mem *mem)
{ (void)be; (void)size; (void)mem; stub_calls++; return -1; }
static int stub_setup_queue(struct lwvsock_backend *be, const struct lwvsock_vring_info *vr)
{ (void)be; (void)vr; stub_calls++; return -1; }
static int stub_be(struct lwvsock_backend *be)
{ (void)be; stub_calls++; return -1; }
static void stub_notify(struct lwvsock_backend *be, uint16_t index)
{ (void)be; (void)index; stub_calls++; }

/* lwvsock_dev_open checks every required op first: ERR_ARG, no call, no device. */
START_TEST(test_open_missing_op)
{
  static const struct lwvsock_backend_ops full = {
    .name = "stub",
    .get_features = stub_get_features,
    .set_features = stub_set_features,
    .read_config = stub_read_config,
    .max_queue_size = stub_max_queue_size,
    .mem_alloc = stub_mem_alloc,
    .setup_queue = stub_setup_queue,
    .start = stub_be,
    .notify = stub_notify,
    .reset = stub_be,
  };
  struct lwvsock_backend_ops ops;
  struct lwvsock_backend be;
  struct lwvsock_dev *dev;
  unsigned i;

  for (i = 0; i < 10; i++) {
    ops = full;
    switch (i) {
      case 0: ops.name = NULL; break;
      case 1: ops.get_features = NULL; break;
      case 2: ops.set_features = NULL; break;
      case 3: ops.read_config = NULL; break;
      case 4: ops.max_queue_size = NULL; break;
      case 5: ops.mem_alloc = NULL; break;
      case 6: ops.setup_queue = NULL; break;
      case 7: ops.start = NULL; break;
      case 8: ops.notify = NULL; break;
      default: ops.reset = NULL; break;
    }
    memset(&be, 0, sizeof(be));
    be.ops = &ops;
    dev = (struct lwvsock_dev *)1;
    stub_calls = 0;
    ck_assert_msg(lwvsock_dev_open(&be, &dev) == ERR_ARG, "op %u missing: not ERR_ARG", i);
    ck_assert_ptr_null(dev);
    ck_assert_msg(stub_calls == 0, "op %u missing: %d ops called", i, stub_calls);
  }
  /* Complete (the optional ones absent): accepted, and the stub's failure reported. */
  ops = full;
  be.ops = &ops;
  ck_assert_int_ne(lwvsock_dev_open(&be, &dev), ERR_ARG);
  ck_assert_int_gt(stub_calls, 0);
  lwvsock_dev_close(dev);
}
END_TEST

/* Backend reports reach the application's log callback only; never a crash or overrun. */
struct logrec {
  int n;
  char who[32];
  char msg[512];
};

static void
log_record(void *arg, const char *who, const char *msg)
{
  struct logrec *l = (struct logrec *)arg;

  l->n++;
  snprintf(l->who, sizeof(l->who), "%s", who);
  snprintf(l->msg, sizeof(l->msg), "%s", msg);
}

START_TEST(test_backend_log)
{
  struct lwvsock_backend *be = lwvsock_sim_backend(f.sim);
  struct logrec l;
  char big[1024];

  memset(&l, 0, sizeof(l));
  lwvsock_backend_log(be, "silent %d", 1); /* no callback: dropped */
  lwvsock_backend_log(NULL, "no backend");
  lwvsock_backend_set_log(NULL, log_record, &l);
  lwvsock_backend_set_log(be, log_record, &l);
  lwvsock_backend_log(be, "queue %u refused: %s", 3u, "why");
  ck_assert_int_eq(l.n, 1);
  ck_assert_str_eq(l.who, be->ops->name);
  ck_assert_str_eq(l.msg, "queue 3 refused: why");
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  lwvsock_backend_log(be, "%s", big); /* cut to the line bound, still terminated */
  ck_assert_int_eq(l.n, 2);
  ck_assert_uint_gt(strlen(l.msg), 100);
  ck_assert_uint_lt(strlen(l.msg), sizeof(big) - 1);
  lwvsock_backend_set_log(be, NULL, NULL);
  lwvsock_backend_log(be, "silent again");
  ck_assert_int_eq(l.n, 2);
}
END_TEST

/* The application's pbufs, kept beyond the device's life. */
struct keeper {
  struct pbuf *held[1024];
  int n;
  uint64_t total;
  int err_called;
  err_t err;
};

static err_t
keep_recv(void *arg, struct lwvsock_pcb *pcb, struct pbuf *p, err_t err)
{
  struct keeper *k = (struct keeper *)arg;

  LWIP_UNUSED_ARG(pcb);
  LWIP_UNUSED_ARG(err);
  if (p == NULL) {
    return ERR_OK;
  }
  if (k->n == (int)LWIP_ARRAYSIZE(k->held)) {
    return ERR_MEM; /* full: lwvsock keeps it and offers it again */
  }
  k->total += p->tot_len;
  k->held[k->n++] = p;
  return ERR_OK;
}

static void
keep_err(void *arg, err_t err)
{
  struct keeper *k = (struct keeper *)arg;

  k->err_called++;
  k->err = err;
}

/*
 * Close the device with tx in flight and received pbufs (lent in place and
 * copied) still held: the pbufs stay valid and intact, and the device memory
 * goes away with the last of them.
 */
START_TEST(test_close_with_pbufs_held)
{
  struct lwvsock_sim_faults flt = {0};
  static struct app a;
  static struct keeper k;
  struct lwvsock_dev_stats st;
  static uint8_t data[600 * 1024], got[600 * 1024];
  size_t malloc0, off = 0;
  uint32_t sent = 0;
  int h, i;

  memset(&a, 0, sizeof(a));
  memset(&k, 0, sizeof(k));
  fx_close(&f);
  malloc0 = malloc_in_use();
  fx_open(&f, NULL);
  h = fx_guest_connect(&f, &a, LWVSOCK_STREAM, 7091);
  lwvsock_arg(a.pcb, &k);
  lwvsock_recv(a.pcb, keep_recv);
  lwvsock_err(a.pcb, keep_err);
  lwvsock_set_rcvbuf(a.pcb, sizeof(data));
  run(NULL, 5);
  pattern_fill(data, 0, sizeof(data));
  /* Small and large packets, so both copied and lent pbufs are held. */
  for (i = 0; i < 200 && sent < sizeof(data); i++) {
    uint32_t n = (i % 4 == 0) ? 100 : 4000;
    ssize_t r = lwvsock_sim_send(f.sim, h, data + sent, LWIP_MIN(n, sizeof(data) - sent));
    if (r > 0) {
      sent += (uint32_t)r;
    }
    run(NULL, 1);
  }
  run(NULL, 20);
  st = stats();
  ck_assert_uint_gt(st.rx_zerocopy, 0);
  ck_assert_uint_gt(st.rx_copied, 0);
  ck_assert_uint_gt(k.total, 100 * 1024);
  /* Data in flight towards a device that no longer completes it. */
  flt.stall_tx = 1;
  set_faults(&flt);
  ck_assert_int_eq(lwvsock_write(a.pcb, data, 100000, 0), ERR_OK);
  run(NULL, 3);
  lwvsock_dev_close(f.dev);
  f.dev = NULL;
  f.sim = NULL;
  ck_assert_int_eq(k.err_called, 1);
  ck_assert_int_eq(k.err, ERR_ABRT);
  /* Every held byte as sent, in order, readable after the device is gone. */
  for (i = 0; i < k.n; i++) {
    off += pbuf_copy_partial(k.held[i], got + off, k.held[i]->tot_len, 0);
  }
  ck_assert_uint_eq(off, k.total);
  ck_assert_mem_eq(got, data, off);
  for (i = 0; i < k.n; i++) {
    pbuf_free(k.held[i]);
  }
  /* libcheck's fork mode keeps a little memory per test; the device's memory
     (megabytes of rings and slots) must be gone. */
  ck_assert_uint_le(malloc_in_use(), malloc0 + 4096);
}
END_TEST

Suite *
lwvsock_test_suite(void)
{
  testfunc tests[] = {
    TESTFUNC(test_used_id_duplicate),
    TESTFUNC(test_used_id_never_posted),
    TESTFUNC(test_used_len_beyond_buffer),
    TESTFUNC(test_zero_length_rx),
    TESTFUNC(test_hdr_len_disagrees),
    TESTFUNC(test_injected_bad_lengths),
    TESTFUNC(test_rw_beyond_credit),
    TESTFUNC(test_huge_buf_alloc),
    TESTFUNC(test_unknown_sockets),
    TESTFUNC(test_rst_flood),
    TESTFUNC(test_request_flood_backpressure),
    TESTFUNC(test_transport_reset_mid_transfer),
    TESTFUNC(test_stalled_tx),
    TESTFUNC(test_seqpacket_without_end),
    TESTFUNC(test_data_after_shutdown),
    TESTFUNC(test_api_null_pcb),
    TESTFUNC(test_api_null_dev),
    TESTFUNC(test_api_misuse),
    TESTFUNC(test_sndbuf_bounds),
    TESTFUNC(test_open_missing_op),
    TESTFUNC(test_backend_log),
    TESTFUNC(test_close_with_pbufs_held),
  };
  return create_suite("HOSTILE", tests, LWIP_ARRAYSIZE(tests), hostile_setup, hostile_teardown);
}
