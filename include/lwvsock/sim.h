/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The simulated host: an in-process virtio-vsock device and the host's end of
 * its sockets, behaving like Linux's vhost-vsock and AF_VSOCK. It is the peer
 * of the unit tests, the benchmarks and the demo.
 *
 * Deterministic and single-threaded: the device runs inside lwvsock_dev_poll()
 * (through the backend's poll op), so one loop drives both ends. Host sockets
 * are small integers; calls never block and return a negative errno on error
 * (-EAGAIN: nothing yet). Socket types are LWVSOCK_STREAM and
 * LWVSOCK_SEQPACKET (lwvsock/vsock.h).
 *
 * Only <stddef.h> and <stdint.h> are needed (sizes are long, not ssize_t), so
 * the header compiles with lwIP's under strict -std=c99/c11, where lwIP's
 * arch.h defines its own ssize_t.
 */
#ifndef LWVSOCK_SIM_H
#define LWVSOCK_SIM_H

/**
 * @defgroup lwvsock_sim Simulated host (sim.h)
 * @{
 */

#include <stddef.h>
#include <stdint.h>

#include "lwvsock/vsock.h"

#include "lwvsock/lwvsock_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The backend a device is opened on (porting API: lwvsock/port/backend.h). */
struct lwvsock_backend;

struct lwvsock_sim;

/** Device and host settings. */
struct lwvsock_sim_config {
  uint32_t guest_cid;       /**< the CID the device reports (default 3) */
  uint64_t features;        /**< feature bits offered (default VERSION_1 | SEQPACKET |
                                 RING_EVENT_IDX, as vhost-vsock offers) */
  uint16_t queue_size_max;  /**< largest ring the device accepts (default 1024) */
  int event_queue;          /**< whether the device has an event queue (default 1) */
  uint32_t host_buf_alloc;  /**< receive buffer of each host socket (default 256 KiB) */
  uint32_t max_pkt;         /**< largest RW payload the host sends (default 64 KiB) */
  int credit_request;       /**< host sends CREDIT_REQUEST when blocked (default 0, as Linux) */
  int tx_used_len;          /**< report header + payload as the used length of tx chains, as
                                 Linux's vhost did from 4.8 until late 2021 (default 0: 0) */
  /**
   * Host ports of host-initiated connections, used round robin from the first
   * (default 49152..65535, so they fit lwIP's 16-bit altcp_get_port(); set
   * e.g. 2^30..2^31-1 as Firecracker does to exercise 32-bit ports).
   */
  uint32_t host_port_min;
  uint32_t host_port_max;   /**< at most 4294967294 (VMADDR_PORT_ANY is not a port) */
  /**
   * Nonzero: the dma_map op refuses every range, as a device that reaches
   * only its own memory (default 0: any driver memory is mapped, through a
   * bounded table of device-read-only mappings; other addresses stay errors).
   */
  int dma_refuse;
};

/** Fill @p cfg with the defaults. */
LWVSOCK_API void lwvsock_sim_config_init(struct lwvsock_sim_config *cfg);

/**
 * Create a simulated device (cfg NULL: defaults). Hand lwvsock_sim_backend() to
 * lwvsock_dev_open(); closing the device destroys the sim. Returns 0 or -ENOMEM/-EINVAL.
 */
LWVSOCK_API int lwvsock_sim_new(const struct lwvsock_sim_config *cfg, struct lwvsock_sim **simp);

/** The backend to open with lwvsock_dev_open(). */
LWVSOCK_API struct lwvsock_backend *lwvsock_sim_backend(struct lwvsock_sim *sim);

/** The sim behind @p be, or NULL when @p be is not a sim backend. */
LWVSOCK_API struct lwvsock_sim *lwvsock_sim_from_backend(struct lwvsock_backend *be);

/* ---- host sockets ----------------------------------------------------------- */

/** Host socket states. */
enum lwvsock_sim_state {
  LWVSOCK_SIM_FREE = 0,
  LWVSOCK_SIM_LISTENING,
  LWVSOCK_SIM_CONNECTING,
  LWVSOCK_SIM_CONNECTED,
  LWVSOCK_SIM_CLOSING,     /**< sent SHUTDOWN both ways, waiting for the guest's RST */
  LWVSOCK_SIM_CLOSED       /**< reset, refused or closed; see lwvsock_sim_error() */
};

/** Listen on host port @p port (CID 2) for guest connections of @p type (LWVSOCK_STREAM or LWVSOCK_SEQPACKET). */
LWVSOCK_API int lwvsock_sim_listen(struct lwvsock_sim *sim, uint32_t port, uint16_t type);
/** Take an established connection from a listener; -EAGAIN when none. */
LWVSOCK_API int lwvsock_sim_accept(struct lwvsock_sim *sim, int lsock);
/**
 * Connect from the host to the guest's @p port with @p type (LWVSOCK_STREAM or
 * LWVSOCK_SEQPACKET), from the next free host port of the configured range
 * (-EADDRNOTAVAIL when every one is connected to @p port). Completes in poll.
 */
LWVSOCK_API int lwvsock_sim_connect(struct lwvsock_sim *sim, uint32_t port, uint16_t type);
/** As lwvsock_sim_connect, to @p dst_cid (normally the guest's CID; anything else is dropped as vhost does). */
LWVSOCK_API int lwvsock_sim_connect_cid(struct lwvsock_sim *sim, uint32_t dst_cid, uint32_t port, uint16_t type);

/** The state of host socket @p s. */
LWVSOCK_API enum lwvsock_sim_state lwvsock_sim_state(struct lwvsock_sim *sim, int s);
/** Why a socket closed: 0 (orderly), -ECONNRESET, -ECONNREFUSED, -ETIMEDOUT, -ENOBUFS. */
LWVSOCK_API int lwvsock_sim_error(struct lwvsock_sim *sim, int s);
/** SHUTDOWN flags the guest has sent on this connection (sticky). */
LWVSOCK_API uint32_t lwvsock_sim_peer_shutdown(struct lwvsock_sim *sim, int s);
/** The host's port of connection @p s. */
LWVSOCK_API uint32_t lwvsock_sim_local_port(struct lwvsock_sim *sim, int s);
/** The guest's port of connection @p s. */
LWVSOCK_API uint32_t lwvsock_sim_remote_port(struct lwvsock_sim *sim, int s);

/**
 * Queue @p len bytes to the guest (stream), or one message (seqpacket). Returns
 * the bytes accepted (at most the host send buffer's free space), -EAGAIN when
 * full, -EPIPE after shutdown, -ENOTCONN.
 */
LWVSOCK_API long lwvsock_sim_send(struct lwvsock_sim *sim, int s, const void *buf, size_t len);
/**
 * Read received bytes (stream) or one message, truncated to @p len (seqpacket).
 * Returns bytes, 0 at end of stream, -EAGAIN when nothing is there yet, and
 * -ECONNRESET once drained when the guest's device went away (reset, closed
 * or transport reset), even after the guest's orderly close: Linux resets
 * every host socket of the CID then. Reading returns credit to the guest as
 * Linux does.
 */
LWVSOCK_API long lwvsock_sim_recv(struct lwvsock_sim *sim, int s, void *buf, size_t len);
/** Bytes received and not yet read. */
LWVSOCK_API size_t lwvsock_sim_rx_pending(struct lwvsock_sim *sim, int s);
/** Bytes queued to the guest and not yet sent (waiting for credit or buffers). */
LWVSOCK_API size_t lwvsock_sim_tx_pending(struct lwvsock_sim *sim, int s);
/** Half-close: @p how is a mask of 1 (no more receive) and 2 (no more send). */
LWVSOCK_API int lwvsock_sim_shutdown(struct lwvsock_sim *sim, int s, uint32_t how);
/** Orderly close as Linux close(): SHUTDOWN both, RST on the guest's answer or after 8 s. The id is freed. */
LWVSOCK_API int lwvsock_sim_close(struct lwvsock_sim *sim, int s);
/** Abort with RST. The id is freed. */
LWVSOCK_API int lwvsock_sim_reset(struct lwvsock_sim *sim, int s);
/** Change the host socket's receive buffer (a credit update follows). */
LWVSOCK_API int lwvsock_sim_set_rcvbuf(struct lwvsock_sim *sim, int s, uint32_t size);

/* ---- device-level controls ------------------------------------------------- */

/** Raise VIRTIO_VSOCK_EVENT_TRANSPORT_RESET with a new CID (0: keep it); resets host connections. */
LWVSOCK_API int lwvsock_sim_transport_reset(struct lwvsock_sim *sim, uint32_t new_cid);
/** Deliver a raw packet (44-byte header as given, then @p len payload bytes) to the guest. */
LWVSOCK_API int lwvsock_sim_inject(struct lwvsock_sim *sim, const void *hdr, const void *payload, uint32_t len);

/** Called for every packet the guest sends, with the 44 header bytes and the payload. */
typedef void (*lwvsock_sim_tap_fn)(void *arg, const uint8_t *hdr, const uint8_t *payload, uint32_t len);
/** Call @p fn for every packet the guest sends (NULL: stop). */
LWVSOCK_API void lwvsock_sim_set_tap(struct lwvsock_sim *sim, lwvsock_sim_tap_fn fn, void *arg);

/** Misbehaviours the device can be told to show (for hardening tests). */
struct lwvsock_sim_faults {
  int stall_tx;          /**< stop completing tx buffers */
  int stall_rx;          /**< stop delivering to the guest */
  int used_id_bogus;     /**< next used entry: an id out of range */
  int used_id_dup;       /**< next used entry: repeat the previous id */
  int used_len_overflow; /**< next rx used entry: a length beyond the buffer */
  int hdr_len_mismatch;  /**< next rx packet: header len disagrees with the bytes written */
  int zero_len_rx;       /**< next rx used entry: length 0 */
  int ignore_credit;     /**< host sends RW regardless of guest credit */
  uint32_t huge_buf_alloc; /**< nonzero: host advertises this buf_alloc */
};
/** Show the misbehaviours in @p f from now on (all zero: behave). */
LWVSOCK_API void lwvsock_sim_set_faults(struct lwvsock_sim *sim, const struct lwvsock_sim_faults *f);

/** Host-side counters. */
struct lwvsock_sim_stats {
  uint64_t rx_pkts;                /**< packets the host took from the guest */
  uint64_t tx_pkts;                /**< packets the host gave to the guest */
  uint64_t rx_bytes;               /**< RW payload bytes from the guest */
  uint64_t tx_bytes;               /**< RW payload bytes to the guest */
  uint64_t rst_rx;                 /**< RSTs from the guest */
  uint64_t rst_tx;                 /**< RSTs to the guest */
  uint64_t credit_updates_rx;      /**< CREDIT_UPDATEs from the guest */
  uint64_t credit_requests_rx;     /**< CREDIT_REQUESTs from the guest */
  uint64_t credit_violations;      /**< guest RW beyond host credit or, as Linux 2026, beyond
                                        buf_alloc / 576 queued packets (reset, -ENOBUFS) */
  uint64_t dropped;                /**< malformed guest packets */
  uint64_t kicks;                  /**< notifications received */
  uint64_t used_notifications;     /**< batches of used entries the driver asked to be told
                                        of (used_event with EVENT_IDX, else no NO_INTERRUPT);
                                        counted only: the sim raises no interrupt */
  uint64_t dma_maps_live;          /**< zero-copy mappings the driver holds now (a gauge) */
};
/** Copy the host-side counters into @p st. */
LWVSOCK_API void lwvsock_sim_get_stats(const struct lwvsock_sim *sim, struct lwvsock_sim_stats *st);

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* LWVSOCK_SIM_H */
