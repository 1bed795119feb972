/**
 * @file
 * lwvsock options, in lwIP's style: define any of these in lwipopts.h to
 * override the default. Sizes are per device unless said otherwise.
 */
#ifndef LWVSOCK_OPTS_H
#define LWVSOCK_OPTS_H

#include "lwip/opt.h"

/** Ring size of the rx and tx queues (power of two; capped by the device). */
#if !defined LWVSOCK_QUEUE_SIZE || defined __DOXYGEN__
#define LWVSOCK_QUEUE_SIZE            256
#endif

/** Event queue buffers (Linux uses 8). */
#if !defined LWVSOCK_EVENT_BUFS || defined __DOXYGEN__
#define LWVSOCK_EVENT_BUFS            8
#endif

/** Payload bytes of one rx buffer (a 44-byte header precedes it). At most 65535. */
#if !defined LWVSOCK_RX_BUF_SIZE || defined __DOXYGEN__
#define LWVSOCK_RX_BUF_SIZE           4096
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
#if !defined LWVSOCK_TX_SMALL_SLOTS || defined __DOXYGEN__
#define LWVSOCK_TX_SMALL_SLOTS        1024
#endif

/** Largest RW payload we send (devices drop bigger packets). */
#if !defined LWVSOCK_MAX_PKT || defined __DOXYGEN__
#define LWVSOCK_MAX_PKT               (64 * 1024)
#endif

/** Default receive buffer (buf_alloc) of a connection. */
#if !defined LWVSOCK_RCV_BUF || defined __DOXYGEN__
#define LWVSOCK_RCV_BUF               (256 * 1024)
#endif
#if !defined LWVSOCK_RCV_BUF_MIN || defined __DOXYGEN__
#define LWVSOCK_RCV_BUF_MIN           128
#endif
#if !defined LWVSOCK_RCV_BUF_MAX || defined __DOXYGEN__
#define LWVSOCK_RCV_BUF_MAX           (4 * 1024 * 1024)
#endif

/** Default send buffer of a connection (bytes queued before write says ERR_MEM). */
#if !defined LWVSOCK_SND_BUF || defined __DOXYGEN__
#define LWVSOCK_SND_BUF               (256 * 1024)
#endif

/** Received packets one connection may have queued (refused by the application). */
#if !defined LWVSOCK_RX_QUEUE_MAX_PKTS || defined __DOXYGEN__
#define LWVSOCK_RX_QUEUE_MAX_PKTS     512
#endif

/** Send a CREDIT_UPDATE once free space the peer does not know of exceeds this (Linux: 64 KiB). */
#if !defined LWVSOCK_CREDIT_UPDATE_THRESHOLD || defined __DOXYGEN__
#define LWVSOCK_CREDIT_UPDATE_THRESHOLD (64 * 1024)
#endif

/** At most one CREDIT_REQUEST per this many ms while blocked on credit. */
#if !defined LWVSOCK_CREDIT_REQUEST_INTERVAL_MS || defined __DOXYGEN__
#define LWVSOCK_CREDIT_REQUEST_INTERVAL_MS 1000
#endif

#if !defined LWVSOCK_CONNECT_TIMEOUT_MS || defined __DOXYGEN__
#define LWVSOCK_CONNECT_TIMEOUT_MS    2000
#endif

/** Wait for the peer's RST after our SHUTDOWN this long, then send RST (Linux: 8 s). */
#if !defined LWVSOCK_CLOSE_TIMEOUT_MS || defined __DOXYGEN__
#define LWVSOCK_CLOSE_TIMEOUT_MS      8000
#endif

/** Poll callback tick (lwIP TCP: 500 ms). */
#if !defined LWVSOCK_POLL_TICK_MS || defined __DOXYGEN__
#define LWVSOCK_POLL_TICK_MS          500
#endif

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
 * fd to wake it (Linux sysfs access without UIO): the device is polled at
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

#if !defined LWVSOCK_DEBUG || defined __DOXYGEN__
#define LWVSOCK_DEBUG                 LWIP_DBG_OFF
#endif

#endif /* LWVSOCK_OPTS_H */
