/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The transports the benchmarks compare (see bench_link.h).
 */
#include "bench_link.h"

#include <errno.h>
#include <string.h>

#include "bench_util.h"
#include "lwvsock/lwvsock.h"
#include "lwvsock/sim.h"
#include "lwvsock/vsock.h"
#include "lwip/init.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

/* A transfer with no progress for this long has stalled (longer than lwIP's
   timers: a delayed ACK or a retransmission would have moved it). */
#define STALL_NS (3ull * 1000000000ull)

uint8_t bench_src[64 * 1024];
/* 256 KiB: larger than one write, so consecutive writes land apart as in an application. */
static uint8_t sink[256 * 1024];
static uint32_t sink_off;

void
bench_sink(const void *p, uint32_t len)
{
  const uint8_t *b = (const uint8_t *)p;

  while (len > 0) {
    uint32_t n = LWIP_MIN(len, (uint32_t)sizeof(sink) - sink_off);
    memcpy(sink + sink_off, b, n);
    sink_off = (sink_off + n) % (uint32_t)sizeof(sink);
    b += n;
    len -= n;
  }
}

/*
 * What both receive callbacks (vsock and lwIP TCP) do with @p p: its bytes go
 * to the sink and count as @p ep's, and it is freed. Returns the bytes for the
 * caller's *_recved() (0 at end of stream, @p p NULL).
 */
static u16_t
ep_consume(struct bench_ep *ep, struct pbuf *p)
{
  const struct pbuf *q;
  u16_t n;

  if (p == NULL) {
    return 0;
  }
  for (q = p; q != NULL; q = q->next) {
    bench_sink(q->payload, q->len);
  }
  n = p->tot_len;
  ep->rx += n;
  pbuf_free(p);
  return n;
}

void
bench_lwip_init(void)
{
  static int done;
  size_t i;

  if (done) {
    return;
  }
  lwip_init();
  for (i = 0; i < sizeof(bench_src); i++) {
    bench_src[i] = (uint8_t)(i % 251u);
  }
  done = 1;
}

/* ---- vsock: guest pcb <-> sim host socket ------------------------------------- */

static uint32_t
vsock_guest_send(struct bench_ep *ep, const uint8_t *p, uint32_t n)
{
  struct lwvsock_pcb *pcb = (struct lwvsock_pcb *)ep->pcb;

  n = LWIP_MIN(n, lwvsock_sndbuf(pcb));
  if (n == 0 || lwvsock_write(pcb, p, n, ep->link->wflags) != ERR_OK) {
    return 0;
  }
  return n;
}

static void
vsock_guest_flush(struct bench_ep *ep)
{
  lwvsock_output((struct lwvsock_pcb *)ep->pcb);
}

static uint32_t
vsock_host_send(struct bench_ep *ep, const uint8_t *p, uint32_t n)
{
  ssize_t r = lwvsock_sim_send(ep->link->sim, ep->sock, p, n);

  return r > 0 ? (uint32_t)r : 0;
}

/* The host application reads straight into the sink: that read is its one copy. */
static void
vsock_host_pull(struct bench_ep *ep)
{
  ssize_t r;

  while ((r = lwvsock_sim_recv(ep->link->sim, ep->sock, sink + sink_off, sizeof(sink) - sink_off)) > 0) {
    sink_off = (sink_off + (uint32_t)r) % (uint32_t)sizeof(sink);
    ep->rx += (uint64_t)r;
  }
}

static const struct bench_ep_ops vsock_guest_ops = { vsock_guest_send, vsock_guest_flush, NULL };
static const struct bench_ep_ops vsock_host_ops = { vsock_host_send, NULL, vsock_host_pull };

static err_t
vsock_recv_cb(void *arg, struct lwvsock_pcb *pcb, struct pbuf *p, err_t err)
{
  u16_t n = ep_consume((struct bench_ep *)arg, p);

  LWIP_UNUSED_ARG(err);
  if (n > 0) {
    lwvsock_recved(pcb, n);
  }
  return ERR_OK;
}

/* Both connected callbacks (vsock and lwIP TCP): the link is up when @p err says so. */
static err_t
ep_connected(void *arg, err_t err)
{
  ((struct bench_ep *)arg)->link->connected = (err == ERR_OK);
  return ERR_OK;
}

static err_t
vsock_connected_cb(void *arg, struct lwvsock_pcb *pcb, err_t err)
{
  LWIP_UNUSED_ARG(pcb);
  return ep_connected(arg, err);
}

static void
vsock_err_cb(void *arg, err_t err)
{
  struct bench_ep *ep = (struct bench_ep *)arg;

  bench_die("the benchmark's vsock connection failed: %s (sim port %u)",
            lwvsock_strerror(err), (unsigned)lwvsock_sim_local_port(ep->link->sim, ep->link->b.sock));
}

void
bench_vsock_dev_open(struct lwvsock_sim **simp, struct lwvsock_dev **devp)
{
  err_t err;
  int rc;

  bench_lwip_init();
  rc = lwvsock_sim_new(NULL, simp);
  if (rc != 0) {
    bench_die("cannot create the simulated device: %s", strerror(-rc));
  }
  err = lwvsock_dev_open(lwvsock_sim_backend(*simp), devp);
  if (err != ERR_OK) {
    bench_die("cannot open the simulated device: %s (%s)", lwvsock_strerror(err),
              *devp != NULL ? lwvsock_dev_error(*devp) : "");
  }
}

static void
vsock_open(struct bench_link *l, uint32_t port)
{
  struct lwvsock_pcb *pcb;
  int i;

  bench_vsock_dev_open(&l->sim, &l->dev);
  l->lsock = lwvsock_sim_listen(l->sim, port, LWVSOCK_STREAM);
  if (l->lsock < 0) {
    bench_die("sim listen on port %u: %s", (unsigned)port, strerror(-l->lsock));
  }
  pcb = lwvsock_new(l->dev, LWVSOCK_STREAM);
  if (pcb == NULL) {
    bench_die("lwvsock_new failed (pcb pool empty?)");
  }
  l->a.ops = &vsock_guest_ops;
  l->a.pcb = pcb;
  l->b.ops = &vsock_host_ops;
  l->b.sock = -1;
  lwvsock_arg(pcb, &l->a);
  lwvsock_recv(pcb, vsock_recv_cb);
  lwvsock_err(pcb, vsock_err_cb);
  if (lwvsock_connect(pcb, LWVSOCK_CID_HOST, port, vsock_connected_cb) != ERR_OK) {
    bench_die("lwvsock_connect to the sim host failed");
  }
  for (i = 0; i < 1000 && (!l->connected || l->b.sock < 0); i++) {
    bench_link_step(l);
    if (l->b.sock < 0) {
      int s = lwvsock_sim_accept(l->sim, l->lsock);
      l->b.sock = s >= 0 ? s : -1;
    }
  }
  if (!l->connected || l->b.sock < 0) {
    bench_die("the vsock connection to the sim host did not come up");
  }
}

static void
vsock_close(struct bench_link *l)
{
  int i;

  lwvsock_err((struct lwvsock_pcb *)l->a.pcb, NULL);
  lwvsock_close((struct lwvsock_pcb *)l->a.pcb);
  for (i = 0; i < 100 && !(lwvsock_sim_peer_shutdown(l->sim, l->b.sock) & 3u); i++) {
    bench_link_step(l);
  }
  lwvsock_sim_close(l->sim, l->b.sock);
  lwvsock_sim_close(l->sim, l->lsock);
  for (i = 0; i < 10; i++) {
    bench_link_step(l);
  }
  lwvsock_dev_close(l->dev);
}

/* ---- tcp: client <-> server on 127.0.0.1 over lwIP's loop interface ----------- */

static uint32_t
tcp_ep_send(struct bench_ep *ep, const uint8_t *p, uint32_t n)
{
  struct tcp_pcb *pcb = (struct tcp_pcb *)ep->pcb;

  n = LWIP_MIN(n, (uint32_t)tcp_sndbuf(pcb));
  if (n == 0 || tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN ||
      tcp_write(pcb, p, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK) {
    return 0;
  }
  return n;
}

static void
tcp_ep_flush(struct bench_ep *ep)
{
  tcp_output((struct tcp_pcb *)ep->pcb);
}

static const struct bench_ep_ops tcp_ep_ops = { tcp_ep_send, tcp_ep_flush, NULL };

static err_t
tcp_recv_cb(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  u16_t n = ep_consume((struct bench_ep *)arg, p);

  LWIP_UNUSED_ARG(err);
  if (n > 0) {
    tcp_recved(pcb, n);
  }
  return ERR_OK;
}

static void
tcp_err_cb(void *arg, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  bench_die("the benchmark's lwIP TCP connection failed: %s", lwvsock_strerror(err));
}

static err_t
tcp_connected_cb(void *arg, struct tcp_pcb *pcb, err_t err)
{
  LWIP_UNUSED_ARG(pcb);
  return ep_connected(arg, err);
}

static err_t
tcp_accept_cb(void *arg, struct tcp_pcb *newpcb, err_t err)
{
  struct bench_link *l = (struct bench_link *)arg;

  if (err != ERR_OK || newpcb == NULL || l->b.pcb != NULL) {
    return ERR_VAL;
  }
  l->b.pcb = newpcb;
  tcp_arg(newpcb, &l->b);
  tcp_recv(newpcb, tcp_recv_cb);
  tcp_err(newpcb, tcp_err_cb);
  tcp_nagle_disable(newpcb);
  return ERR_OK;
}

static void
tcp_open(struct bench_link *l, uint16_t port)
{
  struct tcp_pcb *lp, *c;
  ip_addr_t lo;
  err_t err;
  int i;

  bench_lwip_init();
  IP_ADDR4(&lo, 127, 0, 0, 1);
  lp = tcp_new();
  if (lp == NULL || tcp_bind(lp, &lo, port) != ERR_OK) {
    bench_die("lwIP TCP: cannot bind 127.0.0.1:%u (tcp pcb pool empty or port taken)", (unsigned)port);
  }
  lp = tcp_listen_with_backlog_and_err(lp, 4, &err);
  if (lp == NULL) {
    bench_die("lwIP TCP: listen failed: %s", lwvsock_strerror(err));
  }
  l->listener = lp;
  tcp_arg(lp, l);
  tcp_accept(lp, tcp_accept_cb);
  c = tcp_new();
  if (c == NULL) {
    bench_die("lwIP TCP: tcp_new failed (MEMP_NUM_TCP_PCB too small?)");
  }
  l->a.ops = &tcp_ep_ops;
  l->a.pcb = c;
  l->b.ops = &tcp_ep_ops;
  l->b.pcb = NULL;
  tcp_nagle_disable(c);
  tcp_arg(c, &l->a);
  tcp_recv(c, tcp_recv_cb);
  tcp_err(c, tcp_err_cb);
  if (tcp_connect(c, &lo, port, tcp_connected_cb) != ERR_OK) {
    bench_die("lwIP TCP: connect to 127.0.0.1:%u failed", (unsigned)port);
  }
  for (i = 0; i < 1000 && (!l->connected || l->b.pcb == NULL); i++) {
    bench_link_step(l);
  }
  if (!l->connected || l->b.pcb == NULL) {
    bench_die("lwIP TCP: the loopback connection did not come up");
  }
}

static void
tcp_close_link(struct bench_link *l)
{
  int i;

  tcp_err((struct tcp_pcb *)l->a.pcb, NULL);
  tcp_err((struct tcp_pcb *)l->b.pcb, NULL);
  tcp_close((struct tcp_pcb *)l->a.pcb);
  tcp_close((struct tcp_pcb *)l->b.pcb);
  tcp_close((struct tcp_pcb *)l->listener);
  for (i = 0; i < 10; i++) {
    bench_link_step(l);
  }
}

/* ---- common ---------------------------------------------------------------------- */

void
bench_link_open(struct bench_link *l, enum bench_link_kind kind, uint32_t port)
{
  memset(l, 0, sizeof(*l));
  l->kind = kind;
  l->a.link = l;
  l->b.link = l;
  l->lsock = -1;
  if (kind == BENCH_LINK_VSOCK) {
    vsock_open(l, port);
  } else {
    tcp_open(l, (uint16_t)port);
  }
}

void
bench_link_close(struct bench_link *l)
{
  if (l->kind == BENCH_LINK_VSOCK) {
    vsock_close(l);
  } else {
    tcp_close_link(l);
  }
}

void
bench_link_step(struct bench_link *l)
{
  if (l->kind == BENCH_LINK_VSOCK) {
    lwvsock_dev_poll(l->dev, 0);
  } else {
    netif_poll_all();
  }
  sys_check_timeouts();
}

/* Time since the first check of an idle stretch (the clock is read only
   every 1024 idle steps, so it stays out of the measured work). */
static uint64_t
idle_since(uint64_t *start, uint32_t idle)
{
  uint64_t now = bench_now_ns();

  if (idle == 1024u) {
    *start = now;
  }
  return now - *start;
}

void
bench_link_move(struct bench_link *l, struct bench_ep *from, uint64_t total, uint32_t wsize)
{
  struct bench_ep *to = (from == &l->a) ? &l->b : &l->a;
  uint64_t sent = 0, goal = to->rx + total, last = to->rx;
  uint32_t off = 0; /* position in the current write of wsize bytes */
  uint64_t last_t = 0;
  uint32_t idle = 0;

  if (wsize == 0 || wsize > sizeof(bench_src)) {
    bench_die("write size must be 1..%u bytes", (unsigned)sizeof(bench_src));
  }
  while (to->rx < goal) {
    while (sent < total) {
      uint32_t want = (uint32_t)LWIP_MIN((uint64_t)(wsize - off), total - sent);
      uint32_t n = from->ops->send(from, bench_src + off, want);
      if (n == 0) {
        break;
      }
      sent += n;
      off = (off + n) % wsize;
    }
    if (from->ops->flush != NULL) {
      from->ops->flush(from);
    }
    bench_link_step(l);
    if (to->ops->pull != NULL) {
      to->ops->pull(to);
    }
    if (to->rx != last) {
      last = to->rx;
      idle = 0;
    } else if ((++idle & 1023u) == 0 && idle_since(&last_t, idle) > STALL_NS) {
      bench_die("transfer stalled: %llu of %llu bytes arrived (%s link)",
                (unsigned long long)(to->rx - (goal - total)), (unsigned long long)total,
                l->kind == BENCH_LINK_VSOCK ? "vsock" : "lwIP TCP");
    }
  }
}
