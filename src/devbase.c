/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Base services every layer of the core stands on: device memory (carved
 * from backend segments, translated to device addresses), the failure state,
 * the timer deadline and the local loopback queue. Calls nothing above it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devbase.h"

static size_t
align_up(size_t v, size_t a)
{
  return (v + a - 1) & ~(a - 1);
}

void
devbase_fail(struct lwvsock_dev *dev, const char *fmt, ...)
{
  va_list ap;

  dev->st.dev_errors++;
  if (dev->base.error[0] != '\0') {
    return;
  }
  va_start(ap, fmt);
  vsnprintf(dev->base.error, sizeof(dev->base.error), fmt, ap);
  va_end(ap);
  LWIP_DEBUGF(LWVSOCK_DEBUG | LWIP_DBG_LEVEL_SERIOUS, ("lwvsock(%s): %s\n", dev->be->ops->name, dev->base.error));
}

void
devbase_plan(struct lwvsock_dev *dev, size_t size)
{
  dev->base.mem_left += size;
}

uint8_t *
devbase_carve(struct lwvsock_dev *dev, size_t size, size_t align)
{
  const struct lwvsock_backend *be = dev->be;
  struct devbase *b = &dev->base;
  struct lwvsock_mem *m = b->nmem ? &b->mem[b->nmem - 1] : NULL;
  size_t off = m ? align_up(b->mem_used, align) : 0;
  size_t seg;

  if (be->seg_max != 0 && size > be->seg_max) {
    devbase_fail(dev, "the backend's DMA segments (%lu bytes) are smaller than one buffer (%lu bytes)",
                 (unsigned long)be->seg_max, (unsigned long)size);
    return NULL;
  }
  if (m == NULL || off + size > m->size) {
    if (b->nmem == LWVSOCK_MEM_SEGS_MAX) {
      devbase_fail(dev, "device memory needs more than LWVSOCK_MEM_SEGS_MAX (%u) segments of %lu bytes",
                   (unsigned)LWVSOCK_MEM_SEGS_MAX, (unsigned long)be->seg_max);
      return NULL;
    }
    /* The next piece holds what the layout still needs, at most seg_max. */
    seg = align_up(LWIP_MAX(b->mem_left, size), 4096);
    if (be->seg_max != 0 && seg > be->seg_max) {
      seg = be->seg_max;
    }
    m = &b->mem[b->nmem];
    if (be->ops->mem_alloc(dev->be, seg, m) != 0 || m->va == NULL) {
      memset(m, 0, sizeof(*m));
      devbase_fail(dev, "the backend cannot provide %lu bytes of device memory", (unsigned long)seg);
      return NULL;
    }
    m->size = seg;
    b->nmem++;
    off = 0;
  }
  b->mem_used = off + size;
  b->mem_left = b->mem_left > size ? b->mem_left - size : 0;
  return (uint8_t *)m->va + off;
}

uint64_t
devbase_dma(const struct lwvsock_dev *dev, const void *va)
{
  const struct devbase *b = &dev->base;
  const uint8_t *p = (const uint8_t *)va;
  uint8_t i;

  for (i = 0; i + 1 < b->nmem; i++) {
    const uint8_t *base = (const uint8_t *)b->mem[i].va;
    if (p >= base && p < base + b->mem[i].size) {
      break;
    }
  }
  return b->mem[i].dma + (uint64_t)(p - (const uint8_t *)b->mem[i].va);
}

void
devbase_loop_enqueue(struct lwvsock_dev *dev, struct pbuf *p)
{
  struct devbase *b = &dev->base;

  /* Queue link through p->next; each queued pbuf is a single RAM pbuf. */
  p->next = NULL;
  if (b->loop_tail != NULL) {
    b->loop_tail->next = p;
  } else {
    b->loop_head = p;
  }
  b->loop_tail = p;
}

struct pbuf *
devbase_loop_dequeue(struct lwvsock_dev *dev)
{
  struct devbase *b = &dev->base;
  struct pbuf *p = b->loop_head;

  if (p != NULL) {
    b->loop_head = p->next;
    if (b->loop_head == NULL) {
      b->loop_tail = NULL;
    }
    p->next = NULL;
  }
  return p;
}

void
devbase_loop_requeue(struct lwvsock_dev *dev, struct pbuf *p)
{
  struct devbase *b = &dev->base;

  p->next = b->loop_head;
  b->loop_head = p;
  if (b->loop_tail == NULL) {
    b->loop_tail = p;
  }
  b->loop_retry = true;
}

bool
devbase_loop_take_retry(struct lwvsock_dev *dev)
{
  bool retry = dev->base.loop_retry;

  dev->base.loop_retry = false;
  return retry;
}

void
devbase_timer_at(struct lwvsock_dev *dev, uint32_t when)
{
  if (time_diff(when, dev->base.next_timer) < 0) {
    dev->base.next_timer = when;
  }
}

void
devbase_timer_reset(struct lwvsock_dev *dev, uint32_t when)
{
  dev->base.next_timer = when;
}

void
devbase_release(struct lwvsock_dev *dev)
{
  struct devbase *b = &dev->base;
  struct pbuf *p;

  while ((p = devbase_loop_dequeue(dev)) != NULL) {
    pbuf_free(p);
  }
  while (b->nmem > 0 && dev->be->ops->mem_free != NULL) {
    dev->be->ops->mem_free(dev->be, &b->mem[--b->nmem]);
  }
  if (dev->be->ops->destroy != NULL) {
    dev->be->ops->destroy(dev->be);
  }
  free(dev);
}
