/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Zero-copy transmit (LWVSOCK_WRITE_FLAG_NOCOPY) against the simulated host:
 * byte order mixed with copied writes (STREAM and SEQPACKET), sent-callback
 * accounting, pbuf references held until the device returns the buffers,
 * chains longer than a packet's descriptor budget, the copy fallback, abort
 * and close with references in flight, and the sim's IOMMU refusing what the
 * driver did not map.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwvsock_check.h"
#include "proto_fixture.h"
#include "lwvsock_priv.h"
#include "sim_priv.h"
#include "lwip/memp.h"
#include "lwip/pbuf.h"

static struct fx f;

static void
zc_setup(void)
{
  fx_setup(&f);
}

static void
zc_teardown(void)
{
  fx_teardown(&f);
}

static struct lwvsock_dev_stats
dev_stats(void)
{
  struct lwvsock_dev_stats st;

  lwvsock_dev_get_stats(f.dev, &st);
  return st;
}

static uint64_t
maps_live(void)
{
  struct lwvsock_sim_stats st;

  lwvsock_sim_get_stats(f.sim, &st);
  return st.dma_maps_live;
}

/* A chain of @p n PBUF_REF pieces of @p piece bytes over @p data. */
static struct pbuf *
ref_chain(const uint8_t *data, unsigned n, u16_t piece)
{
  struct pbuf *head = NULL;
  unsigned i;

  for (i = 0; i < n; i++) {
    struct pbuf *q = pbuf_alloc(PBUF_RAW, piece, PBUF_REF);
    ck_assert_ptr_nonnull(q);
    q->payload = (void *)(uintptr_t)(data + (size_t)i * piece);
    if (head == NULL) {
      head = q;
    } else {
      pbuf_cat(head, q);
    }
  }
  return head;
}

/* Copied and zero-copy writes (raw memory and chains) interleave byte-exact. */
START_TEST(test_zc_stream_mixed)
{
  struct app a = {0};
  static uint8_t data[256 * 1024], got[256 * 1024];
  struct lwvsock_dev_stats st;
  struct pbuf *chain;
  size_t off = 0, zc = 0;
  int h = fx_guest_connect(&f, &a, LWVSOCK_STREAM, 7000);

  pattern_fill(data, 0, sizeof(data));
  lwvsock_set_sndbuf(a.pcb, sizeof(data));
  ck_assert_int_eq(lwvsock_sim_set_rcvbuf(f.sim, h, sizeof(data)), 0);
  fx_run(&f, 5);
  /* copy 1000 | raw 65536 | copy 3 | chain 3 x 3000 (RAM, REF, RAM) | raw 100000 | copy rest */
  ck_assert_int_eq(lwvsock_write(a.pcb, data, 1000, 0), ERR_OK);
  off += 1000;
  ck_assert_int_eq(lwvsock_write(a.pcb, data + off, 65536, LWVSOCK_WRITE_FLAG_NOCOPY), ERR_OK);
  off += 65536;
  zc += 65536;
  ck_assert_int_eq(lwvsock_write(a.pcb, data + off, 3, LWVSOCK_WRITE_FLAG_MORE), ERR_OK);
  off += 3;
  chain = pbuf_alloc(PBUF_RAW, 3000, PBUF_RAM);
  ck_assert_ptr_nonnull(chain);
  memcpy(chain->payload, data + off, 3000);
  pbuf_cat(chain, ref_chain(data + off + 3000, 1, 3000));
  {
    struct pbuf *q = pbuf_alloc(PBUF_RAW, 3000, PBUF_RAM);
    ck_assert_ptr_nonnull(q);
    memcpy(q->payload, data + off + 6000, 3000);
    pbuf_cat(chain, q);
  }
  ck_assert_int_eq(lwvsock_write_pbuf(a.pcb, chain, LWVSOCK_WRITE_FLAG_NOCOPY), ERR_OK);
  /* the library holds its own reference; the caller's is still there */
  ck_assert_uint_eq(chain->ref, 2);
  off += 9000;
  zc += 9000;
  ck_assert_int_eq(lwvsock_write(a.pcb, data + off, 100000, LWVSOCK_WRITE_FLAG_NOCOPY), ERR_OK);
  off += 100000;
  zc += 100000;
  ck_assert_int_eq(lwvsock_write(a.pcb, data + off, (uint32_t)(sizeof(data) - off), 0), ERR_OK);
  ck_assert_int_eq(lwvsock_output(a.pcb), ERR_OK);
  ck_assert_uint_eq(fx_host_read(&f, h, got, sizeof(got)), sizeof(got));
  ck_assert_mem_eq(got, data, sizeof(data));
  fx_run(&f, 5);
  /* every byte reported sent exactly once, references and mappings gone */
  ck_assert_uint_eq(a.sent, sizeof(data));
  ck_assert_uint_eq(chain->ref, 1);
  ck_assert_uint_eq(maps_live(), 0);
  st = dev_stats();
  ck_assert_uint_eq(st.zc_bytes, zc);
  ck_assert_uint_eq(st.zc_fallback, 0);
  pbuf_free(chain);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

/* SEQPACKET: zero-copy messages keep their boundaries among copied ones. */
START_TEST(test_zc_seqpacket_mixed)
{
  struct app a = {0};
  static uint8_t data[65535], got[65535];
  static const uint32_t sizes[] = { 1, 5000, 65535, 100, 40000 };
  struct pbuf *chain;
  size_t i;
  long r;
  int h, j;

  ck_assert(lwvsock_dev_has_seqpacket(f.dev));
  h = fx_guest_connect(&f, &a, LWVSOCK_SEQPACKET, 7001);
  pattern_fill(data, 0, sizeof(data));
  for (i = 0; i < LWIP_ARRAYSIZE(sizes); i++) {
    ck_assert_int_eq(lwvsock_write(a.pcb, data, sizes[i], (i & 1) ? LWVSOCK_WRITE_FLAG_NOCOPY : 0), ERR_OK);
    ck_assert_int_eq(lwvsock_output(a.pcb), ERR_OK);
    for (r = -EAGAIN, j = 0; j < 200 && r == -EAGAIN; j++) {
      r = lwvsock_sim_recv(f.sim, h, got, sizeof(got));
      fx_run(&f, 1);
    }
    ck_assert_int_eq(r, (long)sizes[i]);
    ck_assert_mem_eq(got, data, sizes[i]);
  }
  /* a message from a 40-piece chain: more pieces than one packet takes */
  chain = ref_chain(data, 40, 1000);
  ck_assert_int_eq(lwvsock_write_pbuf(a.pcb, chain, LWVSOCK_WRITE_FLAG_NOCOPY), ERR_OK);
  ck_assert_int_eq(lwvsock_write(a.pcb, data, 7, 0), ERR_OK);
  ck_assert_int_eq(lwvsock_output(a.pcb), ERR_OK);
  for (r = -EAGAIN, j = 0; j < 200 && r == -EAGAIN; j++) {
    r = lwvsock_sim_recv(f.sim, h, got, sizeof(got));
    fx_run(&f, 1);
  }
  ck_assert_int_eq(r, 40000);
  ck_assert_mem_eq(got, data, 40000);
  for (r = -EAGAIN, j = 0; j < 200 && r == -EAGAIN; j++) {
    r = lwvsock_sim_recv(f.sim, h, got, sizeof(got));
    fx_run(&f, 1);
  }
  ck_assert_int_eq(r, 7);
  fx_run(&f, 5);
  ck_assert_uint_eq(chain->ref, 1);
  ck_assert_uint_eq(dev_stats().zc_bytes, 5000 + 100 + 40000);
  pbuf_free(chain);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

static unsigned tap_rw, tap_max_parts_len;
static uint64_t tap_bytes;

static void
tap_count(void *arg, enum lwvsock_dir dir, const uint8_t *hdr, const void *payload, uint32_t len,
          const void *payload2, uint32_t len2)
{
  struct lwvsock_pkt_hdr h;

  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(payload);
  LWIP_UNUSED_ARG(payload2);
  ck_assert_int_eq(lwvsock_pkt_hdr_decode(hdr, LWVSOCK_PKT_HDR_LEN, &h), ERR_OK);
  if (dir == LWVSOCK_DIR_TX && h.op == VIRTIO_VSOCK_OP_RW) {
    tap_rw++;
    tap_bytes += len + len2;
    ck_assert_uint_eq(len + len2, h.len); /* never a truncated payload */
    if (len + len2 > tap_max_parts_len) {
      tap_max_parts_len = len + len2;
    }
  }
}

/* A chain of 100 small pieces goes out as packets of at most LWVSOCK_TX_ZC_SEGS pieces. */
START_TEST(test_zc_many_pieces)
{
  struct app a = {0};
  static uint8_t data[1000], got[1000];
  struct lwvsock_sim_stats s0, s1;
  struct pbuf *chain = ref_chain(data, 100, 10);
  int h = fx_guest_connect(&f, &a, LWVSOCK_STREAM, 7002);

  pattern_fill(data, 0, sizeof(data));
  lwvsock_nagle_disable(a.pcb);
  lwvsock_sim_get_stats(f.sim, &s0);
  ck_assert_int_eq(lwvsock_write_pbuf(a.pcb, chain, LWVSOCK_WRITE_FLAG_NOCOPY), ERR_OK);
  ck_assert_int_eq(lwvsock_output(a.pcb), ERR_OK);
  ck_assert_uint_eq(fx_host_read(&f, h, got, sizeof(got)), sizeof(got));
  ck_assert_mem_eq(got, data, sizeof(data));
  lwvsock_sim_get_stats(f.sim, &s1);
  ck_assert_uint_eq(s1.rx_pkts - s0.rx_pkts, (100 + LWVSOCK_TX_ZC_SEGS - 1) / LWVSOCK_TX_ZC_SEGS);
  fx_run(&f, 5);
  ck_assert_uint_eq(a.sent, sizeof(data));
  ck_assert_uint_eq(chain->ref, 1);

  /* With a tap, a packet has at most two pieces: the tap sees every byte. */
  tap_rw = 0;
  tap_bytes = 0;
  lwvsock_dev_set_tap(f.dev, tap_count, NULL);
  lwvsock_sim_get_stats(f.sim, &s0);
  ck_assert_int_eq(lwvsock_write_pbuf(a.pcb, chain, LWVSOCK_WRITE_FLAG_NOCOPY), ERR_OK);
  ck_assert_int_eq(lwvsock_output(a.pcb), ERR_OK);
  ck_assert_uint_eq(fx_host_read(&f, h, got, sizeof(got)), sizeof(got));
  ck_assert_mem_eq(got, data, sizeof(data));
  lwvsock_sim_get_stats(f.sim, &s1);
  ck_assert_uint_eq(s1.rx_pkts - s0.rx_pkts, 50);
  ck_assert_uint_eq(tap_rw, 50);
  ck_assert_uint_eq(tap_bytes, sizeof(data));
  lwvsock_dev_set_tap(f.dev, NULL, NULL);
  fx_run(&f, 5);
  ck_assert_uint_eq(chain->ref, 1);
  pbuf_free(chain);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

/* A backend that cannot map: NOCOPY writes are copied, byte-exact, and counted. */
START_TEST(test_zc_fallback_when_refused)
{
  struct lwvsock_sim_config cfg;
  struct app a = {0};
  static uint8_t data[70000], got[70000];
  struct pbuf *chain;
  struct lwvsock_dev_stats st;
  int h;

  fx_close(&f);
  lwvsock_sim_config_init(&cfg);
  cfg.dma_refuse = 1;
  fx_open(&f, &cfg);
  h = fx_guest_connect(&f, &a, LWVSOCK_STREAM, 7003);
  pattern_fill(data, 0, sizeof(data));
  chain = ref_chain(data + 60000, 2, 5000);
  ck_assert_int_eq(lwvsock_write(a.pcb, data, 60000, LWVSOCK_WRITE_FLAG_NOCOPY), ERR_OK);
  ck_assert_int_eq(lwvsock_write_pbuf(a.pcb, chain, LWVSOCK_WRITE_FLAG_NOCOPY), ERR_OK);
  ck_assert_uint_eq(chain->ref, 1); /* copied: nothing referenced */
  ck_assert_int_eq(lwvsock_output(a.pcb), ERR_OK);
  ck_assert_uint_eq(fx_host_read(&f, h, got, sizeof(got)), sizeof(got));
  ck_assert_mem_eq(got, data, sizeof(got));
  st = dev_stats();
  ck_assert_uint_eq(st.zc_bytes, 0);
  ck_assert_uint_eq(st.zc_fallback, 2);
  pbuf_free(chain);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

/* Abort with references queued and in flight: each freed exactly once, no pool leak. */
START_TEST(test_zc_abort_and_close_in_flight)
{
  struct app a = {0};
  static uint8_t data[200 * 1024];
  struct pbuf *chain;
  u16_t pbufs0 = memp_pools[MEMP_PBUF]->stats->used;
  int h = fx_guest_connect(&f, &a, LWVSOCK_STREAM, 7004);

  pattern_fill(data, 0, sizeof(data));
  lwvsock_set_sndbuf(a.pcb, sizeof(data) + 4000);
  /* the host reads nothing: after its 256 KiB credit... here 64 KiB stays queued */
  ck_assert_int_eq(lwvsock_sim_set_rcvbuf(f.sim, h, 64 * 1024), 0);
  fx_run(&f, 5);
  chain = ref_chain(data, 4, 1000);
  ck_assert_int_eq(lwvsock_write_pbuf(a.pcb, chain, LWVSOCK_WRITE_FLAG_NOCOPY), ERR_OK);
  ck_assert_int_eq(lwvsock_write(a.pcb, data, sizeof(data), LWVSOCK_WRITE_FLAG_NOCOPY), ERR_OK);
  /* handed to the device, not yet returned: the device holds the references */
  ck_assert_int_eq(lwvsock_output(a.pcb), ERR_OK);
  ck_assert_uint_gt(maps_live(), 0);
  ck_assert_uint_eq(chain->ref, 2);
  lwvsock_abort(a.pcb);
  ck_assert_uint_eq(chain->ref, 2); /* still the device's */
  fx_run(&f, 10);
  ck_assert_uint_eq(chain->ref, 1);
  ck_assert_uint_eq(maps_live(), 0);
  ck_assert_uint_ge(dev_stats().tx_dropped_bytes, 1);
  lwvsock_sim_close(f.sim, h);
  fx_run(&f, 5);

  /* dev_close with references in flight: freed at close */
  h = fx_guest_connect(&f, &a, LWVSOCK_STREAM, 7005);
  ck_assert_int_eq(lwvsock_write_pbuf(a.pcb, chain, LWVSOCK_WRITE_FLAG_NOCOPY), ERR_OK);
  ck_assert_int_eq(lwvsock_write(a.pcb, data, 10000, LWVSOCK_WRITE_FLAG_NOCOPY), ERR_OK);
  ck_assert_int_eq(lwvsock_output(a.pcb), ERR_OK);
  ck_assert_uint_eq(chain->ref, 2);
  fx_close(&f);
  ck_assert_uint_eq(chain->ref, 1);
  pbuf_free(chain);
  ck_assert_uint_eq(memp_pools[MEMP_PBUF]->stats->used, pbufs0);
  fx_open(&f, NULL); /* for the teardown */
}
END_TEST

/* Loopback copies referenced bytes into the receiver's pbufs. */
START_TEST(test_zc_loopback)
{
  struct app l, acc[1], c;
  struct lwvsock_pcb *lp, *cp;
  static uint8_t data[100 * 1024], got[100 * 1024];
  struct pbuf *chain = ref_chain(data + 90 * 1024, 10, 1024);

  fx_loopback_pair(&f, LWVSOCK_CID_LOCAL, &l, acc, &c, got, sizeof(got), &lp, &cp);
  pattern_fill(data, 0, sizeof(data));
  ck_assert_int_eq(lwvsock_write(acc[0].pcb, data, 90 * 1024, LWVSOCK_WRITE_FLAG_NOCOPY), ERR_OK);
  ck_assert_int_eq(lwvsock_write_pbuf(acc[0].pcb, chain, LWVSOCK_WRITE_FLAG_NOCOPY), ERR_OK);
  fx_run(&f, 50);
  ck_assert_uint_eq(c.len, sizeof(data));
  ck_assert_mem_eq(got, data, sizeof(data));
  ck_assert_uint_eq(acc[0].sent, sizeof(data));
  ck_assert_uint_eq(chain->ref, 1);
  pbuf_free(chain);
  lwvsock_close(cp);
  lwvsock_close(acc[0].pcb);
  lwvsock_close(lp);
  fx_run(&f, 5);
}
END_TEST

/* The sim's IOMMU: only live mappings translate, bounded, read-only windows. */
START_TEST(test_zc_sim_iommu_rejects)
{
  struct lwvsock_sim *sim = f.sim;
  struct lwvsock_backend *be = lwvsock_sim_backend(sim);
  static uint8_t buf[4096];
  uint64_t dma, dma2;
  uint32_t i;

  ck_assert_int_eq(be->ops->dma_map(be, buf, sizeof(buf), &dma), 0);
  ck_assert_ptr_eq(sim_translate(sim, dma, sizeof(buf)), buf);
  ck_assert_ptr_eq(sim_translate(sim, dma + 100, 10), buf + 100);
  ck_assert_ptr_null(sim_translate(sim, dma + 1, sizeof(buf)));     /* past the end */
  ck_assert_ptr_null(sim_translate(sim, (uint64_t)(uintptr_t)buf, 1)); /* a VA is no address */
  ck_assert_ptr_null(sim_translate(sim, dma + (1ull << SIM_REGION_SHIFT), 1)); /* unmapped window */
  ck_assert_ptr_null(sim_translate(sim, ~0ull - 4095, 1));
  be->ops->dma_unmap(be, dma, sizeof(buf));
  ck_assert_ptr_null(sim_translate(sim, dma, 1)); /* stale */
  ck_assert_uint_eq(maps_live(), 0);
  /* bounded: queue_size_max + 1 live mappings, then -ENOSPC */
  for (i = 0; i < sim->nmaps; i++) {
    ck_assert_int_eq(be->ops->dma_map(be, buf + (i % 4096), 1, &dma), 0);
  }
  ck_assert_int_eq(be->ops->dma_map(be, buf, 1, &dma2), -ENOSPC);
  ck_assert_int_eq(be->ops->dma_map(be, buf, 0, &dma2), -EINVAL);
  for (i = 0; i < sim->nmaps; i++) {
    be->ops->dma_unmap(be, (uint64_t)(SIM_MAX_REGIONS + 1u + i) << SIM_REGION_SHIFT, 1);
  }
  ck_assert_uint_eq(maps_live(), 0);
}
END_TEST

/* A tx descriptor at an address the driver never mapped breaks the queue cleanly. */
START_TEST(test_zc_sim_unmapped_descriptor)
{
  struct app a = {0};
  static uint8_t data[8192];
  int h = fx_guest_connect(&f, &a, LWVSOCK_STREAM, 7006);
  struct virtq *vq = &f.dev->txq;
  uint16_t head;
  uint8_t *desc;

  pattern_fill(data, 0, sizeof(data));
  lwvsock_nagle_disable(a.pcb);
  ck_assert_int_eq(lwvsock_write(a.pcb, data, sizeof(data), LWVSOCK_WRITE_FLAG_NOCOPY), ERR_OK);
  /* posted and kicked; the sim reads the ring only when polled */
  ck_assert_int_eq(lwvsock_output(a.pcb), ERR_OK);
  ck_assert_uint_eq(maps_live(), 1);
  /* the packet's payload descriptor: point it one window past its mapping */
  head = le16_load((uint8_t *)vq->avail + 4 + 2 * ((uint16_t)(vq->avail_idx - 1) & (vq->num - 1)));
  desc = (uint8_t *)vq->desc + 16u * head;
  desc = (uint8_t *)vq->desc + 16u * le16_load(desc + 14);
  le64_store(desc, le64_load(desc) + (1ull << SIM_REGION_SHIFT));
  fx_run(&f, 5);
  ck_assert_int_eq(lwvsock_dev_status(f.dev), ERR_IF);
  (void)h;
  lwvsock_abort(a.pcb);
}
END_TEST

Suite *
lwvsock_test_suite(void)
{
  testfunc tests[] = {
    TESTFUNC(test_zc_stream_mixed),
    TESTFUNC(test_zc_seqpacket_mixed),
    TESTFUNC(test_zc_many_pieces),
    TESTFUNC(test_zc_fallback_when_refused),
    TESTFUNC(test_zc_abort_and_close_in_flight),
    TESTFUNC(test_zc_loopback),
    TESTFUNC(test_zc_sim_iommu_rejects),
    TESTFUNC(test_zc_sim_unmapped_descriptor),
  };
  return create_suite("ZEROCOPY", tests, LWIP_ARRAYSIZE(tests), zc_setup, zc_teardown);
}
