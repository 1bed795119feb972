/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Simulated device: an IOMMU for zero-copy transmit (the dma_map and
 * dma_unmap backend ops).
 *
 * The in-process device could read any process memory, but it reads only
 * what the driver handed out: mem_alloc regions and live mappings. Each
 * mapping gets a window of its own above the regions' addresses (so a stale
 * or forged device address never lands in another mapping), is device-read
 * only, and ends at dma_unmap. The table holds queue_size_max + 1 mappings:
 * one per descriptor of the largest tx ring plus the driver's probe.
 */
#include <errno.h>
#include <stdlib.h>

#include "sim_priv.h"

int
sim_iommu_init(struct lwvsock_sim *sim)
{
  uint32_t i, n = (uint32_t)sim->cfg.queue_size_max + 1u;

  sim->maps = (struct sim_map *)calloc(n, sizeof(*sim->maps));
  sim->map_free = (uint32_t *)malloc(n * sizeof(*sim->map_free));
  if (sim->maps == NULL || sim->map_free == NULL) {
    sim_iommu_fini(sim);
    return -ENOMEM;
  }
  sim->nmaps = n;
  sim->map_nfree = 0;
  for (i = n; i-- > 0;) {
    sim->map_free[sim->map_nfree++] = i;
  }
  return 0;
}

void
sim_iommu_fini(struct lwvsock_sim *sim)
{
  free(sim->maps);
  free(sim->map_free);
  sim->maps = NULL;
  sim->map_free = NULL;
}

/* Window index of a device address, or nmaps when it is none. */
static uint32_t
sim_iommu_index(const struct lwvsock_sim *sim, uint64_t addr)
{
  uint64_t slot = addr >> SIM_REGION_SHIFT;

  if (slot <= SIM_MAX_REGIONS || slot - SIM_MAX_REGIONS - 1u >= sim->nmaps) {
    return sim->nmaps;
  }
  return (uint32_t)(slot - SIM_MAX_REGIONS - 1u);
}

bool
sim_iommu_owns(const struct lwvsock_sim *sim, uint64_t addr)
{
  (void)sim;
  return (addr >> SIM_REGION_SHIFT) > SIM_MAX_REGIONS;
}

const uint8_t *
sim_iommu_translate(const struct lwvsock_sim *sim, uint64_t addr, uint64_t len)
{
  uint32_t k = sim_iommu_index(sim, addr);
  uint64_t off = addr & ((1ull << SIM_REGION_SHIFT) - 1);

  if (k == sim->nmaps || sim->maps[k].va == NULL || off > sim->maps[k].len ||
      len > sim->maps[k].len - off) {
    return NULL;
  }
  return sim->maps[k].va + off;
}

int
sim_dma_map(struct lwvsock_backend *be, const void *va, size_t len, uint64_t *dma)
{
  struct lwvsock_sim *sim = (struct lwvsock_sim *)(void *)be;
  uint32_t k;

  if (sim->cfg.dma_refuse) {
    return -EFAULT;
  }
  if (va == NULL || len == 0 || len > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE) {
    return -EINVAL;
  }
  if (sim->map_nfree == 0) {
    return -ENOSPC;
  }
  k = sim->map_free[--sim->map_nfree];
  sim->maps[k].va = (const uint8_t *)va;
  sim->maps[k].len = len;
  sim->stats.dma_maps_live++;
  *dma = (uint64_t)(SIM_MAX_REGIONS + 1u + k) << SIM_REGION_SHIFT;
  return 0;
}

void
sim_dma_unmap(struct lwvsock_backend *be, uint64_t dma, size_t len)
{
  struct lwvsock_sim *sim = (struct lwvsock_sim *)(void *)be;
  uint32_t k = sim_iommu_index(sim, dma);

  if (k == sim->nmaps || sim->maps[k].va == NULL || sim->maps[k].len != len ||
      (dma & ((1ull << SIM_REGION_SHIFT) - 1)) != 0) {
    lwvsock_backend_log(be, "dma_unmap of a range that is not mapped (0x%llx, %zu bytes)",
                        (unsigned long long)dma, len);
    return;
  }
  sim->maps[k].va = NULL;
  sim->maps[k].len = 0;
  sim->map_free[sim->map_nfree++] = k;
  sim->stats.dma_maps_live--;
}
