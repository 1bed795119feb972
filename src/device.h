/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The device (device.c), the top of the core: bring-up, the poll loop, the
 * rx and event dispatch, close. It calls down into pcb.c, rxbuf.c, txbuf.c
 * and devbase.c; nothing below includes this header (the layers are listed
 * in devbase.h). Its API is the public lwvsock_dev_* one (lwvsock.h).
 */
#ifndef LWVSOCK_DEVICE_H
#define LWVSOCK_DEVICE_H

#include "core.h"
#include "devbase.h"
#include "pcb.h"
#include "rxbuf.h"
#include "txbuf.h"
#include "virtq.h"
#include "vsock_hdr.h"

#endif /* LWVSOCK_DEVICE_H */
