/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Options of the vsock netif (netif_vsock.h), in lwIP's style: define any of
 * these in lwipopts.h to override the default.
 */
#ifndef LWVSOCK_NETIF_VSOCK_OPTS_H
#define LWVSOCK_NETIF_VSOCK_OPTS_H

/**
 * @defgroup lwvsock_netif_opts Options of the vsock netif (netif_vsock_opts.h)
 * @{
 */

#include "lwip/opt.h"

/** MTU when the configuration gives none (gvisor-tap-vsock's default is 4000). */
#if !defined LWVSOCK_NETIF_MTU_DEFAULT || defined __DOXYGEN__
#define LWVSOCK_NETIF_MTU_DEFAULT        1500
#endif

/** vsock port of the host-side network daemon (gvisor-tap-vsock and the tests' QEMU use 1024). */
#if !defined LWVSOCK_NETIF_PORT_DEFAULT || defined __DOXYGEN__
#define LWVSOCK_NETIF_PORT_DEFAULT       1024
#endif

/** First reconnect delay after the link went down or a connect failed (ms). */
#if !defined LWVSOCK_NETIF_BACKOFF_MIN_MS || defined __DOXYGEN__
#define LWVSOCK_NETIF_BACKOFF_MIN_MS     100
#endif

/** The reconnect delay doubles up to this bound (ms). */
#if !defined LWVSOCK_NETIF_BACKOFF_MAX_MS || defined __DOXYGEN__
#define LWVSOCK_NETIF_BACKOFF_MAX_MS     5000
#endif

/** Debug output of the netif (LWIP_DBG_ON to enable, with LWIP_DEBUG). */
#if !defined LWVSOCK_NETIF_DEBUG || defined __DOXYGEN__
#define LWVSOCK_NETIF_DEBUG              LWIP_DBG_OFF
#endif

/** @} */

#endif /* LWVSOCK_NETIF_VSOCK_OPTS_H */
