/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The bare-metal x86 platform of the appliance: what port/baremetal-x86/
 * gives the program (examples/appliance.c). 32-bit protected mode, paging
 * off: every physical address is usable as a pointer.
 */
#ifndef BM_H
#define BM_H

#include <stddef.h>
#include <stdint.h>

#include "lwvsock/port/bus.h"

/* ---- port I/O and time stamps (inline: one instruction each) -------------------- */
static inline void
bm_outb(uint16_t port, uint8_t v)
{
  __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t
bm_inb(uint16_t port)
{
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline void
bm_outl(uint16_t port, uint32_t v)
{
  __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint32_t
bm_inl(uint16_t port)
{
  uint32_t v;
  __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline uint64_t
bm_rdtsc(void)
{
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}

/* ---- console (serial.c) ----------------------------------------------------------- */
/** Set up COM1 (0x3f8) at 115200 8N1. */
void bm_serial_init(void);
/** Write @p n bytes to the console ("\n" becomes "\r\n"). */
void bm_serial_write(const char *s, size_t n);

/* ---- clock (clock.c) --------------------------------------------------------------- */
/**
 * Measure the TSC rate against the PIT (1.193182 MHz) for sys_now(). Returns 0,
 * or -1 when the PIT does not count (no PIT: the clock cannot be calibrated).
 */
int bm_clock_init(void);
/** TSC ticks per millisecond found by bm_clock_init(). */
uint32_t bm_clock_khz(void);

/* ---- boot information (platform.c) ------------------------------------------------- */
/** Remember the PVH start_info QEMU passed; returns the kernel command line or "". */
const char *bm_boot_cmdline(const void *start_info);
/** Stop the machine for good. */
_Noreturn void bm_halt(void);

/* ---- the heap (heap.c) ----------------------------------------------------------------- */
/** Bytes of the heap in use now and at most so far, and its size. */
void bm_heap_usage(size_t *used, size_t *peak, size_t *size);
/** Bus dma_alloc/dma_free of every bus here: zeroed, page-aligned heap memory, dma == va. */
int bm_dma_alloc(struct lwvsock_bus *bus, size_t size, struct lwvsock_mem *mem);
void bm_dma_free(struct lwvsock_bus *bus, struct lwvsock_mem *mem);
/** Zero-copy tx: identity mapping (no IOMMU; dma == va as for bm_dma_alloc). */
int bm_dma_map(struct lwvsock_bus *bus, const void *va, size_t len, uint64_t *dma);
/** Bus close of every bus here: buses hold no resources but their calloc'ed state. */
void bm_bus_free(struct lwvsock_bus *bus);

/* ---- devices --------------------------------------------------------------------------- */
/** Longest description of where a device was found. */
#define BM_WHERE_LEN 64

/**
 * Open the virtio-mmio vsock device (microvm): the virtio_mmio.device=SIZE@ADDR:IRQ
 * entries of @p cmdline if there are any, else every transport slot of QEMU
 * microvm's window (BM_MMIO_WINDOW) holding the magic value, in order; the
 * first vsock device wins. Returns 0 with its backend in *@p bep and where it
 * is in @p where (BM_WHERE_LEN), or a negative errno with @p err saying why:
 * -ENODEV when there is no vsock device (the message lists what was seen),
 * -EINVAL for a malformed virtio_mmio.device entry, or the transport's error.
 */
int bm_mmio_open_vsock(const char *cmdline, struct lwvsock_backend **bep, char *where,
                       char *err, size_t errlen);

/** QEMU microvm's virtio-mmio window: 512-byte transports from this address. */
#define BM_MMIO_WINDOW      0xfeb00000u
#define BM_MMIO_SLOT_SIZE   0x200u
#define BM_MMIO_SLOTS       32u

/** Whether PCI configuration space answers (a host bridge at 00:00.0): q35 yes, microvm no. */
int bm_pci_present(void);

/**
 * Open the virtio-vsock PCI function (q35): the first 1af4:1053 on any bus,
 * through the portable virtio-pci transport. Returns 0 with its backend in
 * *@p bep and its address in @p where, -ENODEV when there is none, or the
 * transport's error with @p err saying why.
 */
int bm_pci_open_vsock(struct lwvsock_backend **bep, char *where, char *err, size_t errlen);

#endif /* BM_H */
