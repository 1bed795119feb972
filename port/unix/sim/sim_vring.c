/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Simulated device: the device side of split virtqueues.
 *
 * The driver's rings and buffers are untrusted input. Every address is
 * translated through the regions the sim handed out (a device address outside
 * them, or a VA passed as a device address, is a protocol violation), chains
 * are bounded by the ring size, readable pieces must precede writable ones, and
 * the avail index may not run more than a ring ahead. A violation breaks the
 * queue for good (as vhost's vq_err stops a queue) and is reported once through
 * the backend's check op.
 */
#include <errno.h>
#include <string.h>

#include "sim_priv.h"

void *
sim_translate(struct lwvsock_sim *sim, uint64_t addr, uint64_t len)
{
  uint64_t slot = (addr >> SIM_REGION_SHIFT);
  uint64_t off = addr & ((1ull << SIM_REGION_SHIFT) - 1);
  const struct sim_region *r;

  if (sim_iommu_owns(sim, addr)) {
    /* device-read-only: sim_vq_pop refuses writable descriptors here */
    return (void *)(uintptr_t)sim_iommu_translate(sim, addr, len);
  }
  if (slot == 0 || slot > SIM_MAX_REGIONS) {
    return NULL;
  }
  r = &sim->regions[slot - 1];
  if (r->va == NULL || off > r->size || len > r->size - off) {
    return NULL;
  }
  return r->va + off;
}

void
sim_vq_fail(struct lwvsock_sim *sim, struct sim_vq *vq, const char *why)
{
  if (!vq->broken) {
    vq->broken = true;
    sim->error = -EIO;
    sim->broken_reason = why;
  }
}

int
sim_vq_setup(struct lwvsock_sim *sim, struct sim_vq *vq, const struct lwvsock_vring_info *vr)
{
  uint16_t num = vr->num;
  uint8_t *desc, *avail, *used;
  uint64_t extra = sim->event_idx ? 2u : 0u;

  if (num == 0 || (num & (num - 1)) != 0 || num > sim->cfg.queue_size_max) {
    return -EINVAL;
  }
  if ((vr->desc_dma % VIRTQ_DESC_ALIGN) != 0 || (vr->avail_dma % VIRTQ_AVAIL_ALIGN) != 0 ||
      (vr->used_dma % VIRTQ_USED_ALIGN) != 0) {
    return -EINVAL;
  }
  desc = (uint8_t *)sim_translate(sim, vr->desc_dma, 16ull * num);
  avail = (uint8_t *)sim_translate(sim, vr->avail_dma, 4ull + 2ull * num + extra);
  used = (uint8_t *)sim_translate(sim, vr->used_dma, 4ull + 8ull * num + extra);
  if (desc == NULL || avail == NULL || used == NULL) {
    return -EINVAL;
  }
  memset(vq, 0, sizeof(*vq));
  vq->num = num;
  vq->desc = desc;
  vq->avail = avail;
  vq->used = used;
  vq->ready = true;
  return 0;
}

/**
 * EVENT_IDX: ask for a kick as soon as anything beyond what we have seen is
 * added. Written only when the ring is found empty, as vhost's enable_notify
 * does: while the device still has entries to take it will look again anyway,
 * so a stale avail_event spares the driver its kicks.
 */
static void
sim_vq_write_avail_event(const struct lwvsock_sim *sim, struct sim_vq *vq)
{
  if (sim->event_idx) {
    le16_store(vq->used + 4 + 8u * vq->num, vq->last_avail);
  }
}

/*
 * After a batch of used entries, whether the driver asked to be notified of
 * them (vhost_notify): with EVENT_IDX when the batch crossed used_event, else
 * unless avail->flags says NO_INTERRUPT. Counted, since an in-process device
 * has no interrupt to raise; the driver reads the ring when it polls anyway.
 */
void
sim_vq_signal(struct lwvsock_sim *sim, struct sim_vq *vq)
{
  uint16_t old = vq->signalled_used;
  bool want;

  if (!vq->ready || vq->used_idx == old) {
    return;
  }
  vq->signalled_used = vq->used_idx;
  if (sim->event_idx) {
    want = virtq_need_event(le16_load(vq->avail + 4 + 2u * vq->num), vq->used_idx, old) != 0;
  } else {
    want = (le16_load(vq->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT) == 0;
  }
  if (want) {
    sim->stats.used_notifications++;
  }
}

/**
 * Take the next available chain into @p c (pieces in the sim's scratch array).
 * Returns 1, 0 when the ring is empty (the queue then waits for a kick), or
 * -EIO when the driver broke the protocol (the queue is then broken).
 */
int
sim_vq_pop(struct lwvsock_sim *sim, struct sim_vq *vq, struct sim_chain *c)
{
  uint16_t avail_idx, head, i;
  unsigned count = 0;
  uint64_t out_len = 0, in_len = 0;

  if (!vq->ready || vq->broken) {
    return -EIO;
  }
  avail_idx = le16_load(vq->avail + 2);
  if (avail_idx == vq->last_avail) {
    vq->need_kick = true;
    sim_vq_write_avail_event(sim, vq);
    return 0;
  }
  if ((uint16_t)(avail_idx - vq->last_avail) > vq->num) {
    sim_vq_fail(sim, vq, "avail index ran more than a ring ahead");
    return -EIO;
  }
  /* read ring entries only after the index that published them */
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  head = le16_load(vq->avail + 4 + 2u * (vq->last_avail & (vq->num - 1)));
  if (head >= vq->num) {
    sim_vq_fail(sim, vq, "avail ring names a descriptor beyond the ring");
    return -EIO;
  }
  c->head = head;
  c->nout = c->nin = 0;
  c->iov = sim->scratch;
  i = head;
  for (;;) {
    const uint8_t *d = vq->desc + 16u * i;
    uint64_t addr = le64_load(d);
    uint32_t len = le32_load(d + 8);
    uint16_t flags = le16_load(d + 12);
    uint16_t next = le16_load(d + 14);
    uint8_t *va;

    if (++count > vq->num) {
      sim_vq_fail(sim, vq, "descriptor chain longer than the ring (loop)");
      return -EIO;
    }
    if (flags & VIRTQ_DESC_F_INDIRECT) {
      sim_vq_fail(sim, vq, "indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC");
      return -EIO;
    }
    va = (uint8_t *)sim_translate(sim, addr, len);
    if (va == NULL) {
      sim_vq_fail(sim, vq, "descriptor address outside device memory");
      return -EIO;
    }
    if ((flags & VIRTQ_DESC_F_WRITE) && sim_iommu_owns(sim, addr)) {
      sim_vq_fail(sim, vq, "writable descriptor in a read-only zero-copy mapping");
      return -EIO;
    }
    if (flags & VIRTQ_DESC_F_WRITE) {
      in_len += len;
    } else {
      if (c->nin != 0) {
        sim_vq_fail(sim, vq, "device-readable descriptor after a writable one");
        return -EIO;
      }
      out_len += len;
    }
    if (out_len > UINT32_MAX || in_len > UINT32_MAX) {
      sim_vq_fail(sim, vq, "descriptor chain longer than 4 GiB");
      return -EIO;
    }
    if (len != 0) {
      c->iov[c->nout + c->nin].base = va;
      c->iov[c->nout + c->nin].len = len;
      if (flags & VIRTQ_DESC_F_WRITE) {
        c->nin++;
      } else {
        c->nout++;
      }
    }
    if (!(flags & VIRTQ_DESC_F_NEXT)) {
      break;
    }
    if (next >= vq->num) {
      sim_vq_fail(sim, vq, "descriptor next beyond the ring");
      return -EIO;
    }
    i = next;
  }
  c->out_len = (uint32_t)out_len;
  c->in_len = (uint32_t)in_len;
  vq->last_avail++;
  return 1;
}

/** Give back the chain just popped (as vhost_discard_vq_desc). */
void
sim_vq_unpop(struct sim_vq *vq)
{
  vq->last_avail--;
}

void
sim_vq_push(struct lwvsock_sim *sim, struct sim_vq *vq, uint32_t id, uint32_t len)
{
  uint8_t *e = vq->used + 4 + 8u * (vq->used_idx & (vq->num - 1));
  uint32_t wire_id = id;

  if (sim->faults.used_id_bogus) {
    sim->faults.used_id_bogus = 0;
    wire_id = (uint32_t)vq->num + 7u;
  } else if (sim->faults.used_id_dup) {
    sim->faults.used_id_dup = 0;
    wire_id = vq->last_id;
  }
  le32_store(e, wire_id);
  le32_store(e + 4, len);
  /* the element must be visible before the index that publishes it */
  __atomic_thread_fence(__ATOMIC_RELEASE);
  vq->used_idx++;
  le16_store(vq->used + 2, vq->used_idx);
  vq->last_id = id;
}

void
sim_iter_init(struct sim_iter *it, const struct sim_iov *iov, unsigned n)
{
  it->iov = iov;
  it->n = n;
  it->i = 0;
  it->off = 0;
}

uint32_t
sim_iter_span(struct sim_iter *it, uint8_t **p, uint32_t max)
{
  uint32_t n;

  while (it->i < it->n && it->off == it->iov[it->i].len) {
    it->i++;
    it->off = 0;
  }
  if (it->i == it->n || max == 0) {
    return 0;
  }
  n = it->iov[it->i].len - it->off;
  if (n > max) {
    n = max;
  }
  *p = it->iov[it->i].base + it->off;
  it->off += n;
  return n;
}

uint32_t
sim_iter_read(struct sim_iter *it, void *dst, uint32_t len)
{
  uint8_t *d = (uint8_t *)dst;
  uint32_t done = 0, n;
  uint8_t *p;

  while (done < len && (n = sim_iter_span(it, &p, len - done)) != 0) {
    memcpy(d + done, p, n);
    done += n;
  }
  return done;
}

uint32_t
sim_iter_write(struct sim_iter *it, const void *src, uint32_t len)
{
  const uint8_t *s = (const uint8_t *)src;
  uint32_t done = 0, n;
  uint8_t *p;

  while (done < len && (n = sim_iter_span(it, &p, len - done)) != 0) {
    memcpy(p, s + done, n);
    done += n;
  }
  return done;
}
