/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The device (device.c): a virtio-vsock device over a backend, its memory,
 * queues, loopback and timer. Embeds the rx buffers, the tx side and the
 * connection tables, each written only by its own module.
 */
#ifndef LWVSOCK_DEVICE_H
#define LWVSOCK_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "core.h"
#include "pcb.h"
#include "rxbuf.h"
#include "txbuf.h"
#include "virtq.h"
#include "vsock_hdr.h"

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

  struct rxbuf_pool rx;       /* rxbuf.c's */
  struct rxbuf *rx_parked;   /* a packet no memory could hold yet: retried first */
  uint32_t rx_parked_len;
  uint8_t *evbufs;

  struct txbuf tx;           /* txbuf.c's */

  /* loopback: packets to our own CID, as PBUF_RAM [hdr][payload] */
  struct pbuf *loop_head, *loop_tail;
  bool loop_retry;           /* the head was offered before (counted and tapped) */

  struct pcb_table pcbs;     /* pcb.c's */
  uint32_t next_timer;       /* earliest deadline or poll tick (sys_now ms) */
  bool cb_armed;             /* notifications enabled for a sleeping caller */

  lwvsock_tap_fn tap;
  void *tap_arg;
  /* Counters only (nothing decides on them): every module adds to its own. */
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
/** Arm the device timer for @p when (sys_now ms) unless it is due earlier. */
void dev_timer_at(struct lwvsock_dev *dev, uint32_t when);
/** Set the device timer to @p when (sys_now ms), earlier deadlines forgotten. */
void dev_timer_reset(struct lwvsock_dev *dev, uint32_t when);
/** Free the device's memory once it is closed and no loan is left. */
void dev_release_if_done(struct lwvsock_dev *dev);

#endif /* LWVSOCK_DEVICE_H */
