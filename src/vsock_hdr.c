/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * virtio-vsock header codec (see vsock_hdr.h).
 */
#include "vsock_hdr.h"
#include "lwvsock/lwvsock.h"

_Static_assert(LWVSOCK_PKT_HDR_LEN == VIRTIO_VSOCK_HDR_LEN, "the public header length is the wire's");

size_t
vsock_hdr_encode(const struct vsock_hdr *h, void *buf, size_t buflen)
{
  uint8_t *b = (uint8_t *)buf;
  if (buflen < VIRTIO_VSOCK_HDR_LEN) {
    return 0;
  }
  le64_store(b + VSOCK_HDR_OFF_SRC_CID, h->src_cid);
  le64_store(b + VSOCK_HDR_OFF_DST_CID, h->dst_cid);
  le32_store(b + VSOCK_HDR_OFF_SRC_PORT, h->src_port);
  le32_store(b + VSOCK_HDR_OFF_DST_PORT, h->dst_port);
  le32_store(b + VSOCK_HDR_OFF_LEN, h->len);
  le16_store(b + VSOCK_HDR_OFF_TYPE, h->type);
  le16_store(b + VSOCK_HDR_OFF_OP, h->op);
  le32_store(b + VSOCK_HDR_OFF_FLAGS, h->flags);
  le32_store(b + VSOCK_HDR_OFF_BUF_ALLOC, h->buf_alloc);
  le32_store(b + VSOCK_HDR_OFF_FWD_CNT, h->fwd_cnt);
  return VIRTIO_VSOCK_HDR_LEN;
}

size_t
vsock_hdr_decode(struct vsock_hdr *h, const void *buf, size_t buflen)
{
  const uint8_t *b = (const uint8_t *)buf;
  if (buflen < VIRTIO_VSOCK_HDR_LEN) {
    return 0;
  }
  h->src_cid = le64_load(b + VSOCK_HDR_OFF_SRC_CID);
  h->dst_cid = le64_load(b + VSOCK_HDR_OFF_DST_CID);
  h->src_port = le32_load(b + VSOCK_HDR_OFF_SRC_PORT);
  h->dst_port = le32_load(b + VSOCK_HDR_OFF_DST_PORT);
  h->len = le32_load(b + VSOCK_HDR_OFF_LEN);
  h->type = le16_load(b + VSOCK_HDR_OFF_TYPE);
  h->op = le16_load(b + VSOCK_HDR_OFF_OP);
  h->flags = le32_load(b + VSOCK_HDR_OFF_FLAGS);
  h->buf_alloc = le32_load(b + VSOCK_HDR_OFF_BUF_ALLOC);
  h->fwd_cnt = le32_load(b + VSOCK_HDR_OFF_FWD_CNT);
  return VIRTIO_VSOCK_HDR_LEN;
}

const char *
vsock_op_name(uint16_t op)
{
  static const char *const names[] = {
    [VIRTIO_VSOCK_OP_INVALID] = "INVALID",
    [VIRTIO_VSOCK_OP_REQUEST] = "REQUEST",
    [VIRTIO_VSOCK_OP_RESPONSE] = "RESPONSE",
    [VIRTIO_VSOCK_OP_RST] = "RST",
    [VIRTIO_VSOCK_OP_SHUTDOWN] = "SHUTDOWN",
    [VIRTIO_VSOCK_OP_RW] = "RW",
    [VIRTIO_VSOCK_OP_CREDIT_UPDATE] = "CREDIT_UPDATE",
    [VIRTIO_VSOCK_OP_CREDIT_REQUEST] = "CREDIT_REQUEST",
  };
  return op <= VIRTIO_VSOCK_OP_MAX ? names[op] : "?";
}

err_t
lwvsock_pkt_hdr_decode(const uint8_t *raw, uint32_t rawlen, struct lwvsock_pkt_hdr *hdr)
{
  struct vsock_hdr h;

  if (raw == NULL || hdr == NULL || vsock_hdr_decode(&h, raw, rawlen) == 0) {
    return ERR_ARG;
  }
  hdr->src_cid = h.src_cid;
  hdr->dst_cid = h.dst_cid;
  hdr->src_port = h.src_port;
  hdr->dst_port = h.dst_port;
  hdr->len = h.len;
  hdr->type = h.type;
  hdr->op = h.op;
  hdr->flags = h.flags;
  hdr->buf_alloc = h.buf_alloc;
  hdr->fwd_cnt = h.fwd_cnt;
  return ERR_OK;
}

const char *
lwvsock_pkt_op_name(uint16_t op)
{
  return vsock_op_name(op);
}
