/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * --pcap FILE: the library's pcap writer (lwvsock/pcap.h) into a stdio file,
 * as the device's tap.
 */
#ifndef LWVSOCK_EXAMPLES_PCAP_FILE_H
#define LWVSOCK_EXAMPLES_PCAP_FILE_H

#include "conn.h"

/** Create ctx->pcap_path and tap ctx->dev into it. Returns 0, or -1 after logging why. */
int ex_pcap_open(struct ex_ctx *ctx);

/** Close the capture, if open. Returns 0, or -1 after logging a failed final write. */
int ex_pcap_close(struct ex_ctx *ctx);

#endif /* LWVSOCK_EXAMPLES_PCAP_FILE_H */
