/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Shared pieces of the libFuzzer targets (see fuzz_common.h).
 */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwvsock_priv.h"
#include "lwip/init.h"
#include "lwip/stats.h"
#include "lwip/sys.h"
#include "lwvsock/vsock.h"

static uint32_t fuzz_now;
static int lwip_ready;
static mem_size_t mem_baseline;
static u16_t memp_baseline[MEMP_MAX];

u32_t
sys_now(void)
{
  return fuzz_now;
}

void
fuzz_clock_advance(uint32_t ms)
{
  fuzz_now += ms;
}

void
fuzz_begin(void)
{
  int i;

  if (!lwip_ready) {
    lwip_init();
    lwvsock_pcb_pool_init();
    mem_baseline = lwip_stats.mem.used;
    for (i = 0; i < MEMP_MAX; i++) {
      memp_baseline[i] = lwip_stats.memp[i]->used;
    }
    lwip_ready = 1;
  }
  /* Start every input from the same state: reproducible crashes. */
  fuzz_now = 1000;
  srandom(1);
}

void
fuzz_check_no_leak(void)
{
  int i;

  if (lwip_stats.mem.used != mem_baseline) {
    fprintf(stderr, "fuzz: lwIP heap leak: %lu bytes in use, %lu at start\n",
            (unsigned long)lwip_stats.mem.used, (unsigned long)mem_baseline);
    abort();
  }
  for (i = 0; i < MEMP_MAX; i++) {
    if (lwip_stats.memp[i]->used != memp_baseline[i]) {
      fprintf(stderr, "fuzz: memp pool %d leak: %u in use, %u at start\n", i,
              (unsigned)lwip_stats.memp[i]->used, (unsigned)memp_baseline[i]);
      abort();
    }
  }
  if (memp_LWVSOCK_PCB.stats->used != 0) {
    fprintf(stderr, "fuzz: %u lwvsock pcbs leaked\n", (unsigned)memp_LWVSOCK_PCB.stats->used);
    abort();
  }
}

uint8_t
in_u8(struct fuzz_in *in)
{
  uint8_t v = 0;

  in_bytes(in, &v, 1);
  return v;
}

uint16_t
in_u16(struct fuzz_in *in)
{
  uint8_t b[2];

  in_bytes(in, b, 2);
  return (uint16_t)(b[0] | (b[1] << 8));
}

uint32_t
in_u32(struct fuzz_in *in)
{
  uint8_t b[4];

  in_bytes(in, b, 4);
  return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

void
in_bytes(struct fuzz_in *in, void *dst, size_t len)
{
  size_t n = len < in->n ? len : in->n;

  memcpy(dst, in->p, n);
  memset((uint8_t *)dst + n, 0, len - n);
  in->p += n;
  in->n -= n;
}

/* ---- a small application on the guest side ------------------------------------- */

struct fuzz_conn fuzz_conns[FUZZ_CONNS];

static struct fuzz_conn *
conn_of(void *arg)
{
  return (struct fuzz_conn *)arg;
}

static err_t
app_recv(void *arg, struct lwvsock_pcb *pcb, struct pbuf *p, err_t err)
{
  struct fuzz_conn *c = conn_of(arg);

  LWIP_UNUSED_ARG(err);
  if (p == NULL) {
    return ERR_OK;
  }
  if (c->hold) {
    if (c->nheld == FUZZ_HELD) {
      return ERR_MEM; /* refused: lwvsock offers it again later */
    }
    c->held[c->nheld++] = p;
    c->held_bytes += p->tot_len;
    return ERR_OK;
  }
  lwvsock_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static void
app_err(void *arg, err_t err)
{
  LWIP_UNUSED_ARG(err);
  conn_of(arg)->pcb = NULL;
}

void
fuzz_app_reset(void)
{
  memset(fuzz_conns, 0, sizeof(fuzz_conns));
}

void
fuzz_app_attach(struct lwvsock_pcb *pcb)
{
  int i;

  for (i = 0; i < FUZZ_CONNS; i++) {
    struct fuzz_conn *c = &fuzz_conns[i];
    if (c->pcb == NULL && c->nheld == 0) {
      c->pcb = pcb;
      c->hold = 0;
      lwvsock_arg(pcb, c);
      lwvsock_recv(pcb, app_recv);
      lwvsock_err(pcb, app_err);
      return;
    }
  }
  lwvsock_abort(pcb);
}

static err_t
app_accept(void *arg, struct lwvsock_pcb *newpcb, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  if (err != ERR_OK || newpcb == NULL) {
    return ERR_VAL;
  }
  fuzz_app_attach(newpcb);
  /* attach aborted it when no slot was free */
  return lwvsock_state(newpcb) == LWVSOCK_CLOSED ? ERR_ABRT : ERR_OK;
}

static err_t
app_connected(void *arg, struct lwvsock_pcb *pcb, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(pcb);
  LWIP_UNUSED_ARG(err);
  return ERR_OK;
}

struct lwvsock_pcb *
fuzz_app_listen(struct lwvsock_dev *dev, uint32_t port)
{
  struct lwvsock_pcb *lp = lwvsock_new(dev, LWVSOCK_STREAM);

  if (lp == NULL) {
    return NULL;
  }
  if (lwvsock_bind(lp, LWVSOCK_CID_ANY, port) != ERR_OK ||
      lwvsock_listen_with_backlog(lp, 4, NULL) == NULL) {
    lwvsock_close(lp);
    return NULL;
  }
  lwvsock_accept(lp, app_accept);
  return lp;
}

static void
release_held(struct fuzz_conn *c)
{
  int i;

  for (i = 0; i < c->nheld; i++) {
    pbuf_free(c->held[i]);
  }
  if (c->pcb != NULL && c->held_bytes != 0) {
    lwvsock_recved(c->pcb, c->held_bytes);
  }
  c->nheld = 0;
  c->held_bytes = 0;
}

void
fuzz_app_action(struct lwvsock_dev *dev, struct fuzz_in *in)
{
  static uint8_t data[70000];
  uint8_t op = in_u8(in);
  struct fuzz_conn *c = &fuzz_conns[(op >> 4) % FUZZ_CONNS];
  struct lwvsock_pcb *pcb;
  uint32_t n;

  switch (op & 0x0f) {
    case 0:
      if (c->pcb == NULL && c->nheld == 0 && (pcb = lwvsock_new(dev, (uint8_t)(1 + (in_u8(in) & 1)))) != NULL) {
        fuzz_app_attach(pcb);
        (void)lwvsock_connect(pcb, in_u8(in) & 1 ? LWVSOCK_CID_HOST : LWVSOCK_CID_LOCAL,
                              in_u16(in), app_connected);
      }
      break;
    case 1:
    case 2:
      n = op & 1 ? in_u8(in) : in_u16(in) + (uint32_t)in_u8(in) * 256u;
      n = LWIP_MIN(n, sizeof(data));
      memset(data, op, n);
      if (c->pcb != NULL) {
        (void)lwvsock_write(c->pcb, data, n, in_u8(in) & 7); /* COPY, MORE, NOCOPY */
        (void)lwvsock_output(c->pcb);
      }
      break;
    case 3:
      c->hold = !c->hold;
      break;
    case 4:
      release_held(c);
      break;
    case 5:
      if (c->pcb != NULL) {
        lwvsock_close(c->pcb);
        c->pcb = NULL;
      }
      break;
    case 6:
      if (c->pcb != NULL) {
        (void)lwvsock_shutdown(c->pcb, in_u8(in) & 1, in_u8(in) & 1);
      }
      break;
    case 7:
      if (c->pcb != NULL) {
        lwvsock_abort(c->pcb); /* err clears c->pcb */
      }
      break;
    case 8:
      if (c->pcb != NULL) {
        lwvsock_set_rcvbuf(c->pcb, in_u32(in));
        lwvsock_set_sndbuf(c->pcb, in_u32(in));
      }
      break;
    case 9:
      fuzz_clock_advance((uint32_t)in_u16(in) * 4u);
      break;
    default:
      break;
  }
}

void
fuzz_app_close_all(void)
{
  int i;

  for (i = 0; i < FUZZ_CONNS; i++) {
    if (fuzz_conns[i].pcb != NULL) {
      lwvsock_close(fuzz_conns[i].pcb);
      fuzz_conns[i].pcb = NULL;
    }
  }
}

void
fuzz_app_release(void)
{
  int i;

  for (i = 0; i < FUZZ_CONNS; i++) {
    release_held(&fuzz_conns[i]);
  }
}
