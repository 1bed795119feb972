/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * What the example programs share: the common options (--device, --pcap,
 * --forward, --quiet), bringing a device up, the polled main loop, orderly
 * exit on SIGINT/SIGTERM with counters, and a list of live connections.
 *
 * A program embeds struct ex_conn as the first member of its per-connection
 * state and links it with ex_conn_add(), so the exit path can print the
 * counters of every connection still open.
 */
#ifndef LWVSOCK_EXAMPLES_COMMON_H
#define LWVSOCK_EXAMPLES_COMMON_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "conn.h"
#include "lwvsock/pcap.h"
#include "lwvsock/sim.h"

/** Exit codes of every example. */
#define EX_EXIT_OK     0
#define EX_EXIT_FAIL   1  /**< runtime error (device, connection, I/O) */
#define EX_EXIT_USAGE  2  /**< bad command line */

/** Most --forward options per program. */
#define EX_MAX_FORWARDS 8

/** getopt_long entries of the common options; end a program's table with these. */
#define EX_OPT_DEVICE   0x1000
#define EX_OPT_PCAP     0x1001
#define EX_OPT_FORWARD  0x1002
#define EX_COMMON_LONGOPTS \
  { "device",  required_argument, NULL, EX_OPT_DEVICE }, \
  { "pcap",    required_argument, NULL, EX_OPT_PCAP }, \
  { "forward", required_argument, NULL, EX_OPT_FORWARD }, \
  { "quiet",   no_argument,       NULL, 'q' }, \
  { "help",    no_argument,       NULL, 'h' }
/** Short options of the common set, for a program's optstring. */
#define EX_COMMON_SHORTOPTS "qh"

/** Prepare @p ctx for program @p prog (defaults: --device sim). */
void ex_init(struct ex_ctx *ctx, const char *prog);

/**
 * Handle option @p opt (from getopt_long) if it is a common one.
 * Returns 1 when handled, 0 when it is not a common option; exits with
 * EX_EXIT_USAGE and a message naming the problem for a bad value.
 */
int ex_common_option(struct ex_ctx *ctx, int opt, const char *arg);

/** Print the help lines of the common options. */
void ex_common_usage(FILE *f);

/** Report a usage error (printf-style) and exit with EX_EXIT_USAGE. */
void ex_usage_error(const struct ex_ctx *ctx, const char *fmt, ...)
  __attribute__((format(printf, 2, 3), noreturn));

/** Print the "Try 'PROG --help'." line that ends a usage error's message. */
void ex_try_help(const struct ex_ctx *ctx);

/**
 * Parse an unsigned number in [min, max] (decimal, even with leading zeros,
 * or 0x hex; suffixes k, M, G as powers of 1024 when @p suffixes). Returns 0
 * on success, -1 otherwise.
 */
int ex_parse_u64(const char *s, uint64_t min, uint64_t max, int suffixes, uint64_t *out);

/** The value of --port: a vsock port, or a usage error. */
uint32_t ex_port_arg(const struct ex_ctx *ctx, const char *arg);

/** Longest argument quoted whole in a message. */
#define EX_SHOWN_MAX 64

/**
 * @p arg for a message: itself, or when longer than EX_SHOWN_MAX its start,
 * "..." and its length (valid until four more calls).
 */
const char *ex_shown(const char *arg);

/**
 * getopt_long() that reports a missing argument or an unknown option itself,
 * in one line naming the option, and exits with EX_EXIT_USAGE. @p shortopts
 * is without the leading ':'.
 */
int ex_getopt(const struct ex_ctx *ctx, int argc, char **argv, const char *shortopts,
              const struct option *longopts);

/** After ex_getopt(): a usage error when operands are left. */
void ex_no_operands(const struct ex_ctx *ctx, int argc, char **argv);

/**
 * A usage error for a --forward that nothing would answer: when the program
 * does not @p listening, or its vsock port is not @p port.
 */
void ex_check_forwards(const struct ex_ctx *ctx, int listening, uint32_t port);

/**
 * Initialise lwIP, open the device named by --device, install the pcap tap,
 * start the forwards and the signal handlers. On failure prints why and
 * returns EX_EXIT_FAIL or EX_EXIT_USAGE; 0 on success.
 */
int ex_start(struct ex_ctx *ctx);

/**
 * Run the main loop until SIGINT/SIGTERM, a broken device, or @p done (may be
 * NULL) returns nonzero. Returns EX_EXIT_OK, or EX_EXIT_FAIL when the device
 * broke.
 */
int ex_run(struct ex_ctx *ctx, int (*done)(void *arg), void *arg);

/**
 * Print the counters of every live connection and of the device, then close
 * everything (connections are aborted). Returns @p rc.
 */
int ex_finish(struct ex_ctx *ctx, int rc);

/** Whether SIGINT/SIGTERM has been received. */
int ex_stop_requested(void);

#endif /* LWVSOCK_EXAMPLES_COMMON_H */
