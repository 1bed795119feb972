/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Receive buffers: posted to the rx queue as [header][payload] chains and lent
 * to the application in place as custom pbufs.
 *
 * There are more buffers than are posted (LWVSOCK_RX_BUFS chains, at most
 * ring/2, plus LWVSOCK_RX_LOAN_MAX), so a lent buffer is replaced at once and
 * the device always has LWVSOCK_RX_BUFS; once LWVSOCK_RX_LOAN_MAX buffers are
 * out, payloads are copied, so one slow application cannot starve the device
 * for every other connection.
 */
#include <stdlib.h>
#include <string.h>

#include "devbase.h"
#include "rxbuf.h"

#define RXBUF_STRIDE (VIRTIO_VSOCK_HDR_LEN + LWVSOCK_RX_BUF_SIZE)

static void
rxbuf_fini(struct lwvsock_dev *dev)
{
  free(dev->rx->bufs);
  dev->rx->bufs = NULL;
}

/* Closed and no loan left: nothing refers to device memory any more. */
static void
rxbuf_release_if_done(struct lwvsock_dev *dev)
{
  if (dev->rx->loans == 0) {
    rxbuf_fini(dev);
    devbase_release(dev);
  }
}

static void
rxbuf_free_custom(struct pbuf *p)
{
  /* pc is the first member of struct rxbuf */
  struct rxbuf *rb = (struct rxbuf *)(void *)p;
  struct lwvsock_dev *dev = rb->dev;

  LWIP_ASSERT("rx buffer not lent", rb->loaned);
  rb->loaned = 0;
  dev->rx->loans--;
  if (dev->rx->closing) {
    rxbuf_release_if_done(dev);
    return;
  }
  rxbuf_put(dev, rb);
}

int
rxbuf_init(struct lwvsock_dev *dev, uint16_t n)
{
  uint16_t i;

  dev->rx->n = n;
  dev->rx->bufs = (struct rxbuf *)calloc(dev->rx->n, sizeof(struct rxbuf));
  if (dev->rx->bufs == NULL) {
    return -1;
  }
  for (i = 0; i < dev->rx->n; i++) {
    dev->rx->bufs[i].dev = dev;
    if ((dev->rx->bufs[i].mem = devbase_carve(dev, RXBUF_STRIDE, 4)) == NULL) {
      rxbuf_fini(dev);
      return -1;
    }
  }
  dev->rx->free_head = LWVSOCK_NONE16;
  dev->rx->free_count = 0;
  for (i = dev->rx->n; i-- > 0;) {
    rxbuf_put(dev, &dev->rx->bufs[i]);
  }
  return 0;
}

void
rxbuf_close(struct lwvsock_dev *dev)
{
  dev->rx->closing = true;
  rxbuf_release_if_done(dev);
}

size_t
rxbuf_mem_size(uint16_t n)
{
  return (size_t)n * RXBUF_STRIDE;
}

void
rxbuf_put(struct lwvsock_dev *dev, struct rxbuf *rb)
{
  rb->next_free = dev->rx->free_head;
  dev->rx->free_head = (uint16_t)(rb - dev->rx->bufs);
  dev->rx->free_count++;
}

void
rxbuf_refill(struct lwvsock_dev *dev)
{
  bool added = false;

  while (dev->rx->free_count > 0 && dev->rxq.num_free >= 2 && dev->rxq.in_flight < LWVSOCK_RX_BUFS &&
         !virtq_is_broken(&dev->rxq)) {
    struct rxbuf *rb = &dev->rx->bufs[dev->rx->free_head];
    uint64_t dma = devbase_dma(dev, rb->mem); /* one carve: contiguous in one segment */
    /* Two descriptors, header then payload: the layout every device accepts. */
    struct virtq_buf in[2] = {
      { dma, VIRTIO_VSOCK_HDR_LEN },
      { dma + VIRTIO_VSOCK_HDR_LEN, LWVSOCK_RX_BUF_SIZE },
    };
    /* Scrub the old header: a device that replays a used entry for a buffer
       it did not fill then hands us garbage, not a stale packet. */
    memset(rb->mem, 0, VIRTIO_VSOCK_HDR_LEN);
    if (virtq_add(&dev->rxq, NULL, 0, in, 2, rb) != 0) {
      break;
    }
    dev->rx->free_head = rb->next_free;
    dev->rx->free_count--;
    added = true;
  }
  if (added && virtq_kick_prepare(&dev->rxq)) {
    dev->be->ops->notify(dev->be, VIRTIO_VSOCK_QUEUE_RX);
  }
}

struct pbuf *
rxbuf_take_pbuf(struct lwvsock_dev *dev, struct rxbuf *rb, uint32_t len)
{
  const uint8_t *payload = rb->mem + VIRTIO_VSOCK_HDR_LEN;
  struct pbuf *p;

  LWIP_ASSERT("rx payload fits its buffer", len > 0 && len <= LWVSOCK_RX_BUF_SIZE);
  if (len > LWVSOCK_RX_COPY_MAX && dev->rx->loans < LWVSOCK_RX_LOAN_MAX) {
    rb->pc.custom_free_function = rxbuf_free_custom;
    p = pbuf_alloced_custom(PBUF_RAW, (u16_t)len, PBUF_REF, &rb->pc,
                            rb->mem + VIRTIO_VSOCK_HDR_LEN, LWVSOCK_RX_BUF_SIZE);
    if (p != NULL) {
      rb->loaned = 1;
      rb->taken = 1;
      dev->rx->loans++;
      dev->st.rx_zerocopy++;
      return p;
    }
  }
  p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
  if (p == NULL) {
    dev->st.pool_exhausted++;
    return NULL;
  }
  memcpy(p->payload, payload, len);
  dev->st.rx_copied++;
  return p;
}
