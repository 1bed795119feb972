/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The fake PCI bus (see fakepci.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fakepci.h"
#include "virtio_defs.h"

unsigned fakepci_closed;

#define S_FEATURES_OK 8u
#define S_DRIVER_OK   4u
#define NOTIFY_MULT   4u

static struct fakepci *
fp_of(struct lwvsock_bus *bus)
{
  return (struct fakepci *)(void *)bus;
}

static int
fp_cfg_read(struct lwvsock_bus *bus, uint32_t off, void *buf, uint32_t len)
{
  struct fakepci *f = fp_of(bus);

  if (off + len > sizeof(f->cfg)) {
    return -EINVAL;
  }
  if (f->vanished) {
    memset(buf, 0xff, len);
  } else {
    memcpy(buf, f->cfg + off, len);
  }
  return 0;
}

static int
fp_cfg_write(struct lwvsock_bus *bus, uint32_t off, const void *buf, uint32_t len)
{
  struct fakepci *f = fp_of(bus);

  if (off + len > sizeof(f->cfg)) {
    return -EINVAL;
  }
  memcpy(f->cfg + off, buf, len);
  return 0;
}

static int
fp_map(struct lwvsock_bus *bus, unsigned index, volatile void **va, uint64_t *len)
{
  struct fakepci *f = fp_of(bus);

  if (index != FAKEPCI_BAR) {
    return -ENOENT;
  }
  *va = f->barmem;
  *len = f->barlen;
  return 0;
}

static void
fp_reset(struct fakepci *f)
{
  unsigned q;

  f->simbe->ops->reset(f->simbe);
  f->status = 0;
  f->gf = 0;
  for (q = 0; q < 3; q++) {
    memset(&f->q[q], 0, sizeof(f->q[q]));
    f->q[q].size = f->qmax[q];
  }
}

/* Widths of the common-config registers (0: not a register start). */
static uint32_t
common_width(uint64_t off)
{
  static const uint8_t w[0x38] = {
    [0x00] = 4, [0x04] = 4, [0x08] = 4, [0x0c] = 4, [0x10] = 2, [0x12] = 2, [0x14] = 1, [0x15] = 1,
    [0x16] = 2, [0x18] = 2, [0x1a] = 2, [0x1c] = 2, [0x1e] = 2, [0x20] = 4, [0x24] = 4, [0x28] = 4,
    [0x2c] = 4, [0x30] = 4, [0x34] = 4,
  };
  return off < sizeof(w) ? w[off] : 0;
}

static uint64_t
fp_offer(struct fakepci *f)
{
  uint64_t feat = 0;

  f->simbe->ops->get_features(f->simbe, &feat);
  return (feat & ~f->feat_drop) | f->feat_add;
}

static uint32_t
common_read(struct fakepci *f, uint64_t off)
{
  bool qok = f->qsel < 3;

  switch (off) {
  case 0x00: return f->dfsel;
  case 0x04: return f->dfsel > 1 ? 0 : (uint32_t)(fp_offer(f) >> (32 * f->dfsel));
  case 0x08: return f->gfsel;
  case 0x0c: return f->gfsel > 1 ? 0 : (uint32_t)(f->gf >> (32 * f->gfsel));
  case 0x10: return 0xffff;
  case 0x12: return f->num_queues;
  case 0x14: return f->status;
  case 0x15:
    if (f->gen_flips > 0) {
      f->gen_flips--;
      f->gen++;
    }
    return f->gen;
  case 0x16: return f->qsel;
  case 0x18: return qok ? f->q[f->qsel].size : 0;
  case 0x1a: return 0xffff;
  case 0x1c: return qok ? f->q[f->qsel].enable : 0;
  case 0x1e: return f->qsel;
  default: /* queue addresses */
    if (!qok) {
      return 0;
    }
    {
      uint64_t a = off < 0x28 ? f->q[f->qsel].desc : off < 0x30 ? f->q[f->qsel].avail : f->q[f->qsel].used;
      return (uint32_t)(a >> (off % 8 ? 32 : 0));
    }
  }
}

static void
set_half(uint64_t *a, uint64_t off, uint32_t v)
{
  *a = off % 8 ? (*a & 0xffffffffull) | ((uint64_t)v << 32) : (*a & ~0xffffffffull) | v;
}

static void
common_status(struct fakepci *f, uint8_t v)
{
  if (v == 0) {
    if (!f->never_reset) {
      fp_reset(f);
    }
    return;
  }
  if ((v & S_FEATURES_OK) && !(f->status & S_FEATURES_OK)) {
    if (f->refuse_features_ok ||
        f->simbe->ops->set_features(f->simbe, f->gf & ~VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM)) != 0) {
      v &= (uint8_t)~S_FEATURES_OK;
    } else {
      f->negotiated = f->gf;
    }
  }
  if ((v & S_DRIVER_OK) && !(f->status & S_DRIVER_OK) && f->simbe->ops->start(f->simbe) != 0) {
    v |= 0x40; /* DEVICE_NEEDS_RESET */
  }
  f->status = v;
}

static void
common_write(struct fakepci *f, uint64_t off, uint32_t v)
{
  struct lwvsock_vring_info vr;
  bool qok = f->qsel < 3;

  switch (off) {
  case 0x00: f->dfsel = v; break;
  case 0x08: f->gfsel = v; break;
  case 0x0c:
    if (f->gfsel <= 1) {
      set_half(&f->gf, f->gfsel ? 4 : 0, v);
    }
    break;
  case 0x10: case 0x1a: break; /* MSI-X vectors: none */
  case 0x14: common_status(f, (uint8_t)v); break;
  case 0x16: f->qsel = (uint16_t)v; break;
  case 0x18:
    if (qok) {
      f->q[f->qsel].size = (uint16_t)v;
    }
    break;
  case 0x1c:
    if (qok && v == 1) {
      memset(&vr, 0, sizeof(vr));
      vr.index = f->qsel;
      vr.num = f->q[f->qsel].size;
      vr.desc_dma = f->q[f->qsel].desc;
      vr.avail_dma = f->q[f->qsel].avail;
      vr.used_dma = f->q[f->qsel].used;
      f->q[f->qsel].enable = f->simbe->ops->setup_queue(f->simbe, &vr) == 0;
    }
    break;
  case 0x04: case 0x12: case 0x15: case 0x1e:
    f->bad_access++; /* read-only */
    break;
  default:
    if (qok) {
      set_half(off < 0x28 ? &f->q[f->qsel].desc : off < 0x30 ? &f->q[f->qsel].avail : &f->q[f->qsel].used, off, v);
    }
    break;
  }
}

static int
fp_reg_read(struct lwvsock_bus *bus, unsigned index, uint64_t off, void *buf, uint32_t len)
{
  struct fakepci *f = fp_of(bus);
  uint32_t v = 0;

  if (index != FAKEPCI_BAR || off + len > f->barlen) {
    f->bad_access++;
    return -EINVAL;
  }
  if (f->vanished) {
    memset(buf, 0xff, len);
    return 0;
  }
  if (off >= FAKEPCI_DEVICE && off < FAKEPCI_DEVICE + 8) {
    if ((off % len) != 0 || f->simbe->ops->read_config(f->simbe, (uint32_t)(off - FAKEPCI_DEVICE), buf, len) != 0) {
      f->bad_access++;
    }
    return 0;
  }
  if (off < FAKEPCI_COMMON + 0x38 && common_width(off - FAKEPCI_COMMON) == len) {
    v = common_read(f, off - FAKEPCI_COMMON);
  } else if (off == FAKEPCI_ISR && len == 1) {
    f->isr_reads++;
    v = 0;
  } else {
    f->bad_access++;
  }
  lwvsock_bus_le_put(buf, v, len);
  return 0;
}

static int
fp_reg_write(struct lwvsock_bus *bus, unsigned index, uint64_t off, const void *buf, uint32_t len)
{
  struct fakepci *f = fp_of(bus);
  uint32_t v = lwvsock_bus_le_get(buf, len);

  if (index != FAKEPCI_BAR || off + len > f->barlen || f->vanished) {
    f->bad_access += !f->vanished;
    return f->vanished ? 0 : -EINVAL;
  }
  if (off < FAKEPCI_COMMON + 0x38 && common_width(off - FAKEPCI_COMMON) == len) {
    common_write(f, off - FAKEPCI_COMMON, v);
  } else if (off >= FAKEPCI_NOTIFY && len == 2 && v < 3 &&
             off - FAKEPCI_NOTIFY == (uint64_t)v * lwvsock_bus_le_get(f->cfg + FAKEPCI_CAP_NOTIFY + 16, 4)) {
    f->notifies[v]++;
    f->simbe->ops->notify(f->simbe, (uint16_t)v);
  } else {
    f->bad_access++;
  }
  return 0;
}

static int
fp_dma_alloc(struct lwvsock_bus *bus, size_t size, struct lwvsock_mem *mem)
{
  struct fakepci *f = fp_of(bus);
  int r;

  if (bus->seg_max != 0 && size > bus->seg_max) {
    f->bad_access++;
    return -EINVAL;
  }
  if ((r = f->simbe->ops->mem_alloc(f->simbe, size, mem)) == 0) {
    f->dma_allocs++;
    f->dma_live++;
  }
  return r;
}

static void
fp_dma_free(struct lwvsock_bus *bus, struct lwvsock_mem *mem)
{
  struct fakepci *f = fp_of(bus);

  f->simbe->ops->mem_free(f->simbe, mem);
  f->dma_live--;
}

static int
fp_wait_fds(struct lwvsock_bus *bus, int *fds, int max)
{
  struct fakepci *f = fp_of(bus);

  if (f->wait_fd < 0 || max < 1) {
    return 0;
  }
  fds[0] = f->wait_fd;
  return 1;
}

static void
fp_irq_ack(struct lwvsock_bus *bus)
{
  fp_of(bus)->irq_acks++;
}

static void
fp_close(struct lwvsock_bus *bus)
{
  struct fakepci *f = fp_of(bus);

  fakepci_closed++;
  f->simbe->ops->destroy(f->simbe);
  free(f);
}

static const struct lwvsock_bus_ops fp_ops = {
  .name = "fake-pci",
  .cfg_read = fp_cfg_read,
  .cfg_write = fp_cfg_write,
  .map = fp_map,
  .dma_alloc = fp_dma_alloc,
  .dma_free = fp_dma_free,
  .reg_read = fp_reg_read,
  .reg_write = fp_reg_write,
  .wait_fds = fp_wait_fds,
  .irq_ack = fp_irq_ack,
  .close = fp_close,
};

void
fakepci_put_cap(struct fakepci *f, uint32_t pos, uint32_t next, uint8_t type, uint8_t bar, uint32_t off,
                uint32_t len)
{
  uint8_t *c = f->cfg + pos;

  c[0] = 0x09;
  c[1] = (uint8_t)next;
  c[2] = type == 2 ? 20 : 16;
  c[3] = type;
  c[4] = bar;
  lwvsock_bus_le_put(c + 8, off, 4);
  lwvsock_bus_le_put(c + 12, len, 4);
  if (type == 2) {
    lwvsock_bus_le_put(c + 16, NOTIFY_MULT, 4);
  }
}

struct fakepci *
fakepci_new(const struct lwvsock_sim_config *cfg)
{
  struct fakepci *f = (struct fakepci *)calloc(1, sizeof(*f));
  unsigned q;

  if (f == NULL) {
    return NULL;
  }
  if (lwvsock_sim_new(cfg, &f->sim) != 0) {
    free(f);
    return NULL;
  }
  f->simbe = lwvsock_sim_backend(f->sim);
  f->bus.ops = &fp_ops;
  f->bus.kind = LWVSOCK_BUS_PCI;
  f->barlen = FAKEPCI_BAR_LEN;
  f->num_queues = 3;
  f->wait_fd = -1;
  for (q = 0; q < 3; q++) {
    f->qmax[q] = 64;
    f->q[q].size = 64;
  }
  lwvsock_bus_le_put(f->cfg + 0x00, 0x1af4, 2);
  lwvsock_bus_le_put(f->cfg + 0x02, 0x1053, 2);
  lwvsock_bus_le_put(f->cfg + 0x06, 0x10, 2); /* capability list */
  f->cfg[0x34] = FAKEPCI_CAP_COMMON;
  fakepci_put_cap(f, FAKEPCI_CAP_COMMON, FAKEPCI_CAP_NOTIFY, 1, FAKEPCI_BAR, FAKEPCI_COMMON, 0x38);
  fakepci_put_cap(f, FAKEPCI_CAP_NOTIFY, FAKEPCI_CAP_ISR, 2, FAKEPCI_BAR, FAKEPCI_NOTIFY, 0x1000);
  fakepci_put_cap(f, FAKEPCI_CAP_ISR, FAKEPCI_CAP_DEVICE, 3, FAKEPCI_BAR, FAKEPCI_ISR, 1);
  fakepci_put_cap(f, FAKEPCI_CAP_DEVICE, 0, 4, FAKEPCI_BAR, FAKEPCI_DEVICE, 8);
  return f;
}

void
fakepci_poll(struct fakepci *f)
{
  f->simbe->ops->poll(f->simbe);
}
