/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * bench_netif: lwIP TCP over the vsock netif against plain vsock, the same
 * bytes over the same path in the same run.
 *
 * Both transfers go guest -> simulated host -> guest on one device: the host
 * is a byte relay between two of its sockets (as a network daemon switching
 * two guests would be), so every byte crosses the virtqueues twice either way.
 * - netif: two vsock netifs (A connects to the host, B accepts from it) with
 *   static addresses; a TCP connection from A's address to B's, each pcb
 *   bound to its netif so lwIP routes it over the link, not its loopback.
 * - vsock: a guest pcb connected to the host, relayed to a guest listener.
 */
#include <stdlib.h>
#include <string.h>

#include "bench_link.h"
#include "bench_util.h"
#include "lwvsock/netif_vsock.h"
#include "lwvsock/sim.h"
#include "lwip/ip4_addr.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#define BYTES       (32ull << 20)
#define BYTES_QUICK (2ull << 20)
#define STALL_NS    (5ull * 1000000000ull)

static const char usage[] =
  "usage: bench_netif [options]\n"
  "TCP over the vsock netif against plain vsock, guest -> host relay -> guest.\n";

static struct lwvsock_sim *sim;
static struct lwvsock_dev *dev;

/* One direction of the host's relay: bytes read from one socket, sent on. */
struct relay {
  int from, to;
  size_t len, off;
  uint8_t buf[64 * 1024];
};

static int
relay_pump(struct relay *r)
{
  int work = 0;

  for (;;) {
    ssize_t n;
    if (r->off == r->len) {
      n = lwvsock_sim_recv(sim, r->from, r->buf, sizeof(r->buf));
      if (n <= 0) {
        break;
      }
      r->len = (size_t)n;
      r->off = 0;
    }
    n = lwvsock_sim_send(sim, r->to, r->buf + r->off, r->len - r->off);
    if (n <= 0) {
      break;
    }
    r->off += (size_t)n;
    work = 1;
  }
  return work;
}

/* A relayed pair: host sockets a (the guest's connection in) and b (out to the guest). */
struct pair {
  struct relay ab, ba;
};

static struct pair *
pair_new(int a, int b)
{
  struct pair *p = (struct pair *)calloc(1, sizeof(*p));

  if (p == NULL) {
    bench_die("out of memory");
  }
  p->ab.from = p->ba.to = a;
  p->ab.to = p->ba.from = b;
  return p;
}

static struct pair *pairs[2];

static void
step(void)
{
  size_t i;

  lwvsock_dev_poll(dev, 0);
  for (i = 0; i < LWIP_ARRAYSIZE(pairs); i++) {
    if (pairs[i] != NULL) {
      relay_pump(&pairs[i]->ab);
      relay_pump(&pairs[i]->ba);
    }
  }
  sys_check_timeouts();
}

/* Step until *counter reaches target; dies when nothing moves for STALL_NS. */
static void
step_until(const uint64_t *counter, uint64_t target, const char *what)
{
  uint64_t last = *counter, t = bench_now_ns();

  while (*counter < target) {
    step();
    if (*counter != last) {
      last = *counter;
      t = bench_now_ns();
    } else if (bench_now_ns() - t > STALL_NS) {
      bench_die("%s stalled at %llu of %llu", what, (unsigned long long)*counter,
                (unsigned long long)target);
    }
  }
}

static int
host_accept(int lsock)
{
  uint64_t t = bench_now_ns();
  int h;

  while ((h = lwvsock_sim_accept(sim, lsock)) < 0) {
    step();
    if (bench_now_ns() - t > STALL_NS) {
      bench_die("the guest did not connect to the host");
    }
  }
  return h;
}

/* One measured transfer: bytes asked for, queued by the sender, consumed by the receiver. */
struct flow {
  const char *name;
  uint64_t target, queued, rx;
  void (*push)(void);   /* queue what the sender's buffer takes */
};

/* The next piece of the source to queue: at most @p room bytes, not past the target. */
static uint32_t
flow_chunk(const struct flow *fl, uint32_t room, const uint8_t **src)
{
  uint32_t off = (uint32_t)(fl->queued % sizeof(bench_src));

  *src = bench_src + off;
  return (uint32_t)LWIP_MIN(LWIP_MIN(fl->target - fl->queued, (uint64_t)(sizeof(bench_src) - off)),
                            (uint64_t)room);
}

/* The receiver consumed @p p: into the sink, counted; the caller returns the window. */
static void
flow_consume(struct flow *fl, struct pbuf *p)
{
  struct pbuf *q;

  for (q = p; q != NULL; q = q->next) {
    bench_sink(q->payload, q->len);
  }
  fl->rx += p->tot_len;
}

static uint64_t bytes_per_run;

/* One run (bench_fn): move bytes_per_run through the flow; MiB/s. */
static double
flow_once(void *arg)
{
  struct flow *fl = (struct flow *)arg;
  uint64_t t0 = bench_now_ns();

  fl->target += bytes_per_run;
  fl->push();
  step_until(&fl->rx, fl->target, fl->name);
  return (double)bytes_per_run / (1024.0 * 1024.0) / ((double)(bench_now_ns() - t0) / 1e9);
}

/* ---- TCP over two vsock netifs ---------------------------------------------------- */

static struct lwvsock_netif na, nb;
static struct tcp_pcb *tcp_tx, *tcp_rx;
static void tcp_flow_push(void);
static struct flow tcp_flow = { "TCP over the netif", 0, 0, 0, tcp_flow_push };

static err_t
tcp_rx_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(err);
  if (p == NULL) {
    return ERR_OK;
  }
  flow_consume(&tcp_flow, p);
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static err_t
tcp_rx_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  if (err != ERR_OK) {
    return err;
  }
  tcp_rx = pcb;
  tcp_nagle_disable(pcb);
  tcp_recv(pcb, tcp_rx_recv);
  return ERR_OK;
}

static void
tcp_flow_push(void)
{
  const uint8_t *src;
  uint32_t n;

  while (tcp_sndqueuelen(tcp_tx) < TCP_SND_QUEUELEN - 4 &&
         (n = flow_chunk(&tcp_flow, tcp_sndbuf(tcp_tx), &src)) > 0 &&
         tcp_write(tcp_tx, src, (u16_t)n, 0) == ERR_OK) {
    tcp_flow.queued += n;
  }
  tcp_output(tcp_tx);
}

static err_t
tcp_tx_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(pcb);
  LWIP_UNUSED_ARG(len);
  tcp_flow_push();
  return ERR_OK;
}

static err_t
tcp_tx_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(err);
  tcp_nagle_disable(pcb);
  tcp_sent(pcb, tcp_tx_sent);
  return ERR_OK;
}

static void
netif_start(struct lwvsock_netif *vn, int listen, uint8_t last)
{
  struct lwvsock_netif_config cfg;
  ip4_addr_t ip, mask, gw;

  lwvsock_netif_config_init(&cfg);
  cfg.dev = dev;
  cfg.listen = listen;
  cfg.port = listen ? 2024 : 1024;
  cfg.hwaddr[5] = last;
  if (lwvsock_netif_add(vn, &cfg) != ERR_OK) {
    bench_die("cannot add a vsock netif");
  }
  IP4_ADDR(&ip, 10, 0, 2, last);
  IP4_ADDR(&mask, 255, 255, 255, 0);
  IP4_ADDR(&gw, 10, 0, 2, 2);
  netif_set_addr(lwvsock_netif_netif(vn), &ip, &mask, &gw);
}

static void
tcp_open(void)
{
  struct tcp_pcb *l;
  int lsock = lwvsock_sim_listen(sim, 1024, LWVSOCK_STREAM);
  int a, b;

  if (lsock < 0) {
    bench_die("sim listen failed");
  }
  netif_start(&na, 0, 15);
  netif_start(&nb, 1, 16);
  a = host_accept(lsock);
  b = lwvsock_sim_connect(sim, 2024, LWVSOCK_STREAM);
  if (b < 0) {
    bench_die("sim connect failed");
  }
  pairs[0] = pair_new(a, b);
  l = tcp_new();
  if (l == NULL) {
    bench_die("tcp_new failed");
  }
  tcp_bind_netif(l, lwvsock_netif_netif(&nb));
  if (tcp_bind(l, netif_ip4_addr(lwvsock_netif_netif(&nb)), 5001) != ERR_OK || (l = tcp_listen(l)) == NULL) {
    bench_die("tcp listen failed");
  }
  tcp_accept(l, tcp_rx_accept);
  tcp_tx = tcp_new();
  if (tcp_tx == NULL) {
    bench_die("tcp_new failed");
  }
  tcp_bind_netif(tcp_tx, lwvsock_netif_netif(&na));
  if (tcp_connect(tcp_tx, netif_ip4_addr(lwvsock_netif_netif(&nb)), 5001, tcp_tx_connected) != ERR_OK) {
    bench_die("tcp connect failed");
  }
  {
    uint64_t t = bench_now_ns();
    while (tcp_rx == NULL) {
      step();
      if (bench_now_ns() - t > STALL_NS) {
        bench_die("TCP over the netif did not connect");
      }
    }
  }
}

/* ---- plain vsock through the same relay ------------------------------------------ */

static struct lwvsock_pcb *vs_tx;
static void vs_flow_push(void);
static struct flow vs_flow = { "plain vsock", 0, 0, 0, vs_flow_push };

static err_t
vs_recv(void *arg, struct lwvsock_pcb *pcb, struct pbuf *p, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(err);
  if (p == NULL) {
    return ERR_OK;
  }
  flow_consume(&vs_flow, p);
  lwvsock_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static err_t
vs_accept(void *arg, struct lwvsock_pcb *pcb, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  if (err != ERR_OK) {
    return err;
  }
  lwvsock_recv(pcb, vs_recv);
  return ERR_OK;
}

static void
vs_flow_push(void)
{
  const uint8_t *src;
  uint32_t n;

  while ((n = flow_chunk(&vs_flow, lwvsock_sndbuf(vs_tx), &src)) > 0 &&
         lwvsock_write(vs_tx, src, n, 0) == ERR_OK) {
    vs_flow.queued += n;
  }
}

static err_t
vs_sent(void *arg, struct lwvsock_pcb *pcb, uint32_t len)
{
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(pcb);
  LWIP_UNUSED_ARG(len);
  vs_flow_push();
  return ERR_OK;
}

static void
vs_open(void)
{
  struct lwvsock_pcb *l = lwvsock_new(dev, LWVSOCK_STREAM);
  int lsock = lwvsock_sim_listen(sim, 3000, LWVSOCK_STREAM);
  int a, b;

  if (l == NULL || lsock < 0 || lwvsock_bind(l, LWVSOCK_CID_ANY, 3001) != ERR_OK ||
      lwvsock_listen(l) == NULL) {
    bench_die("vsock listen failed");
  }
  lwvsock_accept(l, vs_accept);
  vs_tx = lwvsock_new(dev, LWVSOCK_STREAM);
  if (vs_tx == NULL || lwvsock_connect(vs_tx, LWVSOCK_CID_HOST, 3000, NULL) != ERR_OK) {
    bench_die("vsock connect failed");
  }
  lwvsock_sent(vs_tx, vs_sent);
  a = host_accept(lsock);
  b = lwvsock_sim_connect(sim, 3001, LWVSOCK_STREAM);
  if (b < 0) {
    bench_die("sim connect failed");
  }
  pairs[1] = pair_new(a, b);
}

int
main(int argc, char **argv)
{
  struct bench_opts o;
  double tcp, vs;

  bench_parse_opts(argc, argv, usage, &o, NULL, NULL);
  bytes_per_run = o.quick ? BYTES_QUICK : BYTES;
  bench_vsock_dev_open(&sim, &dev);
  tcp_open();
  vs_open();
  tcp = bench_best(flow_once, &tcp_flow, o.reps);
  vs = bench_best(flow_once, &vs_flow, o.reps);
  bench_row("bulk guest->host->guest, TCP over the vsock netif", tcp, "MiB/s",
            "plain vsock", vs, BENCH_GOAL_NONE, 0);
  bench_note("netif: best of %d runs of %llu MiB, guest -> host relay -> guest on the sim; "
             "lwIP TCP (MSS 1460, Nagle off) over two vsock netifs against one vsock "
             "connection relayed the same way; both receivers copy into the sink",
             o.reps, (unsigned long long)(bytes_per_run >> 20));
  return EXIT_SUCCESS;
}
