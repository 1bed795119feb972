/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Connections (pcb.c): the vsock protocol over the device.
 */
#ifndef LWVSOCK_PCB_H
#define LWVSOCK_PCB_H

#include <stdint.h>

#include "core.h"
#include "rxbuf.h"
#include "txbuf.h"
#include "vsock_hdr.h"
#include "lwip/memp.h"
#include "lwip/pbuf.h"

struct lwvsock_dev;

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
#define PCB_F_NODELAY       0x10000u /* lwvsock_nagle_disable(): small packets never wait */
#define PCB_F_HELD          0x20000u /* a small packet waits since hold_since */
#define PCB_F_ARMED         0x40000u /* deadline is armed */
#define PCB_F_PEER_RESET    0x80000u /* RST received: fail with ERR_RST once refused data is read */

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
  uint32_t rx_cnt;         /* payload bytes received (the low word of rx_bytes) */
  uint32_t fwd_cnt;        /* bytes the application consumed (recved) */
  uint32_t last_fwd_cnt;   /* fwd_cnt the peer was last told */
  /* send credit (the peer's) */
  uint32_t peer_buf_alloc;
  uint32_t peer_fwd_cnt;
  uint32_t tx_cnt;         /* payload bytes sent (the low word of tx_bytes) */

  uint32_t snd_buf;        /* send buffer size */
  uint32_t snd_queued;     /* written and not yet completed by the device */
  uint32_t acked;          /* completed bytes not yet reported through sent() */
  uint32_t deadline;       /* connect, linger or close timeout (sys_now ms), when armed */
  uint32_t linger_ms;      /* after close: drop unsent data after this long without progress */
  uint32_t hold_since;     /* sys_now() when the held small packet began to wait */
  uint32_t last_credit_req;
  struct txbuf_sendq sndq; /* written data not yet handed to the device (txbuf.c's) */
  uint32_t flags;          /* PCB_F_* */
  uint16_t rq_room;        /* bytes the rq tail (a merge buffer) can still take */
  uint8_t state;           /* enum lwvsock_state */
  /* Whole bytes, not 2-bit fields: bitfield accesses cost ~150 B of Cortex-M4
     .text in pcb.c (the core's 16 KiB target), the bytes 8 B of the pcb. */
  uint8_t type;            /* LWVSOCK_STREAM or LWVSOCK_SEQPACKET */
  uint8_t peer_shut;       /* SHUTDOWN flags received (sticky) */
  uint8_t shut_sent;       /* SHUTDOWN flags sent (sticky) */
  uint8_t shut_want;       /* SHUTDOWN flags the application asked for */
  uint8_t poll_interval, poll_tick;
  uint8_t backlog, backlog_used;            /* listeners */
  uint32_t rx_pkts, tx_pkts, stalls;
  /* High words of the 64-bit byte counts: rx_cnt and tx_cnt start at 0 and
     count exactly the bytes of rx_bytes and tx_bytes while the application
     holds the pcb (rx_cnt also counts data dropped after close, unseen). */
  uint32_t rx_hi, tx_hi;
};

/* The idle-connection footprint target (issue 15): at most 256 B per pcb with
   64-bit pointers (32-bit targets are far below it). 256 today: a new field needs
   room made first (the four 2-bit fields above would give back 8 B). */
_Static_assert(sizeof(void *) != 8 || sizeof(struct lwvsock_pcb) <= 256,
               "struct lwvsock_pcb exceeds the 256 B idle-connection budget");

/**
 * The device's connection tables and timer state. Part of the device (dev->pcbs);
 * only pcb.c writes it.
 */
struct pcb_table {
  struct lwvsock_pcb *conn_hash[LWVSOCK_HASH_BUCKETS];
  struct lwvsock_pcb *bind_hash[LWVSOCK_HASH_BUCKETS];
  struct lwvsock_pcb *all;
  struct lwvsock_pcb *dirty;
  struct lwvsock_pcb *graveyard;
  uint32_t next_ephemeral;
  uint32_t next_tick;        /* next 500 ms poll tick */
  uint32_t txwait;           /* pcbs with PCB_F_TXWAIT */
};

/** The pcb pool (tests read its stats). */
LWIP_MEMPOOL_PROTOTYPE(LWVSOCK_PCB);
/** Initialise the pcb pool (once per process; lwIP pools are global). */
void lwvsock_pcb_pool_init(void);
/** Empty tables for a new device; the first poll tick is due at @p now + tick. */
void pcb_table_init(struct pcb_table *t, uint32_t now);
/** Whether some pcb has pending work for pcb_service(). */
bool pcb_work_pending(const struct lwvsock_dev *dev);
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

#endif /* LWVSOCK_PCB_H */
