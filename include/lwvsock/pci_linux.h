/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Linux userspace access to a virtio-vsock PCI function (port/unix/pci-linux):
 * the bus behind device spec `pci:BDF`, driven by the virtio-pci transport.
 *
 * Access: the sysfs resource files (BARs, mmap'd) and config file (bus
 * mastering), DMA memory from hugepages, locked and translated to physical
 * addresses through /proc/self/pagemap. Hence root, free hugepages, and no
 * IOMMU translating for the device (none, or iommu=pt). The function stays
 * unbound and has no interrupt fd: an idle caller polls every
 * LWVSOCK_PCI_IDLE_POLL_MS. Refused, because untested: VFIO (it needs an
 * IOMMU that CI does not have) and interrupts through uio_pci_generic.
 *
 * Taking a device from the kernel is deliberate: the environment must hold
 * LWVSOCK_ALLOW_PCI=1 (set only by the nested-VM harness), and a function
 * bound to virtio-pci is refused with the command that unbinds it. Closing
 * resets the device and clears bus mastering, so the kernel driver can be
 * bound again (echo BDF > /sys/bus/pci/drivers/virtio-pci/bind).
 */
#ifndef LWVSOCK_PCI_LINUX_H
#define LWVSOCK_PCI_LINUX_H

/**
 * @defgroup lwvsock_pci_linux Linux userspace PCI access (porting) (pci_linux.h)
 * @{
 */

#include <stddef.h>


#include "lwvsock/lwvsock_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The backend a device is opened on (porting API: lwvsock/port/backend.h). */
struct lwvsock_backend;

/** The interlock: lwvsock_pci_linux_open() refuses unless this is "1". */
#define LWVSOCK_PCI_ALLOW_ENV "LWVSOCK_ALLOW_PCI"

/**
 * Take the virtio-vsock function @p bdf ("0000:00:03.0", or "00:03.0" for
 * domain 0) and return its backend in *@p bep.
 *
 * @return 0, or a negative errno with @p err holding the cause and the fix:
 *         -EINVAL (not a BDF), -EPERM (interlock not set, not root, pagemap
 *         hides addresses), -ENODEV (no such function), -EBUSY (bound to a
 *         kernel driver: the unbind command), -ENOTSUP (bound to vfio-pci
 *         or uio_pci_generic, or an IOMMU translating for the device),
 *         -ENOMEM (no free hugepages), or the transport's error.
 */
LWVSOCK_API int lwvsock_pci_linux_open(const char *bdf, struct lwvsock_backend **bep, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* LWVSOCK_PCI_LINUX_H */
