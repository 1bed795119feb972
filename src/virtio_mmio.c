/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The virtio-mmio transport (see lwvsock/port/virtio_mmio.h). Register offsets and
 * the initialisation order are from virtio 1.x, 4.2.2 (modern) and 4.2.4
 * (legacy); every register access is a naturally aligned volatile 32-bit load
 * or store (config space: 8-bit), as the bus rules require.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "lwip/arch.h"
#include "lwvsock/port/virtio_mmio.h"
#include "virtio_defs.h"

#define MMIO_MAGIC_VALUE        0x000u
#define MMIO_VERSION            0x004u
#define MMIO_DEVICE_ID          0x008u
#define MMIO_DEVICE_FEATURES    0x010u
#define MMIO_DEVICE_FEATURES_SEL 0x014u
#define MMIO_DRIVER_FEATURES    0x020u
#define MMIO_DRIVER_FEATURES_SEL 0x024u
#define MMIO_GUEST_PAGE_SIZE    0x028u  /* legacy */
#define MMIO_QUEUE_SEL          0x030u
#define MMIO_QUEUE_NUM_MAX      0x034u
#define MMIO_QUEUE_NUM          0x038u
#define MMIO_QUEUE_ALIGN        0x03cu  /* legacy */
#define MMIO_QUEUE_PFN          0x040u  /* legacy */
#define MMIO_QUEUE_READY        0x044u
#define MMIO_QUEUE_NOTIFY       0x050u
#define MMIO_STATUS             0x070u
#define MMIO_QUEUE_DESC_LOW     0x080u
#define MMIO_QUEUE_DRIVER_LOW   0x090u
#define MMIO_QUEUE_DEVICE_LOW   0x0a0u
#define MMIO_CONFIG_GENERATION  0x0fcu

#define MMIO_MAGIC              0x74726976u /* "virt" */

#define STATUS_ACKNOWLEDGE      1u
#define STATUS_DRIVER           2u
#define STATUS_DRIVER_OK        4u
#define STATUS_FEATURES_OK      8u
#define STATUS_NEEDS_RESET      0x40u
#define STATUS_FAILED           0x80u

/** Legacy page size: desc rings are 16-byte aligned, so every ring address is a whole "page". */
#define LEGACY_PAGE_SHIFT       4u
/** Bounded waits for a reset or a config generation to settle. */
#define MMIO_SPIN_MAX           1000000u

struct mmio_be {
  struct lwvsock_backend be;  /* first: the driver's handle */
  struct lwvsock_bus *bus;
  volatile uint8_t *regs;
  uint64_t regs_len;
  int legacy;                 /**< version 1 register layout */
};

static struct mmio_be *
mmio_of(struct lwvsock_backend *be)
{
  return (struct mmio_be *)be;
}

/* Registers are plain memory unless the bus traps them (reg_read/reg_write);
 * a failed trapped read is a device that is gone: all ones. */
static uint32_t
mmio_rd(const struct mmio_be *m, uint32_t off)
{
  uint8_t b[4];

  if (m->bus->ops->reg_read != NULL) {
    return m->bus->ops->reg_read(m->bus, 0, off, b, 4) == 0 ? le32_load(b) : 0xffffffffu;
  }
  return *(volatile uint32_t *)(volatile void *)(m->regs + off);
}

static uint8_t
mmio_rd8(const struct mmio_be *m, uint32_t off)
{
  uint8_t b;

  if (m->bus->ops->reg_read != NULL) {
    return m->bus->ops->reg_read(m->bus, 0, off, &b, 1) == 0 ? b : 0xffu;
  }
  return m->regs[off];
}

static void
mmio_wr(const struct mmio_be *m, uint32_t off, uint32_t v)
{
  uint8_t b[4];

  if (m->bus->ops->reg_write != NULL) {
    le32_store(b, v);
    (void)m->bus->ops->reg_write(m->bus, 0, off, b, 4);
    return;
  }
  *(volatile uint32_t *)(volatile void *)(m->regs + off) = v;
}

static void
mmio_wr64(const struct mmio_be *m, uint32_t off, uint64_t v)
{
  mmio_wr(m, off, (uint32_t)v);
  mmio_wr(m, off + 4u, (uint32_t)(v >> 32));
}

static int
mmio_get_features(struct lwvsock_backend *be, uint64_t *features)
{
  struct mmio_be *m = mmio_of(be);
  uint64_t f;

  mmio_wr(m, MMIO_DEVICE_FEATURES_SEL, 0);
  f = mmio_rd(m, MMIO_DEVICE_FEATURES);
  if (m->legacy) {
    /* Legacy rings on a little-endian CPU are the 1.x format (file comment). */
    f |= VIRTIO_BIT(VIRTIO_F_VERSION_1);
  } else {
    mmio_wr(m, MMIO_DEVICE_FEATURES_SEL, 1);
    f |= (uint64_t)mmio_rd(m, MMIO_DEVICE_FEATURES) << 32;
  }
  *features = f;
  return 0;
}

static int
mmio_set_features(struct lwvsock_backend *be, uint64_t features)
{
  struct mmio_be *m = mmio_of(be);

  mmio_wr(m, MMIO_DRIVER_FEATURES_SEL, 0);
  mmio_wr(m, MMIO_DRIVER_FEATURES, (uint32_t)features);
  if (m->legacy) {
    /* Legacy has 32 feature bits and no FEATURES_OK handshake. */
    mmio_wr(m, MMIO_GUEST_PAGE_SIZE, 1u << LEGACY_PAGE_SHIFT);
    return 0;
  }
  mmio_wr(m, MMIO_DRIVER_FEATURES_SEL, 1);
  mmio_wr(m, MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
  mmio_wr(m, MMIO_STATUS, mmio_rd(m, MMIO_STATUS) | STATUS_FEATURES_OK);
  return (mmio_rd(m, MMIO_STATUS) & STATUS_FEATURES_OK) ? 0 : -EIO;
}

static int
mmio_read_config(struct lwvsock_backend *be, uint32_t offset, void *buf, uint32_t len)
{
  struct mmio_be *m = mmio_of(be);
  uint8_t *out = (uint8_t *)buf;
  uint32_t gen, i, tries;

  if ((uint64_t)LWVSOCK_VIRTIO_MMIO_CFG_OFF + offset + len > m->regs_len) {
    return -EINVAL;
  }
  /* Modern: retry until the generation did not change under the read (4.2.2.2). */
  for (tries = 0; tries < MMIO_SPIN_MAX; tries++) {
    gen = m->legacy ? 0 : mmio_rd(m, MMIO_CONFIG_GENERATION);
    for (i = 0; i < len; i++) {
      out[i] = mmio_rd8(m, LWVSOCK_VIRTIO_MMIO_CFG_OFF + offset + i);
    }
    if (m->legacy || mmio_rd(m, MMIO_CONFIG_GENERATION) == gen) {
      return 0;
    }
  }
  return -EIO;
}

static uint16_t
mmio_max_queue_size(struct lwvsock_backend *be, uint16_t index)
{
  struct mmio_be *m = mmio_of(be);
  uint32_t max;

  mmio_wr(m, MMIO_QUEUE_SEL, index);
  if (!m->legacy && mmio_rd(m, MMIO_QUEUE_READY) != 0) {
    return 0; /* in use by somebody: not ours to set up */
  }
  max = mmio_rd(m, MMIO_QUEUE_NUM_MAX);
  return (uint16_t)(max > 32768u ? 32768u : max);
}

static int
mmio_mem_alloc(struct lwvsock_backend *be, size_t size, struct lwvsock_mem *mem)
{
  struct lwvsock_bus *bus = mmio_of(be)->bus;

  return bus->ops->dma_alloc(bus, size, mem);
}

static void
mmio_mem_free(struct lwvsock_backend *be, struct lwvsock_mem *mem)
{
  struct lwvsock_bus *bus = mmio_of(be)->bus;

  bus->ops->dma_free(bus, mem);
}

/*
 * Legacy: one contiguous ring at QueuePFN << page shift, the avail ring right
 * after the descriptors and the used ring at the next QueueAlign boundary.
 * Find the power-of-two alignment that puts it where the core did.
 */
static int
mmio_legacy_queue(struct mmio_be *m, const struct lwvsock_vring_info *vr)
{
  uint64_t avail_end = vr->avail_dma + 4u + 2u * (uint64_t)vr->num;
  uint64_t pfn = vr->desc_dma >> LEGACY_PAGE_SHIFT;
  uint32_t align;

  if (vr->avail_dma != vr->desc_dma + 16u * (uint64_t)vr->num ||
      (vr->desc_dma & ((1u << LEGACY_PAGE_SHIFT) - 1u)) != 0 || pfn == 0 || pfn > 0xffffffffu) {
    return -EINVAL;
  }
  for (align = 4; align <= 65536u; align <<= 1) {
    if (vr->used_dma % align == 0 && vr->used_dma >= avail_end && vr->used_dma - avail_end < align) {
      mmio_wr(m, MMIO_QUEUE_ALIGN, align);
      mmio_wr(m, MMIO_QUEUE_PFN, (uint32_t)pfn);
      return 0;
    }
  }
  return -EINVAL;
}

static int
mmio_setup_queue(struct lwvsock_backend *be, const struct lwvsock_vring_info *vr)
{
  struct mmio_be *m = mmio_of(be);

  mmio_wr(m, MMIO_QUEUE_SEL, vr->index);
  if (vr->num == 0 || vr->num > mmio_rd(m, MMIO_QUEUE_NUM_MAX)) {
    return -EINVAL;
  }
  mmio_wr(m, MMIO_QUEUE_NUM, vr->num);
  if (m->legacy) {
    return mmio_legacy_queue(m, vr);
  }
  mmio_wr64(m, MMIO_QUEUE_DESC_LOW, vr->desc_dma);
  mmio_wr64(m, MMIO_QUEUE_DRIVER_LOW, vr->avail_dma);
  mmio_wr64(m, MMIO_QUEUE_DEVICE_LOW, vr->used_dma);
  mmio_wr(m, MMIO_QUEUE_READY, 1);
  return mmio_rd(m, MMIO_QUEUE_READY) == 1 ? 0 : -EIO;
}

static int
mmio_start(struct lwvsock_backend *be)
{
  struct mmio_be *m = mmio_of(be);

  mmio_wr(m, MMIO_STATUS, mmio_rd(m, MMIO_STATUS) | STATUS_DRIVER_OK);
  return (mmio_rd(m, MMIO_STATUS) & (STATUS_NEEDS_RESET | STATUS_FAILED)) ? -EIO : 0;
}

static void
mmio_notify(struct lwvsock_backend *be, uint16_t index)
{
  /* The ring updates must be visible before the device hears of them. */
  atomic_thread_fence(memory_order_seq_cst);
  mmio_wr(mmio_of(be), MMIO_QUEUE_NOTIFY, index);
  be->kicks++;
}

static int
mmio_reset(struct lwvsock_backend *be)
{
  struct mmio_be *m = mmio_of(be);
  uint32_t i;

  mmio_wr(m, MMIO_STATUS, 0);
  /* Modern devices may finish the reset later: it is done when status reads 0. */
  for (i = 0; i < MMIO_SPIN_MAX; i++) {
    if (mmio_rd(m, MMIO_STATUS) == 0) {
      return 0;
    }
  }
  return -EIO;
}

static int
mmio_check(struct lwvsock_backend *be)
{
  return (mmio_rd(mmio_of(be), MMIO_STATUS) & STATUS_NEEDS_RESET) ? -EIO : 0;
}

static void
mmio_destroy(struct lwvsock_backend *be)
{
  struct mmio_be *m = mmio_of(be);

  (void)mmio_reset(be);
  m->bus->ops->close(m->bus);
  free(m);
}

/* Zero-copy tx where the bus can translate (its own dma_map), else refused: copied. */
static int
mmio_dma_map(struct lwvsock_backend *be, const void *va, size_t len, uint64_t *dma)
{
  struct lwvsock_bus *bus = mmio_of(be)->bus;

  return bus->ops->dma_map != NULL ? bus->ops->dma_map(bus, va, len, dma) : -ENOTSUP;
}

static const struct lwvsock_backend_ops mmio_ops = {
  .name = "virtio-mmio",
  .get_features = mmio_get_features,
  .set_features = mmio_set_features,
  .read_config = mmio_read_config,
  .max_queue_size = mmio_max_queue_size,
  .mem_alloc = mmio_mem_alloc,
  .mem_free = mmio_mem_free,
  .setup_queue = mmio_setup_queue,
  .start = mmio_start,
  .notify = mmio_notify,
  .reset = mmio_reset,
  .check = mmio_check,
  .destroy = mmio_destroy,
  .dma_map = mmio_dma_map,
};

int
lwvsock_virtio_mmio_open(struct lwvsock_bus *bus, struct lwvsock_backend **bep, char *err, size_t errlen)
{
  struct mmio_be probe = { .legacy = 0 }, *m;
  volatile void *va;
  uint32_t version, id;
  int r;

  /* Every failure closes the bus: the caller never owns it afterwards. */
#define MMIO_FAIL(code, ...) do { \
    if (err != NULL && errlen > 0) { snprintf(err, errlen, __VA_ARGS__); } \
    if (bus != NULL && bus->ops != NULL && bus->ops->close != NULL) { bus->ops->close(bus); } \
    return (code); \
  } while (0)

  if (bep != NULL) {
    *bep = NULL;
  }
  if (bus == NULL || bep == NULL || bus->ops == NULL || bus->kind != LWVSOCK_BUS_MMIO ||
      bus->ops->map == NULL || bus->ops->dma_alloc == NULL || bus->ops->dma_free == NULL ||
      bus->ops->close == NULL || (bus->ops->reg_read == NULL) != (bus->ops->reg_write == NULL)) {
    MMIO_FAIL(-EINVAL, "virtio-mmio: not an MMIO bus with map, dma_alloc/free and close"
              " (reg_read and reg_write go together)");
  }
  r = bus->ops->map(bus, 0, &va, &probe.regs_len);
  if (r != 0) {
    MMIO_FAIL(r, "virtio-mmio: cannot map the register window: %s", bus->err);
  }
  if (probe.regs_len < LWVSOCK_VIRTIO_MMIO_CFG_OFF + 8u) {
    MMIO_FAIL(-EINVAL, "virtio-mmio: register window of %lu bytes is too small",
              (unsigned long)probe.regs_len);
  }
  probe.regs = (volatile uint8_t *)va;
  probe.bus = bus;
  if (mmio_rd(&probe, MMIO_MAGIC_VALUE) != MMIO_MAGIC) {
    MMIO_FAIL(-ENODEV, "virtio-mmio: no virtio magic value (read 0x%08x)",
              (unsigned)mmio_rd(&probe, MMIO_MAGIC_VALUE));
  }
  version = mmio_rd(&probe, MMIO_VERSION);
  id = mmio_rd(&probe, MMIO_DEVICE_ID);
  if (id != VIRTIO_ID_VSOCK) {
    MMIO_FAIL(-ENODEV, "virtio-mmio: device id %u is not a vsock device (%u)", (unsigned)id,
              (unsigned)VIRTIO_ID_VSOCK);
  }
  if (version != 1 && version != 2) {
    MMIO_FAIL(-ENOTSUP, "virtio-mmio: unknown register layout version %u", (unsigned)version);
  }
  if (version == 1 && BYTE_ORDER != LITTLE_ENDIAN) {
    MMIO_FAIL(-ENOTSUP, "virtio-mmio: legacy device on a big-endian CPU (ring format differs)");
  }
  probe.legacy = version == 1;
  if (mmio_reset(&probe.be) != 0) {
    MMIO_FAIL(-EIO, "virtio-mmio: the device does not finish its reset");
  }
  m = (struct mmio_be *)calloc(1, sizeof(*m));
  if (m == NULL) {
    MMIO_FAIL(-ENOMEM, "virtio-mmio: out of memory");
  }
#undef MMIO_FAIL
  *m = probe;
  m->be.ops = &mmio_ops;
  m->be.seg_max = bus->seg_max;
  mmio_wr(m, MMIO_STATUS, STATUS_ACKNOWLEDGE);
  mmio_wr(m, MMIO_STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
  *bep = &m->be;
  return 0;
}
