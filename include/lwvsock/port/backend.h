/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The backend interface: how the driver reaches a virtio-vsock device.
 *
 * A backend is one const ops table (DPDK style) plus its private state. Each
 * backend type embeds struct lwvsock_backend as the first member of its own
 * state and hands the driver a pointer to it. Ops return 0 or a negative errno.
 *
 * The driver asks the backend for device-reachable memory (from mem_alloc)
 * and carves its rings and every packet buffer out of it, so backends that
 * share memory with a device (vhost) and backends that need DMA memory
 * (virtio-pci) are served the same way. A backend whose memory is contiguous
 * only in pieces states seg_max: the driver then never asks for more than that
 * at once, and no ring or buffer crosses an allocation.
 */
#ifndef LWVSOCK_BACKEND_H
#define LWVSOCK_BACKEND_H

/**
 * @defgroup lwvsock_backend Backend interface (backend.h)
 * @{
 */

#include <stddef.h>
#include <stdint.h>

#include "lwvsock/lwvsock_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Device-reachable memory. The device sees byte va+i at address dma+i. */
struct lwvsock_mem {
  void *va;        /**< where the driver sees the region */
  uint64_t dma;    /**< address of va as the device sees it */
  size_t size;     /**< bytes */
};

/** One split virtqueue as the driver laid it out, for setup_queue. */
struct lwvsock_vring_info {
  uint16_t index;          /**< 0 rx, 1 tx, 2 event */
  uint16_t num;            /**< ring size, a power of two */
  void *desc;              /**< the descriptor table, as the driver sees it */
  void *avail;             /**< the available ring, as the driver sees it */
  void *used;              /**< the used ring, as the driver sees it */
  uint64_t desc_dma;       /**< the descriptor table, as the device sees it */
  uint64_t avail_dma;      /**< the available ring, as the device sees it */
  uint64_t used_dma;       /**< the used ring, as the device sees it */
};

struct lwvsock_backend;

/**
 * Operations of a backend. Required unless marked optional:
 * lwvsock_dev_open() returns ERR_ARG, calling none of them, when one is NULL.
 */
struct lwvsock_backend_ops {
  /** Short name for logs ("sim", "vhost-vsock"). */
  const char *name;
  /** Feature bits the device offers. */
  int (*get_features)(struct lwvsock_backend *be, uint64_t *features);
  /** Features the driver accepts (a subset of the offer); fails if the device refuses. */
  int (*set_features)(struct lwvsock_backend *be, uint64_t features);
  /** Read @p len bytes of device config space at @p offset (little-endian, as on the wire). */
  int (*read_config)(struct lwvsock_backend *be, uint32_t offset, void *buf, uint32_t len);
  /** Largest ring size for queue @p index; 0 when the device has no such queue. */
  uint16_t (*max_queue_size)(struct lwvsock_backend *be, uint16_t index);
  /** Allocate @p size bytes of zeroed device-reachable memory, page aligned. */
  int (*mem_alloc)(struct lwvsock_backend *be, size_t size, struct lwvsock_mem *mem);
  /**
   * Optional: release memory from mem_alloc (only after reset or before
   * start). Without it the memory stays the backend's until destroy.
   */
  void (*mem_free)(struct lwvsock_backend *be, struct lwvsock_mem *mem);
  /** Tell the device where queue vr->index lives. */
  int (*setup_queue)(struct lwvsock_backend *be, const struct lwvsock_vring_info *vr);
  /** Set DRIVER_OK: the device may use the queues from now on. */
  int (*start)(struct lwvsock_backend *be);
  /** Notify the device that queue @p index has new available buffers. */
  void (*notify)(struct lwvsock_backend *be, uint16_t index);
  /** Reset the device: it stops using every queue and forgets them. */
  int (*reset)(struct lwvsock_backend *be);
  /** Optional: run an in-process device; returns units of work done (>= 0). */
  int (*poll)(struct lwvsock_backend *be);
  /** Optional: fds that become readable when the device has work; returns how many. */
  int (*wait_fds)(struct lwvsock_backend *be, int *fds, int max);
  /**
   * Optional: 0, or a negative errno when the device reported an error since
   * the last call: -ENODEV when it is gone, else (e.g. -EIO) it needs a reset.
   */
  int (*check)(struct lwvsock_backend *be);
  /** Optional: release the backend and everything it owns (lwvsock_dev_close()). */
  void (*destroy)(struct lwvsock_backend *be);
  /**
   * Optional: zero-copy transmit. 0 and in @p dma the device address of
   * [va, va + len) when the device can read that memory in one piece, else a
   * negative errno (the driver then copies). Called with len <= 65535, for
   * memory the driver keeps unchanged until the device returns the buffer.
   * Absent: every write is copied into device memory.
   */
  int (*dma_map)(struct lwvsock_backend *be, const void *va, size_t len, uint64_t *dma);
  /**
   * Optional, with dma_map: the device no longer reads a range dma_map
   * returned (called once per successful dma_map, with its @p dma and @p len).
   * A backend with dma_unmap accepts at least as many live mappings as the
   * largest tx ring it offers has descriptors.
   */
  void (*dma_unmap)(struct lwvsock_backend *be, uint64_t dma, size_t len);
};

/** The part every backend's state starts with. */
struct lwvsock_backend {
  const struct lwvsock_backend_ops *ops;  /**< the backend's operations */
  /** Largest mem_alloc the backend serves in one piece; 0 = no limit. */
  size_t seg_max;
  /**
   * Nonzero for a device that cannot wake a sleeping caller (no wait fds,
   * not in-process): lwvsock_dev_next_timeout() returns at most this many ms.
   */
  uint32_t idle_poll_ms;
  /**
   * Counters the backend keeps (the driver only reads them, into
   * lwvsock_dev_get_stats()): notifications that reached the device (an
   * eventfd write, a doorbell register write), and system calls the backend
   * made (0 for a backend that reaches its device through memory only).
   */
  uint64_t kicks;
  uint64_t syscalls;  /**< see kicks */
  /** The application's log callback (lwvsock_backend_set_log()); NULL: silent. */
  void (*log)(void *arg, const char *who, const char *msg);
  /** Argument of log. */
  void *log_arg;
};

/**
 * Report a problem of backend @p be through the application's log callback
 * (nothing when none is set). Backends never print by themselves.
 */
LWVSOCK_API void lwvsock_backend_log(struct lwvsock_backend *be, const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 2, 3)))
#endif
  ;

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* LWVSOCK_BACKEND_H */
