/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Test fixture for the protocol suites (see proto_fixture.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwvsock_check.h"
#include "proto_fixture.h"
#include "lwvsock_priv.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"

/* test_proto_txlen builds the protocol suite with FX_SIM_TX_USED_LEN=1: every
   sim then reports tx used lengths as old Linux vhost did. */
#ifndef FX_SIM_TX_USED_LEN
#define FX_SIM_TX_USED_LEN 0
#endif

void
fx_open(struct fx *f, const struct lwvsock_sim_config *cfg)
{
  struct lwvsock_sim_config c;
  err_t err;

  memset(f, 0, sizeof(*f));
  if (cfg != NULL) {
    c = *cfg;
  } else {
    lwvsock_sim_config_init(&c);
  }
  c.tx_used_len = c.tx_used_len || FX_SIM_TX_USED_LEN;
  ck_assert_int_eq(lwvsock_sim_new(&c, &f->sim), 0);
  err = lwvsock_dev_open(lwvsock_sim_backend(f->sim), &f->dev);
  ck_assert_msg(err == ERR_OK, "dev_open: %s (%s)", lwvsock_strerror(err),
                f->dev ? lwvsock_dev_error(f->dev) : "");
}

void
fx_close(struct fx *f)
{
  if (f->dev != NULL) {
    lwvsock_dev_close(f->dev);
  }
  f->dev = NULL;
  f->sim = NULL;
}

void
fx_setup(struct fx *f)
{
  lwvsock_test_clock_set(1000);
  fx_open(f, NULL);
  f->pcbs_before = fx_pcbs_in_use();
}

void
fx_teardown(struct fx *f)
{
  unsigned before = f->pcbs_before;

  fx_close(f);
  ck_assert_uint_eq(fx_pcbs_in_use(), before);
  lwvsock_check_ensure_no_alloc(0);
}

void
fx_run(struct fx *f, int n)
{
  while (n-- > 0) {
    lwvsock_dev_poll(f->dev, 0);
  }
}

void
fx_advance(struct fx *f, uint32_t ms)
{
  uint32_t step;

  for (step = 0; step < ms; step += 10) {
    lwvsock_test_clock_advance(10);
    fx_run(f, 2);
    sys_check_timeouts();
  }
}

int
fx_until(struct fx *f, int (*cond)(void *), void *arg, int max)
{
  while (max-- > 0) {
    if (cond(arg)) {
      return 1;
    }
    lwvsock_dev_poll(f->dev, 0);
  }
  return cond(arg);
}

/* A 64 KiB block of pseudo-random bytes, xored with the block number, so a
   byte lost, duplicated or reordered anywhere in a stream shows. */
static uint8_t pattern_block[65536];

static void
pattern_init(void)
{
  static int ready;
  uint64_t x = 0x243f6a8885a308d3ull;
  size_t i;

  if (ready) {
    return;
  }
  for (i = 0; i < sizeof(pattern_block); i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    pattern_block[i] = (uint8_t)x;
  }
  ready = 1;
}

uint8_t
pattern_byte(uint64_t off)
{
  pattern_init();
  return (uint8_t)(pattern_block[off & 0xffff] ^ (uint8_t)(off >> 16));
}

void
pattern_fill(uint8_t *dst, uint64_t off, size_t len)
{
  pattern_init();
  while (len > 0) {
    size_t in = (size_t)(off & 0xffff);
    size_t n = LWIP_MIN(len, sizeof(pattern_block) - in);
    uint8_t key = (uint8_t)(off >> 16);
    size_t i;
    for (i = 0; i < n; i++) {
      dst[i] = pattern_block[in + i] ^ key;
    }
    dst += n;
    off += n;
    len -= n;
  }
}

static err_t
app_recv(void *arg, struct lwvsock_pcb *pcb, struct pbuf *p, err_t err)
{
  struct app *a = (struct app *)arg;
  struct pbuf *q;

  LWIP_UNUSED_ARG(err);
  if (p == NULL) {
    a->fin = 1;
    return ERR_OK;
  }
  if (a->refuse > 0) {
    a->refuse--;
    return ERR_MEM;
  }
  if (a->msgs < 64) {
    a->msg_len[a->msgs] = p->tot_len;
  }
  a->msgs++;
  for (q = p; q != NULL; q = q->next) {
    const uint8_t *d = (const uint8_t *)q->payload;
    if (a->check_pattern) {
      uint8_t expect[4096];
      size_t done;
      for (done = 0; done < q->len && !a->mismatch; done += sizeof(expect)) {
        size_t n = LWIP_MIN(sizeof(expect), (size_t)q->len - done);
        pattern_fill(expect, a->total + done, n);
        a->mismatch = memcmp(expect, d + done, n) != 0;
      }
      if (!a->mismatch) {
        a->verified += q->len;
      }
    }
    if (a->len < a->cap) {
      size_t n = LWIP_MIN((size_t)q->len, a->cap - a->len);
      memcpy(a->buf + a->len, d, n);
      a->len += n;
    }
    a->total += q->len;
  }
  if (a->hold) {
    a->held += p->tot_len;
  } else {
    lwvsock_recved(pcb, p->tot_len);
  }
  pbuf_free(p);
  return ERR_OK;
}

static err_t
app_sent(void *arg, struct lwvsock_pcb *pcb, uint32_t len)
{
  struct app *a = (struct app *)arg;

  LWIP_UNUSED_ARG(pcb);
  a->sent += len;
  return ERR_OK;
}

static void
app_err(void *arg, err_t err)
{
  struct app *a = (struct app *)arg;

  a->err_called++;
  a->err = err;
  a->pcb = NULL;
}

void
app_attach(struct app *a, struct lwvsock_pcb *pcb)
{
  a->pcb = pcb;
  lwvsock_arg(pcb, a);
  lwvsock_recv(pcb, app_recv);
  lwvsock_sent(pcb, app_sent);
  lwvsock_err(pcb, app_err);
}

err_t
app_accept(void *arg, struct lwvsock_pcb *newpcb, err_t err)
{
  struct app *l = (struct app *)arg;
  struct app *a;

  if (err != ERR_OK || newpcb == NULL || l->naccepted >= l->max_accepted) {
    return ERR_VAL;
  }
  a = &l->accepted[l->naccepted++];
  app_attach(a, newpcb);
  a->connected = 1;
  if (l->delay_backlog) {
    lwvsock_backlog_delayed(newpcb);
  }
  return ERR_OK;
}

err_t
app_connected(void *arg, struct lwvsock_pcb *pcb, err_t err)
{
  struct app *a = (struct app *)arg;

  LWIP_UNUSED_ARG(pcb);
  a->connected = err == ERR_OK;
  return ERR_OK;
}

void
app_release(struct app *a)
{
  if (a->pcb != NULL && a->held > 0) {
    lwvsock_recved(a->pcb, (uint32_t)a->held);
  }
  a->held = 0;
  a->hold = 0;
}

static int
app_is_connected(void *arg)
{
  return ((struct app *)arg)->connected;
}

int
fx_guest_connect(struct fx *f, struct app *a, uint16_t type, uint32_t port)
{
  int l = lwvsock_sim_listen(f->sim, port, type);
  struct lwvsock_pcb *pcb = lwvsock_new(f->dev, (uint8_t)type);
  int h = -EAGAIN, i;

  ck_assert_int_ge(l, 0);
  ck_assert_ptr_nonnull(pcb);
  app_attach(a, pcb);
  ck_assert_int_eq(lwvsock_connect(pcb, LWVSOCK_CID_HOST, port, app_connected), ERR_OK);
  ck_assert(fx_until(f, app_is_connected, a, 50));
  for (i = 0; i < 50 && h < 0; i++) {
    h = lwvsock_sim_accept(f->sim, l);
    fx_run(f, 1);
  }
  ck_assert_int_ge(h, 0);
  lwvsock_sim_close(f->sim, l);
  return h;
}

void
fx_loopback_pair(struct fx *f, uint32_t cid, struct app *l, struct app *acc, struct app *c,
                 uint8_t *buf, size_t cap, struct lwvsock_pcb **lp, struct lwvsock_pcb **cp)
{
  *lp = lwvsock_new(f->dev, LWVSOCK_STREAM);
  *cp = lwvsock_new(f->dev, LWVSOCK_STREAM);
  ck_assert_ptr_nonnull(*lp);
  ck_assert_ptr_nonnull(*cp);
  memset(l, 0, sizeof(*l));
  memset(acc, 0, sizeof(*acc));
  memset(c, 0, sizeof(*c));
  ck_assert_int_eq(lwvsock_bind(*lp, LWVSOCK_CID_ANY, 7), ERR_OK);
  ck_assert_ptr_eq(lwvsock_listen(*lp), *lp);
  l->accepted = acc;
  l->max_accepted = 1;
  lwvsock_arg(*lp, l);
  lwvsock_accept(*lp, app_accept);
  app_attach(c, *cp);
  c->buf = buf;
  c->cap = cap;
  ck_assert_int_eq(lwvsock_connect(*cp, cid, 7, app_connected), ERR_OK);
  fx_run(f, 5);
  ck_assert_int_eq(c->connected, 1);
  ck_assert_int_eq(l->naccepted, 1);
}

size_t
fx_host_read(struct fx *f, int h, uint8_t *buf, size_t cap)
{
  size_t got = 0;
  int i;

  for (i = 0; i < 400 && got < cap; i++) {
    long r = lwvsock_sim_recv(f->sim, h, buf + got, cap - got);
    if (r > 0) {
      got += (size_t)r;
    } else if (r == 0) {
      break;
    }
    fx_run(f, 1);
  }
  return got;
}

void
fx_end_pair(struct fx *f, struct lwvsock_pcb *pcb, int h)
{
  lwvsock_close(pcb);
  fx_run(f, 10);
  lwvsock_sim_close(f->sim, h);
  fx_run(f, 5);
}

unsigned
fx_pcbs_in_use(void)
{
  return memp_LWVSOCK_PCB.stats->used;
}

void
fx_inject(struct fx *f, const struct vsock_hdr *h, const void *payload, uint32_t len)
{
  uint8_t raw[VIRTIO_VSOCK_HDR_LEN];

  ck_assert_uint_eq(vsock_hdr_encode(h, raw, sizeof(raw)), sizeof(raw));
  ck_assert_int_eq(lwvsock_sim_inject(f->sim, raw, payload, len), 0);
}
