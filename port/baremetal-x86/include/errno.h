/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The appliance's <errno.h>: the Linux values of the codes lwvsock's ops
 * return (negated), so messages and tests read the same as on a host.
 * There is no errno variable: nothing in the image sets one.
 */
#ifndef BM_ERRNO_H
#define BM_ERRNO_H

#define EPERM      1
#define ENOENT     2
#define EIO        5
#define ENXIO      6
#define E2BIG      7
#define EAGAIN    11
#define ENOMEM    12
#define EFAULT    14
#define EBUSY     16
#define ENODEV    19
#define EINVAL    22
#define ENOSPC    28
#define EPIPE     32
#define ERANGE    34
#define EPROTO    71
#define ENOTSUP   95
#define ETIMEDOUT 110

#endif /* BM_ERRNO_H */
