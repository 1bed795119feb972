/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * lwvsock: a polled virtio-vsock driver for lwIP. Device API.
 *
 * A device (struct lwvsock_dev) drives one virtio-vsock device reached through
 * a backend (a platform gives them: sim.h, devspec.h's device specs, ...; how to
 * write one is the porting API, lwvsock/port/backend.h). There are no
 * globals: open as many devices as you like. Nothing blocks: call
 * lwvsock_dev_poll() from your main loop together with lwIP's sys_check_timeouts(),
 * and sleep on lwvsock_dev_wait_fds() for at most lwvsock_dev_next_timeout() ms
 * when idle.
 *
 * @code
 *   lwip_init();
 *   struct lwvsock_dev *dev;
 *   if (lwvsock_dev_open(backend, &dev) != ERR_OK) ...
 *   for (;;) {
 *     lwvsock_dev_poll(dev, 64);
 *     sys_check_timeouts();
 *   }
 * @endcode
 *
 * Connections are made with the raw API (vsock.h) or through the altcp
 * provider (altcp_vsock.h).
 */
#ifndef LWVSOCK_LWVSOCK_H
#define LWVSOCK_LWVSOCK_H

/**
 * @defgroup lwvsock_dev Devices (lwvsock.h)
 * @{
 */

#include <stdint.h>

#include "lwvsock/lwvsock_opts.h"
#include "lwip/err.h"

#include "lwvsock/lwvsock_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The backend a device is opened on (porting API: lwvsock/port/backend.h). */
struct lwvsock_backend;

struct lwvsock_dev;
struct pbuf;

/** lwvsock_dev_next_timeout() when no timer is armed. */
#define LWVSOCK_TIMEOUT_INFINITE 0xffffffffu

/** Counters of one device. All are free-running. */
struct lwvsock_dev_stats {
  uint64_t rx_pkts;          /**< packets taken from the rx queue */
  uint64_t rx_bytes;         /**< RW payload bytes received */
  uint64_t tx_pkts;          /**< packets put on the tx queue */
  uint64_t tx_bytes;         /**< RW payload bytes sent */
  uint64_t rx_zerocopy;      /**< RW payloads handed to the application in place */
  uint64_t rx_copied;        /**< RW payloads copied (small, or loan bound reached) */
  uint64_t credit_stalls;    /**< times a sender had data but no peer credit */
  uint64_t credit_updates_tx;/**< CREDIT_UPDATE sent */
  uint64_t credit_requests_tx;/**< CREDIT_REQUEST sent */
  uint64_t rst_tx;           /**< RST sent */
  uint64_t rst_rx;           /**< RST received */
  uint64_t bad_pkts;         /**< malformed or unexpected packets dropped */
  uint64_t credit_violations;/**< peers that overran our buffer (connection reset) */
  uint64_t pool_exhausted;   /**< allocations refused for lack of memory */
  uint64_t rx_deferred;      /**< rx packets left for a later poll for lack of memory */
  uint64_t transport_resets; /**< TRANSPORT_RESET events */
  uint64_t dev_errors;       /**< device protocol violations (queue broken) */
  uint64_t conns_opened;     /**< connections established */
  uint64_t conns_active;     /**< connections open now (a gauge) */
  uint64_t tx_dropped_bytes; /**< written bytes never sent (abort, reset, peer stopped reading, linger) */
  uint64_t linger_timeouts;  /**< closed connections whose unsent data hit the linger bound */
  uint64_t tx_holds;         /**< small packets held back for coalescing (LWVSOCK_TX_COALESCE_MIN) */
  uint64_t kicks;            /**< notifications to the device (the backend's count) */
  uint64_t syscalls;         /**< system calls the backend made (0 for memory-mapped devices) */
  uint64_t zc_bytes;         /**< bytes written with LWVSOCK_WRITE_FLAG_NOCOPY and sent by reference */
  uint64_t zc_fallback;      /**< NOCOPY writes copied instead (backend cannot map, no reference slot) */
};

/** Packet direction for lwvsock_tap_fn. */
enum lwvsock_dir { LWVSOCK_DIR_RX = 0, LWVSOCK_DIR_TX = 1 };

/**
 * Packet tap: called for every packet the driver sends or receives, with the
 * LWVSOCK_PKT_HDR_LEN-byte wire header (lwvsock_pkt_hdr_decode() reads it) and
 * the payload (which may be split in two parts).
 */
typedef void (*lwvsock_tap_fn)(void *arg, enum lwvsock_dir dir, const uint8_t *hdr,
                               const void *payload, uint32_t len,
                               const void *payload2, uint32_t len2);

/** Bytes of a virtio-vsock packet header on the wire (struct virtio_vsock_hdr). */
#define LWVSOCK_PKT_HDR_LEN 44u

/** A virtio-vsock packet header, decoded into host byte order. */
struct lwvsock_pkt_hdr {
  uint64_t src_cid;    /**< source CID */
  uint64_t dst_cid;    /**< destination CID */
  uint32_t src_port;   /**< source port */
  uint32_t dst_port;   /**< destination port */
  uint32_t len;        /**< payload bytes that follow the header */
  uint16_t type;       /**< socket type: LWVSOCK_STREAM or LWVSOCK_SEQPACKET (vsock.h) */
  uint16_t op;         /**< operation (REQUEST, RW, ...: lwvsock_pkt_op_name()) */
  uint32_t flags;      /**< op-specific flags (SHUTDOWN's, SEQPACKET's EOM/EOR) */
  uint32_t buf_alloc;  /**< the sender's receive buffer size */
  uint32_t fwd_cnt;    /**< bytes the sender has consumed */
};

/**
 * Decode the wire header @p raw (e.g. a tap's @p hdr) into @p hdr.
 * @return ERR_OK; ERR_ARG when @p raw or @p hdr is NULL or @p rawlen is less
 *         than LWVSOCK_PKT_HDR_LEN (*hdr is then left alone).
 */
LWVSOCK_API err_t lwvsock_pkt_hdr_decode(const uint8_t *raw, uint32_t rawlen, struct lwvsock_pkt_hdr *hdr);

/** Name of a packet header's op ("REQUEST", "RW", ...), or "?" for an unknown op. */
LWVSOCK_API const char *lwvsock_pkt_op_name(uint16_t op);

/**
 * Log callback: @p who (the backend's name) reports @p msg, one sentence
 * without a trailing newline. Called from inside library calls; it must not
 * call back into lwvsock.
 */
typedef void (*lwvsock_log_fn)(void *arg, const char *who, const char *msg);

/**
 * Where backend @p be reports what went wrong inside it (refused requests,
 * failed system calls, device errors). Set it before lwvsock_dev_open() to
 * see problems of the bring-up. The default (@p fn NULL) is silent: the
 * library never prints by itself. Errors are returned as well; the log only
 * tells why.
 */
LWVSOCK_API void lwvsock_backend_set_log(struct lwvsock_backend *be, lwvsock_log_fn fn, void *arg);

/**
 * Bring up the device behind @p be: negotiate features, read the CID, set up
 * the queues, fill rx and event buffers and start it. On success the device
 * owns the backend (lwvsock_dev_close() destroys it).
 * @return ERR_OK; ERR_ARG for a bad backend (*devp is NULL and the backend
 *         is still the caller's); ERR_MEM when memory is short; ERR_IF when
 *         the device refuses. On ERR_MEM and ERR_IF *devp may hold the
 *         half-opened device (lwvsock_dev_error() says why): close it with
 *         lwvsock_dev_close(), which also destroys the backend.
 */
LWVSOCK_API err_t lwvsock_dev_open(struct lwvsock_backend *be, struct lwvsock_dev **devp);

/**
 * Release a backend the application did not hand to lwvsock_dev_open() (or
 * got back from it with ERR_ARG): e.g. one from lwvsock_devspec_open() it decided
 * not to use. NULL is ignored.
 */
LWVSOCK_API void lwvsock_backend_destroy(struct lwvsock_backend *be);

/**
 * Abort every connection (RST, err callback with ERR_ABRT), reset the device and
 * free it. Received pbufs the application still holds stay valid; their memory
 * is released when the last one is freed.
 */
LWVSOCK_API void lwvsock_dev_close(struct lwvsock_dev *dev);

/**
 * Do pending work: run timers, take used buffers, deliver received packets,
 * send what is queued. At most @p budget received packets are processed
 * (<= 0: no limit). Returns the units of work done (0 when idle).
 */
LWVSOCK_API int lwvsock_dev_poll(struct lwvsock_dev *dev, int budget);

/**
 * Milliseconds until the next lwvsock timer is due; 0 when work is pending.
 * Call it right before sleeping on lwvsock_dev_wait_fds(): it asks the device
 * to signal those fds (the driver otherwise polls with notifications off), and
 * the next lwvsock_dev_poll() turns them off again.
 */
LWVSOCK_API uint32_t lwvsock_dev_next_timeout(struct lwvsock_dev *dev);

/** File descriptors to wait on (readable = device has work); returns how many (may be 0). */
LWVSOCK_API int lwvsock_dev_wait_fds(struct lwvsock_dev *dev, int *fds, int max);

/** Our CID, as read from the device (updated on TRANSPORT_RESET). */
LWVSOCK_API uint32_t lwvsock_dev_cid(const struct lwvsock_dev *dev);

/** Whether SEQPACKET was negotiated. */
LWVSOCK_API int lwvsock_dev_has_seqpacket(const struct lwvsock_dev *dev);

/** ERR_OK while the device works; ERR_IF once it is broken. */
LWVSOCK_API err_t lwvsock_dev_status(const struct lwvsock_dev *dev);

/** Why the device is broken (a sentence), or "" when it is not. */
LWVSOCK_API const char *lwvsock_dev_error(const struct lwvsock_dev *dev);

/** Copy the device's counters into @p st. */
LWVSOCK_API void lwvsock_dev_get_stats(const struct lwvsock_dev *dev, struct lwvsock_dev_stats *st);

/**
 * Connections the application has closed (lwvsock_close()) that are still
 * finishing: their queued data, SHUTDOWN or RST not yet out, or the peer's RST
 * not yet in (at most the close timeout). A program that wants its last
 * connections to end cleanly polls until this is 0 before lwvsock_dev_close(),
 * which resets them all (over vhost-vsock, every host socket of the CID).
 */
LWVSOCK_API int lwvsock_dev_closing(const struct lwvsock_dev *dev);

/** Install (or, with NULL, remove) a packet tap. */
LWVSOCK_API void lwvsock_dev_set_tap(struct lwvsock_dev *dev, lwvsock_tap_fn fn, void *arg);

/** A sentence for an lwIP err_t (lwip_strerr exists only with LWIP_DEBUG). */
LWVSOCK_API const char *lwvsock_strerror(err_t err);

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* LWVSOCK_LWVSOCK_H */
