/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Host-order view of the 44-byte virtio-vsock packet header and its codec.
 *
 * Invariant: the driver never interprets device memory in place; a received
 * header is decoded once into struct vsock_hdr, and all checks run on that copy.
 */
#ifndef LWVSOCK_VSOCK_HDR_H
#define LWVSOCK_VSOCK_HDR_H

#include "virtio_defs.h"

struct vsock_hdr {
  uint64_t src_cid;
  uint64_t dst_cid;
  uint32_t src_port;
  uint32_t dst_port;
  uint32_t len;
  uint16_t type;
  uint16_t op;
  uint32_t flags;
  uint32_t buf_alloc;
  uint32_t fwd_cnt;
};

/** Encode @p h into @p buf. Returns VIRTIO_VSOCK_HDR_LEN, or 0 when buflen is too short. */
size_t vsock_hdr_encode(const struct vsock_hdr *h, void *buf, size_t buflen);

/** Decode @p buf into @p h. Returns VIRTIO_VSOCK_HDR_LEN, or 0 when buflen is too short. */
size_t vsock_hdr_decode(struct vsock_hdr *h, const void *buf, size_t buflen);

/** Name of an op for logs and errors ("RW", "RST", ...; "?" when unknown). */
const char *vsock_op_name(uint16_t op);

#endif /* LWVSOCK_VSOCK_HDR_H */
