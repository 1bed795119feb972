/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Packet capture: format what the driver sends and receives as a pcap stream
 * (LINKTYPE_VSOCK, 271: each frame is Linux's struct af_vsockmon_hdr, the
 * 44-byte virtio header, then the payload), so any application can trace its
 * own traffic and read it with tshark/Wireshark.
 *
 * Portable: the bytes go to the caller's write callback (a file, a UART, a
 * ring buffer), timestamps come from the caller's clock callback or sys_now().
 *
 * @code
 *   static struct lwvsock_pcap cap;
 *   if (lwvsock_pcap_start(&cap, my_write, NULL, my_file) == ERR_OK) {
 *     lwvsock_dev_set_tap(dev, lwvsock_pcap_tap, &cap);
 *   }
 * @endcode
 */
#ifndef LWVSOCK_PCAP_H
#define LWVSOCK_PCAP_H

/**
 * @defgroup lwvsock_pcap Packet capture (pcap.h)
 * @{
 */

#include <stddef.h>
#include <stdint.h>

#include "lwvsock/lwvsock.h"

#include "lwvsock/lwvsock_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** pcap link type of the records (https://www.tcpdump.org/linktypes.html). */
#define LWVSOCK_PCAP_LINKTYPE_VSOCK 271u
/** Size of the pcap file header written by lwvsock_pcap_start(). */
#define LWVSOCK_PCAP_FILE_HDR_LEN   24u
/** Bytes in front of each packet's virtio header: pcap record header + af_vsockmon_hdr. */
#define LWVSOCK_PCAP_REC_HDR_LEN    (16u + 32u)

/**
 * Write @p len bytes of the capture stream. Return 0 when all were written,
 * nonzero otherwise: the capture then stops (lwvsock_pcap_failed()).
 */
typedef int (*lwvsock_pcap_write_fn)(void *arg, const void *data, size_t len);

/** The current time for a record's timestamp (seconds and microseconds since the epoch, or any origin). */
typedef void (*lwvsock_pcap_clock_fn)(void *arg, uint32_t *sec, uint32_t *usec);

/** A capture. Caller-allocated; its fields belong to this module (use the functions). */
struct lwvsock_pcap {
  lwvsock_pcap_write_fn write;  /**< where the bytes go */
  lwvsock_pcap_clock_fn clock;  /**< timestamps; NULL: sys_now() */
  void *arg;                    /**< for write and clock */
  int failed;                   /**< a write failed: the capture stopped */
};

/**
 * Start a capture: write the pcap file header through @p write.
 *
 * @param cap   the capture to set up
 * @param write where the bytes go (required)
 * @param clock timestamps; NULL uses sys_now() (milliseconds since start)
 * @param arg   passed to @p write and @p clock
 * @return ERR_OK; ERR_ARG when @p cap or @p write is NULL; ERR_IF when the
 *         header could not be written (the capture is then failed).
 */
LWVSOCK_API err_t lwvsock_pcap_start(struct lwvsock_pcap *cap, lwvsock_pcap_write_fn write,
                         lwvsock_pcap_clock_fn clock, void *arg);

/**
 * An lwvsock_tap_fn writing one record per packet: install it with
 * lwvsock_dev_set_tap(dev, lwvsock_pcap_tap, cap) after lwvsock_pcap_start().
 * Does nothing once the capture has failed.
 */
LWVSOCK_API void lwvsock_pcap_tap(void *arg, enum lwvsock_dir dir, const uint8_t *hdr,
                      const void *payload, uint32_t len, const void *payload2, uint32_t len2);

/** Whether a write failed (no records are written after that). */
LWVSOCK_API int lwvsock_pcap_failed(const struct lwvsock_pcap *cap);

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* LWVSOCK_PCAP_H */
