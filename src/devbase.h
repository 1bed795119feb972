/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The device handle and its base services (devbase.c): device memory carving
 * and DMA translation, the failure state, the timer deadline and the local
 * loopback queue. The bottom of the core.
 *
 * Layers (each includes and calls only what is below it; the one call up is
 * txbuf's tx-completion callback, txbuf_done_fn, into pcb.c):
 *
 *   device.c   open, poll, close, rx/event dispatch        (device.h)
 *   pcb.c      connections, the vsock protocol             (pcb.h)
 *   rxbuf.c, txbuf.c   rx buffers; tx slots, ring, replies (rxbuf.h, txbuf.h)
 *   devbase.c  the handle, memory, failure, timer, loopback (devbase.h)
 *   virtq.c, vsock_hdr.c, core.h
 *
 * struct lwvsock_dev is defined here so every layer can reach its own state
 * through the handle; each module's state is a sub-struct only that module
 * writes (the upper ones by pointer, as their types live above this header).
 */
#ifndef LWVSOCK_DEVBASE_H
#define LWVSOCK_DEVBASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core.h"
#include "virtq.h"
#include "lwip/pbuf.h"

struct rxbuf;
struct rxbuf_pool;
struct txbuf;
struct pcb_table;

/** The base services' state. Embedded in the device; only devbase.c writes it. */
struct devbase {
  /* Device memory: segments of at most be->seg_max bytes; no ring or buffer
   * crosses a segment. mem_used is what devbase_carve took from mem[nmem - 1],
   * mem_left what the layout still expects to need. */
  struct lwvsock_mem mem[LWVSOCK_MEM_SEGS_MAX];
  uint8_t nmem;
  size_t mem_used, mem_left;
  char error[160];           /* why the device is broken ("" when fine) */
  uint32_t next_timer;       /* earliest deadline or poll tick (sys_now ms) */
  /* loopback: packets to our own CID, as PBUF_RAM [hdr][payload] */
  struct pbuf *loop_head, *loop_tail;
  bool loop_retry;           /* the head was offered before (counted and tapped) */
};

/**
 * A vsock device. Plain fields are device.c's (the layers below only read
 * them); each sub-state is written only by the module named beside it. One
 * allocation holds the handle and the module states (device.c makes it,
 * devbase_release() frees it).
 */
struct lwvsock_dev {
  struct lwvsock_backend *be;
  uint64_t features;
  uint32_t cid;
  bool started;
  bool has_stream, has_seqpacket;
  struct virtq rxq, txq, evq;
  bool has_evq;

  struct devbase base;       /* devbase.c's */
  struct rxbuf_pool *rx;     /* rxbuf.c's */
  struct txbuf *tx;          /* txbuf.c's */
  struct pcb_table *pcbs;    /* pcb.c's */

  struct rxbuf *rx_parked;   /* a packet no memory could hold yet: retried first */
  uint32_t rx_parked_len;
  uint8_t *evbufs;
  bool cb_armed;             /* notifications enabled for a sleeping caller */

  lwvsock_tap_fn tap;
  void *tap_arg;
  /* Counters only (nothing decides on them): every module adds to its own. */
  struct lwvsock_dev_stats st;
};

/** Mark the device broken with a reason (first reason wins); counts a device error. */
void devbase_fail(struct lwvsock_dev *dev, const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 2, 3)))
#endif
  ;
/** Whether the device is broken (devbase_fail() was called). */
static inline bool
devbase_broken(const struct lwvsock_dev *dev)
{
  return dev->base.error[0] != '\0';
}
/** Expect @p size more bytes of carving (sizes the next backend segment). */
void devbase_plan(struct lwvsock_dev *dev, size_t size);
/**
 * @p size bytes of device memory aligned to @p align (a power of two), never
 * crossing a segment; NULL (with devbase_fail) when the backend cannot provide it.
 */
uint8_t *devbase_carve(struct lwvsock_dev *dev, size_t size, size_t align);
/** Device address of a pointer into device memory (from devbase_carve). */
uint64_t devbase_dma(const struct lwvsock_dev *dev, const void *va);
/** Whether @p cid goes through the in-driver loopback. */
static inline bool
devbase_is_local_cid(const struct lwvsock_dev *dev, uint64_t cid)
{
  return cid == VMADDR_CID_LOCAL || cid == dev->cid;
}
/** Queue a loopback packet (takes @p p: [hdr][payload]). */
void devbase_loop_enqueue(struct lwvsock_dev *dev, struct pbuf *p);
/** The next loopback packet (the caller owns it), or NULL. */
struct pbuf *devbase_loop_dequeue(struct lwvsock_dev *dev);
/** Put back a packet that could not be taken yet: it is next again, marked as a retry. */
void devbase_loop_requeue(struct lwvsock_dev *dev, struct pbuf *p);
/** Whether the loopback head is a retry; clears the mark. */
bool devbase_loop_take_retry(struct lwvsock_dev *dev);
/** Arm the device timer for @p when (sys_now ms) unless it is due earlier. */
void devbase_timer_at(struct lwvsock_dev *dev, uint32_t when);
/** Set the device timer to @p when (sys_now ms), earlier deadlines forgotten. */
void devbase_timer_reset(struct lwvsock_dev *dev, uint32_t when);
/**
 * Free what the base owns: queued loopback packets, the device memory, the
 * backend, and the device allocation itself. Called once nothing above uses
 * device memory any more (after close, when the last rx loan is back).
 */
void devbase_release(struct lwvsock_dev *dev);

#endif /* LWVSOCK_DEVBASE_H */
