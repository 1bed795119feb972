/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * A small lwipopts.h of an application of its own, as a firmware would have:
 * lwvsock's requirements, small pools, small device memory. CI builds lwIP's
 * sources plus Filelists.mk (and Filelists.cmake) with it, and the hosted
 * library with ./configure --with-lwipopts=tests/embed/lwipopts.h.
 */
#ifndef EMBED_LWIPOPTS_H
#define EMBED_LWIPOPTS_H

/* lwvsock's requirements */
#define NO_SYS                      1
#define LWIP_ALTCP                  1
#define LWIP_SUPPORT_CUSTOM_PBUF    1
#define LWIP_TCP                    1
#define LWIP_IPV4                   1

#define SYS_LIGHTWEIGHT_PROT        0
#define LWIP_SOCKET                 0
#define LWIP_NETCONN                0
#define LWIP_IPV6                   0
#define LWIP_UDP                    0
#define LWIP_ARP                    0
#define LWIP_ETHERNET               0
#define LWIP_DHCP                   0
#define LWIP_DNS                    0
#define LWIP_RAW                    0

#define MEM_ALIGNMENT               8
#define MEM_SIZE                    (32 * 1024)
#define MEMP_NUM_PBUF               32
#define PBUF_POOL_SIZE              8
#define TCP_MSS                     536
#define TCP_WND                     (4 * TCP_MSS)
#define TCP_SND_BUF                 (4 * TCP_MSS)
#define MEMP_NUM_TCP_PCB            4
#define MEMP_NUM_ALTCP_PCB          8
#define MEMP_NUM_SYS_TIMEOUT        (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 4)

/* lwvsock: 8 connections, small rings and buffers (about 300 KiB of device memory) */
#define MEMP_NUM_LWVSOCK_PCB        8
#define LWVSOCK_QUEUE_SIZE          64
#define LWVSOCK_TX_SLOTS            4
#define LWVSOCK_TX_SMALL_SLOTS      16
#define LWVSOCK_RCV_BUF             (32 * 1024)
#define LWVSOCK_SND_BUF             (32 * 1024)
#define LWVSOCK_HASH_BUCKETS        16

#endif /* EMBED_LWIPOPTS_H */
