/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * lwvsock options, in lwIP's style: define any of these in lwipopts.h to
 * override the default. Sizes are per device unless said otherwise.
 */
#ifndef LWVSOCK_OPTS_H
#define LWVSOCK_OPTS_H

/**
 * @defgroup lwvsock_opts Options (lwvsock_opts.h)
 * @{
 */

#include "lwip/opt.h"

/** Ring size of the rx and tx queues (power of two; capped by the device). */
#if !defined LWVSOCK_QUEUE_SIZE || defined __DOXYGEN__
#define LWVSOCK_QUEUE_SIZE            256
#endif

/** Event queue buffers (Linux uses 8). */
#if !defined LWVSOCK_EVENT_BUFS || defined __DOXYGEN__
#define LWVSOCK_EVENT_BUFS            8
#endif

/**
 * Payload bytes of one rx buffer (a 44-byte header precedes it), at most 65535.
 * The device fills a buffer up to this size, so it is the largest host->guest
 * packet: vhost splits its 64 KiB packets into buffers of this size. Device
 * memory for rx is (LWVSOCK_RX_BUFS + LWVSOCK_RX_LOAN_MAX) * (44 + this):
 * 4.2 MiB with the defaults (256 buffers; 1.06 MiB at 4 KiB).
 */
#if !defined LWVSOCK_RX_BUF_SIZE || defined __DOXYGEN__
#define LWVSOCK_RX_BUF_SIZE           (16 * 1024)
#endif

/**
 * rx buffers posted to the device at once (at most half the rx ring). Fewer
 * buffers keep bulk receive in cache and cost less memory; more let many
 * connections' small packets arrive per poll.
 */
#if !defined LWVSOCK_RX_BUFS || defined __DOXYGEN__
#define LWVSOCK_RX_BUFS               (LWVSOCK_QUEUE_SIZE / 2)
#endif

/** rx buffers the application may hold as zero-copy pbufs; beyond it payloads are copied. */
#if !defined LWVSOCK_RX_LOAN_MAX || defined __DOXYGEN__
#define LWVSOCK_RX_LOAN_MAX           (LWVSOCK_QUEUE_SIZE / 2)
#endif

/** Payloads up to this size are copied rather than lent (Linux's GOOD_COPY_LEN). */
#if !defined LWVSOCK_RX_COPY_MAX || defined __DOXYGEN__
#define LWVSOCK_RX_COPY_MAX           128
#endif

/** Payload bytes of one tx slot in device memory; one RW packet never spans slots. */
#if !defined LWVSOCK_TX_SLOT_SIZE || defined __DOXYGEN__
#define LWVSOCK_TX_SLOT_SIZE          (64 * 1024)
#endif

/** Number of tx slots. */
#if !defined LWVSOCK_TX_SLOTS || defined __DOXYGEN__
#define LWVSOCK_TX_SLOTS              48
#endif

/** Small tx slots: a small write takes one of these, so many connections can
    each have a little data queued without tying up the big slots. */
#if !defined LWVSOCK_TX_SMALL_SLOT_SIZE || defined __DOXYGEN__
#define LWVSOCK_TX_SMALL_SLOT_SIZE    2048
#endif
/** Number of small tx slots. */
#if !defined LWVSOCK_TX_SMALL_SLOTS || defined __DOXYGEN__
#define LWVSOCK_TX_SMALL_SLOTS        1024
#endif

/** Zero-copy writes (LWVSOCK_WRITE_FLAG_NOCOPY) queued at once over all
    connections, each at most 65535 bytes; beyond that writes are copied. */
#if !defined LWVSOCK_TX_REF_SLOTS || defined __DOXYGEN__
#define LWVSOCK_TX_REF_SLOTS          64
#endif
/** Payload descriptors of one zero-copy packet (one per pbuf piece): longer
    chains are split into more packets. */
#if !defined LWVSOCK_TX_ZC_SEGS || defined __DOXYGEN__
#define LWVSOCK_TX_ZC_SEGS            16
#endif

/** Largest RW payload we send (devices drop bigger packets). */
#if !defined LWVSOCK_MAX_PKT || defined __DOXYGEN__
#define LWVSOCK_MAX_PKT               (64 * 1024)
#endif

/** Default receive buffer (buf_alloc) of a connection. */
#if !defined LWVSOCK_RCV_BUF || defined __DOXYGEN__
#define LWVSOCK_RCV_BUF               (256 * 1024)
#endif
/** Smallest receive buffer lwvsock_set_rcvbuf() sets. */
#if !defined LWVSOCK_RCV_BUF_MIN || defined __DOXYGEN__
#define LWVSOCK_RCV_BUF_MIN           128
#endif
/** Largest receive buffer a connection can be given. */
#if !defined LWVSOCK_RCV_BUF_MAX || defined __DOXYGEN__
#define LWVSOCK_RCV_BUF_MAX           (4 * 1024 * 1024)
#endif

/** Default send buffer of a connection (bytes queued before write says ERR_MEM). */
#if !defined LWVSOCK_SND_BUF || defined __DOXYGEN__
#define LWVSOCK_SND_BUF               (256 * 1024)
#endif
/** Smallest send buffer lwvsock_set_sndbuf() sets. It only bounds what waits
    in the driver (the peer never sees it), so any size from 1 byte works. */
#if !defined LWVSOCK_SND_BUF_MIN || defined __DOXYGEN__
#define LWVSOCK_SND_BUF_MIN           1
#endif
/** Largest send buffer lwvsock_set_sndbuf() sets. */
#if !defined LWVSOCK_SND_BUF_MAX || defined __DOXYGEN__
#define LWVSOCK_SND_BUF_MAX           (4 * 1024 * 1024)
#endif

/** Send a CREDIT_UPDATE once the free space the peer sees falls below this
    and we have consumed data it was not told of (Linux: 64 KiB). */
#if !defined LWVSOCK_CREDIT_UPDATE_THRESHOLD || defined __DOXYGEN__
#define LWVSOCK_CREDIT_UPDATE_THRESHOLD (64 * 1024)
#endif

/** At most one CREDIT_REQUEST per this many ms while blocked on credit. */
#if !defined LWVSOCK_CREDIT_REQUEST_INTERVAL_MS || defined __DOXYGEN__
#define LWVSOCK_CREDIT_REQUEST_INTERVAL_MS 1000
#endif

/** A connect with no answer fails with ERR_TIMEOUT after this long (Linux: 2 s). */
#if !defined LWVSOCK_CONNECT_TIMEOUT_MS || defined __DOXYGEN__
#define LWVSOCK_CONNECT_TIMEOUT_MS    2000
#endif

/** Wait for the peer's RST after our SHUTDOWN this long, then send RST (Linux: 8 s). */
#if !defined LWVSOCK_CLOSE_TIMEOUT_MS || defined __DOXYGEN__
#define LWVSOCK_CLOSE_TIMEOUT_MS      8000
#endif

/**
 * After close, unsent data waits for peer credit; when no packet could go out
 * for this long (from close or the last packet sent), the rest is dropped: RST,
 * the err callback (if still set) gets ERR_ABRT, and tx_dropped_bytes counts
 * the bytes. Per pcb: lwvsock_set_linger(). The close timeout starts only once
 * our SHUTDOWN is out, after all data.
 */
#if !defined LWVSOCK_LINGER_MS || defined __DOXYGEN__
#define LWVSOCK_LINGER_MS             60000
#endif

/**
 * Nagle for vsock: an RW packet smaller than this waits while bytes sent
 * earlier are still unread by the peer, so later writes join it. Linux
 * charges about 576 B per queued packet against buf_alloc and resets a
 * connection that queues too many small ones; packets this large cannot run
 * out of that budget before the byte credit does. lwvsock_nagle_disable()
 * turns it off per pcb.
 */
#if !defined LWVSOCK_TX_COALESCE_MIN || defined __DOXYGEN__
#define LWVSOCK_TX_COALESCE_MIN       1024
#endif

/** A held small packet goes out after at most this many ms. */
#if !defined LWVSOCK_TX_COALESCE_MS || defined __DOXYGEN__
#define LWVSOCK_TX_COALESCE_MS        40
#endif

/** Poll callback tick (lwIP TCP: 500 ms). */
#if !defined LWVSOCK_POLL_TICK_MS || defined __DOXYGEN__
#define LWVSOCK_POLL_TICK_MS          500
#endif

/** Backlog of lwvsock_listen(). */
#if !defined LWVSOCK_DEFAULT_BACKLOG || defined __DOXYGEN__
#define LWVSOCK_DEFAULT_BACKLOG       16
#endif

/** Control replies (RST, RESPONSE, CREDIT_UPDATE) held outside a full tx ring. */
#if !defined LWVSOCK_REPLY_QUEUE_MAX || defined __DOXYGEN__
#define LWVSOCK_REPLY_QUEUE_MAX       LWVSOCK_QUEUE_SIZE
#endif

/**
 * Most device-memory segments a device may use: a backend whose DMA memory is
 * contiguous only in pieces (hugepages: seg_max in struct lwvsock_backend)
 * gets the rings and buffers in up to this many allocations.
 */
#if !defined LWVSOCK_MEM_SEGS_MAX || defined __DOXYGEN__
#define LWVSOCK_MEM_SEGS_MAX          16
#endif

/**
 * virtio-pci: how long (ms) a caller may sleep when the bus has no interrupt
 * fd to wake it (Linux sysfs access, port/unix/pci-linux): the device is polled at
 * this interval while idle.
 */
#if !defined LWVSOCK_PCI_IDLE_POLL_MS || defined __DOXYGEN__
#define LWVSOCK_PCI_IDLE_POLL_MS      1
#endif

/** pcbs for all devices together (a memp pool). */
#if !defined MEMP_NUM_LWVSOCK_PCB || defined __DOXYGEN__
#define MEMP_NUM_LWVSOCK_PCB          64
#endif

/** Buckets of a device's connection hash table. */
#if !defined LWVSOCK_HASH_BUCKETS || defined __DOXYGEN__
#define LWVSOCK_HASH_BUCKETS          256
#endif

/** Tries at finding a free ephemeral port (Linux: 24). */
#if !defined LWVSOCK_EPHEMERAL_RETRIES || defined __DOXYGEN__
#define LWVSOCK_EPHEMERAL_RETRIES     24
#endif

/** Accept SEQPACKET when the device offers it. */
#if !defined LWVSOCK_ENABLE_SEQPACKET || defined __DOXYGEN__
#define LWVSOCK_ENABLE_SEQPACKET      1
#endif

/** LWIP_DEBUGF switch of lwvsock's messages (LWIP_DBG_ON with LWIP_DEBUG). */
#if !defined LWVSOCK_DEBUG || defined __DOXYGEN__
#define LWVSOCK_DEBUG                 LWIP_DBG_OFF
#endif

/** @} */

#endif /* LWVSOCK_OPTS_H */
