/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Receive buffers (rxbuf.c): posted to the rx queue, lent to the application
 * as custom pbufs.
 */
#ifndef LWVSOCK_RXBUF_H
#define LWVSOCK_RXBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "lwip/pbuf.h"

struct lwvsock_dev;

/** One rx buffer: [44-byte header][payload] contiguous in device memory. */
struct rxbuf {
  struct pbuf_custom pc;     /* first: the free callback gets &pc.pbuf */
  struct lwvsock_dev *dev;
  uint8_t *mem;
  uint16_t next_free;        /* free-list link (driver-private) */
  uint8_t loaned;            /* owned by an application pbuf */
  uint8_t taken;             /* lent during the current input (even if already back) */
};

/** The device's rx buffers. Part of the device (dev->rx); only rxbuf.c writes it. */
struct rxbuf_pool {
  struct rxbuf *bufs;
  uint16_t n, free_head, free_count;
  uint16_t loans;            /* buffers lent to the application as pbufs */
  bool closing;              /* rxbuf_close() ran: the last loan back releases the device */
};

/** Bytes of device memory @p n rx buffers need. */
size_t rxbuf_mem_size(uint16_t n);
/** Set up @p n buffers, each carved from device memory with devbase_carve(). */
int rxbuf_init(struct lwvsock_dev *dev, uint16_t n);
/**
 * The device is closing: once no buffer is lent (now, or when the last loan
 * returns) free the buffers and have devbase_release() free the device.
 */
void rxbuf_close(struct lwvsock_dev *dev);
/** Post free rx buffers until the ring is full; kicks when the device wants it. */
void rxbuf_refill(struct lwvsock_dev *dev);
/** Give a used rx buffer back (not lent): to the free list, reposted by rxbuf_refill. */
void rxbuf_put(struct lwvsock_dev *dev, struct rxbuf *rb);
/**
 * A pbuf holding @p len payload bytes of @p rb: lent in place when allowed,
 * else copied (small payloads, loan bound reached). NULL when memory is short.
 */
struct pbuf *rxbuf_take_pbuf(struct lwvsock_dev *dev, struct rxbuf *rb, uint32_t len);

#endif /* LWVSOCK_RXBUF_H */
