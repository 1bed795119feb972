/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The virtio-mmio transport (virtio 1.x section 4.2): a virtio-vsock device
 * behind a virtio-mmio register window, modern (version 2) or legacy
 * (version 1), reached through a bus (lwvsock/port/bus.h, kind LWVSOCK_BUS_MMIO).
 * Portable: no OS calls, so it compiles into a firmware build as is.
 *
 * Legacy devices: the rings are laid out as the core lays them out and
 * described to the device with GuestPageSize 16 and a QueueAlign that puts the
 * used ring where the core put it. A legacy device reads rings in the guest's
 * byte order, which is the virtio 1.x format only on a little-endian CPU: there
 * the transport reports VIRTIO_F_VERSION_1 to the core (and never writes it to
 * the device); on a big-endian CPU legacy devices are refused.
 *
 * Polled: the transport never enables or acknowledges interrupts.
 */
#ifndef LWVSOCK_VIRTIO_MMIO_H
#define LWVSOCK_VIRTIO_MMIO_H

/**
 * @defgroup lwvsock_virtio_mmio virtio-mmio transport (porting) (virtio_mmio.h)
 * @{
 */

#include <stddef.h>

#include "lwvsock/port/backend.h"
#include "lwvsock/port/bus.h"

#include "lwvsock/lwvsock_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Size of one virtio-mmio register window up to the device config space. */
#define LWVSOCK_VIRTIO_MMIO_CFG_OFF 0x100u

/**
 * Check that window 0 of @p bus holds a virtio-mmio vsock device, reset it and
 * return its backend in *@p bep, for lwvsock_dev_open(). The backend owns the
 * bus from then on (its destroy op resets the device and closes the bus). On
 * failure the bus is closed too, as lwvsock_virtio_pci_open() does.
 *
 * @return 0; or a negative errno with @p err (if not NULL) holding a sentence:
 *         -EINVAL (not an MMIO bus, window too
 *         small), -ENODEV (no virtio magic, or not a vsock device: the message
 *         names the device id), -ENOTSUP (unknown version, or legacy on a
 *         big-endian CPU), -EIO (the device does not reset), -ENOMEM.
 */
LWVSOCK_API int lwvsock_virtio_mmio_open(struct lwvsock_bus *bus, struct lwvsock_backend **bep, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* LWVSOCK_VIRTIO_MMIO_H */
