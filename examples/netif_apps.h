/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The lwIP TCP/IP side of the programs that run the vsock netif (the hosted
 * lwvsock-netif and the bare-metal appliance's netif image): an HTTP/1.0 GET
 * whose body is streamed to a callback, an HTTP server of one in-memory page,
 * a UDP echo, and the log of link and lease changes. Platform-neutral: lwIP's
 * raw TCP/UDP API, snprintf, calloc/free, and ex_log() for messages.
 */
#ifndef LWVSOCK_EXAMPLES_NETIF_APPS_H
#define LWVSOCK_EXAMPLES_NETIF_APPS_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"

/** Body bytes of a fetch, in order, as they arrive. */
typedef void (*na_fetch_body_fn)(void *arg, const uint8_t *data, size_t len);
/**
 * The fetch ended: @p why is NULL when the server closed after a whole
 * header (then @p status is its first 12 bytes, "HTTP/1.0 200"), else why not.
 */
typedef void (*na_fetch_done_fn)(void *arg, const char *status, uint64_t body_len, const char *why);

/** One HTTP/1.0 GET; the caller fills the first group, na_fetch_start() the rest. */
struct na_fetch {
  ip4_addr_t ip;
  uint16_t port;
  const char *path;          /**< absolute path, "/" for the root */
  na_fetch_body_fn body;     /**< may be NULL */
  na_fetch_done_fn done;
  void *arg;
  /* owned by netif_apps.c */
  uint32_t tail;             /* last 4 header bytes, to find the blank line */
  int in_body;
  char status[13];
  size_t status_len;
  uint64_t body_len;
};

/**
 * Parse "IP:PORT[/PATH]" (an IPv4 address, PORT 1..65535) into @p f's ip,
 * port and path; the path points into @p s ("/" when absent). 0 on success,
 * -1 on malformed input (then @p f is unchanged).
 */
int na_fetch_parse(struct na_fetch *f, const char *s);

/** Connect and send the GET; @p f must live until its done callback ran. */
err_t na_fetch_start(struct na_fetch *f);

/**
 * Answer every HTTP request on lwIP TCP port @p port with @p page (@p len
 * bytes, not copied: it must outlive the server), then close. One page per
 * program. Returns the listening pcb (tcp_close() it to stop), NULL when the
 * port cannot be bound or memory is short.
 */
struct tcp_pcb *na_page_server_start(uint16_t port, const uint8_t *page, size_t len);

/** Echo every UDP datagram on lwIP port @p port to its sender. */
err_t na_udp_echo_start(uint16_t port);

/** What na_watch() saw last. */
struct na_watch {
  int link, bound, leases;
};

/**
 * Log the changes of @p nif's link ("link up"/"link down") and DHCP lease
 * ("dhcp: bound IP gateway GW (#N)") since the last call; call it from the
 * main loop. Returns 1 while a lease is bound.
 */
int na_watch(const struct ex_ctx *ctx, struct netif *nif, struct na_watch *w);

#endif /* LWVSOCK_EXAMPLES_NETIF_APPS_H */
