/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The command line of the hosted example programs: the common options
 * (--device, --pcap, --forward, --quiet, --help), the one parsing loop every
 * program runs (ex_parse_options) and the number and error helpers its
 * option handlers use. Usage errors are one line naming the problem, then
 * "Try 'PROG --help'.", and exit status EX_EXIT_USAGE.
 */
#ifndef LWVSOCK_EXAMPLES_OPTIONS_H
#define LWVSOCK_EXAMPLES_OPTIONS_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include "conn.h"

/** Exit codes of every example. */
#define EX_EXIT_OK     0
#define EX_EXIT_FAIL   1  /**< runtime error (device, connection, I/O) */
#define EX_EXIT_USAGE  2  /**< bad command line */

/** A program's own options, for ex_parse_options(). */
struct ex_options {
  /** Its short options in getopt syntax ("p:"), or "" (the common "qh" are added). */
  const char *shortopts;
  /** Its long options, ended by a zeroed entry (the common ones are added). */
  const struct option *longopts;
  /** Print the --help text on @p f. */
  void (*usage)(FILE *f);
  /**
   * Take one of its own options: @p opt as getopt_long() returns it, @p arg
   * its argument or NULL. A bad value is reported with ex_usage_error().
   */
  void (*option)(struct ex_ctx *ctx, int opt, const char *arg);
};

/** Prepare @p ctx for program @p prog (defaults: --device sim). */
void ex_init(struct ex_ctx *ctx, const char *prog);

/**
 * Parse the command line: the common options into @p ctx, the program's own
 * through @p opts->option. --help prints @p opts->usage on stdout and exits
 * EX_EXIT_OK; a missing argument, an unknown option or an operand is a usage
 * error naming it.
 */
void ex_parse_options(struct ex_ctx *ctx, int argc, char **argv, const struct ex_options *opts);

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

#endif /* LWVSOCK_EXAMPLES_OPTIONS_H */
