/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Fault injection, in the spirit of nghttp2's failmalloc tests: every place
 * lwvsock takes memory from is made to fail in turn (lwIP's heap, our pcb
 * pool, the tx payload slots, the reply store, malloc during
 * lwvsock_dev_open), and each operation must fail cleanly (an error to the
 * caller or the application, an RST to the peer) and work again once memory is
 * back. Teardown checks lwIP's heap and pools; valgrind (make check-valgrind)
 * checks malloc.
 *
 * malloc, calloc and aligned_alloc are wrapped (-Wl,--wrap, see
 * tests/hardening.mk): while armed, the Nth call fails, and every block taken
 * meanwhile is tracked until it is freed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwvsock_check.h"
#include "proto_fixture.h"
#include "lwvsock_priv.h"
#include "lwip/stats.h"

/* ---- malloc countdown ---------------------------------------------------------------- */

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_aligned_alloc(size_t align, size_t size);
void __real_free(void *p);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_aligned_alloc(size_t align, size_t size);
void __wrap_free(void *p);

#define TRACK_MAX 256

static int fail_countdown;       /* 0: off; N: the Nth allocation from now fails */
static int alloc_calls;          /* allocations seen while armed */
static void *tracked[TRACK_MAX]; /* blocks taken while armed and not yet freed */

static void *
track(void *p)
{
  int i;

  if (p != NULL && fail_countdown > 0) {
    for (i = 0; i < TRACK_MAX; i++) {
      if (tracked[i] == NULL) {
        tracked[i] = p;
        break;
      }
    }
  }
  return p;
}

/* Whether this allocation is the one to fail. */
static int
should_fail(void)
{
  if (fail_countdown <= 0) {
    return 0;
  }
  alloc_calls++;
  return alloc_calls == fail_countdown;
}

void *
__wrap_malloc(size_t size)
{
  return should_fail() ? NULL : track(__real_malloc(size));
}

void *
__wrap_calloc(size_t n, size_t size)
{
  return should_fail() ? NULL : track(__real_calloc(n, size));
}

void *
__wrap_aligned_alloc(size_t align, size_t size)
{
  return should_fail() ? NULL : track(__real_aligned_alloc(align, size));
}

void
__wrap_free(void *p)
{
  int i;

  if (p != NULL) {
    for (i = 0; i < TRACK_MAX; i++) {
      if (tracked[i] == p) {
        tracked[i] = NULL;
        break;
      }
    }
  }
  __real_free(p);
}

static int
tracked_live(void)
{
  int i, n = 0;

  for (i = 0; i < TRACK_MAX; i++) {
    n += tracked[i] != NULL;
  }
  return n;
}

/* ---- fixture ------------------------------------------------------------------------- */

static struct fx f;

static void
fi_setup(void)
{
  fx_setup(&f);
}

static void
fi_teardown(void)
{
  fail_countdown = 0;
  fx_teardown(&f);
}

static struct lwvsock_dev_stats
stats(void)
{
  struct lwvsock_dev_stats st;

  lwvsock_dev_get_stats(f.dev, &st);
  return st;
}

static void
run(int n)
{
  fx_run(&f, n);
}

/* Host sends @p len pattern bytes; the guest must get them all, in order. */
static void
transfer_ok(struct app *a, int h, size_t len)
{
  static uint8_t buf[8192];
  uint64_t start = a->total;

  ck_assert_uint_le(len, sizeof(buf));
  a->check_pattern = 0;
  pattern_fill(buf, 0, len);
  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, buf, len), (ssize_t)len);
  run(10);
  ck_assert_uint_eq(a->total - start, len);
  ck_assert_int_eq(a->err_called, 0);
}

static void
close_both(struct app *a, int h)
{
  if (a->pcb != NULL) {
    lwvsock_close(a->pcb);
  }
  run(10);
  lwvsock_sim_close(f.sim, h);
  run(10);
}

/* ---- lwIP's heap ----------------------------------------------------------------------- */

#define HOG_MAX 1024

struct hog {
  struct pbuf *p[HOG_MAX];
  int n;
};

/* Take every byte of lwIP's heap (largest pieces first). */
static void
heap_exhaust(struct hog *hg)
{
  static const u16_t sizes[] = { 60000, 4096, 256, 16, 1 };
  size_t k;

  hg->n = 0;
  for (k = 0; k < LWIP_ARRAYSIZE(sizes); k++) {
    struct pbuf *p;
    while (hg->n < HOG_MAX && (p = pbuf_alloc(PBUF_RAW, sizes[k], PBUF_RAM)) != NULL) {
      hg->p[hg->n++] = p;
    }
  }
  ck_assert_ptr_null(pbuf_alloc(PBUF_RAW, 1, PBUF_RAM));
}

static void
heap_release(struct hog *hg)
{
  while (hg->n > 0) {
    pbuf_free(hg->p[--hg->n]);
  }
}

/*
 * No heap: a payload that would be copied (small) cannot be held, so it waits
 * in the ring (backpressure) rather than lose bytes or reset a peer that kept
 * to our credit; payloads lent in place need no heap and still arrive.
 */
START_TEST(test_heap_exhausted_rx)
{
  static struct app a, b;
  static struct hog hg;
  uint64_t exhausted, deferred;
  int h, hb;

  memset(&a, 0, sizeof(a));
  memset(&b, 0, sizeof(b));
  h = fx_guest_connect(&f, &a, LWVSOCK_STREAM, 8001);
  heap_exhaust(&hg);
  exhausted = stats().pool_exhausted;
  deferred = stats().rx_deferred;
  transfer_ok(&a, h, 4000); /* lent: no heap needed */
  ck_assert_int_eq(lwvsock_sim_send(f.sim, h, "tiny", 4), 4);
  run(10);
  ck_assert_uint_eq(a.total, 4000);
  ck_assert_int_eq(a.err_called, 0);
  ck_assert_uint_gt(stats().pool_exhausted, exhausted);
  ck_assert_uint_eq(stats().rx_deferred, deferred + 1);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h), LWVSOCK_SIM_CONNECTED);
  heap_release(&hg);
  /* Memory is back: the waiting payload arrives, and small ones are copied again. */
  run(5);
  ck_assert_uint_eq(a.total, 4004);
  hb = fx_guest_connect(&f, &b, LWVSOCK_STREAM, 8002);
  transfer_ok(&b, hb, 4);
  transfer_ok(&b, hb, 4000);
  close_both(&b, hb);
  close_both(&a, h);
}
END_TEST

/* No heap: loopback packets cannot be built; connect fails with an error, then works. */
START_TEST(test_heap_exhausted_loopback)
{
  static struct app l, acc[1], c, c2;
  static struct hog hg;
  struct lwvsock_pcb *lp = lwvsock_new(f.dev, LWVSOCK_STREAM);
  struct lwvsock_pcb *cp;
  int i;

  memset(&l, 0, sizeof(l));
  memset(acc, 0, sizeof(acc));
  memset(&c, 0, sizeof(c));
  memset(&c2, 0, sizeof(c2));
  ck_assert_int_eq(lwvsock_bind(lp, LWVSOCK_CID_ANY, 8010), ERR_OK);
  ck_assert_ptr_eq(lwvsock_listen(lp), lp);
  l.accepted = acc;
  l.max_accepted = 1;
  lwvsock_arg(lp, &l);
  lwvsock_accept(lp, app_accept);
  cp = lwvsock_new(f.dev, LWVSOCK_STREAM);
  app_attach(&c, cp);
  heap_exhaust(&hg);
  /* The REQUEST cannot be queued: connect says so at once (no 2 s timeout). */
  ck_assert_int_eq(lwvsock_connect(cp, LWVSOCK_CID_LOCAL, 8010, app_connected), ERR_MEM);
  for (i = 0; i < 10; i++) {
    fx_advance(&f, 10);
  }
  ck_assert_int_eq(c.connected, 0);
  ck_assert_int_eq(c.err_called, 0);
  ck_assert_int_eq(l.naccepted, 0);
  lwvsock_close(cp);
  heap_release(&hg);
  cp = lwvsock_new(f.dev, LWVSOCK_STREAM);
  app_attach(&c2, cp);
  ck_assert_int_eq(lwvsock_connect(cp, LWVSOCK_CID_LOCAL, 8010, app_connected), ERR_OK);
  run(5);
  ck_assert_int_eq(c2.connected, 1);
  ck_assert_int_eq(l.naccepted, 1);
  ck_assert_int_eq(lwvsock_write(cp, "back", 4, 0), ERR_OK);
  run(5);
  ck_assert_uint_eq(acc[0].total, 4);
  lwvsock_close(cp);
  lwvsock_close(acc[0].pcb);
  lwvsock_close(lp);
  run(5);
}
END_TEST

/* ---- the pcb pool ------------------------------------------------------------------------- */

/* No pcb: lwvsock_new says NULL, a REQUEST to our listener gets an RST; one freed pcb later it works. */
START_TEST(test_pcb_pool_exhausted)
{
  static struct app l, acc[1];
  static struct lwvsock_pcb *hog[MEMP_NUM_LWVSOCK_PCB];
  struct lwvsock_pcb *lp = lwvsock_new(f.dev, LWVSOCK_STREAM);
  struct lwvsock_pcb *p;
  uint64_t exhausted;
  int n = 0, h;

  memset(&l, 0, sizeof(l));
  memset(acc, 0, sizeof(acc));
  ck_assert_int_eq(lwvsock_bind(lp, LWVSOCK_CID_ANY, 8020), ERR_OK);
  ck_assert_ptr_eq(lwvsock_listen(lp), lp);
  l.accepted = acc;
  l.max_accepted = 1;
  lwvsock_arg(lp, &l);
  lwvsock_accept(lp, app_accept);
  while (n < MEMP_NUM_LWVSOCK_PCB && (p = lwvsock_new(f.dev, LWVSOCK_STREAM)) != NULL) {
    hog[n++] = p;
  }
  ck_assert_int_gt(n, 0);
  ck_assert_uint_eq(fx_pcbs_in_use(), MEMP_NUM_LWVSOCK_PCB);
  exhausted = stats().pool_exhausted;
  ck_assert_ptr_null(lwvsock_new(f.dev, LWVSOCK_STREAM));
  h = lwvsock_sim_connect(f.sim, 8020, LWVSOCK_STREAM);
  run(10);
  ck_assert_int_eq(l.naccepted, 0);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h), LWVSOCK_SIM_CLOSED);
  ck_assert_int_eq(lwvsock_sim_error(f.sim, h), -ECONNREFUSED);
  ck_assert_uint_gt(stats().pool_exhausted, exhausted);
  lwvsock_sim_close(f.sim, h);
  lwvsock_close(hog[--n]);
  run(2);
  h = lwvsock_sim_connect(f.sim, 8020, LWVSOCK_STREAM);
  run(10);
  ck_assert_int_eq(l.naccepted, 1);
  ck_assert_int_eq(lwvsock_sim_state(f.sim, h), LWVSOCK_SIM_CONNECTED);
  while (n > 0) {
    lwvsock_close(hog[--n]);
  }
  lwvsock_close(acc[0].pcb);
  lwvsock_close(lp);
  run(10);
  lwvsock_sim_close(f.sim, h);
  run(10);
}
END_TEST

/* ---- tx payload slots ------------------------------------------------------------------------ */

/*
 * Peers that read nothing leave written data in our slots: once every slot is
 * taken, writes on any connection say ERR_MEM (and sndbuf 0); when a peer
 * reads, the slots come back and writes succeed, every byte in order.
 */
START_TEST(test_tx_slots_exhausted)
{
  enum { NCONN = 4 };
  static struct app a[NCONN], c;
  static uint8_t buf[64 * 1024], got[64 * 1024];
  uint64_t written[NCONN], read0 = 0;
  int h[NCONN], hc, i, k;

  memset(a, 0, sizeof(a));
  memset(&c, 0, sizeof(c));
  memset(written, 0, sizeof(written));
  for (i = 0; i < NCONN; i++) {
    h[i] = fx_guest_connect(&f, &a[i], LWVSOCK_STREAM, 8030 + (uint32_t)i);
    lwvsock_set_sndbuf(a[i].pcb, LWVSOCK_RCV_BUF_MAX);
  }
  hc = fx_guest_connect(&f, &c, LWVSOCK_STREAM, 8039);
  /* Fill: the hosts read nothing, so everything beyond their credit stays queued. */
  for (k = 0; k < 200; k++) {
    for (i = 0; i < NCONN; i++) {
      pattern_fill(buf, written[i], sizeof(buf));
      if (lwvsock_write(a[i].pcb, buf, sizeof(buf), 0) == ERR_OK) {
        written[i] += sizeof(buf);
      }
    }
    run(1);
  }
  ck_assert_uint_eq(txbuf_free_room(f.dev), 0);
  ck_assert_uint_eq(lwvsock_sndbuf(c.pcb), 0);
  ck_assert_int_eq(lwvsock_write(c.pcb, "x", 1, 0), ERR_MEM);
  ck_assert_int_eq(c.err_called, 0);
  /* One host reads everything its guest wrote, in order: slots return, writes work again. */
  for (k = 0; k < 4000 && read0 < written[0]; k++) {
    ssize_t r = lwvsock_sim_recv(f.sim, h[0], got, sizeof(got));
    if (r > 0) {
      pattern_fill(buf, read0, (size_t)r);
      ck_assert_mem_eq(got, buf, (size_t)r);
      read0 += (uint64_t)r;
    }
    run(1);
  }
  ck_assert_uint_eq(read0, written[0]);
  ck_assert_uint_gt(lwvsock_sndbuf(c.pcb), 0);
  ck_assert_int_eq(lwvsock_write(c.pcb, "x", 1, 0), ERR_OK);
  run(5);
  ck_assert_int_eq(lwvsock_sim_recv(f.sim, hc, got, 1), 1);
  ck_assert_int_eq(got[0], 'x');
  for (i = 0; i < NCONN; i++) {
    ck_assert_int_eq(a[i].err_called, 0);
    lwvsock_abort(a[i].pcb);
    lwvsock_sim_close(f.sim, h[i]);
  }
  close_both(&c, hc);
}
END_TEST

/* ---- the reply store ------------------------------------------------------------------------- */

/*
 * The device takes no tx and the reply store is full: a connect cannot get its
 * REQUEST out; it fails with an error (not silence), and once the device
 * resumes a new connect works.
 */
START_TEST(test_reply_store_full)
{
  static struct app a, b, v;
  struct lwvsock_sim_faults flt = {0};
  struct vsock_hdr hd;
  struct lwvsock_pcb *pcb;
  int i, h, hv;

  memset(&a, 0, sizeof(a));
  memset(&b, 0, sizeof(b));
  memset(&v, 0, sizeof(v));
  hv = fx_guest_connect(&f, &v, LWVSOCK_STREAM, 8043);
  flt.stall_tx = 1;
  lwvsock_sim_set_faults(f.sim, &flt);
  memset(&hd, 0, sizeof(hd));
  hd.src_cid = VMADDR_CID_HOST;
  hd.dst_cid = lwvsock_dev_cid(f.dev);
  hd.type = LWVSOCK_STREAM;
  hd.op = VIRTIO_VSOCK_OP_REQUEST;
  hd.dst_port = 8040;
  for (i = 0; i < 2 * LWVSOCK_QUEUE_SIZE + LWVSOCK_REPLY_QUEUE_MAX; i++) {
    hd.src_port = 70000 + (uint32_t)i;
    fx_inject(&f, &hd, NULL, 0);
  }
  run(50);
  ck_assert_uint_eq(f.dev->tx->nreplies, LWVSOCK_REPLY_QUEUE_MAX);
  pcb = lwvsock_new(f.dev, LWVSOCK_STREAM);
  ck_assert_ptr_nonnull(pcb);
  app_attach(&a, pcb);
  ck_assert_int_eq(lwvsock_sim_listen(f.sim, 8041, LWVSOCK_STREAM) >= 0, 1);
  /* The REQUEST finds ring and reply store full: connect fails fast. */
  ck_assert_int_eq(lwvsock_connect(pcb, LWVSOCK_CID_HOST, 8041, app_connected), ERR_MEM);
  ck_assert_int_eq(lwvsock_state(pcb), LWVSOCK_CLOSED);
  ck_assert_int_eq(a.connected, 0);
  ck_assert_int_eq(a.err_called, 0);
  lwvsock_close(pcb);
  /* An abort now cannot place its RST either; the peer must still get it. */
  lwvsock_abort(v.pcb);
  ck_assert_int_eq(v.err, ERR_ABRT);
  flt.stall_tx = 0;
  lwvsock_sim_set_faults(f.sim, &flt);
  run(200);
  ck_assert_uint_eq(f.dev->tx->nreplies, 0);
  ck_assert_msg(lwvsock_sim_state(f.sim, hv) == LWVSOCK_SIM_CLOSED,
                "an RST that found the reply store full was dropped: the peer still thinks it is connected");
  lwvsock_sim_close(f.sim, hv);
  h = fx_guest_connect(&f, &b, LWVSOCK_STREAM, 8042);
  transfer_ok(&b, h, 100);
  close_both(&b, h);
}
END_TEST

/* ---- malloc during lwvsock_dev_open -------------------------------------------------------------- */

/*
 * Fail the 1st, 2nd, ... allocation of lwvsock_dev_open in turn: each attempt
 * fails cleanly (ERR_MEM, or ERR_IF when the backend could not get device
 * memory), frees everything it took, and the next attempt starts from scratch;
 * once no allocation fails, the device comes up and carries data.
 */
START_TEST(test_malloc_fail_open)
{
  static struct app a;
  int n, failed = 0, h;
  struct lwvsock_dev *dev = NULL;
  char leaks[256] = "";

  memset(&a, 0, sizeof(a));
  fx_close(&f);
  for (n = 1; n < 64; n++) {
    struct lwvsock_sim *sim;
    err_t err;

    ck_assert_int_eq(lwvsock_sim_new(NULL, &sim), 0);
    memset(tracked, 0, sizeof(tracked));
    alloc_calls = 0;
    fail_countdown = n;
    err = lwvsock_dev_open(lwvsock_sim_backend(sim), &dev);
    if (alloc_calls < n) {
      /* No allocation failed: open went through; this is the working device. */
      fail_countdown = 0;
      ck_assert_int_eq(err, ERR_OK);
      f.sim = sim;
      f.dev = dev;
      break;
    }
    ck_assert_msg(err == ERR_MEM || err == ERR_IF, "allocation %d failed: open said %d", n, err);
    if (dev != NULL) {
      lwvsock_dev_close(dev); /* destroys the sim too */
    } else {
      lwvsock_sim_backend(sim)->ops->destroy(lwvsock_sim_backend(sim));
    }
    if (tracked_live() != 0) {
      size_t len = strlen(leaks);
      snprintf(leaks + len, sizeof(leaks) - len, " #%d (%d blocks)", n, tracked_live());
    }
    fail_countdown = 0;
    failed++;
  }
  ck_assert_msg(leaks[0] == '\0', "failing these allocations of lwvsock_dev_open leaked:%s", leaks);
  ck_assert_int_gt(failed, 3);
  ck_assert_ptr_nonnull(f.dev);
  h = fx_guest_connect(&f, &a, LWVSOCK_STREAM, 8050);
  transfer_ok(&a, h, 1000);
  close_both(&a, h);
}
END_TEST

Suite *
lwvsock_test_suite(void)
{
  testfunc tests[] = {
    TESTFUNC(test_heap_exhausted_rx),
    TESTFUNC(test_heap_exhausted_loopback),
    TESTFUNC(test_pcb_pool_exhausted),
    TESTFUNC(test_tx_slots_exhausted),
    TESTFUNC(test_reply_store_full),
    TESTFUNC(test_malloc_fail_open),
  };
  return create_suite("FAILINJECT", tests, LWIP_ARRAYSIZE(tests), fi_setup, fi_teardown);
}
