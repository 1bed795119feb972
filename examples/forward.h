/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * --forward TCP:VSOCK (sim only): the simulated host listens on
 * 127.0.0.1:TCP and connects each TCP client to the program's vsock port,
 * copying bytes both ways and passing half-closes and resets across. The
 * rules and their connections are this module's; the main loop (loop.c)
 * only asks it what to wait for and lets it move bytes.
 */
#ifndef LWVSOCK_EXAMPLES_FORWARD_H
#define LWVSOCK_EXAMPLES_FORWARD_H

#include <poll.h>
#include <stdint.h>

#include "conn.h"

/** Most --forward options per program. */
#define EX_MAX_FORWARDS 8
/** Forwarded connections open at once per --forward rule. */
#define EX_FWD_MAX_PAIRS 256
/** Most fds ex_fwd_wait_set() fills in: each rule's listener and connections. */
#define EX_FWD_MAX_FDS (EX_MAX_FORWARDS * (EX_FWD_MAX_PAIRS + 1))

/** Add the rule of --forward @p arg ("TCP:VSOCK"), or exit with a usage error naming what is wrong. */
void ex_fwd_add(struct ex_ctx *ctx, const char *arg);

/**
 * A usage error for a --forward that nothing would answer: when the program
 * does not @p listening, or its vsock port is not @p port.
 */
void ex_check_forwards(const struct ex_ctx *ctx, int listening, uint32_t port);

/** Listen on every rule's TCP port (ctx->sim must be set). Returns 0, or -1 after logging why. */
int ex_fwd_listen(struct ex_ctx *ctx);

/** Accept TCP clients and move bytes as far as both sides allow. Returns the work done. */
int ex_fwd_pump(struct ex_ctx *ctx);

/** Fill @p pfd with the forward sockets to wait on; returns the count (at most @p max). */
int ex_fwd_wait_set(const struct ex_ctx *ctx, struct pollfd *pfd, int max);

/** Reset every forwarded connection and stop listening. */
void ex_fwd_close(struct ex_ctx *ctx);

#endif /* LWVSOCK_EXAMPLES_FORWARD_H */
