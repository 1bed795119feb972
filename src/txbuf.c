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

#include "lwvsock_priv.h"

#define HDR_STRIDE 48u /* 44 rounded up to 16 */

size_t
txbuf_mem_size(uint16_t npkts)
{
  return (size_t)npkts * HDR_STRIDE + (size_t)LWVSOCK_TX_SLOTS * LWVSOCK_TX_SLOT_SIZE +
         (size_t)LWVSOCK_TX_SMALL_SLOTS * LWVSOCK_TX_SMALL_SLOT_SIZE;
}

int
txbuf_setup(struct lwvsock_dev *dev)
{
  uint16_t i;

  dev->pkts = (struct txpkt *)calloc(dev->npkts, sizeof(struct txpkt));
  dev->slots = (struct txslot *)calloc(dev->nslots, sizeof(struct txslot));
  dev->replies = (struct vsock_hdr *)calloc(LWVSOCK_REPLY_QUEUE_MAX, sizeof(struct vsock_hdr));
  if (dev->pkts == NULL || dev->slots == NULL || dev->replies == NULL ||
      (dev->hdrmem = dev_carve(dev, (size_t)dev->npkts * HDR_STRIDE, 64)) == NULL) {
    txbuf_fini(dev);
    return -1;
  }
  dev->pkt_free_head = LWVSOCK_NONE16;
  for (i = dev->npkts; i-- > 0;) {
    dev->pkts[i].next_free = dev->pkt_free_head;
    dev->pkt_free_head = i;
  }
  for (i = 0; i < dev->nslots; i++) {
    struct txslot *s = &dev->slots[i];
    s->size = i < LWVSOCK_TX_SLOTS ? LWVSOCK_TX_SLOT_SIZE : LWVSOCK_TX_SMALL_SLOT_SIZE;
    if ((s->mem = dev_carve(dev, s->size, 64)) == NULL) {
      txbuf_fini(dev);
      return -1;
    }
    s->dma = dev_dma(dev, s->mem);
  }
  dev->slot_free_head[0] = dev->slot_free_head[1] = LWVSOCK_NONE16;
  dev->slot_free_count[0] = dev->slot_free_count[1] = 0;
  for (i = dev->nslots; i-- > 0;) {
    txslot_free(dev, i);
  }
  return 0;
}

void
txbuf_fini(struct lwvsock_dev *dev)
{
  free(dev->pkts);
  free(dev->slots);
  free(dev->replies);
  dev->pkts = NULL;
  dev->slots = NULL;
  dev->replies = NULL;
}

static unsigned
slot_class(const struct txslot *s)
{
  return s->size == LWVSOCK_TX_SLOT_SIZE ? 0 : 1;
}

uint16_t
txslot_alloc(struct lwvsock_dev *dev, struct lwvsock_pcb *owner, uint32_t want)
{
  unsigned c = want <= LWVSOCK_TX_SMALL_SLOT_SIZE ? 1 : 0;
  uint16_t i;
  struct txslot *s;

  if (dev->slot_free_head[c] == LWVSOCK_NONE16) {
    c ^= 1;
  }
  i = dev->slot_free_head[c];
  if (i == LWVSOCK_NONE16) {
    return i;
  }
  s = &dev->slots[i];
  dev->slot_free_head[c] = s->next;
  dev->slot_free_count[c]--;
  s->owner = owner;
  owner->slots_owned++;
  s->fill = s->sent = s->msg_end = 0;
  s->inflight = 0;
  s->queued = 0;
  s->next = LWVSOCK_NONE16;
  return i;
}

void
txslot_free(struct lwvsock_dev *dev, uint16_t i)
{
  struct txslot *s = &dev->slots[i];

  unsigned c = slot_class(s);

  LWIP_ASSERT("slot idle", s->inflight == 0);
  if (s->owner != NULL) {
    s->owner->slots_owned--;
  }
  s->owner = NULL;
  s->next = dev->slot_free_head[c];
  dev->slot_free_head[c] = i;
  dev->slot_free_count[c]++;
}

uint32_t
txslot_room(const struct lwvsock_dev *dev)
{
  return (uint32_t)dev->slot_free_count[0] * LWVSOCK_TX_SLOT_SIZE +
         (uint32_t)dev->slot_free_count[1] * LWVSOCK_TX_SMALL_SLOT_SIZE;
}

static void
tx_tap(struct lwvsock_dev *dev, const uint8_t *hdr, const void *payload, uint32_t len)
{
  if (dev->tap != NULL) {
    dev->tap(dev->tap_arg, LWVSOCK_DIR_TX, hdr, payload, len, NULL, 0);
  }
}

/** Loopback: the packet goes straight to our own receive path as one PBUF_RAM. */
static err_t
tx_loop(struct lwvsock_dev *dev, const struct vsock_hdr *h, const void *payload)
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
  tx_tap(dev, (const uint8_t *)p->payload, payload, h->len);
  dev->st.tx_pkts++;
  dev_loop_enqueue(dev, p);
  return ERR_OK;
}

/** Take a header slot; NULL when the ring cannot take @p ndesc more descriptors. */
static struct txpkt *
tx_pkt_get(struct lwvsock_dev *dev, uint16_t ndesc)
{
  struct txpkt *t;

  if (dev->pkt_free_head == LWVSOCK_NONE16 || dev->txq.num_free < ndesc ||
      virtq_is_broken(&dev->txq)) {
    return NULL;
  }
  t = &dev->pkts[dev->pkt_free_head];
  dev->pkt_free_head = t->next_free;
  return t;
}

static void
tx_pkt_put(struct lwvsock_dev *dev, struct txpkt *t)
{
  t->next_free = dev->pkt_free_head;
  dev->pkt_free_head = (uint16_t)(t - dev->pkts);
}

static uint8_t *
tx_pkt_hdr(struct lwvsock_dev *dev, const struct txpkt *t)
{
  return dev->hdrmem + (size_t)(t - dev->pkts) * HDR_STRIDE;
}

/** Post a packet; @p slot is LWVSOCK_NONE16 for header-only ones. */
static err_t
tx_post(struct lwvsock_dev *dev, const struct vsock_hdr *h, uint16_t slot)
{
  struct virtq_buf out[2];
  unsigned nout = 1;
  struct txpkt *t = tx_pkt_get(dev, h->len > 0 ? 2 : 1);
  uint8_t *hdr;
  const void *payload = NULL;

  if (t == NULL) {
    return ERR_WOULDBLOCK;
  }
  hdr = tx_pkt_hdr(dev, t);
  vsock_hdr_encode(h, hdr, VIRTIO_VSOCK_HDR_LEN);
  out[0].addr = dev_dma(dev, hdr);
  out[0].len = VIRTIO_VSOCK_HDR_LEN;
  if (h->len > 0) {
    struct txslot *s = &dev->slots[slot];
    payload = s->mem + s->sent;
    out[1].addr = s->dma + s->sent;
    out[1].len = h->len;
    nout = 2;
  }
  if (virtq_add(&dev->txq, out, nout, NULL, 0, t) != 0) {
    tx_pkt_put(dev, t);
    return ERR_WOULDBLOCK;
  }
  t->slot = slot;
  t->len = h->len;
  dev->tx_added = true;
  dev->st.tx_pkts++;
  tx_tap(dev, hdr, payload, h->len);
  return ERR_OK;
}

err_t
dev_send_ctrl(struct lwvsock_dev *dev, const struct vsock_hdr *h, bool may_store)
{
  struct vsock_hdr c = *h;

  c.len = 0;
  if (dev_is_local_cid(dev, c.dst_cid)) {
    return tx_loop(dev, &c, NULL);
  }
  if (dev->nreplies == 0 && tx_post(dev, &c, LWVSOCK_NONE16) == ERR_OK) {
    dev->st.rst_tx += c.op == VIRTIO_VSOCK_OP_RST;
    return ERR_OK;
  }
  if (!may_store) {
    return ERR_WOULDBLOCK;
  }
  if (dev->nreplies >= LWVSOCK_REPLY_QUEUE_MAX) {
    dev->st.pool_exhausted++;
    return ERR_MEM;
  }
  dev->st.rst_tx += c.op == VIRTIO_VSOCK_OP_RST;
  dev->replies[(dev->reply_head + dev->nreplies) % LWVSOCK_REPLY_QUEUE_MAX] = c;
  dev->nreplies++;
  return ERR_OK;
}

void
txbuf_flush_replies(struct lwvsock_dev *dev)
{
  while (dev->nreplies > 0 &&
         tx_post(dev, &dev->replies[dev->reply_head], LWVSOCK_NONE16) == ERR_OK) {
    dev->reply_head = (uint16_t)((dev->reply_head + 1) % LWVSOCK_REPLY_QUEUE_MAX);
    dev->nreplies--;
  }
}

err_t
dev_send_rw(struct lwvsock_dev *dev, struct vsock_hdr *h, uint16_t slot, uint32_t len)
{
  struct txslot *s = &dev->slots[slot];
  err_t err;

  h->len = len;
  if (dev_is_local_cid(dev, h->dst_cid)) {
    err = tx_loop(dev, h, s->mem + s->sent);
    if (err == ERR_OK) {
      s->sent += len;
      /* Nothing stays in flight: the bytes are complete at once. */
      pcb_tx_completed(s->owner, len);
    }
    return err;
  }
  if (dev->nreplies > 0) {
    return ERR_WOULDBLOCK;
  }
  err = tx_post(dev, h, slot);
  if (err == ERR_OK) {
    s->sent += len;
    s->inflight++;
  }
  return err;
}

int
txbuf_reclaim(struct lwvsock_dev *dev)
{
  int n = 0;
  uint32_t len;
  struct txpkt *t;

  while ((t = (struct txpkt *)virtq_get_used(&dev->txq, &len)) != NULL) {
    if (t->slot != LWVSOCK_NONE16) {
      struct txslot *s = &dev->slots[t->slot];
      s->inflight--;
      if (s->owner != NULL) {
        pcb_tx_completed(s->owner, t->len);
      }
      if (s->inflight == 0 && !s->queued) {
        txslot_free(dev, t->slot);
      }
    }
    tx_pkt_put(dev, t);
    n++;
  }
  if (n > 0 && dev->txwait > 0) {
    pcb_tx_room(dev);
  }
  return n;
}

void
txbuf_kick(struct lwvsock_dev *dev)
{
  if (dev->tx_added) {
    dev->tx_added = false;
    if (virtq_kick_prepare(&dev->txq)) {
      dev->be->ops->notify(dev->be, VIRTIO_VSOCK_QUEUE_TX);
    }
  }
}
