/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The hosted library's lwIP configuration (the default of ./configure
 * --with-lwipopts=FILE). The configuration the library is built with is
 * installed with it: an application must compile against that very file
 * (lwvsock.pc points there), since struct layouts and memp pools depend on it.
 *
 * Sized like a library: about 1.3 MiB of static memory in all (the test
 * suites, which open 10000 connections, build with tests/lwipopts/lwipopts.h).
 * lwvsock's own options (lwvsock/lwvsock_opts.h) may be overridden here too.
 */
#ifndef LWVSOCK_LWIPOPTS_H
#define LWVSOCK_LWIPOPTS_H

/* ---- system model: one polled loop, no OS ---------------------------------- */
#define NO_SYS                      1
#define SYS_LIGHTWEIGHT_PROT        0
#define LWIP_SOCKET                 0
#define LWIP_NETCONN                0

/* ---- what lwvsock needs ------------------------------------------------------ */
#define LWIP_ALTCP                  1
#define LWIP_ALTCP_TLS              0
/* Zero-copy receive: pbufs point into device memory. */
#define LWIP_SUPPORT_CUSTOM_PBUF    1

/* ---- TCP/IPv4: lwIP's own apps, an in-process TCP baseline, and the vsock
   netif (netif_vsock.h), which needs Ethernet, ARP, UDP and DHCP ------------ */
#define LWIP_TCP                    1
#define LWIP_IPV4                   1
#define LWIP_IPV6                   0
#define LWIP_ARP                    1
#define LWIP_ETHERNET               1
#define LWIP_UDP                    1
#define LWIP_DNS                    0
#define LWIP_DHCP                   1
#define LWIP_RAW                    0
/* 127.0.0.1 on lwIP's loop interface; NO_SYS apps drive it with netif_poll_all(). */
#define LWIP_HAVE_LOOPIF            1
#define LWIP_NETIF_LOOPBACK         1

#define TCP_MSS                     1460
/* Honour the peer's window scale (we scale ours by 0): passt (2023-03) keeps
 * scaling the windows it advertises even when our SYN-ACK had no WS option,
 * and without this lwIP would read its 64 KiB window as 1 KiB. */
#define LWIP_WND_SCALE              1
#define TCP_RCV_SCALE               0
#define TCP_WND                     (32 * TCP_MSS)
#define TCP_SND_BUF                 (32 * TCP_MSS)
#define TCP_SND_QUEUELEN            (4 * TCP_SND_BUF / TCP_MSS)
#define MEMP_NUM_TCP_SEG            (2 * TCP_SND_QUEUELEN)
#define MEMP_NUM_TCP_PCB            64

/* ---- memory ------------------------------------------------------------------ */
/* 64-bit hosts: keep every lwIP allocation naturally aligned (UBSan checks it). */
#define MEM_ALIGNMENT               8
/* lwIP's heap: received payloads that are copied rather than lent (small ones,
 * and all beyond LWVSOCK_RX_LOAN_MAX), control packets, TCP's PBUF_RAM.
 * Above 64000 bytes lwIP makes mem_size_t a u32_t. */
#define MEM_SIZE                    (1024 * 1024)
#define MEMP_NUM_PBUF               256
#define PBUF_POOL_SIZE              64
/* Connections of all devices together: a vsock pcb is about 240 bytes, an
 * altcp pcb 88 (x86-64). */
#define MEMP_NUM_ALTCP_PCB          256
#define MEMP_NUM_LWVSOCK_PCB        256
/* lwIP's own timers plus room for lwvsock's and the applications'. */
#define MEMP_NUM_SYS_TIMEOUT        (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 16)

/* ---- statistics: the tests check mem/memp usage for leaks ------------------- */
#define LWIP_STATS                  1
#define MEM_STATS                   1
#define MEMP_STATS                  1
#define LWIP_STATS_DISPLAY          0

/* ---- debugging (off; define LWIP_DEBUG and set *_DEBUG to LWIP_DBG_ON) ------- */
#define LWIP_DBG_MIN_LEVEL          LWIP_DBG_LEVEL_ALL
#define LWIP_DBG_TYPES_ON           LWIP_DBG_ON

#endif /* LWVSOCK_LWIPOPTS_H */
