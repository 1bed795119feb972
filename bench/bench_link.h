/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The two transports the benchmarks compare, behind one interface: a
 * connection (a "link") with two endpoints, moved forward by one loop step.
 *
 * - vsock: a guest lwvsock pcb (endpoint a) connected to a host socket of the
 *   simulated device (endpoint b), driven by lwvsock_dev_poll().
 * - tcp: two lwIP tcp pcbs on 127.0.0.1 (a: client, b: server) over lwIP's
 *   loop interface, driven by netif_poll_all() (NO_SYS, no threads).
 *
 * Both do sys_check_timeouts() in every step. Every receiver copies what it
 * gets into a sink buffer, as an application consuming the bytes would.
 */
#ifndef LWVSOCK_BENCH_LINK_H
#define LWVSOCK_BENCH_LINK_H

#include <stdint.h>

struct bench_link;
struct bench_ep;

/** Endpoint operations. */
struct bench_ep_ops {
  /** Queue up to @p n bytes; returns how many were taken (0: no room now). */
  uint32_t (*send)(struct bench_ep *ep, const uint8_t *p, uint32_t n);
  /** Push what was queued towards the peer (may be NULL). */
  void (*flush)(struct bench_ep *ep);
  /** Read what has arrived (NULL: the endpoint receives in a callback). */
  void (*pull)(struct bench_ep *ep);
};

struct bench_ep {
  const struct bench_ep_ops *ops;
  struct bench_link *link;
  void *pcb;        /**< struct lwvsock_pcb * or struct tcp_pcb * */
  int sock;         /**< sim host socket */
  uint64_t rx;      /**< bytes received and consumed */
};

enum bench_link_kind { BENCH_LINK_VSOCK, BENCH_LINK_TCP };

struct bench_link {
  enum bench_link_kind kind;
  struct bench_ep a, b;  /**< a: guest / TCP client; b: sim host / TCP server */
  struct lwvsock_sim *sim;
  struct lwvsock_dev *dev;
  int lsock;             /**< sim listener */
  void *listener;        /**< tcp listener */
  int connected;
  uint8_t wflags;        /**< flags of the guest's lwvsock_write()s (LWVSOCK_WRITE_FLAG_NOCOPY: zero-copy) */
};

/** lwip_init() once per process; further calls do nothing. */
void bench_lwip_init(void);

/** Open a device on a fresh sim (defaults); exits on failure. */
void bench_vsock_dev_open(struct lwvsock_sim **simp, struct lwvsock_dev **devp);

/**
 * Open a connected link of @p kind (port: the host or server port). Both tcp
 * pcbs run with Nagle off: otherwise the end of every transfer would wait for
 * a delayed ACK (up to 250 ms), which vsock, having no Nagle, never does.
 * Exits with a message when the connection cannot be made.
 */
void bench_link_open(struct bench_link *l, enum bench_link_kind kind, uint32_t port);
/** Close the connection, wait for both ends to finish, free everything. */
void bench_link_close(struct bench_link *l);
/** One iteration of the main loop. */
void bench_link_step(struct bench_link *l);

/**
 * Send @p total bytes from @p from to the other endpoint in writes of at most
 * @p wsize bytes (a write the transport takes only partly continues where it
 * stopped) and step until all have been consumed. Exits when it stalls.
 */
void bench_link_move(struct bench_link *l, struct bench_ep *from, uint64_t total, uint32_t wsize);

/** Copy @p len bytes into the shared sink (what a consuming application does). */
void bench_sink(const void *p, uint32_t len);

/** The shared source of sent bytes (64 KiB of a pattern). */
extern uint8_t bench_src[64 * 1024];

#endif /* LWVSOCK_BENCH_LINK_H */
