/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * vhost-vsock backend: drive Linux's /dev/vhost-vsock the way DPDK's
 * virtio-user drives vhost-net. This process plays the VM: its memory is the
 * "guest memory" (one memfd-backed MAP_SHARED mapping per mem_alloc, entered in
 * VHOST_SET_MEM_TABLE with guest-physical address == virtual address), its
 * rings are handed over with VHOST_SET_VRING_*, kicks are eventfd writes.
 *
 * Ioctl order the kernel needs (measured on 6.1, see
 * /work/shared/reference/linux-vhost-vsock-lab): SET_OWNER first; vrings before
 * VHOST_VSOCK_SET_RUNNING(1) (else EFAULT). vhost-vsock has no event queue
 * (queue 2 gives ENOBUFS), so max_queue_size(2) is 0. ACCESS_PLATFORM is never
 * offered to the driver: acking it switches vhost to IOTLB messages.
 *
 * Every ioctl must come from the process that called SET_OWNER: vhost ties the
 * device to that process's mm and answers EPERM to anybody else.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lwvsock/port/bus.h"
#include "lwvsock/vhost_vsock.h"
#include "virtio_defs.h"

/* ---- the vhost uapi, redeclared so the build needs no kernel headers ------ */
#ifndef _LINUX_VHOST_TYPES_H
struct vhost_vring_state {
  unsigned int index;
  unsigned int num;
};
struct vhost_vring_file {
  unsigned int index;
  int fd;
};
struct vhost_vring_addr {
  unsigned int index;
  unsigned int flags;
  uint64_t desc_user_addr;
  uint64_t used_user_addr;
  uint64_t avail_user_addr;
  uint64_t log_guest_addr;
};
struct vhost_memory_region {
  uint64_t guest_phys_addr;
  uint64_t memory_size;
  uint64_t userspace_addr;
  uint64_t flags_padding;
};
struct vhost_memory {
  uint32_t nregions;
  uint32_t padding;
  struct vhost_memory_region regions[];
};
#endif

#ifndef VHOST_VIRTIO
#define VHOST_VIRTIO 0xAF
#endif
#ifndef VHOST_GET_FEATURES
#define VHOST_GET_FEATURES        _IOR(VHOST_VIRTIO, 0x00, uint64_t)
#endif
#ifndef VHOST_SET_FEATURES
#define VHOST_SET_FEATURES        _IOW(VHOST_VIRTIO, 0x00, uint64_t)
#endif
#ifndef VHOST_SET_OWNER
#define VHOST_SET_OWNER           _IO(VHOST_VIRTIO, 0x01)
#endif
#ifndef VHOST_SET_MEM_TABLE
#define VHOST_SET_MEM_TABLE       _IOW(VHOST_VIRTIO, 0x03, struct vhost_memory)
#endif
#ifndef VHOST_SET_VRING_NUM
#define VHOST_SET_VRING_NUM       _IOW(VHOST_VIRTIO, 0x10, struct vhost_vring_state)
#endif
#ifndef VHOST_SET_VRING_ADDR
#define VHOST_SET_VRING_ADDR      _IOW(VHOST_VIRTIO, 0x11, struct vhost_vring_addr)
#endif
#ifndef VHOST_SET_VRING_BASE
#define VHOST_SET_VRING_BASE      _IOW(VHOST_VIRTIO, 0x12, struct vhost_vring_state)
#endif
#ifndef VHOST_SET_VRING_KICK
#define VHOST_SET_VRING_KICK      _IOW(VHOST_VIRTIO, 0x20, struct vhost_vring_file)
#endif
#ifndef VHOST_SET_VRING_CALL
#define VHOST_SET_VRING_CALL      _IOW(VHOST_VIRTIO, 0x21, struct vhost_vring_file)
#endif
#ifndef VHOST_SET_VRING_ERR
#define VHOST_SET_VRING_ERR       _IOW(VHOST_VIRTIO, 0x22, struct vhost_vring_file)
#endif
#ifndef VHOST_VSOCK_SET_GUEST_CID
#define VHOST_VSOCK_SET_GUEST_CID _IOW(VHOST_VIRTIO, 0x60, uint64_t)
#endif
#ifndef VHOST_VSOCK_SET_RUNNING
#define VHOST_VSOCK_SET_RUNNING   _IOW(VHOST_VIRTIO, 0x61, int)
#endif

_Static_assert(sizeof(struct vhost_vring_addr) == 40, "vhost_vring_addr layout");
_Static_assert(sizeof(struct vhost_memory_region) == 32, "vhost_memory_region layout");
_Static_assert(sizeof(struct vhost_memory) == 8, "vhost_memory layout");

/* ---- backend state ------------------------------------------------------------ */

/** vhost-vsock's queues: rx and tx only (QEMU emulates the event queue itself). */
#define VV_NQUEUES      2u
/** Largest split ring: vhost takes any power of two up to it. */
#define VV_QUEUE_MAX    32768u
/** Memory regions at once (vhost's default limit is 64; the driver uses one). */
#define VV_MAX_REGIONS  8u
/** check() looks at the fds at least every this many calls while the caller never sleeps. */
#define VV_CHECK_EVERY  64u

/** Feature bits passed on to the driver; everything else vhost offers stays hidden. */
#define VV_FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX) | \
                     VIRTIO_BIT(VIRTIO_VSOCK_F_STREAM) | VIRTIO_BIT(VIRTIO_VSOCK_F_SEQPACKET) | \
                     VIRTIO_BIT(VIRTIO_VSOCK_F_NO_IMPLIED_STREAM))

struct vv_queue {
  int kick;   /**< we write: "new available buffers" */
  int call;   /**< vhost writes: "used buffers" (only with interrupts enabled) */
  int err;    /**< vhost writes: it found the ring or a descriptor bad */
  bool ready; /**< set up since the last reset */
};

struct vv_region {
  void *va;
  size_t size;  /**< mapped bytes (page multiple) */
};

struct vv_backend {
  struct lwvsock_backend be;  /* first: the driver's handle */
  int fd;
  pid_t owner;
  uint32_t cid;
  uint64_t features;          /**< what we offer the driver */
  bool running;
  struct vv_queue q[VV_NQUEUES];
  struct vv_region reg[VV_MAX_REGIONS];
  unsigned nreg;
  bool fds_out;               /**< wait_fds was asked since the last look at the fds */
  unsigned unchecked;         /**< check() calls since the last look at the fds */
};

static const char *const vv_qname[VV_NQUEUES] = { "rx", "tx" };

static struct vv_backend *
vv_of(struct lwvsock_backend *be)
{
  return (struct vv_backend *)be;
}

/** One vhost ioctl: 0 or -errno, logged with its name on failure. */
static int
vv_ioctl(struct vv_backend *v, unsigned long req, void *arg, const char *name)
{
  v->be.syscalls++;
  if (getpid() != v->owner) {
    lwvsock_backend_log(&v->be, "%s from pid %ld, but pid %ld owns /dev/vhost-vsock: vhost serves only its owner; "
           "use the device from the process that opened it", name, (long)getpid(), (long)v->owner);
    return -EPERM;
  }
  if (ioctl(v->fd, req, arg) < 0) {
    int rc = -errno;
    lwvsock_backend_log(&v->be, "%s failed: %s", name, strerror(-rc));
    return rc;
  }
  return 0;
}

/** Read and clear an eventfd; its count, 0 when it was not signalled. */
static uint64_t
vv_drain(struct vv_backend *v, int fd)
{
  uint64_t n;
  if (fd < 0) {
    return 0;
  }
  v->be.syscalls++;
  if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n)) {
    return 0;
  }
  return n;
}

/** Whether [va, va+len) lies in one of our regions (so vhost can translate it). */
static bool
vv_in_region(const struct vv_backend *v, const void *va, size_t len)
{
  uintptr_t a = (uintptr_t)va;
  unsigned i;
  for (i = 0; i < v->nreg; i++) {
    uintptr_t base = (uintptr_t)v->reg[i].va;
    if (a >= base && len <= v->reg[i].size && a - base <= v->reg[i].size - len) {
      return true;
    }
  }
  return false;
}

/** Give vhost the current region list (identity map: guest-physical == virtual). */
static int
vv_set_mem_table(struct vv_backend *v)
{
  struct vhost_memory *m;
  unsigned i;
  int rc;

  m = (struct vhost_memory *)calloc(1, sizeof(*m) + v->nreg * sizeof(m->regions[0]));
  if (m == NULL) {
    return -ENOMEM;
  }
  m->nregions = v->nreg;
  for (i = 0; i < v->nreg; i++) {
    m->regions[i].guest_phys_addr = (uint64_t)(uintptr_t)v->reg[i].va;
    m->regions[i].userspace_addr = (uint64_t)(uintptr_t)v->reg[i].va;
    m->regions[i].memory_size = v->reg[i].size;
  }
  rc = vv_ioctl(v, VHOST_SET_MEM_TABLE, m, "VHOST_SET_MEM_TABLE");
  free(m);
  return rc;
}

/* ---- ops ---------------------------------------------------------------------- */

static int
vv_get_features(struct lwvsock_backend *be, uint64_t *features)
{
  *features = vv_of(be)->features;
  return 0;
}

static int
vv_set_features(struct lwvsock_backend *be, uint64_t features)
{
  struct vv_backend *v = vv_of(be);

  if (features & ~v->features) {
    lwvsock_backend_log(be, "the driver accepted features 0x%" PRIx64 " that were not offered (offer 0x%" PRIx64 ")",
           features & ~v->features, v->features);
    return -EINVAL;
  }
  if (!(features & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
    /* legacy vhost uses the host's byte order for the rings; the driver writes little-endian */
    lwvsock_backend_log(be, "the driver must accept VIRTIO_F_VERSION_1 (little-endian rings)");
    return -ENOTSUP;
  }
  return vv_ioctl(v, VHOST_SET_FEATURES, &features, "VHOST_SET_FEATURES");
}

static int
vv_read_config(struct lwvsock_backend *be, uint32_t offset, void *buf, uint32_t len)
{
  uint8_t cfg[8];

  if (offset > sizeof(cfg) || len > sizeof(cfg) - offset) {
    return -EINVAL;
  }
  /* vhost has no config space: it is ours to present, le64 guest_cid */
  le64_store(cfg + VIRTIO_VSOCK_CFG_GUEST_CID, vv_of(be)->cid);
  memcpy(buf, cfg + offset, len);
  return 0;
}

static uint16_t
vv_max_queue_size(struct lwvsock_backend *be, uint16_t index)
{
  (void)be;
  return index < VV_NQUEUES ? (uint16_t)VV_QUEUE_MAX : 0;
}

static int
vv_mem_alloc(struct lwvsock_backend *be, size_t size, struct lwvsock_mem *mem)
{
  struct vv_backend *v = vv_of(be);
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  size_t mapped;
  void *va;
  int fd, rc;

  if (size == 0 || size > SIZE_MAX - page) {
    return -EINVAL;
  }
  if (v->nreg == VV_MAX_REGIONS) {
    lwvsock_backend_log(be, "more than %u memory regions requested", VV_MAX_REGIONS);
    return -ENOSPC;
  }
  mapped = (size + page - 1) & ~(page - 1);
  /* memfd + MAP_SHARED: the region is a file, as a vhost-user backend would need;
   * fresh memfd pages read as zero */
  fd = memfd_create("lwvsock-vhost-vsock", MFD_CLOEXEC);
  if (fd < 0) {
    rc = -errno;
    lwvsock_backend_log(be, "memfd_create: %s", strerror(-rc));
    return rc;
  }
  if (ftruncate(fd, (off_t)mapped) < 0) {
    rc = -errno;
    lwvsock_backend_log(be, "cannot size the %zu-byte memory region: %s", mapped, strerror(-rc));
    close(fd);
    return rc;
  }
  va = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
  rc = -errno;
  close(fd); /* the mapping keeps the memory */
  if (va == MAP_FAILED) {
    lwvsock_backend_log(be, "cannot map the %zu-byte memory region: %s", mapped, strerror(-rc));
    return rc;
  }
  v->reg[v->nreg].va = va;
  v->reg[v->nreg].size = mapped;
  v->nreg++;
  rc = vv_set_mem_table(v);
  if (rc != 0) {
    v->nreg--;
    munmap(va, mapped);
    return rc;
  }
  mem->va = va;
  mem->dma = (uint64_t)(uintptr_t)va;
  mem->size = size;
  return 0;
}

static void
vv_mem_free(struct lwvsock_backend *be, struct lwvsock_mem *mem)
{
  struct vv_backend *v = vv_of(be);
  unsigned i;

  for (i = 0; i < v->nreg; i++) {
    if (v->reg[i].va == mem->va) {
      break;
    }
  }
  if (i == v->nreg) {
    lwvsock_backend_log(be, "mem_free of a region this backend did not allocate (%p): ignored", mem->va);
    return;
  }
  if (v->running) {
    lwvsock_backend_log(be, "mem_free while the device runs: reset it first; region kept");
    return;
  }
  munmap(v->reg[i].va, v->reg[i].size);
  v->reg[i] = v->reg[--v->nreg];
  /* a failure is logged; the device is stopped, so a stale entry is never used */
  (void)vv_set_mem_table(v);
  memset(mem, 0, sizeof(*mem));
}

static int
vv_setup_queue(struct lwvsock_backend *be, const struct lwvsock_vring_info *vr)
{
  struct vv_backend *v = vv_of(be);
  struct vv_queue *q;
  struct vhost_vring_state st;
  struct vhost_vring_addr addr;
  struct vhost_vring_file f;
  size_t num;
  int rc;

  if (vr->index >= VV_NQUEUES) {
    lwvsock_backend_log(be, "queue %u does not exist: vhost-vsock has only rx (0) and tx (1)", vr->index);
    return -EINVAL;
  }
  num = vr->num;
  if (num == 0 || num > VV_QUEUE_MAX || (num & (num - 1)) != 0) {
    lwvsock_backend_log(be, "%s queue size %zu is not a power of two up to %u", vv_qname[vr->index], num, VV_QUEUE_MAX);
    return -EINVAL;
  }
  if (v->running) {
    lwvsock_backend_log(be, "setup_queue while the device runs: reset it first");
    return -EBUSY;
  }
  /* vhost reads the rings at their virtual addresses, and descriptors through the
   * memory table: both hold only when the rings sit in our identity-mapped regions */
  if (vr->desc_dma != (uint64_t)(uintptr_t)vr->desc || vr->avail_dma != (uint64_t)(uintptr_t)vr->avail ||
      vr->used_dma != (uint64_t)(uintptr_t)vr->used ||
      !vv_in_region(v, vr->desc, 16 * num) || !vv_in_region(v, vr->avail, 6 + 2 * num) ||
      !vv_in_region(v, vr->used, 6 + 8 * num)) {
    lwvsock_backend_log(be, "%s queue rings are not in memory from mem_alloc", vv_qname[vr->index]);
    return -EINVAL;
  }

  q = &v->q[vr->index];
  q->ready = false;
  /* kept across resets; created on first use (again after a failure) */
  if ((q->kick < 0 && (q->kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) ||
      (q->call < 0 && (q->call = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) ||
      (q->err < 0 && (q->err = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)) {
    rc = -errno;
    lwvsock_backend_log(be, "eventfd: %s", strerror(-rc));
    return rc;
  }
  vv_drain(v, q->call);
  vv_drain(v, q->err);

  st.index = vr->index;
  st.num = vr->num;
  rc = vv_ioctl(v, VHOST_SET_VRING_NUM, &st, "VHOST_SET_VRING_NUM");
  if (rc == 0) {
    st.num = 0; /* a fresh ring starts at index 0 */
    rc = vv_ioctl(v, VHOST_SET_VRING_BASE, &st, "VHOST_SET_VRING_BASE");
  }
  if (rc == 0) {
    memset(&addr, 0, sizeof(addr));
    addr.index = vr->index;
    addr.desc_user_addr = (uint64_t)(uintptr_t)vr->desc;
    addr.avail_user_addr = (uint64_t)(uintptr_t)vr->avail;
    addr.used_user_addr = (uint64_t)(uintptr_t)vr->used;
    rc = vv_ioctl(v, VHOST_SET_VRING_ADDR, &addr, "VHOST_SET_VRING_ADDR");
  }
  f.index = vr->index;
  if (rc == 0) {
    f.fd = q->kick;
    rc = vv_ioctl(v, VHOST_SET_VRING_KICK, &f, "VHOST_SET_VRING_KICK");
  }
  if (rc == 0) {
    f.fd = q->call;
    rc = vv_ioctl(v, VHOST_SET_VRING_CALL, &f, "VHOST_SET_VRING_CALL");
  }
  if (rc == 0) {
    f.fd = q->err;
    rc = vv_ioctl(v, VHOST_SET_VRING_ERR, &f, "VHOST_SET_VRING_ERR");
  }
  q->ready = (rc == 0);
  return rc;
}

static int
vv_start(struct lwvsock_backend *be)
{
  struct vv_backend *v = vv_of(be);
  int on = 1;
  unsigned i;
  int rc;

  for (i = 0; i < VV_NQUEUES; i++) {
    if (!v->q[i].ready) {
      /* the kernel would answer EFAULT */
      lwvsock_backend_log(be, "start before the %s queue was set up", vv_qname[i]);
      return -EINVAL;
    }
  }
  rc = vv_ioctl(v, VHOST_VSOCK_SET_RUNNING, &on, "VHOST_VSOCK_SET_RUNNING(1)");
  if (rc != 0) {
    return rc;
  }
  v->running = true;
  /* vhost ignores kicks while stopped: repeat any the driver made before start */
  for (i = 0; i < VV_NQUEUES; i++) {
    be->ops->notify(be, (uint16_t)i);
  }
  return 0;
}

static void
vv_notify(struct lwvsock_backend *be, uint16_t index)
{
  struct vv_backend *v = vv_of(be);
  uint64_t one = 1;
  ssize_t n;

  if (index < VV_NQUEUES && v->q[index].kick >= 0) {
    /* can only fail with EAGAIN, when the counter is saturated: a kick is pending anyway */
    n = write(v->q[index].kick, &one, sizeof(one));
    (void)n;
    v->be.kicks++;
    v->be.syscalls++;
  }
}

static int
vv_reset(struct lwvsock_backend *be)
{
  struct vv_backend *v = vv_of(be);
  int off = 0;
  unsigned i;

  if (v->running) {
    int rc = vv_ioctl(v, VHOST_VSOCK_SET_RUNNING, &off, "VHOST_VSOCK_SET_RUNNING(0)");
    if (rc != 0) {
      return rc;
    }
    v->running = false;
  }
  /* the kernel keeps the old ring addresses but no longer uses them; setup_queue
   * gives it new ones (from index 0) before the next start */
  for (i = 0; i < VV_NQUEUES; i++) {
    v->q[i].ready = false;
  }
  return 0;
}

static int
vv_wait_fds(struct lwvsock_backend *be, int *fds, int max)
{
  struct vv_backend *v = vv_of(be);
  int n = 0;
  unsigned i;

  /* call fds signal used buffers (when the driver enables interrupts), err fds
   * a broken queue, which check() then reports */
  v->fds_out = true;
  for (i = 0; i < VV_NQUEUES; i++) {
    if (v->q[i].call >= 0 && n < max) {
      fds[n++] = v->q[i].call;
    }
    if (v->q[i].err >= 0 && n < max) {
      fds[n++] = v->q[i].err;
    }
  }
  return n;
}

static int
vv_check(struct lwvsock_backend *be)
{
  struct vv_backend *v = vv_of(be);
  struct pollfd pfd[2 * VV_NQUEUES];
  int rc = 0;
  unsigned i;

  /* Called on every lwvsock_dev_poll(): one poll(2) finds the rare signalled fd,
   * instead of four reads. Clearing the call eventfds here (the driver looks at
   * the used rings again before it sleeps) keeps a caller sleeping on wait_fds
   * from waking for work already seen; a poll op would do it too, but would
   * mark the device as in-process.
   * A caller that keeps busy never sleeps on the fds, and vhost signals a call
   * fd only while the driver has notifications on (before a sleep): then the
   * fds are looked at every VV_CHECK_EVERY calls only, which bounds how late
   * an error is seen, instead of one system call per poll. */
  if (!v->fds_out && ++v->unchecked < VV_CHECK_EVERY) {
    return 0;
  }
  v->fds_out = false;
  v->unchecked = 0;
  v->be.syscalls++;
  for (i = 0; i < VV_NQUEUES; i++) {
    pfd[2 * i].fd = v->q[i].call;
    pfd[2 * i + 1].fd = v->q[i].err;
    pfd[2 * i].events = pfd[2 * i + 1].events = POLLIN;
    pfd[2 * i].revents = pfd[2 * i + 1].revents = 0;
  }
  if (poll(pfd, 2 * VV_NQUEUES, 0) <= 0) {
    return 0;
  }
  for (i = 0; i < VV_NQUEUES; i++) {
    uint64_t n;
    if (pfd[2 * i].revents & POLLIN) {
      vv_drain(v, v->q[i].call);
    }
    if (!(pfd[2 * i + 1].revents & POLLIN) || (n = vv_drain(v, v->q[i].err)) == 0) {
      continue;
    }
    lwvsock_backend_log(be, "the kernel flagged %" PRIu64 " error(s) on the %s queue and stopped serving it "
           "(a descriptor outside the memory table or a malformed ring); for the kernel's "
           "reason: echo 'module vhost +p' > /sys/kernel/debug/dynamic_debug/control",
           n, vv_qname[i]);
    rc = -EIO;
  }
  return rc;
}

static void
vv_destroy(struct lwvsock_backend *be)
{
  struct vv_backend *v = vv_of(be);
  unsigned i;

  (void)vv_reset(be);
  /* closing the device unregisters the CID and resets host sockets still connected to it */
  close(v->fd);
  for (i = 0; i < VV_NQUEUES; i++) {
    if (v->q[i].kick >= 0) {
      close(v->q[i].kick);
    }
    if (v->q[i].call >= 0) {
      close(v->q[i].call);
    }
    if (v->q[i].err >= 0) {
      close(v->q[i].err);
    }
  }
  for (i = 0; i < v->nreg; i++) {
    munmap(v->reg[i].va, v->reg[i].size);
  }
  free(v);
}

/*
 * Zero-copy tx: the kernel reads only the regions of the memory table, where
 * device address == VA; anything else (application memory) is copied.
 */
static int
vv_dma_map(struct lwvsock_backend *be, const void *va, size_t len, uint64_t *dma)
{
  const struct vv_backend *v = vv_of(be);
  uintptr_t a = (uintptr_t)va;
  unsigned i;

  for (i = 0; i < v->nreg; i++) {
    uintptr_t base = (uintptr_t)v->reg[i].va;
    if (a >= base && len <= v->reg[i].size && a - base <= v->reg[i].size - len) {
      *dma = (uint64_t)a;
      return 0;
    }
  }
  return -EFAULT;
}

static const struct lwvsock_backend_ops vv_ops = {
  .name = "vhost-vsock",
  .get_features = vv_get_features,
  .set_features = vv_set_features,
  .read_config = vv_read_config,
  .max_queue_size = vv_max_queue_size,
  .mem_alloc = vv_mem_alloc,
  .mem_free = vv_mem_free,
  .setup_queue = vv_setup_queue,
  .start = vv_start,
  .notify = vv_notify,
  .reset = vv_reset,
  .poll = NULL, /* the device runs in the kernel */
  .wait_fds = vv_wait_fds,
  .check = vv_check,
  .destroy = vv_destroy,
  .dma_map = vv_dma_map, /* no dma_unmap: the memory table is the mapping */
};

/* ---- open ------------------------------------------------------------------------ */

int
lwvsock_vhost_vsock_open(uint32_t cid, struct lwvsock_backend **bep, char *err, size_t errlen)
{
  struct vv_backend *v;
  const char *allow;
  uint64_t offered, cid64 = cid;
  unsigned i;
  int fd, rc;

  if (bep == NULL) {
    return lwvsock_bus_fail(err, errlen, -EINVAL, "lwvsock_vhost_vsock_open: bep is NULL");
  }
  *bep = NULL;
  if (cid <= VMADDR_CID_HOST || cid == VMADDR_CID_ANY) {
    return lwvsock_bus_fail(err, errlen, -EINVAL,
                   "CID %" PRIu32 " is reserved (0 hypervisor, 1 local, 2 host, 4294967295 any): "
                   "pick cid=3 or more", cid);
  }
  allow = getenv(LWVSOCK_VHOST_VSOCK_ALLOW_ENV);
  if (allow == NULL || strcmp(allow, "1") != 0) {
    return lwvsock_bus_fail(err, errlen, -EPERM,
                   "refusing to open " LWVSOCK_VHOST_VSOCK_PATH ": it would register guest CID %" PRIu32
                   " with the running kernel, which affects the whole machine; set "
                   LWVSOCK_VHOST_VSOCK_ALLOW_ENV "=1 to allow it (the project's tests do so only "
                   "inside the test VM of tests/interop/vm.sh)", cid);
  }

  fd = open(LWVSOCK_VHOST_VSOCK_PATH, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    rc = -errno;
    if (rc == -ENOENT || rc == -ENODEV || rc == -ENXIO) {
      return lwvsock_bus_fail(err, errlen, rc, "vhost_vsock kernel module not loaded (no "
                     LWVSOCK_VHOST_VSOCK_PATH "): modprobe vhost_vsock");
    }
    if (rc == -EACCES || rc == -EPERM) {
      return lwvsock_bus_fail(err, errlen, rc, "permission denied on " LWVSOCK_VHOST_VSOCK_PATH
                     ": run as root or grant access");
    }
    return lwvsock_bus_fail(err, errlen, rc, "cannot open " LWVSOCK_VHOST_VSOCK_PATH ": %s", strerror(-rc));
  }
  if (ioctl(fd, VHOST_SET_OWNER, NULL) < 0) {
    rc = -errno;
    close(fd);
    return lwvsock_bus_fail(err, errlen, rc, "VHOST_SET_OWNER on " LWVSOCK_VHOST_VSOCK_PATH " failed: %s",
                   strerror(-rc));
  }
  if (ioctl(fd, VHOST_GET_FEATURES, &offered) < 0) {
    rc = -errno;
    close(fd);
    return lwvsock_bus_fail(err, errlen, rc, "VHOST_GET_FEATURES on " LWVSOCK_VHOST_VSOCK_PATH " failed: %s",
                   strerror(-rc));
  }
  /* at open, not in start: a taken CID is the error users meet most, and here it
   * can be reported with its fix */
  if (ioctl(fd, VHOST_VSOCK_SET_GUEST_CID, &cid64) < 0) {
    rc = -errno;
    close(fd);
    if (rc == -EADDRINUSE) {
      return lwvsock_bus_fail(err, errlen, rc, "CID %" PRIu32 " is already in use by another VM or process: "
                     "pick another cid=", cid);
    }
    return lwvsock_bus_fail(err, errlen, rc, "the kernel refused guest CID %" PRIu32 " (%s): pick another cid=",
                   cid, strerror(-rc));
  }

  v = (struct vv_backend *)calloc(1, sizeof(*v));
  if (v == NULL) {
    close(fd);
    return lwvsock_bus_fail(err, errlen, -ENOMEM, "out of memory for the vhost-vsock backend");
  }
  v->be.ops = &vv_ops;
  v->fd = fd;
  v->owner = getpid();
  v->cid = cid;
  v->features = offered & VV_FEATURES;
  for (i = 0; i < VV_NQUEUES; i++) {
    v->q[i].kick = v->q[i].call = v->q[i].err = -1;
  }
  *bep = &v->be;
  return 0;
}
