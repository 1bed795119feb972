/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Protocol suite: connection life cycle, RST rules, credit flow control,
 * coalescing, TRANSPORT_RESET, loopback, SEQPACKET and malformed packets,
 * against the simulated host.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwvsock_check.h"
#include "proto_fixture.h"
#include "lwvsock_priv.h"
#include "sim_priv.h"

static struct fx f;

static void
proto_setup(void)
{
  fx_setup(&f);
}

static void
proto_teardown(void)
{
  fx_teardown(&f);
}

/* One message (or stream bytes) from host socket @p h, polling until it is there. */
static ssize_t
host_recv_msg(int h, uint8_t *buf, size_t cap)
{
  ssize_t r = -EAGAIN;
  int i;

  for (i = 0; i < 200 && r == -EAGAIN; i++) {
    r = lwvsock_sim_recv(f.sim, h, buf, cap);
    fx_run(&f, 1);
  }
  return r;
}

/* Guest connects to a host listener on @p port; returns the host socket. */
static int
guest_connect(struct app *a, uint16_t type, uint32_t port)
{
  return fx_guest_connect(&f, a, type, port);
}

/* Guest listens on @p port; the host connects; returns the host socket. */
static int
host_connect(struct app *l, struct app *acc, int nacc, uint32_t port, uint16_t type)
{
  struct lwvsock_pcb *pcb = lwvsock_new(f.dev, (uint8_t)type);
  int h;

  ck_assert_ptr_nonnull(pcb);
  ck_assert_int_eq(lwvsock_bind(pcb, LWVSOCK_CID_ANY, port), ERR_OK);
  ck_assert_ptr_eq(lwvsock_listen_with_backlog(pcb, 4, NULL), pcb);
  l->pcb = pcb;
  l->accepted = acc;
  l->max_accepted = nacc;
  lwvsock_arg(pcb, l);
  lwvsock_accept(pcb, app_accept);
  h = lwvsock_sim_connect(f.sim, port, type);
  ck_assert_int_ge(h, 0);
  fx_run(&f, 10);
  return h;
}

/* lwvsock_pcb_pool_get_stats() reports the pool as lwIP keeps it. */
START_TEST(test_pcb_pool_stats)
{
  struct lwvsock_pcb_pool_stats st;
  struct lwvsock_pcb *pcb;
  uint32_t before;

  ck_assert_int_eq(lwvsock_pcb_pool_get_stats(&st), ERR_OK);
  ck_assert_uint_eq(st.avail, MEMP_NUM_LWVSOCK_PCB);
  ck_assert_uint_eq(st.size, sizeof(struct lwvsock_pcb));
  ck_assert_uint_eq(st.elem_size, memp_LWVSOCK_PCB.size);
  ck_assert_uint_ge(st.elem_size, st.size);
  ck_assert_uint_eq(st.used, fx_pcbs_in_use());
  before = st.used;
  pcb = lwvsock_new(f.dev, LWVSOCK_STREAM);
  ck_assert_ptr_nonnull(pcb);
  ck_assert_int_eq(lwvsock_pcb_pool_get_stats(&st), ERR_OK);
  ck_assert_uint_eq(st.used, before + 1);
  ck_assert_uint_ge(st.max, st.used);
  ck_assert_int_eq(lwvsock_close(pcb), ERR_OK);
  fx_run(&f, 5);
  ck_assert_int_eq(lwvsock_pcb_pool_get_stats(&st), ERR_OK);
  ck_assert_uint_eq(st.used, before);
}
END_TEST

START_TEST(test_handshake_guest_to_host)
{
  struct app a = {0};
  uint8_t buf[32];
  int h = guest_connect(&a, LWVSOCK_STREAM, 5000);

  ck_assert_int_eq(lwvsock_sim_state(f.sim, h), LWVSOCK_SIM_CONNECTED);
  ck_assert_uint_eq(lwvsock_remote_cid(a.pcb), 2);
  ck_assert_uint_eq(lwvsock_remote_port(a.pcb), 5000);
  ck_assert_uint_gt(lwvsock_local_port(a.pcb), 1023);
  ck_assert_uint_eq(lwvsock_local_cid(a.pcb), lwvsock_dev_cid(f.dev));
  ck_assert_int_eq(lwvsock_write(a.pcb, "hello", 5, LWVSOCK_WRITE_FLAG_COPY), ERR_OK);
  fx_run(&f, 5);
  ck_assert_int_eq(fx_host_read(&f, h, buf, 5), 5);
  ck_assert_mem_eq(buf, "hello", 5);
  ck_assert_uint_eq(a.sent, 5);
  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, "world!", 6), 6);
  fx_run(&f, 5);
  ck_assert_uint_eq(a.total, 6);
  ck_assert_int_eq(lwvsock_close(a.pcb), ERR_OK);
  fx_run(&f, 10);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h), LWVSOCK_SIM_CLOSED);
  ck_assert_int_eq(lwvsock_dev_closing(f.dev), 0); /* the host's RST ended it */
  lwvsock_sim_close(f.sim, h);
  fx_run(&f, 5);
}
END_TEST

START_TEST(test_handshake_host_to_guest)
{
  struct lwvsock_sim_config cfg;
  struct app l = {0}, acc[2];
  uint8_t buf[16];
  int h;

  /* a sim whose host ports are 32-bit, as Firecracker's */
  fx_close(&f);
  lwvsock_sim_config_init(&cfg);
  cfg.host_port_min = 1u << 30;
  cfg.host_port_max = 0x7fffffffu;
  fx_open(&f, &cfg);
  memset(acc, 0, sizeof(acc));
  h = host_connect(&l, acc, 2, 1234, LWVSOCK_STREAM);
  ck_assert_int_eq(l.naccepted, 1);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h), LWVSOCK_SIM_CONNECTED);
  /* Host ports from 2^30 (Firecracker-style): 32-bit ports end to end. */
  ck_assert_uint_ge(lwvsock_remote_port(acc[0].pcb), 1u << 30);
  ck_assert_uint_eq(lwvsock_local_port(acc[0].pcb), 1234);
  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, "ping", 4), 4);
  fx_run(&f, 5);
  ck_assert_uint_eq(acc[0].total, 4);
  ck_assert_int_eq(lwvsock_write(acc[0].pcb, "pong", 4, 0), ERR_OK);
  fx_run(&f, 5);
  ck_assert_int_eq(fx_host_read(&f, h, buf, 4), 4);
  ck_assert_mem_eq(buf, "pong", 4);
  /* Host closes: the guest sees end of stream, closes, and the exchange ends with RST. */
  lwvsock_sim_close(f.sim, h);
  fx_run(&f, 5);
  ck_assert_int_eq(acc[0].fin, 1);
  ck_assert_int_eq(lwvsock_close(acc[0].pcb), ERR_OK);
  ck_assert_int_eq(lwvsock_close(l.pcb), ERR_OK);
  fx_run(&f, 5);
}
END_TEST

START_TEST(test_refused_connect)
{
  struct app a = {0};
  struct lwvsock_pcb *pcb = lwvsock_new(f.dev, LWVSOCK_STREAM);
  struct lwvsock_dev_stats st;

  app_attach(&a, pcb);
  ck_assert_int_eq(lwvsock_connect(pcb, LWVSOCK_CID_HOST, 4999, app_connected), ERR_OK);
  fx_run(&f, 5);
  ck_assert_int_eq(a.connected, 0);
  ck_assert_int_eq(a.err_called, 1);
  ck_assert_int_eq(a.err, ERR_RST);
  lwvsock_dev_get_stats(f.dev, &st);
  ck_assert_uint_eq(st.rst_rx, 1);
}
END_TEST

START_TEST(test_connect_timeout)
{
  struct app a = {0};
  struct lwvsock_pcb *pcb = lwvsock_new(f.dev, LWVSOCK_STREAM);

  app_attach(&a, pcb);
  /* The device drops packets for CIDs other than the host's (vhost does). */
  ck_assert_int_eq(lwvsock_connect(pcb, 7, 80, app_connected), ERR_OK);
  fx_advance(&f, LWVSOCK_CONNECT_TIMEOUT_MS - 100);
  ck_assert_int_eq(a.err_called, 0);
  fx_advance(&f, 200);
  ck_assert_int_eq(a.err_called, 1);
  ck_assert_int_eq(a.err, ERR_TIMEOUT);
}
END_TEST

START_TEST(test_full_backlog)
{
  struct app l = {0}, acc[4];
  int h[3], i;

  memset(acc, 0, sizeof(acc));
  l.delay_backlog = 1;
  h[0] = host_connect(&l, acc, 4, 77, LWVSOCK_STREAM);
  lwvsock_listen_with_backlog(l.pcb, 2, NULL);
  h[1] = lwvsock_sim_connect(f.sim, 77, LWVSOCK_STREAM);
  h[2] = lwvsock_sim_connect(f.sim, 77, LWVSOCK_STREAM);
  fx_run(&f, 10);
  ck_assert_int_eq(l.naccepted, 2);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h[0]), LWVSOCK_SIM_CONNECTED);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h[1]), LWVSOCK_SIM_CONNECTED);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h[2]), LWVSOCK_SIM_CLOSED);
  /* Accepting one frees a slot. */
  lwvsock_backlog_accepted(acc[0].pcb);
  h[2] = lwvsock_sim_connect(f.sim, 77, LWVSOCK_STREAM);
  fx_run(&f, 10);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h[2]), LWVSOCK_SIM_CONNECTED);
  for (i = 0; i < l.naccepted; i++) {
    lwvsock_close(acc[i].pcb);
  }
  lwvsock_close(l.pcb);
  fx_run(&f, 10);
  for (i = 0; i < 3; i++) {
    lwvsock_sim_close(f.sim, h[i]);
  }
  fx_run(&f, 5);
}
END_TEST

START_TEST(test_half_close_guest_send)
{
  struct app a = {0};
  uint8_t buf[8];
  int h = guest_connect(&a, LWVSOCK_STREAM, 5001);

  ck_assert_int_eq(lwvsock_write(a.pcb, "abc", 3, 0), ERR_OK);
  ck_assert_int_eq(lwvsock_shutdown(a.pcb, 0, 1), ERR_OK);
  ck_assert_int_eq(lwvsock_write(a.pcb, "x", 1, 0), ERR_CONN);
  fx_run(&f, 10);
  ck_assert_int_eq(fx_host_read(&f, h, buf, sizeof(buf)), 3);
  ck_assert_int_eq(lwvsock_sim_recv(f.sim, h, buf, sizeof(buf)), 0); /* EOF after the data */
  ck_assert_uint_eq(lwvsock_sim_peer_shutdown(f.sim, h), VIRTIO_VSOCK_SHUTDOWN_SEND);
  /* The other direction still works. */
  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, "back", 4), 4);
  fx_run(&f, 5);
  ck_assert_uint_eq(a.total, 4);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

START_TEST(test_half_close_host_send)
{
  struct app a = {0};
  uint8_t buf[8];
  int h = guest_connect(&a, LWVSOCK_STREAM, 5002);

  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, "data", 4), 4);
  ck_assert_int_eq(lwvsock_sim_shutdown(f.sim, h, VIRTIO_VSOCK_SHUTDOWN_SEND), 0);
  fx_run(&f, 10);
  ck_assert_uint_eq(a.total, 4);
  ck_assert_int_eq(a.fin, 1);
  ck_assert_int_eq(lwvsock_write(a.pcb, "reply", 5, 0), ERR_OK);
  fx_run(&f, 10);
  ck_assert_int_eq(fx_host_read(&f, h, buf, 5), 5);
  ck_assert_mem_eq(buf, "reply", 5);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

START_TEST(test_close_timeout)
{
  struct app a = {0};
  struct lwvsock_sim_faults flt = {0};
  struct lwvsock_sim_stats st0, st1;
  int h = guest_connect(&a, LWVSOCK_STREAM, 5003);

  /* The host stops talking: our SHUTDOWN gets no RST, so we send one after 8 s. */
  flt.stall_rx = 1;
  lwvsock_sim_set_faults(f.sim, &flt);
  lwvsock_sim_get_stats(f.sim, &st0);
  ck_assert_int_eq(lwvsock_dev_closing(f.dev), 0); /* open is not closing */
  lwvsock_close(a.pcb);
  ck_assert_int_eq(lwvsock_dev_closing(f.dev), 1);
  fx_advance(&f, LWVSOCK_CLOSE_TIMEOUT_MS - 200);
  ck_assert_uint_eq(fx_pcbs_in_use(), f.pcbs_before + 1);
  ck_assert_int_eq(lwvsock_dev_closing(f.dev), 1);
  fx_advance(&f, 400);
  ck_assert_uint_eq(fx_pcbs_in_use(), f.pcbs_before);
  ck_assert_int_eq(lwvsock_dev_closing(f.dev), 0);
  lwvsock_sim_get_stats(f.sim, &st1);
  ck_assert_uint_eq(st1.rst_rx, st0.rst_rx + 1);
  flt.stall_rx = 0;
  lwvsock_sim_set_faults(f.sim, &flt);
  lwvsock_sim_close(f.sim, h);
  fx_run(&f, 5);
}
END_TEST

START_TEST(test_sender_stalls_at_buf_alloc)
{
  struct app a = {0};
  static uint8_t data[200 * 1024];
  static uint8_t got[200 * 1024];
  struct lwvsock_dev_stats st;
  int h;

  h = guest_connect(&a, LWVSOCK_STREAM, 5004);
  ck_assert_int_eq(lwvsock_sim_set_rcvbuf(f.sim, h, 64 * 1024), 0);
  fx_run(&f, 5);
  pattern_fill(data, 0, sizeof(data));
  ck_assert_int_eq(lwvsock_write(a.pcb, data, sizeof(data), 0), ERR_OK);
  fx_run(&f, 20);
  /* Exactly the peer's buffer is in flight, not a byte more. */
  ck_assert_uint_eq(lwvsock_sim_rx_pending(f.sim, h), 64 * 1024);
  lwvsock_dev_get_stats(f.dev, &st);
  ck_assert_uint_ge(st.credit_stalls, 1);
  /* Reading on the host sends a CREDIT_UPDATE, which resumes the sender. */
  ck_assert_int_eq(fx_host_read(&f, h, got, sizeof(got)), sizeof(got));
  ck_assert_mem_eq(got, data, sizeof(data));
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

START_TEST(test_credit_update_after_read)
{
  struct app a = {0};
  static uint8_t data[512 * 1024];
  struct lwvsock_sim_stats st0, st1;
  struct lwvsock_dev_stats ds;
  int h = guest_connect(&a, LWVSOCK_STREAM, 5005);

  a.hold = 1;
  pattern_fill(data, 0, sizeof(data));
  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, data, 256 * 1024), 256 * 1024);
  fx_run(&f, 20);
  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, data + 256 * 1024, 256 * 1024), 256 * 1024);
  fx_run(&f, 20);
  /* Our 256 KiB buffer is full and the application reads nothing: the host waits. */
  ck_assert_uint_eq(a.total, LWVSOCK_RCV_BUF);
  ck_assert_uint_eq(lwvsock_sim_tx_pending(f.sim, h), sizeof(data) - LWVSOCK_RCV_BUF);
  lwvsock_sim_get_stats(f.sim, &st0);
  ck_assert_uint_eq(st0.credit_requests_rx, 0);
  /* The application consumes: we must tell the host without being asked. */
  app_release(&a);
  fx_run(&f, 40);
  lwvsock_sim_get_stats(f.sim, &st1);
  lwvsock_dev_get_stats(f.dev, &ds);
  ck_assert_uint_gt(ds.credit_updates_tx, 0);
  ck_assert_uint_gt(st1.credit_updates_rx, st0.credit_updates_rx);
  ck_assert_uint_eq(a.total, sizeof(data));
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

/* A raw packet from the device claiming source @p src_cid. */
static void
inject_from(uint64_t src_cid, uint16_t type, uint16_t op, uint32_t flags, uint32_t src_port,
            uint32_t dst_port, const void *payload, uint32_t len, uint32_t buf_alloc, uint32_t fwd_cnt)
{
  const struct vsock_hdr h = {.src_cid = src_cid, .dst_cid = lwvsock_dev_cid(f.dev),
                             .src_port = src_port, .dst_port = dst_port, .len = len, .type = type,
                             .op = op, .flags = flags, .buf_alloc = buf_alloc, .fwd_cnt = fwd_cnt};

  fx_inject(&f, &h, payload, len);
}

static void
inject(uint16_t type, uint16_t op, uint32_t flags, uint32_t src_port, uint32_t dst_port,
       const void *payload, uint32_t len, uint32_t buf_alloc, uint32_t fwd_cnt)
{
  inject_from(VMADDR_CID_HOST, type, op, flags, src_port, dst_port, payload, len, buf_alloc, fwd_cnt);
}

START_TEST(test_credit_request_answered)
{
  struct app a = {0};
  struct lwvsock_dev_stats st0, st1;
  int h = guest_connect(&a, LWVSOCK_STREAM, 5006);

  lwvsock_dev_get_stats(f.dev, &st0);
  inject(LWVSOCK_STREAM, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 0, lwvsock_sim_local_port(f.sim, h),
         lwvsock_local_port(a.pcb), NULL, 0, 256 * 1024, 0);
  fx_run(&f, 5);
  lwvsock_dev_get_stats(f.dev, &st1);
  ck_assert_uint_eq(st1.credit_updates_tx, st0.credit_updates_tx + 1);
  ck_assert_int_eq(a.err_called, 0);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

START_TEST(test_counters_wrap)
{
  struct app a = {0};
  static uint8_t data[300 * 1024], got[300 * 1024];
  struct sim_sock *s;
  struct lwvsock_pcb_stats st;
  const uint32_t base = 0xffffffffu - 100 * 1024;
  int h = guest_connect(&a, LWVSOCK_STREAM, 5007);

  /* Start both ends' counters just below 2^32 (as after 4 GiB moved each way). */
  s = f.sim->socks[h];
  a.pcb->tx_cnt = a.pcb->peer_fwd_cnt = base;
  s->fwd_cnt = s->last_fwd_cnt = base;
  a.pcb->rx_cnt = a.pcb->fwd_cnt = a.pcb->last_fwd_cnt = base;
  s->tx_cnt = s->peer_fwd_cnt = base;
  pattern_fill(data, 0, sizeof(data));
  ck_assert_int_eq(lwvsock_write(a.pcb, data, 200 * 1024, 0), ERR_OK);
  fx_run(&f, 10);
  ck_assert_int_eq(lwvsock_write(a.pcb, data + 200 * 1024, 100 * 1024, 0), ERR_OK);
  ck_assert_int_eq(fx_host_read(&f, h, got, sizeof(got)), sizeof(got));
  ck_assert_mem_eq(got, data, sizeof(data));
  ck_assert_uint_lt(a.pcb->tx_cnt, base); /* wrapped */
  a.check_pattern = 1;
  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, data, 256 * 1024), 256 * 1024);
  fx_run(&f, 40);
  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, data + 256 * 1024, 44 * 1024), 44 * 1024);
  fx_run(&f, 40);
  ck_assert_uint_eq(a.total, sizeof(data));
  ck_assert_int_eq(a.mismatch, 0);
  ck_assert_uint_lt(a.pcb->fwd_cnt, base);
  ck_assert_int_eq(a.err_called, 0);
  /* The 64-bit byte counts are the wrapped counters plus their carries. */
  lwvsock_pcb_get_stats(a.pcb, &st);
  ck_assert_uint_eq(st.tx_bytes, (uint64_t)base + sizeof(data));
  ck_assert_uint_eq(st.rx_bytes, (uint64_t)base + sizeof(data));
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

static uint32_t tap_max_len, tap_rw_pkts;

static void
tap_rw(void *arg, const uint8_t *hdr, const uint8_t *payload, uint32_t len)
{
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(payload);
  if (le16_load(hdr + VSOCK_HDR_OFF_OP) == VIRTIO_VSOCK_OP_RW) {
    tap_rw_pkts++;
    tap_max_len = LWIP_MAX(tap_max_len, len);
  }
}

START_TEST(test_max_packet_64k)
{
  struct app a = {0};
  static uint8_t data[1024 * 1024], got[1024 * 1024];
  int h = guest_connect(&a, LWVSOCK_STREAM, 5008);

  ck_assert_int_eq(lwvsock_sim_set_rcvbuf(f.sim, h, 2 * 1024 * 1024), 0);
  lwvsock_set_rcvbuf(a.pcb, 2 * 1024 * 1024);
  lwvsock_set_sndbuf(a.pcb, 2 * 1024 * 1024);
  fx_run(&f, 5);
  tap_max_len = tap_rw_pkts = 0;
  lwvsock_sim_set_tap(f.sim, tap_rw, NULL);
  pattern_fill(data, 0, sizeof(data));
  ck_assert_int_eq(lwvsock_write(a.pcb, data, 512 * 1024, 0), ERR_OK);
  fx_run(&f, 10);
  ck_assert_int_eq(lwvsock_write(a.pcb, data + 512 * 1024, 512 * 1024, 0), ERR_OK);
  ck_assert_int_eq(fx_host_read(&f, h, got, sizeof(got)), sizeof(got));
  ck_assert_mem_eq(got, data, sizeof(data));
  ck_assert_uint_eq(tap_max_len, 64 * 1024);
  ck_assert_uint_ge(tap_rw_pkts, 16);
  lwvsock_sim_set_tap(f.sim, NULL, NULL);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

START_TEST(test_small_write_coalescing)
{
  struct app a = {0};
  static uint8_t got[1000];
  int i, h = guest_connect(&a, LWVSOCK_STREAM, 5009);

  tap_max_len = tap_rw_pkts = 0;
  lwvsock_sim_set_tap(f.sim, tap_rw, NULL);
  /* 1000 one-byte writes between two polls become one packet, not 1000
     (recent Linux resets connections that queue too many small packets). */
  for (i = 0; i < 1000; i++) {
    uint8_t b = pattern_byte((uint64_t)i);
    ck_assert_int_eq(lwvsock_write(a.pcb, &b, 1, LWVSOCK_WRITE_FLAG_COPY), ERR_OK);
  }
  fx_run(&f, 10);
  ck_assert_int_eq(fx_host_read(&f, h, got, sizeof(got)), 1000);
  for (i = 0; i < 1000; i++) {
    ck_assert_uint_eq(got[i], pattern_byte((uint64_t)i));
  }
  ck_assert_uint_le(tap_rw_pkts, 2);
  lwvsock_sim_set_tap(f.sim, NULL, NULL);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

/* Host reads up to @p want bytes, @p chunk at a time, one read per @p step_ms
   of fake time (a slow reader); returns the bytes read. Stops at end of stream. */
static size_t
host_read_slowly(int h, uint8_t *buf, size_t want, size_t chunk, uint32_t step_ms, int max_steps)
{
  size_t got = 0;
  int i;

  for (i = 0; i < max_steps && got < want; i++) {
    ssize_t r;
    fx_advance(&f, step_ms);
    r = lwvsock_sim_recv(f.sim, h, buf + got, LWIP_MIN(chunk, want - got));
    if (r == 0) {
      break;
    }
    if (r > 0) {
      got += (size_t)r;
    }
  }
  return got;
}

START_TEST(test_sim_packet_budget)
{
  struct app a = {0};
  static uint8_t rec[256], got[456 * 256];
  int i, h = guest_connect(&a, LWVSOCK_STREAM, 5024);

  /* The sim as Linux 2026: 576 B of buf_alloc per queued packet, so 455 fit
     in 256 KiB; packets over 128 B are never merged; the 456th is reset.
     (256-byte writes: 8 fill a 2 KiB tx slot, so each is one packet.) */
  lwvsock_nagle_disable(a.pcb);
  for (i = 0; i < 455; i++) {
    ck_assert_int_eq(lwvsock_write(a.pcb, rec, sizeof(rec), 0), ERR_OK);
    fx_run(&f, 1);
  }
  fx_run(&f, 5);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h), LWVSOCK_SIM_CONNECTED);
  ck_assert_uint_eq(lwvsock_sim_rx_pending(f.sim, h), 455 * 256);
  /* reading frees the budget */
  ck_assert_int_eq(lwvsock_sim_recv(f.sim, h, got, sizeof(got)), 455 * 256);
  for (i = 0; i < 455; i++) {
    ck_assert_int_eq(lwvsock_write(a.pcb, rec, sizeof(rec), 0), ERR_OK);
    fx_run(&f, 1);
  }
  fx_run(&f, 5);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h), LWVSOCK_SIM_CONNECTED);
  ck_assert_int_eq(lwvsock_write(a.pcb, rec, sizeof(rec), 0), ERR_OK);
  fx_run(&f, 5);
  ck_assert_int_eq(lwvsock_sim_error(f.sim, h), -ENOBUFS);
  ck_assert_int_eq(a.err_called, 1);
  ck_assert_int_eq(a.err, ERR_RST);
  lwvsock_sim_close(f.sim, h);
  fx_run(&f, 5);
}
END_TEST

START_TEST(test_small_records_coalesced)
{
  struct app a = {0};
  static uint8_t got[2000 * 100], want[2000 * 100];
  struct lwvsock_dev_stats st;
  int i, h = guest_connect(&a, LWVSOCK_STREAM, 5020);

  /* httpd-like: write + output per 100-byte record with the device running in
     between, and a host that reads only at the end. One packet per record
     would pass Linux's budget of buf_alloc / 576 queued packets (455) and be
     reset with ENOBUFS; held behind the unread bytes they coalesce. */
  pattern_fill(want, 0, sizeof(want));
  tap_max_len = tap_rw_pkts = 0;
  lwvsock_sim_set_tap(f.sim, tap_rw, NULL);
  for (i = 0; i < 2000; i++) {
    ck_assert_int_eq(lwvsock_write(a.pcb, want + i * 100, 100, LWVSOCK_WRITE_FLAG_COPY), ERR_OK);
    ck_assert_int_eq(lwvsock_output(a.pcb), ERR_OK);
    fx_run(&f, 1);
  }
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h), LWVSOCK_SIM_CONNECTED);
  ck_assert_int_eq(fx_host_read(&f, h, got, sizeof(got)), sizeof(got));
  ck_assert_mem_eq(got, want, sizeof(got));
  ck_assert_int_eq(lwvsock_sim_error(f.sim, h), 0);
  ck_assert_uint_le(tap_rw_pkts, 200);
  lwvsock_dev_get_stats(f.dev, &st);
  ck_assert_uint_gt(st.tx_holds, 0);
  ck_assert_int_eq(a.err_called, 0);
  lwvsock_sim_set_tap(f.sim, NULL, NULL);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

START_TEST(test_small_hold_bounded)
{
  struct app a = {0};
  uint8_t got[4];
  int h = guest_connect(&a, LWVSOCK_STREAM, 5021);

  ck_assert_int_eq(lwvsock_nagle_disabled(a.pcb), 0);
  ck_assert_int_eq(lwvsock_write(a.pcb, "a", 1, 0), ERR_OK);
  ck_assert_int_eq(lwvsock_output(a.pcb), ERR_OK);
  fx_run(&f, 5);
  ck_assert_uint_eq(lwvsock_sim_rx_pending(f.sim, h), 1); /* nothing unread: at once */
  ck_assert_int_eq(lwvsock_write(a.pcb, "b", 1, 0), ERR_OK);
  ck_assert_int_eq(lwvsock_output(a.pcb), ERR_OK);
  fx_run(&f, 5);
  ck_assert_uint_eq(lwvsock_sim_rx_pending(f.sim, h), 1); /* held: "a" is unread */
  ck_assert_uint_gt(lwvsock_dev_next_timeout(f.dev), 0);
  ck_assert_uint_le(lwvsock_dev_next_timeout(f.dev), LWVSOCK_TX_COALESCE_MS);
  fx_advance(&f, LWVSOCK_TX_COALESCE_MS + 10);
  ck_assert_uint_eq(lwvsock_sim_rx_pending(f.sim, h), 2); /* but not for longer */
  /* no-delay: a small write goes at once even with bytes unread */
  lwvsock_nagle_disable(a.pcb);
  ck_assert_int_eq(lwvsock_nagle_disabled(a.pcb), 1);
  ck_assert_int_eq(lwvsock_write(a.pcb, "c", 1, 0), ERR_OK);
  ck_assert_int_eq(lwvsock_output(a.pcb), ERR_OK);
  fx_run(&f, 5);
  ck_assert_uint_eq(lwvsock_sim_rx_pending(f.sim, h), 3);
  ck_assert_int_eq(fx_host_read(&f, h, got, 3), 3);
  ck_assert_mem_eq(got, "abc", 3);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

START_TEST(test_close_slow_reader_gets_all)
{
  struct app a = {0};
  static uint8_t data[128 * 1024], got[128 * 1024 + 1];
  struct lwvsock_dev_stats st;
  int h = guest_connect(&a, LWVSOCK_STREAM, 5022);

  /* The writer closes at once; the host reads 4 KiB a second through a 16 KiB
     buffer, 32 s in all: far past the 8 s close timer and the 3 s linger,
     but credit keeps coming, so every byte arrives, then a clean end. */
  ck_assert_int_eq(lwvsock_sim_set_rcvbuf(f.sim, h, 16 * 1024), 0);
  fx_run(&f, 5);
  pattern_fill(data, 0, sizeof(data));
  ck_assert_int_eq(lwvsock_write(a.pcb, data, sizeof(data), 0), ERR_OK);
  lwvsock_set_linger(a.pcb, 3000);
  ck_assert_int_eq(lwvsock_close(a.pcb), ERR_OK);
  ck_assert_uint_eq(host_read_slowly(h, got, sizeof(got), 4096, 1000, 100), sizeof(data));
  ck_assert_mem_eq(got, data, sizeof(data));
  fx_run(&f, 5);
  ck_assert_int_eq(lwvsock_sim_recv(f.sim, h, got, 1), 0);
  ck_assert_int_eq(lwvsock_sim_error(f.sim, h), 0);
  ck_assert_int_eq(a.err_called, 0);
  lwvsock_dev_get_stats(f.dev, &st);
  ck_assert_uint_eq(st.tx_dropped_bytes, 0);
  ck_assert_uint_eq(st.linger_timeouts, 0);
  lwvsock_sim_close(f.sim, h);
  fx_run(&f, 5);
  ck_assert_uint_eq(fx_pcbs_in_use(), f.pcbs_before);
}
END_TEST

START_TEST(test_linger_drops_unsent_loudly)
{
  struct app a = {0};
  static uint8_t data[64 * 1024];
  struct lwvsock_dev_stats st;
  int h = guest_connect(&a, LWVSOCK_STREAM, 5023);

  /* A peer that never grants credit again: after close the unsent 48 KiB wait
     the linger time from the last packet, then RST, err(ERR_ABRT) and a count. */
  ck_assert_int_eq(lwvsock_sim_set_rcvbuf(f.sim, h, 16 * 1024), 0);
  fx_run(&f, 5);
  pattern_fill(data, 0, sizeof(data));
  ck_assert_int_eq(lwvsock_write(a.pcb, data, sizeof(data), 0), ERR_OK);
  fx_run(&f, 5);
  ck_assert_uint_eq(lwvsock_sim_rx_pending(f.sim, h), 16 * 1024);
  lwvsock_set_linger(a.pcb, 2000);
  ck_assert_int_eq(lwvsock_close(a.pcb), ERR_OK);
  fx_advance(&f, 1800);
  ck_assert_int_eq(a.err_called, 0);
  ck_assert_uint_eq(fx_pcbs_in_use(), f.pcbs_before + 1);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h), LWVSOCK_SIM_CONNECTED);
  fx_advance(&f, 400);
  ck_assert_int_eq(a.err_called, 1);
  ck_assert_int_eq(a.err, ERR_ABRT);
  lwvsock_dev_get_stats(f.dev, &st);
  ck_assert_uint_eq(st.tx_dropped_bytes, 48 * 1024);
  ck_assert_uint_eq(st.linger_timeouts, 1);
  ck_assert_int_eq(lwvsock_sim_error(f.sim, h), -ECONNRESET);
  ck_assert_uint_eq(fx_pcbs_in_use(), f.pcbs_before);
  lwvsock_sim_close(f.sim, h);
  fx_run(&f, 5);
}
END_TEST

START_TEST(test_closed_peer_gone_drops_loudly)
{
  struct app a = {0};
  static uint8_t data[64 * 1024];
  struct lwvsock_dev_stats st;
  int h = guest_connect(&a, LWVSOCK_STREAM, 5025);

  /* Closed with 48 KiB unsent, then the host closes too: the data can never
     go, so the err callback hears it at once, not after the linger time. */
  ck_assert_int_eq(lwvsock_sim_set_rcvbuf(f.sim, h, 16 * 1024), 0);
  fx_run(&f, 5);
  ck_assert_int_eq(lwvsock_write(a.pcb, data, sizeof(data), 0), ERR_OK);
  fx_run(&f, 5);
  ck_assert_int_eq(lwvsock_close(a.pcb), ERR_OK);
  fx_run(&f, 5);
  ck_assert_int_eq(a.err_called, 0);
  lwvsock_sim_close(f.sim, h);
  fx_run(&f, 5);
  ck_assert_int_eq(a.err_called, 1);
  ck_assert_int_eq(a.err, ERR_RST);
  lwvsock_dev_get_stats(f.dev, &st);
  ck_assert_uint_eq(st.tx_dropped_bytes, 48 * 1024);
  ck_assert_uint_eq(st.linger_timeouts, 0);
  ck_assert_uint_eq(fx_pcbs_in_use(), f.pcbs_before);
}
END_TEST

START_TEST(test_transport_reset)
{
  struct app l = {0}, acc[3], a = {0};
  int h1, h2;
  uint8_t buf[4];

  memset(acc, 0, sizeof(acc));
  h1 = host_connect(&l, acc, 3, 900, LWVSOCK_STREAM);
  ck_assert_int_eq(l.naccepted, 1);
  /* A loopback connection (CID 1) to the same listener: not the device's. */
  app_attach(&a, lwvsock_new(f.dev, LWVSOCK_STREAM));
  ck_assert_int_eq(lwvsock_connect(a.pcb, LWVSOCK_CID_LOCAL, 900, app_connected), ERR_OK);
  fx_run(&f, 5);
  ck_assert_int_eq(a.connected, 1);
  ck_assert_int_eq(l.naccepted, 2);
  ck_assert_int_eq(lwvsock_sim_transport_reset(f.sim, 42), 0);
  fx_run(&f, 5);
  ck_assert_int_eq(a.err_called, 0);
  ck_assert_int_eq(acc[1].err_called, 0);
  /* Connections are reset, the CID re-read, listeners kept. */
  ck_assert_int_eq(acc[0].err_called, 1);
  ck_assert_int_eq(acc[0].err, ERR_RST);
  ck_assert_uint_eq(lwvsock_dev_cid(f.dev), 42);
  ck_assert_int_eq(lwvsock_state(l.pcb), LWVSOCK_LISTEN);
  h2 = lwvsock_sim_connect(f.sim, 900, LWVSOCK_STREAM);
  fx_run(&f, 10);
  ck_assert_int_eq(l.naccepted, 3);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h2), LWVSOCK_SIM_CONNECTED);
  ck_assert_int_eq(lwvsock_write(acc[2].pcb, "ok", 2, 0), ERR_OK);
  fx_run(&f, 5);
  ck_assert_int_eq(fx_host_read(&f, h2, buf, 2), 2);
  lwvsock_close(acc[2].pcb);
  lwvsock_close(acc[1].pcb);
  lwvsock_close(a.pcb);
  lwvsock_close(l.pcb);
  fx_run(&f, 10);
  lwvsock_sim_close(f.sim, h1);
  lwvsock_sim_close(f.sim, h2);
  fx_run(&f, 5);
}
END_TEST

static void
loopback_case(uint32_t cid)
{
  struct app l, acc[1], c;
  struct lwvsock_pcb *lp, *cp;
  struct lwvsock_sim_stats s0, s1;
  static uint8_t data[300 * 1024], got[300 * 1024];

  lwvsock_sim_get_stats(f.sim, &s0);
  fx_loopback_pair(&f, cid, &l, acc, &c, got, sizeof(got), &lp, &cp);
  pattern_fill(data, 0, sizeof(data));
  lwvsock_set_sndbuf(acc[0].pcb, sizeof(data));
  ck_assert_int_eq(lwvsock_write(acc[0].pcb, data, sizeof(data), 0), ERR_OK);
  fx_run(&f, 50);
  ck_assert_uint_eq(c.len, sizeof(data));
  ck_assert_mem_eq(got, data, sizeof(data));
  lwvsock_close(cp);
  fx_run(&f, 5);
  ck_assert_int_eq(acc[0].fin, 1);
  lwvsock_close(acc[0].pcb);
  lwvsock_close(lp);
  fx_run(&f, 5);
  /* Nothing went through the device. */
  lwvsock_sim_get_stats(f.sim, &s1);
  ck_assert_uint_eq(s1.rx_pkts, s0.rx_pkts);
}

START_TEST(test_loopback_cid_local)
{
  loopback_case(LWVSOCK_CID_LOCAL);
}
END_TEST

START_TEST(test_loopback_own_cid)
{
  loopback_case(lwvsock_dev_cid(f.dev));
}
END_TEST

START_TEST(test_seqpacket_boundaries)
{
  struct app a = {0};
  static uint8_t data[65535], got[65535];
  static const uint32_t sizes[] = { 1, 100, 4096, 5000, 65535 };
  size_t i;
  int h;

  ck_assert(lwvsock_dev_has_seqpacket(f.dev));
  h = guest_connect(&a, LWVSOCK_SEQPACKET, 6000);
  pattern_fill(data, 0, sizeof(data));
  for (i = 0; i < LWIP_ARRAYSIZE(sizes); i++) {
    ck_assert_int_eq(lwvsock_write(a.pcb, data, sizes[i], 0), ERR_OK);
    fx_run(&f, 5);
  }
  fx_run(&f, 20);
  for (i = 0; i < LWIP_ARRAYSIZE(sizes); i++) {
    /* Reading returns credit: our window is our 65535-byte SEQPACKET buf_alloc. */
    ssize_t r = host_recv_msg(h, got, sizeof(got));
    ck_assert_int_eq(r, (ssize_t)sizes[i]);
    ck_assert_mem_eq(got, data, sizes[i]);
  }
  for (i = 0; i < LWIP_ARRAYSIZE(sizes); i++) {
    ck_assert_int_eq(lwvsock_sim_send(f.sim, h, data, sizes[i]), (ssize_t)sizes[i]);
  }
  fx_run(&f, 30);
  ck_assert_int_eq(a.msgs, (int)LWIP_ARRAYSIZE(sizes));
  for (i = 0; i < LWIP_ARRAYSIZE(sizes); i++) {
    ck_assert_uint_eq(a.msg_len[i], sizes[i]);
  }
  /* A message larger than a pbuf can hold is refused, not split. */
  ck_assert_int_eq(lwvsock_write(a.pcb, data, 70000, 0), ERR_VAL);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

START_TEST(test_malformed_packets)
{
  struct app a = {0};
  struct lwvsock_dev_stats st0, st1;
  struct lwvsock_sim_faults flt = {0};
  uint8_t buf[16];
  int h = guest_connect(&a, LWVSOCK_STREAM, 6001);
  uint32_t hp = lwvsock_sim_local_port(f.sim, h), gp = lwvsock_local_port(a.pcb);

  lwvsock_dev_get_stats(f.dev, &st0);
  inject(LWVSOCK_STREAM, 99, 0, hp, gp, NULL, 0, 0, 0);                 /* unknown op */
  inject(7, VIRTIO_VSOCK_OP_RW, 0, hp + 2, gp, "x", 1, 0, 0);           /* unknown type */
  inject(LWVSOCK_STREAM, VIRTIO_VSOCK_OP_RW, 0, hp, 4321, "zz", 2, 0, 0); /* unconnected port */
  inject(LWVSOCK_STREAM, VIRTIO_VSOCK_OP_REQUEST, 0, hp + 1, 4321, NULL, 0, 0, 0); /* no listener */
  flt.hdr_len_mismatch = 1;                                             /* len disagrees */
  lwvsock_sim_set_faults(f.sim, &flt);
  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, "abcd", 4), 4);
  fx_run(&f, 10);
  lwvsock_dev_get_stats(f.dev, &st1);
  ck_assert_uint_ge(st1.bad_pkts, st0.bad_pkts + 3);
  ck_assert_uint_ge(st1.rst_tx, st0.rst_tx + 3); /* type, port, listener */
  /* The connection itself is unharmed and still carries bytes exactly. */
  ck_assert_int_eq(a.err_called, 0);
  ck_assert_int_eq(lwvsock_write(a.pcb, "fine", 4, 0), ERR_OK);
  fx_run(&f, 5);
  ck_assert_int_eq(fx_host_read(&f, h, buf, 4), 4);
  ck_assert_mem_eq(buf, "fine", 4);
  ck_assert_int_eq(lwvsock_dev_status(f.dev), ERR_OK);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

START_TEST(test_credit_violation_resets)
{
  struct app a = {0}, b = {0};
  struct lwvsock_sim_faults flt = {0};
  struct lwvsock_dev_stats st;
  static uint8_t data[400 * 1024];
  uint8_t buf[8];
  int h = guest_connect(&a, LWVSOCK_STREAM, 6002);
  int h2 = guest_connect(&b, LWVSOCK_STREAM, 6003);

  a.hold = 1;
  flt.ignore_credit = 1;
  lwvsock_sim_set_faults(f.sim, &flt);
  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, data, 256 * 1024), 256 * 1024);
  fx_run(&f, 20);
  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, data, 100 * 1024), 100 * 1024);
  fx_run(&f, 20);
  /* The host overran our 256 KiB: that connection is reset, nothing more is taken. */
  ck_assert_int_eq(a.err_called, 1);
  ck_assert_int_eq(a.err, ERR_RST);
  ck_assert_uint_le(a.total, LWVSOCK_RCV_BUF);
  lwvsock_dev_get_stats(f.dev, &st);
  ck_assert_uint_eq(st.credit_violations, 1);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h), LWVSOCK_SIM_CLOSED);
  flt.ignore_credit = 0;
  lwvsock_sim_set_faults(f.sim, &flt);
  /* The other connection is unaffected. */
  ck_assert_int_eq(lwvsock_write(b.pcb, "ok", 2, 0), ERR_OK);
  fx_run(&f, 5);
  ck_assert_int_eq(fx_host_read(&f, h2, buf, 2), 2);
  lwvsock_close(b.pcb);
  fx_run(&f, 10);
  lwvsock_sim_close(f.sim, h);
  lwvsock_sim_close(f.sim, h2);
  fx_run(&f, 5);
}
END_TEST

START_TEST(test_refused_data_redelivered)
{
  struct app a = {0};
  uint8_t got[64];
  int h = guest_connect(&a, LWVSOCK_STREAM, 6004);

  a.buf = got;
  a.cap = sizeof(got);
  a.refuse = 3;
  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, "first", 5), 5);
  fx_run(&f, 3);
  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, "second", 6), 6);
  fx_run(&f, 10);
  ck_assert_uint_eq(a.len, 0);
  /* Refused data is offered again on the poll tick, in order, nothing lost. */
  fx_advance(&f, 2000);
  ck_assert_uint_eq(a.len, 11);
  ck_assert_mem_eq(got, "firstsecond", 11);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

START_TEST(test_peer_close_drops_unsent)
{
  struct app a = {0};
  static uint8_t data[200 * 1024];
  int h = guest_connect(&a, LWVSOCK_STREAM, 6005);

  ck_assert_int_eq(lwvsock_sim_set_rcvbuf(f.sim, h, 64 * 1024), 0);
  fx_run(&f, 5);
  ck_assert_int_eq(lwvsock_write(a.pcb, data, sizeof(data), 0), ERR_OK);
  fx_run(&f, 10);
  ck_assert_uint_lt(lwvsock_sndbuf(a.pcb), LWVSOCK_SND_BUF - 100 * 1024);
  /* The host closes without reading: what we still hold can never be sent. */
  lwvsock_sim_close(f.sim, h);
  fx_run(&f, 10);
  ck_assert_int_eq(a.fin, 1);
  /* Room again, so a writer waiting for it writes, and learns: */
  ck_assert_uint_gt(lwvsock_sndbuf(a.pcb), 0);
  ck_assert_int_eq(lwvsock_write(a.pcb, "x", 1, 0), ERR_CONN);
  ck_assert_uint_eq(a.pcb->snd_queued, 0);
  lwvsock_close(a.pcb);
  fx_run(&f, 10);
}
END_TEST

START_TEST(test_bind_rules)
{
  struct lwvsock_pcb *p1 = lwvsock_new(f.dev, LWVSOCK_STREAM);
  struct lwvsock_pcb *p2 = lwvsock_new(f.dev, LWVSOCK_STREAM);
  struct lwvsock_pcb *p3 = lwvsock_new(f.dev, LWVSOCK_STREAM);

  ck_assert_int_eq(lwvsock_bind(p1, LWVSOCK_CID_ANY, 3000000000u), ERR_OK);
  ck_assert_int_eq(lwvsock_bind(p2, LWVSOCK_CID_ANY, 3000000000u), ERR_USE);
  ck_assert_int_eq(lwvsock_bind(p2, 99, 10), ERR_VAL);
  ck_assert_int_eq(lwvsock_bind(p2, lwvsock_dev_cid(f.dev), LWVSOCK_PORT_ANY), ERR_OK);
  ck_assert_uint_gt(lwvsock_local_port(p2), 1023);
  ck_assert_int_eq(lwvsock_bind(p2, LWVSOCK_CID_ANY, 5), ERR_ISCONN);
  ck_assert_ptr_null(lwvsock_new(f.dev, 9));
  ck_assert_int_eq(lwvsock_write(p3, "x", 1, 0), ERR_CONN);
  ck_assert_ptr_null(lwvsock_listen_with_backlog(p3, 1, NULL)); /* not bound */
  lwvsock_close(p1);
  lwvsock_close(p2);
  lwvsock_close(p3);
  fx_run(&f, 2);
}
END_TEST

/* ---- rx and credit parity with Linux (issue 9) ---------------------------------- */

/* Send @p len pattern bytes from host socket @p h, polling while the host's buffer is full. */
static void
host_send_pattern(int h, uint64_t off, size_t len)
{
  static uint8_t chunk[64 * 1024];
  size_t done = 0;
  int i;

  for (i = 0; i < 20000 && done < len; i++) {
    size_t n = LWIP_MIN(sizeof(chunk), len - done);
    ssize_t r;
    pattern_fill(chunk, off + done, n);
    r = lwvsock_sim_send(f.sim, h, chunk, n);
    if (r > 0) {
      done += (size_t)r;
    }
    fx_run(&f, 1);
  }
  ck_assert_uint_eq(done, len);
}

/* The application keeps 64 KiB unread (a header it holds) and consumes what
   follows: the host never asks for credit, so we must tell it unasked. */
START_TEST(test_credit_app_holds_data)
{
  struct app a = {0};
  const size_t more = 1024 * 1024;
  int h = guest_connect(&a, LWVSOCK_STREAM, 6100);
  struct lwvsock_sim_stats st;

  a.check_pattern = 1;
  a.hold = 1;
  host_send_pattern(h, 0, 64 * 1024);
  fx_run(&f, 10);
  ck_assert_uint_eq(a.held, 64 * 1024);
  a.hold = 0; /* from now on it consumes, but the first 64 KiB stay held */
  host_send_pattern(h, 64 * 1024, more);
  fx_run(&f, 20);
  ck_assert_uint_eq(a.total, 64 * 1024 + more);
  ck_assert_uint_eq(a.verified, a.total);
  lwvsock_sim_get_stats(f.sim, &st);
  ck_assert_uint_eq(st.credit_requests_rx, 0);
  ck_assert_int_eq(a.err_called, 0);
  app_release(&a);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

/* A bulk stream read as it arrives: about one update per 192 KiB, not one per packet. */
START_TEST(test_credit_updates_rare_on_bulk)
{
  struct app a = {0};
  const size_t len = 4 * 1024 * 1024;
  struct lwvsock_dev_stats d0, d1;
  int h = guest_connect(&a, LWVSOCK_STREAM, 6101);

  a.check_pattern = 1;
  lwvsock_dev_get_stats(f.dev, &d0);
  host_send_pattern(h, 0, len);
  fx_run(&f, 20);
  lwvsock_dev_get_stats(f.dev, &d1);
  ck_assert_uint_eq(a.verified, len);
  ck_assert_uint_le(d1.credit_updates_tx - d0.credit_updates_tx,
                    2 * len / (LWVSOCK_RCV_BUF - LWVSOCK_CREDIT_UPDATE_THRESHOLD) + 2);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

/* 10,000 one-byte packets while the application refuses data: within credit,
   so nothing is lost and nobody is reset (Linux merges them into one buffer). */
START_TEST(test_tiny_packets_while_refused)
{
  struct app a = {0};
  static uint8_t got[10000];
  struct lwvsock_sim_stats s0, s1;
  int h = guest_connect(&a, LWVSOCK_STREAM, 6102);
  int i;

  a.buf = got;
  a.cap = sizeof(got);
  a.refuse = 1000000;
  lwvsock_sim_get_stats(f.sim, &s0);
  for (i = 0; i < 10000; i++) {
    uint8_t b = pattern_byte((uint64_t)i);
    ck_assert_int_eq(lwvsock_sim_send(f.sim, h, &b, 1), 1);
    fx_run(&f, 1);
  }
  lwvsock_sim_get_stats(f.sim, &s1);
  ck_assert_uint_ge(s1.tx_pkts - s0.tx_pkts, 10000);
  ck_assert_int_eq(a.err_called, 0);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h), LWVSOCK_SIM_CONNECTED);
  a.refuse = 0;
  fx_advance(&f, 1000);
  ck_assert_uint_eq(a.len, sizeof(got));
  for (i = 0; i < 10000; i++) {
    ck_assert_uint_eq(got[i], pattern_byte((uint64_t)i));
  }
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

static int
all_received(void *arg)
{
  struct app *a = (struct app *)arg;
  int i;

  for (i = 0; i < 40; i++) {
    if (a[i].total != 256 * 1024) {
      return 0;
    }
  }
  return 1;
}

/* 40 connections x 256 KiB (our full credit each, 10 MiB) with an application
   that refuses data: more than lwIP's 8 MiB heap. Packets wait in the ring
   until it frees memory; every connection arrives whole, none is reset. */
START_TEST(test_credit_backed_by_memory)
{
  static struct app a[40];
  int h[40], i, j;
  struct lwvsock_dev_stats d0, d1;

  memset(a, 0, sizeof(a));
  lwvsock_dev_get_stats(f.dev, &d0);
  for (i = 0; i < 40; i++) {
    h[i] = guest_connect(&a[i], LWVSOCK_STREAM, 6200 + (uint32_t)i);
    a[i].check_pattern = 1;
    a[i].refuse = 1000000;
  }
  for (i = 0; i < 4; i++) {
    for (j = 0; j < 40; j++) {
      host_send_pattern(h[j], (uint64_t)i * 64 * 1024, 64 * 1024);
    }
  }
  fx_run(&f, 50);
  lwvsock_dev_get_stats(f.dev, &d1);
  ck_assert_uint_gt(d1.rx_deferred, d0.rx_deferred);
  for (i = 0; i < 40; i++) {
    ck_assert_int_eq(a[i].err_called, 0);
    a[i].refuse = 0;
  }
  for (i = 0; i < 40 && !all_received(a); i++) {
    fx_advance(&f, 500);
  }
  for (i = 0; i < 40; i++) {
    ck_assert_uint_eq(a[i].verified, 256 * 1024);
    ck_assert_int_eq(a[i].err_called, 0);
    ck_assert_int_eq(lwvsock_sim_state(f.sim, h[i]), LWVSOCK_SIM_CONNECTED);
  }
  for (i = 0; i < 40; i++) {
    fx_end_pair(&f, a[i].pcb, h[i]);
  }
}
END_TEST

/* Our SEQPACKET limit (one pbuf) is what we advertise: a Linux sender refuses
   a bigger message up front, a message at the limit arrives whole. */
START_TEST(test_seqpacket_limit_advertised)
{
  struct app a = {0};
  static uint8_t data[70000];
  int h = guest_connect(&a, LWVSOCK_SEQPACKET, 6103);

  ck_assert_uint_eq(lwvsock_get_rcvbuf(a.pcb), 65535);
  lwvsock_set_rcvbuf(a.pcb, 1024 * 1024);
  ck_assert_uint_eq(lwvsock_get_rcvbuf(a.pcb), 65535);
  fx_run(&f, 5);
  a.check_pattern = 1;
  pattern_fill(data, 0, sizeof(data));
  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, data, 70000), -EMSGSIZE);
  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, data, 65535), 65535);
  fx_run(&f, 40);
  ck_assert_int_eq(a.msgs, 1);
  ck_assert_uint_eq(a.msg_len[0], 65535);
  ck_assert_uint_eq(a.verified, 65535);
  ck_assert_int_eq(a.err_called, 0);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

/* A REQUEST to the CID a TRANSPORT_RESET just gave us, in the same poll. */
START_TEST(test_transport_reset_request_same_poll)
{
  struct app l = {0}, acc[2];
  int h1, h2;

  memset(acc, 0, sizeof(acc));
  h1 = host_connect(&l, acc, 2, 910, LWVSOCK_STREAM);
  ck_assert_int_eq(l.naccepted, 1);
  ck_assert_int_eq(lwvsock_sim_transport_reset(f.sim, 43), 0);
  h2 = lwvsock_sim_connect(f.sim, 910, LWVSOCK_STREAM);
  ck_assert_int_ge(h2, 0);
  fx_run(&f, 1);
  ck_assert_uint_eq(lwvsock_dev_cid(f.dev), 43);
  ck_assert_int_eq(acc[0].err, ERR_RST);
  ck_assert_int_eq(l.naccepted, 2);
  fx_run(&f, 5);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h2), LWVSOCK_SIM_CONNECTED);
  fx_end_pair(&f, acc[1].pcb, h2);
  lwvsock_close(l.pcb);
  lwvsock_sim_close(f.sim, h1);
  fx_run(&f, 5);
}
END_TEST

/* Data received before the peer's RST stays readable; then the app learns of the reset. */
START_TEST(test_rst_keeps_unread_data)
{
  struct app a = {0};
  uint8_t got[16];
  struct lwvsock_sim_stats s0, s1;
  int h = guest_connect(&a, LWVSOCK_STREAM, 6104);

  a.buf = got;
  a.cap = sizeof(got);
  a.refuse = 1000000;
  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, "hello", 5), 5);
  fx_run(&f, 5);
  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, "world", 5), 5);
  fx_run(&f, 5);
  lwvsock_sim_get_stats(f.sim, &s0);
  lwvsock_sim_reset(f.sim, h);
  fx_run(&f, 5);
  ck_assert_int_eq(a.err_called, 0);
  ck_assert_int_eq(lwvsock_write(a.pcb, "x", 1, 0), ERR_CONN);
  a.refuse = 0;
  fx_advance(&f, 1000);
  ck_assert_uint_eq(a.len, 10);
  ck_assert_mem_eq(got, "helloworld", 10);
  ck_assert_int_eq(a.err_called, 1);
  ck_assert_int_eq(a.err, ERR_RST);
  /* Never an RST for an RST. */
  lwvsock_sim_get_stats(f.sim, &s1);
  ck_assert_uint_eq(s1.rst_rx, s0.rst_rx);
}
END_TEST

/* A duplicate REQUEST or RESPONSE on an established connection is dropped. */
START_TEST(test_stray_handshake_dropped)
{
  struct app a = {0};
  uint8_t buf[2];
  struct lwvsock_dev_stats d0, d1;
  int h = guest_connect(&a, LWVSOCK_STREAM, 6105);
  uint32_t hp = lwvsock_sim_local_port(f.sim, h), gp = lwvsock_local_port(a.pcb);

  lwvsock_dev_get_stats(f.dev, &d0);
  inject(LWVSOCK_STREAM, VIRTIO_VSOCK_OP_REQUEST, 0, hp, gp, NULL, 0, 256 * 1024, 0);
  inject(LWVSOCK_STREAM, VIRTIO_VSOCK_OP_RESPONSE, 0, hp, gp, NULL, 0, 256 * 1024, 0);
  fx_run(&f, 5);
  lwvsock_dev_get_stats(f.dev, &d1);
  ck_assert_uint_eq(d1.bad_pkts, d0.bad_pkts + 2);
  ck_assert_uint_eq(d1.rst_tx, d0.rst_tx);
  ck_assert_int_eq(a.err_called, 0);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h), LWVSOCK_SIM_CONNECTED);
  ck_assert_int_eq(lwvsock_write(a.pcb, "ok", 2, 0), ERR_OK);
  fx_run(&f, 5);
  ck_assert_int_eq(fx_host_read(&f, h, buf, 2), 2);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

/* After the peer's SHUTDOWN(RCV) nothing more is sent; the writer learns ERR_CONN. */
START_TEST(test_peer_shutdown_rcv_stops_sending)
{
  struct app a = {0};
  static uint8_t data[200 * 1024];
  struct lwvsock_sim_stats s0, s1;
  int h = guest_connect(&a, LWVSOCK_STREAM, 6106);

  ck_assert_int_eq(lwvsock_sim_set_rcvbuf(f.sim, h, 64 * 1024), 0);
  fx_run(&f, 5);
  ck_assert_int_eq(lwvsock_write(a.pcb, data, sizeof(data), 0), ERR_OK);
  fx_run(&f, 10);
  ck_assert_uint_gt(a.pcb->snd_queued, 0);
  ck_assert_int_eq(lwvsock_sim_shutdown(f.sim, h, VIRTIO_VSOCK_SHUTDOWN_RCV), 0);
  fx_run(&f, 10);
  lwvsock_sim_get_stats(f.sim, &s0);
  ck_assert_uint_eq(a.pcb->snd_queued, 0);
  ck_assert_int_eq(lwvsock_write(a.pcb, "x", 1, 0), ERR_CONN);
  /* Credit opens (the host reads), yet nothing more comes. */
  ck_assert_int_eq(fx_host_read(&f, h, data, 64 * 1024), 64 * 1024);
  fx_run(&f, 20);
  lwvsock_sim_get_stats(f.sim, &s1);
  ck_assert_uint_eq(s1.rx_bytes, s0.rx_bytes);
  ck_assert_int_eq(a.err_called, 0);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

/* A device claiming our own CID or CID 1 as source cannot inject into loopback. */
START_TEST(test_forged_local_source_dropped)
{
  struct app l = {0}, acc[2];
  struct lwvsock_pcb *lp = lwvsock_new(f.dev, LWVSOCK_STREAM);
  struct lwvsock_dev_stats d0, d1;

  memset(acc, 0, sizeof(acc));
  ck_assert_int_eq(lwvsock_bind(lp, LWVSOCK_CID_ANY, 920), ERR_OK);
  ck_assert_ptr_eq(lwvsock_listen(lp), lp);
  l.accepted = acc;
  l.max_accepted = 2;
  lwvsock_arg(lp, &l);
  lwvsock_accept(lp, app_accept);
  lwvsock_dev_get_stats(f.dev, &d0);
  inject_from(lwvsock_dev_cid(f.dev), LWVSOCK_STREAM, VIRTIO_VSOCK_OP_REQUEST, 0, 5000, 920, NULL, 0,
              256 * 1024, 0);
  inject_from(VMADDR_CID_LOCAL, LWVSOCK_STREAM, VIRTIO_VSOCK_OP_REQUEST, 0, 5001, 920, NULL, 0,
              256 * 1024, 0);
  fx_run(&f, 5);
  lwvsock_dev_get_stats(f.dev, &d1);
  ck_assert_int_eq(l.naccepted, 0);
  ck_assert_uint_eq(d1.bad_pkts, d0.bad_pkts + 2);
  ck_assert_uint_eq(d1.rst_tx, d0.rst_tx);
  lwvsock_close(lp);
  fx_run(&f, 5);
}
END_TEST

Suite *
lwvsock_test_suite(void)
{
  testfunc tests[] = {
    TESTFUNC(test_handshake_guest_to_host),
    TESTFUNC(test_handshake_host_to_guest),
    TESTFUNC(test_refused_connect),
    TESTFUNC(test_connect_timeout),
    TESTFUNC(test_full_backlog),
    TESTFUNC(test_half_close_guest_send),
    TESTFUNC(test_half_close_host_send),
    TESTFUNC(test_close_timeout),
    TESTFUNC(test_sender_stalls_at_buf_alloc),
    TESTFUNC(test_credit_update_after_read),
    TESTFUNC(test_credit_request_answered),
    TESTFUNC(test_counters_wrap),
    TESTFUNC(test_max_packet_64k),
    TESTFUNC(test_small_write_coalescing),
    TESTFUNC(test_sim_packet_budget),
    TESTFUNC(test_small_records_coalesced),
    TESTFUNC(test_small_hold_bounded),
    TESTFUNC(test_close_slow_reader_gets_all),
    TESTFUNC(test_linger_drops_unsent_loudly),
    TESTFUNC(test_closed_peer_gone_drops_loudly),
    TESTFUNC(test_transport_reset),
    TESTFUNC(test_loopback_cid_local),
    TESTFUNC(test_loopback_own_cid),
    TESTFUNC(test_seqpacket_boundaries),
    TESTFUNC(test_malformed_packets),
    TESTFUNC(test_credit_violation_resets),
    TESTFUNC(test_refused_data_redelivered),
    TESTFUNC(test_peer_close_drops_unsent),
    TESTFUNC(test_bind_rules),
    TESTFUNC(test_credit_app_holds_data),
    TESTFUNC(test_credit_updates_rare_on_bulk),
    TESTFUNC(test_tiny_packets_while_refused),
    TESTFUNC(test_credit_backed_by_memory),
    TESTFUNC(test_seqpacket_limit_advertised),
    TESTFUNC(test_transport_reset_request_same_poll),
    TESTFUNC(test_rst_keeps_unread_data),
    TESTFUNC(test_stray_handshake_dropped),
    TESTFUNC(test_peer_shutdown_rcv_stops_sending),
    TESTFUNC(test_forged_local_source_dropped),
    TESTFUNC(test_pcb_pool_stats),
  };
  return create_suite("PROTO", tests, LWIP_ARRAYSIZE(tests), proto_setup, proto_teardown);
}
