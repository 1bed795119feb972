/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Connections: the vsock state machine, credit-based flow control and the raw
 * pcb API (vsock.h).
 *
 * Rules follow Linux's virtio_transport_common.c where it is the de-facto
 * standard: RST for unknown sockets, wrong state, full backlog and unknown
 * types, never an RST for an RST; every packet carries our credit; a
 * CREDIT_UPDATE goes out on its own once the space the peer sees runs low
 * (Linux never asks for one); the send window is
 * min(peer buf_alloc, own buf_alloc) - (tx_cnt - peer_fwd_cnt) in wrapping
 * u32 counters; a peer that overruns our credit is reset. Credit is the only
 * bound on received data: a packet that finds no memory waits in the ring.
 *
 * Callbacks run from lwvsock_dev_poll(), and from API calls only where lwIP's do:
 * lwvsock_abort() calls the pcb's err(ERR_ABRT), lwvsock_dev_close() that of
 * every pcb. write, close, recved and friends only queue work and mark the
 * pcb dirty.
 */
#include <string.h>

#include "devbase.h"
#include "pcb.h"
#include "lwip/memp.h"
#include "lwip/sys.h"

LWIP_MEMPOOL_DECLARE(LWVSOCK_PCB, MEMP_NUM_LWVSOCK_PCB, sizeof(struct lwvsock_pcb), "LWVSOCK_PCB")

static bool pool_ready;

void
lwvsock_pcb_pool_init(void)
{
  if (!pool_ready) {
    LWIP_MEMPOOL_INIT(LWVSOCK_PCB);
    pool_ready = true;
  }
}

void
pcb_table_init(struct pcb_table *t, uint32_t now)
{
  memset(t, 0, sizeof(*t));
  t->next_tick = now + LWVSOCK_POLL_TICK_MS;
  t->next_ephemeral = 1024u + (uint32_t)(LWIP_RAND() % 0x3fff0000u);
}

bool
pcb_work_pending(const struct lwvsock_dev *dev)
{
  return dev->pcbs->dirty != NULL;
}

err_t
lwvsock_pcb_pool_get_stats(struct lwvsock_pcb_pool_stats *st)
{
  LWIP_ASSERT("st != NULL", st != NULL);
  st->avail = MEMP_NUM_LWVSOCK_PCB;
  st->size = sizeof(struct lwvsock_pcb);
  st->elem_size = memp_LWVSOCK_PCB.size;
#if MEMP_STATS
  st->used = memp_LWVSOCK_PCB.stats->used;
  st->max = memp_LWVSOCK_PCB.stats->max;
  return ERR_OK;
#else
  st->used = st->max = 0;
  return ERR_VAL;
#endif
}

/* ---- tables ------------------------------------------------------------------ */

static uint32_t
hash3(uint32_t a, uint32_t b, uint32_t c)
{
  uint32_t h = a * 0x9e3779b1u ^ b * 0x85ebca77u ^ c * 0xc2b2ae3du;
  return (h ^ (h >> 15)) % LWVSOCK_HASH_BUCKETS;
}

static struct lwvsock_pcb **
conn_bucket(struct lwvsock_dev *dev, uint32_t lport, uint32_t rcid, uint32_t rport)
{
  return &dev->pcbs->conn_hash[hash3(lport, rcid, rport)];
}

static struct lwvsock_pcb **
bind_bucket(struct lwvsock_dev *dev, uint32_t port)
{
  return &dev->pcbs->bind_hash[hash3(port, 0, 0)];
}

static struct lwvsock_pcb *
conn_lookup(struct lwvsock_dev *dev, uint32_t lport, uint32_t rcid, uint32_t rport)
{
  struct lwvsock_pcb *p;

  for (p = *conn_bucket(dev, lport, rcid, rport); p != NULL; p = p->conn_next) {
    if (p->local_port == lport && p->remote_cid == rcid && p->remote_port == rport) {
      return p;
    }
  }
  return NULL;
}

static struct lwvsock_pcb *
bind_lookup(struct lwvsock_dev *dev, uint32_t port)
{
  struct lwvsock_pcb *p;

  for (p = *bind_bucket(dev, port); p != NULL; p = p->bind_next) {
    if (p->local_port == port) {
      return p;
    }
  }
  return NULL;
}

static void
list_remove(struct lwvsock_pcb **head, struct lwvsock_pcb *pcb, size_t link_off)
{
  struct lwvsock_pcb **pp = head;

  while (*pp != NULL) {
    if (*pp == pcb) {
      *pp = *(struct lwvsock_pcb **)(void *)((uint8_t *)pcb + link_off);
      return;
    }
    pp = (struct lwvsock_pcb **)(void *)((uint8_t *)*pp + link_off);
  }
}

static void
conn_insert(struct lwvsock_pcb *pcb)
{
  struct lwvsock_pcb **b = conn_bucket(pcb->dev, pcb->local_port, pcb->remote_cid, pcb->remote_port);

  pcb->conn_next = *b;
  *b = pcb;
}

static void
conn_remove(struct lwvsock_pcb *pcb)
{
  list_remove(conn_bucket(pcb->dev, pcb->local_port, pcb->remote_cid, pcb->remote_port), pcb,
              offsetof(struct lwvsock_pcb, conn_next));
  pcb->conn_next = NULL;
}

static void
bind_insert(struct lwvsock_pcb *pcb)
{
  struct lwvsock_pcb **b = bind_bucket(pcb->dev, pcb->local_port);

  pcb->bind_next = *b;
  *b = pcb;
  pcb->flags |= PCB_F_BOUND;
}

/* The peer closed or reset: leave the table, so the tuple can be reused at once. */
static void
pcb_peer_gone(struct lwvsock_pcb *pcb)
{
  conn_remove(pcb);
  pcb->flags |= PCB_F_PEER_DONE;
}

static bool
pcb_hashed(const struct lwvsock_pcb *pcb)
{
  return pcb->state == LWVSOCK_CONNECTING || pcb->state == LWVSOCK_ESTABLISHED ||
         pcb->state == LWVSOCK_CLOSING;
}

/* ---- life cycle ---------------------------------------------------------------- */

void
pcb_dirty(struct lwvsock_pcb *pcb)
{
  if (!(pcb->flags & PCB_F_DIRTY)) {
    pcb->flags |= PCB_F_DIRTY;
    pcb->dirty_next = pcb->dev->pcbs->dirty;
    pcb->dev->pcbs->dirty = pcb;
  }
}

/* A SEQPACKET message is delivered as one pbuf (16-bit tot_len): advertising
   no more than that makes a Linux sender refuse bigger ones (EMSGSIZE). */
#define PCB_MSG_MAX 0xffffu

static uint32_t
pcb_rcvbuf_clamp(uint8_t type, uint32_t size)
{
  uint32_t max = type == LWVSOCK_SEQPACKET ? LWIP_MIN(PCB_MSG_MAX, LWVSOCK_RCV_BUF_MAX) : LWVSOCK_RCV_BUF_MAX;

  return LWIP_MAX(LWVSOCK_RCV_BUF_MIN, LWIP_MIN(size, max));
}

static struct lwvsock_pcb *
pcb_alloc(struct lwvsock_dev *dev, uint8_t type)
{
  struct lwvsock_pcb *pcb = (struct lwvsock_pcb *)LWIP_MEMPOOL_ALLOC(LWVSOCK_PCB);

  if (pcb == NULL) {
    dev->st.pool_exhausted++;
    return NULL;
  }
  memset(pcb, 0, sizeof(*pcb));
  pcb->dev = dev;
  pcb->type = type;
  pcb->state = LWVSOCK_CLOSED;
  pcb->local_cid = LWVSOCK_CID_ANY;
  pcb->local_port = LWVSOCK_PORT_ANY;
  pcb->buf_alloc = pcb_rcvbuf_clamp(type, LWVSOCK_RCV_BUF);
  pcb->snd_buf = LWVSOCK_SND_BUF;
  pcb->linger_ms = LWVSOCK_LINGER_MS;
  txbuf_sendq_init(&pcb->sndq, pcb);
  pcb->all_next = dev->pcbs->all;
  if (dev->pcbs->all != NULL) {
    dev->pcbs->all->all_prev = pcb;
  }
  dev->pcbs->all = pcb;
  return pcb;
}

static void
pbuf_queue_free(struct pbuf *p)
{
  while (p != NULL) {
    struct pbuf *next = p->next;
    p->next = NULL;
    pbuf_free(p);
    p = next;
  }
}

/* Drop what the application refused (pcb_service_one offers it again). */
static void
rq_free(struct lwvsock_pcb *pcb)
{
  pbuf_queue_free(pcb->rq_head);
  pcb->rq_head = pcb->rq_tail = NULL;
  pcb->rq_room = 0;
}

/* Give up the pcb's tx slots: idle ones now, busy ones when the device returns
   them. Bytes never handed to the device are counted as dropped. */
static void
pcb_release_slots(struct lwvsock_pcb *pcb)
{
  txbuf_sendq_release(pcb->dev, &pcb->sndq);
  pcb->snd_queued = 0;
  pcb->flags &= ~PCB_F_HELD;
}

static void
backlog_release(struct lwvsock_pcb *pcb)
{
  if ((pcb->flags & PCB_F_BACKLOG) && pcb->listener != NULL) {
    pcb->listener->backlog_used--;
  }
  pcb->flags &= ~PCB_F_BACKLOG;
  pcb->listener = NULL;
}

/*
 * Take the pcb out of the protocol: unhashed, no more callbacks, buffers
 * released. The memory is freed by pcb_service(), never under a caller's feet.
 */
static void
pcb_kill(struct lwvsock_pcb *pcb)
{
  struct lwvsock_dev *dev = pcb->dev;

  if (pcb->flags & PCB_F_DEAD) {
    return;
  }
  if (pcb->state == LWVSOCK_ESTABLISHED || pcb->state == LWVSOCK_CLOSING) {
    dev->st.conns_active--;
  }
  if (pcb_hashed(pcb) && !(pcb->flags & PCB_F_PEER_DONE)) {
    conn_remove(pcb);
  }
  if (pcb->flags & PCB_F_BOUND) {
    list_remove(bind_bucket(dev, pcb->local_port), pcb, offsetof(struct lwvsock_pcb, bind_next));
    pcb->flags &= ~PCB_F_BOUND;
  }
  if (pcb->state == LWVSOCK_LISTEN) {
    struct lwvsock_pcb *c;
    for (c = dev->pcbs->all; c != NULL; c = c->all_next) {
      if (c->listener == pcb) {
        c->listener = NULL;
        c->flags &= ~PCB_F_BACKLOG;
      }
    }
  }
  backlog_release(pcb);
  pcb_release_slots(pcb);
  rq_free(pcb);
  if (pcb->msg != NULL) {
    pbuf_free(pcb->msg);
    pcb->msg = NULL;
  }
  if (pcb->flags & PCB_F_TXWAIT) {
    pcb->flags &= ~PCB_F_TXWAIT;
    dev->pcbs->txwait--;
  }
  pcb->state = LWVSOCK_CLOSED;
  pcb->flags |= PCB_F_DEAD;
  pcb->recv = NULL;
  pcb->sent = NULL;
  pcb->poll = NULL;
  pcb->errf = NULL;
  pcb->cb.accept = NULL;
  pcb_dirty(pcb);
}

static void
pcb_free(struct lwvsock_pcb *pcb)
{
  struct lwvsock_dev *dev = pcb->dev;

  if (pcb->all_prev != NULL) {
    pcb->all_prev->all_next = pcb->all_next;
  } else {
    dev->pcbs->all = pcb->all_next;
  }
  if (pcb->all_next != NULL) {
    pcb->all_next->all_prev = pcb->all_prev;
  }
  LWIP_MEMPOOL_FREE(LWVSOCK_PCB, pcb);
}

/* Kill the pcb and tell the application. A closed pcb still has an err
   callback only while its unsent data may be lost (lwvsock_close). */
static void
pcb_fail(struct lwvsock_pcb *pcb, err_t err)
{
  lwvsock_err_fn errf = pcb->errf;
  void *arg = pcb->arg;

  pcb_kill(pcb);
  if (errf != NULL) {
    errf(arg, err);
  }
}

/* ---- sending ---------------------------------------------------------------------- */

static void pcb_arm(struct lwvsock_pcb *pcb, uint32_t ms);

static void
pcb_hdr(const struct lwvsock_pcb *pcb, struct vsock_hdr *h, uint16_t op, uint32_t flags)
{
  h->src_cid = pcb->local_cid;
  h->dst_cid = pcb->remote_cid;
  h->src_port = pcb->local_port;
  h->dst_port = pcb->remote_port;
  h->len = 0;
  h->type = pcb->type;
  h->op = op;
  h->flags = flags;
  h->buf_alloc = pcb->buf_alloc;
  h->fwd_cnt = pcb->fwd_cnt;
}

/* Every packet tells the peer our credit: nothing is owed after one goes out. */
static void
pcb_credit_sent(struct lwvsock_pcb *pcb)
{
  pcb->last_fwd_cnt = pcb->fwd_cnt;
  pcb->flags &= ~PCB_F_CREDIT_UPDATE;
}

/* Control packet for a connection; @p may_store: it may wait in the reply store. */
static err_t
pcb_send_ctrl_ex(struct lwvsock_pcb *pcb, uint16_t op, uint32_t flags, bool may_store)
{
  struct vsock_hdr h;
  err_t err;

  pcb_hdr(pcb, &h, op, flags);
  err = txbuf_send_ctrl(pcb->dev, &h, may_store);
  if (err == ERR_OK) {
    pcb_credit_sent(pcb);
    if (op == VIRTIO_VSOCK_OP_CREDIT_UPDATE) {
      pcb->dev->st.credit_updates_tx++;
    } else if (op == VIRTIO_VSOCK_OP_CREDIT_REQUEST) {
      pcb->dev->st.credit_requests_tx++;
    }
  }
  return err;
}

static void
pcb_send_ctrl(struct lwvsock_pcb *pcb, uint16_t op, uint32_t flags)
{
  if (pcb_send_ctrl_ex(pcb, op, flags, true) != ERR_OK && op == VIRTIO_VSOCK_OP_RST) {
    /* Even the reply store is full: an RST must not be lost, or the peer
       keeps a dead connection. The pcb outlives its death until it is sent. */
    pcb->flags |= PCB_F_RST_PENDING;
  }
}

/* RST in answer to a packet no socket wants. Never answers an RST. */
static void
reply_rst(struct lwvsock_dev *dev, const struct vsock_hdr *in)
{
  struct vsock_hdr h;

  if (in->op == VIRTIO_VSOCK_OP_RST) {
    return;
  }
  memset(&h, 0, sizeof(h));
  h.src_cid = in->dst_cid;
  h.dst_cid = in->src_cid;
  h.src_port = in->dst_port;
  h.dst_port = in->src_port;
  h.type = in->type;
  h.op = VIRTIO_VSOCK_OP_RST;
  (void)txbuf_send_ctrl(dev, &h, true);
}

/* Largest payload one packet to this peer may carry. */
static uint32_t
pcb_max_pkt(const struct lwvsock_pcb *pcb)
{
  uint32_t max = LWIP_MIN(LWVSOCK_MAX_PKT, LWVSOCK_TX_SLOT_SIZE);

  /* Loopback packets travel as one pbuf: header and payload within 64 KiB - 1. */
  if (devbase_is_local_cid(pcb->dev, pcb->remote_cid)) {
    max = LWIP_MIN(max, 0xffffu - VIRTIO_VSOCK_HDR_LEN);
  }
  return max;
}

/* Send window: min(peer buf_alloc, own buf_alloc) - bytes in flight, never negative. */
static uint32_t
pcb_window(const struct lwvsock_pcb *pcb)
{
  uint32_t cap = LWIP_MIN(pcb->peer_buf_alloc, pcb->buf_alloc);
  uint32_t inflight = pcb->tx_cnt - pcb->peer_fwd_cnt;

  return inflight >= cap ? 0 : cap - inflight;
}

static bool
pcb_all_sent(const struct lwvsock_pcb *pcb)
{
  return txbuf_sendq_all_sent(pcb->dev, &pcb->sndq);
}

static void
pcb_credit_request(struct lwvsock_pcb *pcb, uint32_t now)
{
  if (time_diff(now, pcb->last_credit_req) >= LWVSOCK_CREDIT_REQUEST_INTERVAL_MS ||
      !(pcb->flags & PCB_F_STALLED)) {
    pcb->last_credit_req = now;
    pcb_send_ctrl(pcb, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 0);
  }
}

/*
 * Nagle for vsock: a small packet (all the tail slot holds, and the slot has
 * room for more) waits while bytes sent earlier are unread by the peer, so
 * the writes that follow join it. The peer's credit update when its reader
 * drains, a full slot, a SHUTDOWN to send or LWVSOCK_TX_COALESCE_MS release it.
 */
static bool
pcb_hold_small(struct lwvsock_pcb *pcb, const struct txbuf_next *nx, uint32_t n)
{
  uint32_t now;

  if (pcb->type != LWVSOCK_STREAM || (pcb->flags & PCB_F_NODELAY) ||
      (pcb->flags & PCB_F_SHUT_PENDING) || n >= LWVSOCK_TX_COALESCE_MIN ||
      n != nx->avail || !nx->open ||
      pcb->tx_cnt == pcb->peer_fwd_cnt) {
    return false;
  }
  now = sys_now();
  if (!(pcb->flags & PCB_F_HELD)) {
    pcb->flags |= PCB_F_HELD;
    pcb->hold_since = now;
    pcb->dev->st.tx_holds++;
  } else if (time_diff(now, pcb->hold_since) >= LWVSOCK_TX_COALESCE_MS) {
    return false;
  }
  devbase_timer_at(pcb->dev, pcb->hold_since + LWVSOCK_TX_COALESCE_MS);
  return true;
}

/*
 * Wait for tx ring space without spinning: a device that stops completing
 * must not turn the poll loop into a busy loop.
 */
static void
pcb_txwait(struct lwvsock_pcb *pcb)
{
  if (!(pcb->flags & PCB_F_TXWAIT)) {
    pcb->flags |= PCB_F_TXWAIT;
    pcb->dev->pcbs->txwait++;
  }
}

/* Push queued data within credit and ring space; then owed control packets. */
static void
pcb_flush(struct lwvsock_pcb *pcb)
{
  struct lwvsock_dev *dev = pcb->dev;
  struct txbuf_next nx;

  if ((pcb->state != LWVSOCK_ESTABLISHED && pcb->state != LWVSOCK_CLOSING) ||
      (pcb->flags & PCB_F_PEER_DONE)) {
    return; /* the peer is gone: nothing more goes out but RSTs */
  }
  while (txbuf_sendq_next(dev, &pcb->sndq, &nx)) {
    uint32_t win, n, flags = 0;
    struct vsock_hdr h;

    win = pcb_window(pcb);
    if (win == 0) {
      if (!(pcb->flags & PCB_F_STALLED)) {
        pcb->stalls++;
        dev->st.credit_stalls++;
        pcb_credit_request(pcb, sys_now());
        pcb->flags |= PCB_F_STALLED;
      }
      break;
    }
    n = LWIP_MIN(LWIP_MIN(nx.avail, win), pcb_max_pkt(pcb));
    if (pcb_hold_small(pcb, &nx, n)) {
      break;
    }
    if (pcb->type == LWVSOCK_SEQPACKET && nx.msg_left != 0 && n == nx.msg_left) {
      flags = VIRTIO_VSOCK_SEQ_EOM;
    }
    pcb_hdr(pcb, &h, VIRTIO_VSOCK_OP_RW, flags);
    if (txbuf_sendq_send(dev, &pcb->sndq, &h, n) != ERR_OK) {
      pcb_txwait(pcb); /* ring full: retried when the device returns buffers */
      return;
    }
    pcb->flags &= ~PCB_F_STALLED;
    pcb->flags &= ~PCB_F_HELD;
    if (pcb->state == LWVSOCK_CLOSING) {
      pcb_arm(pcb, pcb->linger_ms); /* progress: the linger bound starts again */
    }
    pcb_credit_sent(pcb);
    pcb->tx_cnt += n;
    pcb->tx_hi += pcb->tx_cnt < n; /* carry */
    pcb->tx_pkts++;
    dev->st.tx_bytes += n;
  }
  /* Our own control packets wait for ring space (retried on the next poll)
     rather than fill the reply store that replies to the peer depend on. */
  if ((pcb->flags & PCB_F_SHUT_PENDING) && pcb_all_sent(pcb)) {
    if (pcb_send_ctrl_ex(pcb, VIRTIO_VSOCK_OP_SHUTDOWN, pcb->shut_sent | pcb->shut_want, false) != ERR_OK) {
      pcb_txwait(pcb);
      return;
    }
    pcb->flags &= ~PCB_F_SHUT_PENDING;
    pcb->shut_sent |= pcb->shut_want;
    if (pcb->state == LWVSOCK_CLOSING) {
      /* All data is out: nothing more can be lost, and the wait for the
         peer's RST starts only now (Linux's close timer). */
      pcb->errf = NULL;
      pcb_arm(pcb, LWVSOCK_CLOSE_TIMEOUT_MS);
    }
  }
  if ((pcb->flags & PCB_F_CREDIT_UPDATE) &&
      pcb_send_ctrl_ex(pcb, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, false) != ERR_OK) {
    pcb_txwait(pcb);
  }
}

void
pcb_tx_room(struct lwvsock_dev *dev)
{
  struct lwvsock_pcb *pcb;

  for (pcb = dev->pcbs->all; pcb != NULL && dev->pcbs->txwait > 0; pcb = pcb->all_next) {
    if (pcb->flags & PCB_F_TXWAIT) {
      pcb->flags &= ~PCB_F_TXWAIT;
      dev->pcbs->txwait--;
      pcb_dirty(pcb);
    }
  }
}

void
pcb_tx_completed(void *arg, uint32_t len)
{
  struct lwvsock_pcb *pcb = (struct lwvsock_pcb *)arg;

  LWIP_ASSERT("completed bytes were queued", len <= pcb->snd_queued);
  pcb->snd_queued -= len;
  pcb->acked += len;
  pcb_dirty(pcb);
}

/* ---- receiving ---------------------------------------------------------------------- */

/*
 * Owe the peer a CREDIT_UPDATE once the space it believes free (buf_alloc
 * minus what it sent beyond the fwd_cnt we last told it) runs low and we have
 * consumed more than we told. Checked when data arrives and when it is
 * consumed, so the peer never waits on space we have, even while the
 * application holds data unread (Linux peers never ask); on a bulk stream
 * that is one update per buf_alloc - threshold bytes.
 */
static void
pcb_credit_check(struct lwvsock_pcb *pcb)
{
  uint32_t untold = pcb->fwd_cnt - pcb->last_fwd_cnt;
  uint32_t peer_used = pcb->rx_cnt - pcb->last_fwd_cnt;
  uint32_t peer_free = peer_used >= pcb->buf_alloc ? 0 : pcb->buf_alloc - peer_used;

  if (untold != 0 && peer_free < LWVSOCK_CREDIT_UPDATE_THRESHOLD) {
    pcb->flags |= PCB_F_CREDIT_UPDATE;
    pcb_dirty(pcb);
  }
}

/* A merge buffer that stops being the tail gives back the room it kept. */
static void
rq_trim_tail(struct lwvsock_pcb *pcb)
{
  struct pbuf *t = pcb->rq_tail;

  if (pcb->rq_room != 0) {
    u16_t used = t->len;
    t->len = t->tot_len = (u16_t)(used + pcb->rq_room);
    pbuf_realloc(t, used);
    pcb->rq_room = 0;
  }
}

static void
rq_push_back(struct lwvsock_pcb *pcb, struct pbuf *p)
{
  p->next = NULL;
  if (pcb->rq_tail != NULL) {
    rq_trim_tail(pcb);
    pcb->rq_tail->next = p;
  } else {
    pcb->rq_head = p;
  }
  pcb->rq_tail = p;
}

/* The queue links single pbufs (packets, or coalesced messages) through p->next. */
static void
rq_push_front(struct lwvsock_pcb *pcb, struct pbuf *p)
{
  p->next = pcb->rq_head;
  pcb->rq_head = p;
  if (pcb->rq_tail == NULL) {
    pcb->rq_tail = p;
  }
}

static struct pbuf *
rq_pop(struct lwvsock_pcb *pcb)
{
  struct pbuf *p = pcb->rq_head;

  if (p == pcb->rq_tail) {
    rq_trim_tail(pcb);
    pcb->rq_tail = NULL;
  }
  pcb->rq_head = p->next;
  p->next = NULL;
  return p;
}

/*
 * Deliver one received pbuf (one packet, or one SEQPACKET message) to the
 * application. Returns false when it refused the data (kept for later) or the
 * pcb died.
 */
static bool
pcb_deliver(struct lwvsock_pcb *pcb, struct pbuf *p)
{
  err_t err;

  if (pcb->flags & (PCB_F_APP_CLOSED | PCB_F_DEAD)) {
    /* Nobody will read it: consume, so the peer's credit is not lost. */
    pcb->fwd_cnt += p->tot_len;
    pbuf_free(p);
    return true;
  }
  if (pcb->recv == NULL) {
    uint16_t len = p->tot_len;
    pbuf_free(p);
    lwvsock_recved(pcb, len);
    return true;
  }
  err = pcb->recv(pcb->arg, pcb, p, ERR_OK);
  if (err == ERR_OK) {
    return true;
  }
  if (err == ERR_ABRT || (pcb->flags & PCB_F_DEAD)) {
    return false;
  }
  /* Refused: kept, and offered again on the pcb's next event or poll tick. */
  rq_push_front(pcb, p);
  return false;
}

/* Copy the packet's payload (in its rx buffer, or the loopback pbuf) to @p dst. */
static void
payload_copy(const struct vsock_hdr *h, const struct rxbuf *rb, const struct pbuf *lp, uint8_t *dst)
{
  if (lp != NULL) {
    (void)pbuf_copy_partial(lp, dst, (u16_t)h->len, 0);
  } else {
    memcpy(dst, rb->mem + VIRTIO_VSOCK_HDR_LEN, h->len);
  }
}

static struct pbuf *
take_payload(struct lwvsock_dev *dev, const struct vsock_hdr *h, struct rxbuf *rb, struct pbuf **lp)
{
  struct pbuf *p = *lp;

  if (p != NULL) {
    *lp = NULL;
    return p;
  }
  return rxbuf_take_pbuf(dev, rb, h->len);
}

/* Merge buffers: small packets queued behind refused data share one (Linux
   copies packets <= 128 bytes into the tail skb), so the queue costs memory
   in proportion to its bytes, which our credit bounds, not to its packets. */
#define RQ_MERGE_SIZE (16u * LWVSOCK_RX_COPY_MAX)

/* Append a small stream payload to the receive queue's tail; false when no memory. */
static bool
rq_merge(struct lwvsock_pcb *pcb, const struct vsock_hdr *h, const struct rxbuf *rb, const struct pbuf *lp)
{
  struct pbuf *t;

  if (pcb->rq_room < h->len) {
    t = pbuf_alloc(PBUF_RAW, (u16_t)RQ_MERGE_SIZE, PBUF_RAM);
    if (t == NULL) {
      pcb->dev->st.pool_exhausted++;
      return false;
    }
    t->len = t->tot_len = 0;
    rq_push_back(pcb, t);
    pcb->rq_room = (uint16_t)RQ_MERGE_SIZE;
  }
  t = pcb->rq_tail;
  payload_copy(h, rb, lp, (uint8_t *)t->payload + t->len);
  t->len = t->tot_len = (u16_t)(t->len + h->len);
  pcb->rq_room = (uint16_t)(pcb->rq_room - h->len);
  return true;
}

/*
 * The SEQPACKET message being reassembled plus this packet's payload as one
 * pbuf (the receive queue links single pbufs). NULL when no memory.
 */
static struct pbuf *
msg_complete(struct lwvsock_pcb *pcb, const struct vsock_hdr *h, const struct rxbuf *rb, const struct pbuf *lp)
{
  struct pbuf *m = pcb->msg, *q;

  if (m->next == NULL && h->len == 0) {
    q = m;
  } else {
    q = pbuf_alloc(PBUF_RAW, (u16_t)(m->tot_len + h->len), PBUF_RAM);
    if (q == NULL) {
      pcb->dev->st.pool_exhausted++;
      return NULL;
    }
    (void)pbuf_copy_partial(m, q->payload, m->tot_len, 0);
    if (h->len != 0) {
      payload_copy(h, rb, lp, (uint8_t *)q->payload + m->tot_len);
    }
    pbuf_free(m);
  }
  pcb->msg = NULL;
  return q;
}

static void
pcb_rx_account(struct lwvsock_pcb *pcb, uint32_t len)
{
  pcb->rx_cnt += len;
  pcb->rx_hi += pcb->rx_cnt < len; /* carry */
  pcb->rx_pkts++;
  pcb->dev->st.rx_bytes += len;
}

static void
pcb_reset(struct lwvsock_pcb *pcb, err_t err)
{
  pcb_send_ctrl(pcb, VIRTIO_VSOCK_OP_RST, 0);
  pcb_fail(pcb, err);
}

/*
 * Every memory allocation comes before any accounting: on ERR_MEM the packet
 * is offered again as it is (backpressure), so a peer within our credit is
 * never reset for our lack of memory.
 */
static err_t
pcb_input_rw(struct lwvsock_pcb *pcb, const struct vsock_hdr *h, struct rxbuf *rb, struct pbuf **lp)
{
  struct lwvsock_dev *dev = pcb->dev;
  struct pbuf *p;
  uint32_t outstanding = pcb->rx_cnt - pcb->fwd_cnt;
  bool eom = pcb->type == LWVSOCK_SEQPACKET && (h->flags & VIRTIO_VSOCK_SEQ_EOM);

  if (pcb->msg != NULL && (uint32_t)pcb->msg->tot_len + h->len > PCB_MSG_MAX) {
    /* A message beyond the limit we advertise (our SEQPACKET buf_alloc). */
    dev->st.bad_pkts++;
    pcb_reset(pcb, ERR_RST);
    return ERR_OK;
  }
  if (outstanding > pcb->buf_alloc || h->len > pcb->buf_alloc - outstanding) {
    /* The peer ignored our credit: reset it rather than give it our memory. */
    dev->st.credit_violations++;
    pcb_reset(pcb, ERR_RST);
    return ERR_OK;
  }
  if ((pcb->peer_shut & VIRTIO_VSOCK_SHUTDOWN_SEND) || (pcb->shut_sent & VIRTIO_VSOCK_SHUTDOWN_RCV)) {
    /* Data after the peer's end of stream, or after we stopped receiving: dropped. */
    if (h->len != 0) {
      pcb_rx_account(pcb, h->len);
      pcb->fwd_cnt += h->len;
      pcb_credit_check(pcb);
    }
    return ERR_OK;
  }
  if (h->len == 0 && !(eom && pcb->msg != NULL)) {
    return ERR_OK; /* nothing to hold: no queue grows by empty packets */
  }
  if (pcb->type == LWVSOCK_STREAM && pcb->rq_head != NULL && h->len <= LWVSOCK_RX_COPY_MAX) {
    if (!rq_merge(pcb, h, rb, *lp)) {
      return ERR_MEM;
    }
    pcb_rx_account(pcb, h->len);
    pcb_credit_check(pcb);
    return ERR_OK;
  }
  if (eom && pcb->msg != NULL) {
    p = msg_complete(pcb, h, rb, *lp);
  } else {
    p = take_payload(dev, h, rb, lp);
  }
  if (p == NULL) {
    return ERR_MEM;
  }
  if (h->len != 0) {
    pcb_rx_account(pcb, h->len);
    pcb_credit_check(pcb);
  }
  if (pcb->type == LWVSOCK_SEQPACKET && !eom) {
    if (pcb->msg != NULL) {
      pbuf_cat(pcb->msg, p);
    } else {
      pcb->msg = p;
    }
    return ERR_OK;
  }
  if (pcb->rq_head != NULL) {
    rq_push_back(pcb, p);
  } else {
    (void)pcb_deliver(pcb, p);
  }
  return ERR_OK;
}

static void
pcb_input_shutdown(struct lwvsock_pcb *pcb, uint32_t flags)
{
  struct lwvsock_dev *dev = pcb->dev;

  pcb->peer_shut |= (uint8_t)(flags & VIRTIO_VSOCK_SHUTDOWN_ALL);
  if ((pcb->peer_shut & VIRTIO_VSOCK_SHUTDOWN_RCV) && pcb->snd_queued != 0) {
    /* The peer reads no more: unsent data can never go. Dropping it frees the
       send buffer, so a writer waiting for room writes and learns ERR_CONN
       (Linux wakes blocked senders with EPIPE). */
    pcb_release_slots(pcb);
    pcb_dirty(pcb);
  }
  if (pcb->peer_shut & VIRTIO_VSOCK_SHUTDOWN_SEND) {
    pcb->flags |= PCB_F_FIN_PENDING;
    pcb_dirty(pcb);
  }
  if (pcb->peer_shut == VIRTIO_VSOCK_SHUTDOWN_ALL && !(pcb->flags & PCB_F_PEER_DONE)) {
    /* The peer is closing: leave the tables so the tuple can be reused, and
       answer with RST once nothing is left unread (Linux). */
    pcb_peer_gone(pcb);
    if (pcb->rq_head == NULL) {
      pcb_send_ctrl(pcb, VIRTIO_VSOCK_OP_RST, 0);
      pcb->shut_sent = VIRTIO_VSOCK_SHUTDOWN_ALL;
    }
    LWIP_UNUSED_ARG(dev);
  }
}

/*
 * The peer reset the connection. Data the application refused stays readable
 * (Linux keeps unread data after an RST); the application learns of the reset
 * once it has read it. Nothing goes out any more, not even an RST.
 */
static void
pcb_input_rst(struct lwvsock_pcb *pcb)
{
  pcb->dev->st.rst_rx++;
  pcb_peer_gone(pcb);
  if (pcb->rq_head == NULL) {
    pcb_fail(pcb, ERR_RST);
    return;
  }
  pcb->flags |= PCB_F_PEER_RESET;
  pcb->peer_shut = VIRTIO_VSOCK_SHUTDOWN_ALL;
  pcb->shut_sent = VIRTIO_VSOCK_SHUTDOWN_ALL; /* no RST is owed to it */
  pcb_release_slots(pcb);
  if (pcb->msg != NULL) {
    pbuf_free(pcb->msg); /* a message without its end is not data */
    pcb->msg = NULL;
  }
  pcb_dirty(pcb);
}

static err_t
pcb_input_established(struct lwvsock_pcb *pcb, const struct vsock_hdr *h, struct rxbuf *rb,
                      struct pbuf **lp)
{
  switch (h->op) {
    case VIRTIO_VSOCK_OP_RW:
      return pcb_input_rw(pcb, h, rb, lp);
    case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
      pcb_dirty(pcb); /* the window may have opened */
      break;
    case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
      pcb_send_ctrl(pcb, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0);
      break;
    case VIRTIO_VSOCK_OP_SHUTDOWN:
      pcb_input_shutdown(pcb, h->flags);
      break;
    case VIRTIO_VSOCK_OP_RST:
      pcb_input_rst(pcb);
      break;
    default:
      /* Unknown op, or a stray REQUEST/RESPONSE (a duplicate of the
         handshake): dropped, as Linux does; the connection is not harmed. */
      pcb->dev->st.bad_pkts++;
      break;
  }
  return ERR_OK;
}

static void
pcb_established(struct lwvsock_pcb *pcb)
{
  pcb->state = LWVSOCK_ESTABLISHED;
  pcb->flags &= ~PCB_F_ARMED;
  pcb->dev->st.conns_opened++;
  pcb->dev->st.conns_active++;
}

static void
pcb_input_listen(struct lwvsock_pcb *lpcb, const struct vsock_hdr *h)
{
  struct lwvsock_dev *dev = lpcb->dev;
  struct lwvsock_pcb *c;
  err_t err;

  if (h->op != VIRTIO_VSOCK_OP_REQUEST) {
    /* Typically a late packet of a connection that just ended: no socket
       wants it, so RST as Linux does; not a malformed packet. */
    reply_rst(dev, h);
    return;
  }
  if (lpcb->backlog_used >= lpcb->backlog || lpcb->cb.accept == NULL ||
      (c = pcb_alloc(dev, lpcb->type)) == NULL) {
    reply_rst(dev, h);
    return;
  }
  c->local_cid = (uint32_t)h->dst_cid;
  c->local_port = h->dst_port;
  c->remote_cid = (uint32_t)h->src_cid;
  c->remote_port = h->src_port;
  c->peer_buf_alloc = h->buf_alloc;
  c->peer_fwd_cnt = h->fwd_cnt;
  c->buf_alloc = lpcb->buf_alloc;
  c->snd_buf = lpcb->snd_buf;
  c->linger_ms = lpcb->linger_ms;
  c->flags |= lpcb->flags & PCB_F_NODELAY;
  c->listener = lpcb;
  c->flags |= PCB_F_BACKLOG;
  lpcb->backlog_used++;
  pcb_established(c);
  conn_insert(c);
  pcb_send_ctrl(c, VIRTIO_VSOCK_OP_RESPONSE, 0);
  c->flags |= PCB_F_ACCEPTING;
  err = lpcb->cb.accept(lpcb->arg, c, ERR_OK);
  if (err == ERR_ABRT) {
    return;
  }
  c->flags &= ~PCB_F_ACCEPTING;
  if (err != ERR_OK) {
    lwvsock_abort(c);
  } else if (!(c->flags & PCB_F_DEAD) && !(c->flags & PCB_F_DELAYED)) {
    backlog_release(c);
  }
}

static void
pcb_input_connecting(struct lwvsock_pcb *pcb, const struct vsock_hdr *h)
{
  switch (h->op) {
    case VIRTIO_VSOCK_OP_RESPONSE:
      pcb_established(pcb);
      if (pcb->cb.connected != NULL) {
        (void)pcb->cb.connected(pcb->arg, pcb, ERR_OK);
      }
      pcb_dirty(pcb);
      break;
    case VIRTIO_VSOCK_OP_RST:
      pcb->dev->st.rst_rx++;
      pcb_fail(pcb, ERR_RST);
      break;
    default:
      pcb->dev->st.bad_pkts++;
      pcb_reset(pcb, ERR_RST);
      break;
  }
}

err_t
pcb_input(struct lwvsock_dev *dev, const struct vsock_hdr *h, struct rxbuf *rb, struct pbuf *lp)
{
  struct lwvsock_pcb *pcb;
  err_t err = ERR_OK;
  bool type_ok = (h->type == LWVSOCK_STREAM && dev->has_stream) ||
                 (h->type == LWVSOCK_SEQPACKET && dev->has_seqpacket);

  if (h->src_cid > 0xffffffffull || h->dst_cid > 0xffffffffull) {
    dev->st.bad_pkts++;
    goto out;
  }
  if (!type_ok) {
    dev->st.bad_pkts++;
    reply_rst(dev, h);
    goto out;
  }
  pcb = conn_lookup(dev, h->dst_port, (uint32_t)h->src_cid, h->src_port);
  if (pcb == NULL) {
    struct lwvsock_pcb *l = bind_lookup(dev, h->dst_port);
    if (l != NULL && l->state == LWVSOCK_LISTEN &&
        (l->local_cid == LWVSOCK_CID_ANY || l->local_cid == h->dst_cid)) {
      pcb = l;
    }
  }
  if (pcb == NULL || pcb->type != h->type) {
    if (h->op == VIRTIO_VSOCK_OP_RST) {
      dev->st.rst_rx++;
    }
    reply_rst(dev, h);
    goto out;
  }
  if (pcb->state != LWVSOCK_LISTEN) {
    /* Every packet of a connection updates our view of the peer's credit. */
    pcb->peer_buf_alloc = h->buf_alloc;
    pcb->peer_fwd_cnt = h->fwd_cnt;
    if (!txbuf_sendq_empty(&pcb->sndq)) {
      pcb_dirty(pcb);
    }
  }
  switch (pcb->state) {
    case LWVSOCK_LISTEN:
      pcb_input_listen(pcb, h);
      break;
    case LWVSOCK_CONNECTING:
      pcb_input_connecting(pcb, h);
      break;
    case LWVSOCK_ESTABLISHED:
      err = pcb_input_established(pcb, h, rb, &lp);
      break;
    case LWVSOCK_CLOSING:
      /* We closed; only the end of the exchange matters now. */
      if (h->op == VIRTIO_VSOCK_OP_RST) {
        dev->st.rst_rx++;
        pcb_peer_gone(pcb);
        pcb_fail(pcb, ERR_RST);
      } else if (h->op == VIRTIO_VSOCK_OP_SHUTDOWN) {
        pcb->peer_shut |= (uint8_t)(h->flags & VIRTIO_VSOCK_SHUTDOWN_ALL);
        if ((pcb->peer_shut & VIRTIO_VSOCK_SHUTDOWN_RCV) && !pcb_all_sent(pcb)) {
          /* The peer reads no more: what we still hold can never go. */
          pcb_send_ctrl(pcb, VIRTIO_VSOCK_OP_RST, 0);
          pcb_fail(pcb, ERR_RST);
        } else if (pcb->peer_shut == VIRTIO_VSOCK_SHUTDOWN_ALL && pcb_all_sent(pcb)) {
          pcb_send_ctrl(pcb, VIRTIO_VSOCK_OP_RST, 0);
          pcb_kill(pcb);
        }
      } else if (h->op == VIRTIO_VSOCK_OP_CREDIT_REQUEST) {
        pcb_send_ctrl(pcb, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0);
      } else if (h->op == VIRTIO_VSOCK_OP_RW) {
        pcb->rx_cnt += h->len;
        pcb->fwd_cnt += h->len;
      }
      break;
    default:
      reply_rst(dev, h);
      break;
  }
out:
  if (lp != NULL && err != ERR_MEM) {
    pbuf_free(lp);
  }
  return err;
}

/* ---- timers and service --------------------------------------------------------- */

static void
pcb_arm(struct lwvsock_pcb *pcb, uint32_t ms)
{
  pcb->deadline = sys_now() + ms;
  pcb->flags |= PCB_F_ARMED;
  devbase_timer_at(pcb->dev, pcb->deadline);
}

int
pcb_timers(struct lwvsock_dev *dev, uint32_t now)
{
  struct lwvsock_pcb *pcb;
  bool tick = time_diff(now, dev->pcbs->next_tick) >= 0;
  int work = 0;

  if (tick) {
    dev->pcbs->next_tick = now + LWVSOCK_POLL_TICK_MS;
  }
  devbase_timer_reset(dev, dev->pcbs->next_tick);
  /* Killed pcbs stay on the list until pcb_service, so this walk is safe. */
  for (pcb = dev->pcbs->all; pcb != NULL; pcb = pcb->all_next) {
    if (pcb->flags & PCB_F_DEAD) {
      continue;
    }
    if (pcb->flags & PCB_F_ARMED) {
      if (time_diff(now, pcb->deadline) >= 0) {
        pcb->flags &= ~PCB_F_ARMED;
        work++;
        if (pcb->state == LWVSOCK_CONNECTING) {
          /* Linux sends nothing on a connect timeout; a late RESPONSE draws an RST. */
          pcb_fail(pcb, ERR_TIMEOUT);
        } else if (pcb->state == LWVSOCK_CLOSING) {
          if (pcb->flags & PCB_F_SHUT_PENDING) {
            dev->st.linger_timeouts++; /* the peer took nothing for linger_ms */
          }
          pcb_send_ctrl(pcb, VIRTIO_VSOCK_OP_RST, 0);
          pcb_fail(pcb, ERR_ABRT);
        }
        continue;
      }
      devbase_timer_at(dev, pcb->deadline);
    }
    if (pcb->flags & PCB_F_HELD) {
      if (time_diff(now, pcb->hold_since) >= LWVSOCK_TX_COALESCE_MS) {
        pcb_dirty(pcb); /* the held packet's time is up */
      } else {
        devbase_timer_at(dev, pcb->hold_since + LWVSOCK_TX_COALESCE_MS);
      }
    }
    if (!tick || pcb->state != LWVSOCK_ESTABLISHED || (pcb->flags & PCB_F_APP_CLOSED)) {
      continue;
    }
    if ((pcb->flags & PCB_F_STALLED) && !txbuf_sendq_empty(&pcb->sndq) &&
        !(pcb->flags & PCB_F_PEER_DONE)) {
      pcb_credit_request(pcb, now);
    }
    if (pcb->rq_head != NULL) {
      pcb_dirty(pcb); /* offer refused data again, as lwIP TCP does on its timer */
    }
    if (pcb->poll != NULL && pcb->poll_interval != 0 && ++pcb->poll_tick >= pcb->poll_interval) {
      pcb->poll_tick = 0;
      work++;
      (void)pcb->poll(pcb->arg, pcb);
    }
  }
  return work;
}

static int
pcb_service_one(struct lwvsock_pcb *pcb)
{
  int work = 0;

  /* Report completions first: the application may make room for data it refused. */
  if (pcb->acked != 0) {
    uint32_t n = pcb->acked;
    pcb->acked = 0;
    work++;
    if (pcb->sent != NULL && !(pcb->flags & PCB_F_APP_CLOSED)) {
      if (pcb->sent(pcb->arg, pcb, n) == ERR_ABRT || (pcb->flags & PCB_F_DEAD)) {
        return work;
      }
    }
  }
  while (pcb->rq_head != NULL && !(pcb->flags & PCB_F_APP_CLOSED)) {
    struct pbuf *p = rq_pop(pcb);
    work++;
    if (!pcb_deliver(pcb, p)) {
      if (pcb->flags & PCB_F_DEAD) {
        return work;
      }
      break; /* refused again; queued data must not stop our own sending */
    }
  }
  if ((pcb->flags & PCB_F_PEER_RESET) && pcb->rq_head == NULL) {
    /* All that was left before the peer's RST is read: now it learns. */
    pcb_fail(pcb, ERR_RST);
    return work + 1;
  }
  if ((pcb->flags & (PCB_F_FIN_PENDING | PCB_F_FIN_DONE)) == PCB_F_FIN_PENDING &&
      pcb->rq_head == NULL) {
    pcb->flags |= PCB_F_FIN_DONE;
    work++;
    if ((pcb->flags & PCB_F_PEER_DONE) && pcb->peer_shut == VIRTIO_VSOCK_SHUTDOWN_ALL &&
        pcb->shut_sent != VIRTIO_VSOCK_SHUTDOWN_ALL) {
      /* Unread data held the RST back (pcb_input_shutdown); it is all read now. */
      pcb_send_ctrl(pcb, VIRTIO_VSOCK_OP_RST, 0);
      pcb->shut_sent = VIRTIO_VSOCK_SHUTDOWN_ALL;
    }
    if (pcb->recv != NULL && !(pcb->flags & PCB_F_APP_CLOSED)) {
      if (pcb->recv(pcb->arg, pcb, NULL, ERR_OK) == ERR_ABRT || (pcb->flags & PCB_F_DEAD)) {
        return work;
      }
    }
  }
  pcb_flush(pcb);
  return work;
}

int
pcb_service(struct lwvsock_dev *dev)
{
  int work = 0;
  int passes;

  /* A few passes so work one pcb creates for another (loopback) is done now;
     bounded, so a pcb that re-dirties itself cannot hold the loop. */
  for (passes = 0; passes < 4 && dev->pcbs->dirty != NULL; passes++) {
    struct lwvsock_pcb *list = dev->pcbs->dirty;
    dev->pcbs->dirty = NULL;
    while (list != NULL) {
      struct lwvsock_pcb *pcb = list;
      list = pcb->dirty_next;
      pcb->flags &= ~PCB_F_DIRTY;
      if (pcb->flags & PCB_F_DEAD) {
        if ((pcb->flags & PCB_F_RST_PENDING) &&
            pcb_send_ctrl_ex(pcb, VIRTIO_VSOCK_OP_RST, 0, true) != ERR_OK) {
          pcb_txwait(pcb); /* retried when the device returns tx buffers */
          continue;
        }
        pcb_free(pcb);
        continue;
      }
      work += pcb_service_one(pcb);
      if ((pcb->flags & PCB_F_DEAD) && !(pcb->flags & PCB_F_DIRTY)) {
        pcb_dirty(pcb);
      }
    }
  }
  return work;
}

void
pcb_free_all(struct lwvsock_dev *dev)
{
  while (dev->pcbs->all != NULL) {
    struct lwvsock_pcb *pcb = dev->pcbs->all;
    pcb->flags &= ~(PCB_F_RST_PENDING | PCB_F_TXWAIT);
    pcb_kill(pcb);
    pcb_free(pcb);
  }
  dev->pcbs->dirty = NULL;
  dev->pcbs->txwait = 0;
}

void
pcb_transport_reset(struct lwvsock_dev *dev)
{
  struct lwvsock_pcb *pcb;

  /* Connections to CID 1 never touch the device (Linux: a transport of their own). */
  for (pcb = dev->pcbs->all; pcb != NULL; pcb = pcb->all_next) {
    if (!(pcb->flags & PCB_F_DEAD) && pcb_hashed(pcb) && pcb->remote_cid != LWVSOCK_CID_LOCAL) {
      pcb_fail(pcb, ERR_RST);
    }
  }
}

void
pcb_abort_all(struct lwvsock_dev *dev, err_t err)
{
  struct lwvsock_pcb *pcb;

  for (pcb = dev->pcbs->all; pcb != NULL; pcb = pcb->all_next) {
    if (pcb->flags & PCB_F_DEAD) {
      continue;
    }
    if (pcb_hashed(pcb) && !(pcb->flags & PCB_F_PEER_DONE) && err != ERR_IF) {
      pcb_send_ctrl(pcb, VIRTIO_VSOCK_OP_RST, 0);
    }
    pcb_fail(pcb, err);
  }
}

/* ---- raw API ---------------------------------------------------------------------- */

int
lwvsock_dev_closing(const struct lwvsock_dev *dev)
{
  const struct lwvsock_pcb *pcb;
  int n = 0;

  /* A closed pcb stays on the list until its end; a dead one only while its RST waits. */
  for (pcb = dev->pcbs->all; pcb != NULL; pcb = pcb->all_next) {
    if ((pcb->flags & PCB_F_APP_CLOSED) &&
        (!(pcb->flags & PCB_F_DEAD) || (pcb->flags & PCB_F_RST_PENDING))) {
      n++;
    }
  }
  return n;
}

struct lwvsock_pcb *
lwvsock_new(struct lwvsock_dev *dev, uint8_t type)
{
  if (dev == NULL || !dev->started || devbase_broken(dev) ||
      (type == LWVSOCK_STREAM && !dev->has_stream) ||
      (type == LWVSOCK_SEQPACKET && !dev->has_seqpacket) ||
      (type != LWVSOCK_STREAM && type != LWVSOCK_SEQPACKET)) {
    return NULL;
  }
  return pcb_alloc(dev, type);
}

void
lwvsock_arg(struct lwvsock_pcb *pcb, void *arg)
{
  if (pcb != NULL) {
    pcb->arg = arg;
  }
}

void
lwvsock_accept(struct lwvsock_pcb *pcb, lwvsock_accept_fn accept)
{
  if (pcb != NULL && (pcb->state == LWVSOCK_LISTEN || pcb->state == LWVSOCK_CLOSED)) {
    pcb->cb.accept = accept;
  }
}

void
lwvsock_recv(struct lwvsock_pcb *pcb, lwvsock_recv_fn recv)
{
  if (pcb != NULL) {
    pcb->recv = recv;
  }
}

void
lwvsock_sent(struct lwvsock_pcb *pcb, lwvsock_sent_fn sent)
{
  if (pcb != NULL) {
    pcb->sent = sent;
  }
}

void
lwvsock_err(struct lwvsock_pcb *pcb, lwvsock_err_fn err)
{
  if (pcb != NULL) {
    pcb->errf = err;
  }
}

void
lwvsock_poll(struct lwvsock_pcb *pcb, lwvsock_poll_fn poll, uint8_t interval)
{
  if (pcb == NULL) {
    return;
  }
  pcb->poll = poll;
  pcb->poll_interval = interval;
  pcb->poll_tick = 0;
}

static bool
pcb_usable(const struct lwvsock_pcb *pcb)
{
  return pcb != NULL && !(pcb->flags & (PCB_F_DEAD | PCB_F_APP_CLOSED));
}

err_t
lwvsock_bind(struct lwvsock_pcb *pcb, uint32_t cid, uint32_t port)
{
  struct lwvsock_dev *dev;
  int tries;

  if (!pcb_usable(pcb)) {
    return ERR_ARG;
  }
  dev = pcb->dev;
  if (pcb->flags & PCB_F_BOUND || pcb->state != LWVSOCK_CLOSED) {
    return ERR_ISCONN;
  }
  if (cid != LWVSOCK_CID_ANY && cid != dev->cid && cid != LWVSOCK_CID_LOCAL) {
    return ERR_VAL;
  }
  if (port == LWVSOCK_PORT_ANY) {
    /* Linux: a random start above 1023, then sequential, wrapping, bounded tries. */
    for (tries = 0; tries < LWVSOCK_EPHEMERAL_RETRIES; tries++) {
      uint32_t cand = dev->pcbs->next_ephemeral++;
      if (cand <= 1023u || cand == LWVSOCK_PORT_ANY) {
        cand = 1024u;
        dev->pcbs->next_ephemeral = 1025u;
      }
      if (bind_lookup(dev, cand) == NULL) {
        port = cand;
        break;
      }
    }
    if (port == LWVSOCK_PORT_ANY) {
      return ERR_USE;
    }
  } else if (bind_lookup(dev, port) != NULL) {
    return ERR_USE;
  }
  pcb->local_cid = cid;
  pcb->local_port = port;
  bind_insert(pcb);
  return ERR_OK;
}

struct lwvsock_pcb *
lwvsock_listen_with_backlog(struct lwvsock_pcb *pcb, uint8_t backlog, err_t *err)
{
  err_t e = ERR_OK;

  if (!pcb_usable(pcb)) {
    e = ERR_ARG;
  } else if (pcb->state == LWVSOCK_LISTEN) {
    pcb->backlog = backlog ? backlog : 1;
  } else if (pcb->state != LWVSOCK_CLOSED || !(pcb->flags & PCB_F_BOUND)) {
    e = ERR_CONN;
  } else {
    pcb->state = LWVSOCK_LISTEN;
    pcb->backlog = backlog ? backlog : 1;
  }
  if (err != NULL) {
    *err = e;
  }
  return e == ERR_OK ? pcb : NULL;
}

void
lwvsock_backlog_delayed(struct lwvsock_pcb *pcb)
{
  if (pcb != NULL && (pcb->flags & PCB_F_BACKLOG)) {
    pcb->flags |= PCB_F_DELAYED;
  }
}

void
lwvsock_backlog_accepted(struct lwvsock_pcb *pcb)
{
  if (pcb != NULL) {
    pcb->flags &= ~PCB_F_DELAYED;
    if (!(pcb->flags & PCB_F_ACCEPTING)) {
      backlog_release(pcb);
    }
  }
}

err_t
lwvsock_connect(struct lwvsock_pcb *pcb, uint32_t cid, uint32_t port, lwvsock_connected_fn connected)
{
  struct lwvsock_dev *dev;
  err_t err;

  if (!pcb_usable(pcb) || cid == LWVSOCK_CID_ANY || port == LWVSOCK_PORT_ANY) {
    return ERR_ARG;
  }
  if (pcb->state != LWVSOCK_CLOSED) {
    return pcb->state == LWVSOCK_CONNECTING ? ERR_ALREADY : ERR_ISCONN;
  }
  dev = pcb->dev;
  if (!(pcb->flags & PCB_F_BOUND)) {
    err = lwvsock_bind(pcb, LWVSOCK_CID_ANY, LWVSOCK_PORT_ANY);
    if (err != ERR_OK) {
      return err;
    }
  }
  pcb->remote_cid = cid;
  pcb->remote_port = port;
  if (conn_lookup(dev, pcb->local_port, cid, port) != NULL) {
    return ERR_USE;
  }
  /* Our source CID: CID 1 talks to itself as 1 (Linux's loopback transport). */
  pcb->local_cid = cid == LWVSOCK_CID_LOCAL ? LWVSOCK_CID_LOCAL : dev->cid;
  if (pcb_send_ctrl_ex(pcb, VIRTIO_VSOCK_OP_REQUEST, 0, true) != ERR_OK) {
    /* Not even the reply store takes it: say so now, not at the connect timeout. */
    return ERR_MEM;
  }
  pcb->cb.connected = connected;
  pcb->state = LWVSOCK_CONNECTING;
  conn_insert(pcb);
  pcb_arm(pcb, LWVSOCK_CONNECT_TIMEOUT_MS);
  return ERR_OK;
}

/* Bytes the slots can still take for this pcb. */
static uint32_t
pcb_slot_room(const struct lwvsock_pcb *pcb)
{
  return txbuf_sendq_room(pcb->dev, &pcb->sndq, pcb->type == LWVSOCK_STREAM);
}

static err_t
pcb_write_check(const struct lwvsock_pcb *pcb, uint32_t len)
{
  if (!pcb_usable(pcb)) {
    return ERR_ARG;
  }
  if (pcb->state != LWVSOCK_ESTABLISHED || (pcb->shut_want & VIRTIO_VSOCK_SHUTDOWN_SEND) ||
      (pcb->peer_shut & VIRTIO_VSOCK_SHUTDOWN_RCV) || (pcb->flags & PCB_F_PEER_DONE)) {
    return ERR_CONN;
  }
  if (pcb->type == LWVSOCK_SEQPACKET &&
      (len > 0xffffu || len > LWIP_MIN(pcb->peer_buf_alloc, pcb->buf_alloc))) {
    return ERR_VAL;
  }
  if (len > pcb->snd_buf - LWIP_MIN(pcb->snd_buf, pcb->snd_queued)) {
    return ERR_MEM;
  }
  return ERR_OK;
}

static err_t
pcb_write(struct lwvsock_pcb *pcb, const struct pbuf *p, const void *data, uint32_t len, uint8_t apiflags)
{
  err_t err = pcb_write_check(pcb, len);
  bool message;

  if (err != ERR_OK || len == 0) {
    return err; /* pcb may be NULL: read nothing before the check */
  }
  message = pcb->type == LWVSOCK_SEQPACKET;
  /* SEQPACKET: each write is one message, in slots of its own. Zero-copy
     takes no slot memory; what it cannot reference is copied. */
  if (!(apiflags & LWVSOCK_WRITE_FLAG_NOCOPY) ||
      txbuf_sendq_append_ref(pcb->dev, &pcb->sndq, p, (const uint8_t *)data, len, message) != ERR_OK) {
    if (len > pcb_slot_room(pcb)) {
      return ERR_MEM;
    }
    txbuf_sendq_append(pcb->dev, &pcb->sndq, p, (const uint8_t *)data, len, message);
  }
  pcb->snd_queued += len;
  if (apiflags & LWVSOCK_WRITE_FLAG_MORE) {
    pcb->flags |= PCB_F_MORE;
  } else {
    pcb->flags &= ~PCB_F_MORE;
  }
  pcb_dirty(pcb);
  return ERR_OK;
}

err_t
lwvsock_write(struct lwvsock_pcb *pcb, const void *data, uint32_t len, uint8_t apiflags)
{
  if (data == NULL && len > 0) {
    return ERR_ARG;
  }
  return pcb_write(pcb, NULL, data, len, apiflags);
}

err_t
lwvsock_write_pbuf(struct lwvsock_pcb *pcb, const struct pbuf *p, uint8_t apiflags)
{
  if (p == NULL) {
    return ERR_ARG;
  }
  return pcb_write(pcb, p, NULL, p->tot_len, apiflags);
}

err_t
lwvsock_output(struct lwvsock_pcb *pcb)
{
  if (!pcb_usable(pcb)) {
    return ERR_ARG;
  }
  if (!(pcb->flags & PCB_F_MORE)) {
    pcb_flush(pcb);
    txbuf_kick(pcb->dev);
  }
  return ERR_OK;
}

void
lwvsock_recved(struct lwvsock_pcb *pcb, uint32_t len)
{
  uint32_t outstanding;

  if (pcb == NULL || (pcb->flags & PCB_F_DEAD)) {
    return;
  }
  outstanding = pcb->rx_cnt - pcb->fwd_cnt;
  if (len > outstanding) {
    /* More than was received: a caller bug; clamped, as lwIP's tcp_recved does. */
    LWIP_DEBUGF(LWVSOCK_DEBUG | LWIP_DBG_LEVEL_WARNING, ("lwvsock_recved: %lu > %lu unread\n",
                (unsigned long)len, (unsigned long)outstanding));
    len = outstanding;
  }
  pcb->fwd_cnt += len;
  pcb_credit_check(pcb);
}

uint32_t
lwvsock_sndbuf(const struct lwvsock_pcb *pcb)
{
  if (!pcb_usable(pcb) || pcb->state != LWVSOCK_ESTABLISHED ||
      (pcb->shut_want & VIRTIO_VSOCK_SHUTDOWN_SEND)) {
    return 0;
  }
  return LWIP_MIN(pcb->snd_buf - LWIP_MIN(pcb->snd_buf, pcb->snd_queued), pcb_slot_room(pcb));
}

uint32_t
lwvsock_sndqueuelen(const struct lwvsock_pcb *pcb)
{
  uint32_t max;

  if (pcb == NULL) {
    return 0;
  }
  max = pcb_max_pkt(pcb);
  return (pcb->snd_queued + max - 1) / max;
}

uint32_t
lwvsock_mss(const struct lwvsock_pcb *pcb)
{
  return pcb != NULL ? pcb_max_pkt(pcb) : 0;
}

err_t
lwvsock_shutdown(struct lwvsock_pcb *pcb, int shut_rx, int shut_tx)
{
  uint8_t want = (uint8_t)((shut_rx ? VIRTIO_VSOCK_SHUTDOWN_RCV : 0) |
                           (shut_tx ? VIRTIO_VSOCK_SHUTDOWN_SEND : 0));

  if (!pcb_usable(pcb)) {
    return ERR_ARG;
  }
  if (pcb->state != LWVSOCK_ESTABLISHED) {
    return ERR_CONN;
  }
  if ((pcb->shut_want | want) != pcb->shut_want) {
    pcb->shut_want |= want;
    pcb->flags |= PCB_F_SHUT_PENDING;
    pcb_dirty(pcb);
  }
  return ERR_OK;
}

err_t
lwvsock_close(struct lwvsock_pcb *pcb)
{
  if (pcb == NULL || (pcb->flags & (PCB_F_DEAD | PCB_F_APP_CLOSED))) {
    return ERR_ARG;
  }
  pcb->flags |= PCB_F_APP_CLOSED;
  pcb->recv = NULL;
  pcb->sent = NULL;
  pcb->poll = NULL;
  if (pcb->state != LWVSOCK_ESTABLISHED || (pcb->flags & PCB_F_PEER_DONE) || pcb_all_sent(pcb)) {
    pcb->errf = NULL; /* else kept: it learns if the linger bound drops data */
  }
  backlog_release(pcb);
  switch (pcb->state) {
    case LWVSOCK_ESTABLISHED:
      if (pcb->flags & PCB_F_PEER_DONE) {
        /* The peer is gone already: answer its SHUTDOWN with the RST it waits for. */
        if (pcb->shut_sent != VIRTIO_VSOCK_SHUTDOWN_ALL) {
          pcb_send_ctrl(pcb, VIRTIO_VSOCK_OP_RST, 0);
        }
        pcb_kill(pcb);
        break;
      }
      rq_free(pcb);
      pcb->state = LWVSOCK_CLOSING;
      pcb->shut_want = VIRTIO_VSOCK_SHUTDOWN_ALL;
      pcb->flags |= PCB_F_SHUT_PENDING;
      pcb_arm(pcb, pcb->linger_ms); /* the close timer starts when SHUTDOWN is out */
      pcb_dirty(pcb);
      break;
    case LWVSOCK_CONNECTING:
      pcb_send_ctrl(pcb, VIRTIO_VSOCK_OP_RST, 0);
      pcb_kill(pcb);
      break;
    default:
      pcb_kill(pcb);
      break;
  }
  return ERR_OK;
}

void
lwvsock_abort(struct lwvsock_pcb *pcb)
{
  if (pcb == NULL || (pcb->flags & PCB_F_DEAD)) {
    return;
  }
  if (pcb_hashed(pcb) && !(pcb->flags & PCB_F_PEER_DONE)) {
    pcb_send_ctrl(pcb, VIRTIO_VSOCK_OP_RST, 0);
  }
  pcb_fail(pcb, ERR_ABRT);
}

void
lwvsock_set_rcvbuf(struct lwvsock_pcb *pcb, uint32_t size)
{
  if (!pcb_usable(pcb)) {
    return;
  }
  pcb->buf_alloc = pcb_rcvbuf_clamp(pcb->type, size);
  if (pcb->state == LWVSOCK_ESTABLISHED) {
    /* Linux announces a changed buffer size at once. */
    pcb->flags |= PCB_F_CREDIT_UPDATE;
    pcb_dirty(pcb);
  }
}

uint32_t
lwvsock_get_rcvbuf(const struct lwvsock_pcb *pcb)
{
  return pcb != NULL ? pcb->buf_alloc : 0;
}

void
lwvsock_set_sndbuf(struct lwvsock_pcb *pcb, uint32_t size)
{
  if (pcb_usable(pcb)) {
    pcb->snd_buf = LWIP_MAX(LWVSOCK_SND_BUF_MIN, LWIP_MIN(size, LWVSOCK_SND_BUF_MAX));
  }
}

void
lwvsock_set_linger(struct lwvsock_pcb *pcb, uint32_t ms)
{
  if (pcb_usable(pcb)) {
    pcb->linger_ms = ms;
  }
}

void
lwvsock_nagle_disable(struct lwvsock_pcb *pcb)
{
  if (pcb_usable(pcb)) {
    pcb->flags |= PCB_F_NODELAY;
    pcb_dirty(pcb); /* a held packet goes now */
  }
}

void
lwvsock_nagle_enable(struct lwvsock_pcb *pcb)
{
  if (pcb_usable(pcb)) {
    pcb->flags &= ~PCB_F_NODELAY;
  }
}

int
lwvsock_nagle_disabled(const struct lwvsock_pcb *pcb)
{
  return pcb != NULL && (pcb->flags & PCB_F_NODELAY) != 0;
}

uint32_t
lwvsock_local_cid(const struct lwvsock_pcb *pcb)
{
  return pcb != NULL ? pcb->local_cid : 0;
}

uint32_t
lwvsock_local_port(const struct lwvsock_pcb *pcb)
{
  return pcb != NULL ? pcb->local_port : 0;
}

uint32_t
lwvsock_remote_cid(const struct lwvsock_pcb *pcb)
{
  return pcb != NULL ? pcb->remote_cid : 0;
}

uint32_t
lwvsock_remote_port(const struct lwvsock_pcb *pcb)
{
  return pcb != NULL ? pcb->remote_port : 0;
}

enum lwvsock_state
lwvsock_state(const struct lwvsock_pcb *pcb)
{
  return pcb != NULL ? (enum lwvsock_state)pcb->state : LWVSOCK_CLOSED;
}

uint8_t
lwvsock_type(const struct lwvsock_pcb *pcb)
{
  return pcb != NULL ? pcb->type : 0;
}

struct lwvsock_dev *
lwvsock_pcb_dev(const struct lwvsock_pcb *pcb)
{
  return pcb != NULL ? pcb->dev : NULL;
}

void
lwvsock_pcb_get_stats(const struct lwvsock_pcb *pcb, struct lwvsock_pcb_stats *st)
{
  if (pcb == NULL || st == NULL) {
    return;
  }
  st->rx_bytes = ((uint64_t)pcb->rx_hi << 32) | pcb->rx_cnt;
  st->tx_bytes = ((uint64_t)pcb->tx_hi << 32) | pcb->tx_cnt;
  st->rx_pkts = pcb->rx_pkts;
  st->tx_pkts = pcb->tx_pkts;
  st->credit_stalls = pcb->stalls;
}
