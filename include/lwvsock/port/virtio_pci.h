/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The virtio-pci modern transport (virtio 1.x, section 4.1): turns a PCI bus
 * (bus.h) into a backend (backend.h) for lwvsock_dev_open().
 *
 * Written only against struct lwvsock_bus, so the same code runs in a Linux
 * process (port/unix/pci-linux), on bare metal and over a test double. The device
 * is untrusted: capabilities, BAR offsets, queue sizes, notify offsets and
 * config values are checked before use, every wait on the device is bounded,
 * and a device that reports DEVICE_NEEDS_RESET or vanishes (reads all ones)
 * makes the backend's check() fail, so every connection ends with ERR_IF and
 * lwvsock_dev_error() names the cause.
 */
#ifndef LWVSOCK_VIRTIO_PCI_H
#define LWVSOCK_VIRTIO_PCI_H

/**
 * @defgroup lwvsock_virtio_pci virtio-pci transport (porting) (virtio_pci.h)
 * @{
 */

#include <stddef.h>

#include "lwvsock/port/backend.h"
#include "lwvsock/port/bus.h"

#include "lwvsock/lwvsock_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Reset the virtio-vsock function behind @p bus (kind LWVSOCK_BUS_PCI), find
 * its modern capabilities, enable bus mastering and return a backend in
 * *@p bep. The backend owns the bus from then on: destroying it resets the
 * device and closes the bus. On failure the bus is closed too.
 *
 * @return 0, or a negative errno with @p err (if not NULL) holding a sentence:
 *         -EINVAL (bad arguments), -ENODEV (not a virtio-vsock function, or it
 *         reads all ones), -EPROTO (broken capabilities or queue sizes),
 *         -EIO (the device does not reset), or the bus's own error.
 */
LWVSOCK_API int lwvsock_virtio_pci_open(struct lwvsock_bus *bus, struct lwvsock_backend **bep, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* LWVSOCK_VIRTIO_PCI_H */
