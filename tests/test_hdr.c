/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Unit tests of the virtio-vsock header codec (src/vsock_hdr.c): wire layout,
 * round trips and rejection of short buffers.
 */
#include "lwvsock_check.h"

#include <string.h>

#include "lwvsock/lwvsock.h"
#include "vsock_hdr.h"

/* Headers covering zero, typical and all-ones values, and CIDs above 32 bits. */
static const struct vsock_hdr samples[] = {
  { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 },
  { 3, VMADDR_CID_HOST, 1024, 8080, 4096, VIRTIO_VSOCK_TYPE_STREAM, VIRTIO_VSOCK_OP_RW,
    0, 256 * 1024, 12345 },
  { 0x0123456789abcdefull, 0xfedcba9876543210ull, 0xdeadbeefu, 0x80000001u, 65536,
    VIRTIO_VSOCK_TYPE_SEQPACKET, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_ALL,
    1, 0xfffffffeu },
  { UINT64_MAX, UINT64_MAX, UINT32_MAX, UINT32_MAX, UINT32_MAX, UINT16_MAX, UINT16_MAX,
    UINT32_MAX, UINT32_MAX, UINT32_MAX },
};

static void
setup(void)
{
}

static void
teardown(void)
{
  lwvsock_check_ensure_no_alloc(0);
}

static int
hdr_equal(const struct vsock_hdr *a, const struct vsock_hdr *b)
{
  return a->src_cid == b->src_cid && a->dst_cid == b->dst_cid &&
         a->src_port == b->src_port && a->dst_port == b->dst_port &&
         a->len == b->len && a->type == b->type && a->op == b->op &&
         a->flags == b->flags && a->buf_alloc == b->buf_alloc && a->fwd_cnt == b->fwd_cnt;
}

/* Little-endian value of @p n bytes at @p off, read byte by byte (independent of the codec). */
static uint64_t
wire_field(const uint8_t *wire, size_t off, size_t n)
{
  uint64_t v = 0;
  size_t i;

  for (i = n; i > 0; i--) {
    v = (v << 8) | wire[off + i - 1];
  }
  return v;
}

START_TEST(test_hdr_roundtrip)
{
  size_t i;

  for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
    uint8_t wire[VIRTIO_VSOCK_HDR_LEN];
    struct vsock_hdr out;

    memset(&out, 0xa5, sizeof(out));
    ck_assert_uint_eq(vsock_hdr_encode(&samples[i], wire, sizeof(wire)), VIRTIO_VSOCK_HDR_LEN);
    ck_assert_uint_eq(vsock_hdr_decode(&out, wire, sizeof(wire)), VIRTIO_VSOCK_HDR_LEN);
    ck_assert_msg(hdr_equal(&samples[i], &out), "sample %u does not survive a round trip", (unsigned)i);
  }
}
END_TEST

START_TEST(test_hdr_wire_layout)
{
  /* Every byte of every field distinct, so a misplaced or byte-swapped field shows. */
  const struct vsock_hdr h = {
    .src_cid = 0x0807060504030201ull, .dst_cid = 0x100f0e0d0c0b0a09ull,
    .src_port = 0x14131211u, .dst_port = 0x18171615u, .len = 0x1c1b1a19u,
    .type = 0x1e1du, .op = 0x201fu, .flags = 0x24232221u,
    .buf_alloc = 0x28272625u, .fwd_cnt = 0x2c2b2a29u,
  };
  uint8_t wire[VIRTIO_VSOCK_HDR_LEN];
  size_t i;

  ck_assert_uint_eq(vsock_hdr_encode(&h, wire, sizeof(wire)), VIRTIO_VSOCK_HDR_LEN);
  /* The values above make byte i of the packed little-endian header equal i + 1. */
  for (i = 0; i < sizeof(wire); i++) {
    ck_assert_msg(wire[i] == i + 1, "byte %u is 0x%02x, want 0x%02x", (unsigned)i, wire[i], (unsigned)(i + 1));
  }
  ck_assert_uint_eq(wire_field(wire, 0, 8), h.src_cid);
  ck_assert_uint_eq(wire_field(wire, 8, 8), h.dst_cid);
  ck_assert_uint_eq(wire_field(wire, 16, 4), h.src_port);
  ck_assert_uint_eq(wire_field(wire, 20, 4), h.dst_port);
  ck_assert_uint_eq(wire_field(wire, 24, 4), h.len);
  ck_assert_uint_eq(wire_field(wire, 28, 2), h.type);
  ck_assert_uint_eq(wire_field(wire, 30, 2), h.op);
  ck_assert_uint_eq(wire_field(wire, 32, 4), h.flags);
  ck_assert_uint_eq(wire_field(wire, 36, 4), h.buf_alloc);
  ck_assert_uint_eq(wire_field(wire, 40, 4), h.fwd_cnt);
}
END_TEST

START_TEST(test_hdr_decode_spec_bytes)
{
  /* A REQUEST from guest CID 3 port 1025 to the host's port 1234, as Linux sends it. */
  static const uint8_t wire[VIRTIO_VSOCK_HDR_LEN] = {
    3, 0, 0, 0, 0, 0, 0, 0,        /* src_cid */
    2, 0, 0, 0, 0, 0, 0, 0,        /* dst_cid */
    0x01, 0x04, 0, 0,              /* src_port 1025 */
    0xd2, 0x04, 0, 0,              /* dst_port 1234 */
    0, 0, 0, 0,                    /* len */
    1, 0,                          /* type STREAM */
    1, 0,                          /* op REQUEST */
    0, 0, 0, 0,                    /* flags */
    0, 0, 4, 0,                    /* buf_alloc 256 KiB */
    0, 0, 0, 0,                    /* fwd_cnt */
  };
  struct vsock_hdr h;

  ck_assert_uint_eq(vsock_hdr_decode(&h, wire, sizeof(wire)), VIRTIO_VSOCK_HDR_LEN);
  ck_assert_uint_eq(h.src_cid, 3);
  ck_assert_uint_eq(h.dst_cid, VMADDR_CID_HOST);
  ck_assert_uint_eq(h.src_port, 1025);
  ck_assert_uint_eq(h.dst_port, 1234);
  ck_assert_uint_eq(h.len, 0);
  ck_assert_uint_eq(h.type, VIRTIO_VSOCK_TYPE_STREAM);
  ck_assert_uint_eq(h.op, VIRTIO_VSOCK_OP_REQUEST);
  ck_assert_uint_eq(h.flags, 0);
  ck_assert_uint_eq(h.buf_alloc, 256 * 1024);
  ck_assert_uint_eq(h.fwd_cnt, 0);
}
END_TEST

START_TEST(test_hdr_encode_stays_in_bounds)
{
  uint8_t buf[VIRTIO_VSOCK_HDR_LEN + 8];
  size_t i;

  memset(buf, 0x5a, sizeof(buf));
  ck_assert_uint_eq(vsock_hdr_encode(&samples[3], buf, sizeof(buf)), VIRTIO_VSOCK_HDR_LEN);
  for (i = VIRTIO_VSOCK_HDR_LEN; i < sizeof(buf); i++) {
    ck_assert_msg(buf[i] == 0x5a, "encode wrote byte %u, past the header", (unsigned)i);
  }
}
END_TEST

START_TEST(test_hdr_short_buffers)
{
  uint8_t buf[VIRTIO_VSOCK_HDR_LEN];
  size_t len;

  for (len = 0; len < VIRTIO_VSOCK_HDR_LEN; len++) {
    struct vsock_hdr h, before;
    size_t i;

    memset(buf, 0x5a, sizeof(buf));
    ck_assert_uint_eq(vsock_hdr_encode(&samples[2], buf, len), 0);
    for (i = 0; i < sizeof(buf); i++) {
      ck_assert_msg(buf[i] == 0x5a, "encode into %u bytes wrote byte %u", (unsigned)len, (unsigned)i);
    }

    memset(&h, 0xa5, sizeof(h));
    before = h;
    ck_assert_uint_eq(vsock_hdr_decode(&h, buf, len), 0);
    ck_assert_msg(memcmp(&h, &before, sizeof(h)) == 0, "decode of %u bytes changed the header", (unsigned)len);
  }
}
END_TEST

START_TEST(test_hdr_op_names)
{
  static const struct {
    uint16_t op;
    const char *name;
  } ops[] = {
    { VIRTIO_VSOCK_OP_INVALID, "INVALID" },
    { VIRTIO_VSOCK_OP_REQUEST, "REQUEST" },
    { VIRTIO_VSOCK_OP_RESPONSE, "RESPONSE" },
    { VIRTIO_VSOCK_OP_RST, "RST" },
    { VIRTIO_VSOCK_OP_SHUTDOWN, "SHUTDOWN" },
    { VIRTIO_VSOCK_OP_RW, "RW" },
    { VIRTIO_VSOCK_OP_CREDIT_UPDATE, "CREDIT_UPDATE" },
    { VIRTIO_VSOCK_OP_CREDIT_REQUEST, "CREDIT_REQUEST" },
    { VIRTIO_VSOCK_OP_MAX + 1, "?" },
    { 0x100, "?" },
    { UINT16_MAX, "?" },
  };
  size_t i;

  for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
    const char *name = vsock_op_name(ops[i].op);
    ck_assert_ptr_nonnull(name);
    ck_assert_str_eq(name, ops[i].name);
  }
}
END_TEST

/* The public decoder (lwvsock_pkt_hdr_decode) reads what the codec writes. */
START_TEST(test_hdr_public_decode)
{
  size_t i;

  for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
    const struct vsock_hdr *h = &samples[i];
    uint8_t wire[VIRTIO_VSOCK_HDR_LEN];
    struct lwvsock_pkt_hdr d;

    ck_assert_uint_eq(vsock_hdr_encode(h, wire, sizeof(wire)), VIRTIO_VSOCK_HDR_LEN);
    memset(&d, 0xa5, sizeof(d));
    ck_assert_int_eq(lwvsock_pkt_hdr_decode(wire, sizeof(wire), &d), ERR_OK);
    ck_assert_uint_eq(d.src_cid, h->src_cid);
    ck_assert_uint_eq(d.dst_cid, h->dst_cid);
    ck_assert_uint_eq(d.src_port, h->src_port);
    ck_assert_uint_eq(d.dst_port, h->dst_port);
    ck_assert_uint_eq(d.len, h->len);
    ck_assert_uint_eq(d.type, h->type);
    ck_assert_uint_eq(d.op, h->op);
    ck_assert_uint_eq(d.flags, h->flags);
    ck_assert_uint_eq(d.buf_alloc, h->buf_alloc);
    ck_assert_uint_eq(d.fwd_cnt, h->fwd_cnt);
    ck_assert_str_eq(lwvsock_pkt_op_name(d.op), vsock_op_name(h->op));
  }
}
END_TEST

/* Short or missing input is refused and the output left alone. */
START_TEST(test_hdr_public_decode_refuses)
{
  uint8_t wire[VIRTIO_VSOCK_HDR_LEN] = { 1 };
  struct lwvsock_pkt_hdr d, before;

  memset(&d, 0x5a, sizeof(d));
  before = d;
  ck_assert_int_eq(lwvsock_pkt_hdr_decode(wire, LWVSOCK_PKT_HDR_LEN - 1, &d), ERR_ARG);
  ck_assert_int_eq(lwvsock_pkt_hdr_decode(NULL, sizeof(wire), &d), ERR_ARG);
  ck_assert_int_eq(memcmp(&d, &before, sizeof(d)), 0);
  ck_assert_int_eq(lwvsock_pkt_hdr_decode(wire, sizeof(wire), NULL), ERR_ARG);
  ck_assert_str_eq(lwvsock_pkt_op_name(VIRTIO_VSOCK_OP_CREDIT_REQUEST), "CREDIT_REQUEST");
  ck_assert_str_eq(lwvsock_pkt_op_name(UINT16_MAX), "?");
}
END_TEST

Suite *
lwvsock_test_suite(void)
{
  testfunc tests[] = {
    TESTFUNC(test_hdr_roundtrip),
    TESTFUNC(test_hdr_wire_layout),
    TESTFUNC(test_hdr_decode_spec_bytes),
    TESTFUNC(test_hdr_encode_stays_in_bounds),
    TESTFUNC(test_hdr_short_buffers),
    TESTFUNC(test_hdr_op_names),
    TESTFUNC(test_hdr_public_decode),
    TESTFUNC(test_hdr_public_decode_refuses),
  };
  return create_suite("hdr", tests, sizeof(tests) / sizeof(tests[0]), setup, teardown);
}
