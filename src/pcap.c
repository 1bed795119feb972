/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The pcap writer (see lwvsock/pcap.h). Records follow Linux's vsockmon: the
 * af_vsockmon_hdr (include/uapi/linux/vsockmon.h) is built from the virtio
 * header, whose src/dst already tell the direction.
 */
#include "lwvsock/pcap.h"

#include "lwip/def.h"
#include "lwip/sys.h"
#include "virtio_defs.h"

#define PCAP_MAGIC                0xa1b2c3d4u
#define PCAP_VERSION_MAJOR        2u
#define PCAP_VERSION_MINOR        4u
/** Largest record: vsockmon header, virtio header, a maximal payload in two parts. */
#define PCAP_SNAPLEN              (32u + VIRTIO_VSOCK_HDR_LEN + 2u * VIRTIO_VSOCK_MAX_PKT_BUF_SIZE)
#define VSOCKMON_HDR_LEN          32u
#define VSOCKMON_OP_UNKNOWN       0u
#define VSOCKMON_OP_CONNECT       1u
#define VSOCKMON_OP_DISCONNECT    2u
#define VSOCKMON_OP_CONTROL       3u
#define VSOCKMON_OP_PAYLOAD       4u
#define VSOCKMON_TRANSPORT_VIRTIO 2u

static uint16_t
pcap_vsockmon_op(uint16_t op)
{
  switch (op) {
    case VIRTIO_VSOCK_OP_REQUEST:
    case VIRTIO_VSOCK_OP_RESPONSE:
      return VSOCKMON_OP_CONNECT;
    case VIRTIO_VSOCK_OP_RST:
    case VIRTIO_VSOCK_OP_SHUTDOWN:
      return VSOCKMON_OP_DISCONNECT;
    case VIRTIO_VSOCK_OP_RW:
      return VSOCKMON_OP_PAYLOAD;
    case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
    case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
      return VSOCKMON_OP_CONTROL;
    default:
      return VSOCKMON_OP_UNKNOWN;
  }
}

/** Write through the callback unless the capture has failed; a failure is sticky. */
static void
pcap_put(struct lwvsock_pcap *cap, const void *data, size_t len)
{
  if (!cap->failed && len > 0 && cap->write(cap->arg, data, len) != 0) {
    cap->failed = 1;
  }
}

err_t
lwvsock_pcap_start(struct lwvsock_pcap *cap, lwvsock_pcap_write_fn write,
                   lwvsock_pcap_clock_fn clock, void *arg)
{
  uint8_t gh[LWVSOCK_PCAP_FILE_HDR_LEN];

  if (cap == NULL || write == NULL) {
    return ERR_ARG;
  }
  cap->write = write;
  cap->clock = clock;
  cap->arg = arg;
  cap->failed = 0;
  le32_store(gh, PCAP_MAGIC);
  le16_store(gh + 4, PCAP_VERSION_MAJOR);
  le16_store(gh + 6, PCAP_VERSION_MINOR);
  le32_store(gh + 8, 0);   /* GMT */
  le32_store(gh + 12, 0);  /* accuracy */
  le32_store(gh + 16, PCAP_SNAPLEN);
  le32_store(gh + 20, LWVSOCK_PCAP_LINKTYPE_VSOCK);
  pcap_put(cap, gh, sizeof(gh));
  return cap->failed ? ERR_IF : ERR_OK;
}

void
lwvsock_pcap_tap(void *arg, enum lwvsock_dir dir, const uint8_t *hdr,
                 const void *payload, uint32_t len, const void *payload2, uint32_t len2)
{
  struct lwvsock_pcap *cap = (struct lwvsock_pcap *)arg;
  uint8_t rec[LWVSOCK_PCAP_REC_HDR_LEN];
  uint8_t *mon = rec + 16;
  uint32_t sec, usec, caplen, room;
  uint64_t origlen;

  LWIP_UNUSED_ARG(dir);
  if (cap == NULL || cap->failed || hdr == NULL) {
    return;
  }
  if ((payload == NULL && len > 0) || (payload2 == NULL && len2 > 0)) {
    return;
  }
  if (cap->clock != NULL) {
    cap->clock(cap->arg, &sec, &usec);
  } else {
    u32_t ms = sys_now();
    sec = ms / 1000u;
    usec = (ms % 1000u) * 1000u;
  }
  /* A record longer than the snaplen keeps its first snaplen bytes and its
   * true length, as pcap defines; the driver never passes one. */
  origlen = (uint64_t)VSOCKMON_HDR_LEN + VIRTIO_VSOCK_HDR_LEN + len + len2;
  caplen = origlen > PCAP_SNAPLEN ? PCAP_SNAPLEN : (uint32_t)origlen;
  room = caplen - VSOCKMON_HDR_LEN - VIRTIO_VSOCK_HDR_LEN;
  len = LWIP_MIN(len, room);
  len2 = LWIP_MIN(len2, room - len);
  le32_store(rec, sec);
  le32_store(rec + 4, usec);
  le32_store(rec + 8, caplen);
  le32_store(rec + 12, origlen > UINT32_MAX ? UINT32_MAX : (uint32_t)origlen);
  le64_store(mon, le64_load(hdr + VSOCK_HDR_OFF_SRC_CID));
  le64_store(mon + 8, le64_load(hdr + VSOCK_HDR_OFF_DST_CID));
  le32_store(mon + 16, le32_load(hdr + VSOCK_HDR_OFF_SRC_PORT));
  le32_store(mon + 20, le32_load(hdr + VSOCK_HDR_OFF_DST_PORT));
  le16_store(mon + 24, pcap_vsockmon_op(le16_load(hdr + VSOCK_HDR_OFF_OP)));
  le16_store(mon + 26, VSOCKMON_TRANSPORT_VIRTIO);
  le16_store(mon + 28, VIRTIO_VSOCK_HDR_LEN);
  mon[30] = 0;
  mon[31] = 0;
  pcap_put(cap, rec, sizeof(rec));
  pcap_put(cap, hdr, VIRTIO_VSOCK_HDR_LEN);
  pcap_put(cap, payload, len);
  pcap_put(cap, payload2, len2);
}

int
lwvsock_pcap_failed(const struct lwvsock_pcap *cap)
{
  return cap == NULL || cap->failed;
}
