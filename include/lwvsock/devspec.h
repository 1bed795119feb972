/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Device specs: the one syntax every lwvsock program uses to name the device
 * it drives (--device SPEC), parsed in one place.
 *
 *   sim                  the in-process simulated host (the default)
 *   sim:cid=N            ... reporting guest CID N
 *   vhost-vsock:cid=N    Linux /dev/vhost-vsock as guest CID N (see vhost_vsock.h)
 *   pci:BDF              a virtio-vsock PCI function, e.g. pci:0000:00:03.0, from
 *                        Linux userspace (see pci_linux.h; needs LWVSOCK_ALLOW_PCI=1)
 *   vhost-user:PATH      reserved: a vhost-user socket       (not supported yet)
 *   vfio:BDF             reserved: a PCI function through VFIO (not supported yet)
 *   mmio:ADDR            reserved: a virtio-mmio device       (not supported yet)
 *
 * N is a decimal CID from 3 to 4294967294 (0, 1, 2 and 4294967295 are reserved).
 */
#ifndef LWVSOCK_DEVSPEC_H
#define LWVSOCK_DEVSPEC_H

/**
 * @defgroup lwvsock_devspec Device specs (devspec.h)
 * @{
 */

#include <stddef.h>


#include "lwvsock/lwvsock_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The backend a device is opened on (porting API: lwvsock/port/backend.h). */
struct lwvsock_backend;

/** The spec used when none is given. */
#define LWVSOCK_DEVSPEC_DEFAULT "sim"

/**
 * A size for lwvsock_devspec_open()'s @p err buffer that holds every message it
 * writes for a spec of up to 64 characters (longer specs are quoted in part).
 */
#define LWVSOCK_DEVSPEC_ERR_SIZE 512

/** Text for a program's --help, describing SPEC. */
#define LWVSOCK_DEVSPEC_HELP \
  "SPEC is one of:\n" \
  "  sim                  in-process simulated host (default; sim:cid=N sets the guest CID)\n" \
  "  vhost-vsock:cid=N    Linux /dev/vhost-vsock as guest CID N (needs LWVSOCK_ALLOW_VHOST_VSOCK=1)\n" \
  "  pci:BDF              a virtio-vsock PCI function, e.g. pci:0000:00:03.0 (Linux, root, hugepages,\n" \
  "                       unbound from virtio-pci; needs LWVSOCK_ALLOW_PCI=1)\n" \
  "  vhost-user:PATH, vfio:BDF, mmio:ADDR   reserved, not supported yet\n"

/**
 * Open the device named by @p spec (NULL or "": LWVSOCK_DEVSPEC_DEFAULT) and
 * return its backend in *@p bep, for lwvsock_dev_open(). When the spec is a
 * sim, lwvsock_sim_from_backend(*bep) gives the simulated host.
 *
 * @return 0, or a negative errno with @p err (if not NULL) holding a sentence
 *         that quotes the spec and says what is wrong: -EINVAL (malformed spec,
 *         unknown device, bad or reserved CID), -ENOTSUP (a reserved device
 *         type, or one this build lacks), or the backend's own error.
 */
LWVSOCK_API int lwvsock_devspec_open(const char *spec, struct lwvsock_backend **bep, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* LWVSOCK_DEVSPEC_H */
