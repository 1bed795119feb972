/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Transmit side of the device: header slots, payload slots, the tx ring and
 * the bounded reply store.
 *
 * A packet from a copy slot is [header descriptor][one payload descriptor]
 * (header only for control packets). Headers live in their own slots (one per
 * packet the ring can hold) so RW packets can be cut from any offset of a
 * payload slot without copying. A zero-copy packet (reference slot) is
 * [header][one descriptor per piece]: at most LWVSOCK_TX_ZC_SEGS pieces (2
 * while a tap runs: it takes the payload in two parts) and never more than
 * the ring has free; longer chains go out as more packets.
 *
 * Ordering invariant: while the reply store holds packets, nothing else is put
 * on the ring, so a RESPONSE or SHUTDOWN never falls behind data sent later.
 */
#include <stdlib.h>
#include <string.h>

#include "devbase.h"
#include "txbuf.h"

#define HDR_STRIDE 48u /* 44 rounded up to 16 */

/* A reference slot's bytes [s->sent, s->sent + len) piece by piece. */
struct zc_iter {
  const struct pbuf *q;      /* chain: the pbuf holding off, or NULL (raw) */
  const uint8_t *raw;        /* raw memory: the next byte */
  uint32_t off, left;
};

static void
zc_iter_init(struct zc_iter *it, const struct txslot *s, uint32_t len)
{
  it->q = s->ref;
  it->raw = s->ref == NULL ? s->raw + s->sent : NULL;
  it->off = s->sent;
  it->left = len;
}

/* The next piece, at most 64 KiB (a raw piece is all that is left). */
static bool
zc_iter_next(struct zc_iter *it, const uint8_t **va, uint32_t *n)
{
  if (it->left == 0) {
    return false;
  }
  if (it->raw != NULL) {
    *va = it->raw;
    *n = LWIP_MIN(it->left, VIRTIO_VSOCK_MAX_PKT_BUF_SIZE);
    it->raw += *n;
    it->left -= *n;
    return true;
  }
  while (it->q != NULL && it->off >= it->q->len) {
    it->off -= it->q->len;
    it->q = it->q->next;
  }
  if (it->q == NULL) {
    return false; /* not reached: fill <= tot_len */
  }
  *va = (const uint8_t *)it->q->payload + it->off;
  *n = LWIP_MIN(it->left, (uint32_t)it->q->len - it->off);
  it->off += *n;
  it->left -= *n;
  return true;
}

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
  dev->tx->nslots = LWVSOCK_TX_SLOTS + LWVSOCK_TX_SMALL_SLOTS + LWVSOCK_TX_REF_SLOTS;

  dev->tx->pkts = (struct txpkt *)calloc(dev->tx->npkts, sizeof(struct txpkt));
  dev->tx->slots = (struct txslot *)calloc(dev->tx->nslots, sizeof(struct txslot));
  dev->tx->replies = (struct vsock_hdr *)calloc(LWVSOCK_REPLY_QUEUE_MAX, sizeof(struct vsock_hdr));
  if (dev->be->ops->dma_map != NULL && dev->be->ops->dma_unmap != NULL) {
    dev->tx->zcmap = (struct txmap *)calloc((size_t)npkts * LWVSOCK_TX_ZC_SEGS, sizeof(struct txmap));
  }
  if (dev->tx->pkts == NULL || dev->tx->slots == NULL || dev->tx->replies == NULL ||
      (dev->be->ops->dma_unmap != NULL && dev->tx->zcmap == NULL) ||
      (dev->tx->hdrmem = devbase_carve(dev, (size_t)dev->tx->npkts * HDR_STRIDE, 64)) == NULL) {
    txbuf_fini(dev);
    return -1;
  }
  dev->tx->hdrdma = devbase_dma(dev, dev->tx->hdrmem);
  dev->tx->pkt_free_head = LWVSOCK_NONE16;
  for (i = dev->tx->npkts; i-- > 0;) {
    dev->tx->pkts[i].next_free = dev->tx->pkt_free_head;
    dev->tx->pkt_free_head = i;
  }
  for (i = 0; i < LWVSOCK_TX_SLOTS + LWVSOCK_TX_SMALL_SLOTS; i++) {
    struct txslot *s = &dev->tx->slots[i];
    s->size = i < LWVSOCK_TX_SLOTS ? LWVSOCK_TX_SLOT_SIZE : LWVSOCK_TX_SMALL_SLOT_SIZE;
    if ((s->mem = devbase_carve(dev, s->size, 64)) == NULL) {
      txbuf_fini(dev);
      return -1;
    }
    s->dma = devbase_dma(dev, s->mem);
    s->raw = s->mem; /* the iterator reads a copy slot as raw memory */
  }
  for (i = 0; i < 3; i++) {
    dev->tx->slot_free_head[i] = LWVSOCK_NONE16;
    dev->tx->slot_free_count[i] = 0;
  }
  for (i = dev->tx->nslots; i-- > 0;) {
    txbuf_slot_free(dev, i);
  }
  return 0;
}

static void txbuf_unmap(struct lwvsock_dev *dev, struct txpkt *t);

/* After reset the device reads nothing: end its mappings, drop the references. */
void
txbuf_fini(struct lwvsock_dev *dev)
{
  uint16_t i;

  for (i = 0; dev->tx->pkts != NULL && i < dev->tx->npkts; i++) {
    txbuf_unmap(dev, &dev->tx->pkts[i]);
  }
  for (i = 0; dev->tx->slots != NULL && i < dev->tx->nslots; i++) {
    if (dev->tx->slots[i].ref != NULL) {
      pbuf_free(dev->tx->slots[i].ref);
      dev->tx->slots[i].ref = NULL;
    }
  }
  free(dev->tx->zcmap);
  dev->tx->zcmap = NULL;
  free(dev->tx->pkts);
  free(dev->tx->slots);
  free(dev->tx->replies);
  dev->tx->pkts = NULL;
  dev->tx->slots = NULL;
  dev->tx->replies = NULL;
}

/* Take a free slot of class @p c for @p owner; LWVSOCK_NONE16 when none is free. */
static uint16_t
txbuf_slot_take(struct lwvsock_dev *dev, struct txbuf_sendq *owner, unsigned c)
{
  uint16_t i = dev->tx->slot_free_head[c];
  struct txslot *s;

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

/*
 * A free copy slot for @p owner, a small one when @p want fits it (else a
 * big one), falling back to the other size; LWVSOCK_NONE16 when none is free.
 */
static uint16_t
txbuf_slot_alloc(struct lwvsock_dev *dev, struct txbuf_sendq *owner, uint32_t want)
{
  unsigned c = want <= LWVSOCK_TX_SMALL_SLOT_SIZE ? 1 : 0;

  if (dev->tx->slot_free_head[c] == LWVSOCK_NONE16) {
    c ^= 1;
  }
  return txbuf_slot_take(dev, owner, c);
}

static unsigned
txbuf_slot_class(const struct txslot *s)
{
  return s->mem == NULL ? 2 : s->size == LWVSOCK_TX_SLOT_SIZE ? 0 : 1;
}

/* Release a slot that no packet references any more (a reference slot's pbuf reference too). */
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
  if (s->ref != NULL) {
    pbuf_free(s->ref);
    s->ref = NULL;
  }
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
txbuf_tap(struct lwvsock_dev *dev, const uint8_t *hdr, const void *payload, uint32_t len,
          const void *payload2, uint32_t len2)
{
  if (dev->tap != NULL) {
    dev->tap(dev->tap_arg, LWVSOCK_DIR_TX, hdr, payload, len, payload2, len2);
  }
}

/**
 * Loopback: the packet goes straight to our own receive path as one PBUF_RAM,
 * its payload copied from [s->sent, s->sent + h->len) of slot @p s (NULL for
 * control packets).
 */
static err_t
txbuf_loop(struct lwvsock_dev *dev, const struct vsock_hdr *h, const struct txslot *s)
{
  uint8_t *payload;

  struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)(VIRTIO_VSOCK_HDR_LEN + h->len), PBUF_RAM);

  if (p == NULL) {
    dev->st.pool_exhausted++;
    return ERR_MEM;
  }
  vsock_hdr_encode(h, p->payload, VIRTIO_VSOCK_HDR_LEN);
  payload = (uint8_t *)p->payload + VIRTIO_VSOCK_HDR_LEN;
  if (s != NULL) {
    struct zc_iter it;
    const uint8_t *va;
    uint32_t n, off = 0;

    zc_iter_init(&it, s, h->len);
    while (zc_iter_next(&it, &va, &n)) {
      memcpy(payload + off, va, n);
      off += n;
    }
  }
  txbuf_tap(dev, (const uint8_t *)p->payload, payload, h->len, NULL, 0);
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

static size_t
txbuf_pkt_hdr_off(struct lwvsock_dev *dev, const struct txpkt *t)
{
  return (size_t)(t - dev->tx->pkts) * HDR_STRIDE;
}

/* Tap a posted packet: its payload is at most two pieces while a tap runs. */
static void
txbuf_tap_pkt(struct lwvsock_dev *dev, const uint8_t *hdr, const struct txslot *s, uint32_t len)
{
  const uint8_t *va[2] = { NULL, NULL };
  uint32_t n[2] = { 0, 0 };

  if (s != NULL) {
    struct zc_iter it;

    zc_iter_init(&it, s, len);
    if (zc_iter_next(&it, &va[0], &n[0])) {
      (void)zc_iter_next(&it, &va[1], &n[1]);
    }
  }
  txbuf_tap(dev, hdr, va[0], n[0], va[1], n[1]);
}

/* End the mappings of a returned packet. */
static void
txbuf_unmap(struct lwvsock_dev *dev, struct txpkt *t)
{
  uint8_t k;

  for (k = 0; k < t->nmap; k++) { /* nmap is 0 without a zcmap */
    const struct txmap *m = &dev->tx->zcmap[(size_t)(t - dev->tx->pkts) * LWVSOCK_TX_ZC_SEGS + k];
    dev->be->ops->dma_unmap(dev->be, m->dma, m->len);
  }
  t->nmap = 0;
}

/* Payload descriptors a zero-copy packet may use now. */
static unsigned
txbuf_zc_segs(const struct lwvsock_dev *dev)
{
  unsigned segs = dev->tap != NULL ? 2u : LWVSOCK_TX_ZC_SEGS;

  return dev->txq.num_free > segs ? segs : dev->txq.num_free > 1 ? dev->txq.num_free - 1u : 1u;
}

/*
 * Map @p len bytes of reference slot @p s from s->sent into out[1..]: the
 * number of descriptors, or 0 (nothing left mapped) when the backend refuses.
 */
static unsigned
txbuf_zc_map(struct lwvsock_dev *dev, struct txpkt *t, const struct txslot *s, uint32_t len,
             struct virtq_buf *out)
{
  struct lwvsock_backend *be = dev->be;
  struct txmap *m = dev->tx->zcmap != NULL ? &dev->tx->zcmap[(size_t)(t - dev->tx->pkts) * LWVSOCK_TX_ZC_SEGS] : NULL;
  struct zc_iter it;
  const uint8_t *va;
  uint32_t n;
  unsigned k = 0;

  zc_iter_init(&it, s, len);
  while (zc_iter_next(&it, &va, &n)) {
    LWIP_ASSERT("pieces were counted", k < LWVSOCK_TX_ZC_SEGS);
    if (be->ops->dma_map(be, va, n, &out[1 + k].addr) != 0) {
      txbuf_unmap(dev, t);
      return 0;
    }
    out[1 + k].len = n;
    if (m != NULL) {
      m[k].dma = out[1 + k].addr;
      m[k].len = n;
      t->nmap++;
    }
    k++;
  }
  return k;
}

/** Post a packet; @p slot is LWVSOCK_NONE16 for header-only ones. */
static err_t
txbuf_post(struct lwvsock_dev *dev, const struct vsock_hdr *h, uint16_t slot)
{
  struct virtq_buf out[1 + LWVSOCK_TX_ZC_SEGS];
  unsigned nout = 1;
  struct txslot *s = slot != LWVSOCK_NONE16 ? &dev->tx->slots[slot] : NULL;
  /* A payload needs 2 free descriptors: a zero-copy packet takes at most all
     but one of those free (txbuf_zc_segs()). */
  struct txpkt *t = txbuf_pkt_get(dev, h->len == 0 ? 1 : 2);
  uint8_t *hdr;

  if (t == NULL) {
    return ERR_WOULDBLOCK;
  }
  hdr = dev->tx->hdrmem + txbuf_pkt_hdr_off(dev, t);
  vsock_hdr_encode(h, hdr, VIRTIO_VSOCK_HDR_LEN);
  out[0].addr = dev->tx->hdrdma + txbuf_pkt_hdr_off(dev, t);
  out[0].len = VIRTIO_VSOCK_HDR_LEN;
  t->nmap = 0;
  if (h->len > 0 && s->mem != NULL) {
    out[1].addr = s->dma + s->sent;
    out[1].len = h->len;
    nout = 2;
  } else if (h->len > 0) {
    unsigned k = txbuf_zc_map(dev, t, s, h->len, out);
    if (k == 0) {
      txbuf_pkt_put(dev, t);
      return ERR_WOULDBLOCK; /* the backend's mapping table is full: retried on return */
    }
    nout = 1 + k;
  }
  if (virtq_add(&dev->txq, out, nout, NULL, 0, t) != 0) {
    txbuf_unmap(dev, t);
    txbuf_pkt_put(dev, t);
    return ERR_WOULDBLOCK;
  }
  t->slot = slot;
  t->len = h->len;
  dev->tx->added = true;
  dev->st.tx_pkts++;
  if (dev->tap != NULL) {
    txbuf_tap_pkt(dev, hdr, s, h->len);
  }
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
  if (dev->tx->nreplies != 0 || txbuf_post(dev, &c, LWVSOCK_NONE16) != ERR_OK) {
    if (!may_store) {
      return ERR_WOULDBLOCK;
    }
    if (dev->tx->nreplies >= LWVSOCK_REPLY_QUEUE_MAX) {
      dev->st.pool_exhausted++;
      return ERR_MEM;
    }
    dev->tx->replies[(dev->tx->reply_head + dev->tx->nreplies) % LWVSOCK_REPLY_QUEUE_MAX] = c;
    dev->tx->nreplies++;
  }
  dev->st.rst_tx += c.op == VIRTIO_VSOCK_OP_RST;
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
    if (t->nmap != 0) {
      txbuf_unmap(dev, t);
    }
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

/* Put slot @p si at the tail of @p q. */
static void
txbuf_sendq_link(struct lwvsock_dev *dev, struct txbuf_sendq *q, uint16_t si)
{
  if (q->tail != LWVSOCK_NONE16) {
    dev->tx->slots[q->tail].next = si;
  } else {
    q->head = si;
  }
  q->tail = si;
  dev->tx->slots[si].queued = 1;
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
      txbuf_sendq_link(dev, q, si);
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

/* Bytes of reference slot @p s one packet can take: as many pieces as it may have. */
static uint32_t
txbuf_zc_span(const struct lwvsock_dev *dev, const struct txslot *s)
{
  unsigned segs = txbuf_zc_segs(dev);
  struct zc_iter it;
  const uint8_t *va;
  uint32_t n, span = 0;

  zc_iter_init(&it, s, s->fill - s->sent);
  while (segs-- > 0 && zc_iter_next(&it, &va, &n)) {
    span += n;
  }
  return span;
}

/* Whether the backend maps every piece of reference slot @p s (each mapping ended at once). */
static bool
txbuf_zc_mappable(struct lwvsock_dev *dev, const struct txslot *s)
{
  struct lwvsock_backend *be = dev->be;
  struct zc_iter it;
  const uint8_t *va;
  uint32_t n;
  uint64_t dma;

  zc_iter_init(&it, s, s->fill);
  while (zc_iter_next(&it, &va, &n)) {
    if (be->ops->dma_map(be, va, n, &dma) != 0) {
      return false;
    }
    if (be->ops->dma_unmap != NULL) {
      be->ops->dma_unmap(be, dma, n);
    }
  }
  return it.left == 0; /* a chain shorter than its tot_len is refused too */
}

err_t
txbuf_sendq_append_ref(struct lwvsock_dev *dev, struct txbuf_sendq *q, const struct pbuf *p,
                       const uint8_t *data, uint32_t len, bool message)
{
  uint16_t si;
  struct txslot *s;

  if (dev->be->ops->dma_map == NULL ||
      (si = txbuf_slot_take(dev, q, 2)) == LWVSOCK_NONE16) {
    dev->st.zc_fallback++;
    return ERR_MEM;
  }
  s = &dev->tx->slots[si];
  /* const: only the reference count changes, as the caller's sent callback allows */
  s->ref = (struct pbuf *)(uintptr_t)p;
  s->raw = data;
  s->fill = s->size = len;
  if (!txbuf_zc_mappable(dev, s)) {
    s->ref = NULL;
    txbuf_slot_free(dev, si);
    dev->st.zc_fallback++;
    return ERR_MEM;
  }
  if (p != NULL) {
    pbuf_ref(s->ref);
  }
  s->msg_end = message ? len : 0;
  txbuf_sendq_link(dev, q, si);
  dev->st.zc_bytes += len;
  return ERR_OK;
}

bool
txbuf_sendq_next(struct lwvsock_dev *dev, struct txbuf_sendq *q, struct txbuf_next *nx)
{
  while (q->head != LWVSOCK_NONE16) {
    uint16_t si = q->head;
    struct txslot *s = &dev->tx->slots[si];

    if (s->fill != s->sent) {
      nx->avail = s->mem != NULL ? s->fill - s->sent : txbuf_zc_span(dev, s);
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
    err = txbuf_loop(dev, h, s);
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
