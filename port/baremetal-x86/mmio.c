/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * virtio-mmio devices on bare-metal x86: where they are, and the bus
 * (lwvsock/port/bus.h) the portable transport (src/virtio_mmio.c) drives them
 * through. Paging is off, so a register window is its physical address and
 * DMA memory is heap memory with dma == va.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bm.h"
#include "lwvsock/port/virtio_mmio.h"

/** Most virtio_mmio.device= entries looked at. */
#define MMIO_MAX_CMDLINE_DEVS 16

struct bm_mmio_bus {
  struct lwvsock_bus bus;   /* first: the transport's handle */
  uint32_t base, size;
};

static int
mmio_bus_map(struct lwvsock_bus *bus, unsigned index, volatile void **va, uint64_t *len)
{
  struct bm_mmio_bus *b = (struct bm_mmio_bus *)bus;

  if (index != 0) {
    snprintf(bus->err, sizeof(bus->err), "virtio-mmio has one window, not %u", index);
    return -ENOENT;
  }
  *va = (volatile void *)(uintptr_t)b->base;
  *len = b->size;
  return 0;
}

static const struct lwvsock_bus_ops mmio_bus_ops = {
  .name = "x86-mmio",
  .map = mmio_bus_map,
  .dma_alloc = bm_dma_alloc,
  .dma_free = bm_dma_free,
  .dma_map = bm_dma_map,
  .close = bm_bus_free,
};

/** Try the transport at @p base; 0 and *bep set when it is a vsock device. */
static int
mmio_try(uint32_t base, uint32_t size, struct lwvsock_backend **bep, char *err, size_t errlen)
{
  struct bm_mmio_bus *b = (struct bm_mmio_bus *)calloc(1, sizeof(*b));

  if (b == NULL) {
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  b->bus.ops = &mmio_bus_ops;
  b->bus.kind = LWVSOCK_BUS_MMIO;
  b->base = base;
  b->size = size;
  /* On failure the transport has closed (freed) the bus. */
  return lwvsock_virtio_mmio_open(&b->bus, bep, err, errlen);
}

/** Linux's memparse(): a number (0x hex or decimal) with an optional K/M/G suffix. */
static const char *
parse_num(const char *s, uint64_t *v)
{
  unsigned base = 10;
  const char *start;

  *v = 0;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s += 2;
  }
  for (start = s;; s++) {
    unsigned d;
    if (*s >= '0' && *s <= '9') {
      d = (unsigned)(*s - '0');
    } else if (base == 16 && ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')) {
      d = (unsigned)((*s | 0x20) - 'a' + 10);
    } else {
      break;
    }
    if (*v > (UINT64_MAX - d) / base) {
      return NULL;
    }
    *v = *v * base + d;
  }
  if (s == start) {
    return NULL;
  }
  switch (*s) {
    case 'G': case 'g': *v <<= 10; /* fall through */
    case 'M': case 'm': *v <<= 10; /* fall through */
    case 'K': case 'k': *v <<= 10; s++; break;
    default: break;
  }
  return s;
}

/** Parse "SIZE@ADDR:IRQ[:ID]" at @p s; the window must lie below 4 GiB (no paging). */
static int
parse_device(const char *s, uint32_t *base, uint32_t *size)
{
  uint64_t sz, addr, irq;

  s = parse_num(s, &sz);
  if (s == NULL || *s++ != '@') {
    return -1;
  }
  s = parse_num(s, &addr);
  if (s == NULL || *s++ != ':' || parse_num(s, &irq) == NULL) {
    return -1;
  }
  if (sz < LWVSOCK_VIRTIO_MMIO_CFG_OFF || sz > 0x100000u || addr == 0 || addr + sz > 0x100000000ull) {
    return -1;
  }
  *base = (uint32_t)addr;
  *size = (uint32_t)sz;
  return 0;
}

int
bm_mmio_open_vsock(const char *cmdline, struct lwvsock_backend **bep, char *where, char *err, size_t errlen)
{
  static const char key[] = "virtio_mmio.device=";
  const char *p = cmdline;
  char seen[160] = "";
  size_t seen_len = 0;
  unsigned i, n = 0;
  int r;

  /* Every entry on the command line, in order. */
  while ((p = strstr(p, key)) != NULL && n < MMIO_MAX_CMDLINE_DEVS) {
    uint32_t base, size;
    p += sizeof(key) - 1;
    n++;
    if (parse_device(p, &base, &size) != 0) {
      snprintf(err, errlen, "malformed kernel command line entry virtio_mmio.device=%.*s"
               " (want SIZE@ADDR:IRQ, the window below 4 GiB)", (int)strcspn(p, " "), p);
      return -EINVAL;
    }
    r = mmio_try(base, size, bep, err, errlen);
    if (r == 0) {
      snprintf(where, BM_WHERE_LEN, "virtio-mmio 0x%x (command line)", (unsigned)base);
      return 0;
    }
    if (r != -ENODEV) {
      return r;
    }
    seen_len += (size_t)snprintf(seen + seen_len, sizeof(seen) - seen_len, " 0x%x", (unsigned)base);
    seen_len = seen_len < sizeof(seen) ? seen_len : sizeof(seen) - 1;
  }
  if (n > 0) {
    snprintf(err, errlen, "no virtio-mmio vsock device among the command line's entries at%s", seen);
    return -ENODEV;
  }
  /* No entries: scan microvm's window. */
  for (i = 0; i < BM_MMIO_SLOTS; i++) {
    uint32_t base = BM_MMIO_WINDOW + i * BM_MMIO_SLOT_SIZE;
    r = mmio_try(base, BM_MMIO_SLOT_SIZE, bep, err, errlen);
    if (r == 0) {
      snprintf(where, BM_WHERE_LEN, "virtio-mmio 0x%x (scan)", (unsigned)base);
      return 0;
    }
    if (r != -ENODEV) {
      return r;
    }
  }
  snprintf(err, errlen, "no virtio-mmio vsock device: no virtio_mmio.device= on the command line"
           " and none among the %u slots at 0x%x", BM_MMIO_SLOTS, (unsigned)BM_MMIO_WINDOW);
  return -ENODEV;
}
