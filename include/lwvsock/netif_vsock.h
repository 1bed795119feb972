/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * An lwIP Ethernet netif whose link is one lwvsock STREAM connection to a
 * host-side network daemon (QEMU -netdev stream, passt, gvisor-tap-vsock).
 *
 * The daemon gives the netif full IP: DHCP, DNS, NAT to the host's network and
 * port forwarding into lwIP. Written only against the raw pcb API (vsock.h)
 * and lwIP, so it runs on every device lwvsock drives, beside raw and altcp
 * vsock connections on the same device. It needs LWIP_ETHERNET, LWIP_ARP and
 * LWIP_IPV4 in lwipopts.h (LWIP_UDP and LWIP_DHCP for DHCP); without them
 * netif_vsock.c compiles to nothing.
 *
 * Framings (each Ethernet frame, without FCS, preceded by its length):
 * - LWVSOCK_NETIF_FRAMING_QEMU: 4-byte big-endian length (QEMU -netdev
 *   stream/socket, passt).
 * - LWVSOCK_NETIF_FRAMING_GVPROXY: the connection opens with an HTTP
 *   `POST /connect` request, then 2-byte little-endian lengths
 *   (gvisor-tap-vsock's vsock protocol).
 *
 * Link state follows the stream: up once connected, down on close or RST;
 * the netif reconnects (or accepts again) with a bounded, doubling backoff.
 * lwIP restarts DHCP on link up when dhcp_start() was called on the netif.
 *
 * A received frame that lies whole in one pbuf of what lwvsock delivered is
 * handed to lwIP in place (a custom pbuf holding a reference); one split
 * across packets is copied into one contiguous pbuf.
 *
 * Received frames of a bad length are dropped and counted (see
 * struct lwvsock_netif_stats); a length no daemon can mean (beyond 64 KiB) is
 * taken as lost framing: the connection is reset and made again.
 *
 * @code
 *   struct lwvsock_netif vn;
 *   struct lwvsock_netif_config cfg;
 *   lwvsock_netif_config_init(&cfg);
 *   cfg.dev = dev;                      // an opened lwvsock device
 *   if (lwvsock_netif_add(&vn, &cfg) == ERR_OK) {
 *     netif_set_default(lwvsock_netif_netif(&vn));
 *     dhcp_start(lwvsock_netif_netif(&vn));
 *   }
 * @endcode
 */
#ifndef LWVSOCK_NETIF_VSOCK_H
#define LWVSOCK_NETIF_VSOCK_H

/**
 * @defgroup lwvsock_netif lwIP netif over a vsock stream (netif_vsock.h)
 * @{
 */

#include <stdint.h>

#include "lwvsock/netif_vsock_opts.h"
#include "lwvsock/vsock.h"
#include "lwip/netif.h"

#include "lwvsock/lwvsock_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** How frames are delimited on the stream. */
enum lwvsock_netif_framing {
  LWVSOCK_NETIF_FRAMING_QEMU = 0,   /**< 4-byte big-endian length (QEMU stream, passt) */
  LWVSOCK_NETIF_FRAMING_GVPROXY     /**< HTTP POST /connect, then 2-byte little-endian lengths */
};

/** Configuration of lwvsock_netif_add(). */
struct lwvsock_netif_config {
  struct lwvsock_dev *dev;                  /**< the device carrying the link */
  enum lwvsock_netif_framing framing;       /**< default QEMU */
  int listen;                               /**< 0: connect to cid:port; 1: accept one host connection on port */
  uint32_t cid;                             /**< daemon's CID when connecting (default LWVSOCK_CID_HOST) */
  uint32_t port;                            /**< vsock port (default LWVSOCK_NETIF_PORT_DEFAULT) */
  uint16_t mtu;                             /**< IP MTU (default LWVSOCK_NETIF_MTU_DEFAULT) */
  uint8_t hwaddr[6];                        /**< MAC (default 52:54:00:12:34:56, QEMU's first guest MAC) */
  uint32_t backoff_min_ms;                  /**< first reconnect delay (default LWVSOCK_NETIF_BACKOFF_MIN_MS) */
  uint32_t backoff_max_ms;                  /**< reconnect delay bound (default LWVSOCK_NETIF_BACKOFF_MAX_MS) */
};

/** Counters of one netif. All are free-running. */
struct lwvsock_netif_stats {
  uint64_t rx_frames;     /**< frames handed to lwIP */
  uint64_t rx_bytes;      /**< their bytes */
  uint64_t rx_in_place;   /**< frames handed over without a copy (whole in one received pbuf) */
  uint64_t tx_frames;     /**< frames queued on the stream */
  uint64_t tx_bytes;      /**< their bytes (without length headers) */
  uint32_t rx_oversize;   /**< frames longer than the MTU allows, dropped */
  uint32_t rx_runt;       /**< frames shorter than an Ethernet header, dropped */
  uint32_t rx_truncated;  /**< frames cut short by the end of the stream, dropped */
  uint32_t rx_nomem;      /**< frames dropped for lack of a pbuf */
  uint32_t rx_desync;     /**< impossible lengths: framing lost, connection reset */
  uint32_t tx_nolink;     /**< frames dropped while the link was down */
  uint32_t tx_full;       /**< frames dropped: the stream's send buffer was full */
  uint32_t tx_oversize;   /**< frames from lwIP larger than the framing or MTU allows */
  uint32_t connects;      /**< times the link came up */
  uint32_t link_downs;    /**< times the link went down */
  uint32_t connect_fails; /**< connects refused or timed out */
};

/**
 * One vsock netif. Caller-allocated (as struct netif); the fields are the
 * module's own: use the functions below.
 */
struct lwvsock_netif {
  struct netif netif;                  /**< the lwIP netif (first member) */
  struct lwvsock_netif_config cfg;     /**< the configuration it was added with */
  struct lwvsock_pcb *pcb;             /**< the link connection, NULL when down */
  struct lwvsock_pcb *listener;        /**< listen mode: the listening pcb */
  uint32_t backoff_ms;                 /**< next reconnect delay */
  int timer_armed;                     /**< a reconnect timer is pending */
  /* Receive state: length header bytes gathered, then the frame being filled. */
  uint8_t hdr[4];                      /**< the frame's length header so far */
  uint8_t hdr_have;                    /**< bytes of hdr gathered */
  struct pbuf *frame;                  /**< frame being reassembled, or NULL */
  uint32_t frame_len;                  /**< its length (or bytes to skip when dropping) */
  uint32_t frame_have;                 /**< bytes of the frame gathered */
  int frame_skip;                      /**< dropping this frame's bytes */
  struct lwvsock_netif_stats stats;    /**< counters (lwvsock_netif_get_stats()) */
};

/** Fill @p cfg with the defaults (dev NULL: set it). */
LWVSOCK_API void lwvsock_netif_config_init(struct lwvsock_netif_config *cfg);

/**
 * Add the netif to lwIP (netif_add() with no address: use DHCP or
 * netif_set_addr()), set it up and start connecting or listening.
 * @return ERR_OK; ERR_ARG for a bad configuration (no device, unknown
 *         framing, MTU outside [576, 65500], backoff 0 or max < min);
 *         ERR_MEM/ERR_USE when the listening pcb cannot be made; ERR_IF when
 *         lwIP refuses the netif.
 */
LWVSOCK_API err_t lwvsock_netif_add(struct lwvsock_netif *vn, const struct lwvsock_netif_config *cfg);

/** Drop the link connection (RST), stop reconnecting, stop DHCP on the netif and remove it from lwIP. */
LWVSOCK_API void lwvsock_netif_remove(struct lwvsock_netif *vn);

/** The lwIP netif of @p vn. */
LWVSOCK_API struct netif *lwvsock_netif_netif(struct lwvsock_netif *vn);

/** Copy the counters of @p vn into @p st. */
LWVSOCK_API void lwvsock_netif_get_stats(const struct lwvsock_netif *vn, struct lwvsock_netif_stats *st);

/**
 * Drop the link now (RST), as if the daemon had gone away; the netif
 * reconnects after its backoff. For tests and for applications that detect a
 * dead daemon themselves.
 */
LWVSOCK_API void lwvsock_netif_reset_link(struct lwvsock_netif *vn);

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* LWVSOCK_NETIF_VSOCK_H */
