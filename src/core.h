/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * What every core module shares: configuration checks, the "no index"
 * sentinel and the wrapping millisecond clock. Includes nothing of the core.
 */
#ifndef LWVSOCK_CORE_H
#define LWVSOCK_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "lwvsock/vsock.h"
#include "lwip/opt.h"
#include "lwip/def.h"
#include "lwip/debug.h"
#include "virtio_defs.h"

#if !LWIP_SUPPORT_CUSTOM_PBUF
#error "lwvsock needs LWIP_SUPPORT_CUSTOM_PBUF=1 in lwipopts.h (zero-copy receive)"
#endif
#if !NO_SYS
#error "lwvsock is a polled driver for lwIP with NO_SYS=1"
#endif
#if LWVSOCK_RX_BUF_SIZE > 0xffff
#error "LWVSOCK_RX_BUF_SIZE must fit a pbuf (<= 65535)"
#endif
#if LWVSOCK_MAX_PKT > VIRTIO_VSOCK_MAX_PKT_BUF_SIZE
#error "LWVSOCK_MAX_PKT must not exceed 64 KiB: devices drop larger packets"
#endif

#define LWVSOCK_NONE16 0xffffu

/** Signed distance from @p a to @p b in the wrapping ms clock. */
static inline int32_t
time_diff(uint32_t b, uint32_t a)
{
  return (int32_t)(b - a);
}

#endif /* LWVSOCK_CORE_H */
