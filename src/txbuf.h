/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Transmit side of the device (txbuf.c): header and payload slots, the tx
 * ring, the reply store and the per-connection send queues.
 */
#ifndef LWVSOCK_TXBUF_H
#define LWVSOCK_TXBUF_H

#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "vsock_hdr.h"
#include "lwip/err.h"
#include "lwip/pbuf.h"

struct lwvsock_dev;

/**
 * One tx payload slot, RW packets are cut from it: a copy slot in device
 * memory, or (mem NULL) a reference slot for a zero-copy write, which
 * references a pbuf chain (ref, holding one reference of its own) or raw
 * application memory (raw) and takes no more writes (size == fill).
 */
struct txslot {
  uint8_t *mem;
  uint64_t dma;
  struct pbuf *ref;          /* reference slot: the chain, or NULL */
  const uint8_t *raw;        /* the bytes when ref is NULL (a copy slot: mem) */
  uint32_t size;             /* LWVSOCK_TX_SLOT_SIZE, LWVSOCK_TX_SMALL_SLOT_SIZE, or fill */
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
  uint8_t nmap;              /* mappings in txbuf.zcmap to end on return (backend has dma_unmap) */
};

/** A range dma_map() returned, ended with dma_unmap() when the packet returns. */
struct txmap {
  uint64_t dma;
  uint32_t len;
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

/**
 * The device's transmit side: header slots, payload slots and the reply
 * store. Part of the device (dev->tx); only txbuf.c writes it.
 */
struct txbuf {
  struct txslot *slots;
  uint16_t nslots;
  uint16_t slot_free_head[3], slot_free_count[3]; /* [0] big, [1] small, [2] reference */
  struct txpkt *pkts;        /* one per header slot */
  uint8_t *hdrmem;           /* header slots in device memory */
  uint64_t hdrdma;           /* their device address (one carve: one segment, contiguous) */
  uint16_t npkts, pkt_free_head;
  struct txmap *zcmap;       /* LWVSOCK_TX_ZC_SEGS per txpkt, when the backend has dma_unmap */
  bool added;                /* tx buffers added since the last kick */
  txbuf_done_fn done;        /* tx completion callback (the connection layer) */
  struct vsock_hdr *replies; /* reply store: control packets waiting for the ring */
  uint16_t nreplies, reply_head;
};

/** Bytes of device memory for @p npkts header slots and the payload slots. */
size_t txbuf_mem_size(uint16_t npkts);
/**
 * Set up @p npkts header slots and the payload slots, carved with
 * devbase_carve(); @p done is called for every completed payload chunk.
 */
int txbuf_setup(struct lwvsock_dev *dev, uint16_t npkts, txbuf_done_fn done);
/** Whether control packets wait in the reply store. */
bool txbuf_replies_pending(const struct lwvsock_dev *dev);
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
 * Zero-copy append (LWVSOCK_WRITE_FLAG_NOCOPY): reference @p len bytes, the
 * chain @p p (pbuf_ref()'d) or else @p data, in one reference slot. ERR_OK,
 * or ERR_MEM when the backend cannot map them or no reference slot is free:
 * nothing was queued and the caller copies instead (counted as zc_fallback).
 * The caller checked the send buffer; @p len <= 65535 for a chain.
 */
err_t txbuf_sendq_append_ref(struct lwvsock_dev *dev, struct txbuf_sendq *q, const struct pbuf *p,
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
 * it returns them (no completion is reported for those); a reference slot's
 * pbuf reference goes with its slot, exactly once. Bytes never handed to the
 * device are counted as dropped. @p q is empty afterwards.
 */
void txbuf_sendq_release(struct lwvsock_dev *dev, struct txbuf_sendq *q);

#endif /* LWVSOCK_TXBUF_H */
