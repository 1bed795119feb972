/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The hosted example programs' life: bring the device named by --device up
 * (with the --pcap tap and the --forward listeners), run the polled main loop
 * until SIGINT/SIGTERM, and on the way out print the counters of the device
 * and of every connection still open (ex_conn list, conn.h).
 */
#ifndef LWVSOCK_EXAMPLES_LOOP_H
#define LWVSOCK_EXAMPLES_LOOP_H

#include "conn.h"

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
 * Let connections the program closed finish (at most 2 s, not after a signal),
 * print the counters of every live connection and of the device, then close
 * everything (connections are aborted). Returns @p rc, or EX_EXIT_FAIL when
 * the capture file could not be completed.
 */
int ex_finish(struct ex_ctx *ctx, int rc);

/** Whether SIGINT/SIGTERM has been received. */
int ex_stop_requested(void);

#endif /* LWVSOCK_EXAMPLES_LOOP_H */
