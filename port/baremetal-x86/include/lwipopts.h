/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * lwIP configuration of the bare-metal appliance: what a firmware lwIP build
 * needs to add lwvsock. Copy the lwvsock block into your own lwipopts.h.
 *
 * lwvsock needs from lwIP: NO_SYS=1 (one polled loop, as here) or callbacks
 * from a single thread, pbufs with LWIP_SUPPORT_CUSTOM_PBUF (zero-copy
 * receive), memp pools (its pcbs), sys_now() and lwIP's timeouts. It does not
 * need TCP, IP or a netif: the plain image has no network interface at all.
 *
 * Memory of this image (64 MiB machine, 16 MiB heap in heap.c):
 * - device memory (rings + buffers), carved from one mem_alloc of about
 *   2.4 MiB: rx/tx rings of LWVSOCK_QUEUE_SIZE entries, 192 rx buffers of
 *   4 KiB, LWVSOCK_TX_SLOTS x 64 KiB + LWVSOCK_TX_SMALL_SLOTS x 2 KiB tx slots;
 * - lwIP's heap (MEM_SIZE) for copied small payloads, memp pools for pbufs
 *   and MEMP_NUM_LWVSOCK_PCB connections.
 */
#ifndef BM_LWIPOPTS_H
#define BM_LWIPOPTS_H

/* ---- system model ------------------------------------------------------------ */
#define NO_SYS                      1
#define SYS_LIGHTWEIGHT_PROT        0
#define LWIP_SOCKET                 0
#define LWIP_NETCONN                0

/* ---- what lwvsock needs --------------------------------------------------------- */
/* Zero-copy receive: pbufs point into device memory. */
#define LWIP_SUPPORT_CUSTOM_PBUF    1

/* ---- network protocols --------------------------------------------------------
 * The plain image has none: the only transport is vsock. The netif image
 * (BM_NETIF=1, lwvsock-appliance-netif.elf) adds IPv4, TCP, UDP, DHCP and
 * Ethernet/ARP for the vsock netif (netif_vsock.h): full IP through a
 * host-side network daemon, beside the vsock servers on the same device. */
#if !defined BM_NETIF
#define BM_NETIF                    0
#endif
#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_TCP                    BM_NETIF
#define LWIP_UDP                    BM_NETIF
#define LWIP_ARP                    BM_NETIF
#define LWIP_ETHERNET               BM_NETIF
#define LWIP_DHCP                   BM_NETIF
#define LWIP_RAW                    0
#define LWIP_ICMP                   0
#define LWIP_DNS                    0
#define LWIP_IGMP                   0
#define IP_REASSEMBLY               0
#define IP_FRAG                     0
#define LWIP_ALTCP                  0
#define LWIP_HAVE_LOOPIF            0
#define LWIP_NETIF_LOOPBACK         0
#if BM_NETIF
/* A window of 16 segments each way: 1 MiB crosses the daemon in well under a
 * second; 4 TCP connections (the fetch, the page server and their TIME_WAITs). */
#define TCP_MSS                     1460
#define TCP_WND                     (16 * TCP_MSS)
#define TCP_SND_BUF                 (16 * TCP_MSS)
#define TCP_SND_QUEUELEN            (4 * TCP_SND_BUF / TCP_MSS)
#define MEMP_NUM_TCP_SEG            (2 * TCP_SND_QUEUELEN)
#define MEMP_NUM_TCP_PCB            8
#define MEMP_NUM_TCP_PCB_LISTEN     4
#define MEMP_NUM_UDP_PCB            4
#endif

/* ---- memory --------------------------------------------------------------------- */
#define MEM_ALIGNMENT               4
#define MEM_SIZE                    (512 * 1024)
#define MEMP_NUM_PBUF               256
/* the netif image: lwIP's sanity check wants TCP_WND of pool pbufs */
#define PBUF_POOL_SIZE              (BM_NETIF ? 24 : 8)
#define MEMP_NUM_SYS_TIMEOUT        (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 8)

/* ---- lwvsock (include/lwvsock/lwvsock_opts.h has the defaults) -------------------- */
#define LWVSOCK_QUEUE_SIZE          128
#define LWVSOCK_RX_BUF_SIZE         4096
#define LWVSOCK_TX_SLOTS            16
#define LWVSOCK_TX_SMALL_SLOTS      128
#define LWVSOCK_RCV_BUF             (128 * 1024)
#define LWVSOCK_SND_BUF             (128 * 1024)
#define LWVSOCK_RX_QUEUE_MAX_PKTS   128
#define LWVSOCK_HASH_BUCKETS        64
#define MEMP_NUM_LWVSOCK_PCB        64

/* ---- statistics: /stats shows the heap and pools -------------------------------- */
#define LWIP_STATS                  1
#define MEM_STATS                   1
#define MEMP_STATS                  1
#define LWIP_STATS_DISPLAY          0

#endif /* BM_LWIPOPTS_H */
