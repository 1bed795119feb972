/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Simulated device: the host's end of the sockets, behaving like Linux
 * vhost-vsock + AF_VSOCK (credit rules, when CREDIT_UPDATE goes out, RST
 * rules, close).
 *
 * Host sockets live in an array indexed by id (a free list recycles ids), are
 * found by (host port, guest port) through a hash, and owe the guest packets
 * through per-socket pending bits plus their byte queue: a socket with
 * something to send sits on the send list, which sim_deliver() serves round
 * robin, one packet per socket per turn. Replies that have no socket (RST to
 * an unknown connection) wait in a FIFO. The number of sockets owing control
 * packets plus those RSTs is ctl_pending; guest tx is not taken while it
 * reaches the rx ring size (as vhost), so nothing grows without bound and
 * everything resumes once the guest refills rx.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/sys.h"
#include "sim_priv.h"

/* ---- lookup --------------------------------------------------------------------- */

static struct sim_sock *
sim_sock_get(struct lwvsock_sim *sim, int id)
{
  if (id <= 0 || id >= sim->nsocks) {
    return NULL;
  }
  return sim->socks[id];
}

/** A socket the application may still use (not closed by it). */
static struct sim_sock *
sim_sock_app(struct lwvsock_sim *sim, int id)
{
  struct sim_sock *s = sim_sock_get(sim, id);
  return (s != NULL && !s->released) ? s : NULL;
}

static uint32_t
sim_hash(uint32_t local_port, uint32_t remote_port)
{
  uint32_t h = local_port * 0x9e3779b1u ^ remote_port * 0x85ebca77u;
  return (h ^ (h >> 15)) & (SIM_HASH_BUCKETS - 1);
}

static struct sim_sock *
sim_lookup(struct lwvsock_sim *sim, uint32_t local_port, uint32_t remote_port)
{
  int id = sim->hash[sim_hash(local_port, remote_port)];

  while (id != 0) {
    struct sim_sock *s = sim->socks[id];
    if (s->local_port == local_port && s->remote_port == remote_port) {
      return s;
    }
    id = s->hnext;
  }
  return NULL;
}

static void
sim_sock_hash(struct lwvsock_sim *sim, struct sim_sock *s)
{
  uint32_t b = sim_hash(s->local_port, s->remote_port);

  s->hnext = sim->hash[b];
  sim->hash[b] = s->id;
  s->hashed = true;
}

static void
sim_sock_unhash(struct lwvsock_sim *sim, struct sim_sock *s)
{
  int *link;

  if (!s->hashed) {
    return;
  }
  link = &sim->hash[sim_hash(s->local_port, s->remote_port)];
  while (*link != s->id) {
    link = &sim->socks[*link]->hnext;
  }
  *link = s->hnext;
  s->hnext = 0;
  s->hashed = false;
}

/* ---- send list, pending bits, timers --------------------------------------------------- */

static void
sim_sl_append(struct lwvsock_sim *sim, struct sim_sock *s)
{
  if (s->queued) {
    return;
  }
  s->queued = true;
  s->snext = 0;
  s->sprev = sim->send_tail;
  if (sim->send_tail != 0) {
    sim->socks[sim->send_tail]->snext = s->id;
  } else {
    sim->send_head = s->id;
  }
  sim->send_tail = s->id;
}

static void
sim_sl_remove(struct lwvsock_sim *sim, struct sim_sock *s)
{
  if (!s->queued) {
    return;
  }
  if (s->sprev != 0) {
    sim->socks[s->sprev]->snext = s->snext;
  } else {
    sim->send_head = s->snext;
  }
  if (s->snext != 0) {
    sim->socks[s->snext]->sprev = s->sprev;
  } else {
    sim->send_tail = s->sprev;
  }
  s->queued = false;
  s->snext = s->sprev = 0;
}

static void
sim_set_pend(struct lwvsock_sim *sim, struct sim_sock *s, uint8_t bits)
{
  if (s->pend == 0) {
    sim->ctl_pending++;
  }
  s->pend |= bits;
}

static void
sim_clear_pend(struct lwvsock_sim *sim, struct sim_sock *s, uint8_t bits)
{
  if (s->pend != 0) {
    s->pend &= (uint8_t)~bits;
    if (s->pend == 0) {
      sim->ctl_pending--;
    }
  }
}

static void
sim_timer_arm(struct lwvsock_sim *sim, struct sim_sock *s, uint32_t ms)
{
  uint32_t deadline = sys_now() + ms;

  if (!s->timer) {
    s->timer = true;
    sim->ntimers++;
  }
  s->deadline = deadline;
  if (sim->ntimers == 1 || (int32_t)(deadline - sim->next_deadline) < 0) {
    sim->next_deadline = deadline;
  }
}

static void
sim_timer_disarm(struct lwvsock_sim *sim, struct sim_sock *s)
{
  if (s->timer) {
    s->timer = false;
    sim->ntimers--;
  }
}

/* ---- credit ------------------------------------------------------------------------------ */

/** buf_alloc as the guest is told (the huge_buf_alloc fault overrides it). */
static uint32_t
sim_adv_buf_alloc(const struct lwvsock_sim *sim, const struct sim_sock *s)
{
  return sim->faults.huge_buf_alloc ? sim->faults.huge_buf_alloc : s->buf_alloc;
}

/**
 * Bytes the host may send now: the guest's free space, with the window capped
 * by our own buffer (Linux 2026, "cap TX credit to local buffer size"), in
 * signed arithmetic so a shrinking buf_alloc gives 0, not a huge window.
 */
static uint32_t
sim_credit(const struct lwvsock_sim *sim, const struct sim_sock *s)
{
  uint32_t win = s->peer_buf_alloc;
  int64_t c;

  if (sim->faults.ignore_credit) {
    return UINT32_MAX;
  }
  if (win > sim_adv_buf_alloc(sim, s)) {
    win = sim_adv_buf_alloc(sim, s);
  }
  c = (int64_t)win - (int64_t)(uint32_t)(s->tx_cnt - s->peer_fwd_cnt);
  return c > 0 ? (uint32_t)c : 0;
}

static bool
sim_tx_queued(const struct sim_sock *s)
{
  return s->type == VIRTIO_VSOCK_TYPE_SEQPACKET ? s->tx_msgs.count != 0 : s->txq.len != 0;
}

static bool
sim_data_sendable(const struct lwvsock_sim *sim, const struct sim_sock *s)
{
  return (s->state == LWVSOCK_SIM_CONNECTED || s->state == LWVSOCK_SIM_CLOSING) &&
         sim_tx_queued(s) && !(s->shut_sent & VIRTIO_VSOCK_SHUTDOWN_SEND) &&
         sim_credit(sim, s) > 0;
}

/** SHUTDOWN flags that can go out now (SEND only once the queued data is out). */
static uint32_t
sim_shutdown_sendable(const struct sim_sock *s)
{
  uint32_t pending = s->local_shutdown & ~s->shut_sent;

  if ((pending & VIRTIO_VSOCK_SHUTDOWN_SEND) && sim_tx_queued(s)) {
    return 0;
  }
  return pending;
}

static bool
sim_has_work(const struct lwvsock_sim *sim, const struct sim_sock *s)
{
  return s->pend != 0 || sim_data_sendable(sim, s) || sim_shutdown_sendable(s) != 0;
}

/**
 * Put @p s on the send list when it has something to send. A connection
 * blocked on credit asks for it once (cfg.credit_request) and again every
 * SIM_CREDIT_REQUEST_INTERVAL_MS while still blocked.
 */
static void
sim_schedule(struct lwvsock_sim *sim, struct sim_sock *s)
{
  if (sim->cfg.credit_request && s->state == LWVSOCK_SIM_CONNECTED && !s->credit_req_sent &&
      sim_tx_queued(s) && !(s->shut_sent & VIRTIO_VSOCK_SHUTDOWN_SEND) && sim_credit(sim, s) == 0) {
    s->credit_req_sent = true;
    sim_set_pend(sim, s, SIM_PEND_CREDIT_REQUEST);
    sim_timer_arm(sim, s, SIM_CREDIT_REQUEST_INTERVAL_MS);
  }
  if (sim_has_work(sim, s)) {
    sim_sl_append(sim, s);
  }
}

/* ---- socket life cycle -------------------------------------------------------------------- */

static struct sim_sock *
sim_sock_alloc(struct lwvsock_sim *sim)
{
  struct sim_sock *s;
  int id;

  if (sim->nfree == 0) {
    int ncap = sim->nsocks ? sim->nsocks * 2 : 64;
    struct sim_sock **ns;
    int *nf;
    int k;
    if (sim->nsocks >= SIM_MAX_SOCKS) {
      return NULL;
    }
    if (ncap > SIM_MAX_SOCKS) {
      ncap = SIM_MAX_SOCKS;
    }
    ns = (struct sim_sock **)realloc(sim->socks, (size_t)ncap * sizeof(*ns));
    if (ns == NULL) {
      return NULL;
    }
    sim->socks = ns;
    nf = (int *)realloc(sim->free_ids, (size_t)ncap * sizeof(*nf));
    if (nf == NULL) {
      return NULL;
    }
    sim->free_ids = nf;
    /* id 0 is never used: 0 ends every list; lowest ids are handed out first */
    for (k = ncap - 1; k >= (sim->nsocks ? sim->nsocks : 1); k--) {
      sim->socks[k] = NULL;
      sim->free_ids[sim->nfree++] = k;
    }
    if (sim->nsocks == 0) {
      sim->socks[0] = NULL;
    }
    sim->nsocks = ncap;
  }
  s = (struct sim_sock *)calloc(1, sizeof(*s));
  if (s == NULL) {
    return NULL;
  }
  id = sim->free_ids[--sim->nfree];
  s->id = id;
  s->remote_cid = sim->cid;
  s->buf_alloc = sim->cfg.host_buf_alloc;
  sim->socks[id] = s;
  return s;
}

static void
sim_sock_free(struct lwvsock_sim *sim, struct sim_sock *s)
{
  sim_sl_remove(sim, s);
  sim_sock_unhash(sim, s);
  sim_timer_disarm(sim, s);
  sim_clear_pend(sim, s, 0xff);
  sim_bq_clear(sim, &s->rxq);
  sim_bq_clear(sim, &s->txq);
  sim_u32q_free(&s->rx_msgs);
  sim_u32q_free(&s->rx_skbs);
  sim_u32q_free(&s->tx_msgs);
  sim->socks[s->id] = NULL;
  sim->free_ids[sim->nfree++] = s->id;
  free(s);
}

static void
sim_drop_tx(struct lwvsock_sim *sim, struct sim_sock *s)
{
  sim_bq_clear(sim, &s->txq);
  sim_u32q_free(&s->tx_msgs);
  s->tx_msg_off = 0;
}

/** The connection is over: no more packets match it; @p err says why. */
static void
sim_set_closed(struct lwvsock_sim *sim, struct sim_sock *s, int err)
{
  s->state = LWVSOCK_SIM_CLOSED;
  s->err = err;
  sim_sock_unhash(sim, s);
  sim_timer_disarm(sim, s);
  sim_drop_tx(sim, s);
  sim_clear_pend(sim, s, (uint8_t)~SIM_PEND_RST);
}

/** Send RST and forget the socket once it is out (the application let go of it). */
static void
sim_sock_abort(struct lwvsock_sim *sim, struct sim_sock *s)
{
  s->released = true;
  if (s->remote_cid != sim->cid) {
    /* nothing of this connection ever reached the guest */
    sim_sock_free(sim, s);
    return;
  }
  sim_set_closed(sim, s, s->err);
  sim_set_pend(sim, s, SIM_PEND_RST);
  sim_sl_append(sim, s);
}

/** RST to a packet that has no connection (never to an RST); carries no credit. */
static void
sim_reply_rst(struct lwvsock_sim *sim, const struct vsock_hdr *h)
{
  struct vsock_hdr r;
  struct sim_raw *p;

  if (h->op == VIRTIO_VSOCK_OP_RST) {
    return;
  }
  p = (struct sim_raw *)malloc(sizeof(*p));
  if (p == NULL) {
    return; /* as a lost packet: the guest's connect times out */
  }
  memset(&r, 0, sizeof(r));
  r.src_cid = VMADDR_CID_HOST;
  r.dst_cid = h->src_cid;
  r.src_port = h->dst_port;
  r.dst_port = h->src_port;
  r.type = h->type;
  r.op = VIRTIO_VSOCK_OP_RST;
  vsock_hdr_encode(&r, p->hdr, sizeof(p->hdr));
  p->len = 0;
  p->next = NULL;
  if (sim->orphan_tail != NULL) {
    sim->orphan_tail->next = p;
  } else {
    sim->orphan_head = p;
  }
  sim->orphan_tail = p;
  sim->ctl_pending++;
}

bool
sim_tx_blocked(const struct lwvsock_sim *sim)
{
  uint32_t limit = sim->vq[VIRTIO_VSOCK_QUEUE_RX].num;
  return sim->ctl_pending >= (limit ? limit : 1u);
}

static bool
sim_type_ok(const struct lwvsock_sim *sim, uint16_t type)
{
  return type == VIRTIO_VSOCK_TYPE_STREAM ||
         (type == VIRTIO_VSOCK_TYPE_SEQPACKET &&
          (sim->driver_features & VIRTIO_BIT(VIRTIO_VSOCK_F_SEQPACKET)) != 0);
}

/* ---- guest -> host ------------------------------------------------------------------------ */

static void
sim_accept_request(struct lwvsock_sim *sim, struct sim_sock *l, const struct vsock_hdr *h)
{
  struct sim_sock *c;

  if (h->type != l->type || l->acc_len >= SIM_BACKLOG || h->src_port == VMADDR_PORT_ANY) {
    sim_reply_rst(sim, h);
    return;
  }
  c = sim_sock_alloc(sim);
  if (c == NULL) {
    sim_reply_rst(sim, h);
    return;
  }
  c->state = LWVSOCK_SIM_CONNECTED;
  c->established = true;
  c->type = h->type;
  c->local_port = h->dst_port;
  c->remote_port = h->src_port;
  c->peer_buf_alloc = h->buf_alloc;
  c->peer_fwd_cnt = h->fwd_cnt;
  sim_sock_hash(sim, c);
  if (l->acc_tail != 0) {
    sim->socks[l->acc_tail]->acc_next = c->id;
  } else {
    l->acc_head = c->id;
  }
  l->acc_tail = c->id;
  l->acc_len++;
  sim_set_pend(sim, c, SIM_PEND_RESPONSE);
  sim_sl_append(sim, c);
}

/** The guest has shut both ways and the host has read everything: RST, done (Linux). */
static void
sim_maybe_finish(struct lwvsock_sim *sim, struct sim_sock *s)
{
  if (s->state == LWVSOCK_SIM_CONNECTED && s->peer_shutdown == VIRTIO_VSOCK_SHUTDOWN_ALL &&
      s->rxq.len == 0 && s->rx_msgs.count == 0) {
    sim_set_closed(sim, s, 0);
    sim_set_pend(sim, s, SIM_PEND_RST);
  }
}

/** RW beyond our buffer: reset with ENOBUFS (Linux 2026). */
static void
sim_credit_violation(struct lwvsock_sim *sim, struct sim_sock *s)
{
  sim->stats.credit_violations++;
  s->peer_shutdown = VIRTIO_VSOCK_SHUTDOWN_ALL;
  sim_set_closed(sim, s, -ENOBUFS);
  sim_set_pend(sim, s, SIM_PEND_RST);
}

/*
 * Linux 2026 counts a stream's queued packets too: each RW is one skb costing
 * SIM_SKB_OVERHEAD of buf_alloc, except a small one copied into the tail skb.
 * Real tail room depends on the allocation; the sim lets the tail grow to
 * SIM_GOOD_COPY_LEN only, the strict end. -ENOBUFS: over budget (Linux resets).
 */
static int
sim_skb_enqueue(struct sim_sock *s, uint32_t len, uint64_t limit)
{
  struct sim_u32q *q = &s->rx_skbs;

  if (len <= SIM_GOOD_COPY_LEN && q->count > 0) {
    uint32_t *tail = &q->v[(q->head + q->count - 1) % q->cap];
    if (*tail + len <= SIM_GOOD_COPY_LEN) {
      *tail += len;
      return 0;
    }
  }
  if ((uint64_t)(q->count + 1) * SIM_SKB_OVERHEAD > limit) {
    return -ENOBUFS;
  }
  return sim_u32q_push(q, len);
}

/* The reader took @p n bytes: skbs it emptied leave the queue. */
static void
sim_skb_dequeue(struct sim_sock *s, uint32_t n)
{
  struct sim_u32q *q = &s->rx_skbs;

  while (n > 0 && q->count > 0) {
    if (q->v[q->head] > n) {
      q->v[q->head] -= n;
      return;
    }
    n -= sim_u32q_pop(q);
  }
}

static void
sim_recv_rw(struct lwvsock_sim *sim, struct sim_sock *s, const struct vsock_hdr *h,
            struct sim_iter *payload)
{
  uint64_t limit = sim_adv_buf_alloc(sim, s);

  if ((uint64_t)s->rxq.len + h->len > limit) {
    sim_credit_violation(sim, s);
    return;
  }
  if (s->type == VIRTIO_VSOCK_TYPE_STREAM && h->len > 0 && sim_skb_enqueue(s, h->len, limit) != 0) {
    sim_credit_violation(sim, s);
    return;
  }
  if (sim_bq_append_iter(sim, &s->rxq, payload, h->len) != 0) {
    sim_credit_violation(sim, s);
    return;
  }
  sim->stats.rx_bytes += h->len;
  if (s->type == VIRTIO_VSOCK_TYPE_SEQPACKET) {
    s->rx_msg_partial += h->len;
    if (h->flags & VIRTIO_VSOCK_SEQ_EOM) {
      /* every queued message costs metadata too: bound the count as Linux does */
      if ((uint64_t)(s->rx_msgs.count + 1) * SIM_SKB_OVERHEAD > limit ||
          sim_u32q_push(&s->rx_msgs, s->rx_msg_partial) != 0) {
        sim_credit_violation(sim, s);
        return;
      }
      s->rx_msg_partial = 0;
    }
  }
}

static void
sim_recv_connected(struct lwvsock_sim *sim, struct sim_sock *s, const struct vsock_hdr *h,
                   struct sim_iter *payload)
{
  switch (h->op) {
    case VIRTIO_VSOCK_OP_RW:
      sim_recv_rw(sim, s, h, payload);
      break;
    case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
      sim_set_pend(sim, s, SIM_PEND_CREDIT_UPDATE);
      break;
    case VIRTIO_VSOCK_OP_SHUTDOWN:
      s->peer_shutdown |= h->flags & VIRTIO_VSOCK_SHUTDOWN_ALL;
      if (s->peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_RCV) {
        sim_drop_tx(sim, s);
      }
      if (s->peer_shutdown == VIRTIO_VSOCK_SHUTDOWN_ALL) {
        /* the tuple is free again at once; the RST waits for the reader */
        sim_sock_unhash(sim, s);
        sim_maybe_finish(sim, s);
      }
      break;
    case VIRTIO_VSOCK_OP_RST:
      s->peer_shutdown = VIRTIO_VSOCK_SHUTDOWN_ALL;
      sim_set_closed(sim, s, -ECONNRESET);
      break;
    default:
      /* CREDIT_UPDATE did its work above; a stray REQUEST/RESPONSE is ignored (Linux) */
      break;
  }
}

void
sim_handle_guest_pkt(struct lwvsock_sim *sim, const struct vsock_hdr *h, struct sim_iter *payload)
{
  struct sim_sock *s;

  /* vhost only accepts correctly addressed packets, silently */
  if (h->src_cid != sim->cid || h->dst_cid != VMADDR_CID_HOST) {
    sim->stats.dropped++;
    return;
  }
  switch (h->op) {
    case VIRTIO_VSOCK_OP_RST:
      sim->stats.rst_rx++;
      break;
    case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
      sim->stats.credit_updates_rx++;
      break;
    case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
      sim->stats.credit_requests_rx++;
      break;
    default:
      break;
  }
  if (!sim_type_ok(sim, h->type)) {
    sim_reply_rst(sim, h);
    return;
  }
  s = sim_lookup(sim, h->dst_port, h->src_port);
  if (h->op == VIRTIO_VSOCK_OP_INVALID || h->op > VIRTIO_VSOCK_OP_MAX) {
    /* an unknown op: RST, and a connection it names is over for both ends */
    if (s == NULL || s->type != h->type) {
      sim_reply_rst(sim, h);
    } else if (s->released) {
      sim_sock_abort(sim, s);
    } else {
      s->peer_shutdown = VIRTIO_VSOCK_SHUTDOWN_ALL;
      sim_set_closed(sim, s, -EPROTO);
      sim_set_pend(sim, s, SIM_PEND_RST);
      sim_sl_append(sim, s);
    }
    return;
  }
  if (s == NULL) {
    s = sim_lookup(sim, h->dst_port, VMADDR_PORT_ANY);
    if (s != NULL && h->op == VIRTIO_VSOCK_OP_REQUEST) {
      sim_accept_request(sim, s, h);
    } else {
      sim_reply_rst(sim, h);
    }
    return;
  }
  if (s->type != h->type) {
    sim_reply_rst(sim, h);
    return;
  }
  /* every packet of a connection updates our view of the guest's credit */
  s->peer_buf_alloc = h->buf_alloc;
  s->peer_fwd_cnt = h->fwd_cnt;
  if (s->credit_req_sent && sim_credit(sim, s) > 0) {
    s->credit_req_sent = false;
    if (s->state == LWVSOCK_SIM_CONNECTED) {
      sim_timer_disarm(sim, s);
    }
  }
  switch (s->state) {
    case LWVSOCK_SIM_CONNECTING:
      sim_timer_disarm(sim, s);
      if (h->op == VIRTIO_VSOCK_OP_RESPONSE) {
        s->state = LWVSOCK_SIM_CONNECTED;
        s->established = true;
      } else if (h->op == VIRTIO_VSOCK_OP_RST) {
        sim_set_closed(sim, s, -ECONNREFUSED);
      } else {
        sim_set_closed(sim, s, -EPROTO);
        sim_set_pend(sim, s, SIM_PEND_RST);
      }
      break;
    case LWVSOCK_SIM_CONNECTED:
      sim_recv_connected(sim, s, h, payload);
      break;
    case LWVSOCK_SIM_CLOSING:
      /* only the guest's RST matters now (Linux virtio_transport_recv_disconnecting) */
      if (h->op == VIRTIO_VSOCK_OP_RST) {
        sim_sock_free(sim, s);
        return;
      }
      break;
    default:
      sim_reply_rst(sim, h);
      return;
  }
  sim_schedule(sim, s);
}

/* ---- host -> guest -------------------------------------------------------------------------- */

/**
 * Write a header into the guest's buffer, with the one-shot header-length
 * fault: encoded in place when the buffer's first piece holds it (always, but
 * for drivers that split the header), else through a bounce buffer.
 */
static void
sim_put_hdr(struct lwvsock_sim *sim, struct sim_iter *it, const struct vsock_hdr *h)
{
  uint8_t bounce[VIRTIO_VSOCK_HDR_LEN], *p = bounce;
  struct sim_iter start = *it;
  bool in_place = sim_iter_span(it, &p, VIRTIO_VSOCK_HDR_LEN) == VIRTIO_VSOCK_HDR_LEN;

  if (!in_place) {
    *it = start;
    p = bounce;
  }
  vsock_hdr_encode(h, p, VIRTIO_VSOCK_HDR_LEN);
  if (sim->faults.hdr_len_mismatch) {
    sim->faults.hdr_len_mismatch = 0;
    le32_store(p + VSOCK_HDR_OFF_LEN, h->len + 1);
  }
  if (!in_place) {
    sim_iter_write(it, bounce, VIRTIO_VSOCK_HDR_LEN);
  }
}

/** Payload bytes of the next RW: @p avail bounded by credit, the packet size and the buffer's @p room. */
static uint32_t
sim_rw_len(const struct lwvsock_sim *sim, const struct sim_sock *s, uint32_t avail, uint32_t room)
{
  uint32_t n = sim_credit(sim, s);

  if (n > avail) {
    n = avail;
  }
  if (n > sim->cfg.max_pkt) {
    n = sim->cfg.max_pkt;
  }
  return n < room ? n : room;
}

/**
 * Write the RW in @p h (its len set) and its payload, from @p src or, when
 * NULL, from the send queue. Returns bytes written.
 */
static uint32_t
sim_put_rw(struct lwvsock_sim *sim, struct sim_sock *s, struct vsock_hdr *h, struct sim_iter *it,
           const uint8_t *src)
{
  h->op = VIRTIO_VSOCK_OP_RW;
  s->tx_cnt += h->len;
  sim->stats.tx_bytes += h->len;
  /* every packet tells the guest our buf_alloc and fwd_cnt */
  s->last_fwd_cnt = s->fwd_cnt;
  sim_clear_pend(sim, s, SIM_PEND_CREDIT_UPDATE);
  sim_put_hdr(sim, it, h);
  if (src != NULL) {
    sim_iter_write(it, src, h->len);
  } else {
    sim_bq_read_iter(sim, &s->txq, it, h->len);
  }
  return VIRTIO_VSOCK_HDR_LEN + h->len;
}

static void
sim_hdr_init(const struct lwvsock_sim *sim, const struct sim_sock *s, struct vsock_hdr *h)
{
  memset(h, 0, sizeof(*h));
  h->src_cid = VMADDR_CID_HOST;
  h->dst_cid = s->remote_cid;
  h->src_port = s->local_port;
  h->dst_port = s->remote_port;
  h->type = s->type;
  h->buf_alloc = sim_adv_buf_alloc(sim, s);
  h->fwd_cnt = s->fwd_cnt;
}

/**
 * Build the next packet @p s owes the guest into the rx chain behind @p it
 * (@p room payload bytes fit). Returns bytes written, 0 when nothing fits.
 * Sets *freed when the packet was the RST that ends a released socket.
 */
static uint32_t
sim_sock_emit(struct lwvsock_sim *sim, struct sim_sock *s, struct sim_iter *it, uint32_t room,
              bool *freed)
{
  struct vsock_hdr h;

  sim_hdr_init(sim, s, &h);

  if (s->pend & SIM_PEND_RST) {
    h.op = VIRTIO_VSOCK_OP_RST;
    sim_put_hdr(sim, it, &h);
    sim->stats.rst_tx++;
    if (s->released) {
      sim_sock_free(sim, s);
      *freed = true;
    } else {
      sim_clear_pend(sim, s, 0xff);
    }
    return VIRTIO_VSOCK_HDR_LEN;
  }
  if (s->pend & (SIM_PEND_REQUEST | SIM_PEND_RESPONSE)) {
    h.op = (s->pend & SIM_PEND_REQUEST) ? VIRTIO_VSOCK_OP_REQUEST : VIRTIO_VSOCK_OP_RESPONSE;
    sim_clear_pend(sim, s, SIM_PEND_REQUEST | SIM_PEND_RESPONSE);
  } else if (room > 0 && sim_data_sendable(sim, s)) {
    uint32_t avail = (uint32_t)s->txq.len;
    if (s->type == VIRTIO_VSOCK_TYPE_SEQPACKET) {
      avail = sim_u32q_peek(&s->tx_msgs) - s->tx_msg_off;
    }
    h.len = sim_rw_len(sim, s, avail, room);
    if (s->type == VIRTIO_VSOCK_TYPE_SEQPACKET) {
      s->tx_msg_off += h.len;
      if (s->tx_msg_off == sim_u32q_peek(&s->tx_msgs)) {
        /* as vhost: the end-of-message flags ride on the last fragment only */
        h.flags = VIRTIO_VSOCK_SEQ_EOM | VIRTIO_VSOCK_SEQ_EOR;
        sim_u32q_pop(&s->tx_msgs);
        s->tx_msg_off = 0;
      }
    }
    return sim_put_rw(sim, s, &h, it, NULL);
  } else if (sim_shutdown_sendable(s) != 0) {
    h.op = VIRTIO_VSOCK_OP_SHUTDOWN;
    h.flags = s->local_shutdown;
    s->shut_sent = s->local_shutdown;
  } else if (s->pend & SIM_PEND_CREDIT_UPDATE) {
    h.op = VIRTIO_VSOCK_OP_CREDIT_UPDATE;
  } else if (s->pend & SIM_PEND_CREDIT_REQUEST) {
    h.op = VIRTIO_VSOCK_OP_CREDIT_REQUEST;
    sim_clear_pend(sim, s, SIM_PEND_CREDIT_REQUEST);
  } else {
    return 0;
  }
  s->last_fwd_cnt = s->fwd_cnt;
  sim_clear_pend(sim, s, SIM_PEND_CREDIT_UPDATE);
  sim_put_hdr(sim, it, &h);
  return VIRTIO_VSOCK_HDR_LEN;
}

/** Complete an rx chain, with the one-shot used-length faults. */
static void
sim_rx_complete(struct lwvsock_sim *sim, struct sim_vq *vq, const struct sim_chain *c, uint32_t written)
{
  if (sim->faults.used_len_overflow) {
    sim->faults.used_len_overflow = 0;
    written = c->in_len + 1;
  } else if (sim->faults.zero_len_rx) {
    sim->faults.zero_len_rx = 0;
    written = 0;
  }
  sim_vq_push(sim, vq, c->head, written);
  sim->stats.tx_pkts++;
}

static struct sim_raw *
sim_raw_pop(struct sim_raw **head, struct sim_raw **tail)
{
  struct sim_raw *p = *head;

  *head = p->next;
  if (*head == NULL) {
    *tail = NULL;
  }
  return p;
}

/** Whether the device may look at the rx ring now. */
static bool
sim_rx_open(const struct lwvsock_sim *sim, const struct sim_vq *vq)
{
  return sim->started && !sim->faults.stall_rx && vq->ready && !vq->broken && !vq->need_kick;
}

/** Take the next rx chain, checked to be a writable buffer that holds a header; 1, or 0 for none. */
static int
sim_rx_pop(struct lwvsock_sim *sim, struct sim_vq *vq, struct sim_chain *c, struct sim_iter *it)
{
  if (sim_vq_pop(sim, vq, c) <= 0) {
    return 0;
  }
  if (c->nout != 0) {
    sim_vq_fail(sim, vq, "rx chain has device-readable descriptors");
    return 0;
  }
  if (c->in_len < VIRTIO_VSOCK_HDR_LEN) {
    sim_vq_fail(sim, vq, "rx buffer smaller than a packet header");
    return 0;
  }
  sim_iter_init(it, c->iov, c->nin);
  return 1;
}

int
sim_deliver(struct lwvsock_sim *sim)
{
  struct sim_vq *vq = &sim->vq[VIRTIO_VSOCK_QUEUE_RX];
  int work = 0;

  if (!sim_rx_open(sim, vq)) {
    return 0;
  }
  while (work < SIM_PKT_WEIGHT) {
    struct sim_chain c;
    struct sim_iter it;
    uint32_t written;

    /* a socket may have lost its work since it was queued (credit shrank, guest shut down) */
    while (sim->send_head != 0 && !sim_has_work(sim, sim->socks[sim->send_head])) {
      sim_sl_remove(sim, sim->socks[sim->send_head]);
    }
    if (sim->inject_head == NULL && sim->orphan_head == NULL && sim->send_head == 0) {
      break;
    }
    if (!sim_rx_pop(sim, vq, &c, &it)) {
      break;
    }
    if (sim->inject_head != NULL) {
      /* exactly the bytes given, cut short only by the buffer's size */
      struct sim_raw *p = sim_raw_pop(&sim->inject_head, &sim->inject_tail);
      written = sim_iter_write(&it, p->hdr, VIRTIO_VSOCK_HDR_LEN);
      written += sim_iter_write(&it, p->payload, p->len);
      free(p);
    } else if (sim->orphan_head != NULL) {
      struct sim_raw *p = sim_raw_pop(&sim->orphan_head, &sim->orphan_tail);
      written = sim_iter_write(&it, p->hdr, VIRTIO_VSOCK_HDR_LEN);
      free(p);
      sim->ctl_pending--;
      sim->stats.rst_tx++;
    } else {
      struct sim_sock *s = sim->socks[sim->send_head];
      bool freed = false;
      written = sim_sock_emit(sim, s, &it, c.in_len - VIRTIO_VSOCK_HDR_LEN, &freed);
      if (written == 0) {
        /* only data is left and this buffer cannot carry any */
        sim_vq_unpop(vq);
        break;
      }
      if (!freed) {
        sim_sl_remove(sim, s);
        sim_schedule(sim, s);
      }
    }
    sim_rx_complete(sim, vq, &c, written);
    work++;
  }
  return work;
}

/* ---- timers and resets ------------------------------------------------------------------------ */

static void
sim_timer_fire(struct lwvsock_sim *sim, struct sim_sock *s)
{
  sim_timer_disarm(sim, s);
  switch (s->state) {
    case LWVSOCK_SIM_CONNECTING:
      /* Linux: ETIMEDOUT, no RST; a late RESPONSE draws one */
      sim_set_closed(sim, s, -ETIMEDOUT);
      sim_sl_remove(sim, s);
      break;
    case LWVSOCK_SIM_CLOSING:
      sim_sock_abort(sim, s);
      break;
    case LWVSOCK_SIM_CONNECTED:
      /* still blocked on credit: ask again */
      s->credit_req_sent = false;
      sim_schedule(sim, s);
      break;
    default:
      break;
  }
}

void
sim_run_timers(struct lwvsock_sim *sim)
{
  uint32_t now;
  bool first = true;
  int id;

  if (sim->ntimers == 0) {
    return;
  }
  now = sys_now();
  if ((int32_t)(now - sim->next_deadline) < 0) {
    return;
  }
  for (id = 1; id < sim->nsocks; id++) {
    struct sim_sock *s = sim->socks[id];
    if (s == NULL || !s->timer) {
      continue;
    }
    if ((int32_t)(now - s->deadline) >= 0) {
      sim_timer_fire(sim, s);
    }
    s = sim->socks[id];
    if (s != NULL && s->timer && (first || (int32_t)(s->deadline - sim->next_deadline) < 0)) {
      sim->next_deadline = s->deadline;
      first = false;
    }
  }
}

/*
 * The guest's device went away (reset, closed, transport reset): as Linux's
 * vhost_vsock_reset_orphans, every socket still in the connected table is
 * reset, even one the guest already closed in order (its RST or SHUTDOWN
 * done): the application's recv returns what is queued, then -ECONNRESET, not
 * end of stream. Listeners stay; sockets the application let go of are gone.
 */
void
sim_drop_connections(struct lwvsock_sim *sim)
{
  int id;

  for (id = 1; id < sim->nsocks; id++) {
    struct sim_sock *s = sim->socks[id];
    if (s == NULL || s->state == LWVSOCK_SIM_LISTENING) {
      continue;
    }
    if (s->released) {
      sim_sock_free(sim, s);
      continue;
    }
    if (s->state != LWVSOCK_SIM_CLOSED || s->established) {
      s->peer_shutdown = VIRTIO_VSOCK_SHUTDOWN_ALL;
      sim_set_closed(sim, s, -ECONNRESET);
      s->rx_err = -ECONNRESET;
    }
    sim_clear_pend(sim, s, 0xff);
    sim_sl_remove(sim, s);
  }
  while (sim->orphan_head != NULL) {
    free(sim_raw_pop(&sim->orphan_head, &sim->orphan_tail));
    sim->ctl_pending--;
  }
}

void
sim_reschedule_all(struct lwvsock_sim *sim)
{
  int id;

  for (id = 1; id < sim->nsocks; id++) {
    if (sim->socks[id] != NULL) {
      sim_schedule(sim, sim->socks[id]);
    }
  }
}

void
sim_free_all_socks(struct lwvsock_sim *sim)
{
  int id;

  for (id = 1; id < sim->nsocks; id++) {
    if (sim->socks[id] != NULL) {
      sim_sock_free(sim, sim->socks[id]);
    }
  }
  free(sim->socks);
  free(sim->free_ids);
  sim->socks = NULL;
  sim->free_ids = NULL;
  sim->nsocks = sim->nfree = 0;
}

/* ---- host socket API -------------------------------------------------------------------------- */

int
lwvsock_sim_listen(struct lwvsock_sim *sim, uint32_t port, uint16_t type)
{
  struct sim_sock *s;

  if (sim == NULL || port == VMADDR_PORT_ANY ||
      (type != VIRTIO_VSOCK_TYPE_STREAM && type != VIRTIO_VSOCK_TYPE_SEQPACKET)) {
    return -EINVAL;
  }
  if (sim_lookup(sim, port, VMADDR_PORT_ANY) != NULL) {
    return -EADDRINUSE;
  }
  s = sim_sock_alloc(sim);
  if (s == NULL) {
    return -ENOMEM;
  }
  s->state = LWVSOCK_SIM_LISTENING;
  s->type = type;
  s->local_port = port;
  s->remote_port = VMADDR_PORT_ANY;
  sim_sock_hash(sim, s);
  return s->id;
}

int
lwvsock_sim_accept(struct lwvsock_sim *sim, int lsock)
{
  struct sim_sock *l = sim ? sim_sock_app(sim, lsock) : NULL;
  struct sim_sock *c;

  if (l == NULL) {
    return -EBADF;
  }
  if (l->state != LWVSOCK_SIM_LISTENING) {
    return -EINVAL;
  }
  if (l->acc_head == 0) {
    return -EAGAIN;
  }
  c = sim->socks[l->acc_head];
  l->acc_head = c->acc_next;
  if (l->acc_head == 0) {
    l->acc_tail = 0;
  }
  c->acc_next = 0;
  l->acc_len--;
  return c->id;
}

int
lwvsock_sim_connect_cid(struct lwvsock_sim *sim, uint32_t dst_cid, uint32_t port, uint16_t type)
{
  struct sim_sock *s;
  uint32_t tries, p;

  if (sim == NULL || port == VMADDR_PORT_ANY ||
      (type != VIRTIO_VSOCK_TYPE_STREAM && type != VIRTIO_VSOCK_TYPE_SEQPACKET)) {
    return -EINVAL;
  }
  if (type == VIRTIO_VSOCK_TYPE_SEQPACKET && sim->started && !sim_type_ok(sim, type)) {
    return -EPROTONOSUPPORT;
  }
  /* round robin over the configured range, skipping tuples in use */
  for (tries = 0;; tries++) {
    if (tries > sim->cfg.host_port_max - sim->cfg.host_port_min) {
      return -EADDRNOTAVAIL;
    }
    p = sim->next_port;
    sim->next_port = (p < sim->cfg.host_port_max) ? p + 1 : sim->cfg.host_port_min;
    if (sim_lookup(sim, p, port) == NULL && sim_lookup(sim, p, VMADDR_PORT_ANY) == NULL) {
      break;
    }
  }
  s = sim_sock_alloc(sim);
  if (s == NULL) {
    return -ENOMEM;
  }
  s->local_port = p;
  s->state = LWVSOCK_SIM_CONNECTING;
  s->type = type;
  s->remote_port = port;
  s->remote_cid = dst_cid;
  sim_sock_hash(sim, s);
  sim_timer_arm(sim, s, SIM_CONNECT_TIMEOUT_MS);
  if (dst_cid == sim->cid) {
    /* anything else is dropped, as vhost does: the connect times out */
    sim_set_pend(sim, s, SIM_PEND_REQUEST);
    sim_sl_append(sim, s);
  }
  return s->id;
}

int
lwvsock_sim_connect(struct lwvsock_sim *sim, uint32_t port, uint16_t type)
{
  if (sim == NULL) {
    return -EINVAL;
  }
  return lwvsock_sim_connect_cid(sim, sim->cid, port, type);
}

enum lwvsock_sim_state
lwvsock_sim_state(struct lwvsock_sim *sim, int s)
{
  struct sim_sock *so = sim ? sim_sock_get(sim, s) : NULL;
  return so ? so->state : LWVSOCK_SIM_FREE;
}

int
lwvsock_sim_error(struct lwvsock_sim *sim, int s)
{
  struct sim_sock *so = sim ? sim_sock_get(sim, s) : NULL;
  return so ? so->err : -EBADF;
}

uint32_t
lwvsock_sim_peer_shutdown(struct lwvsock_sim *sim, int s)
{
  struct sim_sock *so = sim ? sim_sock_get(sim, s) : NULL;
  return so ? so->peer_shutdown : 0;
}

uint32_t
lwvsock_sim_local_port(struct lwvsock_sim *sim, int s)
{
  struct sim_sock *so = sim ? sim_sock_get(sim, s) : NULL;
  return so ? so->local_port : VMADDR_PORT_ANY;
}

uint32_t
lwvsock_sim_remote_port(struct lwvsock_sim *sim, int s)
{
  struct sim_sock *so = sim ? sim_sock_get(sim, s) : NULL;
  return so ? so->remote_port : VMADDR_PORT_ANY;
}

/*
 * Host -> guest without the send queue's copy, as a vhost-user backend does:
 * while nothing else waits for rx buffers (so packet order and the round
 * robin are exactly what sim_deliver would give) and the stream owes nothing
 * but data, write from the application's buffer straight into the guest's rx
 * buffers, within credit. Returns the bytes delivered; the caller queues the
 * rest, which then waits for credit or buffers as usual.
 */
static size_t
sim_send_direct(struct lwvsock_sim *sim, struct sim_sock *s, const uint8_t *buf, size_t len)
{
  struct sim_vq *vq = &sim->vq[VIRTIO_VSOCK_QUEUE_RX];
  size_t done = 0;

  if (s->type != VIRTIO_VSOCK_TYPE_STREAM || sim_tx_queued(s) ||
      (s->pend & (uint8_t)~SIM_PEND_CREDIT_UPDATE) != 0 || sim->inject_head != NULL ||
      sim->orphan_head != NULL || sim->send_head != sim->send_tail ||
      (sim->send_head != 0 && sim->send_head != s->id) || !sim_rx_open(sim, vq)) {
    return 0;
  }
  while (done < len && sim_credit(sim, s) > 0) {
    struct sim_chain c;
    struct sim_iter it;
    struct vsock_hdr h;
    size_t left = len - done;

    if (!sim_rx_pop(sim, vq, &c, &it)) {
      break;
    }
    sim_hdr_init(sim, s, &h);
    h.len = sim_rw_len(sim, s, left < UINT32_MAX ? (uint32_t)left : UINT32_MAX,
                       c.in_len - VIRTIO_VSOCK_HDR_LEN);
    if (h.len == 0) {
      sim_vq_unpop(vq);
      break;
    }
    sim_rx_complete(sim, vq, &c, sim_put_rw(sim, s, &h, &it, buf + done));
    done += h.len;
  }
  return done;
}

long
lwvsock_sim_send(struct lwvsock_sim *sim, int s, const void *buf, size_t len)
{
  struct sim_sock *so = sim ? sim_sock_app(sim, s) : NULL;
  size_t room, direct, n;

  if (so == NULL) {
    return -EBADF;
  }
  if (so->state == LWVSOCK_SIM_CLOSED &&
      (so->peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_RCV)) {
    return -EPIPE;
  }
  if (so->state != LWVSOCK_SIM_CONNECTED) {
    return -ENOTCONN;
  }
  if ((so->local_shutdown & VIRTIO_VSOCK_SHUTDOWN_SEND) ||
      (so->peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_RCV)) {
    return -EPIPE;
  }
  if (len == 0) {
    return 0;
  }
  if (buf == NULL) {
    return -EFAULT;
  }
  room = SIM_SNDBUF - so->txq.len;
  if (so->type == VIRTIO_VSOCK_TYPE_SEQPACKET) {
    /* a message the guest's buffer cannot hold could never be delivered whole */
    if (len > SIM_SNDBUF || len > so->peer_buf_alloc) {
      return -EMSGSIZE;
    }
    if (len > room) {
      return -EAGAIN;
    }
  } else if (len > room) {
    len = room; /* what goes straight to the guest passes through the send buffer too */
  }
  direct = sim_send_direct(sim, so, (const uint8_t *)buf, len);
  n = len - direct;
  if (n == 0) {
    sim_schedule(sim, so);
    return direct != 0 ? (long)direct : -EAGAIN;
  }
  if (so->type == VIRTIO_VSOCK_TYPE_SEQPACKET && sim_u32q_push(&so->tx_msgs, (uint32_t)n) != 0) {
    return -ENOMEM;
  }
  if (sim_bq_append(sim, &so->txq, (const uint8_t *)buf + direct, (uint32_t)n) != 0) {
    if (so->type == VIRTIO_VSOCK_TYPE_SEQPACKET) {
      so->tx_msgs.count--; /* the message is not queued */
    }
    sim_schedule(sim, so);
    return direct != 0 ? (long)direct : -ENOMEM;
  }
  sim_schedule(sim, so);
  return (long)(direct + n);
}

long
lwvsock_sim_recv(struct lwvsock_sim *sim, int s, void *buf, size_t len)
{
  struct sim_sock *so = sim ? sim_sock_app(sim, s) : NULL;
  size_t n;

  if (so == NULL) {
    return -EBADF;
  }
  if (so->state == LWVSOCK_SIM_LISTENING || so->state == LWVSOCK_SIM_CONNECTING) {
    return -ENOTCONN;
  }
  if (buf == NULL && len != 0) {
    return -EFAULT;
  }
  if (so->type == VIRTIO_VSOCK_TYPE_SEQPACKET) {
    uint32_t m;
    if (so->rx_msgs.count == 0) {
      goto empty;
    }
    m = sim_u32q_pop(&so->rx_msgs);
    n = len < m ? len : m;
    sim_bq_read(sim, &so->rxq, buf, n);
    sim_bq_read(sim, &so->rxq, NULL, m - n); /* truncated, as MSG_TRUNC */
    so->fwd_cnt += m;
    if (so->state == LWVSOCK_SIM_CONNECTED) {
      /* Linux sends a credit update after every seqpacket dequeue */
      sim_set_pend(sim, so, SIM_PEND_CREDIT_UPDATE);
    }
  } else {
    uint32_t delta;
    if (so->rxq.len == 0) {
      goto empty;
    }
    n = sim_bq_read(sim, &so->rxq, buf, len);
    sim_skb_dequeue(so, (uint32_t)n);
    so->fwd_cnt += (uint32_t)n;
    /* exactly Linux's rule (virtio_transport_stream_do_dequeue) */
    delta = so->fwd_cnt - so->last_fwd_cnt;
    if (so->state == LWVSOCK_SIM_CONNECTED && delta != 0 &&
        ((int64_t)so->buf_alloc - delta < (int64_t)SIM_CREDIT_UPDATE_THRESHOLD || so->rxq.len == 0)) {
      sim_set_pend(sim, so, SIM_PEND_CREDIT_UPDATE);
    }
  }
  sim_maybe_finish(sim, so);
  sim_schedule(sim, so);
  return (long)n;

empty:
  if (so->rx_err != 0) {
    return so->rx_err;
  }
  if (so->state == LWVSOCK_SIM_CLOSED || (so->peer_shutdown & VIRTIO_VSOCK_SHUTDOWN_SEND) ||
      (so->local_shutdown & VIRTIO_VSOCK_SHUTDOWN_RCV)) {
    return 0;
  }
  return -EAGAIN;
}

size_t
lwvsock_sim_rx_pending(struct lwvsock_sim *sim, int s)
{
  struct sim_sock *so = sim ? sim_sock_get(sim, s) : NULL;
  return so ? so->rxq.len : 0;
}

size_t
lwvsock_sim_tx_pending(struct lwvsock_sim *sim, int s)
{
  struct sim_sock *so = sim ? sim_sock_get(sim, s) : NULL;
  return so ? so->txq.len : 0;
}

int
lwvsock_sim_shutdown(struct lwvsock_sim *sim, int s, uint32_t how)
{
  struct sim_sock *so = sim ? sim_sock_app(sim, s) : NULL;

  if (so == NULL) {
    return -EBADF;
  }
  if (how == 0 || (how & ~VIRTIO_VSOCK_SHUTDOWN_ALL) != 0) {
    return -EINVAL;
  }
  if (so->state != LWVSOCK_SIM_CONNECTED) {
    return -ENOTCONN;
  }
  so->local_shutdown |= how;
  sim_schedule(sim, so);
  return 0;
}

/** Close a listener: connections nobody accepted are reset. */
static void
sim_close_listener(struct lwvsock_sim *sim, struct sim_sock *l)
{
  while (l->acc_head != 0) {
    struct sim_sock *c = sim->socks[l->acc_head];
    l->acc_head = c->acc_next;
    c->acc_next = 0;
    if (c->state == LWVSOCK_SIM_CLOSED && !(c->pend & SIM_PEND_RST)) {
      sim_sock_free(sim, c);
    } else {
      sim_sock_abort(sim, c);
    }
  }
  sim_sock_free(sim, l);
}

int
lwvsock_sim_close(struct lwvsock_sim *sim, int s)
{
  struct sim_sock *so = sim ? sim_sock_app(sim, s) : NULL;

  if (so == NULL) {
    return -EBADF;
  }
  switch (so->state) {
    case LWVSOCK_SIM_LISTENING:
      sim_close_listener(sim, so);
      break;
    case LWVSOCK_SIM_CONNECTED:
      if (so->peer_shutdown == VIRTIO_VSOCK_SHUTDOWN_ALL) {
        /* the guest is already waiting for our RST (Linux virtio_transport_close) */
        sim_sock_abort(sim, so);
        break;
      }
      so->released = true;
      so->state = LWVSOCK_SIM_CLOSING;
      so->local_shutdown = VIRTIO_VSOCK_SHUTDOWN_ALL;
      so->credit_req_sent = false;
      sim_clear_pend(sim, so, SIM_PEND_CREDIT_REQUEST);
      sim_timer_arm(sim, so, SIM_CLOSE_TIMEOUT_MS);
      sim_schedule(sim, so);
      break;
    case LWVSOCK_SIM_CLOSED:
      if (so->pend & SIM_PEND_RST) {
        so->released = true; /* freed once the RST is out */
      } else {
        sim_sock_free(sim, so);
      }
      break;
    default:
      /* connecting: forget it; a late RESPONSE draws an RST */
      sim_sock_free(sim, so);
      break;
  }
  return 0;
}

int
lwvsock_sim_reset(struct lwvsock_sim *sim, int s)
{
  struct sim_sock *so = sim ? sim_sock_app(sim, s) : NULL;

  if (so == NULL) {
    return -EBADF;
  }
  switch (so->state) {
    case LWVSOCK_SIM_CONNECTED:
    case LWVSOCK_SIM_CONNECTING:
      sim_sock_abort(sim, so);
      return 0;
    default:
      return lwvsock_sim_close(sim, s);
  }
}

int
lwvsock_sim_set_rcvbuf(struct lwvsock_sim *sim, int s, uint32_t size)
{
  struct sim_sock *so = sim ? sim_sock_app(sim, s) : NULL;

  if (so == NULL) {
    return -EBADF;
  }
  if (size == 0) {
    return -EINVAL;
  }
  so->buf_alloc = size;
  if (so->state == LWVSOCK_SIM_CONNECTED) {
    sim_set_pend(sim, so, SIM_PEND_CREDIT_UPDATE);
    sim_schedule(sim, so);
  }
  return 0;
}
