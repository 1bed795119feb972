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

#include "lwvsock/lwvsock.h"
#include "lwvsock/pcap.h"
#include "lwvsock/vsock.h"
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

struct ex_fwd;

/** One live connection of a program (see the file comment). */
struct ex_conn {
  struct ex_conn *next;
  struct ex_conn *prev;
  struct lwvsock_pcb *pcb;
};

/** State shared by the main loop and the programs. */
struct ex_ctx {
  const char *prog;          /**< program name for messages */
  const char *device_spec;   /**< --device (default "sim") */
  const char *pcap_path;     /**< --pcap, or NULL */
  int quiet;                 /**< --quiet: no per-connection lines */
  int running;               /**< ex_run() was entered (ex_finish prints counters) */
  struct ex_fwd *fwd;        /**< --forward rules and their TCP state */
  int nfwd;
  struct lwvsock_dev *dev;   /**< set by ex_start() */
  struct lwvsock_sim *sim;   /**< the simulated host, or NULL for a real device */
  FILE *pcap;                /**< --pcap file, written through cap */
  struct lwvsock_pcap cap;
  struct ex_conn conns;      /**< list head of live connections */
};

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

/** Link @p c (the first member of a program's connection state) and make it the pcb's arg. */
void ex_conn_add(struct ex_ctx *ctx, struct ex_conn *c, struct lwvsock_pcb *pcb);
void ex_conn_remove(struct ex_conn *c);

/**
 * For an accept callback: @p size zeroed bytes of connection state (a struct
 * whose first member is struct ex_conn), linked with ex_conn_add(). NULL when
 * the accept carries an error or memory is short; *ret is then what the
 * callback returns.
 */
void *ex_conn_accept(struct ex_ctx *ctx, struct lwvsock_pcb *pcb, err_t err, size_t size, err_t *ret);

/** No more callbacks from @p pcb to the program (before it closes or aborts the pcb itself). */
void ex_pcb_detach(struct lwvsock_pcb *pcb);

/** For an err callback: log how a connection ended (not our own aborts; not with -q). */
void ex_log_conn_end(const struct ex_ctx *ctx, err_t err);

/** Print one connection's counters, prefixed by @p what ("closed", "open"). */
void ex_print_pcb_stats(const struct ex_ctx *ctx, const char *what, const struct lwvsock_pcb *pcb);

/** Log a line (printf-style) on stderr prefixed with the program name. */
void ex_log(const struct ex_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * Listen on @p port of the device with callbacks set up by @p accept. Returns
 * the pcb, or NULL after printing why.
 */
struct lwvsock_pcb *ex_listen(struct ex_ctx *ctx, uint32_t port, lwvsock_accept_fn accept, void *arg);

/**
 * Write as much of @p *qp (a queue of received pbufs) as the send buffer takes
 * to @p pcb, drop the written bytes from the queue and return them as credit
 * when @p credit. Returns the bytes written, or -1 when a write failed with
 * anything but ERR_MEM (the connection is then broken).
 */
long ex_write_queue(struct lwvsock_pcb *pcb, struct pbuf **qp, int credit);

/** Append @p p to the queue @p *qp, unless the pbuf chain length limit (65535) would be passed. */
int ex_queue_pbuf(struct pbuf **qp, struct pbuf *p);

/** Drop @p n bytes from the head of queue @p q (and empty pbufs left in front); returns the new head. */
struct pbuf *ex_queue_drop(struct pbuf *q, u16_t n);

#endif /* LWVSOCK_EXAMPLES_COMMON_H */
