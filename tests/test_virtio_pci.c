/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Unit tests of the virtio-pci modern transport (src/virtio_pci.c) over the
 * fake PCI bus (fakepci.c): bring-up, real traffic to the simulated host
 * through the transport's registers and DMA memory, memory carved in
 * segments, and a hostile device (capabilities, queue sizes, features,
 * config generation, DEVICE_NEEDS_RESET, a device that vanishes).
 */
#include "lwvsock_check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fakepci.h"
#include "proto_fixture.h"
#include "lwvsock/port/virtio_pci.h"
#include "lwvsock/lwvsock.h"
#include "lwvsock_priv.h"
#include "virtio_defs.h"

#define PORT 5000u

static char err[256];
static struct fakepci *fp;
static struct lwvsock_dev *dev;
static unsigned closed_before;

static void
setup(void)
{
  lwvsock_test_clock_set(1000);
  memset(err, 0, sizeof(err));
  dev = NULL;
  closed_before = fakepci_closed;
  fp = fakepci_new(NULL);
  ck_assert_ptr_nonnull(fp);
}

static void
teardown(void)
{
  if (dev != NULL) {
    lwvsock_dev_close(dev);
  }
  dev = NULL;
  lwvsock_check_ensure_no_alloc(0);
}

static void
put32(uint32_t off, uint32_t v)
{
  lwvsock_bus_le_put(fp->cfg + off, v, 4);
}

/** Open the transport and a device on it; returns the transport's result (err holds why). */
static int
open_all(void)
{
  struct lwvsock_backend *be;
  int r = lwvsock_virtio_pci_open(&fp->bus, &be, err, sizeof(err));

  if (r != 0) {
    fp = NULL; /* the transport closed (freed) it */
    return r;
  }
  if (lwvsock_dev_open(be, &dev) != ERR_OK) {
    snprintf(err, sizeof(err), "%s", dev ? lwvsock_dev_error(dev) : "dev_open failed");
    return -EIO;
  }
  return 0;
}

/** The transport must refuse with a sentence containing @p why and have closed the bus. */
static void
expect_refused(int want, const char *why)
{
  int r = open_all();

  ck_assert_int_eq(r, want);
  ck_assert_msg(strstr(err, why) != NULL, "error '%s' lacks '%s'", err, why);
  ck_assert_uint_eq(fakepci_closed, closed_before + 1);
}

/** The device must refuse to open with an error containing @p why. */
static void
expect_dev_refused(const char *why)
{
  ck_assert_int_eq(open_all(), -EIO);
  ck_assert_msg(strstr(err, why) != NULL, "error '%s' lacks '%s'", err, why);
}

static void
run(int n)
{
  while (n-- > 0) {
    fakepci_poll(fp);
    lwvsock_dev_poll(dev, 0);
    lwvsock_test_clock_advance(1);
  }
}

/** Connect a guest pcb to a host listener; returns the host socket. */
static int
connect_pair(struct app *a)
{
  struct lwvsock_pcb *pcb = lwvsock_new(dev, LWVSOCK_STREAM);
  int l = lwvsock_sim_listen(fp->sim, PORT, LWVSOCK_STREAM);
  int h = -1, i;

  ck_assert_ptr_nonnull(pcb);
  ck_assert_int_ge(l, 0);
  memset(a, 0, sizeof(*a));
  a->check_pattern = 1;
  app_attach(a, pcb);
  ck_assert_int_eq(lwvsock_connect(pcb, LWVSOCK_CID_HOST, PORT, app_connected), ERR_OK);
  for (i = 0; i < 200 && (h < 0 || !a->connected); i++) {
    run(1);
    if (h < 0) {
      h = lwvsock_sim_accept(fp->sim, l);
    }
  }
  ck_assert_int_ge(h, 0);
  ck_assert(a->connected);
  lwvsock_sim_close(fp->sim, l);
  return h;
}

/** Move @p len bytes each way through the transport and check them. */
static void
exchange(uint32_t len)
{
  struct app a;
  int h = connect_pair(&a);
  uint8_t *buf = (uint8_t *)malloc(len), *rx = (uint8_t *)malloc(len);
  size_t got = 0, sent = 0;
  uint32_t wrote = 0;
  ssize_t n;
  int i;

  ck_assert_ptr_nonnull(buf);
  ck_assert_ptr_nonnull(rx);
  pattern_fill(buf, 0, len);
  for (i = 0; i < 20000 && (a.total < len || got < len); i++) {
    if (sent < len && (n = lwvsock_sim_send(fp->sim, h, buf + sent, len - sent)) > 0) {
      sent += (size_t)n;
    }
    if (wrote < len && lwvsock_sndbuf(a.pcb) > 0) {
      uint32_t chunk = LWIP_MIN(len - wrote, lwvsock_sndbuf(a.pcb));
      if (lwvsock_write(a.pcb, buf + wrote, chunk, 0) == ERR_OK) {
        wrote += chunk;
        lwvsock_output(a.pcb);
      }
    }
    run(1);
    while ((n = lwvsock_sim_recv(fp->sim, h, rx, len)) > 0) {
      size_t k;
      for (k = 0; k < (size_t)n; k++) {
        ck_assert_uint_eq(rx[k], pattern_byte(got + k));
      }
      got += (size_t)n;
    }
  }
  ck_assert_uint_eq(a.total, len);
  ck_assert_uint_eq(a.verified, len);
  ck_assert(!a.mismatch);
  ck_assert_uint_eq(got, len);
  free(buf);
  free(rx);
  lwvsock_close(a.pcb);
  lwvsock_sim_close(fp->sim, h);
  run(50);
}

START_TEST(test_bringup_traffic_close)
{
  struct lwvsock_dev_stats st;

  ck_assert_int_eq(open_all(), 0);
  ck_assert_uint_eq(fp->status, 0x0f); /* ACKNOWLEDGE | DRIVER | FEATURES_OK | DRIVER_OK */
  ck_assert(fp->negotiated & VIRTIO_BIT(VIRTIO_F_VERSION_1));
  ck_assert(!(fp->negotiated & VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM)));
  ck_assert_uint_eq(fp->cfg[0x04] & 0x6, 0x6); /* memory space + bus mastering */
  ck_assert_uint_eq(fp->q[0].enable + fp->q[1].enable + fp->q[2].enable, 3);
  ck_assert_uint_eq(lwvsock_dev_cid(dev), 3);
  /* no interrupt fd on this bus: an idle caller polls at the interval */
  ck_assert_uint_le(lwvsock_dev_next_timeout(dev), LWVSOCK_PCI_IDLE_POLL_MS);
  ck_assert_uint_eq(fp->isr_reads + fp->irq_acks, 0);
  exchange(131072);
  ck_assert_uint_gt(fp->notifies[0], 0);
  ck_assert_uint_gt(fp->notifies[1], 0);
  /* the device stats count every doorbell write, and no system call */
  lwvsock_dev_get_stats(dev, &st);
  ck_assert_uint_eq(st.kicks, fp->notifies[0] + fp->notifies[1] + fp->notifies[2]);
  ck_assert_uint_eq(st.syscalls, 0);
  ck_assert_uint_eq(fp->bad_access, 0);
  ck_assert_uint_eq(fp->dma_allocs, 1); /* no segment limit: one piece */
  lwvsock_dev_close(dev);
  dev = NULL;
  ck_assert_uint_eq(fakepci_closed, closed_before + 1);
}
END_TEST

START_TEST(test_segments)
{
  fp->bus.seg_max = 1u << 20;
  ck_assert_int_eq(open_all(), 0);
  /* ~6 MiB of rings and buffers in 1 MiB pieces; the sim rejects any
   * descriptor that crosses one of its regions */
  ck_assert_uint_ge(fp->dma_allocs, 6);
  ck_assert_uint_eq(fp->dma_live, fp->dma_allocs);
  exchange(131072);
  ck_assert_uint_eq(fp->bad_access, 0);
}
END_TEST

START_TEST(test_segment_too_small)
{
  fp->bus.seg_max = 32768; /* less than one 64 KiB tx slot */
  expect_dev_refused("smaller than one buffer");
  ck_assert_uint_eq(fp->bad_access, 0);
}
END_TEST

START_TEST(test_segments_too_many)
{
  fp->bus.seg_max = 65536; /* one 64 KiB tx slot per segment: far more than allowed */
  expect_dev_refused("LWVSOCK_MEM_SEGS_MAX");
  ck_assert_uint_eq(fp->dma_allocs, LWVSOCK_MEM_SEGS_MAX);
}
END_TEST

START_TEST(test_wait_fd)
{
  int fd;

  fp->wait_fd = 42; /* never read: the caller would sleep on it */
  ck_assert_int_eq(open_all(), 0);
  run(5);
  /* idle with an interrupt fd: sleep until the next timer, not the poll interval */
  ck_assert_uint_gt(lwvsock_dev_next_timeout(dev), LWVSOCK_PCI_IDLE_POLL_MS);
  ck_assert_int_eq(lwvsock_dev_wait_fds(dev, &fd, 1), 1);
  ck_assert_int_eq(fd, 42);
  /* every poll lowers INTx (ISR read) before the bus re-arms it */
  ck_assert_uint_gt(fp->irq_acks, 0);
  ck_assert_uint_eq(fp->isr_reads, fp->irq_acks);
  exchange(10000);
}
END_TEST

START_TEST(test_access_platform)
{
  fp->feat_add = VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM);
  ck_assert_int_eq(open_all(), 0);
  ck_assert(fp->negotiated & VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM));
  exchange(10000);
}
END_TEST

START_TEST(test_config_generation)
{
  fp->gen_flips = 3; /* changes under the first CID reads: retried */
  ck_assert_int_eq(open_all(), 0);
  ck_assert_uint_eq(lwvsock_dev_cid(dev), 3);
}
END_TEST

START_TEST(test_config_generation_unstable)
{
  fp->gen_flips = 100000;
  expect_dev_refused("config space");
}
END_TEST

START_TEST(test_no_version_1)
{
  fp->feat_drop = VIRTIO_BIT(VIRTIO_F_VERSION_1);
  expect_dev_refused("VIRTIO_F_VERSION_1");
}
END_TEST

START_TEST(test_features_ok_not_sticking)
{
  fp->refuse_features_ok = true;
  expect_dev_refused("refused features");
}
END_TEST

START_TEST(test_reset_never_completes)
{
  fp->never_reset = true;
  fp->status = 1;
  expect_refused(-EIO, "does not complete a reset");
}
END_TEST

START_TEST(test_not_vsock)
{
  fp->cfg[0x02] = 0x41; /* 1af4:1041, a network card */
  expect_refused(-ENODEV, "not a modern virtio-vsock device");
}
END_TEST

START_TEST(test_vanished_at_open)
{
  fp->vanished = true;
  expect_refused(-ENODEV, "ffff:ffff");
}
END_TEST

/** Table-driven tests: case @p i > 0 gets a fresh fake (the last one was closed). */
static void
next_case(size_t i)
{
  if (i > 0) {
    closed_before = fakepci_closed;
    fp = fakepci_new(NULL);
    ck_assert_ptr_nonnull(fp);
  }
}

/* Hostile capability lists: each must be refused with the reason. */
START_TEST(test_caps_hostile)
{
  static const struct {
    const char *why;
    int cap, field, value; /* cfg byte (field < 0: 32-bit at -field) */
    int want;
  } cases[] = {
    { "lies outside BAR", FAKEPCI_CAP_COMMON, -12, 0x4001, -EPROTO },            /* length past the BAR */
    { "lies outside BAR", FAKEPCI_CAP_DEVICE, -8, 0x3ffc, -EPROTO },             /* offset + 8 past the BAR */
    { "lies outside BAR", FAKEPCI_CAP_NOTIFY, -8, (int)0xfffff000, -EPROTO },    /* offset wraps 32 bits */
    { "loops", FAKEPCI_CAP_DEVICE, 1, FAKEPCI_CAP_NOTIFY, -EPROTO },
    { "loops", FAKEPCI_CAP_COMMON, 1, FAKEPCI_CAP_COMMON, -EPROTO },
    { "outside the capability area", FAKEPCI_CAP_ISR, 1, 0x10, -EPROTO },
    { "outside the capability area", FAKEPCI_CAP_ISR, 1, 0xfc, -EPROTO },
    { "bad length", FAKEPCI_CAP_ISR, 2, 8, -EPROTO },
    { "bad length", FAKEPCI_CAP_DEVICE, 2, 0xff, -EPROTO },
    { "no virtio common", FAKEPCI_CAP_COMMON, 4, 6, -EPROTO },                   /* reserved BAR: skipped */
    { "no virtio device", FAKEPCI_CAP_DEVICE, 3, 9, -EPROTO },                   /* unknown type: skipped */
    { "cannot map BAR 2", FAKEPCI_CAP_ISR, 4, 2, -ENOENT },
    { "too short for its multiplier", FAKEPCI_CAP_NOTIFY, 2, 16, -EPROTO },
    { "is odd", FAKEPCI_CAP_NOTIFY, -16, 3, -EPROTO },
    { "less than the 56", FAKEPCI_CAP_COMMON, -12, 0x20, -EPROTO },
    { "less than the 8", FAKEPCI_CAP_DEVICE, -12, 4, -EPROTO },
    { "no capability list", 0, 6, 0, -EPROTO },
  };
  size_t i;

  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    next_case(i);
    if (cases[i].field < 0) {
      put32((uint32_t)(cases[i].cap - cases[i].field), (uint32_t)cases[i].value);
    } else {
      fp->cfg[cases[i].cap + cases[i].field] = (uint8_t)cases[i].value;
    }
    expect_refused(cases[i].want, cases[i].why);
  }
}
END_TEST

START_TEST(test_queues_hostile)
{
  static const struct {
    uint16_t num_queues, qsize;
    const char *why;
  } cases[] = {
    { 2, 64, "has 2 queues" },
    { 3, 0, "size 0" },
    { 3, 100, "size 100" },
    { 3, 0xffff, "size 65535" },
  };
  size_t i;

  for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    next_case(i);
    fp->num_queues = cases[i].num_queues;
    fp->qmax[1] = cases[i].qsize;
    expect_refused(-EPROTO, cases[i].why);
  }
}
END_TEST

START_TEST(test_queue_size_largest)
{
  fp->qmax[0] = fp->qmax[1] = fp->qmax[2] = 32768; /* legal: the driver takes what it wants */
  ck_assert_int_eq(open_all(), 0);
  ck_assert_uint_eq(fp->q[0].size, LWVSOCK_QUEUE_SIZE);
  exchange(10000);
}
END_TEST

START_TEST(test_notify_multiplier_hostile)
{
  put32(FAKEPCI_CAP_NOTIFY + 16, 0x7ffffffe); /* queue 1's doorbell far outside the window */
  expect_dev_refused("refused the queue setup");
  ck_assert_uint_eq(fp->bad_access, 0);
}
END_TEST

START_TEST(test_notify_multiplier_zero)
{
  put32(FAKEPCI_CAP_NOTIFY + 16, 0); /* legal: one doorbell for every queue */
  ck_assert_int_eq(open_all(), 0);
  exchange(10000);
  ck_assert_uint_eq(fp->bad_access, 0);
}
END_TEST

/** A connection that must end with ERR_IF when the device breaks mid-run. */
static void
break_midrun(bool vanish, const char *why)
{
  struct app a;
  int h;

  ck_assert_int_eq(open_all(), 0);
  h = connect_pair(&a);
  if (vanish) {
    fp->vanished = true;
  } else {
    fp->status |= 0x40; /* DEVICE_NEEDS_RESET */
  }
  run(20);
  ck_assert(a.err_called);
  ck_assert_int_eq(a.err, ERR_IF);
  ck_assert_int_eq(lwvsock_dev_status(dev), ERR_IF);
  ck_assert_msg(strstr(lwvsock_dev_error(dev), why) != NULL, "error '%s'", lwvsock_dev_error(dev));
  /* a new connection fails at once, it does not wait for the device */
  a.pcb = lwvsock_new(dev, LWVSOCK_STREAM);
  if (a.pcb != NULL) {
    ck_assert_int_eq(lwvsock_connect(a.pcb, LWVSOCK_CID_HOST, PORT, app_connected), ERR_IF);
    lwvsock_abort(a.pcb);
  }
  lwvsock_sim_close(fp->sim, h);
}

START_TEST(test_needs_reset_midrun)
{
  break_midrun(false, "needs a reset");
}
END_TEST

START_TEST(test_vanish_midrun)
{
  break_midrun(true, "gone");
}
END_TEST

Suite *
lwvsock_test_suite(void)
{
  testfunc tests[] = {
    TESTFUNC(test_bringup_traffic_close),
    TESTFUNC(test_segments),
    TESTFUNC(test_segment_too_small),
    TESTFUNC(test_segments_too_many),
    TESTFUNC(test_wait_fd),
    TESTFUNC(test_access_platform),
    TESTFUNC(test_config_generation),
    TESTFUNC(test_config_generation_unstable),
    TESTFUNC(test_no_version_1),
    TESTFUNC(test_features_ok_not_sticking),
    TESTFUNC(test_reset_never_completes),
    TESTFUNC(test_not_vsock),
    TESTFUNC(test_vanished_at_open),
    TESTFUNC(test_caps_hostile),
    TESTFUNC(test_queues_hostile),
    TESTFUNC(test_queue_size_largest),
    TESTFUNC(test_notify_multiplier_hostile),
    TESTFUNC(test_notify_multiplier_zero),
    TESTFUNC(test_needs_reset_midrun),
    TESTFUNC(test_vanish_midrun),
  };
  /* Each test brings up a device with ~6 MiB of memory and moves data: a
   * fraction of a second, but many seconds on a loaded CI machine (libcheck's
   * default is 4 s). An explicit CK_DEFAULT_TIMEOUT still wins. */
  setenv("CK_DEFAULT_TIMEOUT", "60", 0);
  return create_suite("virtio_pci", tests, sizeof(tests) / sizeof(tests[0]), setup, teardown);
}
