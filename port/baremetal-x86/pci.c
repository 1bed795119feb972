/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * PCI on bare-metal x86 (q35): configuration mechanism #1 (ports 0xcf8/0xcfc),
 * a scan for the virtio-vsock function, and the bus (lwvsock/port/bus.h) the
 * portable virtio-pci transport (src/virtio_pci.c) drives it through. The
 * firmware (SeaBIOS, before the PVH entry) has assigned the BARs; paging is
 * off, so a memory BAR below 4 GiB is its own pointer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bm.h"
#include "lwvsock/port/virtio_pci.h"

#define PCI_CFG_ADDR        0xcf8u
#define PCI_CFG_DATA        0xcfcu
#define PCI_VENDOR_VIRTIO   0x1af4u
#define PCI_DEVICE_VSOCK    0x1053u  /* 0x1040 + virtio device id 19: modern only */
#define PCI_BAR0            0x10u
#define PCI_COMMAND         0x04u
#define PCI_COMMAND_MEMORY  0x2u
#define PCI_HEADER_TYPE     0x0eu

struct bm_pci_bus {
  struct lwvsock_bus bus;   /* first: the transport's handle */
  uint8_t b, d, f;
};

static uint32_t
pci_addr(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
  return 0x80000000u | ((uint32_t)bus << 16) | ((uint32_t)dev << 11) | ((uint32_t)fn << 8) | (off & 0xfcu);
}

static uint32_t
pci_rd32(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
  bm_outl(PCI_CFG_ADDR, pci_addr(bus, dev, fn, off));
  return bm_inl(PCI_CFG_DATA);
}

static void
pci_wr32(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
  bm_outl(PCI_CFG_ADDR, pci_addr(bus, dev, fn, off));
  bm_outl(PCI_CFG_DATA, v);
}

static struct bm_pci_bus *
pci_of(struct lwvsock_bus *bus)
{
  return (struct bm_pci_bus *)bus;
}

/* Any naturally aligned 1, 2 or 4 bytes, through the dword that holds them. */
static int
pci_bus_cfg_read(struct lwvsock_bus *bus, uint32_t off, void *buf, uint32_t len)
{
  struct bm_pci_bus *p = pci_of(bus);
  uint32_t v, i;

  if ((len != 1 && len != 2 && len != 4) || off % len != 0 || off >= 256u) {
    snprintf(bus->err, sizeof(bus->err), "config read of %u bytes at 0x%x", (unsigned)len, (unsigned)off);
    return -EINVAL;
  }
  v = pci_rd32(p->b, p->d, p->f, (uint16_t)off) >> (8u * (off & 3u));
  for (i = 0; i < len; i++) {
    ((uint8_t *)buf)[i] = (uint8_t)(v >> (8u * i));
  }
  return 0;
}

static int
pci_bus_cfg_write(struct lwvsock_bus *bus, uint32_t off, const void *buf, uint32_t len)
{
  struct bm_pci_bus *p = pci_of(bus);
  uint32_t v, mask, i, shift = 8u * (off & 3u);

  if ((len != 1 && len != 2 && len != 4) || off % len != 0 || off >= 256u) {
    snprintf(bus->err, sizeof(bus->err), "config write of %u bytes at 0x%x", (unsigned)len, (unsigned)off);
    return -EINVAL;
  }
  mask = len == 4 ? 0xffffffffu : ((1u << (8u * len)) - 1u) << shift;
  v = len == 4 ? 0 : pci_rd32(p->b, p->d, p->f, (uint16_t)off) & ~mask;
  for (i = 0; i < len; i++) {
    v |= (uint32_t)((const uint8_t *)buf)[i] << (shift + 8u * i);
  }
  pci_wr32(p->b, p->d, p->f, (uint16_t)off, v);
  return 0;
}

/* Where memory BAR @p index is and how big (the classic all-ones probe, decoding off meanwhile). */
static int
pci_bus_map(struct lwvsock_bus *bus, unsigned index, volatile void **va, uint64_t *len)
{
  struct bm_pci_bus *p = pci_of(bus);
  uint16_t off = (uint16_t)(PCI_BAR0 + 4u * index);
  uint32_t lo, hi = 0, szlo, szhi = 0xffffffffu, cmd;
  uint64_t base, size;
  int is64;

  if (index > 5) {
    snprintf(bus->err, sizeof(bus->err), "no BAR %u", index);
    return -ENOENT;
  }
  lo = pci_rd32(p->b, p->d, p->f, off);
  if (lo & 1u) {
    snprintf(bus->err, sizeof(bus->err), "BAR %u is an I/O port BAR", index);
    return -ENOTSUP;
  }
  is64 = ((lo >> 1) & 3u) == 2u;
  if (is64 && index == 5) {
    snprintf(bus->err, sizeof(bus->err), "BAR 5 claims 64 bits");
    return -EINVAL;
  }
  cmd = pci_rd32(p->b, p->d, p->f, PCI_COMMAND);
  pci_wr32(p->b, p->d, p->f, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY & 0xffffu);
  pci_wr32(p->b, p->d, p->f, off, 0xffffffffu);
  szlo = pci_rd32(p->b, p->d, p->f, off);
  pci_wr32(p->b, p->d, p->f, off, lo);
  if (is64) {
    hi = pci_rd32(p->b, p->d, p->f, (uint16_t)(off + 4));
    pci_wr32(p->b, p->d, p->f, (uint16_t)(off + 4), 0xffffffffu);
    szhi = pci_rd32(p->b, p->d, p->f, (uint16_t)(off + 4));
    pci_wr32(p->b, p->d, p->f, (uint16_t)(off + 4), hi);
  }
  pci_wr32(p->b, p->d, p->f, PCI_COMMAND, cmd & 0xffffu);
  size = ~((((uint64_t)szhi << 32) | (szlo & ~0xfu))) + 1u;
  base = ((uint64_t)hi << 32) | (lo & ~0xfu);
  if ((szlo & ~0xfu) == 0 || base == 0) {
    snprintf(bus->err, sizeof(bus->err), "BAR %u is not implemented or not assigned", index);
    return -ENOENT;
  }
  if (base + size > 0x100000000ull) {
    snprintf(bus->err, sizeof(bus->err), "BAR %u at 0x%llx is above 4 GiB, out of reach without paging",
             index, (unsigned long long)base);
    return -ENOTSUP;
  }
  *va = (volatile void *)(uintptr_t)base;
  *len = size;
  return 0;
}

static const struct lwvsock_bus_ops pci_bus_ops = {
  .name = "x86-pio",
  .cfg_read = pci_bus_cfg_read,
  .cfg_write = pci_bus_cfg_write,
  .map = pci_bus_map,
  .dma_alloc = bm_dma_alloc,
  .dma_free = bm_dma_free,
  .dma_map = bm_dma_map,
  .close = bm_bus_free,
};

int
bm_pci_present(void)
{
  return (pci_rd32(0, 0, 0, 0) & 0xffffu) != 0xffffu;
}

int
bm_pci_open_vsock(struct lwvsock_backend **bep, char *where, char *err, size_t errlen)
{
  unsigned b, d, f, nf;

  for (b = 0; b < 256; b++) {
    for (d = 0; d < 32; d++) {
      if ((pci_rd32((uint8_t)b, (uint8_t)d, 0, 0) & 0xffffu) == 0xffffu) {
        continue;
      }
      nf = (pci_rd32((uint8_t)b, (uint8_t)d, 0, PCI_HEADER_TYPE & 0xfcu) & 0x800000u) ? 8u : 1u;
      for (f = 0; f < nf; f++) {
        uint32_t id = pci_rd32((uint8_t)b, (uint8_t)d, (uint8_t)f, 0);
        struct bm_pci_bus *p;
        int r;

        if ((id & 0xffffu) != PCI_VENDOR_VIRTIO || (id >> 16) != PCI_DEVICE_VSOCK) {
          continue;
        }
        p = (struct bm_pci_bus *)calloc(1, sizeof(*p));
        if (p == NULL) {
          snprintf(err, errlen, "out of memory");
          return -ENOMEM;
        }
        p->bus.ops = &pci_bus_ops;
        p->bus.kind = LWVSOCK_BUS_PCI;
        p->b = (uint8_t)b;
        p->d = (uint8_t)d;
        p->f = (uint8_t)f;
        /* On failure the transport has closed (freed) the bus. */
        r = lwvsock_virtio_pci_open(&p->bus, bep, err, errlen);
        if (r != 0) {
          return r;
        }
        snprintf(where, BM_WHERE_LEN, "virtio-pci %02x:%02x.%x", b, d, f);
        return 0;
      }
    }
  }
  snprintf(err, errlen, "no virtio-vsock PCI function (%04x:%04x) on any bus", PCI_VENDOR_VIRTIO,
           PCI_DEVICE_VSOCK);
  return -ENODEV;
}
