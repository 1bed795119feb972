/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The echo server (echo_server.c), shared by lwvsock-echo and the appliance.
 */
#ifndef LWVSOCK_EXAMPLES_ECHO_SERVER_H
#define LWVSOCK_EXAMPLES_ECHO_SERVER_H

#include <stdint.h>

#include "conn.h"

/** The vsock port lwvsock-echo and the appliance echo on. */
#define ECHO_DEFAULT_PORT 1234u

/**
 * Echo on vsock @p port of @p ctx's device, for connections of @p type:
 * LWVSOCK_STREAM (every byte) or LWVSOCK_SEQPACKET (every message whole, as
 * one message; the device must have negotiated SEQPACKET). Connections are
 * linked into @p ctx's list and logged with its settings. Returns the
 * listening pcb, or NULL after logging why.
 */
struct lwvsock_pcb *echo_server_start(struct ex_ctx *ctx, uint8_t type, uint32_t port);

#endif /* LWVSOCK_EXAMPLES_ECHO_SERVER_H */
