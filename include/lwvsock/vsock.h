/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Raw vsock pcb API, shaped like lwIP's tcp raw API (tcp.h), with 32-bit CIDs
 * and ports.
 *
 * Callback contract (as lwIP TCP):
 * - recv(p != NULL): the application owns p and calls lwvsock_recved() once it
 *   has consumed the data, which returns credit to the peer. If recv returns an
 *   error other than ERR_ABRT, lwvsock keeps p and delivers it again later.
 *   recv(p == NULL): the peer will send no more (SHUTDOWN SEND or close).
 * - err: the pcb is already freed when it is called (ERR_RST: peer reset;
 *   ERR_ABRT: aborted or timed out; ERR_TIMEOUT: connect timed out).
 * - Return ERR_ABRT from a callback only after calling lwvsock_abort() on the pcb.
 * - Callbacks run from lwvsock_dev_poll(). Two API calls run one before they
 *   return, as lwIP's tcp_abort() does: lwvsock_abort() calls the pcb's err
 *   (ERR_ABRT), and lwvsock_dev_close() calls err(ERR_ABRT) of every pcb still
 *   open. Every other call (write, close, recved, ...) only queues work.
 * - SEQPACKET: each recv delivers one whole message; each write sends one message.
 *
 * Data written is always copied into device-reachable memory; sent(len) fires
 * when the device has taken len bytes.
 */
#ifndef LWVSOCK_VSOCK_H
#define LWVSOCK_VSOCK_H

/**
 * @defgroup lwvsock_raw Raw pcb API (vsock.h)
 * @{
 */

#include <stdint.h>

#include "lwvsock/lwvsock.h"

#include "lwvsock/lwvsock_export.h"

#ifdef __cplusplus
extern "C" {
#endif

struct lwvsock_pcb;

/** Socket type STREAM (the virtio-vsock type field). */
#define LWVSOCK_STREAM     1
/** Socket type SEQPACKET: message boundaries kept. */
#define LWVSOCK_SEQPACKET  2

/** Wildcard CID for lwvsock_bind(). */
#define LWVSOCK_CID_ANY    0xffffffffu
/** Wildcard port for lwvsock_bind(): an ephemeral port above 1023. */
#define LWVSOCK_PORT_ANY   0xffffffffu
/** Well-known CID: local (the in-driver loopback). */
#define LWVSOCK_CID_LOCAL  1u
/** Well-known CID: the host. */
#define LWVSOCK_CID_HOST   2u

/** Flags for lwvsock_write() (same values as TCP_WRITE_FLAG_*). */
#define LWVSOCK_WRITE_FLAG_COPY  0x01 /**< accepted; data is copied (the default without NOCOPY) */
#define LWVSOCK_WRITE_FLAG_MORE  0x02 /**< more data follows: hold a partial packet for coalescing */
/**
 * Zero-copy: the library references the bytes instead of copying them (a
 * pbuf_ref() on lwvsock_write_pbuf()'s chain, which the caller may free at
 * once; lwvsock_write()'s memory directly, taking no pbuf) and the device
 * reads them in place. The caller must not change them until the sent
 * callback has reported them. When the connection ends first (abort, reset,
 * close), a chain stays alive through the library's reference, but
 * lwvsock_write()'s memory must stay readable until the device has returned
 * it (later lwvsock_dev_poll() calls, at the latest lwvsock_dev_close()): use
 * it for memory that outlives the connection. Where the backend cannot map
 * the memory (no dma_map, or memory the device cannot reach) or no reference
 * slot (LWVSOCK_TX_REF_SLOTS) is free, the bytes are copied as without the
 * flag (counted in lwvsock_dev_stats zc_fallback). Not a TCP_WRITE_FLAG:
 * altcp_write() never sets it (altcp always copies).
 */
#define LWVSOCK_WRITE_FLAG_NOCOPY 0x04

/** Connection states (for lwvsock_state()). */
enum lwvsock_state {
  LWVSOCK_CLOSED = 0,   /**< new, or closed */
  LWVSOCK_LISTEN,       /**< listening */
  LWVSOCK_CONNECTING,   /**< REQUEST sent, no answer yet */
  LWVSOCK_ESTABLISHED,  /**< connected */
  LWVSOCK_CLOSING       /**< SHUTDOWN sent or received, waiting for the end */
};

/** A new connection on a listener (@p newpcb), as lwIP's tcp_accept_fn. */
typedef err_t (*lwvsock_accept_fn)(void *arg, struct lwvsock_pcb *newpcb, err_t err);
/** lwvsock_connect() succeeded (@p err is ERR_OK). */
typedef err_t (*lwvsock_connected_fn)(void *arg, struct lwvsock_pcb *pcb, err_t err);
/** Data received (@p p), or the peer will send no more (@p p NULL). See the contract above. */
typedef err_t (*lwvsock_recv_fn)(void *arg, struct lwvsock_pcb *pcb, struct pbuf *p, err_t err);
/** The device took @p len more bytes of what was written. */
typedef err_t (*lwvsock_sent_fn)(void *arg, struct lwvsock_pcb *pcb, uint32_t len);
/** Periodic callback (lwvsock_poll()). */
typedef err_t (*lwvsock_poll_fn)(void *arg, struct lwvsock_pcb *pcb);
/** The connection ended abnormally; the pcb is already freed. */
typedef void (*lwvsock_err_fn)(void *arg, err_t err);

/** Counters of one connection. */
struct lwvsock_pcb_stats {
  uint64_t rx_bytes;       /**< payload bytes received */
  uint64_t tx_bytes;       /**< payload bytes sent */
  uint32_t rx_pkts;        /**< packets received */
  uint32_t tx_pkts;        /**< packets sent */
  uint32_t credit_stalls;  /**< times sending stopped for lack of peer credit */
};

/** A new pcb of @p type on @p dev, or NULL (pool empty, bad type, device broken). */
LWVSOCK_API struct lwvsock_pcb *lwvsock_new(struct lwvsock_dev *dev, uint8_t type);

/** The argument passed to every callback of @p pcb. */
LWVSOCK_API void lwvsock_arg(struct lwvsock_pcb *pcb, void *arg);
/** Set the accept callback of a listener. */
LWVSOCK_API void lwvsock_accept(struct lwvsock_pcb *pcb, lwvsock_accept_fn accept);
/** Set the receive callback. */
LWVSOCK_API void lwvsock_recv(struct lwvsock_pcb *pcb, lwvsock_recv_fn recv);
/** Set the sent callback. */
LWVSOCK_API void lwvsock_sent(struct lwvsock_pcb *pcb, lwvsock_sent_fn sent);
/** Set the error callback. */
LWVSOCK_API void lwvsock_err(struct lwvsock_pcb *pcb, lwvsock_err_fn err);
/** Call @p poll every @p interval * 500 ms (0 disables). */
LWVSOCK_API void lwvsock_poll(struct lwvsock_pcb *pcb, lwvsock_poll_fn poll, uint8_t interval);

/**
 * Bind to @p cid (our CID or LWVSOCK_CID_ANY) and @p port (LWVSOCK_PORT_ANY:
 * pick an ephemeral port above 1023). ERR_USE when taken, ERR_VAL for a CID
 * that is not ours, ERR_ISCONN when already bound.
 */
LWVSOCK_API err_t lwvsock_bind(struct lwvsock_pcb *pcb, uint32_t cid, uint32_t port);

/**
 * Listen with a backlog of not-yet-accepted connections (REQUESTs beyond it get
 * RST). Returns @p pcb itself (unlike lwIP TCP, no new pcb is allocated), or NULL
 * with @p err set. The pcb must be bound.
 */
LWVSOCK_API struct lwvsock_pcb *lwvsock_listen_with_backlog(struct lwvsock_pcb *pcb, uint8_t backlog, err_t *err);
/** lwvsock_listen_with_backlog() with LWVSOCK_DEFAULT_BACKLOG. */
#define lwvsock_listen(pcb) lwvsock_listen_with_backlog((pcb), LWVSOCK_DEFAULT_BACKLOG, NULL)

/**
 * Backlog control, as lwIP's tcp_backlog_delayed/accepted: a new connection
 * counts against its listener's backlog until its accept callback returns,
 * unless the callback calls lwvsock_backlog_delayed(newpcb); it then counts
 * until lwvsock_backlog_accepted(newpcb).
 */
LWVSOCK_API void lwvsock_backlog_delayed(struct lwvsock_pcb *pcb);
/** End the delay lwvsock_backlog_delayed() started (see there). */
LWVSOCK_API void lwvsock_backlog_accepted(struct lwvsock_pcb *pcb);

/**
 * Connect to @p cid : @p port. Binds to an ephemeral port when unbound.
 * connected() runs with ERR_OK once the peer answers; a refusal (RST) or the
 * connect timeout calls err() with ERR_RST or ERR_TIMEOUT instead.
 * CID 1 and our own CID connect through the in-driver loopback.
 * ERR_MEM when the REQUEST cannot even be queued (tx ring and reply store
 * full, or no memory for a loopback packet): the pcb stays unconnected and
 * the call may be retried.
 */
LWVSOCK_API err_t lwvsock_connect(struct lwvsock_pcb *pcb, uint32_t cid, uint32_t port, lwvsock_connected_fn connected);

/**
 * Queue @p len bytes for sending (copied, or referenced with
 * LWVSOCK_WRITE_FLAG_NOCOPY). ERR_MEM when the send buffer or the
 * device memory is full (retry from sent or poll), ERR_CONN when not connected
 * or after shutdown of the send side, ERR_VAL for a SEQPACKET message larger
 * than the window.
 */
LWVSOCK_API err_t lwvsock_write(struct lwvsock_pcb *pcb, const void *data, uint32_t len, uint8_t apiflags);

/**
 * Send a pbuf chain's bytes (copied; with LWVSOCK_WRITE_FLAG_NOCOPY the chain
 * is referenced until the device has read it). The caller keeps its reference.
 */
LWVSOCK_API err_t lwvsock_write_pbuf(struct lwvsock_pcb *pcb, const struct pbuf *p, uint8_t apiflags);

/** Push queued data to the device now (lwvsock_dev_poll() also does). */
LWVSOCK_API err_t lwvsock_output(struct lwvsock_pcb *pcb);

/** The application consumed @p len received bytes: return them as credit. */
LWVSOCK_API void lwvsock_recved(struct lwvsock_pcb *pcb, uint32_t len);

/** Bytes that can be written now without ERR_MEM. */
LWVSOCK_API uint32_t lwvsock_sndbuf(const struct lwvsock_pcb *pcb);

/** Packets queued and not yet taken by the device. */
LWVSOCK_API uint32_t lwvsock_sndqueuelen(const struct lwvsock_pcb *pcb);

/** Largest payload of one packet (for lwIP's "mss"). */
LWVSOCK_API uint32_t lwvsock_mss(const struct lwvsock_pcb *pcb);

/** Half-close: stop receiving (@p shut_rx) and/or sending (@p shut_tx). */
LWVSOCK_API err_t lwvsock_shutdown(struct lwvsock_pcb *pcb, int shut_rx, int shut_tx);

/**
 * Orderly close: SHUTDOWN both ways after all queued data, then the pcb is
 * gone for the application. Queued data still goes out as the peer grants
 * credit; if none can go for the linger time (lwvsock_set_linger()) it is
 * dropped with an RST, and only then the err callback, if still set, is called
 * with ERR_ABRT (clear it with lwvsock_err(pcb, NULL) before closing if its
 * arg dies with the close). No other callback follows. Once SHUTDOWN is sent
 * the driver waits for the peer's RST up to the close timeout, then sends RST.
 * Returns ERR_OK (always, once the pcb is valid).
 */
LWVSOCK_API err_t lwvsock_close(struct lwvsock_pcb *pcb);

/**
 * Send RST (when connected), then call the err callback, if set, with
 * ERR_ABRT before returning, as lwIP's tcp_abort() does: do not touch the pcb
 * or anything the err callback frees afterwards. The pcb's memory is freed at
 * the end of the next lwvsock_dev_poll().
 */
LWVSOCK_API void lwvsock_abort(struct lwvsock_pcb *pcb);

/**
 * Receive buffer size we advertise (buf_alloc), clamped to
 * [LWVSOCK_RCV_BUF_MIN, LWVSOCK_RCV_BUF_MAX]; a credit update follows.
 * SEQPACKET pcbs advertise at most 65535 (a message is one pbuf): a Linux
 * sender refuses larger messages with EMSGSIZE.
 */
LWVSOCK_API void lwvsock_set_rcvbuf(struct lwvsock_pcb *pcb, uint32_t size);
/** The receive buffer size we advertise. */
LWVSOCK_API uint32_t lwvsock_get_rcvbuf(const struct lwvsock_pcb *pcb);
/**
 * Send buffer size (bytes queued before write returns ERR_MEM), clamped to
 * [LWVSOCK_SND_BUF_MIN, LWVSOCK_SND_BUF_MAX].
 */
LWVSOCK_API void lwvsock_set_sndbuf(struct lwvsock_pcb *pcb, uint32_t size);
/**
 * Bound on how long data written before lwvsock_close() may wait for peer
 * credit, in ms from the close or the last packet sent (default
 * LWVSOCK_LINGER_MS; 0: what cannot go out at once is dropped).
 */
LWVSOCK_API void lwvsock_set_linger(struct lwvsock_pcb *pcb, uint32_t ms);
/**
 * Send small packets at once (as tcp_nagle_disable()): for latency-bound
 * applications that write little and wait for an answer. By default a packet
 * smaller than LWVSOCK_TX_COALESCE_MIN waits (at most LWVSOCK_TX_COALESCE_MS)
 * while earlier bytes are unread by the peer. Accepted pcbs inherit the setting.
 */
LWVSOCK_API void lwvsock_nagle_disable(struct lwvsock_pcb *pcb);
/** Coalesce small packets again (the default). */
LWVSOCK_API void lwvsock_nagle_enable(struct lwvsock_pcb *pcb);
/** Whether lwvsock_nagle_disable() is in effect. */
LWVSOCK_API int lwvsock_nagle_disabled(const struct lwvsock_pcb *pcb);

/** Our CID. */
LWVSOCK_API uint32_t lwvsock_local_cid(const struct lwvsock_pcb *pcb);
/** Our port. */
LWVSOCK_API uint32_t lwvsock_local_port(const struct lwvsock_pcb *pcb);
/** The peer's CID. */
LWVSOCK_API uint32_t lwvsock_remote_cid(const struct lwvsock_pcb *pcb);
/** The peer's port. */
LWVSOCK_API uint32_t lwvsock_remote_port(const struct lwvsock_pcb *pcb);
/** The connection state. */
LWVSOCK_API enum lwvsock_state lwvsock_state(const struct lwvsock_pcb *pcb);
/** LWVSOCK_STREAM or LWVSOCK_SEQPACKET. */
LWVSOCK_API uint8_t lwvsock_type(const struct lwvsock_pcb *pcb);
/** The device the pcb lives on. */
LWVSOCK_API struct lwvsock_dev *lwvsock_pcb_dev(const struct lwvsock_pcb *pcb);
/** Copy the connection's counters into @p st. */
LWVSOCK_API void lwvsock_pcb_get_stats(const struct lwvsock_pcb *pcb, struct lwvsock_pcb_stats *st);

/** The memory of the pcb pool (MEMP_NUM_LWVSOCK_PCB pcbs, shared by every device). */
struct lwvsock_pcb_pool_stats {
  uint32_t used;   /**< pcbs allocated now (listeners and connections) */
  uint32_t max;    /**< most pcbs allocated at once so far */
  uint32_t avail;  /**< pcbs in the pool (MEMP_NUM_LWVSOCK_PCB) */
  uint32_t size;   /**< bytes of one pcb's state (sizeof(struct lwvsock_pcb)) */
  uint32_t elem_size; /**< bytes one pcb takes in the pool (size, aligned) */
};
/**
 * Copy the pcb pool's figures into @p st.
 * @return ERR_OK; ERR_VAL when lwIP keeps no pool statistics (MEMP_STATS 0):
 *         only avail, size and elem_size are filled in, used and max are 0.
 */
LWVSOCK_API err_t lwvsock_pcb_pool_get_stats(struct lwvsock_pcb_pool_stats *st);

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* LWVSOCK_VSOCK_H */
