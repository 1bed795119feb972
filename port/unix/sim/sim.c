/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Simulated device: backend ops and device-level controls.
 *
 * The device runs only inside the poll op (called from lwvsock_dev_poll()), so one
 * thread drives both ends deterministically. Like a real device it looks at a
 * ring it found empty again only after the driver notifies that queue.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sim_priv.h"

#define SIM_PAGE_SIZE 4096u

/** Ring features the device side cannot honour, so the sim never offers them. */
#define SIM_VIRTIO_F_RING_PACKED 34
#define SIM_FEATURES_UNSUPPORTED \
  (VIRTIO_BIT(VIRTIO_RING_F_INDIRECT_DESC) | VIRTIO_BIT(SIM_VIRTIO_F_RING_PACKED))

static const struct lwvsock_backend_ops sim_ops;

static struct lwvsock_sim *
sim_of(struct lwvsock_backend *be)
{
  return (struct lwvsock_sim *)be;
}

/* ---- backend ops ----------------------------------------------------------------- */

static int
sim_get_features(struct lwvsock_backend *be, uint64_t *features)
{
  *features = sim_of(be)->cfg.features;
  return 0;
}

static int
sim_set_features(struct lwvsock_backend *be, uint64_t features)
{
  struct lwvsock_sim *sim = sim_of(be);
  uint64_t offered = sim->cfg.features;

  if ((features & ~offered) != 0) {
    return -EINVAL;
  }
  /* a modern-only device refuses drivers that do not accept VERSION_1 */
  if ((offered & VIRTIO_BIT(VIRTIO_F_VERSION_1)) && !(features & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
    return -EINVAL;
  }
  sim->driver_features = features;
  sim->event_idx = (features & VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX)) != 0;
  sim->features_set = true;
  return 0;
}

static int
sim_read_config(struct lwvsock_backend *be, uint32_t offset, void *buf, uint32_t len)
{
  uint8_t cfg[8];

  if (offset > sizeof(cfg) || len > sizeof(cfg) - offset) {
    return -EINVAL;
  }
  le64_store(cfg + VIRTIO_VSOCK_CFG_GUEST_CID, sim_of(be)->cid);
  memcpy(buf, cfg + offset, len);
  return 0;
}

static uint16_t
sim_max_queue_size(struct lwvsock_backend *be, uint16_t index)
{
  struct lwvsock_sim *sim = sim_of(be);

  if (index > VIRTIO_VSOCK_QUEUE_EVENT ||
      (index == VIRTIO_VSOCK_QUEUE_EVENT && !sim->cfg.event_queue)) {
    return 0;
  }
  return sim->cfg.queue_size_max;
}

static int
sim_mem_alloc(struct lwvsock_backend *be, size_t size, struct lwvsock_mem *mem)
{
  struct lwvsock_sim *sim = sim_of(be);
  size_t rounded;
  unsigned k;
  void *va;

  if (size == 0 || size > ((size_t)1 << SIM_REGION_SHIFT) - SIM_PAGE_SIZE) {
    return -EINVAL;
  }
  for (k = 0; k < SIM_MAX_REGIONS && sim->regions[k].va != NULL; k++) {
  }
  if (k == SIM_MAX_REGIONS) {
    return -ENOMEM;
  }
  rounded = (size + SIM_PAGE_SIZE - 1) & ~(size_t)(SIM_PAGE_SIZE - 1);
  /* fresh anonymous pages are zero and page aligned: no memset of megabytes
   * at every open, and pages the driver never touches cost nothing */
  va = mmap(NULL, rounded, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (va == MAP_FAILED) {
    return -ENOMEM;
  }
  sim->regions[k].va = (uint8_t *)va;
  sim->regions[k].size = rounded;
  mem->va = va;
  mem->dma = (uint64_t)(k + 1) << SIM_REGION_SHIFT;
  mem->size = size;
  return 0;
}

static void
sim_region_release(struct sim_region *r)
{
  if (r->va != NULL) {
    munmap(r->va, r->size);
    r->va = NULL;
    r->size = 0;
  }
}

static void
sim_mem_free(struct lwvsock_backend *be, struct lwvsock_mem *mem)
{
  struct lwvsock_sim *sim = sim_of(be);
  uint64_t slot = mem->dma >> SIM_REGION_SHIFT;
  struct sim_region *r;
  unsigned q;

  if (slot == 0 || slot > SIM_MAX_REGIONS || (mem->dma & ((1ull << SIM_REGION_SHIFT) - 1)) != 0) {
    return;
  }
  r = &sim->regions[slot - 1];
  if (r->va == NULL || r->va != (uint8_t *)mem->va) {
    return;
  }
  /* a queue still living in this memory must never be touched again */
  for (q = 0; q < 3; q++) {
    struct sim_vq *vq = &sim->vq[q];
    if (vq->ready && vq->desc >= r->va && vq->desc < r->va + r->size) {
      vq->ready = false;
    }
  }
  sim_region_release(r);
  mem->va = NULL;
  mem->dma = 0;
  mem->size = 0;
}

static int
sim_setup_queue(struct lwvsock_backend *be, const struct lwvsock_vring_info *vr)
{
  struct lwvsock_sim *sim = sim_of(be);

  if (vr == NULL || sim->started || sim_max_queue_size(be, vr->index) == 0) {
    return -EINVAL;
  }
  return sim_vq_setup(sim, &sim->vq[vr->index], vr);
}

static int
sim_start(struct lwvsock_backend *be)
{
  struct lwvsock_sim *sim = sim_of(be);

  if (!sim->features_set || !sim->vq[VIRTIO_VSOCK_QUEUE_RX].ready ||
      !sim->vq[VIRTIO_VSOCK_QUEUE_TX].ready ||
      (sim->cfg.event_queue && !sim->vq[VIRTIO_VSOCK_QUEUE_EVENT].ready)) {
    return -EINVAL;
  }
  sim->started = true;
  return 0;
}

static void
sim_notify(struct lwvsock_backend *be, uint16_t index)
{
  struct lwvsock_sim *sim = sim_of(be);

  sim->stats.kicks++;
  if (index <= VIRTIO_VSOCK_QUEUE_EVENT) {
    sim->vq[index].need_kick = false;
    sim->vq[index].kicks++;
  }
}

static void
sim_free_raw_list(struct sim_raw **head, struct sim_raw **tail)
{
  while (*head != NULL) {
    struct sim_raw *p = *head;
    *head = p->next;
    free(p);
  }
  *tail = NULL;
}

static int
sim_reset(struct lwvsock_backend *be)
{
  struct lwvsock_sim *sim = sim_of(be);

  sim_drop_connections(sim);
  sim_free_raw_list(&sim->inject_head, &sim->inject_tail);
  memset(sim->vq, 0, sizeof(sim->vq));
  sim->driver_features = 0;
  sim->features_set = false;
  sim->event_idx = false;
  sim->started = false;
  sim->events_pending = 0;
  return 0;
}

/** Guest -> host: take tx chains, check them like vhost, hand them to the host sockets. */
static int
sim_process_tx(struct lwvsock_sim *sim)
{
  struct sim_vq *vq = &sim->vq[VIRTIO_VSOCK_QUEUE_TX];
  int work = 0;

  if (sim->faults.stall_tx || !vq->ready || vq->broken || vq->need_kick) {
    return 0;
  }
  /* stop taking guest tx while too many replies wait for rx buffers (vhost) */
  while (work < SIM_PKT_WEIGHT && !sim_tx_blocked(sim)) {
    uint8_t hb[VIRTIO_VSOCK_HDR_LEN];
    struct vsock_hdr h;
    struct sim_chain c;
    struct sim_iter it;
    uint32_t used;

    if (sim_vq_pop(sim, vq, &c) <= 0) {
      break;
    }
    work++;
    sim->stats.rx_pkts++;
    used = sim->cfg.tx_used_len ? c.out_len : 0;
    if (c.nin != 0 || c.out_len < VIRTIO_VSOCK_HDR_LEN) {
      sim->stats.dropped++;
      sim_vq_push(sim, vq, c.head, used);
      continue;
    }
    sim_iter_init(&it, c.iov, c.nout);
    sim_iter_read(&it, hb, sizeof(hb));
    vsock_hdr_decode(&h, hb, sizeof(hb));
    if (h.len != c.out_len - VIRTIO_VSOCK_HDR_LEN || h.len > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE) {
      sim->stats.dropped++;
      sim_vq_push(sim, vq, c.head, used);
      continue;
    }
    if (sim->tap != NULL) {
      struct sim_iter peek = it;
      uint8_t *p = NULL;
      if (h.len == 0 || sim_iter_span(&peek, &p, h.len) != h.len) {
        peek = it;
        sim_iter_read(&peek, sim->tap_buf, h.len);
        p = sim->tap_buf;
      }
      sim->tap(sim->tap_arg, hb, p, h.len);
    }
    sim_handle_guest_pkt(sim, &h, &it);
    sim_vq_push(sim, vq, c.head, used);
  }
  return work;
}

/** TRANSPORT_RESET events into the event queue. */
static int
sim_deliver_events(struct lwvsock_sim *sim)
{
  struct sim_vq *vq = &sim->vq[VIRTIO_VSOCK_QUEUE_EVENT];
  int work = 0;

  while (sim->events_pending > 0 && vq->ready && !vq->broken && !vq->need_kick) {
    uint8_t ev[VIRTIO_VSOCK_EVENT_LEN];
    struct sim_chain c;
    struct sim_iter it;

    if (sim_vq_pop(sim, vq, &c) <= 0) {
      break;
    }
    if (c.nout != 0 || c.in_len < VIRTIO_VSOCK_EVENT_LEN) {
      sim_vq_fail(sim, vq, "event buffer not a writable 4-byte buffer");
      break;
    }
    le32_store(ev, VIRTIO_VSOCK_EVENT_TRANSPORT_RESET);
    sim_iter_init(&it, c.iov, c.nin);
    sim_iter_write(&it, ev, sizeof(ev));
    sim_vq_push(sim, vq, c.head, VIRTIO_VSOCK_EVENT_LEN);
    sim->events_pending--;
    work++;
  }
  return work;
}

static int
sim_poll(struct lwvsock_backend *be)
{
  struct lwvsock_sim *sim = sim_of(be);
  unsigned q;
  int work, tx;

  if (!sim->started) {
    return 0;
  }
  sim_run_timers(sim);
  work = sim_deliver_events(sim);
  /* deliver first (frees reply slots), take guest tx, then deliver its replies */
  work += sim_deliver(sim);
  tx = sim_process_tx(sim);
  if (tx > 0) {
    work += tx + sim_deliver(sim);
  }
  for (q = 0; q < 3; q++) {
    sim_vq_signal(sim, &sim->vq[q]);
  }
  return work;
}

static int
sim_check(struct lwvsock_backend *be)
{
  struct lwvsock_sim *sim = sim_of(be);
  int err = sim->error;

  sim->error = 0;
  return err;
}

static void
sim_destroy(struct lwvsock_backend *be)
{
  struct lwvsock_sim *sim = sim_of(be);
  unsigned k;

  sim_drop_connections(sim);
  sim_free_all_socks(sim);
  sim_free_raw_list(&sim->inject_head, &sim->inject_tail);
  sim_chunk_cache_free(sim);
  for (k = 0; k < SIM_MAX_REGIONS; k++) {
    sim_region_release(&sim->regions[k]);
  }
  sim_iommu_fini(sim);
  free(sim->scratch);
  free(sim->tap_buf);
  free(sim);
}

static const struct lwvsock_backend_ops sim_ops = {
  .name = "sim",
  .get_features = sim_get_features,
  .set_features = sim_set_features,
  .read_config = sim_read_config,
  .max_queue_size = sim_max_queue_size,
  .mem_alloc = sim_mem_alloc,
  .mem_free = sim_mem_free,
  .setup_queue = sim_setup_queue,
  .start = sim_start,
  .notify = sim_notify,
  .reset = sim_reset,
  .poll = sim_poll,
  .wait_fds = NULL,
  .check = sim_check,
  .destroy = sim_destroy,
  .dma_map = sim_dma_map,
  .dma_unmap = sim_dma_unmap,
};

/* ---- public API -------------------------------------------------------------------- */

static bool
sim_cid_ok(uint32_t cid)
{
  return cid != VMADDR_CID_HYPERVISOR && cid != VMADDR_CID_LOCAL && cid != VMADDR_CID_HOST &&
         cid != VMADDR_CID_ANY;
}

void
lwvsock_sim_config_init(struct lwvsock_sim_config *cfg)
{
  memset(cfg, 0, sizeof(*cfg));
  cfg->guest_cid = 3;
  cfg->features = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_VSOCK_F_SEQPACKET) |
                  VIRTIO_BIT(VIRTIO_RING_F_EVENT_IDX);
  cfg->queue_size_max = 1024;
  cfg->event_queue = 1;
  cfg->host_buf_alloc = 256u * 1024u;
  cfg->max_pkt = VIRTIO_VSOCK_MAX_PKT_BUF_SIZE;
  cfg->credit_request = 0;
  cfg->host_port_min = SIM_HOST_PORT_MIN;
  cfg->host_port_max = SIM_HOST_PORT_MAX;
}

int
lwvsock_sim_new(const struct lwvsock_sim_config *cfg, struct lwvsock_sim **simp)
{
  struct lwvsock_sim_config def;
  struct lwvsock_sim *sim;

  if (simp == NULL) {
    return -EINVAL;
  }
  *simp = NULL;
  if (cfg == NULL) {
    lwvsock_sim_config_init(&def);
    cfg = &def;
  }
  if (!sim_cid_ok(cfg->guest_cid) || cfg->queue_size_max == 0 || cfg->queue_size_max > 32768 ||
      (cfg->queue_size_max & (cfg->queue_size_max - 1)) != 0 || cfg->host_buf_alloc == 0 ||
      cfg->max_pkt == 0 || cfg->max_pkt > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE ||
      cfg->host_port_min > cfg->host_port_max || cfg->host_port_max == VMADDR_PORT_ANY ||
      (cfg->features & SIM_FEATURES_UNSUPPORTED) != 0) {
    return -EINVAL;
  }
  sim = (struct lwvsock_sim *)calloc(1, sizeof(*sim));
  if (sim == NULL) {
    return -ENOMEM;
  }
  sim->scratch = (struct sim_iov *)malloc(cfg->queue_size_max * sizeof(*sim->scratch));
  sim->tap_buf = (uint8_t *)malloc(VIRTIO_VSOCK_MAX_PKT_BUF_SIZE);
  sim->cfg = *cfg;
  if (sim->scratch == NULL || sim->tap_buf == NULL || sim_iommu_init(sim) != 0) {
    free(sim->scratch);
    free(sim->tap_buf);
    free(sim);
    return -ENOMEM;
  }
  sim->be.ops = &sim_ops;
  sim->cid = cfg->guest_cid;
  sim->next_port = cfg->host_port_min;
  *simp = sim;
  return 0;
}

struct lwvsock_backend *
lwvsock_sim_backend(struct lwvsock_sim *sim)
{
  return sim ? &sim->be : NULL;
}

struct lwvsock_sim *
lwvsock_sim_from_backend(struct lwvsock_backend *be)
{
  return (be != NULL && be->ops == &sim_ops) ? sim_of(be) : NULL;
}

int
lwvsock_sim_transport_reset(struct lwvsock_sim *sim, uint32_t new_cid)
{
  if (sim == NULL || (new_cid != 0 && !sim_cid_ok(new_cid))) {
    return -EINVAL;
  }
  sim_drop_connections(sim);
  if (new_cid != 0) {
    sim->cid = new_cid;
  }
  if (sim->cfg.event_queue) {
    sim->events_pending++;
  }
  return 0;
}

int
lwvsock_sim_inject(struct lwvsock_sim *sim, const void *hdr, const void *payload, uint32_t len)
{
  struct sim_raw *p;

  if (sim == NULL || hdr == NULL || (payload == NULL && len != 0) || len > SIM_INJECT_MAX) {
    return -EINVAL;
  }
  p = (struct sim_raw *)malloc(sizeof(*p) + len);
  if (p == NULL) {
    return -ENOMEM;
  }
  memcpy(p->hdr, hdr, VIRTIO_VSOCK_HDR_LEN);
  if (len != 0) {
    memcpy(p->payload, payload, len);
  }
  p->len = len;
  p->next = NULL;
  if (sim->inject_tail != NULL) {
    sim->inject_tail->next = p;
  } else {
    sim->inject_head = p;
  }
  sim->inject_tail = p;
  return 0;
}

void
lwvsock_sim_set_tap(struct lwvsock_sim *sim, lwvsock_sim_tap_fn fn, void *arg)
{
  if (sim != NULL) {
    sim->tap = fn;
    sim->tap_arg = arg;
  }
}

void
lwvsock_sim_set_faults(struct lwvsock_sim *sim, const struct lwvsock_sim_faults *f)
{
  if (sim == NULL) {
    return;
  }
  if (f != NULL) {
    sim->faults = *f;
  } else {
    memset(&sim->faults, 0, sizeof(sim->faults));
  }
  /* ignore_credit or huge_buf_alloc may have unblocked a sender */
  sim_reschedule_all(sim);
}

void
lwvsock_sim_get_stats(const struct lwvsock_sim *sim, struct lwvsock_sim_stats *st)
{
  if (sim != NULL && st != NULL) {
    *st = sim->stats;
  }
}
