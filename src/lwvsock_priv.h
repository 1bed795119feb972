/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * All lwvsock core internals at once, for tests and benchmarks. Core modules
 * include only the per-module headers they use; those form a DAG:
 * core.h <- devbase.h <- rxbuf.h, txbuf.h <- pcb.h <- device.h (virtq.h,
 * vsock_hdr.h below; see devbase.h).
 *
 * Ownership rules:
 * - Device memory (rings, rx buffers, tx header slots, tx payload slots) is
 *   one backend region; the device may scribble on it at any time, so nothing
 *   the driver relies on (tokens, lengths, links) is kept there.
 * - A pcb freed by the protocol is first "killed" (unhashed, callbacks
 *   dropped) and released at the end of lwvsock_dev_poll(), so a callback that
 *   aborts its own pcb never leaves the caller with a dangling pointer.
 * - An rx buffer lent to the application as a pbuf is owned by that pbuf until
 *   pbuf_free(); the device's memory outlives the device until the last loan
 *   returns.
 */
#ifndef LWVSOCK_PRIV_H
#define LWVSOCK_PRIV_H

#include "device.h"

#endif /* LWVSOCK_PRIV_H */
