/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Unit tests for the split virtqueue (src/virtq.c).
 *
 * The test plays the device: it reads the avail ring and the descriptor chains
 * and writes used entries straight into ring memory, little-endian, exactly as
 * a device on the other side of shared memory would, including devices that
 * lie about ids, lengths and indices.
 */
#include "lwvsock_check.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtq.h"

/*
 * Assert for the device helpers and the long loops: a passing ck_assert() makes
 * libcheck record the location through a pipe, which for 70000 cycles costs
 * seconds (minutes under valgrind). This one only does work when it fails.
 */
#define CHECK(x) do { if (!(x)) { ck_abort_msg("assertion failed: %s", #x); } } while (0)

/* ---- fixture: one queue over heap ring memory ------------------------------ */

static struct virtq vq;
static void *ring;

/** Device-side view of the queue. */
struct fake_dev {
  uint16_t last_avail; /**< next avail entry the device will take */
  uint16_t used_idx;   /**< device's shadow of used->idx */
};

static struct fake_dev dev;

/** A chain as the device sees it. */
struct dev_chain {
  uint16_t head;
  unsigned ndesc;
  unsigned nout;
  uint32_t out_len;
  uint32_t in_len;
  uint64_t addr[64];
  uint32_t len[64];
};

static void
vq_open(uint16_t num, bool event_idx)
{
  size_t size = virtq_ring_size(num);

  ring = aligned_alloc(VIRTQ_DESC_ALIGN, size);
  ck_assert(ring != NULL);
  ck_assert(virtq_init(&vq, 1, num, ring, 0x100000, event_idx) == 0);
  memset(&dev, 0, sizeof(dev));
}

static void
virtq_setup(void)
{
  memset(&vq, 0, sizeof(vq));
  ring = NULL;
}

static void
virtq_teardown(void)
{
  virtq_fini(&vq);
  free(ring);
  ring = NULL;
  /* lwip_init() leaves its cyclic timers allocated, as in lwIP's own suites */
  lwvsock_check_ensure_no_alloc(SKIP_POOL(MEMP_SYS_TIMEOUT));
}

/* ---- the device's side --------------------------------------------------- */

/** Number of avail entries the device has not taken yet. */
static uint16_t
dev_pending(void)
{
  return (uint16_t)(le16_load(&vq.avail->idx) - dev.last_avail);
}

/** Take the next available chain and decode it; fails the test on a malformed chain. */
static void
dev_take(struct dev_chain *c)
{
  uint16_t mask = (uint16_t)(vq.num - 1);
  uint16_t i;
  bool in_part = false;

  CHECK(dev_pending() > 0);
  memset(c, 0, sizeof(*c));
  c->head = le16_load(&vq.avail->ring[dev.last_avail & mask]);
  dev.last_avail++;
  CHECK(c->head < vq.num);
  i = c->head;
  for (;;) {
    const struct virtq_desc *d = &vq.desc[i];
    uint16_t flags = le16_load(&d->flags);

    CHECK(c->ndesc < 64 && c->ndesc < vq.num);
    c->addr[c->ndesc] = le64_load(&d->addr);
    c->len[c->ndesc] = le32_load(&d->len);
    if (flags & VIRTQ_DESC_F_WRITE) {
      in_part = true;
      c->in_len += c->len[c->ndesc];
    } else {
      /* device-readable after device-writable is forbidden (spec 2.7.4.2) */
      CHECK(!in_part);
      c->nout++;
      c->out_len += c->len[c->ndesc];
    }
    CHECK((flags & VIRTQ_DESC_F_INDIRECT) == 0);
    c->ndesc++;
    if (!(flags & VIRTQ_DESC_F_NEXT)) {
      break;
    }
    i = le16_load(&d->next);
    CHECK(i < vq.num);
  }
}

/** Write one used entry without publishing it. */
static void
dev_write_used(uint16_t slot, uint32_t id, uint32_t len)
{
  struct virtq_used_elem *e = &vq.used->ring[slot & (vq.num - 1)];

  le32_store(&e->id, id);
  le32_store(&e->len, len);
}

/** Append a used entry and publish it. */
static void
dev_complete(uint32_t id, uint32_t len)
{
  dev_write_used(dev.used_idx, id, len);
  dev.used_idx++;
  le16_store(&vq.used->idx, dev.used_idx);
}

/* ---- helpers for the driver side ---------------------------------------- */

static int tokens[64];

static int
add_one(uint64_t addr, uint32_t out_len, uint32_t in_len, void *token)
{
  struct virtq_buf o = { addr, out_len };
  struct virtq_buf i = { addr + out_len, in_len };

  return virtq_add(&vq, &o, out_len ? 1 : 0, &i, in_len ? 1 : 0, token);
}

/**
 * The driver's next virtq_get_used() (with @p used_len, which may be NULL)
 * catches the device's lie: it returns nothing, the queue is broken for
 * @p reason and every entry point now refuses.
 */
static void
expect_broken(uint32_t *used_len, const char *reason)
{
  uint32_t len = 0xdeadbeef;

  ck_assert(virtq_get_used(&vq, used_len) == NULL);
  ck_assert(virtq_is_broken(&vq));
  ck_assert(vq.broken_reason != NULL);
  ck_assert_str_eq(vq.broken_reason, reason);
  ck_assert(virtq_get_used(&vq, &len) == NULL);
  ck_assert(len == 0xdeadbeef);
  ck_assert(!virtq_has_used(&vq));
  ck_assert(add_one(0x1000, 16, 0, &tokens[0]) == -EIO);
  ck_assert(!virtq_kick_prepare(&vq));
}

/* ---- tests --------------------------------------------------------------- */

START_TEST(test_virtq_layout)
{
  uint8_t *base;
  uint32_t n;

  /* every legal size: parts in order, aligned, not overlapping, inside the size */
  for (n = 1; n <= 32768; n <<= 1) {
    struct virtq q;
    size_t size = virtq_ring_size((uint16_t)n);
    size_t avail_off, used_off;
    void *mem = aligned_alloc(VIRTQ_DESC_ALIGN, size);

    ck_assert(mem != NULL);
    ck_assert_msg(size % 16 == 0, "size %zu for num %u", size, (unsigned)n);
    ck_assert(virtq_init(&q, 0, (uint16_t)n, mem, 0x4000, false) == 0);
    avail_off = (size_t)((uint8_t *)q.avail - (uint8_t *)mem);
    used_off = (size_t)((uint8_t *)q.used - (uint8_t *)mem);
    ck_assert((void *)q.desc == mem);
    ck_assert(avail_off == 16 * n);                   /* right after the table */
    ck_assert(used_off % VIRTQ_USED_ALIGN == 0);
    ck_assert(used_off >= avail_off + 4 + 2 * n + 2); /* after used_event */
    ck_assert(used_off < avail_off + 4 + 2 * n + 2 + VIRTQ_USED_ALIGN);
    ck_assert(used_off + 4 + 8 * n + 2 <= size);      /* avail_event fits */
    ck_assert(size - (used_off + 4 + 8 * n + 2) < 16);
    ck_assert(q.info.used_dma == 0x4000 + used_off && q.info.avail_dma == 0x4000 + avail_off);
    virtq_fini(&q);
    free(mem);
  }
  ck_assert(virtq_ring_size(256) == 6672);

  vq_open(256, false);
  base = (uint8_t *)ring;
  ck_assert(vq.num == 256 && vq.index == 1 && vq.num_free == 256 && vq.in_flight == 0);
  ck_assert((uint8_t *)vq.desc == base);
  ck_assert((uint8_t *)vq.avail == base + 4096);
  ck_assert((uint8_t *)vq.used == base + 4616);
  ck_assert(((uintptr_t)vq.used % VIRTQ_USED_ALIGN) == 0);
  ck_assert(vq.info.index == 1 && vq.info.num == 256);
  ck_assert(vq.info.desc == (void *)vq.desc && vq.info.avail == (void *)vq.avail &&
              vq.info.used == (void *)vq.used);
  ck_assert(vq.info.desc_dma == 0x100000);
  ck_assert(vq.info.avail_dma == 0x100000 + 4096);
  ck_assert(vq.info.used_dma == 0x100000 + 4616);
  /* polled: no interrupts please; indices start at 0 */
  ck_assert(le16_load(&vq.avail->flags) == VIRTQ_AVAIL_F_NO_INTERRUPT);
  ck_assert(le16_load(&vq.avail->idx) == 0);
  ck_assert(le16_load(&vq.used->idx) == 0);
  ck_assert(!vq.broken && !virtq_has_used(&vq));
  ck_assert(!virtq_kick_prepare(&vq));
}
END_TEST

START_TEST(test_virtq_layout_event_idx)
{
  vq_open(8, true);
  /* with EVENT_IDX flags must stay 0 (spec 2.7.7.1); used_event suppresses instead */
  ck_assert(le16_load(&vq.avail->flags) == 0);
  ck_assert(le16_load(&vq.avail->ring[8]) == 0xffff);
}
END_TEST

START_TEST(test_virtq_init_rejects)
{
  size_t size = virtq_ring_size(8);
  uint8_t *mem = (uint8_t *)aligned_alloc(16, size + 16);

  ck_assert(mem != NULL);
  ck_assert(virtq_init(NULL, 0, 8, mem, 0, false) == -EINVAL);
  ck_assert(virtq_init(&vq, 0, 8, NULL, 0, false) == -EINVAL);
  ck_assert(virtq_init(&vq, 0, 0, mem, 0, false) == -EINVAL);
  ck_assert(virtq_init(&vq, 0, 6, mem, 0, false) == -EINVAL);
  ck_assert(virtq_init(&vq, 0, 65535, mem, 0, false) == -EINVAL);
  ck_assert(virtq_init(&vq, 0, 8, mem + 8, 0, false) == -EINVAL);
  ck_assert(virtq_init(&vq, 0, 8, mem, 0x1008, false) == -EINVAL);
  ck_assert(virtq_init(&vq, 0, 8, mem, UINT64_MAX - 15, false) == -EINVAL);
  /* stale garbage in the ring memory must not look like used entries */
  memset(mem, 0xa5, size + 16);
  ck_assert(virtq_init(&vq, 0, 8, mem, 0x2000, false) == 0);
  ck_assert(!virtq_has_used(&vq) && virtq_get_used(&vq, NULL) == NULL && !vq.broken);
  ck_assert(mem[size] == 0xa5); /* nothing written past the ring */
  virtq_fini(&vq);
  free(mem);
}
END_TEST

START_TEST(test_virtq_out_only)
{
  struct virtq_buf out[2] = { { 0x1000, 44 }, { 0x2000, 1000 } };
  struct dev_chain c;
  uint32_t len = 77;

  vq_open(8, false);
  ck_assert(virtq_add(&vq, out, 2, NULL, 0, &tokens[0]) == 0);
  ck_assert(vq.num_free == 6 && vq.in_flight == 1);
  ck_assert(dev_pending() == 1);
  dev_take(&c);
  ck_assert(c.ndesc == 2 && c.nout == 2 && c.in_len == 0 && c.out_len == 1044);
  ck_assert(c.addr[0] == 0x1000 && c.len[0] == 44 && c.addr[1] == 0x2000 && c.len[1] == 1000);
  ck_assert(virtq_get_used(&vq, &len) == NULL && len == 77);
  dev_complete(c.head, 0);
  ck_assert(virtq_has_used(&vq));
  ck_assert(virtq_get_used(&vq, &len) == &tokens[0]);
  ck_assert(len == 0);
  ck_assert(vq.num_free == 8 && vq.in_flight == 0 && !virtq_has_used(&vq));
}
END_TEST

START_TEST(test_virtq_in_only)
{
  struct virtq_buf in[3] = { { 0x1000, 44 }, { 0x3000, 4096 }, { 0x5000, 4096 } };
  struct dev_chain c;
  uint32_t len = 0;

  vq_open(4, false);
  ck_assert(virtq_add(&vq, NULL, 0, in, 3, &tokens[1]) == 0);
  dev_take(&c);
  ck_assert(c.ndesc == 3 && c.nout == 0 && c.in_len == 44 + 4096 + 4096);
  ck_assert(c.addr[2] == 0x5000);
  dev_complete(c.head, c.in_len); /* exactly full is fine */
  ck_assert(virtq_get_used(&vq, &len) == &tokens[1]);
  ck_assert(len == c.in_len && !vq.broken);
}
END_TEST

START_TEST(test_virtq_mixed)
{
  struct virtq_buf out[1] = { { 0x1000, 44 } };
  struct virtq_buf in[2] = { { 0x2000, 100 }, { 0x4000, 200 } };
  struct dev_chain c;
  uint32_t len = 0;

  vq_open(8, false);
  ck_assert(virtq_add(&vq, out, 1, in, 2, &tokens[2]) == 0);
  ck_assert(add_one(0x9000, 44, 0, &tokens[3]) == 0);
  dev_take(&c);
  ck_assert(c.ndesc == 3 && c.nout == 1 && c.out_len == 44 && c.in_len == 300);
  ck_assert(c.addr[1] == 0x2000 && c.addr[2] == 0x4000);
  dev_complete(c.head, 150);
  dev_take(&c);
  ck_assert(c.ndesc == 1 && c.nout == 1);
  dev_complete(c.head, 0);
  ck_assert(virtq_get_used(&vq, &len) == &tokens[2] && len == 150);
  ck_assert(virtq_get_used(&vq, &len) == &tokens[3] && len == 0);
  ck_assert(virtq_get_used(&vq, &len) == NULL && !vq.broken);
}
END_TEST

START_TEST(test_virtq_full)
{
  struct virtq_buf two[2] = { { 0x1000, 10 }, { 0x2000, 10 } };
  struct dev_chain c;
  uint32_t len;
  int k;

  vq_open(8, false);
  for (k = 0; k < 8; k++) {
    ck_assert(add_one(0x1000 * (uint64_t)(k + 1), 0, 64, &tokens[k]) == 0);
  }
  ck_assert(vq.num_free == 0);
  ck_assert(add_one(0x9000, 0, 64, &tokens[8]) == -ENOSPC);
  /* complete one: a single descriptor fits again, a pair still does not */
  dev_take(&c);
  dev_complete(c.head, 64);
  ck_assert(virtq_get_used(&vq, &len) == &tokens[0] && len == 64);
  ck_assert(virtq_add(&vq, NULL, 0, two, 2, &tokens[8]) == -ENOSPC);
  ck_assert(add_one(0x9000, 0, 64, &tokens[8]) == 0);
  ck_assert(add_one(0xa000, 0, 64, &tokens[9]) == -ENOSPC);
  ck_assert(vq.in_flight == 8 && !vq.broken);
}
END_TEST

START_TEST(test_virtq_bad_args)
{
  struct virtq_buf b[9];
  struct virtq_buf zero = { 0x1000, 0 };
  struct virtq_buf huge[2] = { { 0x1000, 0x80000000u }, { 0x2000, 0x80000000u } };
  int k;

  vq_open(8, false);
  for (k = 0; k < 9; k++) {
    b[k].addr = 0x1000 * (uint64_t)(k + 1);
    b[k].len = 16;
  }
  ck_assert(virtq_add(NULL, b, 1, NULL, 0, &tokens[0]) == -EINVAL);
  ck_assert(virtq_add(&vq, b, 1, NULL, 0, NULL) == -EINVAL);
  ck_assert(virtq_add(&vq, b, 0, b, 0, &tokens[0]) == -EINVAL);
  ck_assert(virtq_add(&vq, NULL, 1, NULL, 0, &tokens[0]) == -EINVAL);
  ck_assert(virtq_add(&vq, b, 1, NULL, 1, &tokens[0]) == -EINVAL);
  ck_assert(virtq_add(&vq, &zero, 1, NULL, 0, &tokens[0]) == -EINVAL);
  ck_assert(virtq_add(&vq, b, 1, &zero, 1, &tokens[0]) == -EINVAL);
  /* longer than the whole ring: can never fit, so not -ENOSPC */
  ck_assert(virtq_add(&vq, b, 9, NULL, 0, &tokens[0]) == -EINVAL);
  ck_assert(virtq_add(&vq, b, 5, b, 4, &tokens[0]) == -EINVAL);
  ck_assert(virtq_add(&vq, b, 1, b, UINT32_MAX, &tokens[0]) == -EINVAL);
  /* writable total must fit the 32-bit used length */
  ck_assert(virtq_add(&vq, NULL, 0, huge, 2, &tokens[0]) == -EINVAL);
  /* nothing was consumed or published by the failures */
  ck_assert(vq.num_free == 8 && vq.in_flight == 0 && le16_load(&vq.avail->idx) == 0);
  ck_assert(virtq_add(&vq, b, 8, NULL, 0, &tokens[0]) == 0);
  ck_assert(virtq_get_used(NULL, NULL) == NULL && !virtq_has_used(NULL));
  ck_assert(!virtq_kick_prepare(NULL) && virtq_detach_unused(NULL) == NULL);
  ck_assert(!vq.broken);
}
END_TEST

/* Chain @p t of the wrap test: 1..4 descriptors, the split between out and in varying. */
static void
wrap_chain(unsigned t, unsigned *n, unsigned *nout)
{
  *n = 1 + t % 4;
  *nout = (t / 4) % (*n + 1);
}

static uint32_t
wrap_buf_len(unsigned t, unsigned k)
{
  return 1 + k + (t & 0xff);
}

/* Keep the ring nearly full and complete in order across several index wraps. */
START_TEST(test_virtq_wrap)
{
  enum { NUM = 16, CYCLES = 70001 };
  unsigned posted = 0, taken = 0, collected = 0;
  unsigned descs_in_flight = 0;
  struct dev_chain c;

  vq_open(NUM, false);
  while (collected < CYCLES) {
    unsigned n, nout, k;

    /* post while the next chain fits */
    for (;;) {
      struct virtq_buf out[4], in[4];

      wrap_chain(posted, &n, &nout);
      if (posted == CYCLES || descs_in_flight + n > NUM) {
        break;
      }
      for (k = 0; k < n; k++) {
        struct virtq_buf *b = (k < nout) ? &out[k] : &in[k - nout];
        b->addr = ((uint64_t)posted << 8) | k;
        b->len = wrap_buf_len(posted, k);
      }
      CHECK(virtq_add(&vq, out, nout, in, n - nout, (void *)(uintptr_t)(posted + 1)) == 0);
      descs_in_flight += n;
      posted++;
    }
    (void)virtq_kick_prepare(&vq);

    /* the device sees the chains in order, intact, and fills each completely */
    for (k = 0; k < 2 && dev_pending() > 0; k++) {
      dev_take(&c);
      wrap_chain(taken, &n, &nout);
      CHECK(c.ndesc == n && c.nout == nout && c.addr[0] == ((uint64_t)taken << 8));
      dev_complete(c.head, c.in_len);
      taken++;
    }

    for (;;) {
      uint32_t len = 0xffffffffu, expect_in = 0;
      void *t = virtq_get_used(&vq, &len);

      if (t == NULL) {
        break;
      }
      CHECK((uintptr_t)t == (uintptr_t)collected + 1);
      wrap_chain(collected, &n, &nout);
      for (k = nout; k < n; k++) {
        expect_in += wrap_buf_len(collected, k);
      }
      CHECK(len == expect_in);
      descs_in_flight -= n;
      collected++;
    }
    CHECK(!vq.broken);
    CHECK(vq.num_free == NUM - descs_in_flight);
  }
  ck_assert(posted == CYCLES && vq.in_flight == 0 && vq.num_free == NUM);
  /* the free-running indices really wrapped */
  ck_assert(vq.avail_idx == (uint16_t)CYCLES && vq.last_used_idx == (uint16_t)CYCLES);
  ck_assert(le16_load(&vq.avail->idx) == (uint16_t)CYCLES);
}
END_TEST

START_TEST(test_virtq_out_of_order)
{
  struct dev_chain c[4];
  uint32_t len;
  int k;

  vq_open(8, false);
  for (k = 0; k < 4; k++) {
    /* two descriptors each: the whole ring */
    ck_assert(add_one(0x1000 * (uint64_t)(k + 1), 16, 100 + (uint32_t)k, &tokens[k]) == 0);
    dev_take(&c[k]);
  }
  ck_assert(vq.num_free == 0);
  dev_complete(c[3].head, 3);
  dev_complete(c[1].head, 1);
  ck_assert(virtq_get_used(&vq, &len) == &tokens[3] && len == 3);
  ck_assert(virtq_get_used(&vq, &len) == &tokens[1] && len == 1);
  dev_complete(c[0].head, 100);
  dev_complete(c[2].head, 102);
  ck_assert(virtq_get_used(&vq, &len) == &tokens[0] && len == 100);
  ck_assert(virtq_get_used(&vq, &len) == &tokens[2] && len == 102);
  ck_assert(vq.num_free == 8 && !vq.broken);
  /* the shuffled free list still yields every descriptor exactly once */
  for (k = 0; k < 8; k++) {
    ck_assert(add_one(0x1000, 0, 8, &tokens[8 + k]) == 0);
  }
  {
    unsigned seen = 0;
    for (k = 0; k < 8; k++) {
      dev_take(&c[0]);
      ck_assert(c[0].ndesc == 1 && !(seen & (1u << c[0].head)));
      seen |= 1u << c[0].head;
    }
    ck_assert(seen == 0xff);
  }
}
END_TEST

/* ---- misbehaving device ------------------------------------------------ */

START_TEST(test_virtq_bad_id_range)
{
  struct dev_chain c;

  vq_open(8, false);
  ck_assert(add_one(0x1000, 0, 64, &tokens[0]) == 0);
  dev_take(&c);
  dev_complete(8, 10);
  expect_broken(NULL, "used id out of range");
  /* teardown still gets the token back */
  ck_assert(virtq_detach_unused(&vq) == &tokens[0]);
}
END_TEST

START_TEST(test_virtq_bad_id_huge)
{
  struct dev_chain c;

  vq_open(8, false);
  ck_assert(add_one(0x1000, 0, 64, &tokens[0]) == 0);
  dev_take(&c);
  dev_complete(0xffffffffu, 10);
  expect_broken(NULL, "used id out of range");
}
END_TEST

START_TEST(test_virtq_bad_id_never_posted)
{
  struct dev_chain c;

  vq_open(8, false);
  ck_assert(add_one(0x1000, 0, 64, &tokens[0]) == 0);
  dev_take(&c);
  ck_assert(c.head == 0);
  dev_complete(5, 10);
  expect_broken(NULL, "used id not in flight");
}
END_TEST

START_TEST(test_virtq_bad_id_not_head)
{
  struct dev_chain c;
  struct virtq_buf in[2] = { { 0x1000, 10 }, { 0x2000, 10 } };
  uint16_t second;

  vq_open(8, false);
  ck_assert(virtq_add(&vq, NULL, 0, in, 2, &tokens[0]) == 0);
  dev_take(&c);
  second = le16_load(&vq.desc[c.head].next);
  dev_complete(second, 10);
  expect_broken(NULL, "used id not in flight");
}
END_TEST

/* A queue of 8 with two 64-byte device-writable buffers posted (tokens 0, 1);
   the device takes the first into @p c. */
static void
open_two_take_one(struct dev_chain *c)
{
  vq_open(8, false);
  ck_assert(add_one(0x1000, 0, 64, &tokens[0]) == 0);
  ck_assert(add_one(0x2000, 0, 64, &tokens[1]) == 0);
  dev_take(c);
}

START_TEST(test_virtq_bad_id_twice)
{
  struct dev_chain c;
  uint32_t len;

  open_two_take_one(&c);
  /* two entries, two in flight: the index is plausible, the second id is not */
  dev_complete(c.head, 64);
  dev_complete(c.head, 64);
  ck_assert(virtq_get_used(&vq, &len) == &tokens[0] && len == 64);
  ck_assert(!vq.broken);
  expect_broken(&len, "used id not in flight");
  ck_assert(virtq_detach_unused(&vq) == &tokens[1]);
  ck_assert(virtq_detach_unused(&vq) == NULL);
}
END_TEST

START_TEST(test_virtq_bad_len)
{
  struct dev_chain c;
  uint32_t len;

  vq_open(8, false);
  ck_assert(add_one(0x1000, 44, 100, &tokens[0]) == 0);
  ck_assert(add_one(0x2000, 44, 0, &tokens[1]) == 0);
  dev_take(&c);
  dev_complete(c.head, 100);
  ck_assert(virtq_get_used(&vq, &len) == &tokens[0] && len == 100);
  /* the device-readable part does not count: 101 bytes into 100 writable ones is a lie */
  ck_assert(add_one(0x3000, 44, 100, &tokens[2]) == 0);
  dev_take(&c);
  dev_take(&c);
  dev_complete(c.head, 44 + 100);
  expect_broken(&len, "used length beyond buffer");
}
END_TEST

START_TEST(test_virtq_out_only_len_ignored)
{
  struct dev_chain c;
  uint32_t len = 7;

  vq_open(8, false);
  ck_assert(add_one(0x1000, 44 + 1000, 0, &tokens[0]) == 0);
  ck_assert(add_one(0x2000, 44, 0, &tokens[1]) == 0);
  /* Linux vhost 4.8 to late 2021: header + payload as the used length of tx
     chains. Nothing was writable, so the length is meaningless, not a lie. */
  dev_take(&c);
  dev_complete(c.head, 44 + 1000);
  ck_assert(virtq_get_used(&vq, &len) == &tokens[0] && len == 0);
  dev_take(&c);
  dev_complete(c.head, 0xffffffffu);
  ck_assert(virtq_get_used(&vq, &len) == &tokens[1] && len == 0);
  ck_assert(!vq.broken);
}
END_TEST

START_TEST(test_virtq_bad_len_by_one)
{
  struct dev_chain c;

  vq_open(8, false);
  ck_assert(add_one(0x1000, 44, 100, &tokens[0]) == 0);
  dev_take(&c);
  dev_complete(c.head, 101);
  expect_broken(NULL, "used length beyond buffer");
}
END_TEST

START_TEST(test_virtq_bad_used_idx_ahead)
{
  struct dev_chain c;

  open_two_take_one(&c);
  dev_write_used(0, c.head, 64);
  le16_store(&vq.used->idx, 3); /* three entries with two chains in flight */
  expect_broken(NULL, "used index ran ahead");
}
END_TEST

START_TEST(test_virtq_bad_used_idx_backwards)
{
  struct dev_chain c;
  uint32_t len;

  open_two_take_one(&c);
  dev_complete(c.head, 64);
  ck_assert(virtq_get_used(&vq, &len) == &tokens[0]);
  le16_store(&vq.used->idx, 0); /* moves back: 65535 entries "ahead" */
  expect_broken(NULL, "used index ran ahead");
}
END_TEST

/* ---- notifications ----------------------------------------------------- */

START_TEST(test_virtq_kick_no_notify)
{
  vq_open(8, false);
  ck_assert(!virtq_kick_prepare(&vq));
  ck_assert(add_one(0x1000, 16, 0, &tokens[0]) == 0);
  ck_assert(virtq_kick_prepare(&vq));
  ck_assert(!virtq_kick_prepare(&vq)); /* nothing new since */
  le16_store(&vq.used->flags, VIRTQ_USED_F_NO_NOTIFY);
  ck_assert(add_one(0x2000, 16, 0, &tokens[1]) == 0);
  ck_assert(!virtq_kick_prepare(&vq));
  le16_store(&vq.used->flags, 0);
  ck_assert(!virtq_kick_prepare(&vq)); /* suppressed adds are not re-announced */
  ck_assert(add_one(0x3000, 16, 0, &tokens[2]) == 0);
  ck_assert(add_one(0x4000, 16, 0, &tokens[3]) == 0);
  ck_assert(virtq_kick_prepare(&vq));
}
END_TEST

/* Advance every index to @p target with single-chain add/complete cycles. */
static void
cycle_to(uint16_t target)
{
  struct dev_chain c;

  while (vq.avail_idx != target) {
    CHECK(add_one(0x1000, 16, 0, &tokens[0]) == 0);
    (void)virtq_kick_prepare(&vq);
    dev_take(&c);
    dev_complete(c.head, 0);
    CHECK(virtq_get_used(&vq, NULL) == &tokens[0]);
  }
}

/* Add @p n single-descriptor chains and ask whether to kick, the device wanting event @p ev. */
static bool
kick_after(unsigned n, uint16_t ev)
{
  unsigned k;

  le16_store(&vq.used->ring[vq.num], ev); /* avail_event */
  for (k = 0; k < n; k++) {
    ck_assert(add_one(0x1000, 16, 0, &tokens[k]) == 0);
  }
  return virtq_kick_prepare(&vq);
}

/* Device completes everything it has not taken yet; the driver collects it. */
static void
drain(void)
{
  struct dev_chain c;

  while (dev_pending() > 0) {
    dev_take(&c);
    dev_complete(c.head, 0);
  }
  while (virtq_get_used(&vq, NULL) != NULL) {
  }
  CHECK(!vq.broken && vq.in_flight == 0);
}

START_TEST(test_virtq_kick_event_idx)
{
  vq_open(8, true);
  /* used->flags means nothing under EVENT_IDX */
  le16_store(&vq.used->flags, VIRTQ_USED_F_NO_NOTIFY);
  ck_assert(kick_after(1, 0));   /* 0 -> 1 passes event 0 */
  ck_assert(!kick_after(1, 0));  /* 1 -> 2 does not */
  ck_assert(kick_after(2, 3));   /* 2 -> 4 passes 3, the last of the batch */
  ck_assert(!kick_after(2, 6));  /* 4 -> 6 stops just short of 6 */
  ck_assert(!virtq_kick_prepare(&vq)); /* nothing added since */
  drain();

  /* across the wrap of the 16-bit index */
  cycle_to(65532);
  ck_assert(kick_after(3, 65534));  /* 65532 -> 65535 */
  ck_assert(kick_after(4, 1));      /* 65535 -> 3 passes 1 after the wrap */
  drain();
  ck_assert(!kick_after(2, 2));     /* 3 -> 5: event 2 already behind */
  ck_assert(!kick_after(2, 65535)); /* 5 -> 7: a stale event from before the wrap */
  ck_assert(kick_after(1, 7));      /* 7 -> 8 */
}
END_TEST

START_TEST(test_virtq_used_event)
{
  struct dev_chain c;

  vq_open(4, true);
  cycle_to(70);
  /* used_event trails the next entry we consume, so the device never has cause to interrupt */
  ck_assert(le16_load(&vq.avail->ring[4]) == 69);
  ck_assert(!virtq_need_event(le16_load(&vq.avail->ring[4]), (uint16_t)(70 + 4), 70));
  ck_assert(add_one(0x1000, 16, 0, &tokens[0]) == 0);
  dev_take(&c);
  dev_complete(c.head, 0);
  ck_assert(le16_load(&vq.avail->ring[4]) == 69); /* not consumed yet */
  ck_assert(virtq_get_used(&vq, NULL) == &tokens[0]);
  ck_assert(le16_load(&vq.avail->ring[4]) == 70);
  ck_assert(le16_load(&vq.avail->flags) == 0);
}
END_TEST

/* ---- teardown -------------------------------------------------------------- */

START_TEST(test_virtq_detach_unused)
{
  struct virtq_buf in[3] = { { 0x1000, 10 }, { 0x2000, 10 }, { 0x3000, 10 } };
  struct dev_chain c;
  unsigned seen = 0;
  void *t;
  int k;

  vq_open(16, false);
  for (k = 0; k < 5; k++) {
    ck_assert(virtq_add(&vq, NULL, 0, in, 1 + (unsigned)k % 3, &tokens[k]) == 0);
  }
  /* one collected, one used but not collected, three never taken by the device */
  dev_take(&c);
  dev_complete(c.head, 5);
  ck_assert(virtq_get_used(&vq, NULL) == &tokens[0]);
  dev_take(&c);
  dev_complete(c.head, 5);
  while ((t = virtq_detach_unused(&vq)) != NULL) {
    k = (int)((int *)t - tokens);
    ck_assert_msg(k >= 1 && k < 5 && !(seen & (1u << k)), "token %d", k);
    seen |= 1u << k;
  }
  ck_assert(seen == 0x1e);
  ck_assert(vq.num_free == 16 && vq.in_flight == 0);
  ck_assert(virtq_detach_unused(&vq) == NULL);
}
END_TEST

START_TEST(test_virtq_fini)
{
  vq_open(8, false);
  ck_assert(add_one(0x1000, 16, 0, &tokens[0]) == 0);
  virtq_fini(&vq);
  ck_assert(vq.state == NULL);
  ck_assert(add_one(0x1000, 16, 0, &tokens[0]) == -EIO);
  ck_assert(virtq_get_used(&vq, NULL) == NULL && virtq_detach_unused(&vq) == NULL);
  virtq_fini(&vq); /* twice is harmless; teardown does it a third time */
}
END_TEST

Suite *
lwvsock_test_suite(void)
{
  testfunc tests[] = {
    TESTFUNC(test_virtq_layout),
    TESTFUNC(test_virtq_layout_event_idx),
    TESTFUNC(test_virtq_init_rejects),
    TESTFUNC(test_virtq_out_only),
    TESTFUNC(test_virtq_in_only),
    TESTFUNC(test_virtq_mixed),
    TESTFUNC(test_virtq_full),
    TESTFUNC(test_virtq_bad_args),
    TESTFUNC(test_virtq_wrap),
    TESTFUNC(test_virtq_out_of_order),
    TESTFUNC(test_virtq_bad_id_range),
    TESTFUNC(test_virtq_bad_id_huge),
    TESTFUNC(test_virtq_bad_id_never_posted),
    TESTFUNC(test_virtq_bad_id_not_head),
    TESTFUNC(test_virtq_bad_id_twice),
    TESTFUNC(test_virtq_bad_len),
    TESTFUNC(test_virtq_out_only_len_ignored),
    TESTFUNC(test_virtq_bad_len_by_one),
    TESTFUNC(test_virtq_bad_used_idx_ahead),
    TESTFUNC(test_virtq_bad_used_idx_backwards),
    TESTFUNC(test_virtq_kick_no_notify),
    TESTFUNC(test_virtq_kick_event_idx),
    TESTFUNC(test_virtq_used_event),
    TESTFUNC(test_virtq_detach_unused),
    TESTFUNC(test_virtq_fini),
  };
  return create_suite("VIRTQ", tests, sizeof(tests) / sizeof(testfunc), virtq_setup, virtq_teardown);
}
