/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * libFuzzer target: arbitrary packets from the host into the driver's rx ring.
 *
 * Each input runs a fresh simulated device with two live connections (one
 * opened by the guest, one by the host) and a guest listener, then replays
 * records: raw packets (44 header bytes and a payload, delivered through
 * lwvsock_sim_inject, optionally aimed at a live connection so the RW,
 * SHUTDOWN and CREDIT paths are reached), host socket operations, device
 * faults and application actions. At the end everything is closed and lwIP's
 * heap and pools must be back where they started.
 */
#include <string.h>

#include "fuzz_common.h"
#include "lwvsock_priv.h"
#include "lwvsock/sim.h"

#define GUEST_PORT 1234u
#define HOST_PORT  5000u

/* Packet fix-ups chosen by the record's flag byte. */
#define FIX_OUR_CID   0x01u /* dst_cid = our CID */
#define FIX_HOST_CID  0x02u /* src_cid = 2 */
#define FIX_CONN      0x04u /* ports of a live connection (or the listener) */
#define FIX_LEN       0x08u /* len = payload bytes */
#define FIX_TYPE      0x10u /* type = stream */

static struct lwvsock_sim *sim;
static struct lwvsock_dev *dev;
static int host_socks[4];

static void
poll_n(int n)
{
  while (n-- > 0) {
    lwvsock_dev_poll(dev, 0);
  }
}

static void
inject_record(struct fuzz_in *in)
{
  static uint8_t payload[8192];
  uint8_t hdr[VIRTIO_VSOCK_HDR_LEN];
  uint8_t fix = in_u8(in);
  uint32_t len = in_u16(in) % sizeof(payload);
  int hs = host_socks[(fix >> 5) & 3];

  in_bytes(in, hdr, sizeof(hdr));
  in_bytes(in, payload, len);
  if (fix & FIX_OUR_CID) {
    le64_store(hdr + VSOCK_HDR_OFF_DST_CID, lwvsock_dev_cid(dev));
  }
  if (fix & FIX_HOST_CID) {
    le64_store(hdr + VSOCK_HDR_OFF_SRC_CID, VMADDR_CID_HOST);
  }
  if (fix & FIX_CONN) {
    if (hs > 0 && lwvsock_sim_state(sim, hs) != LWVSOCK_SIM_FREE) {
      le32_store(hdr + VSOCK_HDR_OFF_SRC_PORT, lwvsock_sim_local_port(sim, hs));
      le32_store(hdr + VSOCK_HDR_OFF_DST_PORT, lwvsock_sim_remote_port(sim, hs));
    } else {
      le32_store(hdr + VSOCK_HDR_OFF_DST_PORT, GUEST_PORT);
    }
  }
  if (fix & FIX_LEN) {
    le32_store(hdr + VSOCK_HDR_OFF_LEN, len);
  }
  if (fix & FIX_TYPE) {
    le16_store(hdr + VSOCK_HDR_OFF_TYPE, VIRTIO_VSOCK_TYPE_STREAM);
  }
  (void)lwvsock_sim_inject(sim, hdr, payload, len);
}

static void
host_record(struct fuzz_in *in)
{
  static uint8_t buf[65536];
  uint8_t op = in_u8(in);
  int *hs = &host_socks[(op >> 4) & 3];

  if (*hs <= 0) {
    return;
  }
  switch (op & 0x0f) {
    case 0:
      (void)lwvsock_sim_send(sim, *hs, buf, in_u16(in));
      break;
    case 1:
      (void)lwvsock_sim_recv(sim, *hs, buf, in_u16(in));
      break;
    case 2:
      (void)lwvsock_sim_shutdown(sim, *hs, in_u8(in) & 3);
      break;
    case 3:
      (void)lwvsock_sim_close(sim, *hs);
      *hs = 0;
      break;
    case 4:
      (void)lwvsock_sim_reset(sim, *hs);
      *hs = 0;
      break;
    case 5:
      (void)lwvsock_sim_set_rcvbuf(sim, *hs, in_u32(in));
      break;
    default:
      break;
  }
}

static void
fault_record(struct fuzz_in *in)
{
  struct lwvsock_sim_faults flt;
  uint16_t bits = in_u16(in);

  memset(&flt, 0, sizeof(flt));
  flt.stall_tx = bits & 1;
  flt.stall_rx = (bits >> 1) & 1;
  flt.used_id_bogus = (bits >> 2) & 1;
  flt.used_id_dup = (bits >> 3) & 1;
  flt.used_len_overflow = (bits >> 4) & 1;
  flt.hdr_len_mismatch = (bits >> 5) & 1;
  flt.zero_len_rx = (bits >> 6) & 1;
  flt.ignore_credit = (bits >> 7) & 1;
  flt.huge_buf_alloc = (bits >> 8) & 1 ? in_u32(in) : 0;
  lwvsock_sim_set_faults(sim, &flt);
}

/* Host port 5000 accepts the guest's connection; the host connects to the guest's 1234. */
static void
connect_both(void)
{
  int l = lwvsock_sim_listen(sim, HOST_PORT, VIRTIO_VSOCK_TYPE_STREAM);
  struct lwvsock_pcb *pcb = lwvsock_new(dev, LWVSOCK_STREAM);
  int i;

  if (pcb != NULL) {
    fuzz_app_attach(pcb);
    (void)lwvsock_connect(pcb, LWVSOCK_CID_HOST, HOST_PORT, NULL);
  }
  host_socks[1] = lwvsock_sim_connect(sim, GUEST_PORT, VIRTIO_VSOCK_TYPE_STREAM);
  for (i = 0; i < 10 && host_socks[0] <= 0; i++) {
    poll_n(1);
    host_socks[0] = lwvsock_sim_accept(sim, l);
  }
  lwvsock_sim_close(sim, l);
  poll_n(3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct fuzz_in in = { data, size };
  struct lwvsock_pcb *lp;
  int records = 0;

  fuzz_begin();
  fuzz_app_reset();
  memset(host_socks, 0, sizeof(host_socks));
  if (lwvsock_sim_new(NULL, &sim) != 0) {
    return 0;
  }
  if (lwvsock_dev_open(lwvsock_sim_backend(sim), &dev) != ERR_OK) {
    __builtin_trap(); /* the sim with defaults always comes up */
  }
  lp = fuzz_app_listen(dev, GUEST_PORT);
  connect_both();
  while (in.n > 0 && records++ < 256) {
    switch (in_u8(&in) % 6) {
      case 0:
      case 1:
        inject_record(&in);
        break;
      case 2:
        host_record(&in);
        break;
      case 3:
        fault_record(&in);
        break;
      case 4:
        fuzz_app_action(dev, &in);
        break;
      default:
        (void)lwvsock_sim_transport_reset(sim, in_u8(&in) & 1 ? 3u + in_u8(&in) : 0u);
        break;
    }
    poll_n(1 + (in_u8(&in) & 3));
  }
  fuzz_app_close_all();
  if (lp != NULL) {
    lwvsock_close(lp);
  }
  poll_n(2);
  /* The device goes while the application may still hold received pbufs. */
  lwvsock_dev_close(dev);
  fuzz_app_release();
  fuzz_check_no_leak();
  return 0;
}
