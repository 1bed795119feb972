/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Transmit side of the device: header slots, payload slots, the tx ring and
 * the bounded reply store.
 *
 * Every packet is [header descriptor][one payload descriptor] (header only for
 * control packets): devices broke on other layouts. Headers live in their own
 * slots (one per packet the ring can hold) so RW packets can be cut from any
 * offset of a payload slot without copying.
 *
 * Ordering invariant: while the reply store holds packets, nothing else is put
 * on the ring, so a RESPONSE or SHUTDOWN never falls behind data sent later.
 */
#include <stdlib.h>
#include <string.h>

#include "devbase.h"
#include "txbuf.h"

#define HDR_STRIDE 48u /* 44 rounded up to 16 */

size_t
txbuf_mem_size(uint16_t npkts)
{
  return (size_t)npkts * HDR_STRIDE + (size_t)LWVSOCK_TX_SLOTS * LWVSOCK_TX_SLOT_SIZE +
         (size_t)LWVSOCK_TX_SMALL_SLOTS * LWVSOCK_TX_SMALL_SLOT_SIZE;
}

static void txbuf_slot_free(struct lwvsock_dev *dev, uint16_t i);

int
txbuf_setup(struct lwvsock_dev *dev, uint16_t npkts, txbuf_done_fn done)
{
  uint16_t i;

  dev->tx->done = done;
  dev->tx->npkts = npkts;
  dev->tx->nslots = LWVSOCK_TX_SLOTS + LWVSOCK_TX_SMALL_SLOTS;

  dev->tx->pkts = (struct txpkt *)calloc(dev->tx->npkts, sizeof(struct txpkt));
  dev->tx->slots = (struct txslot *)calloc(dev->tx->nslots, sizeof(struct txslot));
  dev->tx->replies = (struct vsock_hdr *)calloc(LWVSOCK_REPLY_QUEUE_MAX, sizeof(struct vsock_hdr));
  if (dev->tx->pkts == NULL || dev->tx->slots == NULL || dev->tx->replies == NULL ||
      (dev->tx->hdrmem = devbase_carve(dev, (size_t)dev->tx->npkts * HDR_STRIDE, 64)) == NULL) {
    txbuf_fini(dev);
    return -1;
  }
  dev->tx->pkt_free_head = LWVSOCK_NONE16;
  for (i = dev->tx->npkts; i-- > 0;) {
    dev->tx->pkts[i].next_free = dev->tx->pkt_free_head;
    dev->tx->pkt_free_head = i;
  }
  for (i = 0; i < dev->tx->nslots; i++) {
    struct txslot *s = &dev->tx->slots[i];
    s->size = i < LWVSOCK_TX_SLOTS ? LWVSOCK_TX_SLOT_SIZE : LWVSOCK_TX_SMALL_SLOT_SIZE;
    if ((s->mem = devbase_carve(dev, s->size, 64)) == NULL) {
      txbuf_fini(dev);
      return -1;
    }
    s->dma = devbase_dma(dev, s->mem);
  }
  dev->tx->slot_free_head[0] = dev->tx->slot_free_head[1] = LWVSOCK_NONE16;
  dev->tx->slot_free_count[0] = dev->tx->slot_free_count[1] = 0;
  for (i = dev->tx->nslots; i-- > 0;) {
    txbuf_slot_free(dev, i);
  }
  return 0;
}

void
txbuf_fini(struct lwvsock_dev *dev)
{
  free(dev->tx->pkts);
  free(dev->tx->slots);
  free(dev->tx->replies);
  dev->tx->pkts = NULL;
  dev->tx->slots = NULL;
  dev->tx->replies = NULL;
}

static unsigned
txbuf_slot_class(const struct txslot *s)
{
  return s->size == LWVSOCK_TX_SLOT_SIZE ? 0 : 1;
}

/*
 * Allocate a free slot for @p owner, a small one when @p want fits it (else a
 * big one), falling back to the other size; LWVSOCK_NONE16 when none is free.
 */
static uint16_t
txbuf_slot_alloc(struct lwvsock_dev *dev, struct txbuf_sendq *owner, uint32_t want)
{
  unsigned c = want <= LWVSOCK_TX_SMALL_SLOT_SIZE ? 1 : 0;
  uint16_t i;
  struct txslot *s;

  if (dev->tx->slot_free_head[c] == LWVSOCK_NONE16) {
    c ^= 1;
  }
  i = dev->tx->slot_free_head[c];
  if (i == LWVSOCK_NONE16) {
    return i;
  }
  s = &dev->tx->slots[i];
  dev->tx->slot_free_head[c] = s->next;
  dev->tx->slot_free_count[c]--;
  s->owner = owner;
  owner->owned++;
  s->fill = s->sent = s->msg_end = 0;
  s->inflight = 0;
  s->queued = 0;
  s->next = LWVSOCK_NONE16;
  return i;
}

/* Release a slot that no packet references any more. */
static void
txbuf_slot_free(struct lwvsock_dev *dev, uint16_t i)
{
  struct txslot *s = &dev->tx->slots[i];
  unsigned c = txbuf_slot_class(s);

  LWIP_ASSERT("slot idle", s->inflight == 0);
  if (s->owner != NULL) {
    s->owner->owned--;
  }
  s->owner = NULL;
  s->next = dev->tx->slot_free_head[c];
  dev->tx->slot_free_head[c] = i;
  dev->tx->slot_free_count[c]++;
}

uint32_t
txbuf_free_room(const struct lwvsock_dev *dev)
{
  return (uint32_t)dev->tx->slot_free_count[0] * LWVSOCK_TX_SLOT_SIZE +
         (uint32_t)dev->tx->slot_free_count[1] * LWVSOCK_TX_SMALL_SLOT_SIZE;
}

static void
txbuf_tap(struct lwvsock_dev *dev, const uint8_t *hdr, const void *payload, uint32_t len)
{
  if (dev->tap != NULL) {
    dev->tap(dev->tap_arg, LWVSOCK_DIR_TX, hdr, payload, len, NULL, 0);
  }
}

/** Loopback: the packet goes straight to our own receive path as one PBUF_RAM. */
static err_t
txbuf_loop(struct lwvsock_dev *dev, const struct vsock_hdr *h, const void *payload)
{
  struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)(VIRTIO_VSOCK_HDR_LEN + h->len), PBUF_RAM);

  if (p == NULL) {
    dev->st.pool_exhausted++;
    return ERR_MEM;
  }
  vsock_hdr_encode(h, p->payload, VIRTIO_VSOCK_HDR_LEN);
  if (h->len > 0) {
    memcpy((uint8_t *)p->payload + VIRTIO_VSOCK_HDR_LEN, payload, h->len);
  }
  txbuf_tap(dev, (const uint8_t *)p->payload, payload, h->len);
  dev->st.tx_pkts++;
  devbase_loop_enqueue(dev, p);
  return ERR_OK;
}

/** Take a header slot; NULL when the ring cannot take @p ndesc more descriptors. */
static struct txpkt *
txbuf_pkt_get(struct lwvsock_dev *dev, uint16_t ndesc)
{
  struct txpkt *t;

  if (dev->tx->pkt_free_head == LWVSOCK_NONE16 || dev->txq.num_free < ndesc ||
      virtq_is_broken(&dev->txq)) {
    return NULL;
  }
  t = &dev->tx->pkts[dev->tx->pkt_free_head];
  dev->tx->pkt_free_head = t->next_free;
  return t;
}

static void
txbuf_pkt_put(struct lwvsock_dev *dev, struct txpkt *t)
{
  t->next_free = dev->tx->pkt_free_head;
  dev->tx->pkt_free_head = (uint16_t)(t - dev->tx->pkts);
}

static uint8_t *
txbuf_pkt_hdr(struct lwvsock_dev *dev, const struct txpkt *t)
{
  return dev->tx->hdrmem + (size_t)(t - dev->tx->pkts) * HDR_STRIDE;
}

/** Post a packet; @p slot is LWVSOCK_NONE16 for header-only ones. */
static err_t
txbuf_post(struct lwvsock_dev *dev, const struct vsock_hdr *h, uint16_t slot)
{
  struct virtq_buf out[2];
  unsigned nout = 1;
  struct txpkt *t = txbuf_pkt_get(dev, h->len > 0 ? 2 : 1);
  uint8_t *hdr;
  const void *payload = NULL;

  if (t == NULL) {
    return ERR_WOULDBLOCK;
  }
  hdr = txbuf_pkt_hdr(dev, t);
  vsock_hdr_encode(h, hdr, VIRTIO_VSOCK_HDR_LEN);
  out[0].addr = devbase_dma(dev, hdr);
  out[0].len = VIRTIO_VSOCK_HDR_LEN;
  if (h->len > 0) {
    struct txslot *s = &dev->tx->slots[slot];
    payload = s->mem + s->sent;
    out[1].addr = s->dma + s->sent;
    out[1].len = h->len;
    nout = 2;
  }
  if (virtq_add(&dev->txq, out, nout, NULL, 0, t) != 0) {
    txbuf_pkt_put(dev, t);
    return ERR_WOULDBLOCK;
  }
  t->slot = slot;
  t->len = h->len;
  dev->tx->added = true;
  dev->st.tx_pkts++;
  txbuf_tap(dev, hdr, payload, h->len);
  return ERR_OK;
}

err_t
txbuf_send_ctrl(struct lwvsock_dev *dev, const struct vsock_hdr *h, bool may_store)
{
  struct vsock_hdr c = *h;

  c.len = 0;
  if (devbase_is_local_cid(dev, c.dst_cid)) {
    return txbuf_loop(dev, &c, NULL);
  }
  if (dev->tx->nreplies == 0 && txbuf_post(dev, &c, LWVSOCK_NONE16) == ERR_OK) {
    dev->st.rst_tx += c.op == VIRTIO_VSOCK_OP_RST;
    return ERR_OK;
  }
  if (!may_store) {
    return ERR_WOULDBLOCK;
  }
  if (dev->tx->nreplies >= LWVSOCK_REPLY_QUEUE_MAX) {
    dev->st.pool_exhausted++;
    return ERR_MEM;
  }
  dev->st.rst_tx += c.op == VIRTIO_VSOCK_OP_RST;
  dev->tx->replies[(dev->tx->reply_head + dev->tx->nreplies) % LWVSOCK_REPLY_QUEUE_MAX] = c;
  dev->tx->nreplies++;
  return ERR_OK;
}

bool
txbuf_replies_pending(const struct lwvsock_dev *dev)
{
  return dev->tx->nreplies > 0;
}

void
txbuf_flush_replies(struct lwvsock_dev *dev)
{
  while (dev->tx->nreplies > 0 &&
         txbuf_post(dev, &dev->tx->replies[dev->tx->reply_head], LWVSOCK_NONE16) == ERR_OK) {
    dev->tx->reply_head = (uint16_t)((dev->tx->reply_head + 1) % LWVSOCK_REPLY_QUEUE_MAX);
    dev->tx->nreplies--;
  }
}

int
txbuf_reclaim(struct lwvsock_dev *dev)
{
  int n = 0;
  uint32_t len;
  struct txpkt *t;

  while ((t = (struct txpkt *)virtq_get_used(&dev->txq, &len)) != NULL) {
    if (t->slot != LWVSOCK_NONE16) {
      struct txslot *s = &dev->tx->slots[t->slot];
      s->inflight--;
      if (s->owner != NULL) {
        dev->tx->done(s->owner->owner, t->len);
      }
      if (s->inflight == 0 && !s->queued) {
        txbuf_slot_free(dev, t->slot);
      }
    }
    txbuf_pkt_put(dev, t);
    n++;
  }
  return n;
}

void
txbuf_kick(struct lwvsock_dev *dev)
{
  if (dev->tx->added) {
    dev->tx->added = false;
    if (virtq_kick_prepare(&dev->txq)) {
      dev->be->ops->notify(dev->be, VIRTIO_VSOCK_QUEUE_TX);
    }
  }
}

/* ---- per-connection send queues ------------------------------------------------ */

void
txbuf_sendq_init(struct txbuf_sendq *q, void *owner)
{
  q->owner = owner;
  q->head = q->tail = LWVSOCK_NONE16;
  q->owned = 0;
}

bool
txbuf_sendq_empty(const struct txbuf_sendq *q)
{
  return q->head == LWVSOCK_NONE16;
}

bool
txbuf_sendq_all_sent(const struct lwvsock_dev *dev, const struct txbuf_sendq *q)
{
  const struct txslot *s;

  if (q->head == LWVSOCK_NONE16) {
    return true;
  }
  s = &dev->tx->slots[q->head];
  return q->head == q->tail && s->sent == s->fill;
}

uint32_t
txbuf_sendq_room(const struct lwvsock_dev *dev, const struct txbuf_sendq *q, bool stream)
{
  uint32_t room = txbuf_free_room(dev);

  if (stream && q->tail != LWVSOCK_NONE16) {
    const struct txslot *t = &dev->tx->slots[q->tail];
    room += t->size - t->fill;
  }
  return room;
}

void
txbuf_sendq_append(struct lwvsock_dev *dev, struct txbuf_sendq *q, const struct pbuf *p,
                   const uint8_t *data, uint32_t len, bool message)
{
  uint32_t done = 0;
  bool fresh = message;
  struct txslot *s = NULL;

  while (done < len) {
    uint32_t n;
    if (fresh || q->tail == LWVSOCK_NONE16 || dev->tx->slots[q->tail].fill == dev->tx->slots[q->tail].size) {
      uint16_t si = txbuf_slot_alloc(dev, q, len - done);
      LWIP_ASSERT("slot room was checked", si != LWVSOCK_NONE16);
      if (q->tail != LWVSOCK_NONE16) {
        dev->tx->slots[q->tail].next = si;
      } else {
        q->head = si;
      }
      q->tail = si;
      dev->tx->slots[si].queued = 1;
      fresh = false;
    }
    s = &dev->tx->slots[q->tail];
    n = LWIP_MIN(len - done, s->size - s->fill);
    if (p != NULL) {
      pbuf_copy_partial(p, s->mem + s->fill, (u16_t)n, (u16_t)done);
    } else {
      memcpy(s->mem + s->fill, data + done, n);
    }
    s->fill += n;
    done += n;
  }
  if (message && s != NULL) {
    s->msg_end = s->fill;
  }
}

bool
txbuf_sendq_next(struct lwvsock_dev *dev, struct txbuf_sendq *q, struct txbuf_next *nx)
{
  while (q->head != LWVSOCK_NONE16) {
    uint16_t si = q->head;
    struct txslot *s = &dev->tx->slots[si];

    if (s->fill != s->sent) {
      nx->avail = s->fill - s->sent;
      nx->msg_left = s->msg_end != 0 ? s->msg_end - s->sent : 0;
      nx->open = si == q->tail && s->fill != s->size;
      return true;
    }
    /* Fully handed out: leave the queue (an idle connection holds no slot);
       a slot the device still reads is freed when it comes back. The tail
       stays while in flight, so writes that follow can still join it. */
    if (si == q->tail && s->inflight != 0) {
      break;
    }
    q->head = s->next;
    if (si == q->tail) {
      q->tail = LWVSOCK_NONE16;
    }
    s->queued = 0;
    if (s->inflight == 0) {
      txbuf_slot_free(dev, si);
    }
  }
  return false;
}

err_t
txbuf_sendq_send(struct lwvsock_dev *dev, struct txbuf_sendq *q, struct vsock_hdr *h, uint32_t len)
{
  struct txslot *s = &dev->tx->slots[q->head];
  err_t err;

  LWIP_ASSERT("bytes to send", q->head != LWVSOCK_NONE16 && len <= s->fill - s->sent);
  h->len = len;
  if (devbase_is_local_cid(dev, h->dst_cid)) {
    err = txbuf_loop(dev, h, s->mem + s->sent);
    if (err == ERR_OK) {
      s->sent += len;
      /* Nothing stays in flight: the bytes are complete at once. */
      dev->tx->done(q->owner, len);
    }
    return err;
  }
  if (dev->tx->nreplies > 0) {
    return ERR_WOULDBLOCK;
  }
  err = txbuf_post(dev, h, q->head);
  if (err == ERR_OK) {
    s->sent += len;
    s->inflight++;
  }
  return err;
}

void
txbuf_sendq_release(struct lwvsock_dev *dev, struct txbuf_sendq *q)
{
  uint16_t i;

  for (i = 0; i < dev->tx->nslots && q->owned > 0; i++) {
    struct txslot *s = &dev->tx->slots[i];
    if (s->owner == q) {
      if (s->queued) {
        dev->st.tx_dropped_bytes += s->fill - s->sent;
      }
      s->queued = 0;
      if (s->inflight == 0) {
        txbuf_slot_free(dev, i);
      } else {
        s->owner = NULL; /* orphan: freed when the device returns it */
        q->owned--;
      }
    }
  }
  q->head = q->tail = LWVSOCK_NONE16;
}
