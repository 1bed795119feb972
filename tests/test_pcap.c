/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The pcap writer (src/pcap.c): the file header, one record per packet with
 * the vsockmon header built from the virtio header, the payload's two parts,
 * timestamps, snaplen truncation, and a failing write stopping the capture.
 * (examples/test-pcap.sh has tshark read a real capture.)
 */
#include "lwvsock_check.h"

#include <string.h>

#include "lwvsock/pcap.h"
#include "virtio_defs.h"

#define OUT_MAX (4u * 70000u)

static uint8_t out[OUT_MAX];
static size_t out_len;
static int writes;
static int fail_at;   /* fail the write with this number (1-based); 0: never */

static int
mem_write(void *arg, const void *data, size_t len)
{
  ck_assert_ptr_eq(arg, out);
  writes++;
  if (fail_at != 0 && writes >= fail_at) {
    return -1;
  }
  ck_assert_uint_le(out_len + len, OUT_MAX);
  memcpy(out + out_len, data, len);
  out_len += len;
  return 0;
}

static void
fixed_clock(void *arg, uint32_t *sec, uint32_t *usec)
{
  ck_assert_ptr_eq(arg, out);
  *sec = 1700000000u;
  *usec = 999999u;
}

static void
setup(void)
{
  out_len = 0;
  writes = 0;
  fail_at = 0;
}

static void
teardown(void)
{
  lwvsock_check_ensure_no_alloc(0);
}

static void
make_hdr(uint8_t *h, uint16_t op, uint32_t len)
{
  memset(h, 0, VIRTIO_VSOCK_HDR_LEN);
  le64_store(h + VSOCK_HDR_OFF_SRC_CID, 2);
  le64_store(h + VSOCK_HDR_OFF_DST_CID, 3);
  le32_store(h + VSOCK_HDR_OFF_SRC_PORT, 0x40000001u);
  le32_store(h + VSOCK_HDR_OFF_DST_PORT, 80);
  le32_store(h + VSOCK_HDR_OFF_LEN, len);
  le16_store(h + VSOCK_HDR_OFF_TYPE, VIRTIO_VSOCK_TYPE_STREAM);
  le16_store(h + VSOCK_HDR_OFF_OP, op);
}

START_TEST(test_pcap_file_header)
{
  struct lwvsock_pcap cap;

  ck_assert_int_eq(lwvsock_pcap_start(&cap, mem_write, NULL, out), ERR_OK);
  ck_assert_uint_eq(out_len, LWVSOCK_PCAP_FILE_HDR_LEN);
  ck_assert_uint_eq(le32_load(out), 0xa1b2c3d4u);
  ck_assert_uint_eq(le16_load(out + 4), 2);
  ck_assert_uint_eq(le16_load(out + 6), 4);
  ck_assert_uint_eq(le32_load(out + 16), 32u + 44u + 2u * 65536u);
  ck_assert_uint_eq(le32_load(out + 20), 271);
  ck_assert_int_eq(lwvsock_pcap_failed(&cap), 0);
}
END_TEST

START_TEST(test_pcap_record)
{
  struct lwvsock_pcap cap;
  uint8_t h[VIRTIO_VSOCK_HDR_LEN];
  const uint8_t *r;

  lwvsock_test_clock_set(12345);
  ck_assert_int_eq(lwvsock_pcap_start(&cap, mem_write, NULL, out), ERR_OK);
  make_hdr(h, VIRTIO_VSOCK_OP_RW, 7);
  lwvsock_pcap_tap(&cap, LWVSOCK_DIR_RX, h, "hel", 3, "lo!!", 4);
  r = out + LWVSOCK_PCAP_FILE_HDR_LEN;
  ck_assert_uint_eq(out_len, LWVSOCK_PCAP_FILE_HDR_LEN + 16u + 32u + 44u + 7u);
  /* sys_now() as the clock: 12.345 s */
  ck_assert_uint_eq(le32_load(r), 12);
  ck_assert_uint_eq(le32_load(r + 4), 345000);
  ck_assert_uint_eq(le32_load(r + 8), 32u + 44u + 7u);
  ck_assert_uint_eq(le32_load(r + 12), 32u + 44u + 7u);
  /* af_vsockmon_hdr */
  ck_assert_uint_eq(le64_load(r + 16), 2);
  ck_assert_uint_eq(le64_load(r + 24), 3);
  ck_assert_uint_eq(le32_load(r + 32), 0x40000001u);
  ck_assert_uint_eq(le32_load(r + 36), 80);
  ck_assert_uint_eq(le16_load(r + 40), 4);  /* PAYLOAD */
  ck_assert_uint_eq(le16_load(r + 42), 2);  /* virtio */
  ck_assert_uint_eq(le16_load(r + 44), 44);
  ck_assert_uint_eq(le16_load(r + 46), 0);
  ck_assert_mem_eq(r + 48, h, sizeof(h));
  ck_assert_mem_eq(r + 48 + 44, "hello!!", 7);
}
END_TEST

START_TEST(test_pcap_ops_and_clock)
{
  static const uint16_t ops[][2] = {
    { VIRTIO_VSOCK_OP_REQUEST, 1 }, { VIRTIO_VSOCK_OP_RESPONSE, 1 },
    { VIRTIO_VSOCK_OP_RST, 2 }, { VIRTIO_VSOCK_OP_SHUTDOWN, 2 },
    { VIRTIO_VSOCK_OP_CREDIT_UPDATE, 3 }, { VIRTIO_VSOCK_OP_CREDIT_REQUEST, 3 },
    { VIRTIO_VSOCK_OP_RW, 4 }, { VIRTIO_VSOCK_OP_INVALID, 0 }, { 99, 0 },
  };
  struct lwvsock_pcap cap;
  uint8_t h[VIRTIO_VSOCK_HDR_LEN];
  size_t i;

  ck_assert_int_eq(lwvsock_pcap_start(&cap, mem_write, fixed_clock, out), ERR_OK);
  for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
    const uint8_t *r = out + out_len;
    make_hdr(h, ops[i][0], 0);
    lwvsock_pcap_tap(&cap, LWVSOCK_DIR_TX, h, NULL, 0, NULL, 0);
    ck_assert_ptr_eq(out + out_len, r + 16 + 32 + 44);
    ck_assert_uint_eq(le32_load(r), 1700000000u);
    ck_assert_uint_eq(le32_load(r + 4), 999999u);
    ck_assert_uint_eq(le16_load(r + 40), ops[i][1]);
  }
}
END_TEST

/* Longer than the snaplen: the first snaplen bytes and the true length. */
START_TEST(test_pcap_snaplen)
{
  static uint8_t big[70000];
  struct lwvsock_pcap cap;
  uint8_t h[VIRTIO_VSOCK_HDR_LEN];
  const uint8_t *r = out + LWVSOCK_PCAP_FILE_HDR_LEN;

  memset(big, 0xab, sizeof(big));
  ck_assert_int_eq(lwvsock_pcap_start(&cap, mem_write, NULL, out), ERR_OK);
  make_hdr(h, VIRTIO_VSOCK_OP_RW, 2 * sizeof(big));
  lwvsock_pcap_tap(&cap, LWVSOCK_DIR_RX, h, big, sizeof(big), big, sizeof(big));
  ck_assert_uint_eq(le32_load(r + 8), 32u + 44u + 2u * 65536u);
  ck_assert_uint_eq(le32_load(r + 12), 32u + 44u + 2u * sizeof(big));
  ck_assert_uint_eq(out_len, LWVSOCK_PCAP_FILE_HDR_LEN + 16u + 32u + 44u + 2u * 65536u);
}
END_TEST

START_TEST(test_pcap_write_failure)
{
  struct lwvsock_pcap cap;
  uint8_t h[VIRTIO_VSOCK_HDR_LEN];
  int n;

  ck_assert_int_eq(lwvsock_pcap_start(NULL, mem_write, NULL, out), ERR_ARG);
  ck_assert_int_eq(lwvsock_pcap_start(&cap, NULL, NULL, out), ERR_ARG);
  ck_assert_int_eq(lwvsock_pcap_failed(NULL), 1);

  fail_at = 1;
  ck_assert_int_eq(lwvsock_pcap_start(&cap, mem_write, NULL, out), ERR_IF);
  ck_assert_int_eq(lwvsock_pcap_failed(&cap), 1);

  /* a record's second write fails: nothing more is written, then or later */
  setup();
  ck_assert_int_eq(lwvsock_pcap_start(&cap, mem_write, NULL, out), ERR_OK);
  fail_at = writes + 2;
  make_hdr(h, VIRTIO_VSOCK_OP_RW, 3);
  lwvsock_pcap_tap(&cap, LWVSOCK_DIR_RX, h, "abc", 3, NULL, 0);
  ck_assert_int_eq(lwvsock_pcap_failed(&cap), 1);
  n = writes;
  lwvsock_pcap_tap(&cap, LWVSOCK_DIR_RX, h, "abc", 3, NULL, 0);
  ck_assert_int_eq(writes, n);
  /* a NULL payload with a length is refused, not dereferenced */
  setup();
  ck_assert_int_eq(lwvsock_pcap_start(&cap, mem_write, NULL, out), ERR_OK);
  lwvsock_pcap_tap(&cap, LWVSOCK_DIR_RX, h, NULL, 3, NULL, 0);
  ck_assert_uint_eq(out_len, LWVSOCK_PCAP_FILE_HDR_LEN);
}
END_TEST

Suite *
lwvsock_test_suite(void)
{
  testfunc tests[] = {
    TESTFUNC(test_pcap_file_header),
    TESTFUNC(test_pcap_record),
    TESTFUNC(test_pcap_ops_and_clock),
    TESTFUNC(test_pcap_snaplen),
    TESTFUNC(test_pcap_write_failure),
  };
  return create_suite("pcap", tests, sizeof(tests) / sizeof(tests[0]), setup, teardown);
}
