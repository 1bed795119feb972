/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Unit tests of the virtio-mmio transport (src/virtio_mmio.c) over a fake
 * register window (a bus with reg_read/reg_write): refusals (magic, device
 * id, version, bus shape), modern and legacy bring-up through
 * lwvsock_dev_open() with what the device was told checked register by
 * register, config generation, and DEVICE_NEEDS_RESET. Real traffic through
 * the transport runs against QEMU in tests/appliance.
 */
#include "lwvsock_check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwvsock/lwvsock.h"
#include "lwvsock/port/virtio_mmio.h"
#include "virtio_defs.h"

#define NQ 3
#define QMAX 64u

/** The fake device: register file, the queues as the driver set them up. */
struct fake {
  struct lwvsock_bus bus;
  uint32_t magic, version, id, status, qsel, fsel, gfsel, page_size, gen;
  uint32_t gen_bumps;          /**< config reads that see the generation move */
  uint64_t features, driver_features;
  uint32_t qnum[NQ], qalign[NQ], qpfn[NQ], qready[NQ];
  uint64_t qdesc[NQ], qdrv[NQ], qdev[NQ];
  uint32_t notified;
  uint64_t cid;
  uint64_t dma_base;           /**< device address of the (one) DMA allocation */
  uint8_t *mem_va;
};

static struct fake *fk;
static int fake_closed;
static char err[256];
static struct lwvsock_dev *dev;

static struct fake *
fake_of(struct lwvsock_bus *bus)
{
  return (struct fake *)bus;
}

static int
fake_map(struct lwvsock_bus *bus, unsigned index, volatile void **va, uint64_t *len)
{
  (void)bus;
  *va = NULL; /* every access traps */
  *len = index == 0 ? 0x200u : 0;
  return index == 0 ? 0 : -ENOENT;
}

static int
fake_reg_read(struct lwvsock_bus *bus, unsigned index, uint64_t off, void *buf, uint32_t len)
{
  struct fake *f = fake_of(bus);
  uint32_t v = 0, q = f->qsel < NQ ? f->qsel : 0;

  ck_assert_uint_eq(index, 0);
  if (off >= 0x100) {
    uint8_t cfg[8];
    le64_store(cfg, f->cid);
    ck_assert_uint_eq(len, 1);
    ck_assert_uint_lt(off - 0x100, 8);
    *(uint8_t *)buf = cfg[off - 0x100];
    return 0;
  }
  ck_assert_uint_eq(len, 4);
  switch (off) {
    case 0x000: v = f->magic; break;
    case 0x004: v = f->version; break;
    case 0x008: v = f->id; break;
    case 0x010: v = (uint32_t)(f->features >> (32 * (f->fsel & 1))); break;
    case 0x034: v = f->qsel < NQ ? QMAX : 0; break;
    case 0x044: v = f->qready[q]; break;
    case 0x070: v = f->status; break;
    case 0x0fc:
      if (f->gen_bumps > 0) {
        f->gen_bumps--;
        f->gen++;
      }
      v = f->gen;
      break;
    default: break;
  }
  le32_store(buf, v);
  return 0;
}

static int
fake_reg_write(struct lwvsock_bus *bus, unsigned index, uint64_t off, const void *buf, uint32_t len)
{
  struct fake *f = fake_of(bus);
  uint32_t v = le32_load(buf), q = f->qsel < NQ ? f->qsel : 0;

  ck_assert_uint_eq(index, 0);
  ck_assert_uint_eq(len, 4);
  switch (off) {
    case 0x014: f->fsel = v; break;
    case 0x020:
      f->driver_features = (f->driver_features & ~(0xffffffffull << (32 * (f->gfsel & 1)))) |
                           ((uint64_t)v << (32 * (f->gfsel & 1)));
      break;
    case 0x024: f->gfsel = v; break;
    case 0x028: f->page_size = v; break;
    case 0x030: f->qsel = v; break;
    case 0x038: f->qnum[q] = v; break;
    case 0x03c: f->qalign[q] = v; break;
    case 0x040: f->qpfn[q] = v; break;
    case 0x044: f->qready[q] = v; break;
    case 0x050: f->notified |= 1u << v; break;
    case 0x070: f->status = v; break;
    case 0x080: f->qdesc[q] = (f->qdesc[q] & ~0xffffffffull) | v; break;
    case 0x084: f->qdesc[q] = (f->qdesc[q] & 0xffffffffull) | ((uint64_t)v << 32); break;
    case 0x090: f->qdrv[q] = (f->qdrv[q] & ~0xffffffffull) | v; break;
    case 0x094: f->qdrv[q] = (f->qdrv[q] & 0xffffffffull) | ((uint64_t)v << 32); break;
    case 0x0a0: f->qdev[q] = (f->qdev[q] & ~0xffffffffull) | v; break;
    case 0x0a4: f->qdev[q] = (f->qdev[q] & 0xffffffffull) | ((uint64_t)v << 32); break;
    default: break;
  }
  return 0;
}

static int
fake_dma_alloc(struct lwvsock_bus *bus, size_t size, struct lwvsock_mem *mem)
{
  void *p = NULL;

  struct fake *f = fake_of(bus);

  /* Device addresses are not pointers here: like an IOMMU, dma_base is chosen. */
  ck_assert_ptr_null(f->mem_va);
  if (posix_memalign(&p, 4096, size) != 0) {
    return -ENOMEM;
  }
  memset(p, 0, size);
  f->mem_va = (uint8_t *)p;
  mem->va = p;
  mem->dma = f->dma_base;
  mem->size = size;
  return 0;
}

static void
fake_dma_free(struct lwvsock_bus *bus, struct lwvsock_mem *mem)
{
  fake_of(bus)->mem_va = NULL;
  free(mem->va);
}

/** Where the driver sees device address @p dma. */
static void *
fake_va(uint64_t dma)
{
  return fk->mem_va + (dma - fk->dma_base);
}

static void
fake_close(struct lwvsock_bus *bus)
{
  fake_closed++;
  free(bus);
}

static const struct lwvsock_bus_ops fake_ops = {
  .name = "fake-mmio",
  .map = fake_map,
  .dma_alloc = fake_dma_alloc,
  .dma_free = fake_dma_free,
  .reg_read = fake_reg_read,
  .reg_write = fake_reg_write,
  .close = fake_close,
};

static void
setup(void)
{
  lwvsock_test_clock_set(1000);
  memset(err, 0, sizeof(err));
  dev = NULL;
  fake_closed = 0;
  fk = (struct fake *)calloc(1, sizeof(*fk));
  ck_assert_ptr_nonnull(fk);
  fk->bus.ops = &fake_ops;
  fk->bus.kind = LWVSOCK_BUS_MMIO;
  fk->magic = 0x74726976u;
  fk->version = 2;
  fk->id = VIRTIO_ID_VSOCK;
  fk->features = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_VSOCK_F_STREAM);
  fk->cid = 42;
  fk->dma_base = 0x40000000u;
}

static void
teardown(void)
{
  if (dev != NULL) {
    lwvsock_dev_close(dev);
  } else if (fake_closed == 0) {
    free(fk);
  }
  dev = NULL;
  lwvsock_check_ensure_no_alloc(0);
}

/** Open transport and device; the transport's result (err says why). */
static int
open_all(void)
{
  struct lwvsock_backend *be;
  int r = lwvsock_virtio_mmio_open(&fk->bus, &be, err, sizeof(err));

  if (r != 0) {
    return r;
  }
  r = lwvsock_dev_open(be, &dev);
  ck_assert_msg(r == ERR_OK, "lwvsock_dev_open: %d: %s", r, dev != NULL ? lwvsock_dev_error(dev) : "");
  return 0;
}

static void
expect_refused(int want, const char *why)
{
  ck_assert_int_eq(open_all(), want);
  ck_assert_msg(strstr(err, why) != NULL, "error '%s' lacks '%s'", err, why);
  ck_assert_int_eq(fake_closed, 1); /* failures close the bus */
}

START_TEST(test_refuse_magic)
{
  fk->magic = 0;
  expect_refused(-ENODEV, "magic");
}
END_TEST

START_TEST(test_refuse_not_vsock)
{
  fk->id = 4;
  expect_refused(-ENODEV, "device id 4");
}
END_TEST

START_TEST(test_refuse_version)
{
  fk->version = 3;
  expect_refused(-ENOTSUP, "version 3");
}
END_TEST

START_TEST(test_refuse_half_trapped_bus)
{
  static struct lwvsock_bus_ops half;

  half = fake_ops;
  half.reg_write = NULL;
  fk->bus.ops = &half;
  expect_refused(-EINVAL, "reg_read and reg_write");
}
END_TEST

START_TEST(test_modern_bringup)
{
  int q;

  ck_assert_int_eq(open_all(), 0);
  ck_assert_uint_eq(lwvsock_dev_cid(dev), 42);
  ck_assert_uint_eq(fk->status, 1u | 2u | 8u | 4u); /* ACK, DRIVER, FEATURES_OK, DRIVER_OK */
  ck_assert(fk->driver_features & VIRTIO_BIT(VIRTIO_F_VERSION_1));
  for (q = 0; q < NQ; q++) {
    ck_assert_uint_eq(fk->qready[q], 1);
    ck_assert_uint_gt(fk->qnum[q], 0);
    ck_assert_uint_eq(fk->qdrv[q], fk->qdesc[q] + 16u * fk->qnum[q]);
    ck_assert_uint_gt(fk->qdev[q], fk->qdrv[q]);
    ck_assert_uint_eq(fk->qpfn[q], 0); /* legacy registers untouched */
  }
  ck_assert(fk->notified & 1u); /* rx buffers were posted and announced */
  ck_assert_int_eq(lwvsock_dev_status(dev), ERR_OK);
  lwvsock_dev_close(dev);
  dev = NULL;
  ck_assert_uint_eq(fake_closed, 1);
}
END_TEST

START_TEST(test_legacy_bringup)
{
  int q;

  fk->version = 1;
  fk->features = VIRTIO_BIT(VIRTIO_VSOCK_F_STREAM); /* legacy: 32 feature bits, no VERSION_1 */
  ck_assert_int_eq(open_all(), 0);
  ck_assert_uint_eq(fk->status, 1u | 2u | 4u);     /* no FEATURES_OK handshake */
  ck_assert_uint_eq(fk->driver_features >> 32, 0); /* VERSION_1 is never written */
  ck_assert_uint_eq(fk->page_size, 16);
  for (q = 0; q < NQ; q++) {
    struct virtq_avail *avail;
    uint64_t desc = (uint64_t)fk->qpfn[q] * fk->page_size;
    uint64_t avail_end = desc + 16u * fk->qnum[q] + 4u + 2u * fk->qnum[q];
    uint64_t used = (avail_end + fk->qalign[q] - 1) & ~(uint64_t)(fk->qalign[q] - 1);

    ck_assert_uint_ne(fk->qpfn[q], 0);
    ck_assert_uint_eq(fk->qalign[q] & (fk->qalign[q] - 1), 0);
    /* The legacy layout the device computes must be the core's: the used
     * ring's flags word sits right where the device will write it. */
    avail = (struct virtq_avail *)fake_va(desc + 16u * fk->qnum[q]);
    ck_assert_uint_eq(le16_load(&avail->flags), VIRTQ_AVAIL_F_NO_INTERRUPT);
    ck_assert_uint_ge(used, avail_end);
    ck_assert_uint_eq(used % 4, 0);
    ck_assert_uint_eq(used - desc, (uint64_t)16u * fk->qnum[q] + ((6u + 2u * fk->qnum[q] + 3u) & ~3u));
  }
  ck_assert_uint_eq(lwvsock_dev_cid(dev), 42);
}
END_TEST

START_TEST(test_legacy_high_memory)
{
  struct lwvsock_backend *be;

  /* A legacy queue address is a 32-bit page number: memory beyond it is refused, not truncated. */
  fk->version = 1;
  fk->dma_base = 0x4000000000ull;
  ck_assert_int_eq(lwvsock_virtio_mmio_open(&fk->bus, &be, err, sizeof(err)), 0);
  ck_assert_int_eq(lwvsock_dev_open(be, &dev), ERR_IF);
  ck_assert_ptr_nonnull(strstr(lwvsock_dev_error(dev), "queue setup"));
  ck_assert_uint_eq(fk->qpfn[0], 0);
}
END_TEST

START_TEST(test_config_generation_retried)
{
  fk->gen_bumps = 3; /* the first reads see the generation change under them */
  ck_assert_int_eq(open_all(), 0);
  ck_assert_uint_eq(lwvsock_dev_cid(dev), 42);
}
END_TEST

START_TEST(test_needs_reset)
{
  ck_assert_int_eq(open_all(), 0);
  fk->status |= 0x40; /* DEVICE_NEEDS_RESET */
  lwvsock_dev_poll(dev, 0);
  ck_assert_int_ne(lwvsock_dev_status(dev), ERR_OK);
}
END_TEST

Suite *
lwvsock_test_suite(void)
{
  testfunc tests[] = {
    TESTFUNC(test_refuse_magic),
    TESTFUNC(test_refuse_not_vsock),
    TESTFUNC(test_refuse_version),
    TESTFUNC(test_refuse_half_trapped_bus),
    TESTFUNC(test_modern_bringup),
    TESTFUNC(test_legacy_bringup),
    TESTFUNC(test_legacy_high_memory),
    TESTFUNC(test_config_generation_retried),
    TESTFUNC(test_needs_reset),
  };
  return create_suite("virtio_mmio", tests, sizeof(tests) / sizeof(tests[0]), setup, teardown);
}
