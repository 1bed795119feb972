/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * lwIP compiler/platform abstraction for hosted (POSIX) builds of lwvsock.
 */
#ifndef LWVSOCK_ARCH_CC_H
#define LWVSOCK_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

/* Byte order as the compiler sees it; glibc's <endian.h> may have set it already
 * (then consistently, with its own LITTLE_ENDIAN/BIG_ENDIAN values). */
#ifndef BYTE_ORDER
#if defined __BYTE_ORDER__ && defined __ORDER_BIG_ENDIAN__ && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define BYTE_ORDER BIG_ENDIAN
#else
#define BYTE_ORDER LITTLE_ENDIAN
#endif
#endif

/* Ports return negative errno values: use the system's errno.h, never lwIP's copy. */
#define LWIP_ERRNO_STDINCLUDE 1

#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)

/* Flush everything first, so the output that led up to the failure is not lost. */
#define LWIP_PLATFORM_ASSERT(x) do { \
    fflush(NULL); \
    fprintf(stderr, "%s:%d: lwIP assertion failed: %s\n", __FILE__, __LINE__, (x)); \
    fflush(stderr); \
    abort(); \
  } while (0)

/* Only used for initial ports and sequence numbers; nothing security-relevant. */
#define LWIP_RAND() ((u32_t)random())

#endif /* LWVSOCK_ARCH_CC_H */
