/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Memory: bytes of state per idle connection, and the memory 1000 and 10000
 * open connections take, lwvsock beside lwIP TCP.
 *
 * "lwIP memory" is what lwIP's allocators account for: every memp pool's used
 * elements times the element size (lwvsock's pcb pool included) plus the lwIP
 * heap in use. Both stacks keep all per-connection state there. RSS and malloc
 * figures are of the whole process, the simulated host's sockets included.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_link.h"
#include "bench_util.h"
#include "lwvsock/sim.h"
#include "lwvsock/vsock.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/priv/memp_priv.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

#define PORT          5004
/* TCP connections for the baseline: both ends in one pool of MEMP_NUM_TCP_PCB. */
#define TCP_CONNS     ((MEMP_NUM_TCP_PCB - 2) / 2)
#define BATCH         64
/* Loop steps for one batch of connections to come up. */
#define BATCH_STEPS   1000

static const char usage[] =
  "usage: bench_mem [--reps N] [--quick]\n"
  "Bytes of state per idle connection and memory with 1000 and 10000 connections\n"
  "open: lwvsock on the simulated host against lwIP TCP on 127.0.0.1.\n"
  "(--reps is accepted and ignored: memory figures do not vary between runs.)\n";

/** Bytes lwIP's allocators have handed out: all memp pools and the heap. */
static uint64_t
lwip_bytes(void)
{
  uint64_t sum = (uint64_t)lwip_stats.mem.used;
  struct lwvsock_pcb_pool_stats pool;
  int i;

  for (i = 0; i < MEMP_MAX; i++) {
    sum += (uint64_t)memp_pools[i]->stats->used * memp_pools[i]->size;
  }
  bench_pcb_pool(&pool);
  sum += (uint64_t)pool.used * pool.elem_size;
  return sum;
}

static uint64_t
rss_bytes(void)
{
  unsigned long size = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");

  if (f == NULL) {
    return 0;
  }
  if (fscanf(f, "%lu %lu", &size, &resident) != 2) {
    resident = 0;
  }
  fclose(f);
  return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static uint64_t
malloc_bytes(void)
{
  struct mallinfo2 mi = mallinfo2();

  return (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}

/* ---- lwvsock: idle connections from the host to a guest listener ------------------ */

struct vsock_conns {
  struct lwvsock_sim *sim;
  struct lwvsock_dev *dev;
  struct lwvsock_pcb *listener;
  int n;                 /**< connections accepted */
};

static err_t
vm_accept(void *arg, struct lwvsock_pcb *newpcb, err_t err)
{
  struct vsock_conns *v = (struct vsock_conns *)arg;

  if (err != ERR_OK || newpcb == NULL) {
    return ERR_VAL;
  }
  v->n++;
  return ERR_OK;
}

static void
vm_step(struct vsock_conns *v)
{
  lwvsock_dev_poll(v->dev, 0);
  sys_check_timeouts();
}

/* Open connections until @p total are up (in batches below the backlog). */
static void
vm_open_until(struct vsock_conns *v, int total)
{
  while (v->n < total) {
    int batch = LWIP_MIN(BATCH, total - v->n), goal = v->n + batch, i;
    for (i = 0; i < batch; i++) {
      int s = lwvsock_sim_connect(v->sim, PORT, LWVSOCK_STREAM);
      if (s < 0) {
        bench_die("sim connect #%d: %s", v->n + i + 1, strerror(-s));
      }
    }
    for (i = 0; i < BATCH_STEPS && v->n < goal; i++) {
      vm_step(v);
    }
    if (v->n < goal) {
      bench_die("only %d of %d vsock connections came up (pcb pool of %d; see "
                "MEMP_NUM_LWVSOCK_PCB)", v->n, total, MEMP_NUM_LWVSOCK_PCB);
    }
  }
}

/* ---- lwIP TCP: idle connections on 127.0.0.1 -------------------------------------- */

static int tcp_accepted, tcp_connected;

static err_t
tm_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  if (err != ERR_OK || newpcb == NULL) {
    return ERR_VAL;
  }
  tcp_accepted++;
  return ERR_OK;
}

static err_t
tm_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(pcb);
  tcp_connected += (err == ERR_OK);
  return ERR_OK;
}

/* lwIP memory per TCP endpoint over TCP_CONNS idle connections (both ends in this process). */
static double
tcp_bytes_per_endpoint(void)
{
  struct tcp_pcb *lp, *c[TCP_CONNS];
  ip_addr_t lo;
  uint64_t before, after;
  int i;

  IP_ADDR4(&lo, 127, 0, 0, 1);
  lp = tcp_new();
  if (lp == NULL || tcp_bind(lp, &lo, PORT) != ERR_OK ||
      (lp = tcp_listen_with_backlog(lp, TCP_CONNS)) == NULL) {
    bench_die("lwIP TCP: cannot listen on 127.0.0.1:%d", PORT);
  }
  tcp_accept(lp, tm_accept);
  before = lwip_bytes();
  for (i = 0; i < TCP_CONNS; i++) {
    c[i] = tcp_new();
    if (c[i] == NULL || tcp_connect(c[i], &lo, PORT, tm_connected) != ERR_OK) {
      bench_die("lwIP TCP: connect #%d failed (MEMP_NUM_TCP_PCB is %d)", i + 1, MEMP_NUM_TCP_PCB);
    }
  }
  for (i = 0; i < BATCH_STEPS && (tcp_accepted < TCP_CONNS || tcp_connected < TCP_CONNS); i++) {
    netif_poll_all();
    sys_check_timeouts();
  }
  if (tcp_accepted < TCP_CONNS || tcp_connected < TCP_CONNS) {
    bench_die("lwIP TCP: only %d of %d connections came up", tcp_connected, TCP_CONNS);
  }
  after = lwip_bytes();
  /* Leave them: the process ends after the measurements (aborting would send RSTs). */
  return (double)(after - before) / (2.0 * TCP_CONNS);
}

int
main(int argc, char **argv)
{
  static const int counts[] = { 1000, 10000 };
  struct bench_opts o;
  struct vsock_conns v;
  uint64_t lw0, rss0, mal0, heap0;
  struct lwvsock_pcb_pool_stats pool0;
  double tcp_ep;
  size_t i;
  int n_idle;

  bench_parse_opts(argc, argv, usage, &o, NULL, NULL);
  bench_lwip_init();
  tcp_ep = tcp_bytes_per_endpoint();

  memset(&v, 0, sizeof(v));
  bench_vsock_dev_open(&v.sim, &v.dev);
  v.listener = lwvsock_new(v.dev, LWVSOCK_STREAM);
  if (v.listener == NULL || lwvsock_bind(v.listener, LWVSOCK_CID_ANY, PORT) != ERR_OK ||
      lwvsock_listen_with_backlog(v.listener, 255, NULL) == NULL) {
    bench_die("lwvsock: cannot listen on port %d", PORT);
  }
  lwvsock_arg(v.listener, &v);
  lwvsock_accept(v.listener, vm_accept);
  /* Warm the sim's socket table and the pools' first pages, then measure from here. */
  vm_step(&v);
  lw0 = lwip_bytes();
  heap0 = (uint64_t)lwip_stats.mem.used;
  rss0 = rss_bytes();
  mal0 = malloc_bytes();

  bench_pcb_pool(&pool0);
  bench_row("sizeof(struct lwvsock_pcb)", (double)pool0.size, "B",
            "sizeof(struct tcp_pcb)", (double)sizeof(struct tcp_pcb), BENCH_GOAL_NONE, 0);
  n_idle = o.quick ? 100 : 1000;
  for (i = 0; i < LWIP_ARRAYSIZE(counts); i++) {
    int n = o.quick ? counts[i] / 10 : counts[i];
    char metric[96];
    uint64_t lw, rss, mal;
    struct lwvsock_pcb_pool_stats pool;

    vm_open_until(&v, n);
    bench_pcb_pool(&pool);
    lw = lwip_bytes() - lw0;
    rss = rss_bytes() - rss0;
    mal = malloc_bytes() - mal0;
    if (n == n_idle) {
      bench_row("state per idle connection (lwIP memory / N)", (double)lw / n, "B",
                "lwIP TCP, per endpoint", tcp_ep, BENCH_GOAL_MAX_ABS, 256);
      bench_note("lwvsock per idle connection: pcb pool element %u B, lwIP heap %.1f B "
                 "(measured over %d connections)", (unsigned)pool.elem_size,
                 (double)((uint64_t)lwip_stats.mem.used - heap0) / n, n);
    }
    snprintf(metric, sizeof(metric), "lwIP memory, %d connections open", n);
    bench_row(metric, (double)lw / 1024.0, "KiB", "lwIP TCP endpoints (x N)",
              tcp_ep * n / 1024.0, BENCH_GOAL_NONE, 0);
    snprintf(metric, sizeof(metric), "process RSS growth, %d connections", n);
    bench_row(metric, (double)rss / 1024.0, "KiB", NULL, 0, BENCH_GOAL_NONE, 0);
    bench_note("%d connections: malloc in use grew %llu KiB (the sim host's sockets: %.0f B each); "
               "pcb pool %u of %u in use", n, (unsigned long long)(mal >> 10),
               (double)mal / n, (unsigned)pool.used, (unsigned)pool.avail);
  }
  bench_note("memory: lwIP TCP per endpoint measured over %d idle loopback connections "
             "(MEMP_NUM_TCP_PCB %d allows no more); the x N rows extrapolate it",
             TCP_CONNS, MEMP_NUM_TCP_PCB);
  lwvsock_dev_close(v.dev);
  return EXIT_SUCCESS;
}
