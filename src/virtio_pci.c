/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The virtio-pci modern transport (see lwvsock/port/virtio_pci.h).
 *
 * Modelled on the virtio 1.x spec (4.1) and the shape of SPDK's and Linux's
 * modern drivers: find the vendor capabilities, check each against its BAR,
 * reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK (re-read), queues,
 * DRIVER_OK. Every register access goes through vp_rd/vp_wr, so a bus may
 * trap them (reg_read/reg_write) and a device that vanished reads all ones.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwvsock/port/virtio_pci.h"
#include "lwvsock/lwvsock_opts.h"
#include "lwip/arch.h"
#include "virtio_defs.h"

/* PCI configuration space (PCI local bus 3.0, 6.1) */
#define PCI_VENDOR_ID            0x00
#define PCI_DEVICE_ID            0x02
#define PCI_COMMAND              0x04
#define PCI_STATUS               0x06
#define PCI_CAPABILITY_LIST      0x34
#define PCI_COMMAND_MEMORY       0x2u
#define PCI_COMMAND_MASTER       0x4u
#define PCI_STATUS_CAP_LIST      0x10u
#define PCI_CFG_SIZE             256u
#define PCI_CAP_ID_VNDR          0x09u
#define PCI_VENDOR_REDHAT_QUMRANET 0x1af4u
#define VIRTIO_PCI_MODERN_ID(id) (0x1040u + (id))

/* virtio_pci_cap (4.1.4) */
#define VPCI_CAP_LEN             2
#define VPCI_CAP_TYPE            3
#define VPCI_CAP_BAR             4
#define VPCI_CAP_OFFSET          8
#define VPCI_CAP_LENGTH          12
#define VPCI_CAP_NOTIFY_MULT     16
#define VPCI_CAP_MIN_LEN         16u
#define VPCI_NOTIFY_CAP_MIN_LEN  20u
#define VPCI_CAP_COMMON_CFG      1u
#define VPCI_CAP_NOTIFY_CFG      2u
#define VPCI_CAP_ISR_CFG         3u
#define VPCI_CAP_DEVICE_CFG      4u
#define VPCI_NCAPS               5u /* types 1-4 used, index by type */
#define VPCI_BAR_MAX             5u

/* virtio_pci_common_cfg (4.1.4.3) */
#define VPCI_DFSELECT            0x00
#define VPCI_DF                  0x04
#define VPCI_GFSELECT            0x08
#define VPCI_GF                  0x0c
#define VPCI_MSIX_CONFIG         0x10
#define VPCI_NUM_QUEUES          0x12
#define VPCI_STATUS              0x14
#define VPCI_CFG_GENERATION      0x15
#define VPCI_Q_SELECT            0x16
#define VPCI_Q_SIZE              0x18
#define VPCI_Q_MSIX              0x1a
#define VPCI_Q_ENABLE            0x1c
#define VPCI_Q_NOFF              0x1e
#define VPCI_Q_DESC              0x20
#define VPCI_Q_AVAIL             0x28
#define VPCI_Q_USED              0x30
#define VPCI_COMMON_LEN          0x38u
#define VPCI_NO_VECTOR           0xffffu

/* device status (2.1) */
#define VPCI_S_ACKNOWLEDGE       1u
#define VPCI_S_DRIVER            2u
#define VPCI_S_DRIVER_OK         4u
#define VPCI_S_FEATURES_OK       8u
#define VPCI_S_NEEDS_RESET       0x40u
#define VPCI_S_FAILED            0x80u

#define VPCI_NQUEUES             3u
#define VPCI_QUEUE_SIZE_MAX      32768u
#define VPCI_VSOCK_CFG_LEN       8u
/* Bounds on waiting for the device: reads of status during a reset, tries of
 * a config read racing a changing config_generation. */
#define VPCI_RESET_SPINS         1000000u
#define VPCI_CFG_TRIES           64u

/** One capability's register window: BAR, offset in it, length, pointer. */
struct vpci_win {
  volatile uint8_t *va;
  uint64_t off;
  uint32_t len;
  uint8_t bar;
};

struct vpci {
  struct lwvsock_backend be; /* first: the driver hands us &be */
  struct lwvsock_bus *bus;
  struct vpci_win win[VPCI_NCAPS]; /* by cap type; [0] unused */
  uint32_t notify_mult;
  uint16_t qsize[VPCI_NQUEUES];
  uint64_t qnotify[VPCI_NQUEUES]; /* offset in the notify window */
};

static struct vpci *
vpci_of(struct lwvsock_backend *be)
{
  return (struct vpci *)(void *)be;
}

/* ---- register access ---------------------------------------------------------- */

/** Read @p len (1, 2, 4) bytes at @p off of @p w; all ones when the bus fails. */
static uint32_t
vp_rd(struct vpci *vp, const struct vpci_win *w, uint64_t off, uint32_t len)
{
  uint8_t b[4];
  uint32_t v;

  if (vp->bus->ops->reg_read != NULL) {
    if (vp->bus->ops->reg_read(vp->bus, w->bar, w->off + off, b, len) != 0) {
      return 0xffffffffu >> (32 - 8 * len);
    }
    return lwvsock_bus_le_get(b, len);
  }
  switch (len) {
  case 1:
    return *(volatile uint8_t *)(w->va + off);
  case 2:
    v = *(volatile uint16_t *)(volatile void *)(w->va + off);
    memcpy(b, &v, 2); /* v's bytes as the device stored them */
    return lwvsock_bus_le_get(b, 2);
  default:
    v = *(volatile uint32_t *)(volatile void *)(w->va + off);
    memcpy(b, &v, 4);
    return lwvsock_bus_le_get(b, 4);
  }
}

static void
vp_wr(struct vpci *vp, const struct vpci_win *w, uint64_t off, uint32_t val, uint32_t len)
{
  uint8_t b[4];
  uint16_t v16;
  uint32_t v32;

  lwvsock_bus_le_put(b, val, 4);

  if (vp->bus->ops->reg_write != NULL) {
    (void)vp->bus->ops->reg_write(vp->bus, w->bar, w->off + off, b, len);
    return;
  }
  switch (len) {
  case 1:
    *(volatile uint8_t *)(w->va + off) = b[0];
    break;
  case 2:
    memcpy(&v16, b, 2);
    *(volatile uint16_t *)(volatile void *)(w->va + off) = v16;
    break;
  default:
    memcpy(&v32, b, 4);
    *(volatile uint32_t *)(volatile void *)(w->va + off) = v32;
    break;
  }
}

#define COMMON(vp) (&(vp)->win[VPCI_CAP_COMMON_CFG])

static uint8_t
vp_status(struct vpci *vp)
{
  return (uint8_t)vp_rd(vp, COMMON(vp), VPCI_STATUS, 1);
}

/** Write 0 to device_status and wait (bounded) until the device reads 0. */
static int
vp_reset(struct vpci *vp)
{
  uint32_t i;
  uint8_t s;

  vp_wr(vp, COMMON(vp), VPCI_STATUS, 0, 1);
  for (i = 0; i < VPCI_RESET_SPINS; i++) {
    s = vp_status(vp);
    if (s == 0) {
      return 0;
    }
    if (s == 0xff) {
      return -ENODEV;
    }
  }
  return -EIO;
}

static void
vp_set_status(struct vpci *vp, uint8_t bits)
{
  vp_wr(vp, COMMON(vp), VPCI_STATUS, (uint32_t)vp_status(vp) | bits, 1);
}

/* ---- backend ops ----------------------------------------------------------------- */

static int
vpci_get_features(struct lwvsock_backend *be, uint64_t *features)
{
  struct vpci *vp = vpci_of(be);
  uint32_t lo, hi;

  vp_wr(vp, COMMON(vp), VPCI_DFSELECT, 0, 4);
  lo = vp_rd(vp, COMMON(vp), VPCI_DF, 4);
  vp_wr(vp, COMMON(vp), VPCI_DFSELECT, 1, 4);
  hi = vp_rd(vp, COMMON(vp), VPCI_DF, 4);
  if (lo == 0xffffffffu && hi == 0xffffffffu) {
    return -ENODEV;
  }
  *features = ((uint64_t)hi << 32) | lo;
  return 0;
}

static int
vpci_set_features(struct lwvsock_backend *be, uint64_t features)
{
  struct vpci *vp = vpci_of(be);
  uint64_t offered;
  int r;

  if ((r = vpci_get_features(be, &offered)) != 0) {
    return r;
  }
  if ((features & ~offered) != 0 || !(features & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
    return -EINVAL;
  }
  /* A device offering ACCESS_PLATFORM sits behind an IOMMU or needs
   * translated addresses: refusing it fails FEATURES_OK (6.1); ours are the
   * addresses the bus's dma_alloc gave, which is what it asks for. */
  features |= offered & VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM);
  vp_wr(vp, COMMON(vp), VPCI_GFSELECT, 0, 4);
  vp_wr(vp, COMMON(vp), VPCI_GF, (uint32_t)features, 4);
  vp_wr(vp, COMMON(vp), VPCI_GFSELECT, 1, 4);
  vp_wr(vp, COMMON(vp), VPCI_GF, (uint32_t)(features >> 32), 4);
  vp_set_status(vp, VPCI_S_FEATURES_OK);
  /* 3.1.1: re-read; a device that does not keep FEATURES_OK refused them. */
  return (vp_status(vp) & (VPCI_S_FEATURES_OK | VPCI_S_FAILED | VPCI_S_NEEDS_RESET)) == VPCI_S_FEATURES_OK
             ? 0 : -EPROTO;
}

static int
vpci_read_config(struct lwvsock_backend *be, uint32_t offset, void *buf, uint32_t len)
{
  struct vpci *vp = vpci_of(be);
  const struct vpci_win *w = &vp->win[VPCI_CAP_DEVICE_CFG];
  uint8_t *out = (uint8_t *)buf;
  uint32_t tries, i, n, v;
  uint8_t gen;

  if ((uint64_t)offset + len > w->len) {
    return -EINVAL;
  }
  /* 4.1.4.3.1: read until config_generation is the same before and after. */
  for (tries = 0; tries < VPCI_CFG_TRIES; tries++) {
    gen = (uint8_t)vp_rd(vp, COMMON(vp), VPCI_CFG_GENERATION, 1);
    for (i = 0; i < len; i += n) {
      /* naturally aligned accesses of the widest size that fits */
      n = ((offset + i) % 4 == 0 && len - i >= 4) ? 4 : ((offset + i) % 2 == 0 && len - i >= 2) ? 2 : 1;
      v = vp_rd(vp, w, offset + i, n);
      out[i] = (uint8_t)v;
      if (n > 1) {
        out[i + 1] = (uint8_t)(v >> 8);
      }
      if (n > 2) {
        out[i + 2] = (uint8_t)(v >> 16);
        out[i + 3] = (uint8_t)(v >> 24);
      }
    }
    if ((uint8_t)vp_rd(vp, COMMON(vp), VPCI_CFG_GENERATION, 1) == gen) {
      return vp_status(vp) == 0xff ? -ENODEV : 0;
    }
  }
  return -EIO;
}

static uint16_t
vpci_max_queue_size(struct lwvsock_backend *be, uint16_t index)
{
  struct vpci *vp = vpci_of(be);

  return index < VPCI_NQUEUES ? vp->qsize[index] : 0;
}

static int
vpci_mem_alloc(struct lwvsock_backend *be, size_t size, struct lwvsock_mem *mem)
{
  struct vpci *vp = vpci_of(be);

  return vp->bus->ops->dma_alloc(vp->bus, size, mem);
}

static void
vpci_mem_free(struct lwvsock_backend *be, struct lwvsock_mem *mem)
{
  struct vpci *vp = vpci_of(be);

  vp->bus->ops->dma_free(vp->bus, mem);
}

static void
vp_wr64(struct vpci *vp, uint64_t off, uint64_t val)
{
  /* 4.1.3.1: 64-bit fields as two 32-bit writes, low half first */
  vp_wr(vp, COMMON(vp), off, (uint32_t)val, 4);
  vp_wr(vp, COMMON(vp), off + 4, (uint32_t)(val >> 32), 4);
}

static int
vpci_setup_queue(struct lwvsock_backend *be, const struct lwvsock_vring_info *vr)
{
  struct vpci *vp = vpci_of(be);
  uint64_t noff;

  if (vr->index >= VPCI_NQUEUES || vr->num == 0 || vr->num > vp->qsize[vr->index] ||
      (vr->num & (vr->num - 1)) != 0) {
    return -EINVAL;
  }
  vp_wr(vp, COMMON(vp), VPCI_Q_SELECT, vr->index, 2);
  vp_wr(vp, COMMON(vp), VPCI_Q_SIZE, vr->num, 2);
  vp_wr(vp, COMMON(vp), VPCI_Q_MSIX, VPCI_NO_VECTOR, 2);
  vp_wr64(vp, VPCI_Q_DESC, vr->desc_dma);
  vp_wr64(vp, VPCI_Q_AVAIL, vr->avail_dma);
  vp_wr64(vp, VPCI_Q_USED, vr->used_dma);
  /* 4.1.4.4: the queue's doorbell is at cap offset + queue_notify_off * multiplier */
  noff = (uint64_t)(uint16_t)vp_rd(vp, COMMON(vp), VPCI_Q_NOFF, 2) * vp->notify_mult;
  if (noff + 2 > vp->win[VPCI_CAP_NOTIFY_CFG].len || (noff % 2) != 0) {
    return -EPROTO;
  }
  vp->qnotify[vr->index] = noff;
  vp_wr(vp, COMMON(vp), VPCI_Q_ENABLE, 1, 2);
  return vp_rd(vp, COMMON(vp), VPCI_Q_ENABLE, 2) == 1 ? 0 : -EIO;
}

static int
vpci_start(struct lwvsock_backend *be)
{
  struct vpci *vp = vpci_of(be);
  uint8_t s;

  vp_set_status(vp, VPCI_S_DRIVER_OK);
  s = vp_status(vp);
  return s == 0xff ? -ENODEV : (s & (VPCI_S_NEEDS_RESET | VPCI_S_FAILED)) ? -EIO :
         (s & VPCI_S_DRIVER_OK) ? 0 : -EIO;
}

static void
vpci_notify(struct lwvsock_backend *be, uint16_t index)
{
  struct vpci *vp = vpci_of(be);

  if (index < VPCI_NQUEUES) {
    vp_wr(vp, &vp->win[VPCI_CAP_NOTIFY_CFG], vp->qnotify[index], index, 2);
    vp->be.kicks++;
  }
}

static int
vpci_reset(struct lwvsock_backend *be)
{
  return vp_reset(vpci_of(be));
}

static int
vpci_wait_fds(struct lwvsock_backend *be, int *fds, int max)
{
  struct vpci *vp = vpci_of(be);

  return vp->bus->ops->wait_fds != NULL ? vp->bus->ops->wait_fds(vp->bus, fds, max) : 0;
}

static int
vpci_check(struct lwvsock_backend *be)
{
  struct vpci *vp = vpci_of(be);
  uint8_t s = vp_status(vp);

  if (s == 0xff) {
    return -ENODEV;
  }
  if (s & (VPCI_S_NEEDS_RESET | VPCI_S_FAILED)) {
    return -EIO;
  }
  if (vp->be.idle_poll_ms == 0 && vp->bus->ops->irq_ack != NULL) {
    /* Reading ISR lowers a level-triggered INTx; then the bus re-arms it. */
    (void)vp_rd(vp, &vp->win[VPCI_CAP_ISR_CFG], 0, 1);
    vp->bus->ops->irq_ack(vp->bus);
  }
  return 0;
}

static void
vpci_destroy(struct lwvsock_backend *be)
{
  struct vpci *vp = vpci_of(be);

  (void)vp_reset(vp);
  vp->bus->ops->close(vp->bus);
  free(vp);
}

/* Zero-copy tx where the bus can translate (its own dma_map), else refused: copied. */
static int
vpci_dma_map(struct lwvsock_backend *be, const void *va, size_t len, uint64_t *dma)
{
  struct lwvsock_bus *bus = vpci_of(be)->bus;

  return bus->ops->dma_map != NULL ? bus->ops->dma_map(bus, va, len, dma) : -ENOTSUP;
}

static const struct lwvsock_backend_ops vpci_ops = {
  .name = "virtio-pci",
  .get_features = vpci_get_features,
  .set_features = vpci_set_features,
  .read_config = vpci_read_config,
  .max_queue_size = vpci_max_queue_size,
  .mem_alloc = vpci_mem_alloc,
  .mem_free = vpci_mem_free,
  .setup_queue = vpci_setup_queue,
  .start = vpci_start,
  .notify = vpci_notify,
  .reset = vpci_reset,
  .wait_fds = vpci_wait_fds,
  .check = vpci_check,
  .destroy = vpci_destroy,
  .dma_map = vpci_dma_map,
};

/* ---- bring-up ---------------------------------------------------------------------- */

static int
cfg_rd(struct lwvsock_bus *bus, uint32_t off, uint32_t len, uint32_t *v)
{
  uint8_t b[4];

  if (bus->ops->cfg_read(bus, off, b, len) != 0) {
    return -EIO;
  }
  *v = lwvsock_bus_le_get(b, len);
  return 0;
}

/** Read the capability at @p pos into @p w (type @p type); 0 or a negative errno with @p err set. */
static int
vp_take_cap(struct vpci *vp, uint32_t pos, uint32_t caplen, uint32_t type, char *err, size_t errlen)
{
  static const char *const names[VPCI_NCAPS] = { "", "common", "notify", "ISR", "device" };
  static const uint32_t min_len[VPCI_NCAPS] = { 0, VPCI_COMMON_LEN, 2, 1, VPCI_VSOCK_CFG_LEN };
  struct lwvsock_bus *bus = vp->bus;
  struct vpci_win *w = &vp->win[type];
  volatile void *va;
  uint64_t barlen;
  uint32_t bar, off, len, mult = 0;
  int r;

  if (cfg_rd(bus, pos + VPCI_CAP_BAR, 1, &bar) != 0 || cfg_rd(bus, pos + VPCI_CAP_OFFSET, 4, &off) != 0 ||
      cfg_rd(bus, pos + VPCI_CAP_LENGTH, 4, &len) != 0 ||
      (type == VPCI_CAP_NOTIFY_CFG && cfg_rd(bus, pos + VPCI_CAP_NOTIFY_MULT, 4, &mult) != 0)) {
    return lwvsock_bus_fail(err, errlen, -EIO, "cannot read the %s capability at 0x%x", names[type], (unsigned)pos);
  }
  if (type == VPCI_CAP_NOTIFY_CFG && caplen < VPCI_NOTIFY_CAP_MIN_LEN) {
    return lwvsock_bus_fail(err, errlen, -EPROTO,
                            "the notify capability at 0x%x is %u bytes, too short for its multiplier",
                            (unsigned)pos, (unsigned)caplen);
  }
  if (len < min_len[type]) {
    return lwvsock_bus_fail(err, errlen, -EPROTO,
                            "the %s capability's window is %u bytes, less than the %u it must have",
                            names[type], (unsigned)len, (unsigned)min_len[type]);
  }
  if ((r = bus->ops->map(bus, bar, &va, &barlen)) != 0) {
    return lwvsock_bus_fail(err, errlen, r, "cannot map BAR %u of the %s capability%s%s", (unsigned)bar, names[type],
                            bus->err[0] ? ": " : "", bus->err);
  }
  if ((uint64_t)off + len > barlen) {
    return lwvsock_bus_fail(err, errlen, -EPROTO,
                            "the %s capability (offset 0x%x, %u bytes) lies outside BAR %u (%llu bytes)", names[type],
                            (unsigned)off, (unsigned)len, (unsigned)bar, (unsigned long long)barlen);
  }
  if (type == VPCI_CAP_NOTIFY_CFG && (mult % 2) != 0) {
    return lwvsock_bus_fail(err, errlen, -EPROTO,
                            "notify_off_multiplier %u is odd (doorbells are 16 bits)", (unsigned)mult);
  }
  w->va = (volatile uint8_t *)va + off;
  w->off = off;
  w->len = len;
  w->bar = (uint8_t)bar;
  if (type == VPCI_CAP_NOTIFY_CFG) {
    vp->notify_mult = mult;
  }
  return 0;
}

/** Walk the capability list; take the first usable vendor cap of each type. */
static int
vp_find_caps(struct vpci *vp, char *err, size_t errlen)
{
  struct lwvsock_bus *bus = vp->bus;
  uint8_t seen[PCI_CFG_SIZE / 4];
  uint32_t v, pos, id, caplen, type, bar, t;
  int r;

  memset(seen, 0, sizeof(seen));
  if (cfg_rd(bus, PCI_STATUS, 2, &v) != 0 || !(v & PCI_STATUS_CAP_LIST) ||
      cfg_rd(bus, PCI_CAPABILITY_LIST, 1, &pos) != 0) {
    return lwvsock_bus_fail(err, errlen, -EPROTO,
                            "the function has no capability list (not a modern virtio-pci device)");
  }
  while (pos != 0) {
    pos &= ~3u;
    if (pos < 0x40 || pos > PCI_CFG_SIZE - VPCI_CAP_MIN_LEN) {
      return lwvsock_bus_fail(err, errlen, -EPROTO, "a capability pointer (0x%x) points outside the capability area",
                              (unsigned)pos);
    }
    if (seen[pos / 4]) {
      return lwvsock_bus_fail(err, errlen, -EPROTO, "the capability list loops (0x%x is visited twice)", (unsigned)pos);
    }
    seen[pos / 4] = 1;
    if (cfg_rd(bus, pos, 1, &id) != 0 || cfg_rd(bus, pos + 1, 1, &v) != 0) {
      return lwvsock_bus_fail(err, errlen, -EIO, "cannot read the capability at 0x%x", (unsigned)pos);
    }
    if (id == PCI_CAP_ID_VNDR) {
      if (cfg_rd(bus, pos + VPCI_CAP_LEN, 1, &caplen) != 0 || cfg_rd(bus, pos + VPCI_CAP_TYPE, 1, &type) != 0 ||
          cfg_rd(bus, pos + VPCI_CAP_BAR, 1, &bar) != 0) {
        return lwvsock_bus_fail(err, errlen, -EIO, "cannot read the capability at 0x%x", (unsigned)pos);
      }
      if (caplen < VPCI_CAP_MIN_LEN || pos + caplen > PCI_CFG_SIZE) {
        return lwvsock_bus_fail(err, errlen, -EPROTO,
                                "the virtio capability at 0x%x has a bad length (%u)", (unsigned)pos,
                                (unsigned)caplen);
      }
      /* 4.1.4: unknown types and reserved BARs are skipped; the first of a type wins */
      if (type >= VPCI_CAP_COMMON_CFG && type <= VPCI_CAP_DEVICE_CFG && bar <= VPCI_BAR_MAX &&
          vp->win[type].len == 0 && (r = vp_take_cap(vp, pos, caplen, type, err, errlen)) != 0) {
        return r;
      }
    }
    pos = v;
  }
  for (t = VPCI_CAP_COMMON_CFG; t <= VPCI_CAP_DEVICE_CFG; t++) {
    if (vp->win[t].len == 0) {
      static const char *const what[VPCI_NCAPS] = { "", "common", "notify", "ISR", "device" };
      return lwvsock_bus_fail(err, errlen, -EPROTO, "the function has no virtio %s configuration capability", what[t]);
    }
  }
  return 0;
}

/** Read and check the three queues' sizes (0 = missing, not a power of two, too large: refused). */
static int
vp_read_queues(struct vpci *vp, char *err, size_t errlen)
{
  uint32_t nq = vp_rd(vp, COMMON(vp), VPCI_NUM_QUEUES, 2);
  uint16_t q, n;

  if (nq < VPCI_NQUEUES || nq == 0xffff) {
    return lwvsock_bus_fail(err, errlen, -EPROTO, "the device has %u queues; virtio-vsock needs rx, tx and event",
                            (unsigned)nq);
  }
  for (q = 0; q < VPCI_NQUEUES; q++) {
    vp_wr(vp, COMMON(vp), VPCI_Q_SELECT, q, 2);
    n = (uint16_t)vp_rd(vp, COMMON(vp), VPCI_Q_SIZE, 2);
    if (n == 0 || (n & (n - 1)) != 0 || n > VPCI_QUEUE_SIZE_MAX) {
      return lwvsock_bus_fail(err, errlen, -EPROTO, "queue %u has size %u (must be a power of two from 1 to %u)",
                              (unsigned)q, (unsigned)n, VPCI_QUEUE_SIZE_MAX);
    }
    vp->qsize[q] = n;
  }
  return 0;
}

static int
vp_bringup(struct vpci *vp, char *err, size_t errlen)
{
  struct lwvsock_bus *bus = vp->bus;
  uint32_t vendor, device, cmd;
  int r;

  if (cfg_rd(bus, PCI_VENDOR_ID, 2, &vendor) != 0 || cfg_rd(bus, PCI_DEVICE_ID, 2, &device) != 0) {
    return lwvsock_bus_fail(err, errlen, -EIO, "cannot read the function's config space%s%s", bus->err[0] ? ": " : "",
                            bus->err);
  }
  if (vendor != PCI_VENDOR_REDHAT_QUMRANET || device != VIRTIO_PCI_MODERN_ID(VIRTIO_ID_VSOCK)) {
    return lwvsock_bus_fail(err, errlen, -ENODEV,
                            "the function is %04x:%04x, not a modern virtio-vsock device (1af4:%04x)",
                            (unsigned)vendor, (unsigned)device, VIRTIO_PCI_MODERN_ID(VIRTIO_ID_VSOCK));
  }
  if ((r = vp_find_caps(vp, err, errlen)) != 0) {
    return r;
  }
  if ((r = vp_reset(vp)) != 0) {
    return lwvsock_bus_fail(err, errlen, r, r == -ENODEV ? "the device reads all ones: it is gone"
                                                : "the device does not complete a reset");
  }
  /* Memory decoding for the BARs, bus mastering for its DMA (before DRIVER_OK). */
  if (cfg_rd(bus, PCI_COMMAND, 2, &cmd) != 0 ||
      bus->ops->cfg_write(bus, PCI_COMMAND, (uint8_t[2]){ (uint8_t)(cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER),
                                                         (uint8_t)(cmd >> 8) }, 2) != 0) {
    return lwvsock_bus_fail(err, errlen, -EIO, "cannot enable bus mastering%s%s", bus->err[0] ? ": " : "", bus->err);
  }
  vp_set_status(vp, VPCI_S_ACKNOWLEDGE);
  vp_set_status(vp, VPCI_S_DRIVER);
  vp_wr(vp, COMMON(vp), VPCI_MSIX_CONFIG, VPCI_NO_VECTOR, 2);
  return vp_read_queues(vp, err, errlen);
}

int
lwvsock_virtio_pci_open(struct lwvsock_bus *bus, struct lwvsock_backend **bep, char *err, size_t errlen)
{
  struct vpci *vp;
  int r;

  if (err != NULL && errlen > 0) {
    err[0] = '\0';
  }
  if (bep == NULL || bus == NULL) {
    return lwvsock_bus_fail(err, errlen, -EINVAL, "no bus or backend pointer");
  }
  *bep = NULL;
  if (bus->ops == NULL || bus->kind != LWVSOCK_BUS_PCI || bus->ops->cfg_read == NULL ||
      bus->ops->cfg_write == NULL || bus->ops->map == NULL || bus->ops->dma_alloc == NULL ||
      bus->ops->dma_free == NULL || bus->ops->close == NULL ||
      (bus->ops->reg_read == NULL) != (bus->ops->reg_write == NULL)) {
    if (bus->ops != NULL && bus->ops->close != NULL) {
      bus->ops->close(bus);
    }
    return lwvsock_bus_fail(err, errlen, -EINVAL, "the bus is not a PCI bus with the ops the transport needs");
  }
  vp = (struct vpci *)calloc(1, sizeof(*vp));
  if (vp == NULL) {
    bus->ops->close(bus);
    return lwvsock_bus_fail(err, errlen, -ENOMEM, "out of memory");
  }
  vp->be.ops = &vpci_ops;
  vp->be.seg_max = bus->seg_max;
  vp->bus = bus;
  {
    int fds[4];
    /* no interrupt fd: the caller polls at an interval instead of sleeping */
    if (bus->ops->wait_fds == NULL || bus->ops->wait_fds(bus, fds, 4) <= 0) {
      vp->be.idle_poll_ms = LWVSOCK_PCI_IDLE_POLL_MS;
    }
  }
  if ((r = vp_bringup(vp, err, errlen)) != 0) {
    if (vp->win[VPCI_CAP_COMMON_CFG].len != 0) {
      /* 3.1.1: tell a device we gave up on (it may sit half set up). */
      vp_set_status(vp, VPCI_S_FAILED);
    }
    bus->ops->close(bus);
    free(vp);
    return r;
  }
  *bep = &vp->be;
  return 0;
}
