/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Split virtqueue, driver side, with Linux's token API.
 *
 * A chain of device-readable then device-writable buffers is added together
 * with an opaque token; virtq_get_used() hands the token back with the length
 * the device wrote. Every used-ring entry is validated before it is believed
 * (index in range, head actually in flight, written length within the
 * writable part, used index not running ahead of what was made available);
 * the length of a chain with no writable part is ignored (reported as 0), as
 * Linux's driver does: old vhost reported the tx packet's length there;
 * a violation marks the queue broken for good and says why.
 *
 * Ring memory is device-visible and untrusted; the per-descriptor bookkeeping
 * (tokens, chain lengths, free list) lives in driver-private memory.
 */
#ifndef LWVSOCK_VIRTQ_H
#define LWVSOCK_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio_defs.h"
#include "lwvsock/port/backend.h"

/** One buffer of a chain, by device address. */
struct virtq_buf {
  uint64_t addr;
  uint32_t len;
};

struct virtq_state;

struct virtq {
  uint16_t index;            /**< queue number */
  uint16_t num;              /**< ring size (power of two) */
  bool event_idx;            /**< VIRTIO_RING_F_EVENT_IDX negotiated */
  bool broken;               /**< device violated the protocol: queue unusable */
  const char *broken_reason; /**< static string saying what the device did */

  struct virtq_desc *desc;   /**< device-visible rings */
  struct virtq_avail *avail;
  struct virtq_used *used;
  struct lwvsock_vring_info info; /**< what setup_queue needs */

  uint16_t num_free;         /**< free descriptors */
  uint16_t free_head;        /**< first free descriptor */
  uint16_t avail_idx;        /**< shadow of avail->idx (next slot to publish) */
  uint16_t last_used_idx;    /**< next used entry to consume */
  uint16_t kicked_avail_idx; /**< avail_idx at the last kick decision */
  uint16_t in_flight;        /**< chains made available and not yet used */

  struct virtq_state *state; /**< private per-descriptor state [num] */
};

/** Bytes of device memory the three rings of a queue of @p num need (16-byte aligned). */
size_t virtq_ring_size(uint16_t num);

/**
 * Lay out a queue of @p num entries (a power of two, <= 32768) in @p ring_mem
 * (virtq_ring_size(num) bytes, 16-byte aligned, zeroed) whose device address is
 * @p ring_dma. Allocates private bookkeeping (not on the data path).
 * Sets VIRTQ_AVAIL_F_NO_INTERRUPT: the driver polls.
 * Returns 0, -EINVAL or -ENOMEM.
 */
int virtq_init(struct virtq *vq, uint16_t index, uint16_t num, void *ring_mem,
               uint64_t ring_dma, bool event_idx);

/** Free private bookkeeping. Tokens still in flight are not touched (see virtq_detach_unused). */
void virtq_fini(struct virtq *vq);

/**
 * Add a chain: @p nout device-readable buffers then @p nin device-writable ones,
 * with @p token (non-NULL) returned by virtq_get_used(). Publishes it in the
 * avail ring at once; the caller kicks (virtq_kick_prepare + backend notify).
 * Returns 0, -ENOSPC (not enough free descriptors), -EIO (queue broken) or
 * -EINVAL (no buffers, NULL token, zero-length buffer).
 */
int virtq_add(struct virtq *vq, const struct virtq_buf *out, unsigned nout,
              const struct virtq_buf *in, unsigned nin, void *token);

/** Single-access le16 load of a ring field the device may be writing right now. */
static inline uint16_t
virtq_shared_load16(const uint16_t *p)
{
  uint16_t raw = *(const volatile uint16_t *)p;
  return le16_load(&raw);
}

/** Whether the device has used entries not yet taken (no validation). */
static inline bool
virtq_has_used(const struct virtq *vq)
{
  /* A broken queue hands out nothing: say so, or a drain loop would spin. */
  return vq != NULL && !vq->broken && virtq_shared_load16(&vq->used->idx) != vq->last_used_idx;
}

/** virtq_get_used() once virtq_has_used() said an entry is there. */
void *virtq_take_used(struct virtq *vq, uint32_t *len);

/**
 * Take the next used chain: returns its token and stores the length the device
 * says it wrote in @p len. NULL when there is none, or when the entry is bogus
 * (then the queue is marked broken; see virtq_is_broken()). Inline: polling
 * mostly finds nothing, and that answer costs a load and a compare.
 */
static inline void *
virtq_get_used(struct virtq *vq, uint32_t *len)
{
  return virtq_has_used(vq) ? virtq_take_used(vq, len) : NULL;
}

/**
 * Ask the device to notify (interrupt) when it uses a buffer, before the
 * driver sleeps. Returns true when nothing is pending, false when a used entry
 * is already there (do not sleep). As Linux's virtqueue_enable_cb.
 */
bool virtq_enable_cb(struct virtq *vq);

/** Back to polling: ask the device not to notify. */
void virtq_disable_cb(struct virtq *vq);

/** Whether the device wants a notification for what was added since the last call. */
bool virtq_kick_prepare(struct virtq *vq);

/**
 * For teardown after the device is reset: return one token still in flight
 * (and free its descriptors), or NULL when none is left.
 */
void *virtq_detach_unused(struct virtq *vq);

static inline bool
virtq_is_broken(const struct virtq *vq)
{
  return vq->broken;
}

#endif /* LWVSOCK_VIRTQ_H */
