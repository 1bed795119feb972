/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Notification suite: what VIRTIO_RING_F_EVENT_IDX buys the whole driver
 * against the simulated host. The same bulk transfer runs with the device
 * offering EVENT_IDX and without it; the kicks the device counts must drop,
 * and every byte must still arrive. And the rx buffers: the device fills them
 * up to LWVSOCK_RX_BUF_SIZE, and no more than LWVSOCK_RX_BUFS are posted.
 */
#include <errno.h>
#include <string.h>

#include "lwvsock_check.h"
#include "proto_fixture.h"
#include "sim_priv.h"
#include "lwvsock_priv.h"
#include "lwip/def.h"

#define CHUNK (256u * 1024u)

static unsigned pcbs_before;

static void
notify_setup(void)
{
  lwvsock_test_clock_set(1000);
  pcbs_before = fx_pcbs_in_use();
}

static void
notify_teardown(void)
{
  ck_assert_uint_eq(fx_pcbs_in_use(), pcbs_before);
  lwvsock_check_ensure_no_alloc(0);
}

/** What one transfer cost the device. */
struct xfer {
  int event_idx;          /* negotiated, as the sim saw it */
  uint64_t kicks_rx, kicks_tx;
  uint64_t used_notifications;
  uint64_t device_pkts;   /* packets both ways */
};

/*
 * Move @p bytes host -> guest (@p h2g) or guest -> host with the sim offering
 * EVENT_IDX or not; every byte is checked against the pattern.
 */
static struct xfer
transfer(int offer_event_idx, int h2g, uint64_t bytes)
{
  static uint8_t buf[CHUNK], want[CHUNK];
  struct lwvsock_sim_config cfg;
  struct lwvsock_sim_stats st;
  struct app a = {0};
  struct xfer x;
  struct fx f;
  uint64_t moved = 0, got = 0;
  int h, turns;

  lwvsock_sim_config_init(&cfg);
  if (!offer_event_idx) {
    cfg.features &= ~VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
  }
  fx_open(&f, &cfg);
  a.check_pattern = 1;
  h = fx_guest_connect(&f, &a, LWVSOCK_STREAM, 6000);
  for (turns = 0; turns < 100000 && (h2g ? a.total : got) < bytes; turns++) {
    if (h2g) {
      if (moved < bytes && lwvsock_sim_tx_pending(f.sim, h) < CHUNK) {
        uint32_t n = (uint32_t)LWIP_MIN((uint64_t)CHUNK, bytes - moved);
        pattern_fill(buf, moved, n);
        ck_assert_int_eq(lwvsock_sim_send(f.sim, h, buf, n), (long)n);
        moved += n;
      }
    } else {
      long r;
      if (moved < bytes) {
        uint32_t n = (uint32_t)LWIP_MIN((uint64_t)65536u, bytes - moved);
        pattern_fill(buf, moved, n);
        if (lwvsock_write(a.pcb, buf, n, LWVSOCK_WRITE_FLAG_COPY) == ERR_OK) {
          moved += n;
        }
      }
      while ((r = lwvsock_sim_recv(f.sim, h, buf, sizeof(buf))) > 0) {
        pattern_fill(want, got, (size_t)r);
        ck_assert_msg(memcmp(buf, want, (size_t)r) == 0, "bytes %llu.. differ", (unsigned long long)got);
        got += (uint64_t)r;
      }
    }
    lwvsock_dev_poll(f.dev, 0);
  }
  if (h2g) {
    ck_assert_uint_eq(a.total, bytes);
    ck_assert_uint_eq(a.verified, bytes);
    ck_assert(!a.mismatch);
  } else {
    ck_assert_uint_eq(got, bytes);
  }
  lwvsock_sim_get_stats(f.sim, &st);
  x.event_idx = f.sim->event_idx;
  x.kicks_rx = f.sim->vq[VIRTIO_VSOCK_QUEUE_RX].kicks;
  x.kicks_tx = f.sim->vq[VIRTIO_VSOCK_QUEUE_TX].kicks;
  x.used_notifications = st.used_notifications;
  x.device_pkts = st.rx_pkts + st.tx_pkts;
  fx_end_pair(&f, a.pcb, h);
  fx_close(&f);
  return x;
}

START_TEST(test_event_idx_negotiated)
{
  struct xfer on = transfer(1, 1, 64 * 1024), off = transfer(0, 1, 64 * 1024);

  ck_assert_int_eq(on.event_idx, 1);
  ck_assert_int_eq(off.event_idx, 0);
}
END_TEST

START_TEST(test_event_idx_drops_kicks_h2g)
{
  const uint64_t bytes = 8ull << 20;
  struct xfer on = transfer(1, 1, bytes), off = transfer(0, 1, bytes);

  /* Without EVENT_IDX every rx refill kicks; with it only a refill of a ring
     the device found empty does, and while bulk data flows it never is. */
  ck_assert_msg(on.kicks_rx * 8 <= off.kicks_rx, "rx kicks with EVENT_IDX %llu, without %llu",
                (unsigned long long)on.kicks_rx, (unsigned long long)off.kicks_rx);
  /* The tx kicks (CREDIT_UPDATEs to a device that drained its ring) stay. */
  ck_assert_uint_le(on.kicks_tx, off.kicks_tx);
}
END_TEST

START_TEST(test_event_idx_kicks_g2h)
{
  const uint64_t bytes = 8ull << 20;
  struct xfer on = transfer(1, 0, bytes), off = transfer(0, 0, bytes);

  /* The in-process device drains the tx ring at every poll, so the driver's
     tx kicks stay (EVENT_IDX must never add any); the rx refills after the
     host's control packets no longer kick. */
  ck_assert_uint_le(on.kicks_tx, off.kicks_tx);
  ck_assert_msg(on.kicks_rx * 8 <= off.kicks_rx, "rx kicks with EVENT_IDX %llu, without %llu",
                (unsigned long long)on.kicks_rx, (unsigned long long)off.kicks_rx);
}
END_TEST

START_TEST(test_polling_driver_asks_no_notifications)
{
  const uint64_t bytes = 1ull << 20;
  struct xfer on = transfer(1, 1, bytes), off = transfer(0, 1, bytes);

  /* A driver that polls asks for no used-buffer notification in either mode:
     used_event behind the ring with EVENT_IDX, NO_INTERRUPT without. */
  ck_assert_uint_eq(on.used_notifications, 0);
  ck_assert_uint_eq(off.used_notifications, 0);
}
END_TEST

/* RW packets the driver received: count, bytes, largest. */
struct rx_sizes {
  uint64_t pkts, bytes;
  uint32_t max;
};

static void
rx_sizes_tap(void *arg, enum lwvsock_dir dir, const uint8_t *hdr, const void *payload, uint32_t len,
             const void *payload2, uint32_t len2)
{
  struct rx_sizes *z = (struct rx_sizes *)arg;
  struct vsock_hdr h;

  LWIP_UNUSED_ARG(payload);
  LWIP_UNUSED_ARG(payload2);
  vsock_hdr_decode(&h, hdr, VIRTIO_VSOCK_HDR_LEN);
  if (dir == LWVSOCK_DIR_RX && h.op == VIRTIO_VSOCK_OP_RW) {
    z->pkts++;
    z->bytes += (uint64_t)len + len2;
    z->max = LWIP_MAX(z->max, len + len2);
  }
}

START_TEST(test_rx_buffers_filled_whole)
{
  const uint64_t bytes = 4ull << 20;
  static uint8_t buf[CHUNK];
  struct rx_sizes z = {0};
  struct app a = {0};
  struct fx f;
  uint64_t moved = 0;
  int h, turns;

  fx_open(&f, NULL);
  lwvsock_dev_set_tap(f.dev, rx_sizes_tap, &z);
  a.check_pattern = 1;
  h = fx_guest_connect(&f, &a, LWVSOCK_STREAM, 6001);
  for (turns = 0; turns < 10000 && a.total < bytes; turns++) {
    if (moved < bytes && lwvsock_sim_tx_pending(f.sim, h) < CHUNK) {
      pattern_fill(buf, moved, CHUNK);
      ck_assert_int_eq(lwvsock_sim_send(f.sim, h, buf, CHUNK), (long)CHUNK);
      moved += CHUNK;
    }
    lwvsock_dev_poll(f.dev, 0);
    /* the device never holds more than LWVSOCK_RX_BUFS of our buffers */
    ck_assert_uint_le(f.dev->rxq.in_flight, LWVSOCK_RX_BUFS);
  }
  ck_assert_uint_eq(a.verified, bytes);
  /* The host has 64 KiB packets to give: each fills a buffer to the brim. */
  ck_assert_uint_eq(z.max, LWVSOCK_RX_BUF_SIZE);
  ck_assert_uint_eq(z.bytes, bytes);
  ck_assert_uint_le(z.pkts, bytes / LWVSOCK_RX_BUF_SIZE + 64);
  lwvsock_dev_set_tap(f.dev, NULL, NULL);
  fx_end_pair(&f, a.pcb, h);
  fx_close(&f);
}
END_TEST

Suite *
lwvsock_test_suite(void)
{
  testfunc tests[] = {
    TESTFUNC(test_event_idx_negotiated),
    TESTFUNC(test_event_idx_drops_kicks_h2g),
    TESTFUNC(test_event_idx_kicks_g2h),
    TESTFUNC(test_polling_driver_asks_no_notifications),
    TESTFUNC(test_rx_buffers_filled_whole),
  };
  return create_suite("NOTIFY", tests, LWIP_ARRAYSIZE(tests), notify_setup, notify_teardown);
}
