/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The platform-neutral part of the example programs: the live-connection
 * list, logging, listening, and pbuf queues. The hosted programs (which add
 * options.h, loop.h, pcap_file.h and forward.h) and the bare-metal appliance
 * share it, and with it the HTTP and echo servers built on it.
 *
 * A program embeds struct ex_conn as the first member of its per-connection
 * state and links it with ex_conn_add(), so the exit path can print the
 * counters of every connection still open.
 */
#ifndef LWVSOCK_EXAMPLES_CONN_H
#define LWVSOCK_EXAMPLES_CONN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lwvsock/lwvsock.h"
#include "lwvsock/pcap.h"
#include "lwvsock/vsock.h"

struct ex_fwd;

/** One live connection of a program (see the file comment). */
struct ex_conn {
  struct ex_conn *next;
  struct ex_conn *prev;
  struct lwvsock_pcb *pcb;
};

/**
 * State shared by the main loop and the programs. Each hosted module writes
 * only its own fields: options.c the option ones, forward.c fwd/nfwd,
 * pcap_file.c pcap/cap, loop.c running/dev/sim, conn.c the list.
 */
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
  uint64_t loop_syscalls;    /**< system calls ex_run() made to wait (ppoll) */
};

/** Zero @p ctx for program @p prog, with an empty connection list. */
void ex_ctx_init(struct ex_ctx *ctx, const char *prog);

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
/** ex_log() with a va_list. */
void ex_vlog(const struct ex_ctx *ctx, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/**
 * Listen for connections of @p type (LWVSOCK_STREAM or LWVSOCK_SEQPACKET) on
 * @p port of the device with callbacks set up by @p accept. Returns the pcb,
 * or NULL after printing why.
 */
struct lwvsock_pcb *ex_listen(struct ex_ctx *ctx, uint8_t type, uint32_t port, lwvsock_accept_fn accept,
                              void *arg);

/**
 * Write as much of @p *qp (a queue of received pbufs) as the send buffer takes
 * to @p pcb (all of it in one zero-copy write when it fits), drop the written
 * bytes from the queue and return them as credit
 * when @p credit. Returns the bytes written, or -1 when a write failed with
 * anything but ERR_MEM (the connection is then broken).
 */
long ex_write_queue(struct lwvsock_pcb *pcb, struct pbuf **qp, int credit);

/** Append @p p to the queue @p *qp, unless the pbuf chain length limit (65535) would be passed. */
int ex_queue_pbuf(struct pbuf **qp, struct pbuf *p);

/** Drop @p n bytes from the head of queue @p q (and empty pbufs left in front); returns the new head. */
struct pbuf *ex_queue_drop(struct pbuf *q, u16_t n);

/** Room for ex_format_dev_stats()'s text. */
#define EX_DEV_STATS_LEN 1024

/** Write the device's counters into @p buf as indented "name value" lines; returns the length. */
size_t ex_format_dev_stats(struct lwvsock_dev *dev, char *buf, size_t len);

#endif /* LWVSOCK_EXAMPLES_CONN_H */
