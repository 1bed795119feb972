/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * virtio and virtio-vsock definitions, written from the virtio 1.2/1.3 spec
 * (split virtqueues, section 2.7; socket device, section 5.10).
 *
 * Everything that crosses into device memory is little-endian and is only ever
 * read or written through the accessors below, so the driver is correct on any
 * host byte order and never trusts a field it has not copied out first.
 */
#ifndef LWVSOCK_VIRTIO_DEFS_H
#define LWVSOCK_VIRTIO_DEFS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- generic virtio ---------------------------------------------------- */
#define VIRTIO_ID_VSOCK                 19u

#define VIRTIO_F_NOTIFY_ON_EMPTY        24
#define VIRTIO_F_ANY_LAYOUT             27
#define VIRTIO_RING_F_INDIRECT_DESC     28
#define VIRTIO_RING_F_EVENT_IDX         29
#define VIRTIO_F_VERSION_1              32
#define VIRTIO_F_ACCESS_PLATFORM        33
#define VIRTIO_F_IN_ORDER               35

#define VIRTIO_BIT(b)                   (1ull << (b))

/* split ring (virtio 1.x 2.7) */
#define VIRTQ_DESC_F_NEXT               1u
#define VIRTQ_DESC_F_WRITE              2u
#define VIRTQ_DESC_F_INDIRECT           4u
#define VIRTQ_AVAIL_F_NO_INTERRUPT      1u
#define VIRTQ_USED_F_NO_NOTIFY          1u

struct virtq_desc {
  uint64_t addr;   /* le64 */
  uint32_t len;    /* le32 */
  uint16_t flags;  /* le16 */
  uint16_t next;   /* le16 */
};

struct virtq_avail {
  uint16_t flags;  /* le16 */
  uint16_t idx;    /* le16 */
  uint16_t ring[]; /* le16 [num], then le16 used_event when EVENT_IDX */
};

struct virtq_used_elem {
  uint32_t id;     /* le32 */
  uint32_t len;    /* le32 */
};

struct virtq_used {
  uint16_t flags;  /* le16 */
  uint16_t idx;    /* le16 */
  struct virtq_used_elem ring[]; /* [num], then le16 avail_event when EVENT_IDX */
};

_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc is 16 bytes");
_Static_assert(sizeof(struct virtq_used_elem) == 8, "virtq_used_elem is 8 bytes");
_Static_assert(offsetof(struct virtq_avail, ring) == 4, "avail ring at offset 4");
_Static_assert(offsetof(struct virtq_used, ring) == 4, "used ring at offset 4");

/** Alignment the spec requires of each split-ring part. */
#define VIRTQ_DESC_ALIGN   16u
#define VIRTQ_AVAIL_ALIGN  2u
#define VIRTQ_USED_ALIGN   4u

/** vring_need_event() from the spec (2.7.10): should the other side be notified? */
static inline int
virtq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
  return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

/* ---- virtio-vsock (5.10) --------------------------------------------------- */
#define VIRTIO_VSOCK_F_STREAM             0
#define VIRTIO_VSOCK_F_SEQPACKET          1
#define VIRTIO_VSOCK_F_NO_IMPLIED_STREAM  2

#define VIRTIO_VSOCK_QUEUE_RX     0u
#define VIRTIO_VSOCK_QUEUE_TX     1u
#define VIRTIO_VSOCK_QUEUE_EVENT  2u

#define VIRTIO_VSOCK_TYPE_STREAM     1u
#define VIRTIO_VSOCK_TYPE_SEQPACKET  2u

#define VIRTIO_VSOCK_OP_INVALID         0u
#define VIRTIO_VSOCK_OP_REQUEST         1u
#define VIRTIO_VSOCK_OP_RESPONSE        2u
#define VIRTIO_VSOCK_OP_RST             3u
#define VIRTIO_VSOCK_OP_SHUTDOWN        4u
#define VIRTIO_VSOCK_OP_RW              5u
#define VIRTIO_VSOCK_OP_CREDIT_UPDATE   6u
#define VIRTIO_VSOCK_OP_CREDIT_REQUEST  7u
#define VIRTIO_VSOCK_OP_MAX             7u

/* SHUTDOWN flags: on the wire these are masks (the spec's listing gives bit numbers). */
#define VIRTIO_VSOCK_SHUTDOWN_RCV   1u
#define VIRTIO_VSOCK_SHUTDOWN_SEND  2u
#define VIRTIO_VSOCK_SHUTDOWN_ALL   3u

/* SEQPACKET flags on RW */
#define VIRTIO_VSOCK_SEQ_EOM  1u
#define VIRTIO_VSOCK_SEQ_EOR  2u

#define VIRTIO_VSOCK_EVENT_TRANSPORT_RESET  0u

/* Well-known CIDs and ports */
#define VMADDR_CID_HYPERVISOR  0u
#define VMADDR_CID_LOCAL       1u
#define VMADDR_CID_HOST        2u
#define VMADDR_CID_ANY         0xffffffffu
#define VMADDR_PORT_ANY        0xffffffffu

/** Largest RW payload any known device accepts (Linux vhost, Firecracker). */
#define VIRTIO_VSOCK_MAX_PKT_BUF_SIZE  (64u * 1024u)

/** Size of the packed header on the wire. */
#define VIRTIO_VSOCK_HDR_LEN  44u

/* Wire offsets of the header fields. */
#define VSOCK_HDR_OFF_SRC_CID    0
#define VSOCK_HDR_OFF_DST_CID    8
#define VSOCK_HDR_OFF_SRC_PORT   16
#define VSOCK_HDR_OFF_DST_PORT   20
#define VSOCK_HDR_OFF_LEN        24
#define VSOCK_HDR_OFF_TYPE       28
#define VSOCK_HDR_OFF_OP         30
#define VSOCK_HDR_OFF_FLAGS      32
#define VSOCK_HDR_OFF_BUF_ALLOC  36
#define VSOCK_HDR_OFF_FWD_CNT    40

/** The event-queue element (le32 id). */
#define VIRTIO_VSOCK_EVENT_LEN  4u

/** Config space: le64 guest_cid at offset 0 (upper 32 bits reserved, zero). */
#define VIRTIO_VSOCK_CFG_GUEST_CID  0u

/* ---- explicit little-endian accessors (unaligned-safe) --------------------- */
static inline uint16_t
le16_load(const void *p)
{
  const uint8_t *b = (const uint8_t *)p;
  return (uint16_t)(b[0] | (b[1] << 8));
}

static inline uint32_t
le32_load(const void *p)
{
  const uint8_t *b = (const uint8_t *)p;
  return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

static inline uint64_t
le64_load(const void *p)
{
  const uint8_t *b = (const uint8_t *)p;
  return (uint64_t)le32_load(b) | ((uint64_t)le32_load(b + 4) << 32);
}

static inline void
le16_store(void *p, uint16_t v)
{
  uint8_t *b = (uint8_t *)p;
  b[0] = (uint8_t)v;
  b[1] = (uint8_t)(v >> 8);
}

static inline void
le32_store(void *p, uint32_t v)
{
  uint8_t *b = (uint8_t *)p;
  b[0] = (uint8_t)v;
  b[1] = (uint8_t)(v >> 8);
  b[2] = (uint8_t)(v >> 16);
  b[3] = (uint8_t)(v >> 24);
}

static inline void
le64_store(void *p, uint64_t v)
{
  uint8_t *b = (uint8_t *)p;
  le32_store(b, (uint32_t)v);
  le32_store(b + 4, (uint32_t)(v >> 32));
}

#endif /* LWVSOCK_VIRTIO_DEFS_H */
