/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The vsock netif on the sim: the test plays the host-side network daemon on
 * the host end of the stream. Framing split at every byte offset in both
 * framings, bad and impossible lengths, truncated frames, transmit framing,
 * link state with reconnect backoff, DHCP restarting on link up, listen mode,
 * and raw vsock connections beside the netif.
 */
#include <errno.h>
#include <string.h>

#include "lwvsock_check.h"
#include "proto_fixture.h"
#include "lwvsock/netif_vsock.h"
#include "lwip/dhcp.h"
#include "lwip/pbuf.h"

#define DAEMON_PORT 1024
#define MAX_FRAMES  16
#define FRAME_CAP   2048

static struct fx f;
static struct lwvsock_netif vn;
static int vn_added;
static int lsock = -1;

/* What lwIP's input would have got: whole frames, in order. */
static struct {
  int n;
  uint16_t len[MAX_FRAMES];
  uint8_t data[MAX_FRAMES][FRAME_CAP];
} rec;

static err_t
rec_input(struct pbuf *p, struct netif *netif)
{
  LWIP_UNUSED_ARG(netif);
  ck_assert_int_lt(rec.n, MAX_FRAMES);
  ck_assert_uint_le(p->tot_len, FRAME_CAP);
  rec.len[rec.n] = p->tot_len;
  pbuf_copy_partial(p, rec.data[rec.n], p->tot_len, 0);
  rec.n++;
  pbuf_free(p);
  return ERR_OK;
}

static void
netif_setup(void)
{
  fx_setup(&f);
  memset(&rec, 0, sizeof(rec));
  vn_added = 0;
  lsock = -1;
}

static void
netif_teardown(void)
{
  if (vn_added) {
    lwvsock_netif_remove(&vn);
  }
  fx_teardown(&f);
}

/* A frame of @p len bytes (>= 14): broadcast, ethertype 0x88b5, payload from @p seed. */
static void
make_frame(uint8_t *dst, uint32_t len, uint32_t seed)
{
  static const uint8_t hdr[14] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0x52, 0x55, 0x0a, 0x00, 0x02, 0x02, 0x88, 0xb5 };
  memcpy(dst, hdr, sizeof(hdr));
  pattern_fill(dst + 14, seed, len - 14);
}

/* Append a length header for @p len in @p framing to @p dst; returns its size. */
static size_t
put_len(uint8_t *dst, enum lwvsock_netif_framing framing, uint32_t len)
{
  if (framing == LWVSOCK_NETIF_FRAMING_GVPROXY) {
    dst[0] = (uint8_t)len;
    dst[1] = (uint8_t)(len >> 8);
    return 2;
  }
  dst[0] = (uint8_t)(len >> 24);
  dst[1] = (uint8_t)(len >> 16);
  dst[2] = (uint8_t)(len >> 8);
  dst[3] = (uint8_t)len;
  return 4;
}

/* Move exactly @p len bytes between @p buf and the daemon's socket @p h
   (@p out: send, else receive), polling meanwhile; bounded. */
static void
host_io(int h, uint8_t *buf, size_t len, int out)
{
  size_t done = 0;
  int i;

  for (i = 0; i < 1000 && done < len; i++) {
    ssize_t r = out ? lwvsock_sim_send(f.sim, h, buf + done, len - done)
                    : lwvsock_sim_recv(f.sim, h, buf + done, len - done);
    if (r > 0) {
      done += (size_t)r;
    } else {
      ck_assert_int_eq(r, -EAGAIN);
    }
    fx_run(&f, out ? 2 : 1);
  }
  ck_assert_uint_eq(done, len);
}

static void
host_send_all(int h, const uint8_t *buf, size_t len)
{
  host_io(h, (uint8_t *)(uintptr_t)buf, len, 1);
}

static void
host_read_exact(int h, uint8_t *buf, size_t len)
{
  host_io(h, buf, len, 0);
}

/* The daemon sends one QEMU-framed frame of @p len bytes made from @p seed (kept in @p frame). */
static void
host_send_frame(int h, uint8_t *frame, uint32_t len, uint32_t seed)
{
  uint8_t hdr[4];

  make_frame(frame, len, seed);
  host_send_all(h, hdr, put_len(hdr, LWVSOCK_NETIF_FRAMING_QEMU, len));
  host_send_all(h, frame, len);
}

/* Poll (moving the clock) until the daemon's listener has a connection. */
static int
host_accept(void)
{
  int i, h = -EAGAIN;

  for (i = 0; i < 1000 && h == -EAGAIN; i++) {
    fx_advance(&f, 10);
    h = lwvsock_sim_accept(f.sim, lsock);
  }
  ck_assert_int_ge(h, 0);
  fx_run(&f, 4);
  return h;
}

static void
add_netif(enum lwvsock_netif_framing framing, int listen)
{
  struct lwvsock_netif_config cfg;

  lwvsock_netif_config_init(&cfg);
  cfg.dev = f.dev;
  cfg.framing = framing;
  cfg.listen = listen;
  ck_assert_int_eq(lwvsock_netif_add(&vn, &cfg), ERR_OK);
  vn_added = 1;
  vn.netif.input = rec_input;
}

/* The netif connects to the daemon (the test); returns the daemon's socket. */
static int
link_up(enum lwvsock_netif_framing framing)
{
  int h;

  lsock = lwvsock_sim_listen(f.sim, DAEMON_PORT, LWVSOCK_STREAM);
  ck_assert_int_ge(lsock, 0);
  add_netif(framing, 0);
  h = host_accept();
  ck_assert(netif_is_link_up(lwvsock_netif_netif(&vn)));
  if (framing == LWVSOCK_NETIF_FRAMING_GVPROXY) {
    static const char req[] = "POST /connect HTTP/1.1\r\n";
    uint8_t got[sizeof(req) - 1];
    uint8_t rest[64];
    size_t have = 0;
    host_read_exact(h, got, sizeof(got));
    ck_assert_mem_eq(got, req, sizeof(got));
    /* the rest of the request, up to the blank line */
    while (have < 4 || memcmp(rest + have - 4, "\r\n\r\n", 4) != 0) {
      ck_assert_uint_lt(have, sizeof(rest));
      host_read_exact(h, rest + have, 1);
      have++;
    }
  }
  return h;
}

static struct lwvsock_netif_stats
stats(void)
{
  struct lwvsock_netif_stats st;
  lwvsock_netif_get_stats(&vn, &st);
  return st;
}

/* Three frames and their headers, split in two writes at every byte offset:
   every frame arrives whole and exact, and the stream stays in step. */
static void
split_every_offset(enum lwvsock_netif_framing framing)
{
  static const uint32_t lens[] = { 60, 1514, 14, 301 };
  static uint8_t stream[8 + 60 + 1514 + 14 + 301 + 16];
  uint8_t frames[4][1514];
  size_t total = 0, k;
  int h = link_up(framing);
  unsigned i;

  for (i = 0; i < 4; i++) {
    make_frame(frames[i], lens[i], i * 7919u);
    total += put_len(stream + total, framing, lens[i]);
    memcpy(stream + total, frames[i], lens[i]);
    total += lens[i];
  }
  for (k = 1; k < total; k++) {
    rec.n = 0;
    host_send_all(h, stream, k);
    host_send_all(h, stream + k, total - k);
    fx_run(&f, 4);
    ck_assert_msg(rec.n == 4, "split at %zu: %d frames", k, rec.n);
    for (i = 0; i < 4; i++) {
      ck_assert_uint_eq(rec.len[i], lens[i]);
      ck_assert_mem_eq(rec.data[i], frames[i], lens[i]);
    }
  }
  ck_assert_uint_eq(stats().rx_frames, 4u * (total - 1));
  /* frames whole in one packet went in place, frames split across two could not */
  ck_assert_uint_gt(stats().rx_in_place, 0);
  ck_assert_uint_lt(stats().rx_in_place, stats().rx_frames - (total - 1) / 2);
  ck_assert_uint_eq(stats().rx_desync + stats().rx_runt + stats().rx_oversize, 0);
}

START_TEST(test_split_every_offset_qemu)
{
  split_every_offset(LWVSOCK_NETIF_FRAMING_QEMU);
}
END_TEST

START_TEST(test_split_every_offset_gvproxy)
{
  split_every_offset(LWVSOCK_NETIF_FRAMING_GVPROXY);
}
END_TEST

/* Runts and oversize frames are skipped by their length and counted; the
   frame after them still arrives. */
static void
bad_lengths(enum lwvsock_netif_framing framing, uint32_t oversize)
{
  static uint8_t buf[70000];
  uint8_t frame[100];
  size_t n = 0;
  int h = link_up(framing);

  n += put_len(buf + n, framing, 0);
  n += put_len(buf + n, framing, 5);
  memset(buf + n, 0xaa, 5);
  n += 5;
  n += put_len(buf + n, framing, oversize);
  memset(buf + n, 0x55, oversize);
  n += oversize;
  make_frame(frame, sizeof(frame), 42);
  n += put_len(buf + n, framing, sizeof(frame));
  memcpy(buf + n, frame, sizeof(frame));
  n += sizeof(frame);
  host_send_all(h, buf, n);
  fx_run(&f, 4);
  ck_assert_int_eq(rec.n, 1);
  ck_assert_uint_eq(rec.len[0], sizeof(frame));
  ck_assert_mem_eq(rec.data[0], frame, sizeof(frame));
  ck_assert_uint_eq(stats().rx_runt, 2);
  ck_assert_uint_eq(stats().rx_oversize, 1);
  ck_assert_uint_eq(stats().rx_desync, 0);
  ck_assert(netif_is_link_up(lwvsock_netif_netif(&vn)));
}

START_TEST(test_bad_lengths_qemu)
{
  bad_lengths(LWVSOCK_NETIF_FRAMING_QEMU, 1500 + 14 + 4 + 1);
}
END_TEST

START_TEST(test_bad_lengths_gvproxy)
{
  bad_lengths(LWVSOCK_NETIF_FRAMING_GVPROXY, 0xffff);
}
END_TEST

/* An impossible length: the framing is lost, so the link is reset (the daemon
   sees RST), goes down, and comes back with a new connection. */
START_TEST(test_desync_resets_and_reconnects)
{
  static const uint8_t bogus[4] = { 0x7f, 0xff, 0xff, 0xff };
  int h = link_up(LWVSOCK_NETIF_FRAMING_QEMU);
  int h2;

  host_send_all(h, bogus, sizeof(bogus));
  fx_run(&f, 4);
  ck_assert_uint_eq(stats().rx_desync, 1);
  ck_assert(!netif_is_link_up(lwvsock_netif_netif(&vn)));
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h), LWVSOCK_SIM_CLOSED);
  ck_assert_int_eq(lwvsock_sim_error(f.sim, h), -ECONNRESET);
  ck_assert_int_eq(lwvsock_sim_close(f.sim, h), 0);
  h2 = host_accept();
  ck_assert(netif_is_link_up(lwvsock_netif_netif(&vn)));
  ck_assert_uint_eq(stats().connects, 2);
  ck_assert_uint_eq(stats().link_downs, 1);
  ck_assert_int_eq(lwvsock_sim_reset(f.sim, h2), 0);
}
END_TEST

/* The daemon closes in the middle of a frame: dropped, counted, link down,
   reconnect; the new connection's framing starts afresh. */
START_TEST(test_truncated_then_reconnect)
{
  uint8_t buf[4 + 200], frame[80];
  size_t n = put_len(buf, LWVSOCK_NETIF_FRAMING_QEMU, 200);
  int h = link_up(LWVSOCK_NETIF_FRAMING_QEMU);

  memset(buf + n, 0x11, 100);
  host_send_all(h, buf, n + 100);
  ck_assert_int_eq(lwvsock_sim_close(f.sim, h), 0);
  fx_run(&f, 6);
  ck_assert_int_eq(rec.n, 0);
  ck_assert_uint_eq(stats().rx_truncated, 1);
  ck_assert(!netif_is_link_up(lwvsock_netif_netif(&vn)));
  h = host_accept();
  host_send_frame(h, frame, sizeof(frame), 9);
  fx_run(&f, 4);
  ck_assert_int_eq(rec.n, 1);
  ck_assert_mem_eq(rec.data[0], frame, sizeof(frame));
  ck_assert_int_eq(lwvsock_sim_reset(f.sim, h), 0);
}
END_TEST

static struct pbuf *held_frame;

static err_t
hold_input(struct pbuf *p, struct netif *netif)
{
  LWIP_UNUSED_ARG(netif);
  if (held_frame == NULL) {
    held_frame = p;
  } else {
    pbuf_free(p);
  }
  return ERR_OK;
}

/* A frame lent in place stays intact while lwIP holds it, however much
   traffic follows, and its memory returns when lwIP frees it. */
START_TEST(test_in_place_frame_outlives_packet)
{
  uint8_t first[1000], frame[1000];
  int h = link_up(LWVSOCK_NETIF_FRAMING_QEMU);
  int i;

  held_frame = NULL;
  vn.netif.input = hold_input;
  host_send_frame(h, first, sizeof(first), 1234);
  fx_run(&f, 4);
  ck_assert_ptr_nonnull(held_frame);
  ck_assert_uint_eq(stats().rx_in_place, 1);
  for (i = 0; i < 600; i++) {
    host_send_frame(h, frame, sizeof(frame), (uint32_t)i);
  }
  fx_run(&f, 4);
  ck_assert_uint_eq(stats().rx_frames, 601);
  ck_assert_uint_eq(held_frame->tot_len, sizeof(first));
  ck_assert_mem_eq(held_frame->payload, first, sizeof(first));
  pbuf_free(held_frame);
  held_frame = NULL;
  ck_assert_int_eq(lwvsock_sim_reset(f.sim, h), 0);
}
END_TEST

/* lwIP's frames go out as length + frame, from a two-pbuf chain. */
static void
tx_framing(enum lwvsock_netif_framing framing)
{
  uint8_t frame[1514], hdr[4], want_hdr[4], got[1514];
  struct netif *nif;
  struct pbuf *a, *b;
  size_t hsz = put_len(want_hdr, framing, sizeof(frame));
  int h = link_up(framing);

  nif = lwvsock_netif_netif(&vn);
  make_frame(frame, sizeof(frame), 77);
  a = pbuf_alloc(PBUF_RAW, 600, PBUF_RAM);
  b = pbuf_alloc(PBUF_RAW, sizeof(frame) - 600, PBUF_RAM);
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  pbuf_cat(a, b);
  ck_assert_int_eq(pbuf_take(a, frame, sizeof(frame)), ERR_OK);
  ck_assert_int_eq(nif->linkoutput(nif, a), ERR_OK);
  ck_assert_int_eq(nif->linkoutput(nif, a), ERR_OK);
  pbuf_free(a);
  fx_run(&f, 4);
  for (int i = 0; i < 2; i++) {
    host_read_exact(h, hdr, hsz);
    ck_assert_mem_eq(hdr, want_hdr, hsz);
    host_read_exact(h, got, sizeof(got));
    ck_assert_mem_eq(got, frame, sizeof(frame));
  }
  ck_assert_uint_eq(stats().tx_frames, 2);
  ck_assert_uint_eq(stats().tx_bytes, 2 * sizeof(frame));
  /* larger than the MTU allows: refused, counted, nothing sent */
  a = pbuf_alloc(PBUF_RAW, 1500 + 14 + 4 + 1, PBUF_RAM);
  ck_assert_ptr_nonnull(a);
  ck_assert_int_eq(nif->linkoutput(nif, a), ERR_VAL);
  pbuf_free(a);
  ck_assert_uint_eq(stats().tx_oversize, 1);
  fx_run(&f, 4);
  ck_assert_uint_eq(lwvsock_sim_rx_pending(f.sim, h), 0);
  ck_assert_int_eq(lwvsock_sim_reset(f.sim, h), 0);
}

START_TEST(test_tx_framing_qemu)
{
  tx_framing(LWVSOCK_NETIF_FRAMING_QEMU);
}
END_TEST

START_TEST(test_tx_framing_gvproxy)
{
  tx_framing(LWVSOCK_NETIF_FRAMING_GVPROXY);
}
END_TEST

/* No daemon: connects are refused, retried with a doubling delay capped at
   the maximum (100, 200, 400 ... 5000 ms), frames are dropped meanwhile. */
START_TEST(test_no_daemon_backoff)
{
  struct netif *nif;
  struct pbuf *p;
  uint32_t fails;

  add_netif(LWVSOCK_NETIF_FRAMING_QEMU, 0);
  nif = lwvsock_netif_netif(&vn);
  fx_advance(&f, 20000);
  fails = stats().connect_fails;
  /* attempts at 0, .1, .3, .7, 1.5, 3.1, 6.3, 11.3, 16.3 s */
  ck_assert_msg(fails >= 8 && fails <= 10, "%u connect attempts in 20 s", (unsigned)fails);
  ck_assert(!netif_is_link_up(nif));
  p = pbuf_alloc(PBUF_RAW, 60, PBUF_RAM);
  ck_assert_ptr_nonnull(p);
  ck_assert_int_eq(nif->linkoutput(nif, p), ERR_IF);
  pbuf_free(p);
  ck_assert_uint_eq(stats().tx_nolink, 1);
  /* the daemon starts: the next attempt (within the 5 s bound) connects */
  lsock = lwvsock_sim_listen(f.sim, DAEMON_PORT, LWVSOCK_STREAM);
  ck_assert_int_ge(lsock, 0);
  ck_assert_int_eq(lwvsock_sim_reset(f.sim, host_accept()), 0);
  ck_assert_uint_eq(stats().connects, 1);
}
END_TEST

/* Read frames from the daemon's side until a DHCP client message (UDP to port 67). */
static int
host_sees_dhcp(int h)
{
  uint8_t hdr[4], frame[1514];
  int i;

  for (i = 0; i < 8; i++) {
    uint32_t len;
    host_read_exact(h, hdr, 4);
    len = ((uint32_t)hdr[0] << 24) | ((uint32_t)hdr[1] << 16) | ((uint32_t)hdr[2] << 8) | hdr[3];
    ck_assert_uint_le(len, sizeof(frame));
    host_read_exact(h, frame, len);
    if (len > 14 + 20 + 8 && frame[12] == 0x08 && frame[13] == 0x00 && frame[14 + 9] == 17 &&
        frame[14 + 20 + 2] == 0 && frame[14 + 20 + 3] == 67) {
      return 1;
    }
  }
  return 0;
}

/* dhcp_start() once: a DISCOVER goes out on link up, and again after the
   link dropped and came back. */
START_TEST(test_dhcp_restarts_on_link_up)
{
  int h = link_up(LWVSOCK_NETIF_FRAMING_QEMU);

  ck_assert_int_eq(dhcp_start(lwvsock_netif_netif(&vn)), ERR_OK);
  fx_run(&f, 4);
  ck_assert(host_sees_dhcp(h));
  ck_assert_int_eq(lwvsock_sim_reset(f.sim, h), 0);
  fx_run(&f, 4);
  ck_assert(!netif_is_link_up(lwvsock_netif_netif(&vn)));
  h = host_accept();
  ck_assert(netif_is_link_up(lwvsock_netif_netif(&vn)));
  ck_assert(host_sees_dhcp(h));
  ck_assert_int_eq(lwvsock_sim_reset(f.sim, h), 0);
}
END_TEST

/* Listen mode: the daemon connects to the netif; one link at a time. */
START_TEST(test_listen_mode)
{
  uint8_t frame[64];
  int h, h2;

  add_netif(LWVSOCK_NETIF_FRAMING_QEMU, 1);
  h = lwvsock_sim_connect(f.sim, DAEMON_PORT, LWVSOCK_STREAM);
  ck_assert_int_ge(h, 0);
  fx_run(&f, 6);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h), LWVSOCK_SIM_CONNECTED);
  ck_assert(netif_is_link_up(lwvsock_netif_netif(&vn)));
  h2 = lwvsock_sim_connect(f.sim, DAEMON_PORT, LWVSOCK_STREAM);
  ck_assert_int_ge(h2, 0);
  fx_run(&f, 6);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h2), LWVSOCK_SIM_CLOSED);
  ck_assert_int_eq(lwvsock_sim_close(f.sim, h2), 0);
  host_send_frame(h, frame, sizeof(frame), 3);
  fx_run(&f, 4);
  ck_assert_int_eq(rec.n, 1);
  ck_assert_int_eq(lwvsock_sim_close(f.sim, h), 0);
  fx_run(&f, 6);
  ck_assert(!netif_is_link_up(lwvsock_netif_netif(&vn)));
  h = lwvsock_sim_connect(f.sim, DAEMON_PORT, LWVSOCK_STREAM);
  fx_run(&f, 6);
  ck_assert(netif_is_link_up(lwvsock_netif_netif(&vn)));
  ck_assert_uint_eq(stats().connects, 2);
  ck_assert_int_eq(lwvsock_sim_reset(f.sim, h), 0);
}
END_TEST

/* A raw vsock connection on the same device works beside the netif. */
START_TEST(test_raw_beside_netif)
{
  static uint8_t data[100000];
  uint8_t frame[60];
  struct app a = {0};
  int h = link_up(LWVSOCK_NETIF_FRAMING_QEMU);
  int r;

  r = fx_guest_connect(&f, &a, LWVSOCK_STREAM, 5000);
  a.check_pattern = 1;
  pattern_fill(data, 0, sizeof(data));
  host_send_all(r, data, sizeof(data) / 2);
  host_send_frame(h, frame, sizeof(frame), 5);
  host_send_all(r, data + sizeof(data) / 2, sizeof(data) / 2);
  fx_run(&f, 6);
  ck_assert_uint_eq(a.total, sizeof(data));
  ck_assert_uint_eq(a.verified, sizeof(data));
  ck_assert_int_eq(rec.n, 1);
  fx_end_pair(&f, a.pcb, r);
  ck_assert_int_eq(lwvsock_sim_reset(f.sim, h), 0);
}
END_TEST

START_TEST(test_bad_config)
{
  struct lwvsock_netif_config cfg;

  lwvsock_netif_config_init(&cfg);
  ck_assert_int_eq(lwvsock_netif_add(&vn, &cfg), ERR_ARG);  /* no device */
  cfg.dev = f.dev;
  cfg.mtu = 100;
  ck_assert_int_eq(lwvsock_netif_add(&vn, &cfg), ERR_ARG);
  cfg.mtu = 65501;  /* the largest frame would not fit gvproxy's 2-byte length */
  ck_assert_int_eq(lwvsock_netif_add(&vn, &cfg), ERR_ARG);
  cfg.framing = 7;
  cfg.mtu = 4000;
  ck_assert_int_eq(lwvsock_netif_add(&vn, &cfg), ERR_ARG);
  cfg.framing = LWVSOCK_NETIF_FRAMING_GVPROXY;
  cfg.mtu = 4000;
  cfg.backoff_min_ms = 0;
  ck_assert_int_eq(lwvsock_netif_add(&vn, &cfg), ERR_ARG);
  ck_assert_int_eq(lwvsock_netif_add(NULL, &cfg), ERR_ARG);
}
END_TEST

Suite *
lwvsock_test_suite(void)
{
  testfunc tests[] = {
    TESTFUNC(test_split_every_offset_qemu),
    TESTFUNC(test_split_every_offset_gvproxy),
    TESTFUNC(test_bad_lengths_qemu),
    TESTFUNC(test_bad_lengths_gvproxy),
    TESTFUNC(test_desync_resets_and_reconnects),
    TESTFUNC(test_truncated_then_reconnect),
    TESTFUNC(test_in_place_frame_outlives_packet),
    TESTFUNC(test_tx_framing_qemu),
    TESTFUNC(test_tx_framing_gvproxy),
    TESTFUNC(test_no_daemon_backoff),
    TESTFUNC(test_dhcp_restarts_on_link_up),
    TESTFUNC(test_listen_mode),
    TESTFUNC(test_raw_beside_netif),
    TESTFUNC(test_bad_config),
  };
  return create_suite("netif", tests, sizeof(tests) / sizeof(tests[0]), netif_setup, netif_teardown);
}
