/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The vhost-vsock backend (Linux): this process becomes guest CID @p cid of
 * the Linux kernel it runs on, exactly as a VM does. The driver's rings and
 * buffers stay in this process's memory; the kernel's vhost worker reads and
 * writes them (DPDK virtio-user with the vhost-kernel backend, for vsock).
 *
 * Registering a CID with the running kernel is a system-wide act (host sockets
 * can then connect to it), so opening is interlocked: it is refused unless the
 * environment has LWVSOCK_ALLOW_VHOST_VSOCK=1. The project's tests set it only
 * inside the throwaway QEMU VM of tests/interop/vm.sh.
 *
 * The vhost device belongs to the process that opened it: every backend call
 * must come from that process (a forked child gets -EPERM).
 */
#ifndef LWVSOCK_VHOST_VSOCK_H
#define LWVSOCK_VHOST_VSOCK_H

/**
 * @defgroup lwvsock_vhost Linux vhost-vsock backend (vhost_vsock.h)
 * @{
 */

#include <stddef.h>
#include <stdint.h>


#include "lwvsock/lwvsock_export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The backend a device is opened on (porting API: lwvsock/port/backend.h). */
struct lwvsock_backend;

/** The device node. */
#define LWVSOCK_VHOST_VSOCK_PATH       "/dev/vhost-vsock"
/** The environment variable that must be "1" for lwvsock_vhost_vsock_open() to proceed. */
#define LWVSOCK_VHOST_VSOCK_ALLOW_ENV  "LWVSOCK_ALLOW_VHOST_VSOCK"

/**
 * Open /dev/vhost-vsock, take ownership of it and register guest CID @p cid.
 * CIDs 0, 1, 2 and 0xffffffff are reserved and refused before the device is
 * touched. Hand *@p bep to lwvsock_dev_open().
 *
 * @return 0, or a negative errno with @p err (if not NULL) holding a sentence
 *         naming the cause and the fix: -EPERM (interlock not set, or no
 *         permission), -EACCES, -ENOENT (module not loaded), -EINVAL (reserved
 *         CID), -EADDRINUSE (CID taken by another VM or process), -ENOMEM, ...
 */
LWVSOCK_API int lwvsock_vhost_vsock_open(uint32_t cid, struct lwvsock_backend **bep, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

/** @} */

#endif /* LWVSOCK_VHOST_VSOCK_H */
