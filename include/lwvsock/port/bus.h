/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Porting API: bus access for the generic virtio transports.
 *
 * The virtio-pci (modern) and virtio-mmio transports in the core are written
 * once against this interface; a platform (port/) supplies one bus per device:
 * Linux userspace PCI access (sysfs resources, UIO, VFIO), bare-metal x86
 * (port I/O config cycles, identity-mapped BARs), a test double. A transport
 * turns a bus into a struct lwvsock_backend (backend.h) for lwvsock_dev_open().
 *
 * Applications never include this header: only platforms and transports do.
 *
 * Rules every bus keeps:
 * - All ops return 0 or a negative errno, and never print: a bus that has a
 *   sentence to say puts it in @ref lwvsock_bus.err (NUL-terminated).
 * - Register windows returned by map() stay valid until close(); the
 *   transport reads and writes them with naturally aligned volatile loads and
 *   stores of 8, 16 or 32 bits (virtio 1.x, 4.1.3.1 and 4.2.2), little-endian.
 * - DMA memory from dma_alloc() is zeroed, page aligned, and physically
 *   contiguous as the device sees it: the device reads byte va+i at dma+i.
 *   A bus whose memory is contiguous only in pieces (hugepages) sets
 *   seg_max; callers then never ask for more than seg_max bytes at once, so
 *   no ring or buffer crosses a segment.
 */
#ifndef LWVSOCK_BUS_H
#define LWVSOCK_BUS_H

/**
 * @defgroup lwvsock_bus Bus access (bus.h)
 * @{
 */

#include <stddef.h>
#include <stdint.h>

#include "lwvsock/port/backend.h"

#include "lwvsock/lwvsock_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Room for a bus's error sentence. */
#define LWVSOCK_BUS_ERR_LEN 256

/** What kind of virtio transport sits behind a bus. */
enum lwvsock_bus_kind {
  LWVSOCK_BUS_PCI = 1,  /**< a PCI function: config space + BARs */
  LWVSOCK_BUS_MMIO = 2  /**< a virtio-mmio register window (index 0) */
};

struct lwvsock_bus;

/** Operations of a bus. Required unless marked optional. */
struct lwvsock_bus_ops {
  /** Short name for logs ("linux-sysfs", "uio", "x86-pio", ...). */
  const char *name;
  /**
   * PCI only: read @p len (1, 2 or 4) bytes of configuration space at
   * @p off, little-endian. Optional (NULL) for MMIO buses.
   */
  int (*cfg_read)(struct lwvsock_bus *bus, uint32_t off, void *buf, uint32_t len);
  /** PCI only: write configuration space. Optional (NULL) for MMIO buses. */
  int (*cfg_write)(struct lwvsock_bus *bus, uint32_t off, const void *buf, uint32_t len);
  /**
   * Map register window @p index (PCI: BAR 0-5; MMIO: 0, the device's
   * window) and return where the driver reaches it and its length in bytes.
   * -ENOENT when there is no such window, -ENOTSUP when it is not memory.
   */
  int (*map)(struct lwvsock_bus *bus, unsigned index, volatile void **va, uint64_t *len);
  /** Allocate @p size bytes of DMA memory (see the rules above). */
  int (*dma_alloc)(struct lwvsock_bus *bus, size_t size, struct lwvsock_mem *mem);
  /** Release memory from dma_alloc(), only once the device was reset. */
  void (*dma_free)(struct lwvsock_bus *bus, struct lwvsock_mem *mem);
  /**
   * Optional: read @p len (1, 2 or 4) bytes at @p off of window @p index
   * (little-endian) for a bus whose registers are not plain memory (a test
   * double, an emulator). When set, the transport uses reg_read/reg_write
   * instead of the pointer from map(); map() still gives the length.
   * A failed read is taken as a device that is gone (all ones).
   */
  int (*reg_read)(struct lwvsock_bus *bus, unsigned index, uint64_t off, void *buf, uint32_t len);
  /** Optional, with reg_read: write @p len bytes at @p off of window @p index. */
  int (*reg_write)(struct lwvsock_bus *bus, unsigned index, uint64_t off, const void *buf, uint32_t len);
  /** Optional: fds readable when the device interrupts (eventfd, UIO fd); returns how many. */
  int (*wait_fds)(struct lwvsock_bus *bus, int *fds, int max);
  /** Optional: re-arm the interrupt behind wait_fds after a wake-up. */
  void (*irq_ack)(struct lwvsock_bus *bus);
  /** Release the device (unmap, unpin, give it back) and the bus itself. */
  void (*close)(struct lwvsock_bus *bus);
  /**
   * Optional: zero-copy transmit, as the backend op dma_map (backend.h): 0
   * and the device address of [va, va + len) when the device can read it in
   * one piece, else a negative errno. Absent: the transport copies.
   */
  int (*dma_map)(struct lwvsock_bus *bus, const void *va, size_t len, uint64_t *dma);
};

/** The part every bus's state starts with; the platform fills it. */
struct lwvsock_bus {
  const struct lwvsock_bus_ops *ops;  /**< the platform's operations */
  enum lwvsock_bus_kind kind;         /**< which transport the bus carries */
  /** Largest physically contiguous DMA allocation; 0 = no limit. */
  size_t seg_max;
  /** The last error sentence ("" when none); written only by the bus. */
  char err[LWVSOCK_BUS_ERR_LEN];
};

/**
 * Porting helper for open functions: write the sentence @p fmt into @p err
 * (when not NULL and @p errlen > 0) and return @p rc.
 */
LWVSOCK_API int lwvsock_bus_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 4, 5)))
#endif
  ;

/**
 * Porting helper: the value of the @p len (1 to 4) little-endian bytes at
 * @p buf, as cfg_read() and reg_read() carry a register.
 */
static inline uint32_t
lwvsock_bus_le_get(const void *buf, uint32_t len)
{
  const uint8_t *b = (const uint8_t *)buf;
  uint32_t v = 0;

  while (len-- > 0) {
    v = (v << 8) | b[len];
  }
  return v;
}

/**
 * Porting helper: store the low @p len (1 to 4) bytes of @p val at @p buf,
 * little-endian, as cfg_write() and reg_write() carry a register.
 */
static inline void
lwvsock_bus_le_put(void *buf, uint32_t val, uint32_t len)
{
  uint8_t *b = (uint8_t *)buf;
  uint32_t i;

  for (i = 0; i < len; i++) {
    b[i] = (uint8_t)(val >> (8 * i));
  }
}

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* LWVSOCK_BUS_H */
