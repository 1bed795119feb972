/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The device: bring-up, the poll loop, the receive and event paths, close.
 *
 * Bring-up follows the spec's order (features, CID, queues, event and rx
 * buffers filled, then DRIVER_OK), so REQUESTs arriving right after start
 * find us ready. Everything the device hands back is checked before use; a
 * device that breaks the protocol marks the device broken, every connection
 * gets ERR_IF and lwvsock_dev_error() says why.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "lwip/sys.h"

/* The device and its modules' states in one allocation; the handle comes
   first, so devbase_release() frees the block through it. */
struct dev_block {
  struct lwvsock_dev dev;
  struct rxbuf_pool rx;
  struct txbuf tx;
  struct pcb_table pcbs;
};

static uint16_t
pow2_floor(uint16_t v)
{
  uint16_t p = 1;

  while ((uint32_t)p * 2 <= v) {
    p = (uint16_t)(p * 2);
  }
  return p;
}

static void
dev_tap_rx(struct lwvsock_dev *dev, const uint8_t *hdr, const void *payload, uint32_t len)
{
  if (dev->tap != NULL) {
    dev->tap(dev->tap_arg, LWVSOCK_DIR_RX, hdr, payload, len, NULL, 0);
  }
}

static int
dev_read_cid(struct lwvsock_dev *dev, uint32_t *cid)
{
  uint8_t cfg[8];
  uint64_t v;

  if (dev->be->ops->read_config(dev->be, VIRTIO_VSOCK_CFG_GUEST_CID, cfg, sizeof(cfg)) != 0) {
    devbase_fail(dev, "cannot read the device's config space");
    return -1;
  }
  v = le64_load(cfg);
  if (v > 0xfffffffeull || v <= VMADDR_CID_HOST) {
    devbase_fail(dev, "device reports the reserved or invalid CID %llu", (unsigned long long)v);
    return -1;
  }
  *cid = (uint32_t)v;
  return 0;
}

static void
dev_post_event(struct lwvsock_dev *dev, uint8_t *buf)
{
  struct virtq_buf in = { devbase_dma(dev, buf), VIRTIO_VSOCK_EVENT_LEN };

  (void)virtq_add(&dev->evq, NULL, 0, &in, 1, buf);
}

/* Carve rings, event, tx and rx buffers from device memory and set up the queues. */
static err_t
dev_setup_memory(struct lwvsock_dev *dev, uint16_t rxn, uint16_t txn, uint16_t evn)
{
  /* More rx buffers than the ring holds, so a lent one is replaced at once. */
  uint16_t nrx = (uint16_t)(LWIP_MIN(rxn / 2, LWVSOCK_RX_BUFS) + LWVSOCK_RX_LOAN_MAX);
  const struct lwvsock_backend_ops *ops = dev->be->ops;
  bool ev = (dev->features & VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX)) != 0;
  uint8_t *rxring, *txring, *evring = NULL;
  uint16_t i;

  /* What the layout needs with no segment limit (each piece 64-aligned). */
  devbase_plan(dev, virtq_ring_size(rxn) + virtq_ring_size(txn) + (evn ? virtq_ring_size(evn) : 0) +
                  (size_t)evn * 8u + txbuf_mem_size(txn) + rxbuf_mem_size(nrx) + 6u * 64u);
  if ((rxring = devbase_carve(dev, virtq_ring_size(rxn), 64)) == NULL ||
      (txring = devbase_carve(dev, virtq_ring_size(txn), 64)) == NULL ||
      (evn && (evring = devbase_carve(dev, virtq_ring_size(evn), 64)) == NULL) ||
      (evn && (dev->evbufs = devbase_carve(dev, (size_t)evn * 8u, 64)) == NULL)) {
    return ERR_MEM;
  }
  if (virtq_init(&dev->rxq, VIRTIO_VSOCK_QUEUE_RX, rxn, rxring, devbase_dma(dev, rxring), ev) != 0 ||
      virtq_init(&dev->txq, VIRTIO_VSOCK_QUEUE_TX, txn, txring, devbase_dma(dev, txring), ev) != 0 ||
      (evn && virtq_init(&dev->evq, VIRTIO_VSOCK_QUEUE_EVENT, evn, evring, devbase_dma(dev, evring), ev) != 0) ||
      txbuf_setup(dev, txn, pcb_tx_completed) != 0 || rxbuf_init(dev, nrx) != 0) {
    return ERR_MEM;
  }
  dev->has_evq = evn != 0;
  if (ops->setup_queue(dev->be, &dev->rxq.info) != 0 || ops->setup_queue(dev->be, &dev->txq.info) != 0 ||
      (dev->has_evq && ops->setup_queue(dev->be, &dev->evq.info) != 0)) {
    devbase_fail(dev, "the device refused the queue setup");
    return ERR_IF;
  }
  for (i = 0; i < evn; i++) {
    dev_post_event(dev, dev->evbufs + (size_t)i * 8u);
  }
  return ERR_OK;
}

static uint16_t
dev_queue_size(struct lwvsock_dev *dev, uint16_t index, uint16_t want)
{
  uint16_t max = dev->be->ops->max_queue_size(dev->be, index);

  return max == 0 ? 0 : pow2_floor(LWIP_MIN(max, want));
}

static err_t
dev_negotiate(struct lwvsock_dev *dev)
{
  uint64_t offered, want;

  if (dev->be->ops->get_features(dev->be, &offered) != 0) {
    devbase_fail(dev, "cannot read the device's features");
    return ERR_IF;
  }
  if (!(offered & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
    devbase_fail(dev, "the device does not offer VIRTIO_F_VERSION_1 (legacy devices are not supported)");
    return ERR_IF;
  }
  /* EVENT_IDX: kicks and used-buffer notifications suppressed by index, not by flag. */
  want = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_VSOCK_F_STREAM) |
         VIRTIO_BIT(VIRTIO_VSOCK_F_NO_IMPLIED_STREAM) | VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
#if LWVSOCK_ENABLE_SEQPACKET
  want |= VIRTIO_BIT(VIRTIO_VSOCK_F_SEQPACKET);
#endif
  dev->features = offered & want;
  if (dev->be->ops->set_features(dev->be, dev->features) != 0) {
    devbase_fail(dev, "the device refused features 0x%llx", (unsigned long long)dev->features);
    return ERR_IF;
  }
  /* Stream is implied unless NO_IMPLIED_STREAM was negotiated without STREAM. */
  dev->has_stream = !(dev->features & VIRTIO_BIT(VIRTIO_VSOCK_F_NO_IMPLIED_STREAM)) ||
                    (dev->features & VIRTIO_BIT(VIRTIO_VSOCK_F_STREAM));
  dev->has_seqpacket = (dev->features & VIRTIO_BIT(VIRTIO_VSOCK_F_SEQPACKET)) != 0;
  return ERR_OK;
}

/* Whether @p ops has every member backend.h does not mark optional. */
static bool
dev_ops_complete(const struct lwvsock_backend_ops *ops)
{
  return ops != NULL && ops->name != NULL && ops->get_features != NULL && ops->set_features != NULL &&
         ops->read_config != NULL && ops->max_queue_size != NULL && ops->mem_alloc != NULL &&
         ops->setup_queue != NULL && ops->start != NULL && ops->notify != NULL && ops->reset != NULL;
}

err_t
lwvsock_dev_open(struct lwvsock_backend *be, struct lwvsock_dev **devp)
{
  struct dev_block *blk;
  struct lwvsock_dev *dev;
  uint16_t rxn, txn, evn;
  err_t err;

  if (devp == NULL) {
    return ERR_ARG;
  }
  *devp = NULL;
  if (be == NULL || !dev_ops_complete(be->ops)) {
    return ERR_ARG;
  }
  lwvsock_pcb_pool_init();
  blk = (struct dev_block *)calloc(1, sizeof(*blk));
  if (blk == NULL) {
    return ERR_MEM;
  }
  dev = &blk->dev;
  dev->be = be;
  dev->rx = &blk->rx;
  dev->tx = &blk->tx;
  dev->pcbs = &blk->pcbs;
  *devp = dev;
  pcb_table_init(dev->pcbs, sys_now());
  devbase_timer_reset(dev, dev->pcbs->next_tick);

  err = dev_negotiate(dev);
  if (err != ERR_OK) {
    return err;
  }
  if (dev_read_cid(dev, &dev->cid) != 0) {
    return ERR_IF;
  }
  rxn = dev_queue_size(dev, VIRTIO_VSOCK_QUEUE_RX, LWVSOCK_QUEUE_SIZE);
  txn = dev_queue_size(dev, VIRTIO_VSOCK_QUEUE_TX, LWVSOCK_QUEUE_SIZE);
  evn = dev_queue_size(dev, VIRTIO_VSOCK_QUEUE_EVENT, LWVSOCK_EVENT_BUFS);
  if (rxn < 2 || txn < 2) {
    devbase_fail(dev, "the device's rx/tx queues are too small (%u/%u entries)", rxn, txn);
    return ERR_IF;
  }
  err = dev_setup_memory(dev, rxn, txn, evn);
  if (err != ERR_OK) {
    return err;
  }
  rxbuf_refill(dev);
  if (be->ops->start(be) != 0) {
    devbase_fail(dev, "the device did not start");
    return ERR_IF;
  }
  dev->started = true;
  if (dev->has_evq) {
    be->ops->notify(be, VIRTIO_VSOCK_QUEUE_EVENT);
  }
  be->ops->notify(be, VIRTIO_VSOCK_QUEUE_RX);
  return ERR_OK;
}

static int dev_events(struct lwvsock_dev *dev);

/* Whether a received header is addressed to us; a TRANSPORT_RESET may have
   changed our CID in the same poll (its event is looked at first). */
static bool
dev_rx_for_us(struct lwvsock_dev *dev, const struct vsock_hdr *h)
{
  if (h->dst_cid != dev->cid && dev_events(dev) == 0) {
    return false;
  }
  /* Our own CID or CID 1 as source would forge a loopback connection. */
  return h->dst_cid == dev->cid && h->src_cid != dev->cid && h->src_cid != VMADDR_CID_LOCAL;
}

/*
 * One buffer from the rx queue: validate, decode, dispatch, recycle. ERR_MEM:
 * no memory to hold it yet; the caller keeps it and offers it again
 * (@p retry: it was counted and tapped already).
 */
static err_t
dev_rx_one(struct lwvsock_dev *dev, struct rxbuf *rb, uint32_t len, bool retry)
{
  struct vsock_hdr h;

  if (!retry) {
    dev->st.rx_pkts++;
  }
  if (len < VIRTIO_VSOCK_HDR_LEN || vsock_hdr_decode(&h, rb->mem, len) == 0 ||
      h.len != len - VIRTIO_VSOCK_HDR_LEN || !dev_rx_for_us(dev, &h)) {
    /* Short, length that disagrees with what was written, or not for us. */
    dev->st.bad_pkts++;
    rxbuf_put(dev, rb);
    return ERR_OK;
  }
  if (!retry) {
    dev_tap_rx(dev, rb->mem, rb->mem + VIRTIO_VSOCK_HDR_LEN, h.len);
  }
  if (pcb_input(dev, &h, rb, NULL) == ERR_MEM) {
    return ERR_MEM;
  }
  /* A lent buffer comes back through its pbuf's free (maybe already did). */
  if (!rb->taken) {
    rxbuf_put(dev, rb);
  }
  rb->taken = 0;
  return ERR_OK;
}

/*
 * A packet no memory can hold yet stays parked, and rx stops behind it until
 * the application frees memory: the ring fills and the device holds further
 * packets (backpressure). Credit already bounds what each peer may send.
 */
static int
dev_rx(struct lwvsock_dev *dev, int budget)
{
  int n = 0;
  uint32_t len;
  struct rxbuf *rb;

  /* Replies we cannot place stop rx (spec 5.10.6.1; Linux queued_replies). */
  while ((budget <= 0 || n < budget) && dev->tx->nreplies < LWVSOCK_REPLY_QUEUE_MAX) {
    bool retry = dev->rx_parked != NULL;
    if (retry) {
      rb = dev->rx_parked;
      len = dev->rx_parked_len;
      dev->rx_parked = NULL;
    } else if ((rb = (struct rxbuf *)virtq_get_used(&dev->rxq, &len)) == NULL) {
      break;
    }
    if (dev_rx_one(dev, rb, len, retry) == ERR_MEM) {
      dev->rx_parked = rb;
      dev->rx_parked_len = len;
      if (!retry) {
        dev->st.rx_deferred++;
      }
      break;
    }
    n++;
  }
  return n;
}

static int
dev_loopback(struct lwvsock_dev *dev, int budget)
{
  int n = 0;
  struct pbuf *p;
  struct vsock_hdr h;

  while ((budget <= 0 || n < budget) && (p = devbase_loop_dequeue(dev)) != NULL) {
    bool retry = devbase_loop_take_retry(dev);
    vsock_hdr_decode(&h, p->payload, p->len);
    if (!retry) {
      dev->st.rx_pkts++;
      dev_tap_rx(dev, (const uint8_t *)p->payload, (const uint8_t *)p->payload + VIRTIO_VSOCK_HDR_LEN, h.len);
    }
    pbuf_remove_header(p, VIRTIO_VSOCK_HDR_LEN);
    if (pcb_input(dev, &h, NULL, p) == ERR_MEM) {
      pbuf_add_header(p, VIRTIO_VSOCK_HDR_LEN);
      devbase_loop_requeue(dev, p);
      if (!retry) {
        dev->st.rx_deferred++;
      }
      break;
    }
    n++;
  }
  return n;
}

static int
dev_events(struct lwvsock_dev *dev)
{
  int n = 0;
  uint32_t len;
  uint8_t *buf;

  if (!dev->has_evq) {
    return 0;
  }
  while ((buf = (uint8_t *)virtq_get_used(&dev->evq, &len)) != NULL) {
    uint32_t id = len >= VIRTIO_VSOCK_EVENT_LEN ? le32_load(buf) : 0xffffffffu;
    if (id == VIRTIO_VSOCK_EVENT_TRANSPORT_RESET) {
      uint32_t cid;
      dev->st.transport_resets++;
      if (dev_read_cid(dev, &cid) == 0) {
        dev->cid = cid;
      }
      if (dev->rx_parked != NULL) {
        /* From before the reset: its connection is gone. */
        rxbuf_put(dev, dev->rx_parked);
        dev->rx_parked = NULL;
      }
      pcb_transport_reset(dev);
    } else {
      dev->st.bad_pkts++;
    }
    dev_post_event(dev, buf);
    n++;
  }
  if (n > 0 && virtq_kick_prepare(&dev->evq)) {
    dev->be->ops->notify(dev->be, VIRTIO_VSOCK_QUEUE_EVENT);
  }
  return n;
}

static void
dev_check_broken(struct lwvsock_dev *dev)
{
  const struct virtq *bad = virtq_is_broken(&dev->rxq) ? &dev->rxq :
                            virtq_is_broken(&dev->txq) ? &dev->txq :
                            (dev->has_evq && virtq_is_broken(&dev->evq)) ? &dev->evq : NULL;
  int r = 0;

  if (bad != NULL) {
    devbase_fail(dev, "device error on queue %u: %s", bad->index, bad->broken_reason);
  } else if (dev->be->ops->check != NULL && (r = dev->be->ops->check(dev->be)) == -ENODEV) {
    devbase_fail(dev, "the device is gone (removed, or its registers read all ones)");
  } else if (r < 0) {
    devbase_fail(dev, "the device reported an error and needs a reset (%d)", r);
  }
}

/*
 * Device notifications: off while we poll (the ring is watched anyway), on
 * while the caller sleeps on the wait fds. Returns false when a used entry is
 * already pending, i.e. the caller must not sleep.
 */
static bool
dev_set_notify(struct lwvsock_dev *dev, bool on)
{
  bool idle = true;

  dev->cb_armed = on;
  if (on) {
    /* Arm every queue, then decide: each must be armed either way. */
    bool rx_idle = virtq_enable_cb(&dev->rxq);
    bool tx_idle = virtq_enable_cb(&dev->txq);
    bool ev_idle = !dev->has_evq || virtq_enable_cb(&dev->evq);
    idle = rx_idle && tx_idle && ev_idle;
  } else {
    virtq_disable_cb(&dev->rxq);
    virtq_disable_cb(&dev->txq);
    if (dev->has_evq) {
      virtq_disable_cb(&dev->evq);
    }
  }
  return idle;
}

int
lwvsock_dev_poll(struct lwvsock_dev *dev, int budget)
{
  int work = 0, reclaimed;
  uint32_t now;

  if (dev == NULL || !dev->started) {
    return 0;
  }
  if (devbase_broken(dev)) {
    /* Broken: connections were failed once; only killed pcbs remain to free. */
    return pcb_service(dev);
  }
  if (dev->cb_armed) {
    dev_set_notify(dev, false);
  }
  if (dev->be->ops->poll != NULL) {
    work += dev->be->ops->poll(dev->be);
  }
  reclaimed = txbuf_reclaim(dev);
  if (reclaimed > 0) {
    pcb_tx_room(dev); /* ring space is back: wake the pcbs that waited for it */
  }
  work += reclaimed;
  txbuf_flush_replies(dev);
  /* Events first: a REQUEST to a CID a TRANSPORT_RESET just gave us is ours.
     (Checked here: polls almost never find one.) */
  if (dev->has_evq && virtq_has_used(&dev->evq)) {
    work += dev_events(dev);
  }
  work += dev_rx(dev, budget);
  work += dev_loopback(dev, budget);
  dev_check_broken(dev);
  if (devbase_broken(dev)) {
    pcb_abort_all(dev, ERR_IF);
    return work + pcb_service(dev);
  }
  rxbuf_refill(dev);
  now = sys_now();
  if (time_diff(now, dev->base.next_timer) >= 0) {
    work += pcb_timers(dev, now);
  }
  work += pcb_service(dev);
  txbuf_flush_replies(dev);
  txbuf_kick(dev);
  return work;
}

uint32_t
lwvsock_dev_next_timeout(struct lwvsock_dev *dev)
{
  int32_t d;

  if (dev == NULL || !dev->started) {
    return LWVSOCK_TIMEOUT_INFINITE;
  }
  if (pcb_work_pending(dev) || txbuf_replies_pending(dev) || virtq_has_used(&dev->txq) ||
      (!dev->base.loop_retry && dev->base.loop_head != NULL) ||
      (dev->rx_parked == NULL && virtq_has_used(&dev->rxq))) {
    return 0;
  }
  d = time_diff(dev->base.next_timer, sys_now());
  if (d < 0) {
    d = 0;
  }
  /* Packets wait for memory the application frees between polls: look again
     soon, but without device notifications (the ring behind them is full). */
  if (dev->rx_parked != NULL || dev->base.loop_retry) {
    return d > 1 ? 1 : (uint32_t)d;
  }
  /* The caller may sleep on the wait fds: have the device signal them. */
  if (d > 0 && dev->be->ops->wait_fds != NULL && !dev_set_notify(dev, true)) {
    return 0;
  }
  /* An in-process device only moves when polled. */
  if (dev->be->ops->poll != NULL && d > 1) {
    d = 1;
  }
  /* A device that cannot wake the caller is polled at its interval. */
  if (dev->be->idle_poll_ms != 0 && (uint32_t)d > dev->be->idle_poll_ms) {
    d = (int32_t)dev->be->idle_poll_ms;
  }
  return (uint32_t)d;
}

int
lwvsock_dev_wait_fds(struct lwvsock_dev *dev, int *fds, int max)
{
  if (dev == NULL || dev->be->ops->wait_fds == NULL || max <= 0) {
    return 0;
  }
  return dev->be->ops->wait_fds(dev->be, fds, max);
}

void
lwvsock_dev_close(struct lwvsock_dev *dev)
{
  if (dev == NULL) {
    return;
  }
  pcb_abort_all(dev, ERR_ABRT);
  if (dev->started && !devbase_broken(dev)) {
    txbuf_flush_replies(dev);
    txbuf_kick(dev);
    /* Let an in-process device see the RSTs before it is reset. */
    if (dev->be->ops->poll != NULL) {
      dev->be->ops->poll(dev->be);
    }
  }
  pcb_service(dev);
  pcb_free_all(dev);
  if (dev->started || dev->base.nmem > 0) {
    dev->be->ops->reset(dev->be);
  }
  dev->started = false;
  /* Safe on queues never set up (open may have failed half way). */
  virtq_fini(&dev->rxq);
  virtq_fini(&dev->txq);
  virtq_fini(&dev->evq);
  txbuf_fini(dev);
  /* The rest goes once the last rx loan is back (maybe now). */
  rxbuf_close(dev);
}

uint32_t
lwvsock_dev_cid(const struct lwvsock_dev *dev)
{
  return dev->cid;
}

int
lwvsock_dev_has_seqpacket(const struct lwvsock_dev *dev)
{
  return dev->has_seqpacket;
}

err_t
lwvsock_dev_status(const struct lwvsock_dev *dev)
{
  return !devbase_broken(dev) ? ERR_OK : ERR_IF;
}

const char *
lwvsock_dev_error(const struct lwvsock_dev *dev)
{
  return dev->base.error;
}

void
lwvsock_dev_get_stats(const struct lwvsock_dev *dev, struct lwvsock_dev_stats *st)
{
  *st = dev->st;
  /* the backend's own counters: it is the one that knows what a kick costs */
  st->kicks = dev->be->kicks;
  st->syscalls = dev->be->syscalls;
}

void
lwvsock_dev_set_tap(struct lwvsock_dev *dev, lwvsock_tap_fn fn, void *arg)
{
  dev->tap = fn;
  dev->tap_arg = arg;
}

void
lwvsock_backend_destroy(struct lwvsock_backend *be)
{
  if (be != NULL) {
    LWIP_ASSERT("a backend has a destroy op", be->ops != NULL && be->ops->destroy != NULL);
    be->ops->destroy(be);
  }
}
