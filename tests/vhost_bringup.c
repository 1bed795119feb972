/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * vhost_bringup: checks of the vhost-vsock backend on its own (no protocol
 * core), built as tests/interop/vhost_bringup and run inside the test VM by
 * tests/interop/cases.sh. It drives the backend ops and two split virtqueues
 * (src/virtq.c) by hand and talks raw virtio-vsock packets to the kernel.
 *
 * It opens /dev/vhost-vsock, so it runs only where the backend's interlock
 * allows it (LWVSOCK_ALLOW_VHOST_VSOCK=1, which tests/interop/guard.sh sets
 * inside the VM and nowhere else).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lwvsock/lwvsock.h"
#include "lwvsock/vhost_vsock.h"
#include "virtq.h"
#include "vsock_hdr.h"

#define QSIZE   64u
#define BUFSZ   4096u
#define WAIT_MS 3000

static const char *prog = "vhost_bringup";
static const char *check_name = "";

/** A backend with two queues and their buffers, driven by hand. */
struct rig {
  struct lwvsock_backend *be;
  struct lwvsock_mem mem;
  struct virtq rx, tx;
  uint8_t *rxbufs, *txbufs;
  unsigned txnext;
  uint32_t cid;
};

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The backend's reports (lwvsock_backend_set_log()), next to the checks' own. */
static void
backend_log(void *arg, const char *who, const char *msg)
{
  (void)arg;
  fprintf(stderr, "%s %s: lwvsock %s: %s\n", prog, check_name, who, msg);
}

static int
fail(const char *fmt, ...)
{
  va_list ap;
  fprintf(stderr, "%s %s: ", prog, check_name);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  return 1;
}

static uint64_t
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
nap(void)
{
  struct timespec ts = { 0, 200000 };
  nanosleep(&ts, NULL);
}

static int
rig_post_rx(struct rig *r, uint8_t *buf)
{
  struct virtq_buf in = { r->mem.dma + (uint64_t)(buf - (uint8_t *)r->mem.va), BUFSZ };
  return virtq_add(&r->rx, NULL, 0, &in, 1, buf);
}

static void
rig_down(struct rig *r)
{
  if (r->be == NULL) {
    return;
  }
  r->be->ops->reset(r->be);
  virtq_fini(&r->rx);
  virtq_fini(&r->tx);
  if (r->mem.va != NULL) {
    r->be->ops->mem_free(r->be, &r->mem);
  }
  r->be->ops->destroy(r->be);
  r->be = NULL;
}

/** Open the backend as @p cid, lay out and start both queues with rx buffers posted. */
static int
rig_setup(struct rig *r, uint32_t cid)
{
  const struct lwvsock_backend_ops *ops;
  size_t ring = (virtq_ring_size(QSIZE) + 4095u) & ~(size_t)4095u;
  uint64_t feat;
  char err[512];
  uint8_t *base;
  unsigned i;
  int rc;

  memset(r, 0, sizeof(*r));
  r->cid = cid;
  rc = lwvsock_vhost_vsock_open(cid, &r->be, err, sizeof(err));
  if (rc != 0) {
    return fail("open cid %" PRIu32 ": %s", cid, err);
  }
  lwvsock_backend_set_log(r->be, backend_log, NULL);
  ops = r->be->ops;
  if (ops->get_features(r->be, &feat) != 0 || ops->set_features(r->be, VIRTIO_BIT(VIRTIO_F_VERSION_1)) != 0) {
    return fail("feature negotiation failed");
  }
  if (ops->mem_alloc(r->be, 2 * ring + 2u * QSIZE * BUFSZ, &r->mem) != 0) {
    return fail("mem_alloc failed");
  }
  base = (uint8_t *)r->mem.va;
  r->rxbufs = base + 2 * ring;
  r->txbufs = r->rxbufs + QSIZE * BUFSZ;
  if (virtq_init(&r->rx, VIRTIO_VSOCK_QUEUE_RX, QSIZE, base, r->mem.dma, false) != 0 ||
      virtq_init(&r->tx, VIRTIO_VSOCK_QUEUE_TX, QSIZE, base + ring, r->mem.dma + ring, false) != 0) {
    return fail("virtq_init failed");
  }
  if (ops->setup_queue(r->be, &r->rx.info) != 0 || ops->setup_queue(r->be, &r->tx.info) != 0) {
    return fail("setup_queue failed");
  }
  for (i = 0; i < QSIZE; i++) {
    if (rig_post_rx(r, r->rxbufs + (size_t)i * BUFSZ) != 0) {
      return fail("posting rx buffer %u failed", i);
    }
  }
  if (ops->start(r->be) != 0) {
    return fail("start failed");
  }
  ops->notify(r->be, VIRTIO_VSOCK_QUEUE_RX);
  return 0;
}

static int
rig_up(struct rig *r, uint32_t cid)
{
  if (rig_setup(r, cid) != 0) {
    rig_down(r);
    return 1;
  }
  return 0;
}

/** Send one packet: header @p h (len is set) and @p len payload bytes. */
static int
rig_send(struct rig *r, struct vsock_hdr *h, const void *payload, uint32_t len)
{
  uint8_t *buf;
  struct virtq_buf out;
  uint32_t n;

  /* reclaim sent buffers; they are reused round-robin, and QSIZE of them
   * always cover the descriptors the queue has free */
  while (virtq_get_used(&r->tx, &n) != NULL) {
  }
  if (r->tx.num_free == 0 || len > BUFSZ - VIRTIO_VSOCK_HDR_LEN) {
    return fail("tx queue full or payload too big");
  }
  buf = r->txbufs + (size_t)(r->txnext++ % QSIZE) * BUFSZ;
  h->len = len;
  vsock_hdr_encode(h, buf, VIRTIO_VSOCK_HDR_LEN);
  if (len > 0) {
    memcpy(buf + VIRTIO_VSOCK_HDR_LEN, payload, len);
  }
  out.addr = r->mem.dma + (uint64_t)(buf - (uint8_t *)r->mem.va);
  out.len = VIRTIO_VSOCK_HDR_LEN + len;
  if (virtq_add(&r->tx, &out, 1, NULL, 0, buf) != 0) {
    return fail("virtq_add on tx failed");
  }
  if (virtq_kick_prepare(&r->tx)) {
    r->be->ops->notify(r->be, VIRTIO_VSOCK_QUEUE_TX);
  }
  return 0;
}

/**
 * Wait up to @p ms for a packet; copy its header to @p h and up to @p cap
 * payload bytes to @p payload. 0, or 1 after a failure message.
 */
static int
rig_recv(struct rig *r, struct vsock_hdr *h, void *payload, uint32_t cap, unsigned ms)
{
  uint64_t end = now_ms() + ms;
  uint8_t *buf;
  uint32_t len;
  int rc;

  for (;;) {
    if ((rc = r->be->ops->check(r->be)) != 0) {
      return fail("the device reported an error (%d)", rc);
    }
    if (virtq_is_broken(&r->rx)) {
      return fail("rx queue broken: %s", r->rx.broken_reason);
    }
    buf = (uint8_t *)virtq_get_used(&r->rx, &len);
    if (buf != NULL) {
      break;
    }
    if (now_ms() > end) {
      return fail("no packet from the kernel within %u ms", ms);
    }
    nap();
  }
  if (len < VIRTIO_VSOCK_HDR_LEN || vsock_hdr_decode(h, buf, len) == 0 || h->len > len - VIRTIO_VSOCK_HDR_LEN) {
    return fail("malformed packet of %" PRIu32 " bytes", len);
  }
  if (payload != NULL) {
    memcpy(payload, buf + VIRTIO_VSOCK_HDR_LEN, h->len < cap ? h->len : cap);
  }
  rig_post_rx(r, buf);
  if (virtq_kick_prepare(&r->rx)) {
    r->be->ops->notify(r->be, VIRTIO_VSOCK_QUEUE_RX);
  }
  return 0;
}

static void
hdr_to_host(struct vsock_hdr *h, const struct rig *r, uint32_t lport, uint32_t port, uint16_t op)
{
  memset(h, 0, sizeof(*h));
  h->src_cid = r->cid;
  h->dst_cid = VMADDR_CID_HOST;
  h->src_port = lport;
  h->dst_port = port;
  h->type = VIRTIO_VSOCK_TYPE_STREAM;
  h->op = op;
  h->buf_alloc = 64 * 1024;
}

/* ---- checks ------------------------------------------------------------------ */

/* Features, config space and queue sizes as the driver sees them; clean teardown. */
static int
check_open_close(uint32_t cid, uint32_t port)
{
  struct rig r;
  uint64_t feat;
  uint8_t cfg[8];
  int round;

  (void)port;
  for (round = 0; round < 2; round++) { /* the second round proves the CID was released */
    if (rig_up(&r, cid) != 0) {
      return 1;
    }
    r.be->ops->get_features(r.be, &feat);
    if (!(feat & VIRTIO_BIT(VIRTIO_F_VERSION_1)) || (feat & VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM))) {
      return fail("offered features 0x%" PRIx64 ": want VERSION_1 and never ACCESS_PLATFORM", feat);
    }
    if (r.be->ops->read_config(r.be, VIRTIO_VSOCK_CFG_GUEST_CID, cfg, 8) != 0 || le64_load(cfg) != cid) {
      return fail("config space does not hold guest CID %" PRIu32, cid);
    }
    if (r.be->ops->read_config(r.be, 4, cfg, 8) == 0) {
      return fail("read_config beyond the 8-byte config space succeeded");
    }
    if (r.be->ops->max_queue_size(r.be, VIRTIO_VSOCK_QUEUE_EVENT) != 0 ||
        r.be->ops->max_queue_size(r.be, VIRTIO_VSOCK_QUEUE_RX) < QSIZE) {
      return fail("queue sizes: want an rx queue and no event queue");
    }
    if (r.be->ops->check(r.be) != 0) {
      return fail("check reports an error on an idle device");
    }
    rig_down(&r);
  }
  return 0;
}

/* A second open of a CID in use fails with EADDRINUSE and says so. */
static int
check_cid_in_use(uint32_t cid, uint32_t port)
{
  struct lwvsock_backend *a = NULL, *b = NULL;
  char err[512], want[64];
  int rc;

  (void)port;
  if (lwvsock_vhost_vsock_open(cid, &a, err, sizeof(err)) != 0) {
    return fail("first open: %s", err);
  }
  rc = lwvsock_vhost_vsock_open(cid, &b, err, sizeof(err));
  a->ops->destroy(a);
  if (rc != -EADDRINUSE || b != NULL) {
    if (b != NULL) {
      b->ops->destroy(b);
    }
    return fail("second open of CID %" PRIu32 ": rc %d, want -EADDRINUSE", cid, rc);
  }
  snprintf(want, sizeof(want), "CID %" PRIu32 " is already in use", cid);
  if (strstr(err, want) == NULL || strstr(err, "cid=") == NULL) {
    return fail("error does not name the CID and the fix: '%s'", err);
  }
  return 0;
}

/* Reserved CIDs and a missing interlock are refused before the device is touched. */
static int
check_refusals(uint32_t cid, uint32_t port)
{
  static const uint32_t reserved[] = { 0, 1, 2, 0xffffffffu };
  struct lwvsock_backend *be = NULL;
  char err[512];
  size_t i;
  int rc;

  (void)port;
  for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
    if (lwvsock_vhost_vsock_open(reserved[i], &be, err, sizeof(err)) != -EINVAL || be != NULL) {
      return fail("reserved CID %" PRIu32 " was not refused", reserved[i]);
    }
  }
  unsetenv(LWVSOCK_VHOST_VSOCK_ALLOW_ENV);
  rc = lwvsock_vhost_vsock_open(cid, &be, err, sizeof(err));
  setenv(LWVSOCK_VHOST_VSOCK_ALLOW_ENV, "1", 1);
  if (rc != -EPERM || strstr(err, LWVSOCK_VHOST_VSOCK_ALLOW_ENV "=1") == NULL) {
    return fail("open without the interlock: rc %d, err '%s'", rc, err);
  }
  return 0;
}

/* Misuse of the ops: start before the queues, queue 2, rings outside our memory, a forked caller. */
static int
check_misuse(uint32_t cid, uint32_t port)
{
  struct lwvsock_backend *be = NULL;
  struct lwvsock_vring_info vr;
  static uint8_t outside[8192] __attribute__((aligned(4096)));
  char err[512];
  pid_t child;
  int status;

  (void)port;
  if (lwvsock_vhost_vsock_open(cid, &be, err, sizeof(err)) != 0) {
    return fail("open: %s", err);
  }
  if (be->ops->start(be) != -EINVAL) {
    be->ops->destroy(be);
    return fail("start before setup_queue did not fail with -EINVAL");
  }
  memset(&vr, 0, sizeof(vr));
  vr.index = VIRTIO_VSOCK_QUEUE_EVENT;
  vr.num = 8;
  if (be->ops->setup_queue(be, &vr) != -EINVAL) {
    be->ops->destroy(be);
    return fail("setup_queue of the event queue did not fail");
  }
  vr.index = VIRTIO_VSOCK_QUEUE_RX;
  vr.desc = outside;
  vr.avail = outside + 4096;
  vr.used = outside + 6144;
  vr.desc_dma = (uint64_t)(uintptr_t)vr.desc;
  vr.avail_dma = (uint64_t)(uintptr_t)vr.avail;
  vr.used_dma = (uint64_t)(uintptr_t)vr.used;
  if (be->ops->setup_queue(be, &vr) != -EINVAL) {
    be->ops->destroy(be);
    return fail("setup_queue with rings outside mem_alloc memory did not fail");
  }
  child = fork();
  if (child == 0) {
    /* vhost serves only its owner: the backend must refuse, not ioctl */
    _exit(be->ops->set_features(be, VIRTIO_BIT(VIRTIO_F_VERSION_1)) == -EPERM ? 0 : 1);
  }
  be->ops->destroy(be);
  if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return fail("a forked child's set_features was not refused with -EPERM");
  }
  return 0;
}

/* REQUEST to a host port nobody listens on: the kernel answers RST at once. */
static int
check_rst_unbound(uint32_t cid, uint32_t port)
{
  struct rig r;
  struct vsock_hdr h;
  uint32_t lport = 40000u + (uint32_t)(getpid() % 20000);
  int rc;

  if (rig_up(&r, cid) != 0) {
    return 1;
  }
  hdr_to_host(&h, &r, lport, port, VIRTIO_VSOCK_OP_REQUEST);
  rc = rig_send(&r, &h, NULL, 0) || rig_recv(&r, &h, NULL, 0, WAIT_MS);
  if (rc == 0 && (h.op != VIRTIO_VSOCK_OP_RST || h.src_cid != VMADDR_CID_HOST || h.src_port != port ||
                  h.dst_cid != cid || h.dst_port != lport)) {
    rc = fail("got %s %" PRIu64 ":%" PRIu32 " -> %" PRIu64 ":%" PRIu32 ", want RST from 2:%" PRIu32,
              vsock_op_name(h.op), h.src_cid, h.src_port, h.dst_cid, h.dst_port, port);
  }
  rig_down(&r);
  return rc;
}

/* Through a host echo listener (socat VSOCK-LISTEN:port EXEC:cat): REQUEST, RW, echo, RST. */
static int
check_echo(uint32_t cid, uint32_t port)
{
  static const char msg[] = "hello from the vhost-vsock backend";
  struct rig r;
  struct vsock_hdr h;
  char got[sizeof(msg)];
  uint32_t lport = 40000u + (uint32_t)(getpid() % 20000), have = 0;
  uint64_t end;
  int rc;

  if (rig_up(&r, cid) != 0) {
    return 1;
  }
  hdr_to_host(&h, &r, lport, port, VIRTIO_VSOCK_OP_REQUEST);
  rc = rig_send(&r, &h, NULL, 0) || rig_recv(&r, &h, NULL, 0, WAIT_MS);
  if (rc == 0 && h.op != VIRTIO_VSOCK_OP_RESPONSE) {
    rc = fail("REQUEST answered with %s, want RESPONSE (is the listener on port %" PRIu32 " up?)",
              vsock_op_name(h.op), port);
  }
  if (rc == 0) {
    hdr_to_host(&h, &r, lport, port, VIRTIO_VSOCK_OP_RW);
    rc = rig_send(&r, &h, msg, sizeof(msg) - 1);
  }
  end = now_ms() + WAIT_MS;
  while (rc == 0 && have < sizeof(msg) - 1) {
    /* the host may send CREDIT_UPDATEs between the echoed bytes */
    rc = rig_recv(&r, &h, got + have, (uint32_t)(sizeof(got) - 1 - have), WAIT_MS);
    if (rc == 0 && h.op == VIRTIO_VSOCK_OP_RW) {
      have += h.len;
    } else if (rc == 0 && h.op != VIRTIO_VSOCK_OP_CREDIT_UPDATE) {
      rc = fail("got %s while waiting for the echo", vsock_op_name(h.op));
    }
    if (rc == 0 && now_ms() > end) {
      rc = fail("echo incomplete after %u ms (%" PRIu32 " bytes)", WAIT_MS, have);
    }
  }
  if (rc == 0 && (have != sizeof(msg) - 1 || memcmp(got, msg, have) != 0)) {
    rc = fail("echo differs: got %" PRIu32 " bytes", have);
  }
  if (rc == 0) {
    hdr_to_host(&h, &r, lport, port, VIRTIO_VSOCK_OP_RST);
    rc = rig_send(&r, &h, NULL, 0);
  }
  rig_down(&r);
  return rc;
}

/* A tx descriptor outside the memory table: vhost signals the err eventfd, check() says -EIO. */
static int
check_vring_err(uint32_t cid, uint32_t port)
{
  static uint8_t outside[4096];
  struct rig r;
  struct vsock_hdr h;
  struct virtq_buf out = { (uint64_t)(uintptr_t)outside, VIRTIO_VSOCK_HDR_LEN };
  uint64_t end;
  int rc = -1;

  if (rig_up(&r, cid) != 0) {
    return 1;
  }
  hdr_to_host(&h, &r, 40000, port, VIRTIO_VSOCK_OP_REQUEST);
  vsock_hdr_encode(&h, outside, sizeof(outside));
  if (virtq_add(&r.tx, &out, 1, NULL, 0, outside) != 0) {
    rig_down(&r);
    return fail("virtq_add failed");
  }
  r.be->ops->notify(r.be, VIRTIO_VSOCK_QUEUE_TX);
  end = now_ms() + WAIT_MS;
  while (now_ms() < end && (rc = r.be->ops->check(r.be)) == 0) {
    nap();
  }
  rig_down(&r);
  if (rc != -EIO) {
    return fail("check() returned %d, want -EIO for a descriptor outside the memory table", rc);
  }
  return 0;
}

static const struct {
  const char *name;
  int (*fn)(uint32_t cid, uint32_t port);
  const char *what;
} checks[] = {
  { "open-close", check_open_close, "features, config, queue sizes, teardown, reopen" },
  { "cid-in-use", check_cid_in_use, "second open of a CID fails with EADDRINUSE" },
  { "refusals", check_refusals, "reserved CIDs and a missing interlock are refused" },
  { "misuse", check_misuse, "ops called out of order or from a forked child fail cleanly" },
  { "rst-unbound", check_rst_unbound, "REQUEST to an unbound host port gets RST (needs no listener on PORT)" },
  { "echo", check_echo, "REQUEST/RW/echo/RST with a host echo listener on PORT" },
  { "vring-err", check_vring_err, "a descriptor outside the memory table is reported as -EIO" },
};

static void
usage(FILE *f)
{
  size_t i;
  fprintf(f, "Usage: %s CHECK [--cid N] [--port P]\n"
          "Checks of the vhost-vsock backend, for the test VM only (needs LWVSOCK_ALLOW_VHOST_VSOCK=1).\n"
          "  --cid N    guest CID to register (default 3)\n"
          "  --port P   host vsock port the check talks to (default 1234)\n"
          "CHECK is one of:\n", prog);
  for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
    fprintf(f, "  %-12s %s\n", checks[i].name, checks[i].what);
  }
}

static int
parse_u32(const char *s, uint32_t *v)
{
  char *end;
  unsigned long long x;
  errno = 0;
  x = strtoull(s, &end, 10);
  if (errno != 0 || *s == '\0' || *end != '\0' || x > 0xffffffffull) {
    return -1;
  }
  *v = (uint32_t)x;
  return 0;
}

int
main(int argc, char **argv)
{
  uint32_t cid = 3, port = 1234;
  const char *name = NULL;
  size_t i;
  int a;

  setvbuf(stderr, NULL, _IOLBF, 0);
  for (a = 1; a < argc; a++) {
    if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (strcmp(argv[a], "--cid") == 0 && a + 1 < argc) {
      if (parse_u32(argv[++a], &cid) != 0) {
        fprintf(stderr, "%s: --cid '%s' is not a number\n", prog, argv[a]);
        return 2;
      }
    } else if (strcmp(argv[a], "--port") == 0 && a + 1 < argc) {
      if (parse_u32(argv[++a], &port) != 0) {
        fprintf(stderr, "%s: --port '%s' is not a number\n", prog, argv[a]);
        return 2;
      }
    } else if (name == NULL && argv[a][0] != '-') {
      name = argv[a];
    } else {
      fprintf(stderr, "%s: unexpected argument '%s' (see --help)\n", prog, argv[a]);
      return 2;
    }
  }
  if (name == NULL) {
    usage(stderr);
    return 2;
  }
  for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
    if (strcmp(name, checks[i].name) == 0) {
      check_name = name;
      return checks[i].fn(cid, port) == 0 ? 0 : 1;
    }
  }
  fprintf(stderr, "%s: unknown check '%s' (see --help)\n", prog, name);
  return 2;
}
