/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * lwIP altcp provider over vsock: run altcp applications (http_client, httpd,
 * mqtt, smtp, your own) over virtio-vsock stream connections.
 *
 * This is a bottom provider like lwIP's altcp_tcp: conn->state is the
 * struct lwvsock_pcb and conn->inner_conn is NULL, so TLS or proxyconnect can be
 * layered on top of it.
 *
 * Addresses: a CID travels as an IPv4 address whose u32 value (host order) is
 * the CID, so CID 2 is 0.0.0.2 and ipaddr_ntoa() prints the dotted form of the
 * number. 0.0.0.0 (IPADDR_ANY, IP_ANY_TYPE, NULL) means LWVSOCK_CID_ANY, so CID 0
 * (the hypervisor) is reachable only through lwvsock_altcp_connect32().
 * IPv6 addresses are refused (ERR_VAL).
 *
 * Ports: altcp's ports are u16. altcp_bind() with port 0 binds an ephemeral
 * port (as lwIP apps expect). For ports above 65535 use lwvsock_altcp_bind32()
 * and lwvsock_altcp_connect32(); altcp_get_port() truncates such ports to 16 bits,
 * lwvsock_altcp_port32() returns them whole.
 *
 * Deviations from altcp_tcp, all documented at the slot:
 * - altcp_mss() is capped at 0x7FFF so that apps' 2*mss (httpd) fits a u16.
 * - altcp_sndbuf() and altcp_sndqueuelen() are clamped to 0xFFFF.
 * - There is no Nagle algorithm: altcp_nagle_disabled() always returns 1, and
 *   nagle_enable/disable, setprio and the keepalive calls do nothing.
 * - altcp_get_ip() returns storage shared by all connections and overwritten by
 *   the next call for the same side (local/remote): copy the address to keep it.
 * - altcp_free() of a conn whose pcb is still open aborts the pcb (RST).
 * - The sent callback receives at most 0xFFFF bytes per call; larger device
 *   completions are split over several calls.
 *
 * Like lwIP itself (NO_SYS=1), this is single-threaded: call it only from the
 * loop that runs lwvsock_dev_poll().
 *
 * @code
 *   altcp_allocator_t vsock = { lwvsock_altcp_alloc, dev };
 *   struct altcp_pcb *conn = altcp_new(&vsock);
 *   ip_addr_t host;
 *   lwvsock_altcp_cid_to_ip(LWVSOCK_CID_HOST, &host);
 *   altcp_connect(conn, &host, 1234, connected);
 * @endcode
 */
#ifndef LWVSOCK_ALTCP_VSOCK_H
#define LWVSOCK_ALTCP_VSOCK_H

/**
 * @defgroup lwvsock_altcp altcp provider (altcp_vsock.h)
 * @{
 */

#include "lwip/opt.h"

#if LWIP_ALTCP

#include "lwip/altcp.h"
#include "lwvsock/vsock.h"

#include "lwvsock/lwvsock_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The provider's function table (for conn->fns checks and layered providers). */
LWVSOCK_API extern const struct altcp_functions lwvsock_altcp_functions;

/**
 * An altcp_new_fn: a new vsock stream conn on the device @p arg
 * (struct lwvsock_dev *). @p ip_type is IPADDR_TYPE_V4 or IPADDR_TYPE_ANY.
 * Returns NULL when a pool is empty, the device is broken, @p arg is NULL or
 * @p ip_type is IPv6.
 *
 * @code
 *   altcp_allocator_t a = { lwvsock_altcp_alloc, dev };
 *   httpc_connection_t settings = { .altcp_allocator = &a, ... };
 * @endcode
 */
LWVSOCK_API struct altcp_pcb *lwvsock_altcp_alloc(void *arg, u8_t ip_type);

/**
 * Set the device lwvsock_altcp_new_ip_type() allocates on (NULL: none).
 *
 * This is the library's only process-wide setting. It exists because lwIP's
 * httpd, mqtt and smtp call altcp_tcp_new_ip_type() with no way to pass an
 * allocator; compile them with
 * -Daltcp_tcp_new_ip_type=lwvsock_altcp_new_ip_type and they end up here.
 * Clear it before closing the device.
 */
LWVSOCK_API void lwvsock_altcp_set_default_dev(struct lwvsock_dev *dev);

/**
 * A drop-in for altcp_tcp_new_ip_type(): lwvsock_altcp_alloc() on the default
 * device. NULL when no default device is set.
 */
LWVSOCK_API struct altcp_pcb *lwvsock_altcp_new_ip_type(u8_t ip_type);

/** Bind to a 32-bit @p cid and @p port (LWVSOCK_CID_ANY, LWVSOCK_PORT_ANY allowed). */
LWVSOCK_API err_t lwvsock_altcp_bind32(struct altcp_pcb *conn, u32_t cid, u32_t port);

/** Connect to a 32-bit @p cid and @p port; @p connected runs as with altcp_connect(). */
LWVSOCK_API err_t lwvsock_altcp_connect32(struct altcp_pcb *conn, u32_t cid, u32_t port,
                              altcp_connected_fn connected);

/**
 * The whole 32-bit local (@p local != 0) or remote port of @p conn;
 * LWVSOCK_PORT_ANY when @p conn is not a live vsock conn.
 */
LWVSOCK_API u32_t lwvsock_altcp_port32(struct altcp_pcb *conn, int local);

/** The vsock pcb under @p conn, or NULL when it is not a live vsock conn. */
LWVSOCK_API struct lwvsock_pcb *lwvsock_altcp_pcb(struct altcp_pcb *conn);

/** Write @p cid into @p addr in the CID-as-IPv4 form described above. */
LWVSOCK_API void lwvsock_altcp_cid_to_ip(u32_t cid, ip_addr_t *addr);

/**
 * The CID in @p addr: LWVSOCK_CID_ANY for NULL or an any address. Returns
 * ERR_OK, or ERR_VAL for an IPv6 address.
 */
LWVSOCK_API err_t lwvsock_altcp_ip_to_cid(const ip_addr_t *addr, u32_t *cid);

#ifdef __cplusplus
}
#endif

#endif /* LWIP_ALTCP */

/** @} */

#endif /* LWVSOCK_ALTCP_VSOCK_H */
