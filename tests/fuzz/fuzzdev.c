/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * A scriptable virtio-vsock device for the fuzz targets.
 *
 * Unlike the sim it has no will of its own: the input says, step by step,
 * which queue to serve and how. It can complete the next available chain
 * honestly or with any id and length, write any used-ring entry and index,
 * fill rx buffers with arbitrary packets (optionally aimed at a live
 * connection), deliver arbitrary event-queue entries and change the config
 * space's CID. To let connections form it answers the guest's REQUESTs with
 * RESPONSEs when told to. Everything it reads from the rings is bounds-checked:
 * the driver under test must not be able to crash the harness.
 */
#include "fuzzdev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwvsock_priv.h"

#define FDEV_DMA_BASE 0x100000000ull
#define FDEV_REPLIES  16
#define GUEST_PORT    1234u

struct fdev_q {
  bool ready;
  struct lwvsock_vring_info vr;
  uint16_t last_avail, used_idx;
};

struct fdev {
  struct lwvsock_backend be; /* first */
  uint64_t features;
  uint8_t fail;              /* FAIL_* bits */
  uint8_t cfg[8];
  uint16_t qmax[3];
  uint8_t *mem;
  size_t mem_size;
  struct fdev_q q[3];
  uint8_t replies[FDEV_REPLIES][VIRTIO_VSOCK_HDR_LEN];
  unsigned nreplies;
  struct vsock_hdr last_req; /* the guest's last REQUEST: a tuple to aim packets at */
  bool have_req;
  bool destroyed;
};

#define FAIL_GET_FEATURES 0x01u
#define FAIL_SET_FEATURES 0x02u
#define FAIL_READ_CONFIG  0x04u
#define FAIL_MEM_ALLOC    0x08u
#define FAIL_SETUP_QUEUE  0x10u
#define FAIL_START        0x20u

static struct fdev *
fdev_of(struct lwvsock_backend *be)
{
  return (struct fdev *)(void *)be;
}

static int
fdev_get_features(struct lwvsock_backend *be, uint64_t *features)
{
  struct fdev *d = fdev_of(be);

  *features = d->features;
  return d->fail & FAIL_GET_FEATURES ? -EIO : 0;
}

static int
fdev_set_features(struct lwvsock_backend *be, uint64_t features)
{
  struct fdev *d = fdev_of(be);

  return (d->fail & FAIL_SET_FEATURES) || (features & ~d->features) ? -EINVAL : 0;
}

static int
fdev_read_config(struct lwvsock_backend *be, uint32_t offset, void *buf, uint32_t len)
{
  struct fdev *d = fdev_of(be);

  if ((d->fail & FAIL_READ_CONFIG) || offset > sizeof(d->cfg) || len > sizeof(d->cfg) - offset) {
    return -EINVAL;
  }
  memcpy(buf, d->cfg + offset, len);
  return 0;
}

static uint16_t
fdev_max_queue_size(struct lwvsock_backend *be, uint16_t index)
{
  return index < 3 ? fdev_of(be)->qmax[index] : 0;
}

static int
fdev_mem_alloc(struct lwvsock_backend *be, size_t size, struct lwvsock_mem *mem)
{
  struct fdev *d = fdev_of(be);
  size_t rounded = (size + 4095) & ~(size_t)4095;

  if ((d->fail & FAIL_MEM_ALLOC) || d->mem != NULL || size == 0 || size > ((size_t)64 << 20)) {
    return -ENOMEM;
  }
  d->mem = (uint8_t *)aligned_alloc(4096, rounded);
  if (d->mem == NULL) {
    return -ENOMEM;
  }
  memset(d->mem, 0, rounded);
  d->mem_size = rounded;
  mem->va = d->mem;
  mem->dma = FDEV_DMA_BASE;
  mem->size = size;
  return 0;
}

static void
fdev_mem_free(struct lwvsock_backend *be, struct lwvsock_mem *mem)
{
  struct fdev *d = fdev_of(be);

  if (mem->va == d->mem && d->mem != NULL) {
    memset(d->q, 0, sizeof(d->q));
    free(d->mem);
    d->mem = NULL;
    d->mem_size = 0;
  }
}

/* Device address to pointer, or NULL when [addr, addr + len) is not ours. */
static uint8_t *
fdev_xlate(struct fdev *d, uint64_t addr, uint64_t len)
{
  if (d->mem == NULL || addr < FDEV_DMA_BASE || addr - FDEV_DMA_BASE > d->mem_size ||
      len > d->mem_size - (addr - FDEV_DMA_BASE)) {
    return NULL;
  }
  return d->mem + (addr - FDEV_DMA_BASE);
}

static int
fdev_setup_queue(struct lwvsock_backend *be, const struct lwvsock_vring_info *vr)
{
  struct fdev *d = fdev_of(be);
  uint16_t n = vr->num;

  if ((d->fail & FAIL_SETUP_QUEUE) || vr->index > 2 || n == 0 || (n & (n - 1)) != 0 ||
      fdev_xlate(d, vr->desc_dma, 16ull * n) != (uint8_t *)vr->desc ||
      fdev_xlate(d, vr->avail_dma, 6ull + 2ull * n) != (uint8_t *)vr->avail ||
      fdev_xlate(d, vr->used_dma, 6ull + 8ull * n) != (uint8_t *)vr->used) {
    return -EINVAL;
  }
  memset(&d->q[vr->index], 0, sizeof(d->q[vr->index]));
  d->q[vr->index].vr = *vr;
  d->q[vr->index].ready = true;
  return 0;
}

static int
fdev_start(struct lwvsock_backend *be)
{
  return fdev_of(be)->fail & FAIL_START ? -EIO : 0;
}

static void
fdev_notify(struct lwvsock_backend *be, uint16_t index)
{
  LWIP_UNUSED_ARG(be);
  LWIP_UNUSED_ARG(index);
}

static int
fdev_reset(struct lwvsock_backend *be)
{
  memset(fdev_of(be)->q, 0, sizeof(fdev_of(be)->q));
  return 0;
}

static void
fdev_destroy(struct lwvsock_backend *be)
{
  struct fdev *d = fdev_of(be);

  free(d->mem);
  d->mem = NULL;
  d->destroyed = true;
}

static const struct lwvsock_backend_ops fdev_ops = {
  .name = "fuzzdev",
  .get_features = fdev_get_features,
  .set_features = fdev_set_features,
  .read_config = fdev_read_config,
  .max_queue_size = fdev_max_queue_size,
  .mem_alloc = fdev_mem_alloc,
  .mem_free = fdev_mem_free,
  .setup_queue = fdev_setup_queue,
  .start = fdev_start,
  .notify = fdev_notify,
  .reset = fdev_reset,
  .destroy = fdev_destroy,
};

/* ---- the device side of the rings ---------------------------------------------- */

#define FDEV_MAX_IOV 8

struct fdev_chain {
  uint16_t head;
  unsigned nout, nin;
  uint8_t *out[FDEV_MAX_IOV], *in[FDEV_MAX_IOV];
  uint32_t out_len[FDEV_MAX_IOV], in_len[FDEV_MAX_IOV];
};

/* Take the next available chain of queue @p qi; false when none (or it is unusable). */
static bool
fdev_pop(struct fdev *d, unsigned qi, struct fdev_chain *c)
{
  struct fdev_q *q = &d->q[qi];
  uint16_t num = q->vr.num, i;
  unsigned hops;
  const uint8_t *avail = (const uint8_t *)q->vr.avail;

  if (!q->ready || le16_load(avail + 2) == q->last_avail) {
    return false;
  }
  c->head = le16_load(avail + 4 + 2u * (q->last_avail & (num - 1)));
  q->last_avail++;
  c->nout = c->nin = 0;
  for (i = c->head, hops = 0; i < num && hops < num; hops++) {
    const uint8_t *desc = (const uint8_t *)q->vr.desc + 16u * i;
    uint32_t len = le32_load(desc + 8);
    uint16_t flags = le16_load(desc + 12);
    uint8_t *p = fdev_xlate(d, le64_load(desc), len);
    if (p == NULL) {
      return false;
    }
    if ((flags & VIRTQ_DESC_F_WRITE) && c->nin < FDEV_MAX_IOV) {
      c->in[c->nin] = p;
      c->in_len[c->nin++] = len;
    } else if (!(flags & VIRTQ_DESC_F_WRITE) && c->nout < FDEV_MAX_IOV) {
      c->out[c->nout] = p;
      c->out_len[c->nout++] = len;
    }
    if (!(flags & VIRTQ_DESC_F_NEXT)) {
      break;
    }
    i = le16_load(desc + 14);
  }
  return true;
}

static void
fdev_push(struct fdev *d, unsigned qi, uint32_t id, uint32_t len, uint16_t bump)
{
  struct fdev_q *q = &d->q[qi];
  uint8_t *used = (uint8_t *)q->vr.used;
  uint8_t *e;

  if (!q->ready) {
    return;
  }
  e = used + 4 + 8u * (q->used_idx & (q->vr.num - 1));
  le32_store(e, id);
  le32_store(e + 4, len);
  q->used_idx = (uint16_t)(q->used_idx + bump);
  le16_store(used + 2, q->used_idx);
}

/* Scatter @p len bytes over the chain's writable buffers; returns bytes written. */
static uint32_t
fdev_write(struct fdev_chain *c, const uint8_t *src, uint32_t len)
{
  uint32_t done = 0;
  unsigned k;

  for (k = 0; k < c->nin && done < len; k++) {
    uint32_t n = LWIP_MIN(c->in_len[k], len - done);
    memcpy(c->in[k], src + done, n);
    done += n;
  }
  return done;
}

/* ---- input records ---------------------------------------------------------------- */

/* Fix-ups of a fuzzed rx header (flag byte bits). */
#define FIX_OUR_CID  0x01u
#define FIX_HOST_CID 0x02u
#define FIX_TUPLE    0x04u /* the guest's last REQUEST's tuple, reversed */
#define FIX_LISTENER 0x08u /* our listener's port */
#define FIX_LEN      0x10u
#define FIX_TYPE     0x20u
#define FIX_REPLY    0x40u /* send a queued RESPONSE instead, when there is one */
#define FIX_BAD_USED 0x80u /* fuzzed used id and length */

static void
rec_rx(struct fdev *d, struct fuzz_in *in)
{
  static uint8_t pkt[VIRTIO_VSOCK_HDR_LEN + 8192];
  struct fdev_chain c;
  uint8_t fix = in_u8(in);
  uint32_t plen = in_u16(in) % 8192u, len, written;

  if (!fdev_pop(d, VIRTIO_VSOCK_QUEUE_RX, &c)) {
    return;
  }
  if ((fix & FIX_REPLY) && d->nreplies > 0) {
    memcpy(pkt, d->replies[--d->nreplies], VIRTIO_VSOCK_HDR_LEN);
    len = VIRTIO_VSOCK_HDR_LEN;
  } else {
    in_bytes(in, pkt, VIRTIO_VSOCK_HDR_LEN + plen);
    len = VIRTIO_VSOCK_HDR_LEN + plen;
    if (fix & FIX_OUR_CID) {
      memcpy(pkt + VSOCK_HDR_OFF_DST_CID, d->cfg, 8);
    }
    if (fix & FIX_HOST_CID) {
      le64_store(pkt + VSOCK_HDR_OFF_SRC_CID, VMADDR_CID_HOST);
    }
    if ((fix & FIX_TUPLE) && d->have_req) {
      le32_store(pkt + VSOCK_HDR_OFF_SRC_PORT, d->last_req.dst_port);
      le32_store(pkt + VSOCK_HDR_OFF_DST_PORT, d->last_req.src_port);
    }
    if (fix & FIX_LISTENER) {
      le32_store(pkt + VSOCK_HDR_OFF_DST_PORT, GUEST_PORT);
    }
    if (fix & FIX_LEN) {
      le32_store(pkt + VSOCK_HDR_OFF_LEN, plen);
    }
    if (fix & FIX_TYPE) {
      le16_store(pkt + VSOCK_HDR_OFF_TYPE, VIRTIO_VSOCK_TYPE_STREAM);
    }
  }
  written = fdev_write(&c, pkt, len);
  if (fix & FIX_BAD_USED) {
    fdev_push(d, VIRTIO_VSOCK_QUEUE_RX, in_u16(in), in_u32(in), 1);
  } else {
    fdev_push(d, VIRTIO_VSOCK_QUEUE_RX, c.head, written, 1);
  }
}

/* Take one tx chain; a REQUEST from the guest gets a RESPONSE queued. */
static bool
tx_one(struct fdev *d, bool bad_used, struct fuzz_in *in)
{
  struct fdev_chain c;
  struct vsock_hdr h;

  if (!fdev_pop(d, VIRTIO_VSOCK_QUEUE_TX, &c)) {
    return false;
  }
  if (c.nout > 0 && vsock_hdr_decode(&h, c.out[0], c.out_len[0]) != 0 &&
      h.op == VIRTIO_VSOCK_OP_REQUEST && d->nreplies < FDEV_REPLIES) {
    struct vsock_hdr r = h;
    r.src_cid = h.dst_cid;
    r.dst_cid = h.src_cid;
    r.src_port = h.dst_port;
    r.dst_port = h.src_port;
    r.op = VIRTIO_VSOCK_OP_RESPONSE;
    r.len = 0;
    r.buf_alloc = 256 * 1024;
    r.fwd_cnt = 0;
    vsock_hdr_encode(&r, d->replies[d->nreplies++], VIRTIO_VSOCK_HDR_LEN);
    d->last_req = h;
    d->have_req = true;
  }
  if (bad_used) {
    fdev_push(d, VIRTIO_VSOCK_QUEUE_TX, in_u16(in), in_u32(in), 1);
  } else {
    fdev_push(d, VIRTIO_VSOCK_QUEUE_TX, c.head, 0, 1);
  }
  return true;
}

static void
rec_event(struct fdev *d, struct fuzz_in *in)
{
  struct fdev_chain c;
  uint8_t flags = in_u8(in);
  uint8_t ev[4];

  if (flags & 1) {
    in_bytes(in, d->cfg, sizeof(d->cfg)); /* the CID the driver re-reads */
  }
  if (!fdev_pop(d, VIRTIO_VSOCK_QUEUE_EVENT, &c)) {
    return;
  }
  in_bytes(in, ev, sizeof(ev));
  if (flags & 2) {
    le32_store(ev, VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
  }
  fdev_write(&c, ev, sizeof(ev));
  if (flags & 4) {
    fdev_push(d, VIRTIO_VSOCK_QUEUE_EVENT, in_u16(in), in_u32(in), 1);
  } else {
    fdev_push(d, VIRTIO_VSOCK_QUEUE_EVENT, c.head, flags & 8 ? in_u8(in) : 4u, 1);
  }
}

static void
bringup_params(struct fdev *d, struct fuzz_in *in, bool fuzz_bringup)
{
  if (fuzz_bringup) {
    uint8_t f[8];
    in_bytes(in, f, sizeof(f));
    d->features = le64_load(f);
    d->fail = in_u8(in);
    in_bytes(in, d->cfg, sizeof(d->cfg));
    d->qmax[0] = in_u16(in);
    d->qmax[1] = in_u16(in);
    d->qmax[2] = in_u16(in);
  } else {
    d->features = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_VSOCK_F_SEQPACKET);
    le64_store(d->cfg, 3);
    d->qmax[0] = d->qmax[1] = 64;
    d->qmax[2] = 8;
  }
}

void
fuzzdev_run(struct fuzz_in *in, bool fuzz_bringup)
{
  struct fdev *d = (struct fdev *)calloc(1, sizeof(*d));
  struct lwvsock_dev *dev = NULL;
  struct lwvsock_pcb *lp = NULL;
  int records = 0;
  err_t err;

  if (d == NULL) {
    return;
  }
  fuzz_begin();
  fuzz_app_reset();
  d->be.ops = &fdev_ops;
  bringup_params(d, in, fuzz_bringup);
  err = lwvsock_dev_open(&d->be, &dev);
  if (err == ERR_OK) {
    lp = fuzz_app_listen(dev, GUEST_PORT);
    while (in->n > 0 && records++ < 512) {
      uint8_t kind = in_u8(in);
      int k;
      switch (kind % 8) {
        case 0:
        case 1:
          rec_rx(d, in);
          break;
        case 2:
          (void)tx_one(d, (kind & 0x80) != 0, in);
          break;
        case 3:
          for (k = 0; k < 64 && tx_one(d, false, in); k++) {
          }
          break;
        case 4: {
          /* A raw used-ring entry: any id, any length, any index step. */
          unsigned qi = in_u8(in) % 3;
          uint32_t id = in_u32(in), len = in_u32(in);
          fdev_push(d, qi, id, len, in_u8(in) % 4);
          break;
        }
        case 5:
          rec_event(d, in);
          break;
        default:
          fuzz_app_action(dev, in);
          break;
      }
      (void)lwvsock_dev_poll(dev, in_u8(in) % 4);
      (void)lwvsock_dev_next_timeout(dev);
    }
    fuzz_app_close_all();
    if (lp != NULL) {
      lwvsock_close(lp);
    }
    (void)lwvsock_dev_poll(dev, 0);
  }
  if (dev != NULL) {
    lwvsock_dev_close(dev); /* destroys the backend */
  } else if (!d->destroyed) {
    fdev_destroy(&d->be);
  }
  fuzz_app_release();
  free(d);
  fuzz_check_no_leak();
}
