/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Latency-bound work: 1-byte request/response round trips per second, and
 * connection setup plus teardown per second, lwvsock (guest against the
 * simulated host) beside lwIP TCP between two lwIP endpoints on 127.0.0.1.
 *
 * A connection cycle ends when both ends are done with it: for lwvsock when
 * the guest pcb is freed (after the host's RST) and the host socket is closed;
 * for TCP when no pcb is left in an active state (the client's TIME_WAIT pcb
 * stays, as it would on any TCP stack, and is recycled by lwIP).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_link.h"
#include "bench_util.h"
#include "lwvsock/sim.h"
#include "lwvsock/vsock.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

/* Wall time of one measurement. */
#define RUN_NS        (500ull * 1000000ull)
#define RUN_NS_QUICK  (100ull * 1000000ull)
/* Steps one connection cycle may take before it counts as stuck. */
#define CYCLE_STEPS   10000

static const char usage[] =
  "usage: bench_rr [--reps N] [--quick] [--only rr|conn]\n"
  "       bench_rr --case vsock|tcp --count N\n"
  "Round trips of 1-byte request/response, and connection setup + teardown, per\n"
  "second: lwvsock over the simulated host against lwIP TCP on 127.0.0.1.\n"
  "  --only W   measure only round trips (rr) or only connections (conn),\n"
  "             e.g. to profile one of them\n"
  "  --case K   make N round trips over K once and print nothing (a callgrind\n"
  "             driver; --count N, default 1000)\n";

static uint64_t run_ns = RUN_NS;

struct rr_opts {
  const char *only;    /* --only: rr, conn or NULL (both) */
  const char *kind;    /* --case: vsock, tcp or NULL (measure) */
  uint64_t count;      /* --count: round trips of --case */
};

static int
rr_opt(void *arg, const char *opt, const char *val)
{
  struct rr_opts *ro = (struct rr_opts *)arg;

  if (strcmp(opt, "--count") == 0) {
    ro->count = bench_parse_size(opt, val);
    return 2;
  }
  if (strcmp(opt, "--case") == 0) {
    if (val == NULL || (strcmp(val, "vsock") != 0 && strcmp(val, "tcp") != 0)) {
      bench_die("--case takes vsock or tcp, got '%s'", val ? val : "");
    }
    ro->kind = val;
    return 2;
  }
  if (strcmp(opt, "--only") != 0) {
    return 0;
  }
  if (val == NULL || (strcmp(val, "rr") != 0 && strcmp(val, "conn") != 0)) {
    bench_die("--only takes rr or conn, got '%s'", val ? val : "");
  }
  ro->only = val;
  return 2;
}

/* ---- round trips ---------------------------------------------------------------- */

/* One 1-byte request (a to b) and its 1-byte response. */
static void
rr_trip(struct bench_link *l)
{
  bench_link_move(l, &l->a, 1, 1);
  bench_link_move(l, &l->b, 1, 1);
}

static double
rr_once(void *arg)
{
  struct bench_link *l = (struct bench_link *)arg;
  uint64_t t0 = bench_now_ns(), t, n = 0;

  do {
    rr_trip(l);
    n++;
    t = bench_now_ns() - t0;
  } while (t < run_ns);
  return (double)n / ((double)t / 1e9);
}

/* Packets on the wire so far: both directions through the sim's device, or
   the segments both lwIP TCP ends sent. */
static uint64_t
rr_packets(const struct bench_link *l)
{
  if (l->kind == BENCH_LINK_VSOCK) {
    struct lwvsock_sim_stats st;
    lwvsock_sim_get_stats(l->sim, &st);
    return st.rx_pkts + st.tx_pkts;
  }
  return lwip_stats.tcp.xmit;
}

/* Round trips per second; *pkts gets the packets one round trip costs. */
static double
rr_measure(enum bench_link_kind kind, int reps, double *pkts)
{
  const uint64_t count = 1000;
  struct bench_link l;
  uint64_t p0, i;
  double r;

  bench_link_open(&l, kind, 5002);
  r = bench_best(rr_once, &l, reps);
  p0 = rr_packets(&l);
  for (i = 0; i < count; i++) {
    rr_trip(&l);
  }
  *pkts = (double)(rr_packets(&l) - p0) / (double)count;
  bench_link_close(&l);
  return r;
}

/* ---- connection cycles: lwvsock ------------------------------------------------- */

struct vsock_cycle {
  struct lwvsock_sim *sim;
  struct lwvsock_dev *dev;
  int lsock;
  int connected;
};

static err_t
vc_connected(void *arg, struct lwvsock_pcb *pcb, err_t err)
{
  LWIP_UNUSED_ARG(pcb);
  ((struct vsock_cycle *)arg)->connected = (err == ERR_OK);
  return ERR_OK;
}

static void
vc_err(void *arg, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  bench_die("vsock connection cycle: the connection failed: %s", lwvsock_strerror(err));
}

static void
vc_step(struct vsock_cycle *c)
{
  lwvsock_dev_poll(c->dev, 0);
  sys_check_timeouts();
}

static uint32_t
pcbs_used(void)
{
  struct lwvsock_pcb_pool_stats st;

  bench_pcb_pool(&st);
  return st.used;
}

/* Connect to the host, host accepts, guest closes, host closes; until all is freed. */
static void
vc_cycle(struct vsock_cycle *c)
{
  struct lwvsock_pcb *pcb = lwvsock_new(c->dev, LWVSOCK_STREAM);
  int h = -EAGAIN, i;

  if (pcb == NULL) {
    bench_die("vsock connection cycle: lwvsock_new failed (%u pcbs in use)", (unsigned)pcbs_used());
  }
  c->connected = 0;
  lwvsock_arg(pcb, c);
  lwvsock_err(pcb, vc_err);
  if (lwvsock_connect(pcb, LWVSOCK_CID_HOST, 5003, vc_connected) != ERR_OK) {
    bench_die("vsock connection cycle: lwvsock_connect failed");
  }
  for (i = 0; i < CYCLE_STEPS && (!c->connected || h < 0); i++) {
    vc_step(c);
    if (h < 0) {
      h = lwvsock_sim_accept(c->sim, c->lsock);
    }
  }
  if (!c->connected || h < 0) {
    bench_die("vsock connection cycle: no connection after %d steps", CYCLE_STEPS);
  }
  lwvsock_err(pcb, NULL);
  lwvsock_close(pcb);
  for (i = 0; i < CYCLE_STEPS && lwvsock_sim_peer_shutdown(c->sim, h) != 3u; i++) {
    vc_step(c);
  }
  lwvsock_sim_close(c->sim, h);
  for (i = 0; i < CYCLE_STEPS && pcbs_used() != 0; i++) {
    vc_step(c);
  }
  if (pcbs_used() != 0) {
    bench_die("vsock connection cycle: the closed pcb was not freed after %d steps", CYCLE_STEPS);
  }
}

/* ---- connection cycles: lwIP TCP ------------------------------------------------- */

struct tcp_cycle {
  struct tcp_pcb *listener;
  int connected, accepted;
};

static err_t
tc_srv_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(err);
  if (p != NULL) {
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
  }
  tcp_close(pcb); /* the client's FIN: close our side as an application would */
  return ERR_OK;
}

static err_t
tc_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
  if (err != ERR_OK || newpcb == NULL) {
    return ERR_VAL;
  }
  ((struct tcp_cycle *)arg)->accepted = 1;
  tcp_arg(newpcb, NULL);
  tcp_recv(newpcb, tc_srv_recv);
  return ERR_OK;
}

static err_t
tc_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
  LWIP_UNUSED_ARG(pcb);
  ((struct tcp_cycle *)arg)->connected = (err == ERR_OK);
  return ERR_OK;
}

static void
tc_err(void *arg, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  bench_die("TCP connection cycle: the connection failed: %s", lwvsock_strerror(err));
}

static void
tc_step(void)
{
  netif_poll_all();
  sys_check_timeouts();
}

static void
tc_cycle(struct tcp_cycle *c)
{
  struct tcp_pcb *pcb = tcp_new();
  ip_addr_t lo;
  int i;

  if (pcb == NULL) {
    bench_die("TCP connection cycle: tcp_new failed (tcp pcb pool empty)");
  }
  IP_ADDR4(&lo, 127, 0, 0, 1);
  c->connected = c->accepted = 0;
  tcp_arg(pcb, c);
  tcp_err(pcb, tc_err);
  if (tcp_connect(pcb, &lo, 5003, tc_connected) != ERR_OK) {
    bench_die("TCP connection cycle: tcp_connect failed");
  }
  for (i = 0; i < CYCLE_STEPS && !(c->connected && c->accepted); i++) {
    tc_step();
  }
  if (!(c->connected && c->accepted)) {
    bench_die("TCP connection cycle: no connection after %d steps", CYCLE_STEPS);
  }
  tcp_err(pcb, NULL);
  tcp_close(pcb);
  for (i = 0; i < CYCLE_STEPS && tcp_active_pcbs != NULL; i++) {
    tc_step();
  }
  if (tcp_active_pcbs != NULL) {
    bench_die("TCP connection cycle: connections still active after %d steps", CYCLE_STEPS);
  }
}

/* ---- measuring ----------------------------------------------------------------------- */

enum { KIND_VSOCK, KIND_TCP };

struct cycle_run {
  int kind;
  struct vsock_cycle vc;
  struct tcp_cycle tc;
};

static double
cycle_once(void *arg)
{
  struct cycle_run *r = (struct cycle_run *)arg;
  uint64_t t0 = bench_now_ns(), t, n = 0;

  do {
    if (r->kind == KIND_VSOCK) {
      vc_cycle(&r->vc);
    } else {
      tc_cycle(&r->tc);
    }
    n++;
    t = bench_now_ns() - t0;
  } while (t < run_ns);
  return (double)n / ((double)t / 1e9);
}

static double
cycle_measure(int kind, int reps)
{
  struct cycle_run r;
  double v;

  memset(&r, 0, sizeof(r));
  r.kind = kind;
  if (kind == KIND_VSOCK) {
    bench_vsock_dev_open(&r.vc.sim, &r.vc.dev);
    r.vc.lsock = lwvsock_sim_listen(r.vc.sim, 5003, LWVSOCK_STREAM);
    if (r.vc.lsock < 0) {
      bench_die("sim listen on port 5003: %s", strerror(-r.vc.lsock));
    }
  } else {
    ip_addr_t lo;
    err_t err;
    IP_ADDR4(&lo, 127, 0, 0, 1);
    r.tc.listener = tcp_new();
    if (r.tc.listener == NULL || tcp_bind(r.tc.listener, &lo, 5003) != ERR_OK) {
      bench_die("lwIP TCP: cannot bind 127.0.0.1:5003");
    }
    r.tc.listener = tcp_listen_with_backlog_and_err(r.tc.listener, 4, &err);
    if (r.tc.listener == NULL) {
      bench_die("lwIP TCP: listen failed: %s", lwvsock_strerror(err));
    }
    tcp_arg(r.tc.listener, &r.tc);
    tcp_accept(r.tc.listener, tc_accept);
  }
  v = bench_best(cycle_once, &r, reps);
  if (kind == KIND_VSOCK) {
    lwvsock_sim_close(r.vc.sim, r.vc.lsock);
    lwvsock_dev_close(r.vc.dev);
  } else {
    tcp_close(r.tc.listener);
  }
  return v;
}

int
main(int argc, char **argv)
{
  struct bench_opts o;
  struct rr_opts ro = { NULL, NULL, 1000 };
  const char *only;
  double rr_vs, rr_tcp, cc_vs, cc_tcp, pk_vs, pk_tcp;

  bench_parse_opts(argc, argv, usage, &o, rr_opt, &ro);
  only = ro.only;
  if (o.quick) {
    run_ns = RUN_NS_QUICK;
  }
  bench_lwip_init();
  if (ro.kind != NULL) {
    struct bench_link l;
    uint64_t i;
    bench_link_open(&l, strcmp(ro.kind, "tcp") == 0 ? BENCH_LINK_TCP : BENCH_LINK_VSOCK, 5002);
    for (i = 0; i < ro.count; i++) {
      rr_trip(&l);
    }
    bench_link_close(&l);
    return EXIT_SUCCESS;
  }
  if (only == NULL || strcmp(only, "rr") == 0) {
    rr_vs = rr_measure(BENCH_LINK_VSOCK, o.reps, &pk_vs);
    rr_tcp = rr_measure(BENCH_LINK_TCP, o.reps, &pk_tcp);
    bench_row("1-byte request/response", rr_vs, "round trips/s", "lwIP TCP loopback", rr_tcp,
              BENCH_GOAL_MIN_RATIO, 2.0);
    /* A request and its response are the floor: any credit update shows here. */
    bench_row("packets per 1-byte round trip", pk_vs, "pkts", "lwIP TCP loopback", pk_tcp,
              BENCH_GOAL_MAX_ABS, 2.0);
  }
  if (only == NULL || strcmp(only, "conn") == 0) {
    cc_vs = cycle_measure(KIND_VSOCK, o.reps);
    cc_tcp = cycle_measure(KIND_TCP, o.reps);
    bench_row("connect + close (guest to host)", cc_vs, "conns/s", "lwIP TCP loopback", cc_tcp,
              BENCH_GOAL_NONE, 0);
  }
  bench_note("round trips, connections: best of %d runs of %.1f s each, one at a time",
             o.reps, (double)run_ns / 1e9);
  return EXIT_SUCCESS;
}
