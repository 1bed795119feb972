/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * lwvsock internals shared by the core modules: the device, its rx and tx
 * buffers, and connection pcbs.
 *
 * Ownership rules:
 * - Device memory (rings, rx buffers, tx header slots, tx payload slots) is
 *   one backend region; the device may scribble on it at any time, so nothing
 *   the driver relies on (tokens, lengths, links) is kept there.
 * - A pcb freed by the protocol is first "killed" (unhashed, callbacks
 *   dropped) and released at the end of lwvsock_poll(), so a callback that
 *   aborts its own pcb never leaves the caller with a dangling pointer.
 * - An rx buffer lent to the application as a pbuf is owned by that pbuf until
 *   pbuf_free(); the device's memory outlives the device until the last loan
 *   returns.
 */
#ifndef LWVSOCK_PRIV_H
#define LWVSOCK_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "lwvsock/vsock.h"
#include "lwip/pbuf.h"
#include "lwip/def.h"
#include "lwip/debug.h"
#include "lwip/memp.h"
#include "virtq.h"
#include "vsock_hdr.h"

#if !LWIP_SUPPORT_CUSTOM_PBUF
#error "lwvsock needs LWIP_SUPPORT_CUSTOM_PBUF=1 in lwipopts.h (zero-copy receive)"
#endif
#if !NO_SYS
#error "lwvsock is a polled driver for lwIP with NO_SYS=1"
#endif
#if LWVSOCK_RX_BUF_SIZE > 0xffff
#error "LWVSOCK_RX_BUF_SIZE must fit a pbuf (<= 65535)"
#endif
#if LWVSOCK_MAX_PKT > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE
#error "LWVSOCK_MAX_PKT must not exceed 64 KiB: devices drop larger packets"
#endif

#define LWVSOCK_NONE16 0xffffu

/* ---- rx buffers (rxbuf.c) ---------------------------------------------- */

/** One rx buffer: [44-byte header][payload] contiguous in device memory. */
struct rxbuf {
  struct pbuf_custom pc;     /* first: the free callback gets &pc.pbuf */
  struct lwvsock_dev *dev;
  uint8_t *mem;
  uint16_t next_free;        /* free-list link (driver-private) */
  uint8_t loaned;            /* owned by an application pbuf */
  uint8_t taken;             /* lent during the current input (even if already back) */
};

/** Bytes of device memory @p n rx buffers need. */
size_t rxbuf_mem_size(uint16_t n);
/** Set up dev->nrxbufs buffers, each carved from device memory with dev_carve(). */
int rxbuf_init(struct lwvsock_dev *dev);
void rxbuf_fini(struct lwvsock_dev *dev);
/** Post free rx buffers until the ring is full; kicks when the device wants it. */
void rxbuf_refill(struct lwvsock_dev *dev);
/** Give a used rx buffer back (not lent): to the free list, reposted by rxbuf_refill. */
void rxbuf_put(struct lwvsock_dev *dev, struct rxbuf *rb);
/**
 * A pbuf holding @p len payload bytes of @p rb: lent in place when allowed,
 * else copied (small payloads, loan bound reached). NULL when memory is short.
 */
struct pbuf *rxbuf_take_pbuf(struct lwvsock_dev *dev, struct rxbuf *rb, uint32_t len);

/* ---- tx (txbuf.c) ---------------------------------------------------------- */

/** One tx payload slot in device memory; RW packets are cut from it. */
struct txslot {
  uint8_t *mem;
  uint64_t dma;
  uint32_t size;             /* LWVSOCK_TX_SLOT_SIZE or LWVSOCK_TX_SMALL_SLOT_SIZE */
  struct txbuf_sendq *owner; /* NULL once its queue is gone (orphaned: freed when idle) */
  uint32_t fill;             /* bytes written by the application */
  uint32_t sent;             /* bytes handed to the device */
  uint32_t msg_end;          /* SEQPACKET: offset where a message ends (0: none) */
  uint16_t inflight;         /* packets from this slot the device still holds */
  uint16_t next;             /* link in the owner's queue or the free list */
  uint8_t queued;            /* in its owner's send queue (else freed when idle) */
};

/** A packet the device holds (token of the tx queue). */
struct txpkt {
  uint16_t slot;             /* payload slot, or LWVSOCK_NONE16 for header-only packets */
  uint16_t next_free;
  uint32_t len;              /* payload bytes */
};

/**
 * A connection's send queue: its tx slots in write order. Embedded in the
 * pcb, but only txbuf.c reads or writes its fields.
 */
struct txbuf_sendq {
  void *owner;               /* passed to the device's tx completion callback */
  uint16_t head, tail;       /* slot indices, LWVSOCK_NONE16 when empty */
  uint16_t owned;            /* slots whose owner is this queue (queued or in flight) */
};

/**
 * Tx completion callback: @p len bytes of the queue whose owner is @p owner
 * were consumed by the device (or looped back). The only call from the tx
 * path up into the connection layer.
 */
typedef void (*txbuf_done_fn)(void *owner, uint32_t len);

/** What the head of a send queue offers next (txbuf_sendq_next()). */
struct txbuf_next {
  uint32_t avail;            /* bytes written and not yet handed to the device */
  uint32_t msg_left;         /* SEQPACKET: bytes up to the end of a message (0: none) */
  bool open;                 /* in the tail slot, which still takes writes */
};

/** Bytes of device memory for @p npkts header slots and the payload slots. */
size_t txbuf_mem_size(uint16_t npkts);
/**
 * Set up dev->npkts header slots and the payload slots, carved with
 * dev_carve(); @p done is called for every completed payload chunk.
 */
int txbuf_setup(struct lwvsock_dev *dev, txbuf_done_fn done);
void txbuf_fini(struct lwvsock_dev *dev);
/**
 * Take completed tx buffers back from the device; reports completed bytes
 * through the done callback. Returns the number of packets returned.
 */
int txbuf_reclaim(struct lwvsock_dev *dev);
/**
 * Send a header-only packet (control). When the ring is full it waits in the
 * bounded reply store if @p may_store (replies to received packets), else
 * ERR_WOULDBLOCK (the sender retries). ERR_MEM when the store is full too.
 */
err_t txbuf_send_ctrl(struct lwvsock_dev *dev, const struct vsock_hdr *h, bool may_store);
/** Send queued reply-store packets. */
void txbuf_flush_replies(struct lwvsock_dev *dev);
/** Kick the tx queue if anything was added and the device wants it. */
void txbuf_kick(struct lwvsock_dev *dev);
/** Bytes all free slots together can take. */
uint32_t txbuf_free_room(const struct lwvsock_dev *dev);

/** Make @p q an empty queue whose completions report @p owner. */
void txbuf_sendq_init(struct txbuf_sendq *q, void *owner);
/** Whether @p q holds no slot. */
bool txbuf_sendq_empty(const struct txbuf_sendq *q);
/** Whether every byte written to @p q was handed to the device. */
bool txbuf_sendq_all_sent(const struct lwvsock_dev *dev, const struct txbuf_sendq *q);
/**
 * Bytes @p q can still take: all free slots, plus the room left in its tail
 * slot when @p stream (SEQPACKET messages start a slot of their own).
 */
uint32_t txbuf_sendq_room(const struct lwvsock_dev *dev, const struct txbuf_sendq *q, bool stream);
/**
 * Append @p len bytes (from @p p when not NULL, else from @p data); room was
 * checked with txbuf_sendq_room(). A @p message starts a fresh slot and its
 * end is recorded (SEQPACKET).
 */
void txbuf_sendq_append(struct lwvsock_dev *dev, struct txbuf_sendq *q, const struct pbuf *p,
                        const uint8_t *data, uint32_t len, bool message);
/**
 * Describe what the head of @p q offers next in @p nx; fully sent slots leave
 * the queue on the way. False when nothing is left to send.
 */
bool txbuf_sendq_next(struct lwvsock_dev *dev, struct txbuf_sendq *q, struct txbuf_next *nx);
/**
 * Send @p len bytes from the head of @p q (at most nx.avail) with header
 * @p h (len filled in here). ERR_OK, or ERR_WOULDBLOCK when the ring is full.
 */
err_t txbuf_sendq_send(struct lwvsock_dev *dev, struct txbuf_sendq *q, struct vsock_hdr *h,
                       uint32_t len);
/**
 * Give up every slot of @p q: idle ones now, ones the device still reads when
 * it returns them (no completion is reported for those). Bytes never handed
 * to the device are counted as dropped. @p q is empty afterwards.
 */
void txbuf_sendq_release(struct lwvsock_dev *dev, struct txbuf_sendq *q);

/* ---- connections (pcb.c) ---------------------------------------------------- */

/* pcb flags */
#define PCB_F_DIRTY          0x0001u /* on the device's dirty list */
#define PCB_F_APP_CLOSED     0x0002u /* application called close: no more callbacks */
#define PCB_F_DEAD           0x0004u /* killed; freed at the end of poll */
#define PCB_F_CREDIT_UPDATE  0x0008u /* a CREDIT_UPDATE is owed */
#define PCB_F_SHUT_PENDING   0x0010u /* SHUTDOWN to send once queued data is out */
#define PCB_F_FIN_PENDING    0x0020u /* recv(NULL) to deliver once refused data is out */
#define PCB_F_FIN_DONE       0x0040u /* recv(NULL) delivered */
#define PCB_F_MORE           0x0080u /* application said more data follows */
#define PCB_F_BACKLOG        0x0100u /* counts against its listener's backlog */
#define PCB_F_STALLED        0x0200u /* blocked on peer credit (counted once) */
#define PCB_F_PEER_DONE      0x0400u /* peer shut down both ways, or reset: connection over */
#define PCB_F_BOUND          0x0800u /* owns its local port (in the bind table) */
#define PCB_F_RST_PENDING    0x1000u /* dead, but its RST still waits for ring space */
#define PCB_F_ACCEPTING      0x2000u /* inside its accept callback */
#define PCB_F_DELAYED        0x4000u /* lwvsock_backlog_delayed() was called */
#define PCB_F_TXWAIT         0x8000u /* waits for tx ring space (woken by completions) */

/* pcb txflags (flags is full) */
#define PCB_TXF_NODELAY      0x01u   /* lwvsock_nagle_disable(): small packets never wait */
#define PCB_TXF_HELD         0x02u   /* a small packet waits since hold_since */

struct lwvsock_pcb {
  struct lwvsock_dev *dev;
  struct lwvsock_pcb *all_next, *all_prev;  /* every pcb of the device (timers) */
  struct lwvsock_pcb *conn_next;            /* connection hash chain */
  struct lwvsock_pcb *bind_next;            /* bind hash chain */
  struct lwvsock_pcb *dirty_next;           /* pending work, or graveyard */
  struct lwvsock_pcb *listener;             /* for a not yet accepted child */
  void *arg;
  union {
    lwvsock_accept_fn accept;
    lwvsock_connected_fn connected;
  } cb;
  lwvsock_recv_fn recv;
  lwvsock_sent_fn sent;
  lwvsock_poll_fn poll;
  lwvsock_err_fn errf;
  struct pbuf *rq_head, *rq_tail;           /* received, refused by the application */
  struct pbuf *msg;                         /* SEQPACKET: message being reassembled */

  uint32_t local_cid, local_port, remote_cid, remote_port;

  /* receive credit (ours) */
  uint32_t buf_alloc;      /* advertised receive buffer */
  uint32_t rx_cnt;         /* payload bytes received */
  uint32_t fwd_cnt;        /* bytes the application consumed (recved) */
  uint32_t last_fwd_cnt;   /* fwd_cnt the peer was last told */
  /* send credit (the peer's) */
  uint32_t peer_buf_alloc;
  uint32_t peer_fwd_cnt;
  uint32_t tx_cnt;         /* payload bytes sent */

  uint32_t snd_buf;        /* send buffer size */
  uint32_t snd_queued;     /* written and not yet completed by the device */
  uint32_t acked;          /* completed bytes not yet reported through sent() */
  uint32_t deadline;       /* connect, linger or close timeout (sys_now ms), when armed */
  uint32_t linger_ms;      /* after close: drop unsent data after this long without progress */
  uint32_t hold_since;     /* sys_now() when the held small packet began to wait */
  uint32_t last_credit_req;
  struct txbuf_sendq sndq; /* written data not yet handed to the device (txbuf.c's) */
  uint16_t flags;
  uint16_t rq_room;        /* bytes the rq tail (a merge buffer) can still take */
  uint8_t state;           /* enum lwvsock_state */
  uint8_t type;
  uint8_t peer_shut;       /* SHUTDOWN flags received (sticky) */
  uint8_t shut_sent;       /* SHUTDOWN flags sent (sticky) */
  uint8_t shut_want;       /* SHUTDOWN flags the application asked for */
  uint8_t poll_interval, poll_tick;
  uint8_t backlog, backlog_used;            /* listeners */
  uint8_t deadline_armed;
  uint8_t txflags;         /* PCB_TXF_* */
  uint8_t peer_reset;      /* RST received: fail with ERR_RST once refused data is read */
  uint32_t rx_pkts, tx_pkts, stalls;
  uint64_t rx_bytes, tx_bytes;
};

/** The pcb pool (tests read its stats). */
LWIP_MEMPOOL_PROTOTYPE(LWVSOCK_PCB);
/** Initialise the pcb pool (once per process; lwIP pools are global). */
void lwvsock_pcb_pool_init(void);
/**
 * Handle one received packet (device or loopback). @p rb is the rx buffer or
 * NULL; @p lp a loopback payload pbuf (ownership passes) or NULL. ERR_MEM: no
 * memory to hold the payload; nothing was done (@p lp stays the caller's,
 * @p rb is not taken) and the caller offers the packet again later.
 */
err_t pcb_input(struct lwvsock_dev *dev, const struct vsock_hdr *h, struct rxbuf *rb,
               struct pbuf *lp);
/** Run due timers; returns work done. */
int pcb_timers(struct lwvsock_dev *dev, uint32_t now);
/** Serve pcbs with pending work (redelivery, sent, output, control); free killed pcbs. */
int pcb_service(struct lwvsock_dev *dev);
/** Mark a pcb as having work for pcb_service. */
void pcb_dirty(struct lwvsock_pcb *pcb);
/** TRANSPORT_RESET: reset every connection, keep listeners and bound pcbs. */
void pcb_transport_reset(struct lwvsock_dev *dev);
/** Free every pcb at once (device closing; no packet can go out any more). */
void pcb_free_all(struct lwvsock_dev *dev);
/** Fail every pcb with @p err (RST to connected peers unless the device is broken). */
void pcb_abort_all(struct lwvsock_dev *dev, err_t err);
/** The tx ring has room again: wake the pcbs that waited for it. */
void pcb_tx_room(struct lwvsock_dev *dev);
/** Tx completion callback (txbuf_done_fn): @p len bytes of pcb @p arg are out. */
void pcb_tx_completed(void *arg, uint32_t len);

/* ---- the device (device.c) ---------------------------------------------------- */

struct lwvsock_dev {
  struct lwvsock_backend *be;
  uint64_t features;
  uint32_t cid;
  bool started;
  bool closing;              /* lwvsock_dev_close() ran; memory waits for loans */
  bool has_stream, has_seqpacket;
  char error[160];           /* why the device is broken ("" when fine) */

  /* Device memory: segments of at most be->seg_max bytes; no ring or buffer
   * crosses a segment. mem_used is what dev_carve took from mem[nmem - 1],
   * mem_left what the layout still expects to need. */
  struct lwvsock_mem mem[LWVSOCK_MEM_SEGS_MAX];
  uint8_t nmem;
  size_t mem_used, mem_left;
  struct virtq rxq, txq, evq;
  bool has_evq;

  /* rx buffers */
  struct rxbuf *rxbufs;
  uint16_t nrxbufs, rx_free_head, rx_free_count, rx_loans;
  struct rxbuf *rx_parked;   /* a packet no memory could hold yet: retried first */
  uint32_t rx_parked_len;
  uint8_t *evbufs;

  /* tx */
  struct txslot *slots;
  uint16_t nslots;
  uint16_t slot_free_head[2], slot_free_count[2]; /* [0] big, [1] small */
  struct txpkt *pkts;        /* one per header slot */
  uint8_t *hdrmem;           /* header slots in device memory */
  uint16_t npkts, pkt_free_head;
  bool tx_added;             /* tx buffers added since the last kick */
  txbuf_done_fn tx_done;     /* tx completion callback (the pcb layer) */
  struct vsock_hdr *replies; /* reply store: control packets waiting for the ring */
  uint16_t nreplies, reply_head;

  /* loopback: packets to our own CID, as PBUF_RAM [hdr][payload] */
  struct pbuf *loop_head, *loop_tail;
  bool loop_retry;           /* the head was offered before (counted and tapped) */

  /* connections */
  struct lwvsock_pcb *conn_hash[LWVSOCK_HASH_BUCKETS];
  struct lwvsock_pcb *bind_hash[LWVSOCK_HASH_BUCKETS];
  struct lwvsock_pcb *all;
  struct lwvsock_pcb *dirty;
  struct lwvsock_pcb *graveyard;
  uint32_t next_ephemeral;
  uint32_t next_timer;       /* earliest deadline or poll tick (sys_now ms) */
  uint32_t next_tick;        /* next 500 ms poll tick */
  bool cb_armed;             /* notifications enabled for a sleeping caller */
  uint32_t txwait;           /* pcbs with PCB_F_TXWAIT */

  lwvsock_tap_fn tap;
  void *tap_arg;
  struct lwvsock_dev_stats st;
};

/** Mark the device broken with a reason (first reason wins); counts a device error. */
void dev_fail(struct lwvsock_dev *dev, const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 2, 3)))
#endif
  ;
/**
 * @p size bytes of device memory aligned to @p align (a power of two), never
 * crossing a segment; NULL (with dev_fail) when the backend cannot provide it.
 */
uint8_t *dev_carve(struct lwvsock_dev *dev, size_t size, size_t align);
/** Device address of a pointer into device memory (from dev_carve). */
static inline uint64_t
dev_dma(const struct lwvsock_dev *dev, const void *va)
{
  const uint8_t *p = (const uint8_t *)va;
  uint8_t i;

  for (i = 0; i + 1 < dev->nmem; i++) {
    const uint8_t *base = (const uint8_t *)dev->mem[i].va;
    if (p >= base && p < base + dev->mem[i].size) {
      break;
    }
  }
  return dev->mem[i].dma + (uint64_t)(p - (const uint8_t *)dev->mem[i].va);
}
/** Whether @p cid goes through the in-driver loopback. */
static inline bool
dev_is_local_cid(const struct lwvsock_dev *dev, uint64_t cid)
{
  return cid == VMADDR_CID_LOCAL || cid == dev->cid;
}
/** Queue a loopback packet (takes @p p: [hdr][payload]). */
void dev_loop_enqueue(struct lwvsock_dev *dev, struct pbuf *p);
/** Arm the device timer for @p when (sys_now ms). */
void dev_timer_at(struct lwvsock_dev *dev, uint32_t when);
/** Free the device's memory once it is closed and no loan is left. */
void dev_release_if_done(struct lwvsock_dev *dev);

/** Signed distance from @p a to @p b in the wrapping ms clock. */
static inline int32_t
time_diff(uint32_t b, uint32_t a)
{
  return (int32_t)(b - a);
}

#endif /* LWVSOCK_PRIV_H */
